// The operations src/client.ts sends; graphql-codegen types each one from ../../schema/schema.graphql.
import { graphql } from "./gql/index.js";

export const CreateAgent = graphql(`
  mutation CreateAgent($input: CreateAgentInput!) {
    createAgent(input: $input) {
      __typename
      ... on CreateAgentSuccess { agent { id name } }
      ... on ValidationError { code message fieldErrors { field code message } }
    }
  }
`);

export const ImportPhoneNumber = graphql(`
  mutation ImportPhoneNumber($input: ImportPhoneNumberInput!) {
    importPhoneNumber(input: $input) {
      __typename
      ... on ImportPhoneNumberSuccess { phoneNumber { id e164 source status agentId } }
      ... on ValidationError { code message fieldErrors { field code message } }
      ... on PaymentRequiredError { code message limit current }
      ... on ProviderError { code message provider retryable }
    }
  }
`);

export const PhoneNumbers = graphql(`
  query PhoneNumbers($first: Int!, $after: String) {
    phoneNumbers(first: $first, after: $after) {
      totalCount
      edges { node { id e164 source status agentId } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
