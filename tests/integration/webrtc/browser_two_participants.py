#!/usr/bin/env python3
"""Two browsers join one SIP caller (pipelines/sip-to-browser.toml).

In a private network namespace: baresip calls the gateway (1 kHz tone, VP8);
browser A joins with a quiet 440 Hz microphone, then browser B with a loud
660 Hz one. Asserted:
  - both pages hear the caller's tone and decode its video;
  - the caller hears both browsers mixed (440 Hz and 660 Hz both carry power
    in baresip's recording while both publish) and the log says it mixes;
  - the active speaker changes: A alone, then B (louder by 10 dB), each
    change a speaker.changed event;
  - B closes its tab (navigates away): participant.left for B, the call goes on (no BYE) and
    A is the speaker again;
  - the caller hangs up: A's page shows the call ended, the gateway re-arms.
"""
import re
import sys
import time

import browser
import mgwtest
import tonecheck
import webrtc_common as wc


def speakers(procs, gw):
    return [re.search(r"participant=\(string\)(\w+)", e).group(1) for e in wc.events(procs, gw, "speaker.changed")]


def main():
    browser.require_browser()
    mgwtest.require_tools("baresip", "sox")
    browser.enter_private_netns()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        gw, sip_port, http_port = wc.start_gateway(procs)
        bs = wc.call_gateway(procs, wd, gw, sip_port)
        with wc.join(wd, http_port, "browser-a", 440, mic_volume=0.25) as a:
            pa = a.js("return mgw.participant")
            check(procs.wait_for_output(gw, r"speaker\.changed, participant=\(string\)" + pa, 10),
                  "A alone is the active speaker")
            with wc.join(wd, http_port, "browser-b", 660, mic_volume=0.8) as b:
                pb = b.js("return mgw.participant")
                for name, page in (("A", a), ("B", b)):
                    hz = wc.caller_frequency(page)
                    check(hz and abs(hz - wc.CALLER_HZ) < 20, f"page {name} hears the caller ({hz} Hz)")
                    stats = wc.caller_video(page)
                    check(stats["frameWidth"] > 0, f"page {name} decodes the caller's video "
                                                   f"({stats['framesDecoded']} frames)")
                check(procs.wait_for_output(gw, r"speaker\.changed, participant=\(string\)" + pb, 10),
                      "B, louder, becomes the active speaker")
                time.sleep(3)
                b.open("about:blank")  # B closes its tab (the page goes away)
            check(procs.wait_for_output(gw, r"participant\.left, participant=\(string\)" + pb, 15),
                  "B closing its tab: participant.left")
            time.sleep(1.5)
            check(speakers(procs, gw)[-1] == pa, f"A is the speaker again (changes: {speakers(procs, gw)})")
            check(not wc.events(procs, gw, "room.empty") and "CALL_CLOSED" not in bs.event_types(),
                  "the call goes on with A")
            hz = wc.caller_frequency(a)
            check(hz and abs(hz - wc.CALLER_HZ) < 20, f"A still hears the caller ({hz} Hz)")
            bs.hangup()
            a.wait_js("mgw.call === 'ended' || mgw.state === 'ended'", 10, "A's page shows the call ended")
            mgwtest.log("ok: A's page says: " + a.js("return document.getElementById('status').textContent"))
        check(procs.wait_for_output(gw, r"re-arming", 10), "the gateway re-arms after the caller hung up")
        log = procs.output(gw)
        check("mixing their audio" in log, "the gateway mixes the two browsers for the caller")
        check(len(wc.events(procs, gw, "participant.joined")) == 2, "two participant.joined")

        # baresip's recording does not start at our clock's zero: look for a
        # second where the loud 660 Hz is there, then for 440 Hz beside it.
        wav = bs.received_wav()
        best = (0.0, 0.0)
        for start in range(0, int(tonecheck.seconds(wav)) - 1):
            loud = tonecheck.tone_purity(wav, 660, start, 1.0, 0.005)[1]
            if loud > 0.03:
                quiet = tonecheck.tone_purity(wav, 440, start, 1.0, 0.005)[1]
                best = max(best, (quiet, loud))
                if quiet > 0.03:
                    break
        check(best[0] > 0.03 and best[1] > 0.03, "the caller hears both browsers in the mix: 440 Hz and 660 Hz "
                                                 f"carry {best[0]:.1%} and {best[1]:.1%} of the power")
        bs.quit()
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
        check("drain timeout" not in procs.output(gw), "the drain completed (no timeout)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
