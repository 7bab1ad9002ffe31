#!/usr/bin/env python3
"""baresip makes a video call to the echo gateway and gets its video back.

Usage: baresip_video_echo.py CODEC   (VP8 or H264; the gateway takes only that
video codec, with PCMU audio)

baresip sends a synthetic picture (fakevideo source) and decodes what comes
back. Asserted:
  - the gateway answered the video m= line with CODEC and passed it through
    (its link log says `sip.video->sip.video: passthrough`);
  - baresip set a video decoder for CODEC;
  - baresip decoded received frames: its snapshot module writes the next
    decoded frame (`snapshot_recv`) as a PNG, asked for twice during the
    call; each must exist with the sent size (320x240);
  - the audio still echoes (a 1000 Hz tone, as in baresip_tone_echo.py).
"""
import os
import sys
import time

import mgwtest
import siptest
import tonecheck
from baresip import Baresip

MODULES = "/usr/lib/baresip/modules"
WIDTH, HEIGHT = 320, 240


def main():
    codec = (sys.argv[1] if len(sys.argv) > 1 else "VP8").upper()
    module = {"VP8": "vp8.so", "H264": "avcodec.so"}.get(codec)
    # baresip offers H.264 twice (packetization-mode 0 and 1) but its account
    # can name only the first; the gateway takes mode 1 only (rtph264pay may
    # fragment with FU-A, which mode 0 forbids). So baresip offers every video
    # codec and the gateway is told to prefer CODEC.
    account_codec = "*" if codec == "H264" else codec
    if not module:
        mgwtest.fail(f"unknown video codec {codec}")
    mgwtest.require_tools("baresip", "sox")
    for m in (module, "fakevideo.so", "snapshot.so"):
        if not os.path.exists(os.path.join(MODULES, m)):
            mgwtest.skip(f"baresip's {m} is missing")
    check = mgwtest.check

    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        tone = os.path.join(wd, "tone-1000hz-8k.wav")
        mgwtest.make_tone_wav(tone, 1000, 30, rate=8000, volume=0.5)
        gw, gw_port = siptest.start_gateway(procs, extra=["--set", f"sip.video_codecs={codec}"])
        bs = Baresip(procs, wd, tone_wav=tone, codecs="PCMU", video_codecs=account_codec,
                     extra_config=[("module", "snapshot.so")])
        bs.start()
        uri = f"sip:echo@127.0.0.1:{gw_port}"
        check(bs.dial(uri).get("ok"), f"baresip accepted 'dial {uri}'")
        if not bs.wait_event("CALL_ESTABLISHED", 10):
            mgwtest.fail(f"baresip: call not established within 10 s; events {bs.event_types()}")
        mgwtest.log("ok: call established")
        shots = []
        for i in range(2):
            time.sleep(2.0)
            path = os.path.join(wd, f"received-{i}.png")
            resp = bs.command("snapshot_recv", path)
            mgwtest.log(f"snapshot_recv {path}: {resp.get('ok')} {resp.get('data', '').strip()}")
            shots.append(path)
        time.sleep(1.0)
        bs.hangup()
        check(bs.wait_event("CALL_CLOSED", 5) is not None, "baresip: call closed after hangup")
        bs.quit()

        out = procs.output(bs.proc)
        gwlog = procs.output(gw)
        check(f"media: {codec}/90000" in gwlog, f"the gateway answered video with {codec}")
        check("sip.video->sip.video: passthrough" in gwlog, "the gateway echoed the video untouched (passthrough)")
        check("Set video decoder" in out and codec.lower() in out.lower(), f"baresip set a {codec} video decoder")
        for path in shots:
            size = mgwtest.png_size(path)
            check(size == (WIDTH, HEIGHT),
                  f"baresip decoded a received frame into {os.path.basename(path)} ({size}, want {WIDTH}x{HEIGHT})")

        wav = bs.received_wav()
        check(wav is not None, "baresip recorded the received audio")
        freq = tonecheck.tone_frequency(wav, 0.5, 3.0)
        check(freq is not None and abs(freq - 1000) <= 20, f"the audio still echoes: {freq and round(freq)} Hz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
