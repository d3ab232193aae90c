"""Wire ids: a prefix and 26 Crockford base32 characters, sortable by creation."""

import os
import time

import pytest

from models.ids import is_valid_id, new_id, new_ulid, prefix_of


def test_new_ids_have_the_prefix_and_a_26_character_crockford_body():
    for prefix in ("ws", "phone", "agent", "trunk"):
        made = new_id(prefix)
        body = made.removeprefix(prefix + "_")
        assert len(body) == 26 and set(body) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        assert is_valid_id(made, prefix) and prefix_of(made) == prefix


def test_ids_made_one_after_another_sort_in_that_order():
    made = [new_id("phone") for _ in range(1000)]
    assert made == sorted(made) and len(set(made)) == 1000


def test_two_workers_forked_from_one_process_in_one_millisecond_make_different_ids(monkeypatch):
    """`serve --workers N` forks its workers from the supervisor, which has made ids (the demo workspace)."""
    monkeypatch.setattr(time, "time_ns", lambda: 1_700_000_000_000 * 1_000_000)  # every id in one millisecond
    new_ulid()  # the supervisor's last id: without a fresh start, each child counts up from it to the same id
    made = []
    for _ in range(2):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: one id, then out without running pytest's exit handlers
            os.write(write, new_ulid().encode())
            os._exit(0)
        os.close(write)
        made.append(os.read(read, 64).decode())
        os.close(read)
        os.waitpid(pid, 0)
    assert made[0] != made[1]


@pytest.mark.parametrize(
    "value",
    [
        "3f2b8c1e-9a4d-4e2b-8f6a-1c2d3e4f5a6b",
        "phone_01J9Z3Q5V8K2M4N6P8R0S2T4W",
        "phone_01J9Z3Q5V8K2M4N6P8R0S2T4W6X",
        "phone_01j9z3q5v8k2m4n6p8r0s2t4w6",
        "phone_01J9Z3Q5V8K2M4N6P8R0S2T4WU",
        "phone_81J9Z3Q5V8K2M4N6P8R0S2T4W6",
        "agent_01J9Z3Q5V8K2M4N6P8R0S2T4W6",
        None,
    ],
    ids=["uuid", "short", "long", "lower-case", "not-crockford", "overflows-128-bits", "wrong-prefix", "none"],
)
def test_values_that_are_not_phone_ids(value):
    assert not is_valid_id(value, "phone")
