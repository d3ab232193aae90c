"""The GraphiQL page's Content-Security-Policy: the page may load only what it loads today, and run
only its own inline script and style, named by their hashes.

Scripts and stylesheets come from the CDN origins the page names. GraphiQL's stylesheet imports its
fonts (Roboto, Fira Code) from Google Fonts, so those two origins are allowed for styles and fonts.
"""

import base64
import hashlib
import re

GOOGLE_FONTS_CSS = "https://fonts.googleapis.com"
GOOGLE_FONTS_FILES = "https://fonts.gstatic.com"

_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
_SCRIPT_ORIGIN = re.compile(r'<script[^>]*\ssrc="(https://[^/"]+)/')
_STYLESHEET_ORIGIN = re.compile(r'<link[^>]*\srel="stylesheet"[^>]*\shref="(https://[^/"]+)/')


def content_security_policy(html: str) -> str:
    inline = {"script": [], "style": []}
    for tag, content in _INLINE.findall(html):
        digest = base64.b64encode(hashlib.sha256(content.encode()).digest()).decode()
        inline[tag].append(f"'sha256-{digest}'")
    scripts = sorted(set(_SCRIPT_ORIGIN.findall(html)))
    styles = sorted(set(_STYLESHEET_ORIGIN.findall(html)))
    directives = {
        "default-src": ["'none'"],
        "script-src": [*scripts, *inline["script"]],
        "style-src": [*styles, GOOGLE_FONTS_CSS, *inline["style"]],
        "font-src": [GOOGLE_FONTS_FILES],
        "img-src": ["data:"],  # the favicon and the editor's icons are data: URLs
        "connect-src": ["'self'"],  # queries go to this page's own address
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())
