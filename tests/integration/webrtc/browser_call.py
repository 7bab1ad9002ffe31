#!/usr/bin/env python3
"""A SIP caller meets a browser through pipelines/sip-to-browser.toml.

Usage: browser_call.py opus|opus-payload|PCMU|H264   (the caller's codecs:
Opus or G.711 audio with VP8 video, or Opus audio with H.264 video;
opus-payload: Opus + VP8 with sip-sofia's rtp_forward off)

In a private network namespace (Chromium needs a non-loopback interface):
baresip calls the gateway with a 1 kHz tone and video; a headless Chromium
opens the page with a 440 Hz fake microphone and a 320x240 fake camera.
Asserted:
  - the page hears the caller's tone (WebAudio: 1000 Hz) and decodes its video
    (getStats: frames, width and height);
  - the caller hears the browser (baresip's recording: 440 Hz) and decodes its
    video (a 320x240 snapshot);
  - the gateway's links pass Opus and VP8/H.264 through both ways and
    transcode G.711 (log); the caller's Opus, VP8 and H.264 RTP is forwarded
    to the browser as RTP (no depayloading, no jitter buffer), and the
    browser's to the caller, or with rtp_forward off depayloaded and
    payloaded again;
    a new browser asks the caller for a keyframe; participant.joined;
  - the browser leaves: participant.left, room.empty, and the gateway hangs
    up with a BYE (baresip's call closes), then re-arms for the next call.
"""
import os
import re
import sys
import time

import browser
import mgwtest
import tonecheck
import webrtc_common as wc

MIC_HZ = 440


def main():
    variant = sys.argv[1] if len(sys.argv) > 1 else "opus"
    audio, video = {"opus": ("opus", "VP8"), "opus-payload": ("opus", "VP8"), "PCMU": ("PCMU", "VP8"),
                    "H264": ("opus", "*")}[variant]
    forward = variant != "opus-payload"
    browser.require_browser()
    mgwtest.require_tools("baresip", "sox")
    browser.enter_private_netns()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        extra = ["--set", "sip.video_codecs=H264"] if variant == "H264" else []
        if not forward:
            extra = ["--set", "sip.rtp_forward=false"]
        gw, sip_port, http_port = wc.start_gateway(procs, extra)
        bs = wc.call_gateway(procs, wd, gw, sip_port, audio, video)
        with wc.join(wd, http_port, "chromium", MIC_HZ) as b:
            hz = wc.caller_frequency(b)
            check(hz and abs(hz - wc.CALLER_HZ) < 20, f"the page hears the caller's {wc.CALLER_HZ} Hz tone ({hz} Hz)")
            stats = wc.caller_video(b)
            check(stats["frameWidth"] > 0 and stats["frameHeight"] > 0,
                  f"the page decodes the caller's video: {stats['framesDecoded']} frames, "
                  f"{stats['frameWidth']}x{stats['frameHeight']} {stats.get('codec')}")
            time.sleep(3)  # the caller records the browser's tone meanwhile
            shot = os.path.join(wd, "caller-sees.png")
            bs.command("snapshot_recv", shot)
            time.sleep(1)
            size = mgwtest.png_size(shot)
            check(size == (320, 240), f"the caller decodes the browser's video ({size})")
            if os.environ.get("MGWTEST_SCREENSHOT"):
                b.screenshot(os.environ["MGWTEST_SCREENSHOT"])
            b.js("mgw.leave()")
            check(procs.wait_for_output(gw, r"\[event\] web/room\.empty", 10), "the browser left: room.empty")
        check(bs.wait_event("CALL_CLOSED", 10) is not None, "the gateway hung up on the caller (BYE)")
        check(procs.wait_for_output(gw, r"re-arming", 10), "the gateway re-arms for the next call")

        log = procs.output(gw)
        check("hanging up: web/room.empty" in log, "the hang-up names its reason (web/room.empty)")
        check(len(wc.events(procs, gw, "participant.joined")) == 1, "one participant.joined")
        check(len(wc.events(procs, gw, "participant.left")) == 1, "one participant.left")
        check("keyframe requested from the caller" in log, "the new browser asked the caller for a keyframe")
        if variant == "PCMU":
            check("sip.audio->web.audio: audio/x-mulaw -> audio/x-opus" in log, "G.711 is transcoded to Opus")
            check("web.audio->sip.audio: audio/x-opus -> audio/x-mulaw" in log, "Opus is transcoded to G.711")
        else:
            if forward:
                check("sip.audio->web.audio: passthrough of application/x-rtp" in log and
                      "audio OPUS forwarded as RTP" in log, "the caller's Opus RTP is forwarded to the browser as RTP")
            else:
                check("sip.audio->web.audio: passthrough of audio/x-opus" in log, "Opus passes through to the browser")
            if forward:
                check("web.audio->sip.audio: passthrough of application/x-rtp" in log and
                      re.search(r"receiving audio \(OPUS\) from participant \S+, forwarded as RTP", log),
                      "the browser's Opus RTP is forwarded to the caller as RTP")
            else:
                check("web.audio->sip.audio: passthrough of audio/x-opus" in log, "Opus passes through to the caller")
        vcaps = "video/x-h264" if variant == "H264" else "video/x-vp8"
        vname = "H264" if variant == "H264" else "VP8"
        if forward:
            check("sip.video->web.video: passthrough of application/x-rtp" in log and
                  f"video {vname} forwarded as RTP" in log, f"the caller's {vname} RTP is forwarded to the browser as RTP")
        else:
            check(f"sip.video->web.video: passthrough of {vcaps}" in log, f"{vcaps} passes through to the browser")
        if forward:
            check("web.video->sip.video: passthrough of application/x-rtp" in log and
                  re.search(rf"receiving video \({vname}\) from participant \S+, forwarded as RTP", log),
                  f"the browser's {vname} RTP is forwarded to the caller as RTP")
        else:
            check(f"web.video->sip.video: passthrough of {vcaps}" in log, f"{vcaps} passes through to the caller")

        wav = bs.received_wav()
        freq = wav and tonecheck.tone_frequency(wav, 3.0, 2.0)
        check(freq and abs(freq - MIC_HZ) < 15, f"the caller hears the browser's {MIC_HZ} Hz ({freq and round(freq)} Hz)")
        bs.quit()
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
