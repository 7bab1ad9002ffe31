#!/usr/bin/env python3
"""A hostile peer against the SIP leg (sip-echo, allow_sources =
127.0.0.1): good calls keep working while everything below arrives, and
the gateway's threads, file descriptors and memory stay bounded (printed).

The attacker sends from 127.0.0.2 (another loopback address), the good
caller from 127.0.0.1:
- 3,000 mutated and random SIP datagrams over UDP (truncated, flipped,
  shuffled, lying Content-Length, random bytes) and 300 over TCP, one
  connection each; a 60 KB header line over UDP and a 200 KB one over TCP;
- 100 slow TCP clients holding half a request (cut by the gateway after
  10 s) and 50 that connect and send nothing;
- 3,000 garbage datagrams (random, RTP, RTCP, STUN- and DTLS-looking) to
  every UDP port the gateway has open (SIP, RTP, RTCP) mid-call.
Asserted: every attack INVITE that parses is refused (403, allow_sources),
none is answered 200; the call's echo (PCMU pattern) goes on through the
attacks; after them a second call is answered and echoed; the half-request
connections are gone within 15 s, every attacker connection within 75 s of
its close (Sofia leaves a connection closed after garbage in CLOSE-WAIT
until the 60 s idle timeout); threads +2, fds +10 and RSS +20 MB at most
against the idle gateway once the attackers are done.
"""
import random
import socket
import sys
import threading
import time

import hostile
import mgwtest
import sigtest
from rawcaller import invite, bye, udp
from sip_rtp_latching import Sender, has, stream

ATTACKER = "127.0.0.2"
A_BYTE = 0x11

SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n"
       "m=audio 5004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")
TEMPLATE = ("INVITE sip:echo@127.0.0.1:{port} SIP/2.0\r\n"
            "Via: SIP/2.0/{transport} 127.0.0.2:5099;branch=z9hG4bK{branch};rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:mallory@127.0.0.2>;tag=7\r\nTo: <sip:echo@127.0.0.1>\r\n"
            "Call-ID: {branch}@127.0.0.2\r\nCSeq: 1 INVITE\r\nContact: <sip:mallory@127.0.0.2:5099>\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(SDP)}\r\n\r\n" + SDP)


def attacker_udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ATTACKER, 0))
    s.setblocking(False)
    return s


def drain_answers(sock, answers):
    try:
        while True:
            first = sock.recv(65535).split(b"\r\n", 1)[0]
            if first.startswith(b"SIP/2.0 "):
                answers[first[8:11].decode(errors="replace")] = answers.get(first[8:11].decode(errors="replace"), 0) + 1
    except (BlockingIOError, ConnectionRefusedError):
        pass


def sip_flood(port, answers):
    s = attacker_udp()
    try:
        msgs = hostile.mutated_sip(TEMPLATE.format(port=port, transport="UDP", branch="x1"), 3000)
        for i, m in enumerate(msgs):
            s.sendto(m[:65000], ("127.0.0.1", port))
            if i % 50 == 0:
                drain_answers(s, answers)
                time.sleep(0.01)
        # Valid INVITEs too: these parse, so they meet the policy.
        for i in range(200):
            s.sendto(TEMPLATE.format(port=port, transport="UDP", branch=f"v{i}").encode(), ("127.0.0.1", port))
            time.sleep(0.002)
            drain_answers(s, answers)
        s.sendto(b"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nX-Big: " + b"A" * 60000 + b"\r\n\r\n", ("127.0.0.1", port))
        time.sleep(0.5)
        drain_answers(s, answers)
    finally:
        s.close()


def tcp_flood(port):
    for i, m in enumerate(hostile.mutated_sip(TEMPLATE.format(port=port, transport="TCP", branch="t1"), 300, seed=3)):
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=2, source_address=(ATTACKER, 0))
            c.sendall(m)
            c.close()
        except OSError:
            pass
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=2, source_address=(ATTACKER, 0))
        c.sendall(b"INVITE sip:x@127.0.0.1 SIP/2.0\r\nX-Big: " + b"B" * 200000 + b"\r\n\r\n")
        c.close()
    except OSError:
        pass


def slow_clients(port, n_half, n_idle):
    socks = []
    for i in range(n_half + n_idle):
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=2, source_address=(ATTACKER, 0))
            if i < n_half:
                c.sendall(b"INVITE sip:echo@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.2")
            socks.append(c)
        except OSError:
            pass
    return socks


def connections_from_attacker(pid, established_only=False):
    """TCP sockets the gateway holds whose peer is the attacker address (all,
    or only those still open both ways: not yet shut down by the gateway)."""
    inodes = hostile.socket_inodes(pid)
    n = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            cols = line.split()
            if cols[9] in inodes and cols[2].startswith("0200007F"):  # 127.0.0.2, little-endian hex
                n += not established_only or cols[3] == "01"
    return n


def echo_call(port, seconds, during=None):
    """A good call from 127.0.0.1; `during` runs in a thread while its media
    streams. Returns the number of echoed packets."""
    sip, a = udp(), udp()
    try:
        answer, dialog = invite(sip, port, f"m=audio {a.getsockname()[1]} RTP/AVP 0\r\n"
                                           "a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")
        gw_rtp = ("127.0.0.1", int(answer.split("m=audio ", 1)[1].split()[0]))
        worker = threading.Thread(target=during) if during else None
        if worker:
            worker.start()
        got = stream([Sender(a, A_BYTE)], gw_rtp, seconds, [a])
        if worker:
            worker.join(60)
        status = bye(sip, dialog, cseq=2)
        mgwtest.check(status == 200, f"the good call's BYE answered 200 ({status})")
        return has(got[a], A_BYTE)
    finally:
        sip.close()
        a.close()


def main():
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        try:
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind((ATTACKER, 0))
        except OSError:
            mgwtest.skip(f"cannot bind {ATTACKER} (no 127.0.0.0/8 on lo)")
        gw, port = sigtest.gateway(procs, ["codecs=PCMU", "allow_sources=127.0.0.1"], listen_prefix="")
        time.sleep(0.5)
        idle = hostile.usage(gw.pid)
        mgwtest.log(f"idle gateway: {hostile.describe(idle)}")

        answers = {}
        slow = []

        def attacks():
            slow.extend(slow_clients(port, 100, 50))
            sip_flood(port, answers)
            tcp_flood(port)
            blasted.extend(hostile.blast(gw.pid, 3000, source=ATTACKER))

        blasted = []
        echoed = echo_call(port, 8.0, attacks)
        mgwtest.log(f"answers to the attacker: {answers}; garbage sent to UDP ports {blasted}")
        mgwtest.check(echoed >= 300, f"the call's echo went on through the attacks ({echoed} of ~400 packets)")
        mgwtest.check(sigtest.still_running(gw), "the gateway is still running")
        mgwtest.check(not answers.get("200"), "no attacker INVITE was answered 200")
        mgwtest.check(answers.get("403", 0) >= 150, f"the attacker's parseable INVITEs got 403 ({answers.get('403', 0)})")
        mgwtest.check(len(blasted) >= 3, f"the garbage reached SIP, RTP and RTCP ports ({blasted})")
        during = hostile.usage(gw.pid)
        mgwtest.log(f"under attack (150 slow connections held): {hostile.describe(during)}")

        echoed = echo_call(port, 3.0)
        mgwtest.check(echoed >= 100, f"a second call is answered and echoed while slow clients hold on ({echoed})")

        deadline = time.time() + 15
        while time.time() < deadline and connections_from_attacker(gw.pid, True) > 50:
            time.sleep(0.5)
        held = connections_from_attacker(gw.pid, True)
        mgwtest.check(held <= 50, f"the half-request connections were shut down within 15 s ({held} attacker "
                      "connections still open: the 50 that never sent a byte)")
        for c in slow:
            c.close()
        start = time.time()
        while time.time() < start + 75 and connections_from_attacker(gw.pid):
            time.sleep(1)
        held = connections_from_attacker(gw.pid)
        mgwtest.check(held == 0, f"every attacker connection is gone {time.time() - start:.0f} s after the "
                      f"attacker closed them ({held} left; idle timeout 60 s)")
        after = hostile.usage(gw.pid)
        mgwtest.log(f"after the attacks: {hostile.describe(after)}")
        mgwtest.check(after[0] <= idle[0] + 2, f"threads bounded ({idle[0]} -> {after[0]})")
        mgwtest.check(after[1] <= idle[1] + 10, f"file descriptors bounded ({idle[1]} -> {after[1]})")
        if hostile.rss_meaningful():
            mgwtest.check(after[2] <= idle[2] + 20 * 1024, f"memory bounded ({idle[2]} -> {after[2]} kB)")
        mgwtest.check(procs.stop(gw) == 0, "the gateway stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
