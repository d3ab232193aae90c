"""The GraphiQL page and the files it loads, all served by this server: it works offline, and its
Content-Security-Policy allows scripts and styles from 'self' only.

React, GraphiQL and the explorer plugin are vendored in app/static/graphiql/ by
scripts/vendor_graphiql.py (versions and licences beside them); the page's own script and style are
files there too, so the page has no inline code. GraphiQL's stylesheet embeds its fonts as data: URLs.
"""

from __future__ import annotations

import base64
import hashlib
import html
import pathlib
import re

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route

ASSETS_DIRECTORY = pathlib.Path(__file__).parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql/assets"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Asset URLs carry a hash of their content, so a changed file is a new URL and browsers may keep each for good.
IMMUTABLE = "public, max-age=31536000, immutable"

STYLESHEETS = ["graphiql.min.css", "plugin-explorer.css", "trunkline-graphiql.css"]
# In load order: the explorer plugin reads window.GraphiQL, which reads window.React and window.ReactDOM.
SCRIPTS = [
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "plugin-explorer.umd.js",
    "trunkline-graphiql.js",
]
FAVICON = (
    "data:image/svg+xml,<svg xmlns=%22http://www.w3.org/2000/svg%22 viewBox=%220 0 100 100%22>"
    "<text y=%22.9em%22 font-size=%2280%22>&#x1f4de;</text></svg>"
)


def _versioned_urls() -> dict[str, str]:
    urls = {}
    for name in [*STYLESHEETS, *SCRIPTS]:
        digest = hashlib.sha256((ASSETS_DIRECTORY / name).read_bytes()).hexdigest()[:16]
        urls[name] = f"{ASSETS_PATH}/{name}?v={digest}"
    return urls


def _page(urls: dict[str, str]) -> str:
    links = "".join(f'    <link rel="stylesheet" href="{html.escape(urls[name])}">\n' for name in STYLESHEETS)
    scripts = "".join(f'    <script src="{html.escape(urls[name])}"></script>\n' for name in SCRIPTS)
    return (
        "<!doctype html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"utf-8\">\n"
        "    <title>Trunkline GraphiQL</title>\n"
        f'    <link rel="icon" href="{FAVICON}">\n{links}  </head>\n  <body>\n'
        f'    <div id="graphiql">Loading...</div>\n{scripts}  </body>\n</html>\n'
    )


GRAPHIQL_PAGE = _page(_versioned_urls())

_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
_SCRIPT_SOURCE = re.compile(r'<script[^>]*\ssrc="([^"]+)"')
_STYLESHEET_SOURCE = re.compile(r'<link[^>]*\srel="stylesheet"[^>]*\shref="([^"]+)"')


def content_security_policy(page: str) -> str:
    """'self' for the page's scripts and stylesheets, and the hashes of inline ones if it ever has any.

    A script or stylesheet from another origin is refused outright: the page must work offline.
    """
    inline = {"script": [], "style": []}
    for tag, content in _INLINE.findall(page):
        digest = base64.b64encode(hashlib.sha256(content.encode()).digest()).decode()
        inline[tag].append(f"'sha256-{digest}'")
    scripts, stylesheets = _SCRIPT_SOURCE.findall(page), _STYLESHEET_SOURCE.findall(page)
    elsewhere = [url for url in [*scripts, *stylesheets] if not url.startswith("/") or url.startswith("//")]
    if elsewhere:
        raise ValueError(f"the GraphiQL page may load only this server's files, not {elsewhere}")
    directives = {
        "default-src": ["'none'"],
        "script-src": [*(["'self'"] if scripts else []), *inline["script"]] or ["'none'"],
        "style-src": [*(["'self'"] if stylesheets else []), *inline["style"]] or ["'none'"],
        "font-src": ["data:"],  # GraphiQL's stylesheet embeds Roboto and Fira Code as data: URLs
        "img-src": ["data:"],  # the favicon and the editor's icons are data: URLs
        "connect-src": ["'self'"],  # queries go to this page's own address
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


async def graphiql_asset(request: Request) -> FileResponse:
    name = request.path_params["name"]
    # Only the files the page names: nothing else in the package is reachable, whatever the path says.
    if name not in _ASSETS:
        raise HTTPException(404)
    return FileResponse(
        ASSETS_DIRECTORY / name,
        media_type=CONTENT_TYPES[pathlib.PurePath(name).suffix],
        headers={"Cache-Control": IMMUTABLE},
    )


_ASSETS = frozenset([*STYLESHEETS, *SCRIPTS])


def graphiql_routes(enabled: bool) -> list[Route]:
    """The page's files, served only where the page is."""
    return [Route(ASSETS_PATH + "/{name}", graphiql_asset, methods=["GET", "HEAD"])] if enabled else []
