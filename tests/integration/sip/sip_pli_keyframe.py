#!/usr/bin/env python3
"""An RTCP PLI (and a SIP INFO picture_fast_update) from the caller makes
the encoder feeding sip.video send a keyframe.

Pipeline: test-pattern -> sip.video (the core inserts vp8enc, a keyframe
every 60 frames = 2.4 s at 25 fps) and a tone -> sip.audio. A hand-written
caller offers PCMU + VP8 (RTP/AVPF, rtcp-fb nack pli), reads the VP8 RTP the
gateway sends and, each time the last keyframe is at least 0.8 s old (so the
next periodic one is >= 1.6 s away), sends a PLI (RFC 4585: PT=206, FMT=1,
media SSRC = the gateway's video SSRC) after an empty RR to the gateway's
video RTCP port; the last request is a SIP INFO picture_fast_update
(application/media_control+xml) instead, as legacy endpoints send. Asserted:
first, without a request, two keyframes come >= 1.5 s apart (the encoder's
own interval, the control); then a VP8 keyframe (payload descriptor S=1,
PID=0, first VP8 byte's bit 0 = 0) follows each request within 0.5 s.
"""
import os
import struct
import sys
import time

import mgwtest
from rawcaller import invite, pli, request, rtp_pair, udp

PIPELINE = """
[gateway]
name = "pli-keyframe"
after_call = "exit"

[node.tone]
plugin = "tone"
frequency = 600
rate = 8000

[node.pattern]
plugin = "test-pattern"
pattern = "ball"
width = 320
height = 240
framerate = 25

[node.sip]
plugin = "sip-sofia"
listen = "${SIP_LISTEN}"
codecs = ["PCMU"]
video_codecs = ["VP8"]
inputs = { audio = "tone.audio", video = "pattern.video" }
"""
REQUESTS = ["PLI", "PLI", "INFO"]
WAIT_S = 0.5
FAST_UPDATE = ('<?xml version="1.0" encoding="utf-8" ?><media_control><vc_primitive><to_encoder>'
               '<picture_fast_update/></to_encoder></vc_primitive></media_control>')


def vp8_keyframe(pkt):
    """Whether RTP packet `pkt` starts a VP8 keyframe (RFC 7741 section 4)."""
    if len(pkt) < 14 or pkt[0] >> 6 != 2:
        return False
    off = 12 + 4 * (pkt[0] & 0x0f)
    if pkt[0] & 0x10:                          # header extension
        off += 4 + 4 * struct.unpack("!H", pkt[off + 2:off + 4])[0]
    desc = pkt[off]
    if not (desc & 0x10) or (desc & 0x07):     # S=1 and PID=0: start of a frame
        return False
    off += 1
    if desc & 0x80:                            # X: I L T K
        ext = pkt[off]
        off += 1
        if ext & 0x80:                         # PictureID, 7 or 15 bits
            off += 2 if pkt[off] & 0x80 else 1
        if ext & 0x40:                         # TL0PICIDX
            off += 1
        if ext & 0x30:                         # TID/KEYIDX
            off += 1
    return off < len(pkt) and (pkt[off] & 0x01) == 0


def main():
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        toml = os.path.join(wd, "pli.toml")
        with open(toml, "w") as f:
            f.write(PIPELINE)
        port = mgwtest.free_port()
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", toml, "-v"],
                         env={"SIP_LISTEN": f"udp:127.0.0.1:{port}"})
        if not procs.wait_for_output(gw, r"listening on sip:", 20):
            mgwtest.fail(f"the gateway did not start (exit code {gw.poll()})")
        sip = udp()
        audio, audio_rtcp = rtp_pair()
        video, video_rtcp = rtp_pair()
        try:
            media = (f"m=audio {audio.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
                     f"m=video {video.getsockname()[1]} RTP/AVPF 96\r\na=rtpmap:96 VP8/90000\r\n"
                     f"a=rtcp-fb:96 nack pli\r\na=sendrecv\r\n")
            answer, dialog = invite(sip, port, media, "pli")
            gw_video = int(answer.split("m=video ", 1)[1].split()[0])
            gw_rtcp = ("127.0.0.1", gw_video + 1)
            ssrc, last_key, sent_at, got = None, None, None, 0
            natural_gap = None       # between two keyframes before any PLI
            keys_after_pli = []
            deadline = time.time() + 30
            while len(keys_after_pli) < len(REQUESTS) and time.time() < deadline:
                for s in (sip, audio, audio_rtcp, video_rtcp):   # keep the other sockets drained
                    try:
                        while s.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                try:
                    pkt = video.recv(65535)
                except BlockingIOError:
                    pkt = None
                now = time.time()
                if pkt:
                    got += 1
                    ssrc = struct.unpack("!I", pkt[8:12])[0]
                    if vp8_keyframe(pkt):
                        if natural_gap is None and last_key is not None:
                            natural_gap = now - last_key
                            mgwtest.check(natural_gap >= 1.5, "without a PLI, keyframes come "
                                          f"{natural_gap:.2f} s apart (>= 1.5 s)")
                        last_key = now
                        if sent_at is not None:
                            delay = now - sent_at
                            what = f"{REQUESTS[len(keys_after_pli)]} (request {len(keys_after_pli) + 1})"
                            mgwtest.check(delay <= WAIT_S, f"{what}: a keyframe followed "
                                          f"within {WAIT_S} s ({delay * 1000:.0f} ms)")
                            keys_after_pli.append(delay)
                            sent_at = None
                    continue
                if sent_at is not None and now - sent_at > WAIT_S:
                    mgwtest.fail(f"{REQUESTS[len(keys_after_pli)]} (request {len(keys_after_pli) + 1}): "
                                 f"no keyframe within {WAIT_S} s ({got} video packets so far)")
                if sent_at is None and natural_gap is not None and now - last_key >= 0.8:
                    if REQUESTS[len(keys_after_pli)] == "PLI":
                        video_rtcp.sendto(pli(ssrc), gw_rtcp)
                    else:
                        request(sip, dialog, "INFO", 2 + len(keys_after_pli), "application/media_control+xml",
                                FAST_UPDATE)
                    sent_at = now
                time.sleep(0.002)
            mgwtest.check(got > 0, f"the gateway sent VP8 RTP ({got} packets)")
            mgwtest.check(len(keys_after_pli) == len(REQUESTS),
                          f"{len(REQUESTS)} requests ({', '.join(REQUESTS)}), as many keyframes")
        finally:
            for s in (sip, audio, audio_rtcp, video, video_rtcp):
                s.close()
            procs.stop(gw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
