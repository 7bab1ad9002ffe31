#!/usr/bin/env python3
"""pipelines/sip-to-whip.toml with relay-only TURN that cannot work: the
WebRTC leg fails with a reason, and the SIP caller gets a BYE whose Reason
header (RFC 3326) says it, within a bounded wait.

Cases, each a fresh gateway answering a hand-written caller (rawcaller):
  - expired credentials: a REST username whose expiry passed long ago, with
    the password coturn's shared secret gives it (coturn answers 401);
  - an unreachable TURN server (a loopback port nobody listens on).
Asserted: room.failed names the TURN failure; the gateway sends BYE with a
Reason naming it; the gateway exits 0 (after_call = "exit") in bounded time.
"""
import base64
import hashlib
import hmac
import os
import sys
import time

import mgwtest
from turn_relay import SECRET, start_coturn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sip"))
import rawcaller  # noqa: E402

PIPELINE = os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-to-whip.toml")
BOUND_S = 20   # BYE after the call is up, at most


def one_case(procs, name, turn_env):
    check = mgwtest.check
    sip_port, dead = mgwtest.free_port(), mgwtest.free_port()
    gw = procs.start(name, [mgwtest.MEDIAGW, "run", PIPELINE, "-v"], env={
        "SIP_LISTEN": f"udp:127.0.0.1:{sip_port}", "WHIP_URL": f"http://127.0.0.1:{dead}/whip",
        "WHEP_URL": f"http://127.0.0.1:{dead}/whep", "TURN_POLICY": "relay-only", **turn_env})
    if not procs.wait_for_output(gw, r"listening on sip:", 15):
        mgwtest.fail(f"{name}: the gateway never listened for SIP")
    sip = rawcaller.udp()
    rtp, rtcp = rawcaller.rtp_pair()
    media = f"m=audio {rtp.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
    rawcaller.invite(sip, sip_port, media)
    t0 = time.time()
    bye = rawcaller.wait_request(sip, "BYE", BOUND_S)
    reason = bye and bye.get("reason", [""])[0]
    took = time.time() - t0
    check(bye is not None, f"{name}: the gateway hung up within {BOUND_S} s ({took:.1f} s)")
    check(reason and "TURN" in reason, f"{name}: the BYE's Reason names the TURN failure ({reason})")
    check(procs.wait_for_output(gw, r"room\.failed, reason=\(string\)\"TURN\W+allocation\W+failed", 5),
          f"{name}: room.failed says the TURN allocation failed")
    try:
        rc = gw.wait(15)
    except Exception:
        rc = None
    check(rc == 0, f"{name}: the gateway exits 0 after the call: {rc}")
    for s in (sip, rtp, rtcp):
        s.close()


def main():
    mgwtest.require_tools("turnserver")
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        _, turn_port = start_coturn(procs, wd)
        user = "1600000000:mediagw"   # expired in September 2020
        password = base64.b64encode(hmac.new(SECRET.encode(), user.encode(), hashlib.sha1).digest()).decode()
        one_case(procs, "expired", {"TURN_URL": f"turn:127.0.0.1:{turn_port}", "TURN_USER": user,
                                    "TURN_PASSWORD": password})
        one_case(procs, "unreachable", {"TURN_URL": f"turn:127.0.0.1:{mgwtest.free_port()}",
                                        "TURN_SECRET": SECRET})
    return 0


if __name__ == "__main__":
    sys.exit(main())
