"""The exported SDL is the schema the code serves, and it keeps the public contract."""

import pathlib
import subprocess
import sys

from schema.schema import build_schema

ROOT = pathlib.Path(__file__).resolve().parent.parent
SDL = ROOT / "schema" / "schema.graphql"
CONTRACT_CHECK = ROOT.parent / "shared" / "tools" / "check-contract"


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


def test_contract_check_finds_no_break():
    result = subprocess.run([sys.executable, str(CONTRACT_CHECK), str(SDL)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 contract breaks" in result.stdout
