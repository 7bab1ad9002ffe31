#!/usr/bin/env python3
"""Keyframe requests on the WebRTC -> SIP fast path: the caller's PLI
reaches the browser whose VP8 is forwarded to it as RTP.

sip-sofia's rtpsession turns the caller's PLI into an upstream keyframe
request naming its own SSRC; webrtcbin's SSRC demuxer keeps a named SSRC,
so its rtpsession looked for that one among the browser's, found nothing and
sent no PLI: the caller waited for the browser's next periodic keyframe. The
room's video output drops that field.

pipelines/sip-to-browser.toml with sip-sofia's rtp_forward on. A
hand-written caller offers Opus + VP8 over RTP/AVPF with nack pli and only
receives; a webrtcbin client (one sendrecv session, in this process) sends
VP8. Once the join's own requests have passed, the caller sends a PLI (an
RR + PSFB compound) for the gateway's video SSRC. Asserted: the client's
VP8 is forwarded to the caller as RTP (log; VP8 packets arrive); a keyframe
request reaches the client's encoder (an upstream force-key-unit event at
vp8enc) within 1.5 s of the caller's PLI, and none came in the second
before it (no periodic cause).
"""
import os
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sip"))
import mgwtest  # noqa: E402
import rawcaller  # noqa: E402
import webrtc_common as wc  # noqa: E402

WITHIN_S = 1.5


class Receiver:
    """Collects the gateway's video RTP (its SSRC) and drains the other sockets."""

    def __init__(self, video, others):
        self.video, self.others = video, others
        self.vp8, self.ssrcs = 0, set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            for sock in (self.video, *self.others):
                try:
                    while True:
                        pkt = sock.recv(65535)
                        if sock is self.video and len(pkt) >= 12 and (pkt[1] & 0x7f) == 97:
                            self.vp8 += 1
                            self.ssrcs.add(struct.unpack("!I", pkt[8:12])[0])
                except BlockingIOError:
                    pass
            time.sleep(0.002)

    def stop(self):
        self._stop.set()
        self._thread.join(2)


def elements(Gst, pipeline):
    """Every element inside `pipeline`, recursively."""
    it, out = pipeline.iterate_recurse(), []
    while True:
        res, e = it.next()
        if res == Gst.IteratorResult.OK:
            out.append(e)
        elif res == Gst.IteratorResult.RESYNC:
            it.resync()
            out = []
        else:
            return out


def main():
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
        sip = rawcaller.udp()
        audio, audio_rtcp = rawcaller.rtp_pair()
        video, video_rtcp = rawcaller.rtp_pair()
        answer, dialog = rawcaller.invite(sip, sip_port, rawcaller.opus_vp8_media(audio, video))
        gw_video = rawcaller.media_port(answer, "video")
        check(gw_video > 0, "the answer accepts the video stream")
        receiver = Receiver(video, (sip, audio, audio_rtcp, video_rtcp))
        peer = None
        requests = []  # monotonic times of keyframe requests at the client's encoder

        def at_encoder(_pad, info):
            if GstVideo.video_event_is_force_key_unit(info.get_event()):
                requests.append(time.monotonic())
            return Gst.PadProbeReturn.OK

        try:
            check(procs.wait_for_output(gw, r"serving the call on", 10), "the call is up and the web node serves it")
            peer = webrtcpeer.SessionPeer(f"http://127.0.0.1:{http_port}/session", video=True, retry_s=10)
            encoders = [e for e in elements(Gst, peer.pipe) if e.get_factory() and e.get_factory().get_name() == "vp8enc"]
            check(encoders, "the client encodes VP8")
            encoders[0].get_static_pad("src").add_probe(Gst.PadProbeType.EVENT_UPSTREAM, at_encoder)
            check(peer.wait_connected(15), "the client connected")
            check(procs.wait_for_output(gw, r"receiving video \(VP8\) from participant \S+, forwarded as RTP", 10),
                  "the room forwards the client's VP8 as RTP")
            deadline = time.monotonic() + 10
            while receiver.vp8 < 30 and time.monotonic() < deadline:
                time.sleep(0.1)
            check(receiver.vp8 >= 30 and len(receiver.ssrcs) == 1,
                  f"the caller gets the client's VP8 ({receiver.vp8} packets, SSRCs {len(receiver.ssrcs)})")
            time.sleep(3)  # past the requests of the join and of the speaker switch
            quiet_since = time.monotonic() - 1.0
            earlier = [t for t in requests if t >= quiet_since]
            asked = time.monotonic()
            video_rtcp.sendto(rawcaller.pli(next(iter(receiver.ssrcs))), ("127.0.0.1", gw_video + 1))
            while not [t for t in requests if t >= asked] and time.monotonic() - asked < WITHIN_S + 2:
                time.sleep(0.01)
            got = [t for t in requests if t >= asked]
            mgwtest.log(f"client encoder: keyframe requests at {[round(t - asked, 3) for t in requests]} s "
                        "from the caller's PLI")
            check(not earlier, f"no keyframe request in the second before the PLI ({len(earlier)})")
            check(got and got[0] - asked <= WITHIN_S,
                  f"the caller's PLI reached the client's encoder within {WITHIN_S} s "
                  f"({round(got[0] - asked, 3) if got else 'never'})")
        finally:
            receiver.stop()
            if peer:
                peer.stop()
        rawcaller.bye(sip, dialog)
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
