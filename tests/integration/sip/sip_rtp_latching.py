#!/usr/bin/env python3
"""Symmetric RTP (latching) and strict_source, with a hand-written caller.

The caller's SDP advertises an RTP port where a decoy socket only listens;
its RTP really comes from socket A (another port), as behind a NAT.
Asserted, for the echo gateway:
- the echo goes to A (where packets came from), none to the SDP's port;
- later packets from a second source B (another port, another SSRC):
  default: accepted and echoed (to A, the latched address);
  --set sip.strict_source=true: dropped, nothing of B's comes back.
"""
import random
import struct
import sys
import time

import mgwtest
import sigtest
from rawcaller import invite, udp

A_BYTE, B_BYTE = 0x11, 0x77     # PCMU payload patterns of the two sources


def stream(sender, gw_rtp, byte, seconds, receivers):
    """PCMU packets every 20 ms from `sender`; returns the payloads each receiver got."""
    ssrc, seq, ts = random.getrandbits(32), random.getrandbits(16), random.getrandbits(32)
    got = {r: [] for r in receivers}
    end = time.time() + seconds
    nxt = time.time()
    while time.time() < end:
        if time.time() >= nxt:
            hdr = struct.pack("!BBHII", 0x80, 0, seq & 0xffff, ts & 0xffffffff, ssrc)
            sender.sendto(hdr + bytes([byte]) * 160, gw_rtp)
            seq, ts, nxt = seq + 1, ts + 160, nxt + 0.02
        for r in receivers:
            try:
                while True:
                    got[r].append(r.recv(2048)[12:])
            except BlockingIOError:
                pass
        time.sleep(0.005)
    return got


def has(payloads, byte):
    return sum(1 for p in payloads if p.count(byte) > len(p) // 2)


def run(procs, strict):
    mgwtest.log(f"--- strict_source={strict}")
    gw, port = sigtest.gateway(procs, ["codecs=PCMU", f"strict_source={'true' if strict else 'false'}",
                                       "gateway.after_call=exit"], name=f"gateway-strict-{strict}")
    sip, decoy, a, b = udp(), udp(), udp(), udp()
    try:
        media = f"m=audio {decoy.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
        answer, _ = invite(sip, port, media, "nat")
        gw_rtp = ("127.0.0.1", int(answer.split("m=audio ", 1)[1].split()[0]))
        got = stream(a, gw_rtp, A_BYTE, 3.0, [a, decoy])
        mgwtest.check(has(got[a], A_BYTE) >= 50, f"the echo went to where A's RTP came from "
                      f"({has(got[a], A_BYTE)} packets of A's back at A)")
        mgwtest.check(not got[decoy], f"nothing went to the SDP's port ({len(got[decoy])} packets)")
        got = stream(b, gw_rtp, B_BYTE, 3.0, [a, b, decoy])
        b_echoed = has(got[a], B_BYTE) + has(got[b], B_BYTE)
        if strict:
            mgwtest.check(b_echoed == 0, f"strict: B's packets were dropped ({b_echoed} echoed)")
        else:
            mgwtest.check(has(got[a], B_BYTE) >= 50,
                          f"not strict: B's packets were echoed to the latched address A ({has(got[a], B_BYTE)})")
        mgwtest.check(not got[decoy], "still nothing to the SDP's port")
    finally:
        for s in (sip, decoy, a, b):
            s.close()
        procs.stop(gw)


def main():
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        run(procs, strict=False)
        run(procs, strict=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
