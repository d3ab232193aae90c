"""Schema-driven fuzz of the whole GraphQL API against a live server: no operation, however hostile its
values, may crash it.

hypothesis-graphql builds queries and mutations (and, in NEGATIVE mode, operations with one schema
violation) from schema/schema.graphql, so new fields are fuzzed as soon as they are exported. Custom
scalar strategies put hostile values into every String, ID and Int position: lone surrogates, NUL and
other control characters, non-ASCII digits, long strings, integers past 32 and 64 bits, malformed and
foreign ids. Each operation is then rewritten, every choice drawn by Hypothesis:

- values: none, some or all of those in fields named like a real input (e164, accountSid, sipAddress,
  areaCode, after, …) become realistic, and ID positions the id of an object that exists, so operations
  get past validation to the carriers (the sandbox emulators, on loopback) and the database; and one
  value may be poisoned (a bad character amid good text, or a hostile string), the shape of input that
  passes every check but one;
- arguments: none, some or all travel as variables instead of literals (JSON is the only way a lone
  surrogate reaches a resolver, and the way to send integers past 64 bits);
- the request: operationName and extensions, mostly of the right type, sometimes of any JSON type.

Each operation goes to the in-process app (httpx.ASGITransport, SQLite, and PostgreSQL too when
TRUNKLINE_TEST_POSTGRES_URL is set) as a workspace with a valid key. A smaller run goes to a real
`trunkline serve` process on SQLite, over GET and POST, with every kind of Authorization (none, wrong,
malformed), Idempotency-Key (valid or not) and Content-Type. The assertions, for every example: no HTTP
5xx; no GraphQL error with code INTERNAL_SERVER_ERROR or message "Unexpected error."; nothing logged at
ERROR (caplog, and exceptions escaping the app, in process; in the process's log, no ERROR line and no
traceback). Refusals of the client's request (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED,
BAD_USER_INPUT, 4xx) are fine.

Bounded for CI: derandomize=True (every run, everywhere, draws the same examples from a seed Hypothesis
derives from the test; no example database), deadline=None, and 300 + 100 examples: about 12 s on two
idle cores, about 20 s with PostgreSQL as well. A failure prints the operation (shrunk when the crash
does not depend on earlier examples), its variables, the answer and what was logged, traceback
included. The examples of a test share one server and workspace on purpose, since the state they build
up is part of what is explored; a crash that needs that state may not replay, and Hypothesis then
reports it as flaky, with the failing operation printed all the same. A crash logged while the served
process starts, is seeded or stops fails the served test at teardown.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import pathlib
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, mutations, nodes, queries

from models.ids import CROCKFORD
from resolvers.api_keys import issue_api_key
from resolvers.workspaces import create_workspace
from tests.graphql_documents import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_DIDS
from tests.serve_sqlite import serving
from tests.server_processes import PLATFORM_ACCOUNT, run_trunkline, sync_http_client

SCHEMA = graphql.build_schema((pathlib.Path(__file__).parents[1] / "schema" / "schema.graphql").read_text())

IN_PROCESS_EXAMPLES = 300
SERVED_EXAMPLES = 100
# derandomize: examples come from a fixed seed derived from the test's name, the same on every run;
# database=None: no replay of examples saved by earlier runs, so CI and a laptop run the same set.
# No explain phase: on a failure it replays every example many times over, for little.
FUZZ = dict(
    deadline=None, derandomize=True, database=None, print_blob=True, phases=[Phase.explicit, Phase.generate, Phase.shrink]
)
UNEXPECTED = "Unexpected error."
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"

# --- values ---------------------------------------------------------------------------------------

FOREIGN_DIGITS = ["+١٤١٥٥٥٥٠١٠١", "+１４１５５５５０１０１", "+१४१५५५५०१०१", "+۱۴۱۵۵۵۵۰۱۰۱", "+¹⁴¹⁵⁵⁵⁵⁰¹⁰¹", "٤١٥"]
HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",  # lone high surrogate
    "x\udfffy",  # lone low surrogate
    "\ud83d",  # half an emoji
    "\U0001f4de",  # a whole one
    "\x1b[31m\r\n\t",
    "\u202e\ufeff\u200b",  # bidi override, BOM, zero-width space
    "ǅ\u0301\u0301\u0301",
    *FOREIGN_DIGITS,
    "+" + "9" * 16,
    "+1" + "4" * 5000,
    "x" * 256,
    "é" * 70_000,  # long, and twice as long in UTF-8
    "\x00" * 200_000,  # over the 1 MiB body limit once escaped in JSON
    "' OR '1'='1' --",
    '"; DROP TABLE phone_number; --',
    "%_\\",
    "{}",
    "$input",
    "null",
    "NaN",
    "-0",
    "1e309",
    "phone_" + "0" * 26,
    "phone_" + "Z" * 26,  # the right shape, but past the largest ULID
    "phone_01j9z3q5v8k2m4n6p8r0s2t4w6",  # lower case
    "phone_01J9Z3Q5V8K2M4N6P8R0S2T4WI",  # I is not Crockford
    "agent_01J9Z3Q5V8K2M4N6P8R0S2T4W6",
    "trunk_01J9Z3Q5V8K2M4N6P8R0S2T4W6",
    "ws_01J9Z3Q5V8K2M4N6P8R0S2T4W6",
    "key_01J9Z3Q5V8K2M4N6P8R0S2T4W6",
    "550e8400-e29b-41d4-a716-446655440000",  # a legacy UUID
    "cGhvbmU6",  # base64 of a cursor tag with nothing after it
    "////",
    "=",
    "AC" + "0" * 32,
    "AC" + "g" * 32,
    "sip:user@[::1]:99999;transport=tls",
    "10.0.0.0/33",
    "::ffff:999.1.1.1",
]
# Around the limits of GraphQL's Int (32 bits), of JSON numbers in JavaScript (53) and of the databases (64).
BIG_INTS = [0, -1, 1, 100, 101, 2**31 - 1, -(2**31), 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30]
# The realistic values a field of this name may get, so that operations reach the carriers and the database.
REALISTIC = {
    "e164": [*DEMO_DIDS, "+13125550150", "+16175550151", "+12025550147", "+14155550199", "+442071838750"],
    "accountSid": [DEMO_ACCOUNT_SID, PLATFORM_ACCOUNT["sid"]],
    "authToken": [DEMO_AUTH_TOKEN, PLATFORM_ACCOUNT["auth_token"]],
    "sipAddress": ["sip.example-carrier.com", "203.0.113.7:5060", "[2001:db8::1]:5061"],
    "allowedAddresses": ["203.0.113.0/24", "2001:db8::/32", "198.51.100.9"],
    "authUsername": ["fuzz"],
    "authPassword": ["s3cret-passw0rd"],
    "areaCode": ["415", "212", "000"],
    "name": ["Front desk"],
    "label": ["Main line"],
}
MAX_KNOWN = 40
MIXED, HOSTILE, REALISTIC_VALUES, INLINE, VARIABLES = "mixed", "hostile", "realistic", "inline", "variables"
ID_KINDS = {"agentId": "agent_", "trunkId": "trunk_"}
ID_PATTERN = re.compile(r"(?:ws|phone|agent|trunk)_[0-9A-Z]{26}")


def text(value: str) -> graphql.StringValueNode:
    return graphql.StringValueNode(value=value)


def has_surrogate(value: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in value)


HOSTILE_CHARACTERS = st.one_of(
    st.characters(categories=["Cs"]),  # a surrogate: always unpaired once decoded
    st.characters(categories=["Cc"]),  # a control character, NUL among them
    st.sampled_from("".join(FOREIGN_DIGITS) + "\u202e\ufeff\u200b\u0301\U0001f4de"),
)
# One value, in an operation otherwise left as generated (or made realistic), to get past validation to
# whatever stores, compares, logs or forwards it: a bad character amid good text, or a hostile string.
POISON = st.one_of(
    st.builds(
        lambda good, bad, at: good[:at] + bad + good[at:],
        st.sampled_from(["Front desk", "+14155550101", DEMO_ACCOUNT_SID, "sip.example-carrier.com", "415"]),
        HOSTILE_CHARACTERS,
        st.integers(0, 12),
    ),
    st.sampled_from(HOSTILE_STRINGS),
)
STRINGS = st.one_of(
    st.sampled_from(HOSTILE_STRINGS).map(text),
    st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=20).map(text),
    # Ordinary text with a hostile character or two in it, so stripping or a prefix check cannot hide them.
    st.lists(st.one_of(st.characters(codec="ascii", categories=["L", "N", "P", "Zs"]), HOSTILE_CHARACTERS), max_size=20)
    .map("".join)
    .map(text),
    # Any code point, surrogates included (hypothesis-graphql's own alphabet leaves them out).
    st.text(st.characters(exclude_categories=()), max_size=30).map(text),
)
INTS = st.one_of(st.sampled_from(BIG_INTS), st.integers(-(2**31), 2**31 - 1), st.integers()).map(nodes.Int)
WELL_SHAPED_IDS = st.builds(
    "{}_{}".format, st.sampled_from(["phone", "agent", "trunk", "ws"]), st.text(CROCKFORD, min_size=26, max_size=26)
)
IDS = st.one_of(STRINGS, WELL_SHAPED_IDS.map(text), st.sampled_from(BIG_INTS).map(nodes.Int))
# Any custom scalar an input may use (DateTime, or one added later) gets strings; the built-ins their own.
SCALARS = {
    **{name: STRINGS for name, type_ in SCHEMA.type_map.items() if graphql.is_scalar_type(type_)},
    "String": STRINGS,
    "ID": IDS,
    "Int": INTS,
}


def _as_document(document: graphql.DocumentNode) -> graphql.DocumentNode:
    return document


def _one_root_field(kind, root: graphql.GraphQLObjectType) -> st.SearchStrategy[graphql.DocumentNode]:
    """Operations on one root field, each field as likely as the next: short, and shrink to the point."""
    by_field = {
        name: kind(SCHEMA, fields=[name], custom_scalars=SCALARS, print_ast=_as_document) for name in root.fields
    }
    return st.sampled_from(sorted(by_field)).flatmap(by_field.__getitem__)


ONE_MUTATION = _one_root_field(mutations, SCHEMA.mutation_type)
OPERATIONS = st.one_of(
    # (whether the document is valid, so that its arguments can be rewritten; the document)
    st.tuples(st.just(True), ONE_MUTATION),
    st.tuples(st.just(True), ONE_MUTATION),
    st.tuples(st.just(True), ONE_MUTATION),
    st.tuples(st.just(True), _one_root_field(queries, SCHEMA.query_type)),
    st.tuples(st.just(True), queries(SCHEMA, custom_scalars=SCALARS, print_ast=_as_document)),
    st.tuples(st.just(True), mutations(SCHEMA, custom_scalars=SCALARS, print_ast=_as_document)),
    # One schema violation each: refused as GRAPHQL_VALIDATION_FAILED, never a crash.
    st.tuples(st.just(False), from_schema(SCHEMA, mode=Mode.NEGATIVE, print_ast=_as_document)),
)


# --- operations -----------------------------------------------------------------------------------


@dataclass
class Known:
    """Ids and cursors the server has answered with; operations may ask about them again."""

    ids: list[str] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)

    def harvest(self, value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                self.harvest(item, name)
        elif isinstance(value, list):
            for item in value:
                self.harvest(item, key)
        elif isinstance(value, str):
            if key in ("cursor", "endCursor") and value not in self.cursors and len(self.cursors) < MAX_KNOWN:
                self.cursors.append(value)
            elif ID_PATTERN.fullmatch(value) and value not in self.ids and len(self.ids) < MAX_KNOWN:
                self.ids.append(value)


class Walker:
    """Rebuilds an operation, passing each argument and each String or ID value in it through hooks."""

    def document(self, document: graphql.DocumentNode) -> graphql.DocumentNode:
        definitions = []
        for operation in document.definitions:
            selection_set = self.selections(operation.selection_set, SCHEMA.get_root_type(operation.operation))
            definitions.append(dataclasses.replace(operation, selection_set=selection_set))
        return dataclasses.replace(document, definitions=tuple(definitions))

    def selections(self, selection_set, parent):
        if selection_set is None:
            return None
        rewritten = []
        for selection in selection_set.selections:
            if isinstance(selection, graphql.FieldNode) and not selection.name.value.startswith("__"):
                definition = parent.fields[selection.name.value]
                arguments = tuple(
                    self.argument(argument, definition.args[argument.name.value].type)
                    for argument in selection.arguments or ()
                )
                children = self.selections(selection.selection_set, graphql.get_named_type(definition.type))
                selection = dataclasses.replace(selection, arguments=arguments, selection_set=children)
            elif isinstance(selection, graphql.InlineFragmentNode):
                target = SCHEMA.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                selection = dataclasses.replace(selection, selection_set=self.selections(selection.selection_set, target))
            rewritten.append(selection)
        return dataclasses.replace(selection_set, selections=tuple(rewritten))

    def argument(self, argument: graphql.ArgumentNode, type_) -> graphql.ArgumentNode:
        return dataclasses.replace(argument, value=self.value(argument.value, type_, argument.name.value))

    def value(self, node: graphql.ValueNode, type_, name: str) -> graphql.ValueNode:
        type_ = graphql.get_nullable_type(type_)
        if isinstance(node, graphql.ObjectValueNode) and graphql.is_input_object_type(type_):
            fields = tuple(
                dataclasses.replace(
                    item, value=self.value(item.value, type_.fields[item.name.value].type, item.name.value)
                )
                for item in node.fields
            )
            return dataclasses.replace(node, fields=fields)
        if isinstance(node, graphql.ListValueNode) and graphql.is_list_type(type_):
            return dataclasses.replace(node, values=tuple(self.value(item, type_.of_type, name) for item in node.values))
        if graphql.is_scalar_type(type_) and type_.name in ("String", "ID") and not isinstance(node, graphql.NullValueNode):
            return self.text_value(node, type_, name)
        return node

    def text_value(self, node: graphql.ValueNode, type_: graphql.GraphQLScalarType, name: str) -> graphql.ValueNode:
        return node  # a hook


class TextValues(Walker):
    """Counts the String and ID values of an operation."""

    def __init__(self) -> None:
        self.count = 0

    def text_value(self, node, type_, name):
        self.count += 1
        return node


@dataclass
class Rewriter(Walker):
    """Makes some values realistic, poisons one, and turns some literals into variables, drawing each choice.

    Every draw depends only on the document and on earlier draws, never on what the server answered
    (hypothesis replays draws to shrink, so they must not): a known id or cursor is taken by an index,
    modulo how many are known when the example runs."""

    draw: Callable[..., Any]
    known: Known
    values: str  # HOSTILE: none made realistic; REALISTIC_VALUES: every one that can be; MIXED: drawn for each
    arguments: str  # INLINE: literals only; VARIABLES: every argument a variable; MIXED: drawn for each
    poisoned: int | None  # the index of the String or ID value that gets a hostile value, if any
    variables: dict[str, Any] = field(default_factory=dict)
    definitions: list[graphql.VariableDefinitionNode] = field(default_factory=list)
    seen: int = 0
    needs_a_variable: bool = False  # the argument holds a poisoned value that only JSON can carry

    def document(self, document: graphql.DocumentNode) -> graphql.DocumentNode:
        document = super().document(document)
        operation = dataclasses.replace(document.definitions[0], variable_definitions=tuple(self.definitions))
        return dataclasses.replace(document, definitions=(operation, *document.definitions[1:]))

    def argument(self, argument: graphql.ArgumentNode, type_) -> graphql.ArgumentNode:
        self.needs_a_variable = False
        argument = super().argument(argument, type_)
        if not (
            self.needs_a_variable
            or self.arguments == VARIABLES
            or (self.arguments == MIXED and self.draw(st.booleans(), label=f"{argument.name.value} as a variable"))
        ):
            return argument
        name = f"v{len(self.variables)}"
        self.variables[name] = graphql.value_from_ast_untyped(argument.value)
        variable = graphql.VariableNode(name=graphql.NameNode(value=name))
        self.definitions.append(
            graphql.VariableDefinitionNode(variable=variable, type=graphql.parse_type(str(type_)), directives=())
        )
        return dataclasses.replace(argument, value=variable)

    def text_value(self, node, type_, name):
        index, self.seen = self.seen, self.seen + 1
        if index == self.poisoned:
            poison = self.draw(POISON, label=f"poison for {name}")
            self.needs_a_variable = has_surrogate(poison)
            return text(poison)
        if type_.name == "ID":
            kind = ID_KINDS.get(name, "")
            choices = [i for i in self.known.ids if i.startswith(kind)] or self.known.ids
        elif name == "after":
            choices = self.known.cursors
        elif name in REALISTIC:
            choices = REALISTIC[name]
        else:
            return node
        if self.values == HOSTILE or (
            self.values == MIXED and not self.draw(st.booleans(), label=f"a realistic {name}")
        ):
            return node
        index = self.draw(st.integers(0, MAX_KNOWN - 1), label=f"which {name}")
        return text(choices[index % len(choices)]) if choices else node


@dataclass
class Operation:
    query: str
    variables: dict[str, Any]
    is_mutation: bool
    extras: dict[str, Any]  # operationName and extensions, of any JSON type, when drawn

    def body(self) -> str:
        # ensure_ascii: every non-ASCII character escaped, as JSON clients may send it; the only way a lone
        # surrogate travels, since it has no UTF-8 encoding.
        return json.dumps({"query": self.query, "variables": self.variables, **self.extras}, ensure_ascii=True)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.sampled_from(BIG_INTS)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "\ud800", "\x00", "IntrospectionQuery", "x" * 300])
    | st.text(st.characters(exclude_categories=()), max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=4,
)
# Often absent; else mostly of the right type, an operationName a string like any other input (hostile ones
# included) and extensions an object, and sometimes anything JSON can hold.
EXTRAS = st.fixed_dictionaries(
    {},
    optional={
        "operationName": st.one_of(STRINGS.map(lambda node: node.value), JSON_VALUES),
        "extensions": st.one_of(st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=2), JSON_VALUES),
    },
)


def draw_operation(data: st.DataObject, known: Known) -> Operation:
    positive, document = data.draw(OPERATIONS, label="document")
    variables: dict[str, Any] = {}
    if positive:
        counter = TextValues()
        counter.document(document)
        poisoned = None
        if counter.count and data.draw(st.sampled_from([True, True, False]), label="poison a value"):
            poisoned = data.draw(st.integers(0, counter.count - 1), label="which value")
        rewriter = Rewriter(
            data.draw,
            known,
            values=data.draw(st.sampled_from([MIXED, HOSTILE, REALISTIC_VALUES]), label="values"),
            arguments=data.draw(st.sampled_from([MIXED, INLINE, VARIABLES]), label="arguments"),
            poisoned=poisoned,
        )
        document = rewriter.document(document)
        variables = rewriter.variables
    is_mutation = any(getattr(d, "operation", None) == graphql.OperationType.MUTATION for d in document.definitions)
    extras = data.draw(EXTRAS, label="operationName and extensions")
    operation = Operation(graphql.print_ast(document), variables, is_mutation, extras)
    note(f"query:\n{operation.query.encode('utf-8', 'backslashreplace').decode()}")
    note(f"variables: {json.dumps(operation.variables, ensure_ascii=True)[:2000]}")
    if extras:
        note(f"and: {json.dumps(extras, ensure_ascii=True)[:2000]}")
    return operation


def check_answer(status: int, content: bytes, known: Known) -> None:
    """No 5xx, no masked crash; learn the ids and cursors the answer names."""
    shown = content[:4000].decode("utf-8", "backslashreplace")
    assert status < 500, f"HTTP {status}: {shown}"
    try:
        answer = json.loads(content)
    except ValueError:
        return  # a plain-text refusal (uvicorn's 400) is not a crash
    if not isinstance(answer, dict):
        return
    for error in answer.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code != INTERNAL_SERVER_ERROR and error.get("message") != UNEXPECTED, f"HTTP {status}: {shown}"
    known.harvest(answer.get("data"))


def with_log(check: Callable[..., None], *args: Any, log: str) -> None:
    """The check, its failure telling what the server logged too (a masked crash's traceback)."""
    try:
        check(*args)
    except AssertionError as failure:
        raise AssertionError(f"{failure}\nlogged:\n{log}" if log else str(failure)) from None


# Made through the API itself, so the fuzz finds objects to read, bind, rebind and delete.
SEED = [
    ('mutation { createAgent(input: {name: "Seed agent"}) { ... on CreateAgentSuccess { agent { id } } } }', {}),
    (
        "mutation { createSipTrunk(input: {name: \"Seed trunk\", direction: INBOUND}) "
        "{ ... on CreateSipTrunkSuccess { sipTrunk { id } } } }",
        {},
    ),
]
SEED_NUMBER = (
    "mutation ($trunkId: ID!) { importPhoneNumber(input: {e164: \"+12025550147\", source: BYOC, trunkId: $trunkId}) "
    "{ __typename ... on ImportPhoneNumberSuccess { phoneNumber { id } } } }"
)
SEED_PAGE = "{ phoneNumbers(first: 1) { edges { cursor } pageInfo { endCursor } } }"


def seed_operations(known: Known):
    """A generator of (query, variables) to send; each answer is sent back in to be harvested."""
    for query, variables in SEED:
        answer = yield query, variables
        known.harvest(answer["data"])
    trunk = next(i for i in known.ids if i.startswith("trunk_"))
    answer = yield SEED_NUMBER, {"trunkId": trunk}
    assert answer["data"]["importPhoneNumber"]["__typename"] == "ImportPhoneNumberSuccess", answer
    known.harvest(answer["data"])
    answer = yield SEED_PAGE, {}
    known.harvest(answer["data"])
    assert len(known.ids) == 3 and known.cursors, known


# --- in process -----------------------------------------------------------------------------------


@pytest.fixture(name="settings")
def fuzz_settings(settings):
    """No answer from the rate limit: the fuzz sends more than 600 requests a minute with one key."""
    limits = {"rate_limit": "1000000/minute", "auth_failure_limit": "1000000/minute"}
    return dataclasses.replace(settings, **{k: v for k, v in limits.items() if hasattr(settings, k)})


class Escapes:
    """The app, wrapped: an exception that escapes it (uvicorn would log "Exception in ASGI application" and
    a traceback) is kept for the report; httpx.ASGITransport then answers 500."""

    def __init__(self, app) -> None:
        self.app = app
        self.tracebacks: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception:
            self.tracebacks.append(traceback.format_exc())
            raise


@dataclass
class InProcess:
    http: httpx.AsyncClient = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    known: Known = field(repr=False)
    escapes: Escapes = field(repr=False)

    def _repr_pretty_(self, printer, cycle) -> None:  # how Hypothesis shows it in a failing test case
        printer.text("InProcess(...)")

    async def post(self, body: str) -> httpx.Response:
        return await self.http.post("/graphql", content=body, headers=self.headers)


def announce(examples: int) -> None:
    print(f"fuzz: {examples} examples, derandomize=True (seed derived from the test), deadline=None, no database")


@pytest.fixture
async def in_process(app):
    """The app as one workspace sees it, with a few objects made; a crash answers 500 instead of raising."""
    announce(IN_PROCESS_EXAMPLES)
    workspace = await create_workspace("Fuzz", 100)
    key = await issue_api_key(workspace)
    escapes = Escapes(app)
    transport = httpx.ASGITransport(app=escapes, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://trunkline.test") as http:
        headers = {"Authorization": f"Bearer {key.secret}", "Content-Type": "application/json"}
        target = InProcess(http, headers, Known(), escapes)
        steps = seed_operations(target.known)
        request = next(steps)
        try:
            while True:
                response = await target.post(json.dumps({"query": request[0], "variables": request[1]}))
                assert response.status_code == 200 and "errors" not in response.json(), response.text
                request = steps.send(response.json())
        except StopIteration:
            pass
        yield target


def errors_logged(caplog) -> str:
    """Every record at ERROR or above, with its traceback."""
    lines = []
    for record in caplog.records:
        if record.levelno >= logging.ERROR:
            lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")
            if record.exc_info:
                lines.append(caplog.handler.formatter.formatException(record.exc_info))
    return "\n".join(lines)


# The app and its seeded workspace are made once per test and shared by every example on purpose: the
# state the fuzz builds up (agents, trunks, numbers it made) is part of what it explores.
@hypothesis_settings(
    max_examples=IN_PROCESS_EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    **FUZZ,
)
@given(data=st.data())
async def test_no_operation_crashes_the_app(in_process, caplog, data):
    caplog.set_level(logging.ERROR)
    caplog.clear()
    in_process.escapes.tracebacks.clear()
    operation = draw_operation(data, in_process.known)

    response = await in_process.post(operation.body())

    logged = "\n".join([errors_logged(caplog), *in_process.escapes.tracebacks]).strip()
    with_log(check_answer, response.status_code, response.content, in_process.known, log=logged)
    assert not logged, logged


# --- a real `trunkline serve` ---------------------------------------------------------------------

LOGGED_CRASH = re.compile(r"Traceback|Exception in ASGI application| ERROR ")


def without_access_lines(log: str) -> str:
    """The log without uvicorn's access lines and the carrier clients' INFO chatter."""
    kept = [line for line in log.splitlines() if not line.startswith("INFO:") and " INFO " not in line]
    return "\n".join(kept)[-20_000:]


@dataclass
class Served:
    url: str
    api_key: str = field(repr=False)
    log: Callable[[], str] = field(repr=False)
    known: Known = field(repr=False)
    seen: int = field(default=0, repr=False)

    def _repr_pretty_(self, printer, cycle) -> None:  # how Hypothesis shows it in a failing test case
        printer.text(f"Served({self.url!r})")

    def new_log(self) -> str:
        log = self.log()
        new, self.seen = log[self.seen :], len(log)
        return new

    def log_for(self, status: int) -> str:
        """What was logged for the request just answered. A crash inside GraphQL execution is logged before
        the answer goes out; one that escapes to uvicorn, after its 500: for a 5xx, wait for it a little."""
        logged = self.new_log()
        deadline = time.monotonic() + 2
        while status >= 500 and not LOGGED_CRASH.search(logged) and time.monotonic() < deadline:
            time.sleep(0.05)
            logged += self.new_log()
        return logged


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`trunkline serve` on SQLite with the sandbox carriers in it, and one seeded workspace."""
    announce(SERVED_EXAMPLES)
    limits = {"TRUNKLINE_RATE_LIMIT": "1000000/minute", "TRUNKLINE_AUTH_FAILURE_LIMIT": "1000000/minute"}
    with serving(tmp_path_factory.mktemp("fuzz"), **limits) as server:
        created = run_trunkline("workspace", "create", "--name", "Fuzz", "--json", database_url=server.database_url)
        assert created.returncode == 0, created.stderr
        target = Served(server.url, json.loads(created.stdout)["api_key"], server.process.log, Known())
        steps = seed_operations(target.known)
        request = next(steps)
        with sync_http_client(base_url=server.url, timeout=30) as http:
            try:
                while True:
                    response = http.post(
                        "/graphql",
                        json={"query": request[0], "variables": request[1]},
                        headers={"Authorization": f"Bearer {target.api_key}"},
                    )
                    assert response.status_code == 200 and "errors" not in response.json(), response.text
                    request = steps.send(response.json())
            except StopIteration:
                pass
        before_examples = target.new_log()  # start-up and seeding; each example then reads its own lines
        yield target
    # What no example answers for, start-up, seeding and shutdown: a crash there fails at teardown.
    unattributed = before_examples + target.new_log()
    assert not LOGGED_CRASH.search(unattributed), without_access_lines(unattributed)


AUTHORIZATIONS = st.sampled_from(
    ["valid"] * 6
    + [None, "Bearer sk_not-a-key", "Basic Zm9vOmJhcg==", "Bearer", b"Bearer sk_\xff\xfe", "Bearer " + "x" * 8000]
)
CONTENT_TYPES = st.sampled_from(
    ["application/json"] * 6
    + ["application/json; charset=utf-8", "application/graphql-response+json", "text/plain", ""]
)
IDEMPOTENCY_KEYS = st.one_of(
    st.none(),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=255),
    st.sampled_from([b"", b"x" * 256, "cl\xe9".encode("latin-1"), b"a b"]),
)


@hypothesis_settings(max_examples=SERVED_EXAMPLES, suppress_health_check=[HealthCheck.too_slow], **FUZZ)
@given(data=st.data())
def test_no_operation_crashes_trunkline_serve(served, data):
    operation = draw_operation(data, served.known)
    headers: dict[str, Any] = {}
    authorization = data.draw(AUTHORIZATIONS, label="authorization")
    if authorization is not None:
        headers["Authorization"] = f"Bearer {served.api_key}" if authorization == "valid" else authorization
    if operation.is_mutation:
        key = data.draw(IDEMPOTENCY_KEYS, label="idempotency key")
        if key is not None:
            headers["Idempotency-Key"] = key
    query_text = operation.query
    over_get = (
        not operation.is_mutation
        and len(operation.body()) < 4000
        # A lone surrogate has no UTF-8, so no percent-encoding: it travels only in a JSON body.
        and not has_surrogate(query_text + json.dumps([operation.variables, operation.extras], ensure_ascii=False))
        and data.draw(st.booleans(), label="over GET")
    )

    with sync_http_client(base_url=served.url, timeout=30) as http:
        if over_get:
            params = {"query": query_text}
            if operation.variables:
                params["variables"] = json.dumps(operation.variables)
            for name, value in operation.extras.items():
                params[name] = value if isinstance(value, str) else json.dumps(value)
            response = http.get("/graphql", params=params, headers=headers)
        else:
            headers["Content-Type"] = data.draw(CONTENT_TYPES, label="content type")
            response = http.post("/graphql", content=operation.body(), headers=headers)

    logged = served.log_for(response.status_code)  # before any assertion: the next example reads its own
    with_log(check_answer, response.status_code, response.content, served.known, log=without_access_lines(logged))
    assert not LOGGED_CRASH.search(logged), without_access_lines(logged)
