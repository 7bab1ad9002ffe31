#!/usr/bin/env python3
"""Spoofed datagrams to the gateway's TURN client sockets during a relayed
call (sip-sofia with `ice = "nat"`, turn-echo.toml, coturn on loopback, a
baresip caller sending a 1000 Hz tone). An attacker on another local socket
sends each of the gateway's TURN sockets forged Allocate and Refresh
successes (one lifetime 0), ChannelData on every low channel number
carrying a loud 4 kHz square wave as RTP, and a Data indication.

Asserted: the caller still hears its 1000 Hz tone through the echo; the
gateway logs the drops ("not from the TURN server's address"), each kind
at most once per allocation; no allocation is re-announced or given back
before the hang-up (coturn logs no lifetime=0 refresh until then); the
shared secret is not in the gateway's log.
"""
import os
import re
import socket
import struct
import subprocess
import sys
import time

import mgwtest
import siptest
from baresip import Baresip
from coturn import SECRET, start_coturn
from sip_turn_relay import TONE_HZ, check_tone, require_peers, start_turn_gateway

COOKIE = 0x2112A442


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * ((4 - len(v) % 4) % 4)


def xor_address(ip, port):
    raw = socket.inet_aton(ip)
    return struct.pack("!BBH", 0, 1, port ^ (COOKIE >> 16)) + bytes(a ^ b for a, b in zip(raw, struct.pack("!I", COOKIE)))


def stun(mtype, attrs):
    body = b"".join(attrs)
    return struct.pack("!HHI", mtype, len(body), COOKIE) + os.urandom(12) + body


def rtp(seq, ssrc=0x5f00f, pt=0):
    # PCMU 0x00/0x80 alternating: a full-scale 4 kHz square wave, unmistakable if it got through.
    return struct.pack("!BBHII", 0x80, pt, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, ssrc) + b"\x00\x80" * 80


def forgeries(seq):
    out = [
        stun(0x0103, [attr(0x0016, xor_address("127.0.0.1", 9)), attr(0x000D, struct.pack("!I", 600))]),  # Allocate success
        stun(0x0104, [attr(0x000D, b"\0\0\0\0")]),  # Refresh success, lifetime 0
        stun(0x0017, [attr(0x0012, xor_address("127.0.0.1", 9)), attr(0x0013, rtp(seq))]),  # Data indication
    ]
    out += [struct.pack("!HH", 0x4000 + c, 172) + rtp(seq) for c in range(16)]  # ChannelData
    return out


def turn_sockets(pid, sip_port):
    """The gateway's UDP sockets on loopback but its SIP one: its TURN clients'."""
    out = subprocess.run(["ss", "-H", "-uanp"], capture_output=True, text=True, check=True).stdout
    ports = set()
    for line in out.splitlines():
        if f"pid={pid}," not in line:
            continue
        m = re.search(r"127\.0\.0\.1:(\d+)\s", line)
        if m and int(m.group(1)) != sip_port:
            ports.add(int(m.group(1)))
    return sorted(ports)


def main():
    require_peers()
    mgwtest.require_tools("ss")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        tone = os.path.join(wd, "tone.wav")
        mgwtest.make_tone_wav(tone, TONE_HZ, 30, rate=8000, volume=0.5)
        coturn, turn_port = start_coturn(procs, wd)
        gw, gw_port = start_turn_gateway(procs, f"turn:127.0.0.1:{turn_port}?transport=udp", {"TURN_SECRET": SECRET})

        bs = Baresip(procs, wd, tone_wav=tone, codecs="PCMU")
        bs.start()
        bs.dial(f"sip:echo@127.0.0.1:{gw_port}")
        check(bs.wait_event("CALL_ESTABLISHED", 10), "the call is established")
        targets = turn_sockets(gw.pid, gw_port)
        mgwtest.log(f"the gateway's TURN sockets: {targets}")
        check(len(targets) >= 2, f"the gateway's TURN client sockets are found ({targets})")

        attacker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        attacker.bind(("127.0.0.1", 0))
        t_end, seq = time.time() + 3.5, 40000
        while time.time() < t_end:  # 50 rounds a second, as fast as the caller's own RTP
            for port in targets:
                for d in forgeries(seq):
                    attacker.sendto(d, ("127.0.0.1", port))
            seq += 1
            time.sleep(0.02)
        attacker.close()
        time.sleep(0.5)
        before_hangup = procs.output(coturn)
        bs.hangup()
        check(bs.wait_event("CALL_CLOSED", 5), "the call closes")
        bs.quit()
        check(siptest.wait_events(procs, gw, "ended", 1, 5), "the gateway ended the call")

        log = procs.output(gw)
        drops = re.findall(r"\((audio RTP|audio RTCP)\): dropped a datagram: not from the TURN server's address", log)
        check(drops, "the gateway logs the spoofed datagrams as dropped")
        check(len(drops) == len(set(drops)), f"once per kind and allocation ({len(drops)} lines)")
        check(len(re.findall(r"relayed address 127\.0\.0\.1:\d+", log)) == 2,
              "the two allocations (RTP, RTCP) are announced once each: no forged Allocate success took")
        check(not re.search(r"refreshed, .*lifetime=0", before_hangup),
              "no allocation was given back before the hang-up")
        check_tone(bs.received_wav(), "through the relay, under spoofing")
        check(SECRET not in log, "the shared secret is not in the gateway's log")
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
