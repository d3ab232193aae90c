"""The exported SDL is the schema the code serves, and it keeps the public contract."""

import pathlib

from graphql import build_schema as parse_sdl
from graphql import find_breaking_changes

from schema.schema import build_schema

ROOT = pathlib.Path(__file__).resolve().parent.parent
SDL = ROOT / "schema" / "schema.graphql"
# A copy of the public contract (shared/design/contract.graphql beside the repository), so the suite runs in a
# clone with nothing beside it; shared/tools/check-contract stays the reference and compares the same way.
CONTRACT = ROOT / "tests" / "contract" / "contract.graphql"


def test_exported_sdl_matches_the_code():
    # Regenerate with: python -m schema.export
    assert SDL.read_text() == build_schema().as_str() + "\n"


def test_every_type_field_and_enum_value_is_described():
    from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

    missing = []
    for name, graphql_type in build_schema()._schema.type_map.items():
        if name.startswith("__") or name in ("String", "Boolean", "Int", "ID", "Float"):
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, field in graphql_type.fields.items() if not field.description]
        if isinstance(graphql_type, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in graphql_type.values.items() if not value.description]
    assert missing == []


def test_the_exported_schema_breaks_nothing_in_the_contract():
    breaks = find_breaking_changes(parse_sdl(CONTRACT.read_text()), parse_sdl(SDL.read_text()))
    assert [change.description for change in breaks] == []
