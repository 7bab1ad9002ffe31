#!/usr/bin/env python3
"""scripts/docs.d/openapi_markdown.py on a fixture OpenAPI 3.0 document
(tests/fixtures/openapi/gateways.yaml): the output is the reviewed
reference (gateways.md) byte for byte, every operation and schema of the
input is in it, $refs became links to schemas that exist, and a broken
document is refused with its position."""
import os
import re
import subprocess
import sys

import yaml

import mgwtest

ROOT = mgwtest.SOURCE_ROOT
SCRIPT = os.path.join(ROOT, "scripts", "docs.d", "openapi_markdown.py")
FIXTURE = "tests/fixtures/openapi/gateways.yaml"


def generate(path, cwd=ROOT):
    return subprocess.run([sys.executable, SCRIPT, path], cwd=cwd, capture_output=True, text=True, timeout=20)


def main():
    check = mgwtest.check
    r = generate(FIXTURE)
    check(r.returncode == 0, f"the generator accepts the fixture ({r.stderr.strip()})")
    md = r.stdout
    with open(os.path.join(ROOT, "tests", "fixtures", "openapi", "gateways.md")) as f:
        expected = f.read()
    check(md == expected, "the output is the reviewed tests/fixtures/openapi/gateways.md "
          "(if the generator changed on purpose: regenerate it and review the diff)")

    with open(os.path.join(ROOT, FIXTURE)) as f:
        spec = yaml.safe_load(f)
    for path, item in spec["paths"].items():
        for method in item:
            if method != "parameters":
                check(f"### `{method.upper()} {path}`" in md, f"{method.upper()} {path} has its section")
    for name in spec["components"]["schemas"]:
        check(f'<a id="schema-{name.lower()}"></a>' in md, f"schema {name} has its anchor")
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', md))
    links = set(re.findall(r"\]\(#([^)]+)\)", md))
    check(links and links <= anchors, f"every link points at an anchor (dangling: {sorted(links - anchors)})")
    check("| `grace` | query | integer |  | seconds the call may take to end; default `5`" in md,
          "an operation's query parameter with its default")
    check("| `id` | path | string | yes |" in md, "a path-level parameter reaches its operations")
    check("| `202` | handed to the gateway | `application/json` object {`sent`: string, `at`: string (date-time)} |"
          in md, "an inline response object shows its fields")
    check("Authentication: none." in md, "an operation that overrides the global security says so")

    with mgwtest.workdir() as wd:
        bad = os.path.join(wd, "bad.yaml")
        with open(bad, "w") as f:
            f.write("openapi: 3.0.3\npaths:\n  /x:\n    get:\n      responses:\n        '200': {$ref: '#/nowhere'}\n")
        r = generate(bad)
        check(r.returncode == 2 and "paths./x.get.responses.200" in r.stderr and "#/nowhere" in r.stderr,
              f"a dangling $ref is refused naming where it is ({r.stderr.strip()})")
        with open(bad, "w") as f:
            f.write("openapi: 3.0.3\npaths:\n  /x: [unclosed\n")
        r = generate(bad)
        check(r.returncode == 2 and re.search(r"bad\.yaml:\d+:\d+:", r.stderr),
              f"a YAML syntax error is refused with file:line:col ({r.stderr.strip()})")
        with open(bad, "w") as f:
            f.write("swagger: '2.0'\n")
        r = generate(bad)
        check(r.returncode == 2 and "not an OpenAPI 3" in r.stderr, f"Swagger 2 is refused ({r.stderr.strip()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
