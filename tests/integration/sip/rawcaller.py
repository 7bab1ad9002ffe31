"""A hand-written SIP caller over UDP on loopback, for what no real peer
here can play: RTP from another port than the SDP says, RTCP feedback made
by hand, in-dialog requests from the gateway received and checked.
All sockets are non-blocking.

- udp(port), rtp_pair(): sockets; parse(msg), reply_200(): SIP messages.
- invite(sip, gw_port, media, user): INVITE with the given m= lines, ACK of
  the 200; returns (the answer's SDP, the dialog). send_invite(): the same,
  returning whatever final response came (a refusal too).
- request(sip, dialog, method, cseq, ...): an in-dialog request.
- reinvite(sip, dialog, media, cseq): a re-INVITE, its 200 ACKed; the answer.
- bye(sip, dialog, cseq): BYE; returns the response's status, answering the
  gateway's own requests meanwhile.
- wait_request(sip, method, timeout): the gateway's next `method` request
  (e.g. its BYE), answered 200; its headers.
"""
import socket
import time
import uuid

import mgwtest

COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "c": "content-type", "l": "content-length"}


def udp(port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.setblocking(False)
    return s


def rtp_pair():
    """An even RTP port and the RTCP one after it."""
    for _ in range(50):
        rtp = udp()
        port = rtp.getsockname()[1]
        if port % 2 == 0:
            try:
                return rtp, udp(port + 1)
            except OSError:
                pass
        rtp.close()
    mgwtest.fail("no free even/odd UDP port pair")


def parse(msg):
    """(first line, {lower-case header: [values]}, body) of a SIP message."""
    head, _, body = msg.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            k = k.strip().lower()
            headers.setdefault(COMPACT.get(k, k), []).append(v.strip())
    return lines[0], headers, body


def reply_200(sip, msg, addr):
    """A 200 to request `msg`: its Via, From, To, Call-ID and CSeq copied."""
    _, h, _ = parse(msg)
    resp = "SIP/2.0 200 OK\r\n"
    for name in ("via", "from", "to", "call-id", "cseq"):
        for v in h.get(name, []):
            resp += f"{name.title() if name != 'call-id' else 'Call-ID'}: {v}\r\n"
    resp += "Content-Length: 0\r\n\r\n"
    sip.sendto(resp.encode(), addr)


def _head(method, d, cseq, to, extra="", branch=None):
    lport = d["lport"]
    branch = branch or "z9hG4bK" + uuid.uuid4().hex[:10]
    return (f"{method} sip:echo@127.0.0.1:{d['gw_port']} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch={branch};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:{d['user']}@127.0.0.1:{lport}>;tag={d['tag']}\r\nTo: {to}\r\n"
            f"Call-ID: {d['call_id']}\r\nCSeq: {cseq} {method}\r\n{extra}")


def request(sip, d, method, cseq, content_type=None, body=""):
    extra = f"Content-Type: {content_type}\r\n" if content_type else ""
    msg = _head(method, d, cseq, d["to"], extra) + f"Content-Length: {len(body)}\r\n\r\n" + body
    sip.sendto(msg.encode(), ("127.0.0.1", d["gw_port"]))


def send_invite(sip, gw_port, media, user="caller", timeout=10):
    """INVITE offering the m= lines `media` (CRLF-terminated); the final
    response, ACKed, as (status, headers, body, dialog), or (None, {}, "",
    dialog) when none came within `timeout` s."""
    d = {"call_id": uuid.uuid4().hex, "tag": uuid.uuid4().hex[:8], "lport": sip.getsockname()[1],
         "gw_port": gw_port, "user": user}
    sdp = f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n{media}"
    contact = f"Contact: <sip:{user}@127.0.0.1:{d['lport']}>\r\nContent-Type: application/sdp\r\n"
    branch = "z9hG4bK" + uuid.uuid4().hex[:10]
    msg = (_head("INVITE", d, 1, f"<sip:echo@127.0.0.1:{gw_port}>", contact, branch) +
           f"Content-Length: {len(sdp)}\r\n\r\n{sdp}")
    sip.sendto(msg.encode(), ("127.0.0.1", gw_port))
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            msg = sip.recv(65535).decode(errors="replace")
        except BlockingIOError:
            time.sleep(0.02)
            continue
        first, h, body = parse(msg)
        if not first.startswith("SIP/2.0 ") or int(first[8:11]) < 200:
            continue
        status = int(first[8:11])
        d["to"] = h["to"][0]
        if status < 300:
            request(sip, d, "ACK", 1)
        else:  # the ACK of a refusal belongs to the INVITE's transaction
            ack = _head("ACK", d, 1, d["to"], "", branch) + "Content-Length: 0\r\n\r\n"
            sip.sendto(ack.encode(), ("127.0.0.1", gw_port))
        return status, h, body, d
    return None, {}, "", d


def invite(sip, gw_port, media, user="caller"):
    """INVITE offering the m= lines `media` (CRLF-terminated), ACK of the 200.
    Returns (the answer's SDP, the dialog); fails the test on a refusal."""
    status, h, body, d = send_invite(sip, gw_port, media, user)
    if status is None:
        mgwtest.fail("no 200 to the INVITE within 10 s")
    if status >= 300:
        mgwtest.fail(f"INVITE refused: {status}")
    return body, d


def reinvite(sip, d, media, cseq=2, timeout=5):
    """An in-dialog INVITE offering `media`; ACKs its 200 and returns the
    answer's SDP, or fails the test."""
    sdp = f"v=0\r\no=- 1 {cseq} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n{media}"
    contact = f"Contact: <sip:{d['user']}@127.0.0.1:{d['lport']}>\r\nContent-Type: application/sdp\r\n"
    msg = _head("INVITE", d, cseq, d["to"], contact) + f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
    sip.sendto(msg.encode(), ("127.0.0.1", d["gw_port"]))
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            first, h, body = parse(sip.recv(65535).decode(errors="replace"))
        except BlockingIOError:
            time.sleep(0.02)
            continue
        if first.startswith("SIP/2.0 ") and h.get("cseq", [""])[0].endswith("INVITE") and int(first[8:11]) >= 200:
            if not first.startswith("SIP/2.0 200"):
                mgwtest.fail(f"re-INVITE refused: {first}")
            request(sip, d, "ACK", cseq)
            return body
    mgwtest.fail(f"no answer to the re-INVITE within {timeout} s")


def _incoming(sip, timeout):
    """(first line, headers, message) of each message arriving within
    `timeout` s; the gateway's requests (but ACK) are answered 200 first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            data, addr = sip.recvfrom(65535)
        except BlockingIOError:
            time.sleep(0.02)
            continue
        msg = data.decode(errors="replace")
        first, h, _ = parse(msg)
        if not first.startswith("SIP/2.0") and not first.startswith("ACK"):
            reply_200(sip, msg, addr)
        yield first, h, msg


def bye(sip, d, cseq=2, timeout=5):
    """BYE; the status of its response (None without one). The gateway's own
    requests meanwhile get a 200."""
    request(sip, d, "BYE", cseq)
    for first, h, _ in _incoming(sip, timeout):
        if first.startswith("SIP/2.0") and h.get("cseq", [""])[0].endswith("BYE"):
            return int(first.split()[1])
    return None


def wait_request(sip, method, timeout):
    """Answers the gateway's requests with 200 until one is `method`: its
    headers ({lower-case name: [values]}), or None after `timeout` s."""
    for first, h, _ in _incoming(sip, timeout):
        if first.startswith(method + " "):
            return h
    return None
