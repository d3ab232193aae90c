// Creates an agent, imports the sandbox's demo Twilio DID bound to it and lists the workspace's numbers,
// with plain fetch. Every union member is handled by __typename; a member added to the schema breaks
// `tsc` at the `never` checks until it is handled here.
//   TRUNKLINE_URL=http://127.0.0.1:8000 TRUNKLINE_API_KEY=sk_… node build/client.js
import { randomUUID } from "node:crypto";

import type { PhoneNumbersQuery, TypedDocumentString } from "./gql/graphql.js";
import { CreateAgent, ImportPhoneNumber, PhoneNumbers } from "./operations.js";

const url = new URL("/graphql", process.env.TRUNKLINE_URL ?? "http://127.0.0.1:8000");
const apiKey = process.env.TRUNKLINE_API_KEY;

// The sandbox's demo customer account (README, "The sandbox carriers").
const DEMO_DID = "+14155550101";
const DEMO_TWILIO = { accountSid: "AC5a4db0c0000000000000000000000001", authToken: "5a4db0c0000000000000000000000001" };

class GraphQLRequestError extends Error {}

/** One operation over HTTP POST; the result type and variables come from the document. */
async function execute<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  headers: Record<string, string> = {},
): Promise<TResult> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${apiKey}`, ...headers },
    body: JSON.stringify({ query: document.toString(), variables }),
  });
  const body = (await response.json()) as { data?: TResult | null; errors?: { message: string; extensions?: { code?: string } }[] };
  // 401, 413, 429 … carry {"errors": [{"message", "extensions": {"code"}}]}; so do GraphQL errors.
  if (!response.ok || body.errors?.length || body.data == null) {
    const error = body.errors?.[0];
    throw new GraphQLRequestError(`HTTP ${response.status} ${error?.extensions?.code ?? ""}: ${error?.message ?? "no data"}`);
  }
  return body.data;
}

function unhandled(member: never): never {
  throw new Error(`unhandled union member ${JSON.stringify(member)}`);
}

type FieldErrors = { field: string; code: string; message: string }[];
const describe = (errors: FieldErrors) => errors.map((e) => `${e.field} ${e.code}: ${e.message}`).join("; ");

async function createAgent(name: string): Promise<string | null> {
  const { createAgent: result } = await execute(CreateAgent, { input: { name } });
  switch (result.__typename) {
    case "CreateAgentSuccess":
      console.log(`created agent ${result.agent.id} (${result.agent.name})`);
      return result.agent.id;
    case "ValidationError":
      console.log(`agent refused: ${describe(result.fieldErrors)}`);
      return null;
    default:
      return unhandled(result);
  }
}

async function importNumber(agentId: string): Promise<boolean> {
  const { importPhoneNumber: result } = await execute(
    ImportPhoneNumber,
    { input: { e164: DEMO_DID, source: "TWILIO", agentId, twilio: DEMO_TWILIO } },
    // A retry of this request with the same key replays its first result instead of importing twice.
    { "Idempotency-Key": `import-${randomUUID()}` },
  );
  switch (result.__typename) {
    case "ImportPhoneNumberSuccess": {
      const n = result.phoneNumber;
      console.log(`imported ${n.e164} as ${n.id} (${n.source}, ${n.status}), answered by ${n.agentId}`);
      return true;
    }
    case "ValidationError":
      console.log(`import refused (${result.code}): ${describe(result.fieldErrors)}`);
      return false;
    case "PaymentRequiredError":
      console.log(`import refused: workspace holds ${result.current} of ${result.limit} numbers (${result.code})`);
      return false;
    case "ProviderError":
      console.log(`${result.provider} failed (${result.code}): ${result.message}; ${result.retryable ? "retry with a new Idempotency-Key" : "not retryable"}`);
      return false;
    default:
      return unhandled(result);
  }
}

async function listNumbers(): Promise<void> {
  let after: string | null = null;
  do {
    const { phoneNumbers: page }: PhoneNumbersQuery = await execute(PhoneNumbers, { first: 50, after });
    for (const { node } of page.edges) console.log(`listed ${node.e164} ${node.id} ${node.source} ${node.status}`);
    after = page.pageInfo.hasNextPage ? (page.pageInfo.endCursor ?? null) : null;
  } while (after !== null);
}

async function main(): Promise<number> {
  if (!apiKey) {
    console.error("set TRUNKLINE_API_KEY to a workspace's API key (sk_…)");
    return 2;
  }
  const agentId = await createAgent("Front desk");
  if (agentId === null) return 1;
  const imported = await importNumber(agentId);
  await listNumbers();
  return imported ? 0 : 1;
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
