#!/usr/bin/env python3
"""/status during a SIP call whose caller has a hostile name (a raw SIP
caller, tests/integration/sip/rawcaller.py): the From URI's user part holds
quotes, backslashes, control characters and non-ASCII bytes - whatever the
SIP stack lets through reaches /status. Asserted: without the token 401;
with it 200 and a document that parses as JSON, naming the caller as the
gateway logged it.
"""
import http.client
import json
import os
import re
import sys

import mgwtest

sys.path.insert(0, os.path.join(mgwtest.SOURCE_ROOT, "tests", "integration", "sip"))
import rawcaller  # noqa: E402
import webrtc_common as wc  # noqa: E402

TOKEN = "status-token-3"
CALLERS = ['mal"lo\\ry\x01\x1f%22%5C%00caf\u00e9\u2603', 'caf\u00e9\u2603', 'back\\slash', 'qu"ote', 'tab\tx',
           'caf%C3%A9%22%5C%0A%FF']


def get_status(port, token=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/status", headers={"Authorization": f"Bearer {token}"} if token else {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def main():
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        gw, sip_port, http_port = wc.start_gateway(procs, ["--set", f"web.token={TOKEN}",
                                                          "--set", "gateway.after_call=rearm"])
        sip = rawcaller.udp()
        rtp, _rtcp = rawcaller.rtp_pair()
        media = f"m=audio {rtp.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        accepted = 0
        for n, user in enumerate(CALLERS):
            status, _, _, dialog = rawcaller.send_invite(sip, sip_port, media, user=user, timeout=5)
            mgwtest.log(f"INVITE from {user!r}: {status}")
            if status != 200:
                continue
            accepted += 1
            if not procs.wait_for_output(gw, r"(?s)(serving the call on.*){%d}" % accepted, 10):
                mgwtest.fail("the web node did not start with the call")
            code, _ = get_status(http_port)
            check(code == 401, f"/status without the token during the call: 401 ({code})")
            code, body = get_status(http_port, TOKEN)
            try:
                state = json.loads(body)
            except ValueError as e:
                state = None
                mgwtest.log(f"not JSON ({e}): {body!r}")
            check(code == 200 and state is not None and state["call"] == "active",
                  f"/status with the token: valid JSON ({body[:160]!r})")
            logged = re.findall(r"INVITE from (.*) to ", procs.output(gw))
            check(state is not None and logged and state["caller"] == logged[-1],
                  f"it names the caller as logged ({state and state['caller']!r} / {logged[-1:]!r})")
            rawcaller.bye(sip, dialog)
            procs.wait_for_output(gw, r"(?s)(room\.left.*){%d}" % accepted, 10)
        check(accepted > 0, f"the SIP stack took at least one hostile caller ({accepted} of {len(CALLERS)})")
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
        check(TOKEN not in procs.output(gw), "the token is not logged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
