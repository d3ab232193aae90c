#!/usr/bin/env python3
"""Re-vendor GraphiQL's browser files into app/static/graphiql/ from the npm registry.

    python3 scripts/vendor_graphiql.py

Each package is fetched at the exact version pinned below, as the registry's own tarball, and checked
against the registry's sha512 integrity before anything is written. The files are copied unchanged;
VERSIONS.json records what came from where (with each file's sha256) and LICENSES.txt holds the licence
texts. To upgrade, change a version here, run the script, and run tests/test_graphiql_browser.py.
Set NPM_CONFIG_REGISTRY to use a mirror.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import pathlib
import re
import tarfile
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
DESTINATION = ROOT / "app" / "static" / "graphiql"
REGISTRY = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")

# The versions Strawberry 0.341's own GraphiQL page loads from unpkg, which the page's script is written for.
# files: path in the tarball -> name served under /graphiql/assets/.
PACKAGES = [
    {"name": "react", "version": "18.2.0", "files": {"umd/react.production.min.js": "react.production.min.js"}},
    {
        "name": "react-dom",
        "version": "18.2.0",
        "files": {"umd/react-dom.production.min.js": "react-dom.production.min.js"},
    },
    {
        "name": "graphiql",
        "version": "3.8.3",
        "files": {"graphiql.min.js": "graphiql.min.js", "graphiql.min.css": "graphiql.min.css"},
        # graphiql.js (the unminified bundle) names every node_modules package webpack folded in.
        "bundle_manifest": "graphiql.js",
    },
    {
        "name": "@graphiql/plugin-explorer",
        "version": "1.0.2",
        "files": {"dist/index.umd.js": "plugin-explorer.umd.js", "dist/style.css": "plugin-explorer.css"},
        # Its tarball has no LICENSE file; it comes from the same repository (and licence) as graphiql.
        "licence_from": "graphiql",
    },
    # Bundled into the explorer plugin's UMD file; fetched for its licence text only.
    {"name": "graphiql-explorer", "version": "0.9.0", "files": {}, "bundled_in": "@graphiql/plugin-explorer"},
]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def tarball(name: str, version: str) -> tuple[dict, tarfile.TarFile]:
    """The registry's metadata for name@version and its tarball, verified against dist.integrity."""
    metadata = json.loads(fetch(f"{REGISTRY}/{urllib.parse.quote(name, safe='@')}/{version}"))
    if metadata.get("version") != version:
        raise SystemExit(f"the registry answered {name}@{metadata.get('version')} for {version}")
    data = fetch(metadata["dist"]["tarball"])
    algorithm, _, expected = metadata["dist"]["integrity"].partition("-")
    if algorithm != "sha512" or base64.b64decode(expected) != hashlib.sha512(data).digest():
        raise SystemExit(f"{name}@{version}: the tarball does not match the registry's integrity")
    return metadata, tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")


def member(archive: tarfile.TarFile, path: str) -> bytes | None:
    try:
        extracted = archive.extractfile(f"package/{path}")
    except KeyError:
        return None
    return extracted.read() if extracted else None


def licence_text(archive: tarfile.TarFile) -> str | None:
    for name in archive.getnames():
        if re.fullmatch(r"package/(LICEN[CS]E|COPYING)(\.md|\.txt)?", name, re.IGNORECASE):
            return member(archive, name.removeprefix("package/")).decode()
    return None


def bundled_packages(source: str) -> list[str]:
    names = set()
    for path in re.findall(r"node_modules/((?:@[\w.-]+/)?[\w.-]+)", source):
        names.add(path)
    return sorted(names)


def main() -> None:
    DESTINATION.mkdir(parents=True, exist_ok=True)
    previous = json.loads((DESTINATION / "VERSIONS.json").read_text()) if (DESTINATION / "VERSIONS.json").exists() else {}
    licences: dict[str, str | None] = {}
    recorded = []
    for package in PACKAGES:
        name, version = package["name"], package["version"]
        metadata, archive = tarball(name, version)
        entry = {
            "name": name,
            "version": version,
            "license": metadata.get("license"),
            "tarball": metadata["dist"]["tarball"],
            "integrity": metadata["dist"]["integrity"],
            "files": {},
        }
        for source, served in package["files"].items():
            content = member(archive, source)
            if content is None:
                raise SystemExit(f"{name}@{version} has no {source}")
            (DESTINATION / served).write_bytes(content)
            entry["files"][served] = {"from": source, "sha256": hashlib.sha256(content).hexdigest()}
        if "bundle_manifest" in package:
            entry["bundles"] = bundled_packages(member(archive, package["bundle_manifest"]).decode())
        if "bundled_in" in package:
            entry["bundled_in"] = package["bundled_in"]
        licences[name] = licence_text(archive)
        if "licence_from" in package:
            entry["license_text_from"] = package["licence_from"]
        recorded.append(entry)
        print(f"{name}@{version}: {', '.join(package['files'].values()) or 'licence only'}")

    # Files an earlier run wrote that this one did not: gone from the package, so gone from here.
    written = {served for entry in recorded for served in entry["files"]}
    for entry in previous.get("packages", []):
        for served in set(entry.get("files", {})) - written:
            (DESTINATION / served).unlink(missing_ok=True)

    sections = []
    for entry in recorded:
        text = licences.get(entry.get("license_text_from", entry["name"]))
        if text is None:
            raise SystemExit(f"no licence text for {entry['name']}@{entry['version']}")
        header = f"{entry['name']}@{entry['version']} ({entry['license']})"
        if "bundles" in entry:
            header += (
                "\nIts bundle includes these packages, each under its own licence as published on npm: "
                + ", ".join(entry["bundles"])
            )
        sections.append(f"{'=' * 78}\n{header}\n{'=' * 78}\n\n{text.strip()}\n")
    (DESTINATION / "LICENSES.txt").write_text("\n".join(sections))
    (DESTINATION / "VERSIONS.json").write_text(
        json.dumps({"registry": REGISTRY, "generated_by": "scripts/vendor_graphiql.py", "packages": recorded}, indent=2)
        + "\n"
    )


if __name__ == "__main__":
    main()
