#!/usr/bin/python3
"""A tiny WHIP/WHEP server on webrtcbin, to check webrtcpeer.py without a gateway.

    whip_test_server.py [--port 0] [--freq 1000]     prints "listening on http://127.0.0.1:PORT/"
POST /whep answers with a session that sends an Opus tone of --freq Hz; POST /whip
answers with a session that receives and decodes; GET /stats returns every
session's counters and heard frequency as JSON; DELETE /whip/ID, /whep/ID end one.
"""
import argparse
import itertools
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import webrtcpeer

sessions = {}
ids = itertools.count(1)
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def _reply(self, code, body=b"", ctype="text/plain", headers=()):
        self.send_response(code)
        for k, v in list(headers) + [("Content-Type", ctype), ("Content-Length", str(len(body)))]:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        kind = self.path.strip("/")
        offer = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if kind not in ("whip", "whep"):
            return self._reply(404, b"no such endpoint\n")
        if self.headers.get("Content-Type", "").split(";")[0] != "application/sdp":
            return self._reply(415, b"expected application/sdp\n")
        peer = webrtcpeer.Peer(name=kind)
        try:
            if kind == "whep":   # the client receives: we send a tone in the offer's Opus payload type
                peer.add_audio_source(self.server.freq, pt=webrtcpeer._opus_pt(offer) or 111)
            answer = peer.answer(offer)
        except Exception as e:  # noqa: BLE001 (a test server: say why, keep serving)
            peer.close()
            return self._reply(400, f"{e}\n".encode())
        with lock:
            sid = f"{kind}/{next(ids)}"
            sessions[sid] = peer
        self._reply(201, answer.encode(), "application/sdp", [("Location", "/" + sid)])

    def do_DELETE(self):
        with lock:
            peer = sessions.pop(self.path.strip("/"), None)
        if not peer:
            return self._reply(404, b"no such session\n")
        peer.close()
        self._reply(200)

    def do_GET(self):
        if self.path != "/stats":
            return self._reply(404, b"no such page\n")
        with lock:
            items = list(sessions.items())
        out = {sid: dict(p.stats(), freq=p.frequency()[0]) for sid, p in items}
        self._reply(200, json.dumps(out).encode(), "application/json")

    def log_message(self, *a):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--freq", type=float, default=1000, help="tone sent to WHEP clients, Hz")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.freq = a.freq
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    print(f"listening on http://127.0.0.1:{srv.server_address[1]}/", flush=True)
    try:
        srv.serve_forever()
    finally:
        for p in list(sessions.values()):
            p.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
