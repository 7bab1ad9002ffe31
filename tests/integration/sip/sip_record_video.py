#!/usr/bin/env python3
"""pipelines/sip-record.toml with a baresip video call (VP8): the gateway's
raw test pattern reaches the caller through an encoder the core inserts when
the call's codec is known, and the caller decodes it at the pattern's size.
The caller's audio is recorded as before (frequency checked)."""
import os
import sys
import time

import mgwtest
import tonecheck
from baresip import Baresip

MODULES = "/usr/lib/baresip/modules"


def main():
    mgwtest.require_tools("baresip", "sox")
    for m in ("vp8.so", "fakevideo.so", "snapshot.so"):
        if not os.path.exists(os.path.join(MODULES, m)):
            mgwtest.skip(f"baresip's {m} is missing")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        port = mgwtest.free_port()
        recorded = os.path.join(wd, "caller.wav")
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run",
                                     os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-record.toml"),
                                     "--set", "sip.video_codecs=VP8"],
                         env={"SIP_LISTEN": f"udp:127.0.0.1:{port}", "WAV": recorded})
        check(procs.wait_for_output(gw, r"listening on sip:", 15), "gateway listens")
        tone = os.path.join(wd, "tone.wav")
        mgwtest.make_tone_wav(tone, 1000, 30, rate=8000, volume=0.5)
        bs = Baresip(procs, wd, tone_wav=tone, codecs="PCMU", video_codecs="VP8",
                     extra_config=[("module", "snapshot.so")])
        bs.start()
        check(bs.dial(f"sip:record@127.0.0.1:{port}").get("ok"), "baresip dials")
        check(bs.wait_event("CALL_ESTABLISHED", 10) is not None, "call established")
        shots = []
        for i in range(2):
            time.sleep(2.0)
            path = os.path.join(wd, f"received-{i}.png")
            bs.command("snapshot_recv", path)
            shots.append(path)
        time.sleep(1.0)
        bs.hangup()
        check(bs.wait_event("CALL_CLOSED", 5) is not None, "baresip hung up")
        bs.quit()

        deadline = time.time() + 10
        while gw.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        check(gw.poll() == 0, f"gateway exited 0 after the call (got {gw.poll()})")
        log = procs.output(gw)
        check("pattern.video->sip.video: video/x-raw -> video/x-vp8 needs" in log and "vp8enc" in log,
              "the core inserted a VP8 encoder for the raw pattern once the call's codec was known")
        for path in shots:
            size = mgwtest.png_size(path)
            check(size == (640, 360), f"baresip decoded the pattern at 640x360 ({os.path.basename(path)}: {size})")
        f = tonecheck.tone_frequency(recorded, 0.5, 2.5)
        check(f is not None and abs(f - 1000) <= 20, f"the caller's 1000 Hz was recorded (got {f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
