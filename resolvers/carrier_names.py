"""The names we give carrier resources, derived from our ids, so a create whose answer never came
can be found again by name and undone."""


def twilio_trunk_name(trunk_id: str) -> str:
    """Friendly name of the Twilio trunk and credential list made for our trunk."""
    return f"Trunkline {trunk_id}"


def livekit_trunk_name(trunk_id: str) -> str:
    """Name of the LiveKit inbound and outbound trunks made for our trunk."""
    return f"trunkline {trunk_id}"


def dispatch_rule_name(phone_number_id: str) -> str:
    return f"trunkline {phone_number_id}"
