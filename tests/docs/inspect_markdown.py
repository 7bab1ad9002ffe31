#!/usr/bin/env python3
"""`mediagw inspect --markdown`: every plugin found when none is named, in
name order, the same bytes on every run; each plugin's properties, ports and
events are those `mediagw inspect NAME` prints (the same descriptor), with
required and secret flags; a named plugin that does not exist fails with a
suggestion; --markdown belongs to inspect only."""
import re
import subprocess
import sys

import mgwtest


def mediagw(*args):
    return subprocess.run([mgwtest.MEDIAGW, "--log-level", "error", *args], capture_output=True, text=True,
                          timeout=60)


def main():
    check = mgwtest.check
    first, second = mediagw("inspect", "--markdown"), mediagw("inspect", "--markdown")
    check(first.returncode == 0, f"inspect --markdown succeeds ({first.stderr.strip()[:300]})")
    check(first.stdout == second.stdout, "two runs give the same document")
    md = first.stdout
    listed = mediagw("plugins").stdout
    names = re.findall(r"^(\S+)\s+\S+\s+", listed, re.M)
    sections = re.findall(r"^## (\S+)$", md, re.M)
    check(sections == sorted(names), f"one section per plugin found, in name order ({sections})")

    for name in sections:
        text = mediagw("inspect", name).stdout
        section = md.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        props_block = text.split("\nProperties:\n", 1)[1].split("\nPorts:\n", 1)[0]
        props_text = re.findall(r"^  (\S+)\s+(?:string|integer|number|boolean|enum|node|string list)\b",
                                props_block, re.M)
        props_md = re.findall(r"^\| `([^`]+)` \| (?:string|integer|number|boolean|enum|node|string list)", section,
                              re.M)
        check(props_md == props_text, f"{name}: the properties of `mediagw inspect {name}` ({len(props_text)})")
        ports_block = text.split("\nPorts:\n", 1)[1]
        ports_text = re.findall(r"^  (input|output)\s+(\S+)", ports_block, re.M)
        ports_md = [(d, p) for p, d in re.findall(r"^\| `([^`]+)` \| (input|output)", section, re.M)]
        check(ports_md == ports_text, f"{name}: the same ports ({len(ports_text)})")
        events = re.search(r"^Events: (.*)$", text, re.M)
        if events:
            check(all(f"`{e}`" in section for e in events.group(1).split(",")), f"{name}: the same events")
        for prop, flags in re.findall(r"^  (\S+)\s+[^\n]*?, (required|secret)", props_block, re.M):
            row = re.search(r"^\| `" + re.escape(prop) + r"` \|.*$", section, re.M)
            check(row and flags in row.group(0), f"{name}: {prop} is marked {flags}")

    named = mediagw("inspect", "--markdown", "tone", "gst")
    check(named.returncode == 0 and re.findall(r"^## (\S+)$", named.stdout, re.M) == ["tone", "gst"],
          "named plugins come in the order given")
    bad = mediagw("inspect", "--markdown", "tonee")
    check(bad.returncode == 2 and "tonee" in bad.stderr and "did you mean 'tone'" in bad.stderr and not bad.stdout,
          f"an unknown plugin fails, with a suggestion, and prints no document ({bad.stderr.strip()})")
    misuse = mediagw("plugins", "--markdown")
    check(misuse.returncode == 2 and "--markdown" in misuse.stderr, f"--markdown is for inspect ({misuse.stderr.strip()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
