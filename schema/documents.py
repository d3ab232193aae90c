"""GraphQL documents within the limits. Every parse in the server, the HTTP layer's own checks and
execution alike, goes through parse_document, which gives up past MAX_TOKENS tokens.

Small documents are cached, parsed and validated once: a parsed document costs about 400 bytes a
token, so a cache of documents as large as the limit allows would itself be a way to exhaust memory.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

from graphql import DocumentNode, FieldNode, GraphQLError, GraphQLSchema, parse, validate
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from schema.error_codes import GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, with_code

MAX_TOKENS = 2000
MAX_FIELDS = 300  # field selections in one document; graphql-core's full introspection query has 72
CACHE_SIZE = 128
CACHED_MAX_TOKENS = 400  # GraphiQL's introspection query has 163
CACHED_MAX_LENGTH = 16 * 1024  # comments and long strings count here, not as tokens

_documents: OrderedDict[str, DocumentNode] = OrderedDict()


def parse_document(query: str) -> DocumentNode:
    """The parsed document; raises a GraphQLError coded GRAPHQL_PARSE_FAILED when it does not parse
    or has more than MAX_TOKENS tokens."""
    document = _documents.get(query)
    if document is not None:
        _documents.move_to_end(query)
        return document
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        raise with_code(error, GRAPHQL_PARSE_FAILED) from None
    if len(query) <= CACHED_MAX_LENGTH and _token_count(document) <= CACHED_MAX_TOKENS:
        _documents[query] = document
        if len(_documents) > CACHE_SIZE:
            _documents.popitem(last=False)
    return document


def _token_count(document: DocumentNode) -> int:
    count, token = 0, document.loc.start_token if document.loc else None
    while token is not None and count <= CACHED_MAX_TOKENS:
        count, token = count + 1, token.next
    return count


def _too_many_fields(document: DocumentNode) -> GraphQLError | None:
    """Counted before any rule runs: the rule that merges fields of one name compares them in pairs, so one
    field repeated 1,990 times (within the token limit) took over 100 ms to validate."""
    count = 0
    pending = [d.selection_set for d in document.definitions if getattr(d, "selection_set", None)]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                count += 1
                if count > MAX_FIELDS:
                    return GraphQLError(f"The document selects more than {MAX_FIELDS} fields; at most {MAX_FIELDS} are allowed.")
            if getattr(selection, "selection_set", None):  # a field with subfields, or an inline fragment
                pending.append(selection.selection_set)
    return None


def _validate(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple, hide_suggestions: bool
) -> list[GraphQLError]:
    if too_many := _too_many_fields(document):
        return [with_code(too_many, GRAPHQL_VALIDATION_FAILED)]
    # The rules Strawberry's own validation adds to the schema's.
    rules = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
    errors = validate(schema, document, rules, hide_suggestions=hide_suggestions)
    return [with_code(error, GRAPHQL_VALIDATION_FAILED) for error in errors]


@lru_cache(maxsize=CACHE_SIZE)
def _validate_cached(schema: GraphQLSchema, query: str, rules: tuple, hide_suggestions: bool) -> list[GraphQLError]:
    return _validate(schema, parse_document(query), rules, hide_suggestions)


def validate_document(
    schema: GraphQLSchema, query: str, document: DocumentNode, rules: tuple, hide_suggestions: bool
) -> list[GraphQLError]:
    """The document's validation errors, coded GRAPHQL_VALIDATION_FAILED; cached only for the documents
    parse_document caches. With `hide_suggestions`, errors never say "Did you mean …?"."""
    if query in _documents:
        return _validate_cached(schema, query, rules, hide_suggestions)
    return _validate(schema, document, rules, hide_suggestions)
