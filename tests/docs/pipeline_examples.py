#!/usr/bin/env python3
"""The complete pipelines shown in docs/pipeline-format.md and README.md
(TOML blocks that start with [gateway]) pass `mediagw validate` with the
built plugins: the documentation's examples are pipelines that work."""
import os
import re
import subprocess
import sys

import mgwtest


def main():
    check = mgwtest.check
    blocks = []
    for page in ("docs/pipeline-format.md", "README.md"):
        with open(os.path.join(mgwtest.SOURCE_ROOT, page)) as f:
            for i, block in enumerate(re.findall(r"```toml\n(.*?)```", f.read(), re.S)):
                if block.lstrip().startswith("[gateway]"):
                    blocks.append((f"{page} example {i + 1}", block))
    check(len(blocks) >= 2, f"the pages show complete pipelines ({[b for b, _ in blocks]})")
    with mgwtest.workdir() as wd:
        for name, block in blocks:
            path = os.path.join(wd, re.sub(r"\W+", "-", name) + ".toml")
            with open(path, "w") as f:
                f.write(block)
            env = dict(os.environ, JANUS_URL="https://janus.example.org/janus")
            r = subprocess.run([mgwtest.MEDIAGW, "validate", path], capture_output=True, text=True, timeout=30,
                               env=env)
            check(r.returncode == 0, f"{name} validates ({(r.stdout + r.stderr).strip()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
