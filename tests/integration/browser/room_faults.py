#!/usr/bin/env python3
"""Faults of browser-capture (pipelines/sip-to-browser-room.toml): what the
caller gets and what is left behind. A raw SIP caller (PCMU) calls; the room
is a plain page on a local HTTP server.

Usage: room_faults.py chromium-killed | join-step | no-load | sigkill
  chromium-killed  Chromium SIGKILLed mid-call: room.failed within a second,
                   naming Chromium's end; BYE whose Reason names it
  join-step        a join script whose step never succeeds: room.failed
                   naming the step and the page's URL; BYE saying so
  no-load          a page that never answers: room.failed "did not load
                   within 5 s"; BYE
  sigkill          the gateway SIGKILLed mid-call: Chromium and every process
                   of its group die with it (PR_SET_PDEATHSIG); the profile
                   it left is removed by the next gateway
In every case the gateway exits 0 after the call (one call per process) and
no process of its Chromium is left (checked by PID).
"""
import os
import re
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sip"))

import browser  # noqa: E402
import mgwtest  # noqa: E402
import sip_faults  # noqa: E402
from room_common import browser_pids, chromium_pid, start_room_gateway, wait_gone  # noqa: E402

PAGE = "<!doctype html><title>room</title><p>a room</p>"
NEVER = """[service]
name = "a room whose join button never shows"
source = "tests/integration/browser/room_faults.py"

[[step]]
name = "page"
wait = "p"

[[step]]
name = "join button"
wait = "#join-button-that-never-comes"
timeout = 3
"""


def serve_page(wd, procs):
    folder = os.path.join(wd, "www")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "index.html"), "w") as f:
        f.write(PAGE)
    port = mgwtest.free_port("tcp")
    p = procs.start("page", [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", folder,
                             str(port)])
    if not procs.wait_for_output(p, r"Serving HTTP", 10):
        mgwtest.fail("the page's HTTP server did not start")
    return f"http://127.0.0.1:{port}/index.html"


def silent_server():
    """A TCP server that accepts and never answers: a page that never loads."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    held = []
    threading.Thread(target=lambda: [held.append(s.accept()) for _ in iter(int, 1)], daemon=True).start()
    return f"http://127.0.0.1:{s.getsockname()[1]}/room", s


def bye_reason(call, procs, gw, pattern, bound, what):
    t0 = time.time()
    t_bye, h = call.wait_bye(bound + 10)
    mgwtest.check(t_bye is not None, f"{what}: the gateway hangs up with a BYE")
    failed = re.search(r"\[event\] room/room\.failed, reason=\(string\)\"?(.*)", procs.output(gw))
    mgwtest.check(failed and re.search(pattern, failed.group(1)), f"room.failed says why ({failed and failed.group(1)})")
    reasons = h.get("reason", [])
    mgwtest.check(len(reasons) == 1 and "room/room.failed" in reasons[0] and re.search(pattern, reasons[0]),
                  f"the BYE's Reason names it ({reasons})")
    return t_bye - t0


def main():
    variant = sys.argv[1]
    browser.require_browser()
    browser.enter_private_netns()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        url, join, extra, held = serve_page(wd, procs), "", [], None
        if variant == "join-step":
            join = os.path.join(wd, "never.toml")
            with open(join, "w") as f:
                f.write(NEVER)
        if variant == "no-load":
            url, held = silent_server()
            extra = ["--set", "room.load_timeout=5"]
        gw, sip_port = start_room_gateway(procs, "gateway", url, join=join, extra=extra,
                                          env={"ALONE_TIMEOUT": "0"})
        call = sip_faults.Call(sip_port)
        pid = chromium_pid(procs, gw)

        said = procs.output(gw).count("Chromium's sandbox is off")
        check(said == 1, f"as root Chromium runs without its sandbox, and the log says so once ({said})")
        time.sleep(2)  # Chromium starts its helpers (zygotes, renderer, GPU, network)
        group = browser_pids(gw.pid, pid)
        mgwtest.log(f"Chromium pid {pid} and {len(group) - 1} processes it started")
        if variant == "chromium-killed":
            check(procs.wait_for_output(gw, r"\[event\] room/room\.joined", 30), "the gateway joined the page")
            call.echo(1.0)
            os.kill(pid, signal.SIGKILL)
            t0 = time.time()
            t_failed = sip_faults.wait_log(procs, gw, r"\[event\] room/room\.failed", 5)
            check(t_failed is not None and t_failed - t0 < 1.0,
                  f"Chromium's death is noticed within a second ({t_failed and t_failed - t0:.2f} s)")
            sip_faults.measured("Chromium SIGKILLed -> room.failed", t_failed - t0)
            bye_reason(call, procs, gw, r"Chromium\W+killed\W+by\W+signal\W+9", 5, "Chromium killed")
        elif variant == "join-step":
            seconds = bye_reason(call, procs, gw, r"join\W+step\W+.join\W+button.\W+failed\W+on\W+" + re.escape(url),
                                 3 + 10, "a join step that never succeeds")
            sip_faults.measured("join step timeout (3 s) -> BYE", seconds)
        elif variant == "no-load":
            seconds = bye_reason(call, procs, gw, r"did\W+not\W+load\W+within\W+5\W+s", 5 + 5, "a page that never loads")
            sip_faults.measured("load timeout (5 s) -> BYE", seconds)
        else:  # sigkill
            check(procs.wait_for_output(gw, r"\[event\] room/room\.joined", 30), "the gateway joined the page")
            profile = re.search(r"--user-data-dir=(\S+)", open(f"/proc/{pid}/cmdline").read().replace("\0", " "))
            profile = profile and profile.group(1)
            gw.send_signal(signal.SIGKILL)
            gw.wait(5)
            left = wait_gone([pid] + group, 5)
            check(not left, f"SIGKILL of the gateway: no process of its Chromium is left ({len(group)} checked, {left})")
            check(profile and os.path.isdir(profile), f"the killed gateway left its profile ({profile})")
            gw2, _ = start_room_gateway(procs, "gateway-2", url, env={"ALONE_TIMEOUT": "0"})
            call2 = sip_faults.Call(_)
            pid2 = chromium_pid(procs, gw2)
            check(not os.path.exists(profile), "the next gateway removed the dead one's profile")
            check(procs.wait_for_output(gw2, r"\[event\] room/room\.joined", 30), "the next gateway joined the page")
            group2 = browser_pids(gw2.pid, pid2)
            procs.stop(gw2)
            check(not wait_gone(group2), f"a stopped gateway leaves no Chromium either ({len(group2)} checked)")
            call2.close()
            call.close()
            return 0

        try:
            gw.wait(15)
        except Exception:
            pass
        check(gw.poll() == 0, f"the gateway exits 0 after the call ({gw.poll()})")
        left = wait_gone(group)
        check(not left, f"no process of its Chromium is left ({left})")
        call.close()
        if held:
            held.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
