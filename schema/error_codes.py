"""Codes on GraphQL's own errors (extensions.code), so that clients branch on a code, never a message.

Parse and validation errors are coded where they are made (schema.documents); here, what execution
reports: a crash is masked as INTERNAL_SERVER_ERROR, anything else without a code of its own (variables
that do not fit their types, say) is the caller's input.
"""

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    """Give the error `code` unless it has one of its own; returns the same error."""
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code}
    return error


def is_unexpected(error: GraphQLError) -> bool:
    """A crash (an exception that is not a GraphQL error) as opposed to a client's own mistake."""
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


class MaskCrashes(MaskErrors):
    """Crashes read "Unexpected error." with code INTERNAL_SERVER_ERROR; the details go to the log only."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return with_code(super().anonymise_error(error), INTERNAL_SERVER_ERROR)


class ExecutionErrorCodes(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or []:
            if not is_unexpected(error):
                with_code(error, BAD_USER_INPUT)
