#!/usr/bin/env python3
"""A SIP caller joins open-easyrtc's multiparty demo (npm open-easyrtc 2.1.8,
server_example, demos/demo_multiparty.html) through the gateway's Chromium,
join script `easyrtc-multiparty`, output peers (the page's remote tracks
mixed and laid out in the page, without the demo's UI).

In a private network namespace: the easyrtc server, the gateway, baresip,
and a second headless Chromium on the same demo page (selenium, fake
devices: a 440 Hz microphone, a 320x240 camera).
Asserted:
  - the other participant is connected to the gateway under its display name;
    the gateway counts it (participant.joined);
  - the other participant hears the caller's 1000 Hz and decodes its video;
  - the caller hears the other's 440 Hz and decodes the room's video at the
    gateway's size;
  - the caller hangs up: the other participant loses the gateway; the
    gateway exits 0 with no process of its Chromium left.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "webrtc"))

import browser  # noqa: E402
import mgwtest  # noqa: E402
import rooms  # noqa: E402
import tonecheck  # noqa: E402
import webrtc_common as wc  # noqa: E402
from room_common import browser_pids, caller_sees, chromium_pid, exits_clean, heard_frequency, start_room_gateway  # noqa: E402,E501

OTHER_HZ, NAME = 440, "SIP caller"


def main():
    browser.require_browser()
    rooms.require_easyrtc()
    mgwtest.require_tools("baresip", "sox")
    browser.enter_private_netns()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        url = rooms.easyrtc(procs, wd)
        mic = os.path.join(wd, "other-mic.wav")
        mgwtest.make_tone_wav(mic, OTHER_HZ, 60, rate=48000, volume=0.5)
        cam = browser.make_y4m(os.path.join(wd, "other-cam.y4m"), seconds=4, w=320, h=240, fps=15)
        other_dir = os.path.join(wd, "other")
        os.makedirs(other_dir)
        with browser.Browser(other_dir, fake_audio_wav=mic, fake_video_y4m=cam).start() as other:
            other.open(url)
            other.wait_js("return !!(window.easyrtc && easyrtc.myEasyrtcid)", 20, "the other participant connects")

            gw, sip_port = start_room_gateway(procs, "gateway", url, join="easyrtc-multiparty",
                                              env={"DISPLAY_NAME": NAME, "OUTPUT": "peers", "ALONE_TIMEOUT": "0"})
            caller = wc.call_gateway(procs, wd, gw, sip_port, web_started=r"Chromium started")
            pid = chromium_pid(procs, gw)
            check(procs.wait_for_output(gw, r"\[event\] room/room\.joined", 40), "the gateway joined (room.joined)")
            tree = browser_pids(gw.pid, pid)  # Chromium and all it started
            other.wait_js(f"return easyrtc.getConnectionCount() == 1 && "
                          f"easyrtc.idToName(easyrtc.getIthCaller(0)) == {NAME!r}", 20,
                          "the other participant is connected to the gateway")
            mgwtest.log(f"ok: the other participant is connected to '{NAME}'")
            check(procs.wait_for_output(gw, r"\[event\] room/participant\.joined", 20),
                  "the gateway counts the other participant (participant.joined)")

            mgwtest.log("other's box1: " + str(other.js("return (() => { const s = document.getElementById('box1').srcObject;"
                        " return s ? s.getTracks().map(t => t.kind + ':' + t.readyState + ':' + t.muted + ':' + t.enabled) : null; })()")))
            hz = heard_frequency(other, "document.getElementById('box1').srcObject")
            check(hz and abs(hz - wc.CALLER_HZ) < 20, f"the other participant hears the caller's {wc.CALLER_HZ} Hz ({hz} Hz)")
            other.wait_js("return (() => { const v = document.getElementById('box1');"
                          " return v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 10; })()",
                          20, "the other participant decodes the caller's video")
            mgwtest.log("ok: the other participant decodes the caller's video")

            time.sleep(4)  # the caller records the room meanwhile
            size = caller_sees(caller, wd)
            check(size == (640, 360), f"the caller decodes the room's video at the gateway's size ({size})")

            caller.hangup()
            check(procs.wait_for_output(gw, r"\[event\] room/room\.left", 10), "the gateway left (room.left)")
            other.wait_js("return easyrtc.getConnectionCount() == 0", 15, "the other participant loses the gateway")
            mgwtest.log("ok: the other participant lost the gateway")
            exits_clean(gw, tree)

            wav = caller.received_wav()
            f = wav and tonecheck.tone_frequency(wav, 4.0, 2.0)
            check(f and abs(f - OTHER_HZ) < 15, f"the caller hears the other's {OTHER_HZ} Hz ({f and round(f)} Hz)")
            caller.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
