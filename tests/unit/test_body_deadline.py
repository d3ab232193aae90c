"""The request body's read deadline (app/request_limits.py): a receive that outlasts it is a TimeoutError, one
that answers in time leaves no timer behind, and a cancellation from elsewhere stays a cancellation."""

import asyncio

import pytest

from app.request_limits import _before

MESSAGE = {"type": "http.request", "body": b"{}", "more_body": False}


async def never() -> dict:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def at_once() -> dict:
    return MESSAGE


async def test_a_receive_past_its_deadline_is_a_timeout():
    deadline = asyncio.get_running_loop().time() + 0.05
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(_before(deadline, never), 10)


async def test_a_receive_in_time_answers_and_its_timer_never_fires():
    loop = asyncio.get_running_loop()
    assert await _before(loop.time() + 0.05, at_once) == MESSAGE
    await asyncio.sleep(0.1)  # past the deadline: the task was not cancelled
    assert asyncio.current_task().cancelling() == 0


async def test_a_cancellation_from_elsewhere_stays_a_cancellation():
    reading = asyncio.create_task(_before(asyncio.get_running_loop().time() + 3600, never))
    await asyncio.sleep(0.01)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert reading.cancelled()


async def test_a_cancellation_from_elsewhere_at_the_deadline_stays_a_cancellation():
    loop = asyncio.get_running_loop()
    reading = asyncio.create_task(_before(loop.time() + 0.05, never))
    loop.call_at(loop.time() + 0.05, reading.cancel)  # both at the same moment
    await asyncio.sleep(0.2)
    assert reading.cancelled()
