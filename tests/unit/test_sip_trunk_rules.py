"""createSipTrunk's input rules, on the pure validator the mutation runs first: every problem at once,
each named by field and code. tests/test_create_sip_trunk.py proves the wiring through GraphQL."""

from __future__ import annotations

import pytest

from resolvers.create_sip_trunk import allowed_network, is_sip_host, validate
from tests.unit.requests import problem_codes, sip_trunk_request

PASSWORD = "s3cret-passw0rd"


def outbound(**fields):
    return {
        "name": "Carrier",
        "direction": "OUTBOUND",
        "sipAddress": "sip.example-carrier.com",
        **fields,
    }


def problems_of(given: dict) -> list:
    return list(validate(sip_trunk_request(given)))


# (input, the exact (field, code) pairs of the ValidationError)
RULES = [
    pytest.param(outbound(name=""), [("name", "REQUIRED")], id="name-empty"),
    pytest.param(outbound(name="   "), [("name", "REQUIRED")], id="name-blank"),
    pytest.param(outbound(name="x" * 256), [("name", "TOO_LONG")], id="name-256-characters"),
    pytest.param(
        {"name": "Carrier", "direction": "OUTBOUND"},
        [("sipAddress", "REQUIRED")],
        id="outbound-without-address",
    ),
    pytest.param(
        {"name": "Carrier", "direction": "BOTH"},
        [("sipAddress", "REQUIRED")],
        id="both-without-address",
    ),
    pytest.param(outbound(sipAddress=""), [("sipAddress", "REQUIRED")], id="address-empty"),
    pytest.param(
        outbound(sipAddress="sip:sip.example-carrier.com"),
        [("sipAddress", "INVALID_FORMAT")],
        id="address-sip-uri",
    ),
    pytest.param(
        outbound(sipAddress="acme@sip.example-carrier.com"),
        [("sipAddress", "INVALID_FORMAT")],
        id="address-with-user",
    ),
    pytest.param(
        outbound(sipAddress="sip.example-carrier.com;transport=tcp"),
        [("sipAddress", "INVALID_FORMAT")],
        id="address-with-transport-parameter",
    ),
    pytest.param(
        outbound(sipAddress="sip example carrier"),
        [("sipAddress", "INVALID_FORMAT")],
        id="address-with-spaces",
    ),
    pytest.param(
        outbound(sipAddress="-sip.example-carrier.com"),
        [("sipAddress", "INVALID_FORMAT")],
        id="address-leading-hyphen",
    ),
    pytest.param(
        outbound(sipAddress="sip.example-carrier.com:"),
        [("sipAddress", "INVALID_FORMAT")],
        id="address-empty-port",
    ),
    pytest.param(
        outbound(sipAddress="sip.example-carrier.com:99999"),
        [("sipAddress", "INVALID_FORMAT")],
        id="address-port-above-65535",
    ),
    pytest.param(
        outbound(sipAddress="203.0.113.7:0"),
        [("sipAddress", "INVALID_FORMAT")],
        id="address-port-zero",
    ),
    pytest.param(
        {"name": "Carrier", "direction": "INBOUND", "sipAddress": "sips:203.0.113.7"},
        [("sipAddress", "INVALID_FORMAT")],
        id="inbound-with-sips-uri",
    ),
    pytest.param(
        outbound(authUsername="acme"),
        [("authPassword", "REQUIRED")],
        id="username-without-password",
    ),
    pytest.param(
        outbound(authPassword=PASSWORD),
        [("authUsername", "REQUIRED")],
        id="password-without-username",
    ),
    pytest.param(
        outbound(authUsername="acme corp", authPassword=PASSWORD),
        [("authUsername", "INVALID_FORMAT")],
        id="username-with-space",
    ),
    pytest.param(
        outbound(authUsername="a" * 129, authPassword=PASSWORD),
        [("authUsername", "INVALID_FORMAT")],
        id="username-129-characters",
    ),
    pytest.param(
        outbound(authUsername="acme", authPassword="short77"),
        [("authPassword", "INVALID_FORMAT")],
        id="password-7-characters",
    ),
    pytest.param(
        outbound(authUsername="acme", authPassword="x" * 129),
        [("authPassword", "INVALID_FORMAT")],
        id="password-129-characters",
    ),
    pytest.param(
        outbound(allowedAddresses=["203.0.113.0/24", "not-an-ip"]),
        [("allowedAddresses.1", "INVALID_FORMAT")],
        id="second-address-not-an-ip",
    ),
    pytest.param(
        outbound(allowedAddresses=["203.0.113.0/33"]),
        [("allowedAddresses.0", "INVALID_FORMAT")],
        id="prefix-longer-than-32",
    ),
    pytest.param(
        outbound(allowedAddresses=["300.1.1.1"]),
        [("allowedAddresses.0", "INVALID_FORMAT")],
        id="octet-above-255",
    ),
    pytest.param(
        outbound(allowedAddresses=[""]),
        [("allowedAddresses.0", "INVALID_FORMAT")],
        id="address-empty-string",
    ),
    pytest.param(
        {
            "name": " ",
            "direction": "BOTH",
            "authPassword": "short",
            "allowedAddresses": ["10.0.0.0/8", "x", "y"],
        },
        [
            ("allowedAddresses.1", "INVALID_FORMAT"),
            ("allowedAddresses.2", "INVALID_FORMAT"),
            ("authPassword", "INVALID_FORMAT"),
            ("authUsername", "REQUIRED"),
            ("name", "REQUIRED"),
            ("sipAddress", "REQUIRED"),
        ],
        id="six-problems-at-once",
    ),
]


@pytest.mark.parametrize("given_input, expected", RULES)
def test_invalid_input_is_refused_naming_each_field(given_input, expected):
    problems = problems_of(given_input)

    assert problem_codes(problems) == expected
    assert all(problem.message for problem in problems)
    assert PASSWORD not in repr(problems)


@pytest.mark.parametrize(
    "address",
    [
        "sip.example-carrier.com",
        "sip.example-carrier.com:5060",
        "sip.example-carrier.com:1",
        "sip.example-carrier.com:65535",
        "203.0.113.7",
        "203.0.113.7:5061",
        "localhost",
        "a" * 63 + ".example",
    ],
)
def test_a_bare_host_or_ip_with_an_optional_port_is_a_sip_host(address):
    assert is_sip_host(address)


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("sip:sip.example-carrier.com", id="sip-uri"),
        pytest.param("acme@sip.example-carrier.com", id="user"),
        pytest.param("sip.example-carrier.com;transport=tcp", id="parameter"),
        pytest.param("-sip.example-carrier.com", id="leading-hyphen"),
        pytest.param("sip-.example-carrier.com", id="label-ending-in-hyphen"),
        pytest.param("a" * 64 + ".example", id="label-of-64"),
        pytest.param("sip.example-carrier.com:", id="empty-port"),
        pytest.param("sip.example-carrier.com:0", id="port-zero"),
        pytest.param("sip.example-carrier.com:65536", id="port-65536"),
        pytest.param("sip.example-carrier.com:٥٠٦٠", id="arabic-indic-port"),
        pytest.param("sip.example-carrier.com:５０６０", id="fullwidth-port"),
        pytest.param("sip.example-carrier.com:+5060", id="signed-port"),
        pytest.param("sip.example-carrier.com: 5060", id="spaced-port"),
        pytest.param("", id="empty"),
    ],
)
def test_anything_else_is_not_a_sip_host(address):
    assert not is_sip_host(address)


@pytest.mark.parametrize(
    "address, network",
    [
        ("203.0.113.5/24", "203.0.113.0/24"),
        ("198.51.100.7", "198.51.100.7/32"),
        (" 198.51.100.7 ", "198.51.100.7/32"),
        ("2001:db8::1/32", "2001:db8::/32"),
        ("fe80::1%eth0", None),
        ("fe80::%1/64", None),
        ("203.0.113.0/33", None),
        ("not-an-ip", None),
    ],
)
def test_allowed_addresses_are_normalised_to_their_network_or_refused(address, network):
    assert allowed_network(address) == network
