#!/usr/bin/env python3
"""`mediagw serve` as a command (issue 12): its file's errors and systemd.

  - bad serve files exit 2 with file:line:col errors: an unknown key (with
    "did you mean"), a wrong type, a bad `match` regex, warm out of range, a
    template without a pipeline or with a missing one (resolved beside the
    serve file), an unset ${VAR}, no token with an API;
  - a template whose gateways die at start: each exit is logged with the
    gateway's own reason, counted (warm_replaced), retried with a back-off;
  - serve SIGKILLed: its gateways die with it;
  - conf/serve.toml (the shipped example; a copy with free ports and log
    paths) is accepted: serve starts on it and answers OPTIONS; a template's
    env reaches its gateways;
  - systemd Type=notify against a NOTIFY_SOCKET the test listens on:
    READY=1 once serving, WATCHDOG=1 every WATCHDOG_USEC/2 (0.4 s -> at least
    4 pings in 1.5 s), STOPPING=1 on SIGTERM, exit 0; the gateways never see
    NOTIFY_SOCKET / WATCHDOG_USEC (a gateway's environment, from /proc).
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

import mgwtest
import serve_common as sc


def serve_errors(wd, name, text, env=None):
    path = os.path.join(wd, name)
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([mgwtest.MEDIAGW, "serve", path], capture_output=True, text=True, timeout=20,
                       env=dict(os.environ, **(env or {})))
    return r.returncode, r.stderr, path


def main():
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        echo = os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-echo.toml")
        rc, err, path = serve_errors(wd, "bad.toml", f'''[serve]
sip = "udp:127.0.0.1:1"
tokn = "x"
cpu = "two"

[template.echo]
pipeline = "{echo}"
match = "([unclosed"
warm = -1

[template.nopipe]
warm = 1
''')
        mgwtest.log(err)
        check(rc == 2, f"a bad serve file: exit 2 ({rc})")
        check(f"{path}:3:1: error: unknown key 'serve.tokn' (did you mean 'token'?)" in err,
              "unknown key: file:line:col and did-you-mean")
        check(f"{path}:4:7: error: 'cpu' must be a number" in err, "wrong type: file:line:col")
        check(re.search(re.escape(f"{path}:8:9: error: 'match': not a regular expression"), err),
              "a bad regex: file:line:col")
        check(f"{path}:9:8: error: 'warm' must be an integer from 0" in err, "warm out of range: file:line:col")
        check(re.search(re.escape(path) + r":11:\d+: error: template 'nopipe' has no 'pipeline'", err),
              "a template without a pipeline")
        check("token is required with an API" in err, "no token with an API")
        rc, err, path = serve_errors(wd, "unset.toml", '''[serve]
token = "${NO_SUCH_TOKEN_VAR}"
[template.a]
pipeline = "nowhere.toml"
''')
        check(rc == 2 and f"{path}:2:9: error: 'token': " in err and "NO_SUCH_TOKEN_VAR" in err,
              f"an unset variable: file:line:col naming it ({err.strip()})")
        rc, err, path = serve_errors(wd, "missing.toml", '''[serve]
api = ""
[template.a]
pipeline = "nowhere.toml"
''')
        check(rc == 2 and "template 'a': no pipeline file " + os.path.join(wd, "nowhere.toml") in err,
              f"a missing pipeline file, resolved beside the serve file ({err.strip()})")

        # A template whose gateways die at start: each exit logged with its
        # reason, replaced, then retried with a back-off (no fork loop).
        broken = sc.Serve(procs, wd, f'''[template.broken]
pipeline = "{echo}"
warm = 2
set = ["sip.jitter_ms=99999"]
''', name="serve-broken")
        time.sleep(3.0)
        out = broken.output()
        died = re.findall(r"gateway broken-\d+ \(pid \d+\) exited with status 2: node 'sip' \(plugin sip-sofia\): "
                          r"jitter_ms: must be 0 to 5000 ms", out)
        check(len(died) >= 2, f"each gateway that died at start is logged with its reason ({len(died)})")
        check(re.search(r"template 'broken': \d+ gateways in a row died before a call: next try in \d+ s", out),
              "then retried with a back-off")
        check(len(died) <= 6, f"no fork loop: {len(died)} starts in 3 s")
        m = broken.metrics()
        check(sc.metric(m, "mediagw_serve_warm_replaced_total", template="broken") == len(died),
              "metric warm_replaced counts them")
        check(sc.stop_serve(procs, broken) == 0, "that serve stops cleanly too")

        # A supervisor killed outright takes its gateways with it (PR_SET_PDEATHSIG).
        victim = sc.Serve(procs, wd, f'''[template.echo]
pipeline = "{echo}"
warm = 3
''', name="serve-killed")
        gws = victim.wait_gateways(lambda g: sum(x["state"] == "idle" for x in g) == 3, 15, "3 warm gateways")
        os.kill(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait(5)
        deadline = time.time() + 5
        while time.time() < deadline and any(sc.pid_alive(g["pid"]) for g in gws):
            time.sleep(0.05)
        check(not any(sc.pid_alive(g["pid"]) for g in gws), "serve SIGKILLed: its 3 gateways are gone too")

        # The shipped example, on free ports.
        with open(os.path.join(mgwtest.SOURCE_ROOT, "conf", "serve.toml")) as f:
            example = f.read()
        sip_port, api_port = mgwtest.free_port(), mgwtest.free_port()
        for old, new in (('"udp:0.0.0.0:5060"', f'"udp:127.0.0.1:{sip_port}"'),
                         ('"127.0.0.1:8088"', f'"127.0.0.1:{api_port}"'),
                         ("/var/log/mediagw", os.path.join(wd, "log")),
                         ('"../pipelines/', '"' + os.path.join(mgwtest.SOURCE_ROOT, "pipelines") + "/")):
            check(old in example, f"conf/serve.toml has {old}")
            example = example.replace(old, new)
        copy = os.path.join(wd, "example.toml")
        with open(copy, "w") as f:
            f.write(example)

        # systemd: a notify socket of our own.
        notify_path = os.path.join(wd, "notify.sock")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        notify.settimeout(0.2)
        p = procs.start("serve-example", [mgwtest.MEDIAGW, "serve", copy],
                        env={"MEDIAGW_API_TOKEN": sc.TOKEN, "JANUS_URL": "http://127.0.0.1:1/janus",
                             "NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "400000"})
        messages = []
        deadline = time.time() + 15
        while time.time() < deadline and not any("READY=1" in m for m in messages):
            try:
                messages.append(notify.recv(4096).decode())
            except socket.timeout:
                if p.poll() is not None:
                    break
        check(any("READY=1" in m for m in messages), f"READY=1 sent once serving ({messages})")
        check(sc.options(sip_port)[0] == 200, "the example's SIP front answers OPTIONS")
        t0, pings = time.time(), 0
        while time.time() - t0 < 1.5:
            try:
                pings += notify.recv(4096).decode().count("WATCHDOG=1")
            except socket.timeout:
                pass
        check(pings >= 4, f"WATCHDOG=1 every 0.2 s ({pings} in 1.5 s)")
        out = procs.output(p)
        started = re.findall(r"gateway (\S+) started \(pid (\d+)\)", out)
        check(started, "the example started its warm gateways")
        pids = [int(pid) for _, pid in started]
        # (The janus template's gateways need a Janus and, until an empty
        # TURN_URL means no TURN, refuse to start: not asserted here.)
        echo_pids = [int(pid) for gid, pid in started if gid.startswith("echo-")]
        check(echo_pids, "an echo gateway was started")
        with open(f"/proc/{echo_pids[0]}/environ", "rb") as f:
            genv = f.read().split(b"\0")
        check(not any(e.startswith((b"NOTIFY_SOCKET=", b"WATCHDOG_USEC=")) for e in genv),
              "a gateway does not inherit NOTIFY_SOCKET / WATCHDOG_USEC")
        check(any(e.startswith(b"MEDIAGW_GATEWAY_ID=echo-") for e in genv), "a gateway gets its id (MEDIAGW_GATEWAY_ID)")
        p.send_signal(signal.SIGTERM)
        stopping = False
        deadline = time.time() + 10
        while time.time() < deadline and not stopping:
            try:
                stopping = "STOPPING=1" in notify.recv(4096).decode()
            except socket.timeout:
                pass
        check(stopping, "STOPPING=1 on SIGTERM")
        check(p.wait(15) == 0, "serve exits 0 after the drain")
        check(not any(sc.pid_alive(x) for x in pids), "no gateway left")
        notify.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
