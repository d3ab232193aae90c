"""GraphiQL's files come from this server: the ones the page names, with their content types and
long-lived caching, matching what scripts/vendor_graphiql.py recorded, and nothing else."""

import hashlib
import json
import re

from app.graphiql_page import ASSETS_DIRECTORY

VERSIONS = json.loads((ASSETS_DIRECTORY / "VERSIONS.json").read_text())


async def test_every_file_the_page_loads_is_served_with_its_type_and_cached_for_good(client):
    page = (await client.get("/graphql", headers={"Accept": "text/html"})).text
    urls = re.findall(r'<(?:script|link)[^>]*\s(?:src|href)="(/graphiql/assets/[^"]+)"', page)
    names = {re.match(r"/graphiql/assets/([^?]+)\?v=[0-9a-f]{16}$", url).group(1) for url in urls}
    vendored = {name for package in VERSIONS["packages"] for name in package["files"]}
    assert vendored <= names  # React, ReactDOM, GraphiQL, its CSS, the explorer plugin and its CSS

    for url in urls:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        kind = "text/javascript" if ".js?" in url else "text/css"
        assert response.headers["content-type"] == f"{kind}; charset=utf-8", url
        assert response.headers["x-content-type-options"] == "nosniff"
        # The ?v= is the start of the file's hash, so a changed file is a new URL.
        assert hashlib.sha256(response.content).hexdigest().startswith(url.rpartition("?v=")[2])


def test_vendored_files_are_the_ones_recorded_with_their_versions_and_licences():
    recorded = {package["name"]: package for package in VERSIONS["packages"]}
    served = {name for package in recorded.values() for name in package["files"]}
    assert {recorded[name]["files"].keys() <= served for name in ["react", "react-dom", "graphiql"]} == {True}
    assert all(recorded[name]["files"] for name in ["react", "react-dom", "graphiql", "@graphiql/plugin-explorer"])
    licences = (ASSETS_DIRECTORY / "LICENSES.txt").read_text()
    for package in VERSIONS["packages"]:
        assert f"{package['name']}@{package['version']} ({package['license']})" in licences
        for name, file in package["files"].items():
            assert hashlib.sha256((ASSETS_DIRECTORY / name).read_bytes()).hexdigest() == file["sha256"], name


async def test_nothing_but_the_pages_files_is_reachable(client):
    for path in [
        "/graphiql/assets/VERSIONS.json",
        "/graphiql/assets/LICENSES.txt",
        "/graphiql/assets/nope.js",
        "/graphiql/assets/..%2F..%2Fgraphiql_page.py",
        "/graphiql/assets/",
    ]:
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
