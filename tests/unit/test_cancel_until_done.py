"""A background task that survives one cancellation is still stopped at shutdown."""

import asyncio

from app.background import cancel_until_done


async def test_a_task_that_swallows_a_cancellation_is_cancelled_again_until_it_ends():
    cancellations = 0

    async def survives_one_cancellation() -> None:
        nonlocal cancellations
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancellations += 1
                if cancellations == 1:
                    continue  # as a cancellation turned into a TimeoutError would be
                raise

    task = asyncio.create_task(survives_one_cancellation())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_until_done(task), 10)

    assert task.cancelled() and cancellations == 2
