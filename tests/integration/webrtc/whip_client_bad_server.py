#!/usr/bin/env python3
"""webrtc-direct's WHIP client against a room server that misbehaves (a
small HTTP server of this test): garbage SDP in a 201, a 500, a 307 to a
server that answers nothing (slow). Each time the client gateway reports
room.failed with a reason that says what happened, within its bounded wait
(10 s HTTP timeout), and keeps running; it stops cleanly.
"""
import http.server
import os
import sys
import threading
import time

import mgwtest
import whip_whep_client as wwc


class Room(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/garbage":
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
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        port = mgwtest.free_port()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Room)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        cases = [("garbage", r"answer\W+was\W+refused"), ("error", r"HTTP\W+500"), ("redirect", r"no\W+answer\W+from")]
        clients = []
        for path, _ in cases:
            env = {"MODE": "whip", "URL": f"http://127.0.0.1:{port}/{path}", "WAV": os.path.join(wd, path + ".wav"),
                   "COUNT_REPORT": os.path.join(wd, path + ".json")}
            clients.append(wwc.start(procs, path, "client.toml", env, r"client: offering"))
        wwc.expect_room_failures(procs, cases, clients)
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
