#!/usr/bin/env python3
"""webrtc-direct's WHIP client against a room server that misbehaves (a
small HTTP server of this test): garbage SDP in a 201, a 500, a 307 to a
server that answers nothing (slow), a 64 MiB answer (with its
Content-Length, and without: read until the server closes). Each time the
client gateway reports room.failed with a reason that says what happened,
within its bounded wait (10 s HTTP timeout), and keeps running; it stops
cleanly. A huge answer is not read: the gateway's peak memory stays near
that of a gateway that got a 500.

The bearer token goes to the configured origin only: a 307 to another port
(another origin) arrives without it, a 307 on the same server keeps it.
"""
import http.server
import os
import sys
import threading
import time

import mgwtest
import whip_whep_client as wwc

TOKEN = "redirect-token-9"
HUGE = 64 * 1024 * 1024
authorization = {}  # path -> Authorization header as received (None: none)


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0


class Landing(http.server.BaseHTTPRequestHandler):
    """Another origin (another port): where /elsewhere redirects."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        authorization[self.path] = self.headers.get("Authorization")
        body = b"no room here"
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Room(http.server.BaseHTTPRequestHandler):
    landing_port = 0

    def log_message(self, *args):
        pass

    def huge(self, with_length):
        self.send_response(201)
        self.send_header("Location", "/huge/1")
        self.send_header("Content-Type", "application/sdp")
        if with_length:
            self.send_header("Content-Length", str(HUGE))
        self.end_headers()
        block = b"a=" + b"x" * 65533 + b"\r\n"
        try:
            for _ in range(HUGE // len(block)):
                self.wfile.write(block)
        except OSError:
            pass  # the client stopped reading: what it should do

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        authorization[self.path] = self.headers.get("Authorization")
        if self.path in ("/huge", "/endless"):
            return self.huge(self.path == "/huge")
        if self.path == "/elsewhere":
            body = b""
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.1:{self.landing_port}/landing")
        elif self.path == "/same":
            body = b""
            self.send_response(307)
            self.send_header("Location", "/same-landing")
        elif self.path == "/same-landing":
            body = b"no room here either"
            self.send_response(404)
        elif self.path == "/garbage":
            body = b"this is not SDP\r\n"
            self.send_response(201)
            self.send_header("Location", "/garbage/1")
            self.send_header("Content-Type", "application/sdp")
        elif self.path == "/error":
            body = b"room server exploded"
            self.send_response(500)
        elif self.path == "/redirect":
            body = b""
            self.send_response(307)
            self.send_header("Location", "/slow")
        else:  # /slow: never answers within the client's timeout
            time.sleep(15)
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_DELETE(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        port, landing_port = mgwtest.free_port(), mgwtest.free_port()
        Room.landing_port = landing_port
        servers = [http.server.ThreadingHTTPServer(("127.0.0.1", p), handler)
                   for p, handler in ((port, Room), (landing_port, Landing))]
        for server in servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
        over = r"over\W+64\W+KiB"
        cases = [("garbage", r"answer\W+was\W+refused"), ("error", r"HTTP\W+500"), ("redirect", r"no\W+answer\W+from"),
                 ("huge", rf"127\.0\.0\.1:{port}/huge.*{over}"), ("endless", rf"127\.0\.0\.1:{port}/endless.*{over}"),
                 ("elsewhere", r"HTTP\W+404"), ("same", r"HTTP\W+404")]
        clients = []
        for path, _ in cases:
            env = {"MODE": "whip", "URL": f"http://127.0.0.1:{port}/{path}", "TOKEN": TOKEN,
                   "WAV": os.path.join(wd, path + ".wav"), "COUNT_REPORT": os.path.join(wd, path + ".json")}
            clients.append(wwc.start(procs, path, "client.toml", env, r"client: offering"))
        by_name = dict(zip([c for c, _ in cases], clients))
        for name in ("error", "huge", "endless"):
            procs.wait_for_output(by_name[name], r"room\.failed", 20)
        peaks = {name: peak_rss_mib(by_name[name].pid) for name in ("error", "huge", "endless")}
        mgwtest.log("peak VmHWM (MiB): " + ", ".join(f"{k} {v:.1f}" for k, v in peaks.items()))
        for name in ("huge", "endless"):
            check(peaks[name] - peaks["error"] < 16,
                  f"{name}: a 64 MiB answer is not read (peak memory {peaks[name]:.1f} MiB, "
                  f"{peaks['error']:.1f} MiB after a 500)")
        wwc.expect_room_failures(procs, cases, clients)
        bearer = f"Bearer {TOKEN}"
        check(authorization.get("/elsewhere") == bearer, "the token goes to the configured server")
        check("/landing" in authorization and authorization["/landing"] is None,
              f"a 307 to another origin arrives without the token ({authorization.get('/landing', 'not reached')!r})")
        check(authorization.get("/same-landing") == bearer, "a 307 on the same origin keeps the token")
        for p in clients:
            check(TOKEN not in procs.output(p), "the token is not logged")
        for server in servers:
            server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
