"""Counters the lower layers record into: carrier calls (providers), imports, recoveries and health checks (resolvers).

They live here, at the bottom, so nothing imports upwards; app/metrics.py serves them at GET /metrics.
"""

from prometheus_client import Counter, Histogram

IMPORTS = Counter("trunkline_imports", "importPhoneNumber outcomes", ["source", "outcome"])
CARRIER_REQUESTS = Counter(
    "trunkline_carrier_requests", "Carrier calls (retries included) by outcome", ["carrier", "operation", "outcome"]
)
CARRIER_DURATION = Histogram(
    "trunkline_carrier_request_duration_seconds", "Time a carrier call took, retries included", ["carrier", "operation"]
)
RECOVERIES = Counter("trunkline_recoveries", "Interrupted operations finished by recovery", ["action"])
HEALTH_CHECKS = Counter("trunkline_health_checks", "Phone-number health checks by outcome", ["outcome"])
CARRIER_PROBLEMS = Counter(
    "trunkline_carrier_problems", "Problems health checks found at the carriers, by code and whether repaired",
    ["code", "repaired"],
)
WEBHOOK_DELIVERIES = Counter(
    "trunkline_webhook_deliveries", "Webhook delivery attempts by outcome (delivered, failed, refused, given_up)",
    ["outcome"],
)
