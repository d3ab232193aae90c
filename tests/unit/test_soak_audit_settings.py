"""The soak's audit finds a BYOC trunk whose LiveKit trunks hold other settings than its row."""

from tests.soak_audit import MISSING, DatabaseRows, audit

TRUNK = {
    "id": "trunk_X", "provider": "BYOC", "direction": "BOTH", "name": "Carrier", "workspace_id": "ws_1",
    "allowed_addresses": ["203.0.113.0/24"], "auth_username": "soak", "auth_password_encrypted": "sealed",
    "sip_address": "sip.a.example.com", "transport": "UDP",
    "livekit_inbound_trunk_id": "ST_in", "livekit_outbound_trunk_id": "ST_out",
    "twilio_trunk_sid": None, "twilio_credential_list_sid": None, "twilio_origination_url_sid": None, "twilio_account_id": None,
}
ROWS = DatabaseRows(workspace=[], agent=[], twilio_account=[], sip_trunk=[TRUNK], phone_number=[], carrier_step=[])


def carriers(allowed: list[str], address: str, username: str = "soak") -> dict:
    name = "trunkline trunk_X 0a1b2c3d4e5f"
    inbound = {"sip_trunk_id": "ST_in", "name": name, "allowed_addresses": allowed, "auth_username": username, "numbers": []}
    outbound = {
        "sip_trunk_id": "ST_out", "name": name, "address": address, "transport": "SIP_TRANSPORT_UDP",
        "auth_username": username, "numbers": [],
    }
    livekit = {"inbound_trunks": {"ST_in": inbound}, "outbound_trunks": {"ST_out": outbound}, "dispatch_rules": {}, "phone_numbers": {}}
    return {"twilio": {"accounts": []}, "livekit": livekit}


def test_settings_that_match_the_row_are_no_finding():
    assert audit(ROWS, carriers(["203.0.113.0/24"], "sip.a.example.com"), platform_account_sid="AC0").count(MISSING) == 0


def test_each_side_holding_other_settings_is_a_finding():
    found = audit(ROWS, carriers(["198.51.100.7"], "sip.b.example.com"), platform_account_sid="AC0")
    keys = sorted(problem.key for problem in found.examples(MISSING))
    assert keys == [
        "sip_trunk trunk_X (BYOC BOTH): LiveKit inbound trunk ST_in holds other settings",
        "sip_trunk trunk_X (BYOC BOTH): LiveKit outbound trunk ST_out holds other settings",
    ]


def test_a_digest_username_left_behind_is_a_finding():
    found = audit(ROWS, carriers(["203.0.113.0/24"], "sip.a.example.com", username="old"), platform_account_sid="AC0")
    assert found.count(MISSING) == 2
