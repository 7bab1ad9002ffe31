#!/usr/bin/python3
"""A WHEP server for tests, written from draft-ietf-wish-whep (and RFC 9725,
WHIP, for what WHEP borrows: trickle ICE, ICE servers in Link headers), not
from mediagw's client. Each session is a webrtcbin (tests/lib/webrtcpeer.py)
that *sends* a 440 Hz Opus tone and a VP8 test pattern to the client.

    POST   /whep          application/sdp offer -> 201, Location /whep/N, SDP answer
                          (candidates included), ETag, Link rel="ice-server" per --ice-server
    PATCH  /whep/N        application/trickle-ice-sdpfrag -> 204 (candidates added);
                          405 with --no-trickle; 412 when If-Match is not the ETag
    DELETE /whep/N        -> 200, the session ends
    Authorization: Bearer TOKEN on every request with --token (401 otherwise)

It logs one line per request (to stdout) for tests to read:
    POST /whep: 201 /whep/1 (offer: 2 m-lines, candidates host)
    PATCH /whep/1: 204, 2 candidates (relay), If-Match matches
    PATCH /whep/1: 405 (no trickle)
    session 1 connected
    DELETE /whep/1: 200

    whep_server.py --port P [--no-trickle] [--token T] [--freq 440]
                   [--ice-server URI [--ice-username U --ice-credential C]]...
start() runs it under a test's mgwtest.Procs and waits until it listens.
"""
import argparse
import http.server
import os
import re
import secrets
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
FRAG_TYPE = "application/trickle-ice-sdpfrag"


def start(procs, port, *args, name="whep-server"):
    """Runs the server under `procs` (mgwtest.Procs); returns the process."""
    import mgwtest
    p = procs.start(name, ["/usr/bin/python3", os.path.abspath(__file__), "--port", str(port), *args])
    if not procs.wait_for_output(p, r"listening on", 15):
        mgwtest.fail(f"{name} did not start")
    return p


def log(line):
    print(line, flush=True)


def payload_type(sdp, encoding):
    """The payload type the offer gives `encoding` ("OPUS/48000"), or None."""
    m = re.search(r"^a=rtpmap:(\d+) " + re.escape(encoding), sdp, re.M | re.I)
    return int(m.group(1)) if m else None


def candidate_types(lines):
    return sorted({m.group(1) for l in lines for m in [re.search(r" typ (\w+)", l)] if m})


class Session:
    def __init__(self, sid, offer, freq):
        import webrtcpeer
        self.id, self.etag = sid, f'"{secrets.token_hex(8)}"'
        self.mids = re.findall(r"^a=mid:(\S+)", offer, re.M)
        self.ufrags = set(re.findall(r"^a=ice-ufrag:(\S+)", offer, re.M))
        opus, vp8 = payload_type(offer, "OPUS/48000"), payload_type(offer, "VP8/90000")
        if opus is None or vp8 is None:
            raise ValueError("the offer needs Opus and VP8 (a=rtpmap)")
        self.peer = webrtcpeer.Peer(name=f"whep{sid}")
        self.peer.add_audio_source(freq, pt=opus)
        self.peer.add_video_source(pt=vp8)
        self.answer = self.peer.answer(offer)
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        if self.peer.wait_connected(30):
            log(f"session {self.id} connected")

    def add_fragment(self, frag):
        """RFC 8840 fragment: ICE credentials (they name the ICE session), then
        candidates per a=mid; returns the candidate lines."""
        if not re.search(r"^a=ice-ufrag:", frag, re.M) or not re.search(r"^a=ice-pwd:", frag, re.M):
            raise ValueError("the fragment has no a=ice-ufrag / a=ice-pwd")
        mline, added = 0, []
        for line in frag.replace("\r\n", "\n").split("\n"):
            if line.startswith("a=mid:"):
                mid = line[6:].strip()
                if mid not in self.mids:
                    raise ValueError(f"a=mid:{mid} is not in the offer")
                mline = self.mids.index(mid)
            elif line.startswith("a=ice-ufrag:") and line[12:].strip() not in self.ufrags:
                raise ValueError("a=ice-ufrag is not the offer's (an ICE restart: not supported)")
            elif line.startswith("a=candidate:"):
                self.peer.wb.emit("add-ice-candidate", mline, line[2:].strip())
                added.append(line)
        return added

    def close(self):
        self.peer.close()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, opts):
        super().__init__(("127.0.0.1", port), Handler)
        self.opts, self.sessions, self.next_id, self.lock = opts, {}, 0, threading.Lock()

    def link_headers(self):
        out = []
        for uri in self.opts.ice_server or ():
            link = f'<{uri}>; rel="ice-server"'
            if uri.startswith("turn") and self.opts.ice_username:
                link += (f'; username="{self.opts.ice_username}"; credential="{self.opts.ice_credential}"; '
                         'credential-type="password"')
            out.append(link)
        return out


class Handler(http.server.BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=(), what=""):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        log(f"{self.command} {self.path}: {status}{' ' + what if what else ''}")

    def authorized(self):
        token = self.server.opts.token
        if not token or self.headers.get("Authorization") == f"Bearer {token}":
            return True
        self.reply(401, b"bearer token missing or wrong", [("WWW-Authenticate", 'Bearer realm="whep"')],
                   "(bearer token missing or wrong)")
        return False

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", 0))).decode(errors="replace")

    def session(self):
        m = re.fullmatch(r"/whep/(\d+)", self.path)
        s = m and self.server.sessions.get(m.group(1))
        if not s:
            self.reply(404, b"no such session", what="(no such session)")
        return s

    def do_POST(self):
        if not self.authorized():
            return
        if self.path != "/whep":
            return self.reply(404, b"not a WHEP endpoint")
        if self.headers.get_content_type() != "application/sdp":
            return self.reply(415, b"want application/sdp", what="(not application/sdp)")
        offer = self.body()
        with self.server.lock:
            self.server.next_id += 1
            sid = str(self.server.next_id)
        try:
            s = Session(sid, offer, self.server.opts.freq)
        except Exception as e:  # a bad offer, or webrtcbin refusing it
            return self.reply(400, f"bad offer: {e}".encode(), what=f"(bad offer: {e})")
        self.server.sessions[sid] = s
        offered = re.findall(r"^a=candidate:.*$", offer, re.M)
        headers = [("Content-Type", "application/sdp"), ("Location", f"/whep/{sid}"), ("ETag", s.etag)]
        if self.server.opts.trickle:
            headers.append(("Accept-Patch", FRAG_TYPE))
        headers += [("Link", l) for l in self.server.link_headers()]
        self.reply(201, s.answer.encode(), headers,
                   f"/whep/{sid} (offer: {len(s.mids)} m-lines, {len(offered)} candidates "
                   f"{','.join(candidate_types(offered)) or 'none'})")

    def do_PATCH(self):
        if not self.authorized():
            return
        s = self.session()
        if not s:
            return
        frag = self.body()
        if not self.server.opts.trickle:
            return self.reply(405, b"no trickle ICE here", [("Allow", "DELETE")], "(no trickle)")
        if self.headers.get_content_type() != FRAG_TYPE:
            return self.reply(415, f"want {FRAG_TYPE}".encode(), what="(wrong Content-Type)")
        if_match = self.headers.get("If-Match")
        if if_match not in (None, "*", s.etag):
            return self.reply(412, b"If-Match is not this session's ETag", what="(If-Match is not the ETag)")
        try:
            added = s.add_fragment(frag)
        except ValueError as e:
            return self.reply(400, str(e).encode(), what=f"({e})")
        self.reply(204, what=f"{len(added)} candidates ({','.join(candidate_types(added))}), If-Match "
                   f"{'matches' if if_match == s.etag else 'absent' if if_match is None else if_match}")

    def do_DELETE(self):
        if not self.authorized():
            return
        s = self.session()
        if s:
            self.server.sessions.pop(s.id, None)
            s.close()
            self.reply(200)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--no-trickle", dest="trickle", action="store_false", help="PATCH gets 405")
    ap.add_argument("--token", help="bearer token every request must carry")
    ap.add_argument("--freq", type=float, default=440, help="tone sent to clients, Hz")
    ap.add_argument("--ice-server", action="append", help="URI for a Link rel=ice-server header (repeatable)")
    ap.add_argument("--ice-username", help="TURN username for the Link headers")
    ap.add_argument("--ice-credential", help="TURN credential for the Link headers")
    opts = ap.parse_args()
    sys.path.insert(0, HERE)
    server = Server(opts.port, opts)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log(f"listening on http://127.0.0.1:{opts.port}/whep (trickle {'on' if opts.trickle else 'off'}, "
        f"{len(opts.ice_server or ())} ICE servers, {'token required' if opts.token else 'no token'})")
    stop.wait()
    server.shutdown()
    for s in list(server.sessions.values()):
        s.close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
