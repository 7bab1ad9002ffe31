#!/usr/bin/python3
"""scripts/bench fleet's callers: one process places every call of a phase (a
minimal SIP UAC over UDP: INVITE through the proxy, ACK, BYE; 503 and other
refusals recorded) and plays and counts each call's RTP, so that the machine's
cores go to what is measured, not to one sipp + generator + client per call.

Spec (JSON file): {proxy: [host, port], codec: "opus"|"pcmu", video: bool,
  calls: [{user, at, hangup_at|null, audio_port, video_port}], max_s}
  - each call is placed `at` seconds after the start (INVITE's send time is
    taken then), hung up at `hangup_at` or at SIGTERM;
  - from its 200 on, 20 ms audio frames (webrtc.py's 1000 Hz bursts, Opus or
    PCMU) and, with video, janus.py's VP8 640x360 clip (one encode, RTP
    re-stamped per call) go to the answer's ports;
  - what comes back is counted per call: first packet (monotonic time), packets
    and sequence gaps inside the window (SIGUSR1 opens it, SIGUSR2 closes it),
    video frames (RTP marker bits), Opus payloads identical to one we send
    (passthrough end to end) and their delay (every call sends frame j of the
    1 s period at the same time, so a payload sent once per period dates itself;
    the delay includes this process's own lag under load), the PCMU tone heard.
Prints {"t0": ...} when ready, {"answered": i, ...} per answer, {"flowing": ...}
each second (calls up, and receiving audio / video), and at the end one
{"calls": [...]} line. Times are time.monotonic() seconds.
"""
import json
import os
import random
import re
import selectors
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

T1 = 0.5               # RFC 3261 retransmission base
MAX_SIP = 65535


def sdp(port, vport, codec, video):
    rtpmap, pt = {"opus": ("opus/48000/2", 96), "pcmu": ("PCMU/8000", 0)}[codec]
    s = (f"v=0\r\no=- {port} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         f"m=audio {port} RTP/AVP {pt}\r\na=rtpmap:{pt} {rtpmap}\r\na=ptime:20\r\na=sendrecv\r\n")
    if video:
        s += (f"m=video {vport} RTP/AVP 97\r\na=rtpmap:97 VP8/90000\r\na=rtcp-fb:97 nack pli\r\n"
              "a=sendrecv\r\n")
    return s


def parse_sip(data):
    """(start line, {lowercase header: [values]}, body) or None when it is not SIP."""
    try:
        text = data.decode("utf-8", errors="replace")
        head, _, body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        hdrs = {}
        compact = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length"}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                continue
            name = name.strip().lower()
            hdrs.setdefault(compact.get(name, name), []).append(value.strip())
        return lines[0], hdrs, body
    except (ValueError, IndexError):
        return None


class Call:
    def __init__(self, i, spec, sip_port, codec, video):
        self.i, self.user, self.at, self.hangup_at = i, spec["user"], spec["at"], spec.get("hangup_at")
        self.aport, self.vport = spec["audio_port"], spec.get("video_port", 0)
        self.call_id = f"fleet-{os.getpid()}-{i}-{random.getrandbits(32):08x}"
        self.tag = f"c{i}x{random.getrandbits(24):06x}"
        self.branch = ""
        self.sip_port, self.codec, self.video = sip_port, codec, video
        self.state = "wait"          # wait, inviting, up, bye, done
        self.invite_t = self.answer_t = self.provisional_t = self.end_t = None
        self.code = None
        self.retry_after = None
        self.remote_tag = self.contact = None
        self.dst_audio = self.dst_video = None
        self.next_tx = self.tx_interval = 0.0
        self.invite_msg = b""
        self.tries = 0
        self.ended_by = None
        self.rx = {"audio": new_rx(), "video": new_rx()}
        self.tx = {"audio": 0, "video": 0}
        self.txw = {"audio": 0, "video": 0, "frames": 0}
        self.seq = {"audio": random.randrange(65536), "video": random.randrange(65536)}
        self.ts = {"audio": random.getrandbits(32), "video": random.getrandbits(32)}
        self.ssrc = {"audio": random.getrandbits(32), "video": random.getrandbits(32)}
        self.loud = bytearray()          # PCMU received in bursts, linear S16 (the last second)

    def headers(self, method, uri, cseq, branch, to_tag=None):
        to = f"<sip:{self.user}@{self.proxy_host}:{self.proxy_port}>" + (f";tag={to_tag}" if to_tag else "")
        return (f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{self.sip_port};branch={branch};rport\r\n"
                f"From: <sip:caller{self.i}@127.0.0.1:{self.sip_port}>;tag={self.tag}\r\nTo: {to}\r\n"
                f"Call-ID: {self.call_id}\r\nCSeq: {cseq} {method}\r\n"
                f"Contact: <sip:caller{self.i}@127.0.0.1:{self.sip_port}>\r\nMax-Forwards: 70\r\n"
                "User-Agent: mediagw-bench-fleet\r\n")

    def invite(self, proxy):
        self.proxy_host, self.proxy_port = proxy
        self.branch = f"z9hG4bK{random.getrandbits(48):012x}"
        body = sdp(self.aport, self.vport, self.codec, self.video)
        self.invite_msg = (self.headers("INVITE", f"sip:{self.user}@{proxy[0]}:{proxy[1]}", 1, self.branch)
                           + f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode()
        return self.invite_msg

    def ack(self, to_2xx):
        if to_2xx:
            uri, branch = self.contact, f"z9hG4bK{random.getrandbits(48):012x}"
        else:                        # a non-2xx final: the ACK is the INVITE transaction's (same branch, the proxy)
            uri, branch = f"sip:{self.user}@{self.proxy_host}:{self.proxy_port}", self.branch
        return (self.headers("ACK", uri, 1, branch, self.remote_tag) + "Content-Length: 0\r\n\r\n").encode()

    def bye(self):
        return (self.headers("BYE", self.contact, 2, f"z9hG4bK{random.getrandbits(48):012x}", self.remote_tag)
                + "Content-Length: 0\r\n\r\n").encode()

    def contact_addr(self):
        m = re.match(r"sips?:(?:[^@]*@)?([^:;>]+):?(\d+)?", self.contact or "")
        return (m.group(1), int(m.group(2) or 5060)) if m else None


def new_rx():
    return dict(first=None, rx=0, rxw=0, gaps=0, last=None, frames=0, intact=0, delay_ms=[])


def count_rx(x, d, inwin, kind, opus_index, t0, period):
    seq = int.from_bytes(d[2:4], "big")
    now = time.monotonic()
    if x["first"] is None:
        x["first"] = now
    x["rx"] += 1
    if inwin:
        x["rxw"] += 1
        if x["last"] is not None and 1 < (seq - x["last"]) & 0xFFFF < 3000:
            x["gaps"] += ((seq - x["last"]) & 0xFFFF) - 1
        if kind == "video" and d[1] & 0x80:
            x["frames"] += 1
        if opus_index is not None:
            j = opus_index.get(bytes(rtp_payload(d)))
            if j is not None:
                x["intact"] += 1
                if j >= 0:   # a frame sent once per period: every call sends it at t0 + (k*period + j) * 20 ms
                    x["delay_ms"].append(round(((now - t0 - j * 0.02) % period) * 1000, 1))
    x["last"] = seq


def rtp_payload(d):
    cc = d[0] & 0x0F
    off = 12 + 4 * cc
    if d[0] & 0x10 and len(d) >= off + 4:            # header extension
        off += 4 + 4 * int.from_bytes(d[off + 2:off + 4], "big")
    end = len(d) - (d[-1] if d[0] & 0x20 and d[-1] else 0)
    return memoryview(d)[off:end]


def main(spec_file):
    import webrtc      # the tone bursts and the Opus frames
    spec = json.load(open(spec_file))
    codec, video = spec["codec"], spec.get("video", False)
    if codec == "pcmu":
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import audioop
        pcm = webrtc.burst_pcm(8000, 1)
        frames, pt, step = [audioop.lin2ulaw(pcm[i:i + 320], 2) for i in range(0, len(pcm), 320)], 0, 160
        opus_index = None
    else:
        frames, pt, step = webrtc.opus_frames(), 96, 960
        # payload -> its index in the period (-1: the payload repeats, e.g. silence: no delay from it)
        opus_index = {}
        for j, f in enumerate(frames):
            opus_index[f] = -1 if f in opus_index else j
    vframes, fps = [], 30
    if video:
        import janus
        pkts, nframes = janus.vp8_clip(640, 360, fps, spec.get("video_kbps", 500), 2)
        vframes = [[] for _ in range(nframes)]
        for f, d in pkts:
            vframes[min(f, nframes - 1)].append(d)
    sel = selectors.DefaultSelector()
    sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    sip.bind(("127.0.0.1", 0))
    sip.setblocking(False)
    sel.register(sip, selectors.EVENT_READ, ("sip", None))
    proxy = tuple(spec["proxy"])
    calls = [Call(i, c, sip.getsockname()[1], codec, video) for i, c in enumerate(spec["calls"])]
    by_id = {c.call_id: c for c in calls}
    socks = {}
    for c in calls:
        for kind, port in (("audio", c.aport), ("video", c.vport)):
            if not port:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind(("127.0.0.1", port))
            s.setblocking(False)
            socks[(c.i, kind)] = s
            sel.register(s, selectors.EVENT_READ, (kind, c))
    win = {}
    signal.signal(signal.SIGUSR1, lambda *_: win.setdefault("from", time.monotonic()))
    signal.signal(signal.SIGUSR2, lambda *_: win.setdefault("to", time.monotonic()))
    signal.signal(signal.SIGTERM, lambda *_: win.setdefault("stop", time.monotonic()))
    try:
        os.nice(-10)      # the callers stand for phones elsewhere: their timing must not suffer the load they make
    except OSError:
        pass
    t0 = time.monotonic() + 0.05
    print(json.dumps({"t0": t0, "sip_port": sip.getsockname()[1]}), flush=True)
    k_audio = k_video = 0
    next_status = t0 + 1
    pending = []      # (due, call, message, tries left, interval, dest)

    def send(msg, dest):
        try:
            sip.sendto(msg, dest)
        except OSError:
            pass

    def on_sip(data, src):
        p = parse_sip(data)
        if not p:
            return
        start, h, body = p
        c = by_id.get((h.get("call-id") or [""])[0])
        if not start.startswith("SIP/2.0 "):          # a request: BYE from the gateway, OPTIONS, ...
            via = "".join(f"Via: {v}\r\n" for v in h.get("via", []))
            reply = (f"SIP/2.0 200 OK\r\n{via}From: {(h.get('from') or [''])[0]}\r\nTo: {(h.get('to') or [''])[0]}\r\n"
                     f"Call-ID: {(h.get('call-id') or [''])[0]}\r\nCSeq: {(h.get('cseq') or [''])[0]}\r\n"
                     "Content-Length: 0\r\n\r\n")
            if not start.startswith("ACK"):
                send(reply.encode(), src)
            if c and start.startswith("BYE") and c.state in ("inviting", "up"):
                c.state, c.end_t, c.ended_by = "done", time.monotonic(), "gateway"
            return
        if not c:
            return
        code = int(start.split()[1])
        method = (h.get("cseq") or ["0 X"])[0].split()[-1]
        pending[:] = [x for x in pending if not (x[1] is c and x[6] == method)]   # answered: stop retransmitting
        if method == "BYE":
            if code >= 200 and c.state == "bye":
                c.state, c.end_t = "done", time.monotonic()
            return
        if method != "INVITE":
            return
        to = (h.get("to") or [""])[0]
        m = re.search(r";\s*tag=([^;>\s]+)", to)
        if code < 200:
            if c.provisional_t is None:
                c.provisional_t = time.monotonic()
            return
        c.remote_tag = m.group(1) if m else None
        if 200 <= code < 300:
            cm = re.search(r"<([^>]+)>", (h.get("contact") or [""])[0]) or \
                re.match(r"\s*([^;\s]+)", (h.get("contact") or [""])[0])
            c.contact = cm.group(1) if cm else None
            dest = c.contact_addr()
            if dest:
                send(c.ack(True), dest)
            if c.state != "inviting":
                return                                   # a retransmitted 200: ACKed again
            c.code, c.answer_t, c.state = code, time.monotonic(), "up"
            conn = re.search(r"c=IN IP4 ([\d.]+)", body)
            ma = re.search(r"m=audio (\d+)", body)
            mv = re.search(r"m=video (\d+)", body)
            host = conn.group(1) if conn else "127.0.0.1"
            c.dst_audio = (host, int(ma.group(1))) if ma and int(ma.group(1)) else None
            c.dst_video = (host, int(mv.group(1))) if mv and int(mv.group(1)) and video else None
            print(json.dumps({"answered": c.i, "ms": round((c.answer_t - c.invite_t) * 1000, 1),
                              "audio": bool(c.dst_audio), "video": bool(c.dst_video)}), flush=True)
        else:
            send(c.ack(False), proxy)
            if c.state == "inviting":
                c.code, c.state, c.end_t = code, "done", time.monotonic()
                c.retry_after = (h.get("retry-after") or [None])[0]
                print(json.dumps({"refused": c.i, "code": code, "retry_after": c.retry_after}), flush=True)

    while True:
        now = time.monotonic()
        if now - t0 > spec["max_s"]:
            break
        stopping = "stop" in win
        if stopping and all(c.state in ("wait", "done") for c in calls):
            break
        if stopping and now - win["stop"] > 8:
            break                                        # BYEs unanswered: give up
        for c in calls:
            if c.state == "wait" and not stopping and now >= t0 + c.at:
                c.state, c.invite_t = "inviting", time.monotonic()
                msg = c.invite(proxy)
                send(msg, proxy)
                pending.append([now + T1, c, msg, 6, T1, proxy, "INVITE"])
            elif c.state == "up" and (stopping or (c.hangup_at is not None and now >= t0 + c.hangup_at)):
                dest = c.contact_addr()
                c.state = "bye"
                if dest:
                    msg = c.bye()
                    send(msg, dest)
                    pending.append([now + T1, c, msg, 4, T1, dest, "BYE"])
                else:
                    c.state = "done"
            elif c.state == "wait" and stopping:
                c.state = "done"
        for x in pending:
            if now >= x[0] and x[3] > 0:
                if x[1].state in ("inviting", "bye"):
                    send(x[2], x[5])
                x[3] -= 1
                x[4] = min(2 * x[4], 4.0)
                x[0] = now + x[4]
        for x in [x for x in pending if x[3] <= 0 and now >= x[0]]:
            pending.remove(x)
            if x[1].state == "inviting":
                x[1].state, x[1].code, x[1].end_t = "done", 408, now
            elif x[1].state == "bye":
                x[1].state, x[1].end_t = "done", now
        if now >= next_status:       # how many answered calls receive media yet (the window waits for all)
            up = [c for c in calls if c.state == "up"]
            print(json.dumps({"flowing": sum(1 for c in up if c.rx["audio"]["first"]),
                              "video_flowing": sum(1 for c in up if c.rx["video"]["first"]), "up": len(up)}),
                  flush=True)
            next_status = now + 1
        inwin = "from" in win and "to" not in win
        due_a = t0 + k_audio * 0.02
        due_v = t0 + k_video / fps if video else due_a + 1
        sent = 0          # behind (a starved process): catch up a few ticks, then read what came in anyway
        while now >= due_a and sent < 5:
            pl = frames[k_audio % len(frames)]
            for c in calls:
                if c.state == "up" and c.dst_audio:
                    hdr = bytes([0x80, pt]) + c.seq["audio"].to_bytes(2, "big") + c.ts["audio"].to_bytes(4, "big") \
                        + c.ssrc["audio"].to_bytes(4, "big")
                    try:
                        socks[(c.i, "audio")].sendto(hdr + pl, c.dst_audio)
                        c.tx["audio"] += 1
                        c.txw["audio"] += inwin
                    except OSError:
                        pass
                    c.seq["audio"] = (c.seq["audio"] + 1) & 0xFFFF
                    c.ts["audio"] = (c.ts["audio"] + step) & 0xFFFFFFFF
            k_audio += 1
            sent += 1
            due_a = t0 + k_audio * 0.02
        while video and now >= due_v and sent < 5:
            for c in calls:
                if c.state == "up" and c.dst_video:
                    ts = (c.ts["video"] + k_video * 3000) & 0xFFFFFFFF
                    c.txw["frames"] += inwin
                    for d in vframes[k_video % len(vframes)]:
                        pkt = d[:2] + c.seq["video"].to_bytes(2, "big") + ts.to_bytes(4, "big") + \
                            c.ssrc["video"].to_bytes(4, "big") + d[12:]
                        c.seq["video"] = (c.seq["video"] + 1) & 0xFFFF
                        try:
                            socks[(c.i, "video")].sendto(pkt, c.dst_video)
                            c.tx["video"] += 1
                            c.txw["video"] += inwin
                        except OSError:
                            pass
            k_video += 1
            sent += 1
            due_v = t0 + k_video / fps
        timeout = max(0.0, min(due_a, due_v, min((x[0] for x in pending), default=due_a)) - time.monotonic())
        for key, _ in sel.select(timeout):
            kind, c = key.data
            while True:
                try:
                    d, src = key.fileobj.recvfrom(MAX_SIP)
                except BlockingIOError:
                    break
                if kind == "sip":
                    on_sip(d, src)
                    continue
                if len(d) < 12 or 200 <= d[1] <= 204 or c.state not in ("up", "bye"):
                    continue                                 # RTCP, or media of a call we ended
                count_rx(c.rx[kind], d, inwin, kind, opus_index if kind == "audio" else None, t0, 0.02 * len(frames))
                if kind == "audio" and codec == "pcmu" and inwin and d[1] & 0x7F == 0:
                    lin = audioop.ulaw2lin(bytes(rtp_payload(d)), 2)
                    if audioop.rms(lin, 2) > 1000:       # the bursts only: Opus's near-silence would skew it
                        c.loud += lin
                        del c.loud[:-16000]
    heard = {}
    if codec == "pcmu":
        import array
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "lib"))
        from webrtcpeer import tone_frequency
        for c in calls:
            if c.loud:
                heard[c.i] = tone_frequency(array.array("h", bytes(c.loud)))[0]
    out = []
    for c in calls:
        out.append(dict(i=c.i, user=c.user, code=c.code, retry_after=c.retry_after, invite_t=c.invite_t,
                        provisional_t=c.provisional_t, answer_t=c.answer_t, end_t=c.end_t, ended_by=c.ended_by,
                        tx=c.tx, tx_window=c.txw, rx=c.rx, heard_hz=heard.get(c.i)))
    print(json.dumps({"calls": out, "window": [win.get("from"), win.get("to")], "frames": len(frames)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
