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
import os
import random
import socket
import struct
import sys
import time
import uuid

import mgwtest
import sigtest

A_BYTE, B_BYTE = 0x11, 0x77     # PCMU payload patterns of the two sources


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    return s


def invite(sip, gw_port, media_port):
    call_id, tag, branch = uuid.uuid4().hex, uuid.uuid4().hex[:8], "z9hG4bK" + uuid.uuid4().hex[:10]
    lport = sip.getsockname()[1]
    sdp = (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           f"m=audio {media_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")
    head = (f"INVITE sip:echo@127.0.0.1:{gw_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch={branch};rport\r\nMax-Forwards: 70\r\n"
            f"From: <sip:nat@127.0.0.1:{lport}>;tag={tag}\r\nTo: <sip:echo@127.0.0.1:{gw_port}>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:nat@127.0.0.1:{lport}>\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n")
    sip.sendto((head + sdp).encode(), ("127.0.0.1", gw_port))
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            msg = sip.recv(65535).decode(errors="replace")
        except BlockingIOError:
            time.sleep(0.02)
            continue
        if msg.startswith("SIP/2.0 200"):
            to = next(l for l in msg.split("\r\n") if l.lower().startswith(("to:", "t:")))
            to = to.split(":", 1)[1].strip()
            ack = (f"ACK sip:echo@127.0.0.1:{gw_port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{uuid.uuid4().hex[:10]};rport\r\n"
                   f"Max-Forwards: 70\r\nFrom: <sip:nat@127.0.0.1:{lport}>;tag={tag}\r\nTo: {to}\r\n"
                   f"Call-ID: {call_id}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n")
            sip.sendto(ack.encode(), ("127.0.0.1", gw_port))
            port = int(msg.split("m=audio ", 1)[1].split()[0])
            return port
        if msg.startswith("SIP/2.0 ") and int(msg[8:11]) >= 300:
            mgwtest.fail(f"INVITE refused: {msg.splitlines()[0]}")
    mgwtest.fail("no 200 to the INVITE within 10 s")


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
        gw_rtp = ("127.0.0.1", invite(sip, port, decoy.getsockname()[1]))
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
