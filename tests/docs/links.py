#!/usr/bin/env python3
"""Relative links in README.md and docs/*.md point at files of the tree
(and `#anchors` inside docs/ at headings or ids that exist). docs/api.md
and docs/openapi.yaml are not required while serve's OpenAPI file is not
in the tree (api.md is generated from it)."""
import glob
import os
import re
import sys

import mgwtest

ROOT = mgwtest.SOURCE_ROOT


def anchors(path):
    with open(path) as f:
        text = f.read()
    ids = set(re.findall(r'<a id="([^"]+)"', text))
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        ids.add(slug)
    return ids


def main():
    check = mgwtest.check
    pages = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    optional = set()
    if not os.path.exists(os.path.join(ROOT, "docs", "openapi.yaml")):
        optional = {os.path.join(ROOT, "docs", "api.md"), os.path.join(ROOT, "docs", "openapi.yaml")}
        mgwtest.log("not checked: links to docs/api.md and docs/openapi.yaml (serve's OpenAPI file is not in the tree)")
    count = 0
    for page in pages:
        with open(page) as f:
            text = re.sub(r"```.*?```", "", f.read(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            if full in optional:
                continue
            count += 1
            check(os.path.exists(full), f"{os.path.relpath(page, ROOT)}: link {target} points at a file")
            if anchor and full.endswith(".md") and "/docs/" in full:
                check(anchor in anchors(full), f"{os.path.relpath(page, ROOT)}: link {target}: the anchor exists")
    check(count > 10, f"{count} links checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
