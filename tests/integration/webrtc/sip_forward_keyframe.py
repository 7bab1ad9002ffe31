#!/usr/bin/env python3
"""Keyframe requests on the SIP -> WebRTC fast path: a browser's PLI reaches
the SIP caller when the caller's VP8 is forwarded as RTP.

A browser joining a call mid-stream cannot decode until it gets a keyframe
and asks for one with RTCP PLI. The gateway's webrtcbin turns that into an
upstream keyframe request naming its own SSRC; the SIP side must ask the
caller for one anyway (it was lost there once: the browser waited for the
caller's next periodic keyframe, 7-8 s with baresip).

pipelines/sip-to-browser.toml with sip-sofia's rtp_forward on. A
hand-written caller offers Opus + VP8 over RTP/AVPF with nack pli and sends
VP8 with a single keyframe (GStreamer, relayed from its video port). A
webrtcbin client (one sendrecv session) joins; once the join's own request
has passed, the client asks for a keyframe (its webrtcbin sends a PLI; its
decoder, never given one, keeps asking too). Asserted: the video is
forwarded as RTP and reaches the client; a PLI for the caller's SSRC arrives
on the caller's video RTCP port within 1.5 s of the client's request, from
the gateway's video RTCP port. (Before the fix, only the join's own PLI
came.)
"""
import os
import random
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sip"))
import mgwtest  # noqa: E402
import rawcaller  # noqa: E402
import webrtc_common as wc  # noqa: E402

WITHIN_S = 1.5


class Caller:
    """Relays GStreamer's VP8 RTP from the offered video port; notes every
    PLI that arrives on the video RTCP port (time, source address)."""

    def __init__(self, relay, video, video_rtcp, others, gw_video, ssrc):
        self.relay, self.video, self.video_rtcp, self.others = relay, video, video_rtcp, others
        self.gw_video, self.ssrc = gw_video, ssrc
        self.sent, self.plis, self.foreign = 0, [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _drain(self, sock):
        try:
            while True:
                yield sock.recvfrom(65535)
        except BlockingIOError:
            return

    def _run(self):
        while not self._stop.is_set():
            busy = False
            for pkt, _ in self._drain(self.relay):
                self.video.sendto(pkt, ("127.0.0.1", self.gw_video))
                self.sent += 1
                busy = True
            for pkt, addr in self._drain(self.video_rtcp):
                busy = True
                for _, media_ssrc in rawcaller.plis(pkt):
                    (self.plis if media_ssrc == self.ssrc else self.foreign).append((time.monotonic(), addr))
            for s in self.others:
                for _ in self._drain(s):
                    busy = True
            if not busy:
                time.sleep(0.002)

    def stop(self):
        self._stop.set()
        self._thread.join(2)


def main():
    mgwtest.require_tools("gst-launch-1.0")
    try:
        import gi
        import webrtcpeer
        gi.require_version("GstVideo", "1.0")
        from gi.repository import Gst, GstVideo
    except (ImportError, ValueError) as e:
        mgwtest.skip(f"GStreamer python bindings missing (python3-gi): {e}")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        gw, sip_port, http_port = wc.start_gateway(procs, ["--set", "sip.rtp_forward=true"])
        sip, relay = rawcaller.udp(), rawcaller.udp()
        audio, audio_rtcp = rawcaller.rtp_pair()
        video, video_rtcp = rawcaller.rtp_pair()
        answer, dialog = rawcaller.invite(sip, sip_port, rawcaller.opus_vp8_media(audio, video))
        gw_video = rawcaller.media_port(answer, "video")
        check(gw_video > 0, "the answer accepts the video stream")
        ssrc = random.getrandbits(32) | 1
        # One keyframe only: whoever joins later needs to ask for one.
        procs.start("vp8", [
            "gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "num-buffers=500", "pattern=ball", "!",
            "video/x-raw,width=320,height=240,framerate=25/1", "!",
            "vp8enc", "deadline=1", "keyframe-max-dist=100000", "!",
            "rtpvp8pay", "pt=97", f"ssrc={ssrc}", "picture-id-mode=15-bit", "!",
            "udpsink", "host=127.0.0.1", f"port={relay.getsockname()[1]}", "sync=false"])
        caller = Caller(relay, video, video_rtcp, (sip, audio, audio_rtcp), gw_video, ssrc)
        peer = None
        try:
            check(procs.wait_for_output(gw, r"serving the call on", 10), "the call is up and the web node serves it")
            peer = webrtcpeer.SessionPeer(f"http://127.0.0.1:{http_port}/session", video=True, retry_s=10)
            check(peer.wait_connected(15), "the client connected")
            check(procs.wait_for_output(gw, r"video VP8 forwarded as RTP", 10), "the gateway forwards the caller's VP8")
            deadline = time.monotonic() + 10
            while peer.stats().get("rx_packets", 0) < 50 and time.monotonic() < deadline:
                time.sleep(0.1)
            # Past the join's own request (made when the client connected).
            time.sleep(3)
            pads = [p for p in peer.wb.srcpads if "video" in (p.get_current_caps() or p.query_caps(None)).to_string()]
            check(pads, "the client receives a video stream")
            before = len(caller.plis)
            asked = time.monotonic()
            pads[0].send_event(GstVideo.video_event_new_upstream_force_key_unit(Gst.CLOCK_TIME_NONE, False, 0))
            while len(caller.plis) == before and time.monotonic() - asked < WITHIN_S + 3:
                time.sleep(0.01)
            got = caller.plis[before:]
            mgwtest.log(f"caller: {caller.sent} VP8 packets sent, PLIs at "
                        f"{[round(t - asked, 3) for t, _ in caller.plis]} s from the client's request; "
                        f"other SSRCs {len(caller.foreign)}")
            check(got, "the client's keyframe request reached the caller as a PLI for its SSRC")
            delay = got[0][0] - asked
            check(delay <= WITHIN_S, f"it came {delay * 1000:.0f} ms after the client asked (<= {WITHIN_S * 1000:.0f})")
            check(got[0][1] == ("127.0.0.1", gw_video + 1),
                  f"from the gateway's video RTCP port ({got[0][1]}, want port {gw_video + 1})")
        finally:
            caller.stop()
            if peer:
                peer.stop()
        rawcaller.bye(sip, dialog)
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
