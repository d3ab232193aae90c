// Runs graphql-http's GraphQL-over-HTTP server audits against a live Trunkline and prints the results as
// JSON: [{id, name, status, reason?}], one per audit. Every request carries the API key, so the audits
// meet the server as a client with a workspace does.
//
//   node audit.mjs http://127.0.0.1:8000/graphql sk_…
import { serverAudits } from 'graphql-http';

const [url, apiKey] = process.argv.slice(2);
if (!url || !apiKey) {
  console.error('usage: node audit.mjs URL API_KEY');
  process.exit(2);
}

function fetchWithKey(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${apiKey}`);
  return fetch(input, { ...init, headers });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: fetchWithKey })) {
  const result = await audit.fn();
  results.push({
    id: result.id,
    name: result.name,
    status: result.status,
    ...(result.status === 'ok'
      ? {}
      : { reason: result.reason, httpStatus: result.response.status, body: await result.response.text().catch(() => '') }),
  });
}
console.log(JSON.stringify(results, null, 2));
