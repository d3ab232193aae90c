"""schema/ converts stored enums to GraphQL enums by value, and carriers to Provider by an explicit table."""

import pytest

from models import enums as stored
from providers.errors import Carrier
from schema import enums
from schema.results import CARRIERS


@pytest.mark.parametrize(
    "graphql_enum, stored_enum",
    [
        (enums.PhoneNumberSource, stored.PhoneNumberSource),
        (enums.PhoneNumberStatus, stored.PhoneNumberStatus),
        (enums.PhoneNumberCapability, stored.PhoneNumberCapability),
        (enums.SipTrunkProvider, stored.SipTrunkProvider),
        (enums.SipTrunkDirection, stored.SipTrunkDirection),
        (enums.SipTransport, stored.SipTransport),
    ],
    ids=lambda enum: enum.__name__,
)
def test_every_stored_value_has_its_graphql_member_and_back(graphql_enum, stored_enum):
    assert {member.value for member in graphql_enum} == {member.value for member in stored_enum}
    for member in stored_enum:
        assert stored_enum(graphql_enum(member).value) is member


def test_every_carrier_maps_to_its_provider_member():
    assert set(CARRIERS) == set(Carrier)
    assert all(CARRIERS[carrier].name == carrier.name for carrier in Carrier)
    assert set(CARRIERS.values()) == set(enums.Provider)
