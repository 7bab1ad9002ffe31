#!/usr/bin/env python3
"""A new video sender gets a PLI from the gateway: when the caller's VP8
starts, the gateway asks it for a keyframe at once (RTCP PLI, RFC 4585)
rather than waiting for its next periodic one.

Gateway: pipelines/sip-echo.toml (SIP_LISTEN on a free port). A hand-written
caller offers PCMU + VP8 over RTP/AVPF with a=rtcp-fb:96 nack pli, ACKs the
200, then sends real VP8 RTP (videotestsrc ! vp8enc ! rtpvp8pay, live at
25 fps, a fixed SSRC) from its advertised video port: GStreamer hands the
packets to a local relay socket and the caller forwards each from that port,
so it knows when the first one left. Asserted: the answer negotiates
rtcp-fb pli; an RTCP PLI (PT=206, FMT=1) whose media SSRC is the caller's
arrives on the caller's video RTCP port within 2 s of its first video
packet, from the gateway's video RTCP port (the answer's port + 1); the
gateway echoes the video back; the caller's BYE gets a 200.
"""
import os
import random
import struct
import sys
import time

import mgwtest
from rawcaller import bye, invite, plis, rtp_pair, udp

WITHIN_S = 2.0


def main():
    mgwtest.require_tools("gst-launch-1.0")
    check = mgwtest.check
    root = os.environ.get("MEDIAGW_SOURCE_ROOT", os.getcwd())
    pipeline = os.path.join(root, "pipelines", "sip-echo.toml")
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        port = mgwtest.free_port()
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", pipeline, "-v"],
                         env={"SIP_LISTEN": f"udp:127.0.0.1:{port}"})
        if not procs.wait_for_output(gw, r"listening on sip:", 20):
            mgwtest.fail(f"the gateway did not start (exit code {gw.poll()})")
        sip = udp()
        relay = udp()                 # GStreamer's VP8 RTP arrives here; forwarded from `video`
        audio, audio_rtcp = rtp_pair()
        video, video_rtcp = rtp_pair()
        socks = (sip, relay, audio, audio_rtcp, video, video_rtcp)
        try:
            media = (f"m=audio {audio.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
                     f"m=video {video.getsockname()[1]} RTP/AVPF 96\r\na=rtpmap:96 VP8/90000\r\n"
                     f"a=rtcp-fb:96 nack pli\r\na=sendrecv\r\n")
            answer, dialog = invite(sip, port, media, "kf")
            vline = answer.split("m=video ", 1)
            check(len(vline) == 2 and int(vline[1].split()[0]) > 0, "the answer accepts the video stream")
            gw_video = int(vline[1].split()[0])
            video_sdp = vline[1]
            check("a=rtcp-fb:96 nack pli" in video_sdp or "a=rtcp-fb:* nack pli" in video_sdp,
                  "the answer negotiates rtcp-fb nack pli for VP8")
            ssrc = random.getrandbits(32) | 1
            sender = procs.start("vp8", [
                "gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "num-buffers=150", "pattern=ball", "!",
                "video/x-raw,width=320,height=240,framerate=25/1", "!",
                "vp8enc", "deadline=1", "keyframe-max-dist=250", "!",
                "rtpvp8pay", "pt=96", f"ssrc={ssrc}", "picture-id-mode=15-bit", "!",
                "udpsink", "host=127.0.0.1", f"port={relay.getsockname()[1]}", "sync=false"])
            first = None              # when the first video packet left
            pli_at, pli_from, other_plis = None, None, []
            sent = echoed = 0
            deadline = time.time() + 15
            while time.time() < deadline:
                busy = False
                try:
                    while True:
                        pkt = relay.recv(65535)
                        video.sendto(pkt, ("127.0.0.1", gw_video))
                        sent += 1
                        busy = True
                        if first is None:
                            first = time.time()
                except BlockingIOError:
                    pass
                try:
                    while True:
                        pkt, addr = video_rtcp.recvfrom(65535)
                        busy = True
                        for sender_ssrc, media_ssrc in plis(pkt):
                            if media_ssrc == ssrc and pli_at is None:
                                pli_at, pli_from = time.time(), addr
                            elif media_ssrc != ssrc:
                                other_plis.append(media_ssrc)
                except BlockingIOError:
                    pass
                try:
                    while video.recv(65535):
                        echoed += 1
                        busy = True
                except BlockingIOError:
                    pass
                for s in (sip, audio, audio_rtcp):       # keep the other sockets drained
                    try:
                        while s.recv(65535):
                            pass
                    except BlockingIOError:
                        pass
                now = time.time()
                if first is not None and (pli_at is not None or now - first > WITHIN_S) and echoed > 0:
                    break
                if first is not None and now - first > WITHIN_S + 3:
                    break
                if sender.poll() is not None and first is None:
                    mgwtest.fail(f"the VP8 sender exited ({sender.returncode}) before sending anything")
                if not busy:
                    time.sleep(0.002)
            check(first is not None, f"the caller sent VP8 RTP ({sent} packets)")
            check(pli_at is not None, f"a PLI for the caller's SSRC {ssrc:#010x} arrived on its video RTCP "
                  f"port (other PLIs: {[hex(s) for s in other_plis]}; {sent} packets sent)")
            delay = pli_at - first
            check(delay <= WITHIN_S, f"the PLI came {delay * 1000:.0f} ms after the first video packet "
                  f"(<= {WITHIN_S * 1000:.0f} ms)")
            check(pli_from == ("127.0.0.1", gw_video + 1),
                  f"the PLI came from the gateway's video RTCP port ({pli_from}, want port {gw_video + 1})")
            check(echoed > 0, f"the gateway echoed the video ({echoed} packets back)")
            procs.stop(sender)
            status = bye(sip, dialog)
            check(status == 200, f"the gateway answered the BYE with 200 ({status})")
            check(procs.wait_for_output(gw, r"call ended: bye", 5), "the gateway ended the call: bye")
        finally:
            for s in socks:
                s.close()
            for p in procs.procs:
                procs.stop(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
