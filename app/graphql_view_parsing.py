"""Parsing a query once for the HTTP layer's own checks (introspection-only, mutation or not)."""

from functools import lru_cache

from graphql import DocumentNode, GraphQLError, parse


@lru_cache(maxsize=256)
def parsed(query: str) -> DocumentNode | None:
    """The parsed document, or None when it does not parse (GraphQL execution reports why)."""
    try:
        return parse(query)
    except GraphQLError:
        return None
