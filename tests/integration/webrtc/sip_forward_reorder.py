#!/usr/bin/env python3
"""The SIP -> WebRTC fast path: the caller's Opus RTP is forwarded to the
browser as RTP (no jitter buffer, no depayloading at the gateway), so what
the network did to it reaches the far end's jitter buffer as it happened.

pipelines/sip-to-browser.toml with sip-sofia's rtp_forward on; a hand-written SIP caller (rawcaller) offers
Opus and sends a 1000 Hz tone as 20 ms Opus RTP for 8 s, with, every 50
packets: a pair swapped (reordered), a packet held back 60 ms (late: beyond
the 40 ms jitter buffer the SIP side would otherwise have) and a sequence
number skipped (a packet lost before the gateway). A webrtcbin client (one
sendrecv session, its jitter buffer 200 ms) receives. Asserted:
  - the gateway forwards (its log: the link carries RTP, the branch forwards);
  - the client hears 1000 Hz;
  - the losses the client sees are exactly the skipped sequence numbers:
    the gateway neither renumbers (a re-payloading path would hide them) nor
    loses the reordered and late packets (it would drop the late ones);
  - the stream arrives (95 % of its packets at least: the first may come
    before the browser's branch is linked).
"""
import json
import os
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sip"))
import mgwtest  # noqa: E402
import rawcaller  # noqa: E402
import webrtc_common as wc  # noqa: E402

PEER = os.path.join(mgwtest.SOURCE_ROOT, "tests", "lib", "webrtcpeer.py")
PT, SECONDS, EVERY = 96, 8, 50


def opus_tone_frames(seconds):
    """20 ms Opus frames of a 1000 Hz tone (GStreamer through python gi)."""
    try:
        import gi
        gi.require_version("Gst", "1.0")
        from gi.repository import Gst
    except (ImportError, ValueError):
        mgwtest.skip("GStreamer python bindings missing (python3-gi)")
    Gst.init(None)
    p = Gst.parse_launch(f"audiotestsrc wave=sine freq=1000 volume=0.4 num-buffers={int(seconds * 50)} "
                         "samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=1 ! "
                         "opusenc bitrate=32000 frame-size=20 ! appsink name=s sync=false")
    p.set_state(Gst.State.PLAYING)
    frames = []
    while (s := p.get_by_name("s").emit("try-pull-sample", 5 * Gst.SECOND)) is not None:
        b = s.get_buffer()
        frames.append(b.extract_dup(0, b.get_size()))
    p.set_state(Gst.State.NULL)
    return frames


def schedule(n):
    """(send time offset in s, seq offset, ts offset) per packet; skipped seqs."""
    out, skipped, seq = [], 0, 0
    for i in range(n):
        t = i * 0.02
        k = i % EVERY
        if k == 10:            # swapped with the next one
            t += 0.021
        elif k == 11:
            t -= 0.001
        elif k == 30:          # 60 ms late
            t += 0.06
        if k == 40:            # a sequence number never sent
            seq += 1
            skipped += 1
        out.append((t, seq, i * 960))
        seq += 1
    return sorted(out), skipped


def main():
    mgwtest.require_tools("sox")
    check = mgwtest.check
    frames = opus_tone_frames(SECONDS)
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        gw, sip_port, http_port = wc.start_gateway(procs, ["--set", "sip.rtp_forward=true"])
        sip = rawcaller.udp()
        rtp, _rtcp = rawcaller.rtp_pair()
        media = f"m=audio {rtp.getsockname()[1]} RTP/AVP {PT}\r\na=rtpmap:{PT} opus/48000/2\r\na=sendrecv\r\n"
        answer, dialog = rawcaller.invite(sip, sip_port, media)
        dest = ("127.0.0.1", rawcaller.media_port(answer))
        check(procs.wait_for_output(gw, r"serving the call on", 10), "the call is up and the web node serves it")

        # The client first (its connection takes a moment), then the caller's stream.
        client = procs.start("client", ["/usr/bin/python3", PEER, "session", f"http://127.0.0.1:{http_port}/session",
                                        "--expect-freq", "1000", "--seconds", str(SECONDS + 2), "--latency", "200",
                                        "--retry", "10"])
        if not procs.wait_for_output(client, r'"connected"', 20):
            mgwtest.fail(f"the client did not connect: {procs.output(client)[-500:]}")
        plan, skipped = schedule(len(frames))
        ssrc, seq0, ts0 = 0x1234ABCD, 40000, 123456

        def send():
            start = time.monotonic()
            for (t, seq, ts), frame in zip(plan, frames):
                delay = start + t - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                hdr = struct.pack("!BBHII", 0x80, PT, (seq0 + seq) & 0xffff, (ts0 + ts) & 0xffffffff, ssrc)
                rtp.sendto(hdr + frame, dest)
        sender = threading.Thread(target=send)
        sender.start()
        sender.join()
        try:
            client.wait(SECONDS + 15)
        except subprocess.TimeoutExpired:
            mgwtest.fail("the client did not finish")
        lines = [l for l in procs.output(client).splitlines() if l.startswith('{"ran_s"')]
        check(lines, "the client reports")
        res = json.loads(lines[-1])["session"]
        mgwtest.log(f"client: rx {res.get('rx_packets')} packets, gaps {res.get('rx_gaps')}, "
                    f"freq {res.get('freq')}; sent {len(frames)}, skipped {skipped}")
        log = procs.output(gw)
        check("sip.audio->web.audio: passthrough of application/x-rtp" in log and "audio OPUS forwarded as RTP" in log,
              "the gateway forwards the caller's RTP as RTP")
        check(res.get("freq") and abs(res["freq"] - 1000) < 15, f"the client hears 1000 Hz ({res.get('freq')})")
        check(res.get("rx_gaps") == skipped,
              f"the client sees exactly the {skipped} skipped sequence numbers as lost ({res.get('rx_gaps')}): "
              "no renumbering, the reordered and late packets kept")
        # (The first packet or two may come before the browser's branch joins:
        # the caller's first RTP is what tells the gateway it is RTP.)
        check(res.get("rx_packets", 0) >= 0.95 * len(frames),
              f"the stream reached the client ({res.get('rx_packets')} of {len(frames)} packets)")
        rawcaller.bye(sip, dialog)
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
