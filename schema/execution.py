"""One request's GraphQL operation, in straight-line code: parse within the limits, check the operation
type, validate (both cached for small documents), execute, then code, log and mask the errors.

Strawberry's own path runs each of these through extension hooks (context managers and generators
made per request), which cost a small query more than executing it does; the steps and their order
are the same here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_operation_type

from schema.documents import parse_document, validate_document
from schema.error_codes import BAD_USER_INPUT, INTERNAL_SERVER_ERROR, is_unexpected, with_code

if TYPE_CHECKING:
    from schema.schema import TrunklineSchema

MASKED_MESSAGE = "Unexpected error."


async def execute_operation(
    schema: TrunklineSchema,
    query: str | None,
    *,
    variable_values: dict[str, Any] | None,
    context_value: Any,
    root_value: Any,
    operation_name: str | None,
    allowed_operation_types: Iterable[OperationType],
    operation_extensions: dict[str, Any] | None,
) -> ExecutionResult:
    """What Strawberry's Schema.execute answers; raises what it raises for the HTTP view to turn into a 400."""
    if not query:
        raise MissingQueryError
    context = ExecutionContext(
        query=query, schema=schema, allowed_operations=allowed_operation_types, context=context_value,
        root_value=root_value, variables=variable_values, provided_operation_name=operation_name,
        operation_extensions=operation_extensions,
    )  # fmt: skip
    try:
        try:
            document = parse_document(query)
        except GraphQLError as error:
            return _finish(schema, context, [error])
        context.graphql_document = document
        try:
            operation_type = get_operation_type(document, operation_name)
        except RuntimeError as error:
            raise CannotGetOperationTypeError(operation_name) from error
        if operation_type not in context.allowed_operations:
            raise InvalidOperationTypeError(operation_type)
        if errors := validate_document(schema._schema, query, document, schema.validation_rules, schema.hide_suggestions):
            return _finish(schema, context, list(errors))
        result = await _execute(schema, context, document)
    except (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError):
        raise
    except Exception as exc:  # noqa: BLE001 - a crash is answered masked, like one inside a resolver
        error = exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
        return _finish(schema, context, [error])
    for error in result.errors or []:
        if not is_unexpected(error):
            with_code(error, BAD_USER_INPUT)  # variables that do not fit their types, say: the caller's input
    return _finish(schema, context, result.errors, data=result.data)


async def _execute(schema: TrunklineSchema, context: ExecutionContext, document) -> GraphQLExecutionResult:
    result = schema.execute_function(
        schema._schema,
        document,
        root_value=context.root_value,
        variable_values=context.variables,
        operation_name=context.operation_name,
        context_value=context.context,
        is_awaitable=optimized_is_awaitable,
        **schema.executor_kwargs,
        **schema._get_custom_context_kwargs(context.operation_extensions),
    )
    if optimized_is_awaitable(result):
        result = await result
    return result


def _finish(
    schema: TrunklineSchema, context: ExecutionContext, errors: list[GraphQLError] | None, *, data: Any = None
) -> ExecutionResult:
    """The result, its crashes logged with their traceback first, then masked for the client."""
    if errors:
        context.pre_execution_errors = errors
        schema.process_errors(errors, context)
        errors = [_masked(error) if is_unexpected(error) else error for error in errors]
    result = ExecutionResult(data=data, errors=errors or None, extensions={})
    context.result = result
    return result


def _masked(error: GraphQLError) -> GraphQLError:
    return GraphQLError(
        MASKED_MESSAGE, nodes=error.nodes, source=error.source, positions=error.positions, path=error.path,
        extensions={"code": INTERNAL_SERVER_ERROR},
    )  # fmt: skip
