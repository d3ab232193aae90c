"""Assembles the Schema: root types, and the rules and execution path that keep GraphQL cheap and safe."""

from functools import cache

import strawberry
from graphql import GraphQLError, specified_rules
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions.max_aliases import create_validator as max_aliases_validator
from strawberry.extensions.query_depth_limiter import IgnoreContext
from strawberry.extensions.query_depth_limiter import (
    create_validator as depth_validator,
)
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES

from schema.documents import MAX_TOKENS as MAX_TOKENS  # the query limits are read from here
from schema.error_codes import is_unexpected
from schema.execution import execute_operation
from schema.executor import TrunklineExecutor
from schema.errors import NotFoundError, PaymentRequiredError, ProviderError
from schema.events import Subscription
from schema.mutations.check_phone_number import check_phone_number
from schema.mutations.create_agent import create_agent
from schema.mutations.delete_agent import delete_agent
from schema.mutations.create_sip_trunk import create_sip_trunk
from schema.mutations.create_webhook_endpoint import create_webhook_endpoint
from schema.mutations.delete_phone_number import delete_phone_number
from schema.mutations.delete_sip_trunk import delete_sip_trunk
from schema.mutations.delete_webhook_endpoint import delete_webhook_endpoint
from schema.mutations.update_agent import update_agent
from schema.mutations.import_phone_number import import_phone_number
from schema.mutations.purchase_phone_number import purchase_phone_number
from schema.mutations.rotate_twilio_credentials import rotate_twilio_credentials
from schema.mutations.update_phone_number import update_phone_number
from schema.mutations.update_sip_trunk import update_sip_trunk
from schema.queries import Query
from schema.types import Agent, PhoneNumber, SipTrunk, WebhookEndpoint

MAX_DEPTH = 10
MAX_ALIASES = 30


def is_introspection_field(context: IgnoreContext) -> bool:
    """GraphiQL's own introspection query nests deeper than any real query; the token limit bounds it."""
    return context.field_name.startswith("__")


# Built once: rules made per request would defeat the validation cache.
LIMIT_RULES = (depth_validator(MAX_DEPTH, should_ignore=is_introspection_field), max_aliases_validator(MAX_ALIASES))


class RememberedNames(NameConverter):
    """Strawberry's names (snake_case fields as camelCase), each worked out once: it converts every input
    field's name again on every request that carries it, and the name depends on nothing but itself."""

    @cache  # noqa: B019 - one converter per schema, alive as long as it
    def apply_naming_config(self, name: str) -> str:
        return super().apply_naming_config(name)


class TrunklineSchema(strawberry.Schema):
    """Executes through schema.execution (the limits, the document caches, error codes and masking) instead
    of Strawberry's extension hooks, which cost a small query more than running it."""

    def __init__(self, *args, limit_rules: tuple = (), hide_suggestions: bool = False, **kwargs) -> None:
        super().__init__(*args, execution_context_class=TrunklineExecutor, **kwargs)
        self.hide_suggestions = hide_suggestions
        self.validation_rules = (*specified_rules, *limit_rules)
        self.execute_function = self._get_execute_function()
        self.executor_kwargs = execution_context_class_kwargs(self.execution_context_class)

    async def execute(
        self, query, variable_values=None, context_value=None, root_value=None, operation_name=None,
        allowed_operation_types=None, operation_extensions=None,
    ):  # fmt: skip
        return await execute_operation(
            self, query, variable_values=variable_values, context_value=context_value, root_value=root_value,
            operation_name=operation_name, operation_extensions=operation_extensions,
            allowed_operation_types=allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES,
        )  # fmt: skip

    def _get_custom_context_kwargs(self, operation_extensions=None, *, sync: bool = False) -> dict:
        """Strawberry's own hook for what goes to graphql-core's execute: there, variables that do not
        fit their types are reported, with suggestions unless hidden."""
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        return {**kwargs, "hide_suggestions": self.hide_suggestions}

    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        """Log crashes with their traceback; a client's own mistakes are not server errors."""
        super().process_errors([e for e in errors if is_unexpected(e)], execution_context)


@strawberry.type(description="Changes. Every mutation acts in the API key's workspace.")
class Mutation:
    import_phone_number = strawberry.mutation(
        resolver=import_phone_number,
        description="Import a number: LIVEKIT buys a US number, TWILIO bridges the customer's own Twilio number "
        "through an Elastic SIP Trunk, BYOC registers it on the customer's SIP trunk.",
    )
    purchase_phone_number = strawberry.mutation(
        resolver=purchase_phone_number,
        description="Buy a US number on the platform's Twilio account and wire it like an imported Twilio number.",
    )
    rotate_twilio_credentials = strawberry.mutation(
        resolver=rotate_twilio_credentials,
        description="Replace the stored credentials of a Twilio account the workspace's numbers use, once Twilio "
        "accepts the new ones; every later operation on those numbers uses them.",
    )
    update_phone_number = strawberry.mutation(
        resolver=update_phone_number, description="Relabel a number, or bind or unbind the agent that answers it."
    )
    delete_phone_number = strawberry.mutation(
        resolver=delete_phone_number,
        description="Release a number at its carriers (a shared trunk goes with its last number) and free its slot.",
    )
    check_phone_number = strawberry.mutation(
        resolver=check_phone_number,
        description="Compare a number with what its carriers hold; with repair, put back what can be put back.",
    )
    create_agent = strawberry.mutation(resolver=create_agent, description="Create an agent.")
    update_agent = strawberry.mutation(resolver=update_agent, description="Rename an agent.")
    delete_agent = strawberry.mutation(
        resolver=delete_agent, description="Remove an agent; refused while numbers are bound to it (unbind them first)."
    )
    create_sip_trunk = strawberry.mutation(
        resolver=create_sip_trunk,
        description="Register the customer's own SIP trunk for BYOC numbers (20 per workspace).",
    )
    delete_sip_trunk = strawberry.mutation(
        resolver=delete_sip_trunk, description="Remove a BYOC trunk and its LiveKit side; refused while numbers ride it."
    )
    update_sip_trunk = strawberry.mutation(
        resolver=update_sip_trunk,
        description="Change a BYOC trunk's settings, at LiveKit too while numbers ride it; all or nothing.",
    )
    create_webhook_endpoint = strawberry.mutation(
        resolver=create_webhook_endpoint,
        description="Have the workspace's lifecycle events POSTed to a url, signed with a secret shown only in the answer.",
    )
    delete_webhook_endpoint = strawberry.mutation(
        resolver=delete_webhook_endpoint, description="Stop sending events to a webhook endpoint."
    )


@cache  # a schema is immutable: every app built in one process (tests, benchmarks) shares the one for its options
def build_schema(*, introspection: bool = True, suggestions: bool = True) -> strawberry.Schema:
    """`suggestions=False` drops the "Did you mean …?" hints from every error: they tell a stranger the
    schema that introspection being off keeps from them."""
    rules = [*LIMIT_RULES] if introspection else [*LIMIT_RULES, NoSchemaIntrospectionCustomRule]
    return TrunklineSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[PhoneNumber, Agent, SipTrunk, WebhookEndpoint, PaymentRequiredError, ProviderError, NotFoundError],
        config=StrawberryConfig(
            auto_camel_case=True, name_converter=RememberedNames(), disable_field_suggestions=not suggestions
        ),
        hide_suggestions=not suggestions,
        limit_rules=tuple(rules),
    )


schema = build_schema()
