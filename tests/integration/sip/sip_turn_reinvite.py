#!/usr/bin/env python3
"""A re-INVITE that moves the caller's RTP re-binds the gateway's TURN
channel to the new address (sip-sofia with `ice = "nat"`, turn-echo.toml,
coturn on loopback, a hand-written caller).

Asserted: the answer announces a relayed port of coturn's and RTCP's relay
(a=rtcp, RFC 3605, unless it happens to be the RTP port + 1); RTP from the
caller's port A comes back to A through the relay (its source is the relay);
after a re-INVITE offering port B, the echo goes to B and no longer to A;
the gateway binds a second channel to B and coturn logs two channel
bindings per the RTP allocation; the BYE gets 200.
"""
import re
import sys
import time

import mgwtest
import rawcaller
from coturn import SECRET, start_coturn
from sip_rtp_latching import Sender, has, stream
from sip_turn_relay import start_turn_gateway

A_BYTE, B_BYTE = 0x11, 0x77


def media(sock):
    return f"m=audio {sock.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"


def relayed(answer):
    addr = re.search(r"c=IN IP4 (\S+)", answer).group(1)
    return addr, int(re.search(r"m=audio (\d+)", answer).group(1))


def main():
    mgwtest.require_tools("turnserver")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        coturn, turn_port = start_coturn(procs, wd)
        gw, port = start_turn_gateway(procs, f"turn:127.0.0.1:{turn_port}?transport=udp", {"TURN_SECRET": SECRET})
        sip, a, b = rawcaller.udp(), rawcaller.udp(), rawcaller.udp()
        b_port = b.getsockname()[1]
        try:
            answer, dialog = rawcaller.invite(sip, port, media(a))
            relay = relayed(answer)
            check(relay[1] in coturn.relay_ports, f"the answer announces the relay {relay}")
            rtcp = int(re.search(r"\(audio RTCP\): relayed address 127\.0\.0\.1:(\d+)", procs.output(gw)).group(1))
            announced = re.search(r"a=rtcp:(\d+) IN IP4 127\.0\.0\.1", answer)
            check(announced.group(1) == str(rtcp) if announced else rtcp == relay[1] + 1,
                  f"the answer announces RTCP's relay {rtcp} (a=rtcp unless it is the RTP port + 1)")
            got = stream([Sender(a, A_BYTE)], relay, 2.0, [a])
            check(has(got[a], A_BYTE) >= 40, f"A's RTP comes back to A through the relay ({has(got[a], A_BYTE)} packets)")

            answer = rawcaller.reinvite(sip, dialog, media(b))
            check(relayed(answer) == relay, "the re-INVITE's answer keeps the relayed address")
            time.sleep(0.3)   # the new channel's binding
            got = stream([Sender(b, B_BYTE)], relay, 2.0, [a, b])
            check(has(got[b], B_BYTE) >= 40, f"after the re-INVITE the echo goes to B ({has(got[b], B_BYTE)} packets)")
            check(not got[a], f"and no longer to A ({len(got[a])} packets)")
            status = rawcaller.bye(sip, dialog, cseq=3)
            check(status == 200, f"BYE answered 200 ({status})")
        finally:
            for s in (sip, a, b):
                s.close()
        log = procs.output(gw)
        check(re.search(rf"\(audio RTP\): channel \d+ bound to 127\.0\.0\.1:{b_port}\b", log) and
              len(re.findall(r"\(audio RTP\): channel \d+ bound", log)) == 2,
              f"the gateway bound a second channel, to B's port {b_port}")
        time.sleep(0.3)
        check(len(re.findall(r"CHANNEL_BIND processed, success", procs.output(coturn))) >= 4,
              "coturn logs the channel bindings (RTP and RTCP, before and after)")
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
