#!/usr/bin/env python3
"""A hostile peer against the served room (serve-tone.toml, bearer token
set) while a real WHEP subscriber (tests/lib/webrtcpeer.py) listens to the
room's 1000 Hz tone:
- an HTTP flood: 1,500 requests without or with a wrong token, to every
  endpoint and to none, with garbage bodies and methods, a 100 KB header,
  raw garbage bytes;
- 100 slow HTTP clients (nothing, or half a request line), which the
  gateway cuts after 10 s;
- 4,000 garbage datagrams (random, RTP/RTCP, STUN- and DTLS-looking) to
  every UDP port the gateway has open: the session's ICE/DTLS ports.
Asserted: the subscriber stays connected and hears 1000 Hz with its packet
rate intact; no flood request gets in (only the public page and CORS
preflights answer below 400); a second
subscriber connects afterwards; the slow connections are gone and the
gateway's threads, fds and RSS stay bounded against the one-session state
(printed); the token is not logged.
"""
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

import hostile
import mgwtest

HERE = os.path.dirname(os.path.abspath(__file__))
PIPELINE = os.path.join(HERE, "serve-tone.toml")
PEER = os.path.join(mgwtest.SOURCE_ROOT, "tests", "lib", "webrtcpeer.py")
TOKEN = "hostile-token-31"


def http_flood(port, statuses):
    rnd = random.Random(5)
    paths = ["/whip", "/whep", "/status", "/whep/abc", "/whip/../../etc/passwd", "/", "/nope", "/whep/%00"]
    methods = ["POST", "GET", "PATCH", "DELETE", "PUT", "OPTIONS", "BREW"]
    auths = [None, "Bearer wrong", "Basic Zm9vOmJhcg==", "Bearer " + "x" * 4000, "Bearer " + TOKEN[:-1]]
    for i in range(1500):
        method, path = rnd.choice(methods), rnd.choice(paths)
        headers = {"Content-Type": rnd.choice(["application/sdp", "application/trickle-ice-sdpfrag", "text/plain"])}
        auth = rnd.choice(auths)
        if auth:
            headers["Authorization"] = auth
        body = rnd.randbytes(rnd.randrange(0, 3000)) if method in ("POST", "PATCH", "PUT") else None
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            r.read()
            statuses[r.status] = statuses.get(r.status, 0) + 1
            # Only the public page and CORS preflights may answer without the token.
            if r.status < 400 and not (method == "OPTIONS" or (method == "GET" and path == "/")):
                statuses.setdefault("let in", []).append(f"{method} {path} {r.status}")
            c.close()
        except (OSError, http.client.HTTPException):
            statuses["error"] = statuses.get("error", 0) + 1
    for raw in (b"GET / HTTP/1.1\r\nX-Big: " + b"A" * 100000 + b"\r\n\r\n", rnd.randbytes(5000),
                b"POST /whep HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                b"POST /whep HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n"):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(raw)
            s.recv(1000)
            s.close()
        except OSError:
            pass


def slow_clients(port, n):
    socks = []
    for i in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 2:
                s.sendall(b"POST /whep HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        except OSError:
            pass
    return socks


def established(pid, port):
    """TCP connections to `port` the gateway holds open both ways."""
    out = subprocess.run(["ss", "-tnp", "state", "established", "src", f"127.0.0.1:{port}"],
                         capture_output=True, text=True).stdout
    return sum(1 for line in out.splitlines() if f"pid={pid}," in line)


def subscriber(base, seconds):
    env = dict(os.environ, WHIP_TOKEN=TOKEN)
    return subprocess.Popen([sys.executable, PEER, "whep", base + "/whep", "--seconds", str(seconds),
                             "--expect-freq", "1000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def result(peer, timeout):
    out, err = peer.communicate(timeout=timeout)
    if "No module named 'gi'" in err:
        mgwtest.skip("GStreamer python bindings missing (python3-gi)")
    lines = [l for l in out.splitlines() if l.startswith('{"ran_s"')]
    mgwtest.check(lines, f"the subscriber reports (exit {peer.returncode}; {err.strip()[-300:]})")
    return json.loads(lines[-1])


def main():
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        port = mgwtest.free_port()
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", PIPELINE, "-v"],
                         env={"HTTP_LISTEN": f"127.0.0.1:{port}", "TOKEN": TOKEN,
                              "COUNT_REPORT": os.path.join(wd, "count.json")})
        if not procs.wait_for_output(gw, r"serving the call on", 15):
            mgwtest.fail("the gateway never served HTTP")
        base = f"http://127.0.0.1:{port}"
        peer = subscriber(base, 16)
        check(procs.wait_for_output(gw, r"participant\.joined", 20), "the subscriber joined")
        time.sleep(1.0)
        before = hostile.usage(gw.pid)
        mgwtest.log(f"one session: {hostile.describe(before)}")

        statuses, slow, ports = {}, [], []
        workers = [threading.Thread(target=http_flood, args=(port, statuses)),
                   threading.Thread(target=lambda: slow.extend(slow_clients(port, 100))),
                   threading.Thread(target=lambda: ports.extend(hostile.blast(gw.pid, 4000, seed=9)))]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
        mgwtest.log(f"flood answers: {statuses}; garbage to UDP ports {ports}")
        during = hostile.usage(gw.pid)
        mgwtest.log(f"under attack: {hostile.describe(during)}")

        res = result(peer, 60)
        whep = res["whep"]
        mgwtest.log(f"subscriber: {whep}")
        check(whep.get("connected"), "the subscriber stayed connected")
        check(whep.get("freq") and abs(whep["freq"] - 1000) < 15, f"it heard 1000 Hz throughout ({whep.get('freq')} Hz)")
        check(whep.get("rx_packets", 0) >= 600, f"its packet rate held (~50/s: {whep.get('rx_packets')} in 16 s)")
        check(not statuses.get("let in"), f"no flood request to an endpoint got in ({statuses.get('let in')})")
        check(statuses.get(401, 0) >= 100, f"requests without the token got 401 ({statuses.get(401, 0)})")
        check(len(ports) >= 2, f"the garbage reached the session's UDP ports ({ports})")
        check(gw.poll() is None, "the gateway is still running")

        res = result(subscriber(base, 3), 40)
        check(res["whep"].get("freq") and abs(res["whep"]["freq"] - 1000) < 15,
              f"a second subscriber connects and hears 1000 Hz ({res['whep'].get('freq')} Hz)")

        deadline = time.time() + 15
        while time.time() < deadline and established(gw.pid, port) > 0:
            time.sleep(0.5)
        held = established(gw.pid, port)
        for s in slow:
            s.close()
        check(held == 0, f"the slow HTTP clients were cut within 15 s ({held} still open)")
        time.sleep(1.0)
        after = hostile.usage(gw.pid)
        mgwtest.log(f"after the attacks: {hostile.describe(after)}")
        ss = subprocess.run(["ss", "-tanp"], capture_output=True, text=True).stdout
        states = {}
        for line in ss.splitlines():
            if f"pid={gw.pid}," in line:
                states[line.split()[0]] = states.get(line.split()[0], 0) + 1
        mgwtest.log(f"the gateway's TCP sockets by state: {states}")
        check(after[0] <= before[0] + 2, f"threads bounded ({before[0]} -> {after[0]})")
        check(after[1] <= before[1] + 10, f"file descriptors bounded ({before[1]} -> {after[1]})")
        if hostile.rss_meaningful():
            check(after[2] <= before[2] + 30 * 1024, f"memory bounded ({before[2]} -> {after[2]} kB)")
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
        check(TOKEN not in procs.output(gw), "the token is not in the log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
