#!/usr/bin/env python3
"""The names deploy/ and conf/kamailio/ take from `mediagw serve`, checked
against serve's own code and files:

- every key of deploy/serve.toml is one serve reads (a quoted string in its
  sources);
- the metrics the scaling rule uses (prometheus-adapter/values.yaml:
  series and label values) are ones serve exposes;
- /ready and /metrics are paths serve answers, and docs/openapi.yaml
  documents /ready when it exists;
- the CLI has the `serve` command the Containerfile runs, and
  conf/mediagw-serve.service, when present, runs it the same way
  (`mediagw serve FILE`).

Exits 77 while serve is not in this tree (no sources mention it): nothing
of this can be checked then.
"""
import os
import re
import sys
import tomllib

import yaml

import mgwtest

ROOT = mgwtest.SOURCE_ROOT


def serve_sources():
    """Text of the C++ sources of the core and CLI that implement serve."""
    texts = {}
    for dirpath, _, files in os.walk(os.path.join(ROOT, "core")):
        for name in files:
            if name.endswith((".cpp", ".hpp", ".h")):
                path = os.path.join(dirpath, name)
                with open(path, errors="replace") as f:
                    texts[os.path.relpath(path, ROOT)] = f.read()
    return {p: t for p, t in texts.items() if "serve" in p or re.search(r'"/metrics"|"/ready"', t)}


def main():
    check = mgwtest.check
    sources = serve_sources()
    if not sources:
        mgwtest.skip("mediagw serve is not in this tree yet (no core source answers /metrics or /ready): "
                     "deploy/serve.toml's keys, the metric names of deploy/k8s/prometheus-adapter/values.yaml "
                     "and the /ready and /metrics paths cannot be checked against it")
    mgwtest.log(f"serve's sources: {sorted(sources)}")
    text = "\n".join(sources.values())

    def quoted(word):
        return re.search(r'"' + re.escape(word) + r'"', text) is not None

    with open(os.path.join(ROOT, "deploy", "serve.toml"), "rb") as f:
        config = tomllib.load(f)

    def keys(table, prefix=""):
        for k, v in table.items():
            # Template names are the operator's own ([template.NAME]).
            if prefix == "template.":
                yield from keys(v, "template.*.")
                continue
            yield prefix + k, k
            if isinstance(v, dict):
                yield from keys(v, prefix + k + ".")

    for full, key in keys(config):
        check(quoted(key), f"serve reads the key {full} of deploy/serve.toml")

    with open(os.path.join(ROOT, "deploy", "k8s", "prometheus-adapter", "values.yaml")) as f:
        rules = yaml.safe_load(f)["rules"]["custom"]
    for rule in rules:
        query = rule["seriesQuery"] + " " + rule["metricsQuery"]
        for metric in sorted(set(re.findall(r"\b(mediagw_[a-z0-9_]+)\s*\{", query))):
            check(quoted(metric) or re.search(re.escape(metric) + r"\b", text),
                  f"serve exposes the metric {metric} (used by the scaling rule)")
        for label, value in re.findall(r'\b([a-z_]+)="([^"]+)"', query):
            check(re.search(r'\b' + re.escape(value) + r'\b', text),
                  f"serve's metrics have the label value {label}=\"{value}\"")
    for path in ("/ready", "/metrics"):
        check(quoted(path), f"serve answers {path}")
    openapi = os.path.join(ROOT, "docs", "openapi.yaml")
    if os.path.exists(openapi):
        with open(openapi) as f:
            paths = yaml.safe_load(f).get("paths", {})
        check("/ready" in paths, "docs/openapi.yaml documents /ready")
    else:
        mgwtest.log("not checked: docs/openapi.yaml is not in the tree")

    with open(os.path.join(ROOT, "core", "cli", "main.cpp")) as f:
        check('"serve"' in f.read(), "the CLI has the serve command the Containerfile runs")
    unit = os.path.join(ROOT, "conf", "mediagw-serve.service")
    if os.path.exists(unit):
        with open(unit) as f:
            m = re.search(r"^ExecStart=\S*mediagw\s+serve\s+(\S+)", f.read(), re.M)
        check(m, "conf/mediagw-serve.service runs `mediagw serve FILE`, as the Containerfile does")
    else:
        mgwtest.log("not checked: conf/mediagw-serve.service is not in the tree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
