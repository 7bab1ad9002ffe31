"""A hand-written SIP caller over UDP on loopback, for what no real peer
here can play: RTP from another port than the SDP says, RTCP feedback made
by hand, in-dialog requests from the gateway received and checked.
All sockets are non-blocking.

- udp(port, host), rtp_pair(): sockets; parse(msg), reply_200(): SIP messages.
- invite(sip, gw_port, media, user, gw_host): INVITE with the given m= lines,
  ACK of the 200; returns (the answer's SDP, the dialog). send_invite(): the
  same, returning whatever final response came (a refusal too). The caller's
  own address (Via, Contact, SDP) is its socket's; gw_host is the gateway's
  (127.0.0.1 unless it runs in a network namespace of the test).
- request(sip, dialog, method, cseq, ...): an in-dialog request.
- reinvite(sip, dialog, media, cseq): a re-INVITE, its 200 ACKed; the answer.
- bye(sip, dialog, cseq): BYE; returns the response's status, answering the
  gateway's own requests meanwhile.
- wait_request(sip, method, timeout): the gateway's next `method` request
  (e.g. its BYE), answered 200; its headers.
- invite_without_sdp(sip, gw_port, media): a delayed offer (RFC 3261 13.2.1):
  INVITE without a body, the 200's offer answered in the ACK.
- opus_vp8_media(audio, video): m= lines for Opus + VP8 (AVPF, nack pli);
  pli(media_ssrc) builds a PLI, plis(pkt) reads them.
- g711_tone(), RtpStream, g711_wav(): G.711 RTP (PCMU or PCMA) of a tone
  sent in real time, the RTP coming back collected, its payload decoded to
  a wav (sox).
"""
import os
import random
import socket
import struct
import subprocess
import time
import uuid

import mgwtest

COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "c": "content-type", "l": "content-length"}


def udp(port=0, host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port))
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
    lport, host, gw_host = d["lport"], d.get("host", "127.0.0.1"), d.get("gw_host", "127.0.0.1")
    branch = branch or "z9hG4bK" + uuid.uuid4().hex[:10]
    return (f"{method} sip:{d.get('request_user', 'echo')}@{gw_host}:{d['gw_port']} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {host}:{lport};branch={branch};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: {d.get('display', '')}<sip:{d['user']}@{host}:{lport}>;tag={d['tag']}\r\n"
            f"To: {to}\r\n"
            f"Call-ID: {d['call_id']}\r\nCSeq: {cseq} {method}\r\n{extra}")


def request(sip, d, method, cseq, content_type=None, body=""):
    extra = f"Content-Type: {content_type}\r\n" if content_type else ""
    msg = _head(method, d, cseq, d["to"], extra) + f"Content-Length: {len(body)}\r\n\r\n" + body
    sip.sendto(msg.encode(), (d.get("gw_host", "127.0.0.1"), d["gw_port"]))


def send_invite(sip, gw_port, media, user="caller", timeout=10, gw_host="127.0.0.1", request_user="echo",
                headers="", display=""):
    """INVITE offering the m= lines `media` (CRLF-terminated) to
    sip:`request_user`@gateway, with `headers` (CRLF-terminated lines) added;
    From carries `display` as its display name; the final response, ACKed, as (status, headers, body, dialog), or (None,
    {}, "", dialog) when none came within `timeout` s."""
    host = sip.getsockname()[0]
    d = {"call_id": uuid.uuid4().hex, "tag": uuid.uuid4().hex[:8], "lport": sip.getsockname()[1],
         "gw_port": gw_port, "user": user, "host": host, "gw_host": gw_host, "request_user": request_user,
         "display": f'"{display}" ' if display else ""}
    sdp = f"v=0\r\no=- 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n{media}"
    contact = (f"Contact: <sip:{user}@{host}:{d['lport']}>\r\nContent-Type: application/sdp\r\n" + headers)
    branch = "z9hG4bK" + uuid.uuid4().hex[:10]
    msg = (_head("INVITE", d, 1, f"<sip:{request_user}@{gw_host}:{gw_port}>", contact, branch) +
           f"Content-Length: {len(sdp)}\r\n\r\n{sdp}")
    sip.sendto(msg.encode(), (gw_host, gw_port))
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
            sip.sendto(ack.encode(), (gw_host, gw_port))
        return status, h, body, d
    return None, {}, "", d


def invite(sip, gw_port, media, user="caller", gw_host="127.0.0.1"):
    """INVITE offering the m= lines `media` (CRLF-terminated), ACK of the 200.
    Returns (the answer's SDP, the dialog); fails the test on a refusal."""
    status, h, body, d = send_invite(sip, gw_port, media, user, gw_host=gw_host)
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


def invite_without_sdp(sip, gw_port, answer_media, user="caller", timeout=10):
    """A delayed offer: INVITE without SDP; the gateway's 200 carries the
    offer, our ACK the answer, made of `answer_media` (m= lines; the offer's
    m=audio line is passed to it when it is a function). Returns (the
    gateway's offer, our answer, the dialog); fails the test on a refusal."""
    d = {"call_id": uuid.uuid4().hex, "tag": uuid.uuid4().hex[:8], "lport": sip.getsockname()[1],
         "gw_port": gw_port, "user": user}
    contact = f"Contact: <sip:{user}@127.0.0.1:{d['lport']}>\r\n"
    msg = _head("INVITE", d, 1, f"<sip:echo@127.0.0.1:{gw_port}>", contact) + "Content-Length: 0\r\n\r\n"
    sip.sendto(msg.encode(), ("127.0.0.1", gw_port))
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            first, h, body = parse(sip.recv(65535).decode(errors="replace"))
        except BlockingIOError:
            time.sleep(0.02)
            continue
        if not first.startswith("SIP/2.0 ") or int(first[8:11]) < 200:
            continue
        if int(first[8:11]) >= 300:
            mgwtest.fail(f"the INVITE without SDP was refused: {first}")
        d["to"] = h["to"][0]
        media = answer_media(body) if callable(answer_media) else answer_media
        sdp = f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n{media}"
        request(sip, d, "ACK", 1, "application/sdp", sdp)
        return body, sdp, d
    mgwtest.fail(f"no final response to the INVITE without SDP within {timeout} s")


def pli(media_ssrc):
    """A PLI for `media_ssrc` (RFC 4585: PT 206, FMT 1) after an empty RR (a
    compound packet, as rtpsession wants), from a random sender SSRC."""
    ours = random.getrandbits(32)
    rr = struct.pack("!BBHI", 0x80, 201, 1, ours)
    fb = struct.pack("!BBHII", 0x80 | 1, 206, 2, ours, media_ssrc)
    return rr + fb


def opus_vp8_media(audio, video):
    """m= lines offering Opus on socket `audio`'s port and VP8 over RTP/AVPF
    with nack pli (keyframe requests by RTCP) on `video`'s."""
    return (f"m=audio {audio.getsockname()[1]} RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\na=sendrecv\r\n"
            f"m=video {video.getsockname()[1]} RTP/AVPF 97\r\na=rtpmap:97 VP8/90000\r\n"
            f"a=rtcp-fb:97 nack pli\r\na=sendrecv\r\n")


def plis(pkt):
    """(sender SSRC, media SSRC) of each PLI (RFC 4585: PT 206, FMT 1) in
    compound RTCP packet `pkt`."""
    out, off = [], 0
    while off + 4 <= len(pkt):
        b0, pt, length = struct.unpack("!BBH", pkt[off:off + 4])
        if b0 >> 6 != 2:
            break
        size = 4 * (length + 1)
        if pt == 206 and (b0 & 0x1f) == 1 and size >= 12 and off + 12 <= len(pkt):
            out.append(struct.unpack("!II", pkt[off + 4:off + 12]))
        off += size
    return out


def media_port(sdp, kind="audio"):
    """The port of the first m=`kind` line of an SDP."""
    return int(sdp.split(f"m={kind} ", 1)[1].split()[0])


G711_LAW = {0: "u-law", 8: "a-law"}   # static payload type -> sox encoding


def g711_tone(freq, seconds, pt=0, volume=0.5):
    """G.711 samples (8 kHz; pt 0: µ-law, 8: A-law) of a sine, made by sox."""
    r = subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", G711_LAW[pt], "-t", "raw", "-", "synth",
                        str(seconds), "sine", str(freq), "vol", str(volume)], capture_output=True, check=True)
    return r.stdout


def g711_wav(payloads, path, pt=0):
    """Writes the G.711 `payloads` (in order; pt 0: µ-law, 8: A-law) as a
    16-bit wav; returns `path`."""
    raw = path + ".g711"
    with open(raw, "wb") as f:
        f.write(b"".join(payloads))
    subprocess.run(["sox", "-t", "raw", "-r", "8000", "-c", "1", "-e", G711_LAW[pt], raw, "-e", "signed", "-b", "16",
                    path], check=True)
    os.unlink(raw)
    return path


class RtpStream:
    """G.711 RTP (payload type `pt`, 20 ms) from socket `sock` to `dest`, paced
    in real time, taken from `samples` (g711_tone; looped); what comes back on
    `sock` is collected: `received` holds (arrival time, payload type,
    payload) of every RTP packet (RTCP on the port, if any, is left out),
    `headers` their (sequence number, timestamp, SSRC)."""

    def __init__(self, sock, dest, samples, pt=0):
        self.sock, self.dest, self.samples, self.pt = sock, dest, samples, pt
        self.ssrc, self.seq, self.ts, self.pos = random.getrandbits(32), random.getrandbits(16), random.getrandbits(32), 0
        self.received = []
        self.headers = []

    def run(self, seconds, send=True):
        """Sends (unless send=False) and collects for `seconds`; returns the
        packets received meanwhile."""
        first = len(self.received)
        end = time.time() + seconds
        nxt = time.time()
        while time.time() < end:
            if send and time.time() >= nxt:
                chunk = (self.samples[self.pos:] + self.samples)[:160]
                self.pos = (self.pos + 160) % len(self.samples)
                hdr = struct.pack("!BBHII", 0x80, self.pt, self.seq & 0xffff, self.ts & 0xffffffff, self.ssrc)
                self.sock.sendto(hdr + chunk, self.dest)
                self.seq, self.ts, nxt = self.seq + 1, self.ts + 160, nxt + 0.02
            self.drain()
            time.sleep(0.005)
        self.drain()
        return self.received[first:]

    def drain(self):
        try:
            while True:
                data = self.sock.recv(2048)
                if len(data) < 12 or data[0] >> 6 != 2 or 72 <= (data[1] & 0x7f) <= 76:
                    continue
                off = 12 + 4 * (data[0] & 0x0f)                 # CSRCs
                if data[0] & 0x10 and len(data) >= off + 4:      # a header extension
                    off += 4 + 4 * struct.unpack("!H", data[off + 2:off + 4])[0]
                self.received.append((time.time(), data[1] & 0x7f, data[off:]))
                self.headers.append(struct.unpack("!HII", data[2:12]))
        except BlockingIOError:
            pass
