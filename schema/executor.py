"""graphql-core's executor, with a short way for the fields that are most of a page: a plain attribute of
its object, holding a scalar, an enum or an object.

It is graphql-core's plain Executor, which ignores incremental delivery, where Strawberry's is its
IncrementalExecutor: the schema declares neither @defer nor @stream, and the incremental one sets up
its bookkeeping (maps, lists, plans) on every request all the same. Strawberry's resolve info is kept.

For every field, graphql-core builds a resolve info (15 values), calls the resolver, then completes the
value through the type checks of `complete_value`; Strawberry's resolver of a field without one is three
calls deep before it reads the attribute. A plain attribute needs none of that: here it is read, then
serialized (a scalar or enum) or its own fields executed (an object), with graphql-core's own error
handling around the latter. A value the short way does not take as it is (a read that fails, a null in a
non-null field, an awaitable, a scalar the type refuses) goes the whole way, so errors and their paths are
graphql-core's (tests/test_executor.py compares the two).
"""

from __future__ import annotations

from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLField,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
    is_object_type,
)
from graphql.execution.executor import Executor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter


class PlainField(NamedTuple):
    read: Any  # Strawberry's default resolver: getattr unless the schema's config says otherwise
    attribute: str
    type: Any  # the field's type as declared (non-null or not), for graphql-core's error handling
    named: GraphQLNamedType
    leaf: bool  # a scalar or enum; otherwise an object type
    nullable: bool


# Per schema (it goes with it), by type and field name: how to take each field the short way, or None.
_plans: WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], PlainField | None]] = WeakKeyDictionary()


def plain_field(field: GraphQLField | None) -> PlainField | None:
    """How to read the field the short way; None when it has a resolver or arguments, or its type is a list,
    a union or an interface (or it is not in the schema)."""
    if field is None or field.args or not getattr(field.resolve, "_is_default", False):
        return None
    definition = field.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
    non_null = isinstance(field.type, GraphQLNonNull)
    named = field.type.of_type if non_null else field.type
    if not (is_leaf_type(named) or is_object_type(named)):
        return None
    return PlainField(definition.default_resolver, definition.python_name, field.type, named, is_leaf_type(named), not non_null)


class TrunklineExecutor(Executor):
    build_resolve_info = StrawberryGraphQLCoreExecutionContext.build_resolve_info

    def __init__(self, *args, operation_extensions: Any = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.operation_extensions = operation_extensions  # Strawberry's resolve info carries them
        self.plans = _plans.setdefault(self.schema, {})

    def execute_field(self, parent_type, source, field_details_list, path, position_context):
        node = field_details_list[0].node
        name = node.name.value
        key = (parent_type.name, name)
        if key not in self.plans:  # worked out once per field of each schema
            self.plans[key] = plain_field(self.schema.get_field(parent_type, name))
        plain = self.plans[key]
        if plain is not None and not node.arguments:
            try:
                value = plain.read(source, plain.attribute)
            except Exception:  # noqa: BLE001 - the whole way below reports it, with its path
                return super().execute_field(parent_type, source, field_details_list, path, position_context)
            if value is None:
                if plain.nullable:
                    return None
            elif self.is_awaitable(value):
                pass
            elif plain.leaf:
                try:
                    serialized = plain.named.serialize(value)
                except Exception:  # noqa: BLE001 - the whole way below reports it, with its path
                    serialized = None
                if serialized is not None and serialized is not Undefined:
                    return serialized
            else:
                return self._object(plain, field_details_list, path, value, position_context)
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def _object(self, plain: PlainField, field_details_list, path, value, position_context):
        """What execute_field does with an object value, without the resolve info (Strawberry's is_type_of,
        the only reader of it here, does not look at it)."""
        try:
            completed = self.complete_object_value(plain.named, field_details_list, None, path, value, position_context)
        except Exception as raw_error:  # noqa: BLE001 - as graphql-core's execute_field handles it
            self.handle_field_error(raw_error, plain.type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed():
            try:
                return await completed
            except Exception as raw_error:  # noqa: BLE001 - as above
                self.handle_field_error(raw_error, plain.type, field_details_list, path)
                return None

        return await_completed()
