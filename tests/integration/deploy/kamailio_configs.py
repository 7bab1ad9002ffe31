#!/usr/bin/env python3
"""Every Kamailio config shipped in conf/kamailio/ passes `kamailio -c`
(syntax, functions of the loaded modules; module initialisation is checked
by the tests that run them: kamailio_dispatcher, kamailio_serve_front), each
names a dispatcher list shipped beside it, and each shipped list is
well-formed (`SETID sip:HOST:PORT` lines)."""
import glob
import os
import re
import subprocess
import sys

import mgwtest

DIR = os.path.join(mgwtest.SOURCE_ROOT, "conf", "kamailio")


def main():
    mgwtest.require_tools("kamailio")
    check = mgwtest.check
    configs = sorted(glob.glob(os.path.join(DIR, "*.cfg")))
    lists = {os.path.basename(p) for p in glob.glob(os.path.join(DIR, "*.list"))}
    check(len(configs) >= 2, f"conf/kamailio has the configs ({[os.path.basename(c) for c in configs]})")
    for cfg in configs:
        name = os.path.relpath(cfg, mgwtest.SOURCE_ROOT)
        r = subprocess.run(["kamailio", "-c", "-f", cfg], capture_output=True, text=True, timeout=20)
        out = r.stdout + r.stderr
        errors = [line for line in out.splitlines() if re.search(r"ERROR|CRITICAL", line)]
        check(r.returncode == 0 and "config file ok" in out and not errors,
              f"kamailio -c accepts {name} (exit {r.returncode}; {errors[:3]})")
        with open(cfg) as f:
            text = f.read()
        named = re.findall(r'"/etc/mediagw/kamailio/([^"/]+\.list)"', text)
        check(named and all(n in lists for n in named),
              f"{name} reads a dispatcher list shipped beside it ({named}, shipped: {sorted(lists)})")
    for lst in sorted(lists):
        with open(os.path.join(DIR, lst)) as f:
            entries = [line.split() for line in f if line.strip() and not line.startswith("#")]
        bad = [e for e in entries if len(e) < 2 or not e[0].isdigit() or
               not re.fullmatch(r"sip:[\w.-]+:\d{1,5}(;transport=(udp|tcp|tls))?", e[1])]
        check(entries and not bad, f"{lst}: {len(entries)} destinations, each 'SETID sip:HOST:PORT' ({bad})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
