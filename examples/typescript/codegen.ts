// Types for src/operations.ts from the server's exported SDL; `npx graphql-codegen` writes src/gql/.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema/schema.graphql",
  documents: ["src/operations.ts"],
  ignoreNoDocuments: false,
  // Relative imports with .js, as Node ESM (tsconfig "NodeNext") needs.
  emitLegacyCommonJSImports: false,
  generates: {
    "src/gql/": {
      preset: "client",
      config: {
        // TypedDocumentString: the query text with its result and variable types, for plain fetch.
        documentMode: "string",
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", ID: "string" },
      },
    },
  },
};

export default config;
