"""Reading phone numbers: one by id, and keyset pages ordered by id."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from models import PhoneNumber
from models.enums import PhoneNumberSource
from models.ids import is_valid_id
from resolvers.outcomes import InvalidArgument

MAX_PAGE_SIZE = 100
_CURSOR_TAG = "phone-number:"


@dataclass(frozen=True)
class Page:
    rows: list[PhoneNumber]
    has_next_page: bool
    total_count: int


def encode_cursor(phone_number_id: str) -> str:
    return base64.urlsafe_b64encode((_CURSOR_TAG + phone_number_id).encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    phone_number_id = text.removeprefix(_CURSOR_TAG)
    if not text.startswith(_CURSOR_TAG) or not is_valid_id(phone_number_id, "phone"):
        raise InvalidArgument("after", "not a cursor returned by phoneNumbers; pass a pageInfo.endCursor or edge cursor")
    return phone_number_id


async def get_phone_number(workspace_id: str, phone_number_id: str) -> PhoneNumber | None:
    if not is_valid_id(phone_number_id, "phone"):
        return None
    return await PhoneNumber.get_or_none(id=phone_number_id, workspace_id=workspace_id)


async def list_phone_numbers(
    workspace_id: str,
    *,
    first: int,
    after: str | None = None,
    source: PhoneNumberSource | None = None,
    agent_id: str | None = None,
) -> Page:
    """One page after the cursor; `first` must be between 0 and MAX_PAGE_SIZE."""
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise InvalidArgument("first", f"must be between 0 and {MAX_PAGE_SIZE}, not {first}")
    after_id = decode_cursor(after) if after is not None else None
    query = PhoneNumber.filter(workspace_id=workspace_id)
    if source is not None:
        query = query.filter(source=source)
    if agent_id is not None:
        if not is_valid_id(agent_id, "agent"):
            return Page(rows=[], has_next_page=False, total_count=0)
        query = query.filter(agent_id=agent_id)
    total_count = await query.count()
    if after_id is not None:
        query = query.filter(id__gt=after_id)
    rows = await query.order_by("id").limit(first + 1)
    return Page(rows=rows[:first], has_next_page=len(rows) > first, total_count=total_count)
