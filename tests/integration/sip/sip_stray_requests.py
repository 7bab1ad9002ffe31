#!/usr/bin/env python3
"""Requests outside any dialog cost nothing lasting: bursts of 5,000
UPDATEs and 5,000 INFOs for dialogs that do not exist (each its own
Call-ID, as a scanner sends them) are answered 481 and their Sofia handles
freed. Each request's server transaction holds ~8 KB for Timer J (32 s
over UDP): a burst costs ~80 MB of RSS, given back to the allocator when
the transactions end (a flood's cost is its rate x 32 s: README,
Security). Asserted: every request gets 481; after the first burst has
expired, a second one grows RSS by less than 3 MB; fds flat; a call
afterwards is echoed."""
import socket
import sys
import time
import uuid

import hostile
import mgwtest
import sigtest
from rawcaller import bye, invite, udp
from sip_rtp_latching import Sender, has, stream


def stray(sock, port, method, i):
    call_id = uuid.uuid4().hex
    msg = (f"{method} sip:echo@127.0.0.1:{port} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{sock.getsockname()[1]};branch=z9hG4bK{call_id[:12]};rport\r\n"
           f"Max-Forwards: 70\r\nFrom: <sip:scan@127.0.0.1>;tag=a{i}\r\nTo: <sip:echo@127.0.0.1>;tag=b{i}\r\n"
           f"Call-ID: {call_id}\r\nCSeq: 2 {method}\r\nContent-Length: 0\r\n\r\n")
    sock.sendto(msg.encode(), ("127.0.0.1", port))


def main():
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        gw, port = sigtest.gateway(procs, ["codecs=PCMU"])
        s = udp()
        answers = {}

        def drain():
            try:
                while True:
                    first = s.recv(65535).split(b"\r\n", 1)[0].decode(errors="replace")
                    answers[first[8:11]] = answers.get(first[8:11], 0) + 1
            except BlockingIOError:
                pass

        def burst():
            for method in ("UPDATE", "INFO"):
                for i in range(5000):
                    stray(s, port, method, i)
                    if i % 20 == 0:
                        time.sleep(0.004)
                        drain()
            time.sleep(1.0)
            drain()

        start = hostile.usage(gw.pid)
        burst()
        first = hostile.usage(gw.pid)
        time.sleep(34)   # Timer J: the transactions end, their memory goes back to the allocator
        burst()
        second = hostile.usage(gw.pid)
        mgwtest.log(f"answers: {answers}; idle {hostile.describe(start)}, after a burst {hostile.describe(first)}, "
                    f"after another one 35 s later {hostile.describe(second)}")
        mgwtest.check(answers.get("481", 0) >= 19800, f"stray requests answered 481 ({answers})")
        mgwtest.check(second[2] - first[2] < 3 * 1024,
                      f"the second burst reuses the first one's memory: RSS {first[2]} -> {second[2]} kB")
        mgwtest.check(second[1] <= start[1] + 2, f"fds flat ({start[1]} -> {second[1]})")
        s.close()

        sip, a = udp(), udp()
        answer, dialog = invite(sip, port, f"m=audio {a.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        gw_rtp = ("127.0.0.1", int(answer.split("m=audio ", 1)[1].split()[0]))
        got = stream([Sender(a, 0x3c)], gw_rtp, 1.0, [a])
        mgwtest.check(has(got[a], 0x3c) >= 40, f"a call afterwards is echoed ({has(got[a], 0x3c)})")
        mgwtest.check(bye(sip, dialog, cseq=2) == 200, "its BYE answered 200")
        sip.close()
        a.close()
        mgwtest.check(procs.stop(gw) == 0, "the gateway stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
