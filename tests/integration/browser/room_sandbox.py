#!/usr/bin/env python3
"""Chromium's sandbox stays on where it can: a gateway run by an
unprivileged user (nobody, as under systemd's DynamicUser) starts Chromium
without --no-sandbox and its renderers run sandboxed (in namespaces of their
own); as root (Chromium refuses its sandbox there) the log says so once.

Asserted, as nobody: the page loads and the room is joined; Chromium's
command line has no --no-sandbox; a renderer lives in another PID namespace
than the browser process; the log has no "sandbox is off" line; the profile
directory belongs to nobody and is removed when the gateway stops.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sip"))

import browser  # noqa: E402
import mgwtest  # noqa: E402
import sip_faults  # noqa: E402
from room_common import PIPELINE, browser_pids, chromium_pid, wait_gone  # noqa: E402
from room_faults import serve_page  # noqa: E402

NOBODY = 65534


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline") as f:
        return f.read().split("\0")


def main():
    browser.require_browser()
    mgwtest.require_tools("setpriv")
    if os.geteuid() != 0:
        mgwtest.skip("needs root to start the gateway as another user")
    probe = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                            mgwtest.MEDIAGW, "--version"], capture_output=True, text=True)
    if probe.returncode != 0:
        mgwtest.skip(f"user nobody cannot run {mgwtest.MEDIAGW} here (a folder on its path is not "
                     f"world-readable): {probe.stderr.strip()[:200]}")
    browser.enter_private_netns()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        url = serve_page(wd, procs)
        sip_port = mgwtest.free_port()
        gw = procs.start("gateway", ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                                     mgwtest.MEDIAGW, "run", PIPELINE, "-v"],
                         env={"SIP_LISTEN": f"udp:127.0.0.1:{sip_port}", "ROOM_URL": url, "ALONE_TIMEOUT": "0",
                              "HOME": "/nonexistent", "TMPDIR": "/tmp"})
        check(procs.wait_for_output(gw, r"listening on sip:", 15), "the gateway (user nobody) listens")
        call = sip_faults.Call(sip_port)
        pid = chromium_pid(procs, gw)
        check(procs.wait_for_output(gw, r"\[event\] room/room\.joined", 30), "the page loaded: room.joined")
        args = cmdline(pid)
        check(not any("--no-sandbox" in a for a in args), "Chromium runs without --no-sandbox")
        profile = next(a.split("=", 1)[1] for a in args if a.startswith("--user-data-dir="))
        check(os.stat(profile).st_uid == NOBODY, f"its profile belongs to nobody ({profile})")
        time.sleep(1)
        tree = browser_pids(gw.pid, pid)
        # Chromium rewrites its helpers' command lines into one string.
        renderers = [p for p in tree if os.path.exists(f"/proc/{p}") and "--type=renderer" in " ".join(cmdline(p))]
        own_ns = os.readlink(f"/proc/{pid}/ns/pid")
        sandboxed = [p for p in renderers if os.readlink(f"/proc/{p}/ns/pid") != own_ns]
        check(renderers and sandboxed == renderers,
              f"its renderers run in a PID namespace of their own ({len(sandboxed)}/{len(renderers)})")
        check("sandbox is off" not in procs.output(gw), "no 'sandbox is off' line in the log")
        procs.stop(gw)
        check(not wait_gone(tree), f"the gateway stopped: none of its {len(tree)} processes is left")
        check(not os.path.exists(profile), "the profile is removed")
        call.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
