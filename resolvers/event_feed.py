"""A process's feed of phone number events to its live subscriptions (the phoneNumberEvents subscription).

The outbox (models/events.py) is the one source: the feed reads events from it, by the ids PostgreSQL's
NOTIFY announces or by catching up from the newest event it has seen, and hands each to the subscriptions
of its workspace, in the order read. Reading by id alone would miss an event whose transaction committed
after a later one's, so a catch-up reads from a while before the newest event seen and skips the ids
already handed out. Each subscription has a bounded queue; one that falls that far behind is dropped
(its `on_overflow` runs) instead of being buffered for.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from models import PhoneNumberEvent
from models.ids import CROCKFORD

QUEUE_SIZE = 500  # events a subscription may have waiting (a burst, or a slow reader) before it is dropped
SEEN_IDS = 50_000  # ids remembered to skip what a catch-up reads again; far more than a look-back holds
PAGE = 500


def ulid_millis(event_id: str) -> int:
    """The creation time (ms) in an event id's ULID."""
    body = event_id.partition("_")[2]
    value = 0
    for char in body[:10]:
        value = value * 32 + CROCKFORD.index(char)
    return value


def first_id_at(millis: int) -> str:
    """The smallest event id made at or after `millis`."""
    value = max(millis, 0) << 80
    return "evt_" + "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


class Subscription:
    """One subscriber's queue: its workspace's events in the feed's order, until it overflows."""

    def __init__(self, workspace_id: str, on_overflow: Callable[[], None], size: int) -> None:
        self.workspace_id = workspace_id
        self.since_millis = int(time.time() * 1000)  # events made before it subscribed are not its
        self.on_overflow = on_overflow
        self.queue: asyncio.Queue[PhoneNumberEvent | None] = asyncio.Queue(size + 1)  # +1: the end marker
        self.size = size
        self.overflowed = False

    def offer(self, event: PhoneNumberEvent) -> None:
        if self.overflowed or ulid_millis(event.id) < self.since_millis:
            return
        if self.queue.qsize() >= self.size:
            self.overflowed = True
            self.queue.put_nowait(None)  # ends the iteration once what was queued is read
            self.on_overflow()
            return
        self.queue.put_nowait(event)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> PhoneNumberEvent:
        event = await self.queue.get()
        if event is None:
            raise StopAsyncIteration
        return event


class EventFeed:
    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._subscriptions: dict[str, set[Subscription]] = defaultdict(set)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.newest_millis = int(time.time() * 1000)  # only events from now on are for this process's subscribers

    @contextmanager
    def subscribe(self, workspace_id: str, on_overflow: Callable[[], None]) -> Iterator[Subscription]:
        subscription = Subscription(workspace_id, on_overflow, self.queue_size)
        self._subscriptions[workspace_id].add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscriptions[workspace_id]
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscriptions[workspace_id]

    @property
    def subscriber_count(self) -> int:
        return sum(len(subscribers) for subscribers in self._subscriptions.values())

    async def deliver(self, event_ids: list[str]) -> None:
        """Hand out the events of these ids (as announced, in that order), those not handed out before."""
        fresh = [event_id for event_id in dict.fromkeys(event_ids) if event_id not in self._seen]
        if not fresh:
            return
        if not self._subscriptions:  # nobody to read them for: remember them, so a catch-up skips them too
            for event_id in fresh:
                self._remember(event_id)
            return
        rows = {event.id: event for event in await PhoneNumberEvent.filter(id__in=fresh)}
        self._publish([rows[event_id] for event_id in fresh if event_id in rows])

    async def catch_up(self, look_back: float) -> None:
        """Hand out every event made since `look_back` seconds before the newest seen, not handed out before.
        With no subscriber nothing is read: a subscription takes only events made after it subscribed."""
        if not self._subscriptions:
            self.newest_millis = max(self.newest_millis, int(time.time() * 1000))
            return
        after = first_id_at(self.newest_millis - int(look_back * 1000))
        while True:
            ids = await PhoneNumberEvent.filter(id__gte=after).order_by("id").limit(PAGE).values_list("id", flat=True)
            fresh = [event_id for event_id in ids if event_id not in self._seen]
            if fresh:  # only what was not handed out before is read whole
                events = {event.id: event for event in await PhoneNumberEvent.filter(id__in=fresh)}
                self._publish(events[event_id] for event_id in fresh if event_id in events)
            if len(ids) < PAGE:
                return
            after = ids[-1] + "0"  # the next id after it: ids are fixed-length

    def _publish(self, events: Iterable[PhoneNumberEvent]) -> None:
        for event in events:
            self._remember(event.id)
            for subscription in list(self._subscriptions.get(event.workspace_id, ())):
                subscription.offer(event)

    def _remember(self, event_id: str) -> None:
        self._seen[event_id] = None
        if len(self._seen) > SEEN_IDS:
            self._seen.popitem(last=False)
        self.newest_millis = max(self.newest_millis, ulid_millis(event_id))
