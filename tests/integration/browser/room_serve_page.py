#!/usr/bin/env python3
"""Two SIP callers meet through two gateways: gateway A serves its page
(pipelines/sip-to-browser.toml), gateway B (pipelines/sip-to-browser-room.toml,
join script `serve`) joins that page through its own Chromium.

Usage: room_serve_page.py tab|peers   (B's output: the tab's capture, or the
page's remote tracks mixed in the page)

In a private network namespace (Chromium gathers no loopback candidate).
Asserted:
  - B's Chromium joins A's page (room.joined, a participant named after A's
    caller) with B's caller as its camera and microphone;
  - caller 1 (on A) hears caller 2's 600 Hz and decodes its video; caller 2
    (on B) hears caller 1's 1000 Hz and decodes the room's video at B's size;
  - DTMF *6 from caller 2 runs the script's mute action: caller 1's audio
    from B goes silent;
  - caller 2 hangs up: B leaves the page (A's room.empty hangs up caller 1),
    B exits 0 and no process of its Chromium is left (checked by PID).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "webrtc"))

import browser  # noqa: E402
import mgwtest  # noqa: E402
import tonecheck  # noqa: E402
import webrtc_common as wc  # noqa: E402
from baresip import Baresip  # noqa: E402
from room_common import browser_pids, chromium_pid, exits_clean, start_room_gateway  # noqa: E402

CALLER2_HZ = 600


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else "tab"
    browser.require_browser()
    mgwtest.require_tools("baresip", "sox")
    browser.enter_private_netns()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        gw_a, sip_a, http_a = wc.start_gateway(procs)
        caller1 = wc.call_gateway(procs, wd, gw_a, sip_a, name="caller1")

        gw_b, sip_b = start_room_gateway(procs, "gateway-b", f"http://127.0.0.1:{http_a}/", join="serve",
                                         env={"DISPLAY_NAME": "Room B", "OUTPUT": output, "WIDTH": "640",
                                              "HEIGHT": "360", "ALONE_TIMEOUT": "0"})
        tone2 = os.path.join(wd, "caller2-tone.wav")
        mgwtest.make_tone_wav(tone2, CALLER2_HZ, 60, rate=8000, volume=0.5)
        caller2 = Baresip(procs, wd, name="caller2", tone_wav=tone2, codecs="opus", video_codecs="VP8",
                          extra_config=[("module", "snapshot.so")])
        caller2.start()
        caller2.dial(f"sip:room@127.0.0.1:{sip_b}")
        check(caller2.wait_event("CALL_ESTABLISHED", 10), "caller 2's call to gateway B is established")
        pid = chromium_pid(procs, gw_b)
        check(procs.wait_for_output(gw_b, r"\[event\] room/room\.joined", 40), "B's Chromium joined A's page (room.joined)")
        tree = browser_pids(gw_b.pid, pid)  # Chromium and all it started
        check(procs.wait_for_output(gw_b, r"output '" + output + r"' started", 15), f"B's output '{output}' started")
        check(procs.wait_for_output(gw_b, r"\[event\] room/participant\.joined", 15), "B sees A's caller (participant.joined)")
        check(procs.wait_for_output(gw_a, r"\[event\] web/participant\.joined", 15), "A sees B's browser join")

        check(procs.wait_for_output(gw_a, r"web\.video->sip\.video", 15), "A forwards B's video to caller 1")
        time.sleep(4)  # both callers record the other meanwhile
        shot1, shot2 = os.path.join(wd, "caller1.png"), os.path.join(wd, "caller2.png")
        caller1.command("snapshot_recv", shot1)
        caller2.command("snapshot_recv", shot2)
        time.sleep(1)
        size1, size2 = mgwtest.png_size(shot1), mgwtest.png_size(shot2)
        check(size1 and size1[0] > 0, f"caller 1 decodes caller 2's video through B's Chromium ({size1})")
        check(size2 == (640, 360), f"caller 2 decodes the room's video at B's size ({size2})")

        mute_at = time.time()
        for d in "*6":
            check(caller2.command("sndcode", d).get("ok"), f"caller 2 sends DTMF {d}")
            time.sleep(0.3)
        check(procs.wait_for_output(gw_b, r"DTMF \*6: action 'mute'", 10), "B ran the join script's mute action on *6")
        time.sleep(4)

        caller2.hangup()
        check(procs.wait_for_output(gw_b, r"\[event\] room/room\.left", 10), "B left the room (room.left)")
        check(procs.wait_for_output(gw_a, r"\[event\] web/room\.empty", 15), "A saw B's browser leave (room.empty)")
        check(caller1.wait_event("CALL_CLOSED", 10) is not None, "A hung up on caller 1")
        exits_clean(gw_b, tree, 'gateway B')

        wav1, wav2 = caller1.received_wav(), caller2.received_wav()
        established = mgwtest.wav_stat(wav1)["length"]
        # caller 1's recording: caller 2's tone before the mute, silence after.
        mute_offset = established - (time.time() - mute_at)
        f1 = wav1 and tonecheck.tone_frequency(wav1, max(mute_offset - 3.5, 0), 2.5)
        check(f1 and abs(f1 - CALLER2_HZ) < 15, f"caller 1 hears caller 2's {CALLER2_HZ} Hz ({f1 and round(f1)} Hz)")
        # The action lands a moment after the digits (DTMF, the page, Opus):
        # the quietest 1.5 s that starts within 3 s of the digits.
        quiet = min(tonecheck.rms(wav1, mute_offset + i / 4, 1.5) for i in range(13))
        loud = tonecheck.rms(wav1, max(mute_offset - 3.5, 0), 2.5)
        check(quiet < loud / 10, f"after *6 caller 1 hears silence from B (rms {quiet:.4f} vs {loud:.4f} before)")
        f2 = wav2 and tonecheck.tone_frequency(wav2, 4.0, 2.0)
        check(f2 and abs(f2 - wc.CALLER_HZ) < 15, f"caller 2 hears caller 1's {wc.CALLER_HZ} Hz ({f2 and round(f2)} Hz)")
        caller1.quit()
        caller2.quit()
        check(procs.stop(gw_a) == 0, "gateway A stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
