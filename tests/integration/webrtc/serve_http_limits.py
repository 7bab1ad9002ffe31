#!/usr/bin/env python3
"""The served room's HTTP side under abuse (serve mode, bearer token set):

  - /status without a token or with a wrong one: 401; with it: 200 and JSON
    that parses;
  - a chunked upload over 64 KiB to /whip: 413 (the client sends it all and
    reads the answer), the gateway keeps running and still answers offers;
  - an endless chunked upload and a 32 MiB body with its Content-Length: cut
    off (413 or a closed connection) without the gateway's memory growing by
    the body size (VmRSS measured before and after);
  - connections the clients close do not stay open in the gateway (libsoup
    3.2 leaked each idle keep-alive connection: descriptors counted);
  - the token is not logged.
"""
import http.client
import json
import os
import socket
import sys
import time

import mgwtest
from whip_bad_input import offer

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "limits-token-7"
MIB = 1024 * 1024


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def request(port, method, path, body=None, headers=None, chunked=False):
    """(status, reason, body text) or (None, error, '') when the connection broke."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        r = c.getresponse()
        return r.status, r.reason, r.read().decode(errors="replace")
    except (ConnectionError, socket.timeout, http.client.HTTPException) as e:
        return None, f"{type(e).__name__}: {e}", ""
    finally:
        c.close()


def chunks(total, size=16 * 1024):
    block = b"a=x" + b"y" * (size - 5) + b"\r\n"
    sent = 0
    while sent < total:
        yield block
        sent += len(block)


def main():
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        port = mgwtest.free_port()
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", os.path.join(HERE, "serve-tone.toml"), "-v"],
                         env={"HTTP_LISTEN": f"127.0.0.1:{port}", "TOKEN": TOKEN})
        if not procs.wait_for_output(gw, r"serving the call on", 15):
            mgwtest.fail("the gateway never served HTTP")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        sdp = {"Content-Type": "application/sdp"}

        status, reason, body = request(port, "GET", "/status")
        check(status == 401, f"/status without a token: 401 ({status} {reason})")
        status, reason, body = request(port, "GET", "/status", headers={"Authorization": "Bearer wrong"})
        check(status == 401 and "wrong" in body, f"/status with a wrong token: 401 ({status} {body.strip()!r})")
        status, reason, body = request(port, "GET", "/status", headers=auth)
        try:
            state = json.loads(body)
        except ValueError:
            state = None
        check(status == 200 and state is not None and state.get("call") == "active" and state.get("sessions") == 0,
              f"/status with the token: 200 and JSON ({status} {body.strip()!r})")
        status, _, page = request(port, "GET", "/")
        check(status == 200 and "RTCPeerConnection" in page, "the page needs no token")

        # Chunked: no Content-Length to refuse it by. Memory is measured once
        # the pipeline (tone, VP8 pattern) has settled.
        time.sleep(2)
        rss0 = rss_kib(gw.pid)
        status, reason, body = request(port, "POST", "/whip", chunks(200 * 1024), {**auth, **sdp}, chunked=True)
        check(status == 413 and "64 KiB" in reason + body,
              f"a chunked 200 KiB upload: 413 naming the bound ({status} {reason!r} {body.strip()!r})")
        check(gw.poll() is None, "the gateway keeps running")

        t0 = time.monotonic()
        status, reason, _ = request(port, "POST", "/whip", chunks(64 * MIB), {**auth, **sdp}, chunked=True)
        took = time.monotonic() - t0
        check(status in (413, None), f"an endless chunked upload is cut off ({status} {reason!r}, {took:.1f} s)")

        big = b"v=0\r\n" + b"a=x\r\n" * (32 * MIB // 5)
        status, reason, _ = request(port, "POST", "/whep", big, {**auth, **sdp})
        check(status in (413, None), f"a 32 MiB body with its Content-Length is refused ({status} {reason!r})")
        time.sleep(0.5)
        rss1 = rss_kib(gw.pid)
        grew = (rss1 - rss0) / 1024
        mgwtest.log(f"gateway VmRSS: {rss0 / 1024:.1f} MiB before the uploads, {rss1 / 1024:.1f} MiB after")
        check(grew < 16, f"the gateway's memory did not grow by the bodies (+{grew:.1f} MiB for ~96 MiB sent)")

        fds0 = len(os.listdir(f"/proc/{gw.pid}/fd"))
        for _ in range(40):
            request(port, "GET", "/status", headers=auth)
        time.sleep(0.5)
        fds1 = len(os.listdir(f"/proc/{gw.pid}/fd"))
        check(fds1 - fds0 < 5, f"40 requests leave no connection open ({fds0} descriptors before, {fds1} after)")

        status, _, answer = request(port, "POST", "/whep", offer(), {**auth, **sdp})
        check(status == 201 and "a=candidate:" in answer, f"a good offer afterwards still gets its 201 ({status})")
        status, _, body = request(port, "GET", "/status", headers=auth)
        check(status == 200 and json.loads(body)["sessions"] == 1, f"/status counts it ({body.strip()})")
        check(gw.poll() is None, "the gateway is still running")
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
        check(TOKEN not in procs.output(gw), "the token is not logged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
