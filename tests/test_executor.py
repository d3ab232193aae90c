"""schema/executor.py answers exactly as graphql-core's own executor does: the same data, the same errors
at the same paths, for plain fields whose values are fine and for every way one can be wrong."""

from __future__ import annotations

import asyncio
import enum

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.executor import TrunklineExecutor, plain_field
from schema.schema import schema as trunkline_schema


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Inner:
    name: str
    count: int
    optional: str | None = None


@strawberry.type
class Outer:
    title: str
    maybe: str | None
    required: str
    colour: Colour
    inner: Inner
    optional_inner: Inner | None
    later: Inner

    @strawberry.field
    def resolved(self) -> str:
        return self.title.upper()


async def _inner_later(name: str) -> Inner:
    await asyncio.sleep(0)
    return Inner(name=name, count=1)


def _outers() -> list[Outer]:
    fine = Inner(name="fine", count=2)
    return [
        Outer(title="good", maybe=None, required="r", colour=Colour.RED, inner=fine, optional_inner=None, later=fine),
        # Each of these is wrong the way a bug would make it: graphql-core reports each where it is.
        Outer(title="null", maybe="m", required=None, colour=Colour.BLUE, inner=fine, optional_inner=fine, later=fine),
        Outer(title="bad enum", maybe=None, required="r", colour="green", inner=fine, optional_inner=None, later=fine),
        Outer(title="bad int", maybe=None, required="r", colour=Colour.RED,
              inner=Inner(name="x", count="many"), optional_inner=Inner(name="y", count="lots"), later=fine),
        Outer(title="null inside", maybe=None, required="r", colour=Colour.RED,
              inner=Inner(name=None, count=1), optional_inner=Inner(name=None, count=1), later=fine),
        Outer(title="null in optional", maybe=None, required="r", colour=Colour.RED, inner=fine,
              optional_inner=Inner(name=None, count=1), later=fine),
        Outer(title="wrong type", maybe=None, required="r", colour=Colour.RED, inner="not an Inner",
              optional_inner=None, later=fine),
        Outer(title=12, maybe=3.5, required="r", colour=Colour.RED, inner=fine, optional_inner=None, later=fine),
    ]


@strawberry.type
class Query:
    @strawberry.field
    def outers(self) -> list[Outer | None]:
        return _outers()

    @strawberry.field
    def later_outers(self) -> list[Outer]:
        return [
            Outer(title=f"later {i}", maybe=None, required="r", colour=Colour.BLUE, inner=Inner(name="i", count=i),
                  optional_inner=None, later=_inner_later(f"awaited {i}"))
            for i in range(3)
        ]


def _schema(executor) -> strawberry.Schema:
    return strawberry.Schema(query=Query, execution_context_class=executor)


DOCUMENTS = [
    "{ outers { title maybe required colour resolved } }",
    "{ outers { inner { name count optional } optionalInner { name count } } }",
    "{ outers { title inner { name } } }",
    "{ outers { __typename title alias: colour inner { __typename n: name } } }",
    "{ laterOuters { title later { name count } inner { count } } }",
    "{ outers { ...F } } fragment F on Outer { title inner { ... on Inner { name } } }",
    "{ outers { title @skip(if: true) maybe @include(if: false) colour } }",
]


def _errors(result) -> list[tuple]:
    return sorted((e.message, tuple(e.path or ()), tuple((l.line, l.column) for l in e.locations or ())) for e in result.errors or [])


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_the_short_way_answers_as_graphql_core_does(document):
    ours = await _schema(TrunklineExecutor).execute(document)
    theirs = await _schema(StrawberryGraphQLCoreExecutionContext).execute(document)

    assert ours.data == theirs.data
    assert _errors(ours) == _errors(theirs)


async def test_the_documents_take_the_short_way_and_meet_every_kind_of_error():
    """The comparison above covers what it claims: values that are wrong, on fields that go the short way."""
    result = await _schema(TrunklineExecutor).execute(DOCUMENTS[0] + "")
    messages = " ".join(message for message, _, _ in _errors(result))
    assert "Cannot return null for non-nullable field Outer.required" in messages
    assert "Enum 'Colour' cannot represent value: 'green'" in messages
    nested = await _schema(TrunklineExecutor).execute(DOCUMENTS[1])
    assert any("Int cannot represent non-integer value: 'many'" in m for m, _, _ in _errors(nested))
    assert any(path[-1] == "name" for _, path, _ in _errors(nested))
    # A nullable object field takes a null from inside it: the number survives, the field is null.
    assert nested.data["outers"][5] == {"inner": {"name": "fine", "count": 2, "optional": None}, "optionalInner": None}
    assert ("Cannot return null for non-nullable field Inner.name.", ("outers", 5, "optionalInner", "name"), ((1, 58),)) in _errors(nested)

    outer = _schema(TrunklineExecutor)._schema.type_map["Outer"]
    assert plain_field(outer.fields["title"]).leaf
    assert not plain_field(outer.fields["inner"]).leaf
    assert plain_field(outer.fields["resolved"]) is None  # a resolver: the whole way


def test_trunkline_runs_on_this_executor():
    assert trunkline_schema.execution_context_class is TrunklineExecutor
