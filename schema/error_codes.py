"""Codes on GraphQL's own errors (extensions.code), so that clients branch on a code, never a message.

Parse and validation errors are coded where they are made (schema.documents), execution's in
schema.execution: a crash is masked as INTERNAL_SERVER_ERROR, anything else without a code of its own
(variables that do not fit their types, say) is the caller's input.
"""

from graphql import GraphQLError

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
