#!/usr/bin/env python3
"""Malformed SIP and SDP over raw UDP and TCP. The gateway listens on both
(listen without a transport prefix). Each row of TABLE is sent on its own
and must get the listed SIP status (or, for what cannot be answered, no
crash); the gateway keeps running, never emits call.established for any
of them, and a good call (sipp) works afterwards."""
import random
import re
import socket
import time

import mgwtest
import sigtest
import siptest

GOOD_SDP = ("v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def sdp_with(media):
    return "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + media


def invite(transport, port, lport, body="", ctype="application/sdp", length=True, extra="", cseq="1 INVITE",
           drop=()):
    branch = "z9hG4bK" + "%08x" % random.getrandbits(32)
    tag = "%08x" % random.getrandbits(32)
    headers = [
        f"Via: SIP/2.0/{transport.upper()} 127.0.0.1:{lport};rport;branch={branch}",
        f"From: <sip:bad@127.0.0.1>;tag={tag}",
        f"To: <sip:echo@127.0.0.1:{port}>",
        f"Call-ID: {branch}@bad",
        f"CSeq: {cseq}",
        f"Contact: <sip:bad@127.0.0.1:{lport}>",
        "Max-Forwards: 70",
    ]
    headers = [h for h in headers if h.split(":")[0] not in drop]
    if body:
        headers.append(f"Content-Type: {ctype}")
    if length:
        headers.append(f"Content-Length: {len(body.encode())}")
    head = f"INVITE sip:echo@127.0.0.1:{port} SIP/2.0\r\n" + "\r\n".join(headers) + "\r\n" + extra
    return (head + "\r\n" + body).encode()


# (name, transport, message builder, expected statuses). Header errors are
# the stack's (Sofia nta: 400), SDP ones ours (sdp_checks: 400; no common
# codec: 488), sizes the stack's (NTATAG_MAXSIZE 64 KiB: 413).
TABLE = [
    ("bad CSeq header", "udp", lambda t, p, l: invite(t, p, l, GOOD_SDP, cseq="abc INVITE"), {400}),
    ("no Call-ID", "udp", lambda t, p, l: invite(t, p, l, GOOD_SDP, drop=("Call-ID",)), {400}),
    ("garbage header line", "tcp", lambda t, p, l: invite(t, p, l, GOOD_SDP, extra="Via: \x01\x02 broken\r\n"), {400}),
    ("no Content-Length on TCP", "tcp", lambda t, p, l: invite(t, p, l, GOOD_SDP, length=False), {400}),
    ("bogus m= line", "udp", lambda t, p, l: invite(t, p, l, sdp_with("m=audio notaport RTP/AVP 0\r\n")), {400, 488}),
    ("absurd port", "udp", lambda t, p, l: invite(t, p, l, sdp_with("m=audio 99999 RTP/AVP 0\r\n")), {400}),
    ("SDP without m=", "tcp", lambda t, p, l: invite(t, p, l, sdp_with("")), {400}),
    ("unknown codecs only", "udp",
     lambda t, p, l: invite(t, p, l, sdp_with("m=audio 40000 RTP/AVP 96\r\na=rtpmap:96 FOO/8000\r\n")), {488}),
    ("not SDP", "tcp", lambda t, p, l: invite(t, p, l, "hello", ctype="text/plain"), {415}),
    ("huge SDP over TCP", "tcp",
     lambda t, p, l: invite(t, p, l, GOOD_SDP + "".join(f"a=x-pad:{i:06d}{'y' * 60}\r\n" for i in range(1100))),
     {413}),
]


def send(transport, port, build, timeout=3.0):
    """Sends build(transport, port, our port); returns (the first final
    status answered, or None; the message's size)."""
    if transport == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        data = build(transport, port, s.getsockname()[1])
        s.sendto(data, ("127.0.0.1", port))
    else:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        data = build(transport, port, s.getsockname()[1])
        s.sendall(data)
    s.settimeout(0.5)
    buf = b""
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            try:
                chunk = s.recv(65536) if transport == "tcp" else s.recvfrom(65536)[0]
            except socket.timeout:
                continue
            if not chunk:
                break
            buf += chunk
            for m in re.finditer(rb"SIP/2\.0 (\d{3})", buf):
                if int(m.group(1)) >= 200:
                    return int(m.group(1)), len(data)
    finally:
        s.close()
    return None, len(data)


siptest.require_sipp()
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    gw, port = sigtest.gateway(procs, listen_prefix=None)
    for name, transport, build, expected in TABLE:
        status, size = send(transport, port, build)
        mgwtest.check(status in expected, f"{name} ({transport}, {size} bytes): {status} "
                                          f"(expected {sorted(expected, key=str)})")
        mgwtest.check(sigtest.still_running(gw), f"the gateway survives '{name}'")
    mgwtest.check(not sigtest.events(procs, gw, "call.established"), "none of them set up a call")
    rc = sigtest.run_scenario(procs, wd, port, "uac_delayed_offer")
    mgwtest.check(rc == 0, "a good call over UDP works afterwards")
    rc = sigtest.run_scenario(procs, wd, port, "uac_hold_resume", extra=["-t", "t1"])
    mgwtest.check(rc == 0, "and one over TCP")
