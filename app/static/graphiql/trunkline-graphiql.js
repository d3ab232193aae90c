// Trunkline's GraphiQL page: GraphiQL with the explorer plugin, querying this page's own address.
// A file rather than an inline script, so that the page's Content-Security-Policy can be 'self' alone.
"use strict";

(function () {
  const DEFAULT_QUERY = `# Add your key in the Headers tab below:
#
#   {"Authorization": "Bearer sk_…"}
#
# then run with Ctrl-Enter or the play button.
# The Docs and Explorer panes need no key.
#
# To watch the workspace's numbers change, run
#   subscription { phoneNumberEvents { type phoneNumberId } }
# with the same key in the Headers tab.

{
  workspace {
    id
    name
  }
}
`;

  // ?query= and ?variables= share an operation by URL; headers never go into the URL, as they hold the key.
  const parameters = new URLSearchParams(window.location.search);

  function updateURL(name, value) {
    if (value) {
      parameters.set(name, value);
    } else {
      parameters.delete(name);
    }
    const search = parameters.toString();
    history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  // Subscriptions go over a WebSocket to the same path (graphql-transport-ws, with the graphql-ws client
  // GraphiQL bundles); the Headers tab's JSON becomes connection_init's payload, so the key goes with it.
  const endpoint = new URL(window.location.pathname, window.location.origin);
  const subscriptionEndpoint = new URL(endpoint);
  subscriptionEndpoint.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  const fetcher = GraphiQL.createFetcher({
    url: endpoint.href,
    subscriptionUrl: subscriptionEndpoint.href,
  });
  const explorer = GraphiQLPluginExplorer.explorerPlugin();

  function TrunklineGraphiQL() {
    const [query, setQuery] = React.useState(parameters.get("query") || DEFAULT_QUERY);
    const [variables, setVariables] = React.useState(parameters.get("variables") || undefined);
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      query: query,
      variables: variables,
      onEditQuery: function (value) {
        setQuery(value);
        updateURL("query", value);
      },
      onEditVariables: function (value) {
        setVariables(value);
        updateURL("variables", value);
      },
      defaultEditorToolsVisibility: true,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(TrunklineGraphiQL));
})();
