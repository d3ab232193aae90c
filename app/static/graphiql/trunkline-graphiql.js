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

  const fetcher = GraphiQL.createFetcher({
    url: window.location.origin + window.location.pathname,
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
