"""How much building the query limits once (and caching parse and validation) saves per request.

Runs one read query through two schemas in one process, alternating rounds so machine noise hits
both alike: Trunkline's schema (limit rules built at import, small documents parsed and validated
once) and the same schema with the limiters made per request (QueryDepthLimiter and MaxAliasesLimiter
as extensions), which defeats the validation cache. Prints operations per second and their ratio.

    .venv/bin/python bench/graphql_validation.py [--seconds 3]
"""

import argparse
import asyncio
import time
from functools import partial

import strawberry
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from models import Workspace
from schema.context import Context
from schema.queries import Query
from schema.schema import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_TOKENS,
    Mutation,
    build_schema,
    is_unexpected,
)

QUERY = """
query Dashboard {
  workspace { id name phoneNumberLimit }
  a: workspace { id }
  b: workspace { name }
  c: workspace { phoneNumberLimit }
}"""


def per_request_limits_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
            partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
            partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
            ParserCache,
            ValidationCache,
            partial(MaskErrors, should_mask_error=is_unexpected),
        ],
    )


async def rate(schema: strawberry.Schema, context: Context, seconds: float) -> float:
    done, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        result = await schema.execute(QUERY, context_value=context)
        assert result.errors is None, result.errors
        done += 1
    return done / seconds


async def main(seconds: float, rounds: int) -> None:
    context = Context(request=None, response=None, workspace=Workspace(name="Bench", phone_number_limit=100), services=None)
    ours, theirs = build_schema(), per_request_limits_schema()
    totals = {"ours": 0.0, "per_request": 0.0}
    for _ in range(rounds):
        totals["ours"] += await rate(ours, context, seconds / rounds)
        totals["per_request"] += await rate(theirs, context, seconds / rounds)
    ours_rate, theirs_rate = totals["ours"] / rounds, totals["per_request"] / rounds
    print(f"limits built once, cached validation: {ours_rate:9.0f} ops/s")
    print(f"limits built per request:             {theirs_rate:9.0f} ops/s")
    print(f"ratio: {ours_rate / theirs_rate:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.rounds))
