#!/usr/bin/env python3
"""Malformed WHIP/WHEP requests to a serving webrtc-direct node get a 4xx
that says why; a well-formed offer still gets its 201 afterwards, PATCH and
DELETE work on it and not on unknown resources; the gateway keeps running and
holds no session once the tests are done. A session whose ICE fails emits
room.failed with the reason and goes away."""
import http.client
import json
import os
import re
import sys

import mgwtest

PIPELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve-tone.toml")

FINGERPRINT = ":".join(["AB"] * 32)


def offer(proto="UDP/TLS/RTP/SAVPF", fingerprint=True, ice=True, codecs="111", rtpmap="a=rtpmap:111 opus/48000/2"):
    lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
             f"m=audio 9 {proto} {codecs}", "c=IN IP4 0.0.0.0", "a=mid:0", "a=setup:actpass", "a=rtcp-mux",
             "a=recvonly", rtpmap]
    if ice:
        lines += ["a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuvwx"]
    if fingerprint:
        lines.append("a=fingerprint:sha-256 " + FINGERPRINT)
    return "\r\n".join(lines) + "\r\n"


class Client:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, body=None, ctype=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        headers = {"Content-Type": ctype} if ctype else {}
        c.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=headers)
        r = c.getresponse()
        data = r.read().decode(errors="replace")
        c.close()
        return r.status, r.reason, data, dict(r.getheaders())


def expect(client, what, method, path, status, reason_rx, body=None, ctype=None):
    got, reason, data, _ = client.request(method, path, body, ctype)
    mgwtest.check(got == status and re.search(reason_rx, reason + " " + data, re.I),
                  f"{what}: {status} with a reason matching /{reason_rx}/ (got {got} {reason!r}: {data.strip()[:120]!r})")


def main():
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        port = mgwtest.free_port()
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", PIPELINE, "-v"],
                         env={"HTTP_LISTEN": f"127.0.0.1:{port}"})
        if not procs.wait_for_output(gw, r"serving the call on", 15):
            mgwtest.fail("the gateway never served HTTP")
        c = Client(port)
        expect(c, "wrong content type", "POST", "/whep", 415, r"application/sdp", offer(), "text/plain")
        expect(c, "no content type", "POST", "/whip", 415, r"application/sdp", offer())
        expect(c, "empty body", "POST", "/whep", 400, r"empty", "", "application/sdp")
        expect(c, "not SDP", "POST", "/whep", 400, r"not an SDP", "hello, gateway", "application/sdp")
        expect(c, "plain RTP offer", "POST", "/whep", 400, r"SAVPF", offer(proto="RTP/AVP"), "application/sdp")
        expect(c, "no DTLS fingerprint", "POST", "/whep", 400, r"fingerprint", offer(fingerprint=False),
               "application/sdp")
        expect(c, "no ICE credentials", "POST", "/whip", 400, r"ice-ufrag", offer(ice=False), "application/sdp")
        expect(c, "no codec we do", "POST", "/whep", 400, r"no usable codec",
               offer(codecs="0", rtpmap="a=rtpmap:0 PCMU/8000"), "application/sdp")
        expect(c, "bogus m= line", "POST", "/whep", 400, r"SDP",
               offer().replace("m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=audio banana"), "application/sdp")
        expect(c, "huge body", "POST", "/whep", 413, r"KiB", "v=0\r\n" + "a=x\r\n" * 40000, "application/sdp")
        expect(c, "GET on the endpoint", "GET", "/whip", 405, r"POST")
        expect(c, "unknown path", "GET", "/nothing", 404, r"no such resource")
        expect(c, "PATCH of an unknown session", "PATCH", "/whep/999", 404, r"no such session",
               "a=candidate:1 1 UDP 1 127.0.0.1 9 typ host\r\n", "application/trickle-ice-sdpfrag")
        expect(c, "DELETE of an unknown session", "DELETE", "/whip/999", 404, r"no such session")

        # A well-formed offer after all that: answered, with candidates.
        status, _, answer, headers = c.request("POST", "/whep", offer(), "application/sdp")
        location = headers.get("Location", "")
        mgwtest.check(status == 201 and location.startswith("/whep/"), f"a good offer: 201 + Location ({status} {location})")
        mgwtest.check("a=candidate:" in answer and "opus/48000" in answer.lower() and "a=sendonly" in answer,
                      "the answer sends Opus and carries its candidates")
        expect(c, "PATCH with the wrong content type", "PATCH", location, 415, r"trickle-ice-sdpfrag",
               "a=candidate:1 1 UDP 1 127.0.0.1 9 typ host\r\n", "application/sdp")
        expect(c, "PATCH without a candidate", "PATCH", location, 400, r"no a=candidate", "a=mid:0\r\n",
               "application/trickle-ice-sdpfrag")
        expect(c, "PATCH trickling a candidate", "PATCH", location, 204, r"",
               "a=mid:0\r\na=candidate:1 1 UDP 2122260223 127.0.0.1 9 typ host\r\n",
               "application/trickle-ice-sdpfrag")
        expect(c, "DELETE of the session", "DELETE", location, 200, r"")
        expect(c, "DELETE again", "DELETE", location, 404, r"no such session")

        # A session whose only remote candidate answers nothing (port 9, discard):
        # ICE fails, room.failed says so, the session goes away by itself.
        status, _, _, headers = c.request("POST", "/whep", offer(), "application/sdp")
        dead = headers.get("Location", "")
        c.request("PATCH", dead, "a=mid:0\r\na=candidate:1 1 UDP 2122260223 127.0.0.1 9 typ host\r\n",
                  "application/trickle-ice-sdpfrag")
        mgwtest.check(procs.wait_for_output(gw, r'room\.failed, reason=\(string\)"ICE\\ failure', 40),
                      "an unreachable browser: room.failed with reason ICE failure")
        expect(c, "the failed session is gone", "DELETE", dead, 404, r"no such session")

        status, _, body, _ = c.request("GET", "/status")
        state = json.loads(body)
        mgwtest.check(status == 200 and state["sessions"] == 0, f"no session left behind ({body.strip()})")
        status, _, page, _ = c.request("GET", "/")
        mgwtest.check(status == 200 and "RTCPeerConnection" in page, "the page is still served")
        mgwtest.check(gw.poll() is None, "the gateway is still running")
        rc = procs.stop(gw)
        mgwtest.check(rc == 0, f"the gateway stops cleanly on SIGTERM (exit {rc})")
        mgwtest.check("drain timeout" not in procs.output(gw), "the drain completed (no timeout)")


if __name__ == "__main__":
    sys.exit(main())
