"""Properties of the input validators, over many generated values: each accepts exactly what its rule says."""

from __future__ import annotations

import ipaddress
import re
import string
import unicodedata

import phonenumbers
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from models.ids import CROCKFORD, new_id
from resolvers.available_numbers import is_area_code
from resolvers.create_sip_trunk import (
    ALLOWED_ADDRESSES_LIMIT,
    SIP_ADDRESS_MAX_LENGTH,
    SipTrunkRequest,
    allowed_network,
    is_sip_host,
    validate,
)
from models.enums import SipTrunkDirection
from resolvers.validation import (
    LABEL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    check_e164,
    check_id_shape,
    check_label,
    check_name,
    check_text,
    check_twilio_credentials,
)

# Modest and without deadlines: fast enough for every CI run, and no flaky timing on a slow runner.
quick = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BAD_CATEGORIES = ("Cc", "Cs")  # control characters and (in a decoded str, always unpaired) surrogates
any_character = st.characters(exclude_categories=())  # surrogates too, which hypothesis leaves out by default
bad_character = st.characters(categories=BAD_CATEGORIES)
good_character = st.characters(exclude_categories=BAD_CATEGORIES)
good_text = st.text(good_character)
# Digits of other scripts that phonenumbers, int() and \d all read as digits.
FOREIGN_DIGITS = ["٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "०१२३४५६७८९", "০১২৩৪৫৬৭৮৯"]


def is_bad(char: str) -> bool:
    return unicodedata.category(char) in BAD_CATEGORIES


def codes(problems) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in problems]


def foreign(text: str, script: str) -> str:
    """Each ASCII digit of `text` written in another script."""
    return text.translate(str.maketrans("0123456789", script))


# ---------------------------------------------------------------- the text rule


@quick
@given(st.text(any_character))
def test_text_is_refused_exactly_when_it_has_a_control_character_or_lone_surrogate(value):
    assert bool(check_text(value, "label")) == any(map(is_bad, value))


@quick
@given(good_text)
def test_printable_text_of_any_script_is_accepted(value):
    assert check_text(value, "label") == ()


@quick
@given(good_text, bad_character, st.text(any_character), st.sampled_from(["name", "label", "authPassword", "allowedAddresses.3"]))
def test_refusal_names_the_field_and_the_first_bad_character_without_echoing_it(before, bad, after, field):
    (problem,) = check_text(before + bad + after, field)

    assert (problem.field, problem.code) == (field, "INVALID_CHARACTERS")
    assert problem.message == (
        f"{field} must not contain control characters (such as NUL, tab or newline) or unpaired surrogates; "
        f"found U+{ord(bad):04X} at character {len(before) + 1}"
    )


@quick
@given(st.one_of(st.none(), good_text))
def test_label_is_accepted_up_to_its_length_and_too_long_after(label):
    expected = [("label", "TOO_LONG")] if label is not None and len(label) > LABEL_MAX_LENGTH else []
    assert codes(check_label(label)) == expected


@quick
@given(st.text(good_character, min_size=LABEL_MAX_LENGTH - 5, max_size=LABEL_MAX_LENGTH + 5), bad_character)
def test_label_with_a_bad_character_gets_one_problem_whatever_its_length(label, bad):
    assert codes(check_label(label + bad)) == [("label", "INVALID_CHARACTERS")]


@quick
@given(st.text(st.one_of(good_character, st.sampled_from(" \u00a0\u2003\u3000")), max_size=300))
def test_name_is_required_once_stripped_and_at_most_its_length(name):
    stripped = name.strip()
    expected = [] if 0 < len(stripped) <= NAME_MAX_LENGTH else [("name", "REQUIRED" if not stripped else "TOO_LONG")]
    assert codes(check_name(name)) == expected


@quick
@given(good_text, bad_character, good_text)
def test_name_with_a_bad_character_is_refused_even_where_stripping_would_drop_it(before, bad, after):
    assert codes(check_name(before + bad + after)) == [("name", "INVALID_CHARACTERS")]


# ---------------------------------------------------------------- e164


def valid_numbers() -> list[str]:
    """Example numbers of every region and type phonenumbers knows, in E.164."""
    found = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                found.add(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    return sorted(found)


VALID_NUMBERS = valid_numbers()


def is_valid_e164(value: str) -> bool:
    """What phonenumbers considers a valid number, written exactly in its E.164 form: ASCII digits, 15 at most."""
    if not re.fullmatch(r"\+[0-9]{1,15}", value):
        return False
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == value


@quick
@given(st.sampled_from(VALID_NUMBERS))
def test_every_valid_number_in_e164_is_accepted(e164):
    assert check_e164(e164) == ()


@quick
@given(st.one_of(
    st.from_regex(r"\+[0-9]{1,17}", fullmatch=True),
    st.text(st.sampled_from("+0123456789 -().٠١٢٣٤٥٦٧٨٩０１２３４５６７８９"), max_size=18),
    st.text(any_character, max_size=18),
))
def test_e164_is_accepted_exactly_when_phonenumbers_finds_it_valid_and_it_is_written_canonically(value):
    problems = check_e164(value)

    assert (problems == ()) == is_valid_e164(value)
    assert all(p.field == "e164" and p.code in ("INVALID_FORMAT", "INVALID_NUMBER", "INVALID_CHARACTERS") for p in problems)


@quick
@given(st.sampled_from(VALID_NUMBERS), st.sampled_from(FOREIGN_DIGITS), st.data())
def test_a_valid_number_with_any_digit_of_another_script_is_refused_pointing_at_the_ascii_form(e164, script, data):
    index = data.draw(st.integers(1, len(e164) - 1))
    written = e164[:index] + foreign(e164[index], script) + e164[index + 1 :]

    (problem,) = check_e164(written)

    assert (problem.field, problem.code) == ("e164", "INVALID_FORMAT")
    assert problem.message == f"e164 must be written with ASCII digits 0-9: {e164}"


@quick
@given(st.from_regex(r"\+49800[0-9]{7,12}", fullmatch=True))
def test_a_number_phonenumbers_finds_valid_is_refused_past_15_digits(e164):
    # German toll-free numbers run to 15 national digits: 17 with the country code.
    assert phonenumbers.is_valid_number(phonenumbers.parse(e164, None))

    expected = [("e164", "INVALID_NUMBER")] if len(e164) - 1 > 15 else []
    assert codes(check_e164(e164)) == expected


# ---------------------------------------------------------------- ids and credentials


@quick
@given(st.sampled_from(["phone", "agent", "trunk"]))
def test_ids_the_server_makes_are_well_formed(prefix):
    assert check_id_shape(new_id(prefix), prefix, "id") == ()


@quick
@given(st.sampled_from(["agent", "trunk"]), st.text(st.sampled_from(CROCKFORD + "ilou_-" + CROCKFORD.lower() + "٣"), max_size=30))
def test_id_is_accepted_exactly_when_it_is_the_prefix_and_a_ulid(prefix, body):
    value = f"{prefix}_{body}"
    is_ulid = len(body) == 26 and all(c in CROCKFORD for c in body) and body[0] <= "7"

    assert (check_id_shape(value, prefix, "agentId") == ()) == is_ulid


HEX = "0123456789abcdefABCDEF"


@quick
@given(
    st.text(st.sampled_from(HEX + "gxZ ٣３"), min_size=30, max_size=34),
    st.text(st.sampled_from(HEX + "gxZ ٣３\x00"), min_size=30, max_size=34),
)
def test_twilio_credentials_are_ascii_hex_of_the_exact_length_and_the_token_is_never_echoed(sid_tail, token):
    sid = "AC" + sid_tail
    problems = check_twilio_credentials(sid, token)

    sid_ok = len(sid_tail) == 32 and all(c in HEX for c in sid_tail)
    token_ok = len(token) == 32 and all(c in HEX for c in token)
    assert [field for field, _ in codes(problems)] == [f for f, ok in (("twilio.accountSid", sid_ok), ("twilio.authToken", token_ok)) if not ok]
    assert all(token not in p.message for p in problems)


# ---------------------------------------------------------------- SIP trunks

label = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?", fullmatch=True)
host = st.lists(label, min_size=1, max_size=5).map(".".join).filter(lambda h: len(h) <= 253)


@quick
@given(host, st.one_of(st.none(), st.integers(1, 65535)))
def test_host_with_an_optional_port_from_1_to_65535_is_a_sip_address(name, port):
    assert is_sip_host(name if port is None else f"{name}:{port}")


@quick
@given(host, st.one_of(st.integers(max_value=0), st.integers(min_value=65536)))
def test_port_outside_1_to_65535_is_refused(name, port):
    assert not is_sip_host(f"{name}:{port}")


@quick
@given(host, st.integers(1, 65535), st.sampled_from(FOREIGN_DIGITS), st.data())
def test_port_with_any_digit_of_another_script_is_refused(name, port, script, data):
    digits = str(port)
    index = data.draw(st.integers(0, len(digits) - 1))
    written = digits[:index] + foreign(digits[index], script) + digits[index + 1 :]

    assert not is_sip_host(f"{name}:{written}")


@quick
@given(host, st.text(st.characters(exclude_characters=string.ascii_letters + string.digits + ".-"), min_size=1, max_size=3), st.data())
def test_sip_address_with_any_other_character_is_refused(name, extra, data):
    assume(extra.strip(":") or extra.count(":") > 1)  # one colon alone starts a port
    index = data.draw(st.integers(0, len(name)))

    assert not is_sip_host(name[:index] + extra + name[index:])


@quick
@given(st.text(any_character, max_size=300))
def test_sip_address_answer_is_always_one_problem_or_none(address):
    request = SipTrunkRequest(name="Carrier", direction=SipTrunkDirection.OUTBOUND, sip_address=address or "x")
    problems = [p for p in validate(request) if p.field == "sipAddress"]

    assert len(problems) <= 1
    if not problems:
        assert is_sip_host(address or "x") and len(address) <= SIP_ADDRESS_MAX_LENGTH
    elif any(map(is_bad, address)):
        assert problems[0].code == "INVALID_CHARACTERS"


networks = st.one_of(
    st.ip_addresses(v=4).flatmap(lambda a: st.integers(0, 32).map(lambda p: f"{a}/{p}")),
    st.ip_addresses(v=6).flatmap(lambda a: st.integers(0, 128).map(lambda p: f"{a}/{p}")),
    st.ip_addresses().map(str),
)


@quick
@given(networks)
def test_every_ip_address_or_cidr_block_is_allowed_and_normalised(address):
    assert allowed_network(address) == str(ipaddress.ip_network(address, strict=False))


@quick
@given(networks, st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=8))
def test_ipv6_scope_is_never_allowed(address, scope):
    assert allowed_network(f"{address.split('/')[0]}%{scope}") is None


@quick
@given(st.integers(0, 3 * ALLOWED_ADDRESSES_LIMIT))
def test_allowed_addresses_are_at_most_100(count):
    request = SipTrunkRequest(name="Carrier", direction=SipTrunkDirection.INBOUND, allowed_addresses=("203.0.113.7",) * count)

    expected = [("allowedAddresses", "TOO_MANY")] if count > ALLOWED_ADDRESSES_LIMIT else []
    assert codes(validate(request)) == expected


# ---------------------------------------------------------------- area codes


@quick
@given(st.text(st.sampled_from("0123456789٠١٢٣٤٥٦٧٨٩０１２３ x\n"), max_size=4))
def test_area_code_is_three_ascii_digits_the_first_2_to_9(value):
    assert is_area_code(value) == (len(value) == 3 and value[0] in "23456789" and all(c in string.digits for c in value))
