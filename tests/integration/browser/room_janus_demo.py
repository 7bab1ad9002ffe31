#!/usr/bin/env python3
"""A SIP caller joins a Janus videoroom through the gateway's Chromium on
Janus' own demo page (Debian janus-demos videoroomtest.html, join script
`janus-videoroom`, output tab).

In a private network namespace: Janus 1.1.2 (videoroom), the demo pages over
HTTP, the gateway, baresip, and a second, independent headless Chromium on
the same demo page (selenium, fake devices: a 440 Hz microphone and a
320x240 camera) joined as "alice".
Asserted:
  - the gateway publishes in the room under its display name (Janus lists
    it) and sees alice (participant.joined);
  - alice hears the caller's 1000 Hz and decodes the caller's video;
  - the caller hears alice's 440 Hz and decodes the room's video at the
    gateway's size;
  - the caller hangs up: the gateway leaves (Janus no longer lists it) and
    exits 0 with no process of its Chromium left.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "webrtc"))

import browser  # noqa: E402
import janus  # noqa: E402
import mgwtest  # noqa: E402
import rooms  # noqa: E402
import tonecheck  # noqa: E402
import webrtc_common as wc  # noqa: E402
from room_common import browser_pids, caller_sees, chromium_pid, exits_clean, heard_frequency, start_room_gateway  # noqa: E402,E501

ROOM, ALICE_HZ, NAME = 4321, 440, "SIPcaller42"  # the demo takes alphanumeric names only

# The audio and video of the first remote feed alice's demo page shows.
FEED_STREAM_JS = """(() => {
  const els = [...document.querySelectorAll('#videoremote1 audio, #videoremote1 video')];
  const tracks = els.flatMap(e => e.srcObject ? e.srcObject.getTracks() : []);
  return tracks.length ? new MediaStream(tracks) : null;
})()"""


def main():
    browser.require_browser()
    janus.require_janus()
    rooms.require_janus_demos()
    mgwtest.require_tools("baresip", "sox")
    browser.enter_private_netns()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        server = janus.Server(procs, wd).start()
        admin = janus.Session(server.url)
        admin.create_room(ROOM)
        url = rooms.janus_demo(procs, wd, server) + f"?room={ROOM}"

        mic = os.path.join(wd, "alice-mic.wav")
        mgwtest.make_tone_wav(mic, ALICE_HZ, 60, rate=48000, volume=0.5)
        cam = browser.make_y4m(os.path.join(wd, "alice-cam.y4m"), seconds=4, w=320, h=240, fps=15)
        alice_dir = os.path.join(wd, "alice")
        os.makedirs(alice_dir)
        with browser.Browser(alice_dir, fake_audio_wav=mic, fake_video_y4m=cam).start() as alice:
            alice.open(url)
            rooms.run_join_script(alice, "janus-videoroom", display_name="alice")
            mgwtest.log("ok: alice joined the room on the demo page")

            gw, sip_port = start_room_gateway(procs, "gateway", url, join="janus-videoroom",
                                              env={"DISPLAY_NAME": NAME, "OUTPUT": "tab", "ALONE_TIMEOUT": "0"})
            caller = wc.call_gateway(procs, wd, gw, sip_port, web_started=r"Chromium started")
            pid = chromium_pid(procs, gw)
            check(procs.wait_for_output(gw, r"\[event\] room/room\.joined", 40), "the gateway joined (room.joined)")
            tree = browser_pids(gw.pid, pid)  # Chromium and all it started
            check(admin.wait_publisher(ROOM, NAME) is not None, f"Janus lists the publisher '{NAME}'")
            check(procs.wait_for_output(gw, r"\[event\] room/participant\.joined, display=\(string\)alice", 20),
                  "the gateway sees alice (participant.joined)")

            alice.wait_js(f"return !!{FEED_STREAM_JS}", 20, "alice shows the gateway's feed")
            hz = heard_frequency(alice, FEED_STREAM_JS)
            check(hz and abs(hz - wc.CALLER_HZ) < 20, f"alice hears the caller's {wc.CALLER_HZ} Hz ({hz} Hz)")
            alice.wait_js("return (() => { const v = document.querySelector('#videoremote1 video');"
                          " return v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 10; })()",
                          20, "alice decodes the caller's video")
            w = alice.js("return document.querySelector('#videoremote1 video').videoWidth")
            mgwtest.log(f"ok: alice decodes the caller's video ({w} px wide)")

            time.sleep(4)  # the caller records alice meanwhile
            size = caller_sees(caller, wd)
            check(size == (640, 360), f"the caller decodes the room's video at the gateway's size ({size})")

            caller.hangup()
            check(procs.wait_for_output(gw, r"\[event\] room/room\.left", 10), "the gateway left (room.left)")
            deadline = time.time() + 10
            while any(p.get("display") == NAME for p in admin.participants(ROOM)) and time.time() < deadline:
                time.sleep(0.3)
            check(not any(p.get("display") == NAME for p in admin.participants(ROOM)),
                  "Janus no longer lists the gateway")
            exits_clean(gw, tree)

            wav = caller.received_wav()
            f = wav and tonecheck.tone_frequency(wav, 4.0, 2.0)
            check(f and abs(f - ALICE_HZ) < 15, f"the caller hears alice's {ALICE_HZ} Hz ({f and round(f)} Hz)")
            caller.quit()
        admin.destroy_room(ROOM)
        admin.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
