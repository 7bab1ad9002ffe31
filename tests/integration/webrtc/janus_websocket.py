#!/usr/bin/env python3
"""webrtc-direct's Janus mode over Janus' WebSocket API (url ws://...).

In the browser namespace: Janus with its HTTP and WebSocket transports, a
room with a PIN; the gateway (client.toml: a 440 Hz tone and a test pattern
in, the room recorded and counted out) joins it over the WebSocket; a
Chromium participant A (660 Hz fake microphone) is in the room.
Asserted: the gateway publishes (A hears 440 Hz, decodes its video) and
receives A (its recording is 660 Hz, video frames counted); stopped, the
gateway destroys its Janus session (its feed leaves the room at once).
"""
import json
import os
import sys
import time

import browser
import janus
import mgwtest
import tonecheck
import whip_whep_client as wwc

ROOM, PIN, DISPLAY, A_HZ = 6262, "1357", "SIP caller", 660


def main():
    browser.require_browser()
    janus.require_janus()
    browser.enter_private_netns()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        server = janus.Server(procs, wd, websockets=True).start()
        admin = janus.Session(server.url)
        admin.create_room(ROOM, pin=PIN)
        wav, report = os.path.join(wd, "room.wav"), os.path.join(wd, "room.json")
        with janus.Participant(wd, server.url, ROOM, PIN, "A", mic_hz=A_HZ) as a:
            gw = wwc.start(procs, "gateway", "client.toml",
                           {"MODE": "janus", "URL": server.ws_url, "ROOM": str(ROOM), "WAV": wav,
                            "COUNT_REPORT": report, "PIN": PIN}, r"joining Janus room")
            check(procs.wait_for_output(gw, r"\[event\] web/room\.joined", 10), "the gateway joins over the WebSocket")
            check(admin.wait_publisher(ROOM, DISPLAY) is not None, f"the gateway publishes as {DISPLAY!r}")
            a.wait_feed(DISPLAY)
            hz = a.feed_frequency(DISPLAY)
            check(hz and abs(hz - 440) < 20, f"A hears the gateway's 440 Hz ({hz} Hz)")
            v = a.feed_video(DISPLAY)
            check(v["frameWidth"] > 0, f"A decodes the gateway's video ({v['framesDecoded']} frames)")
            check(procs.wait_for_output(gw, r"\[event\] web/participant\.joined, participant=\(string\)A[,;]", 10),
                  "participant.joined names A")
            time.sleep(3)
            check(procs.stop(gw) == 0, "the gateway stops cleanly")
            t0 = time.monotonic()
            while time.monotonic() - t0 < 5 and any(p.get("display") == DISPLAY for p in admin.participants(ROOM)):
                time.sleep(0.2)
            check(not any(p.get("display") == DISPLAY for p in admin.participants(ROOM)),
                  f"its Janus session destroyed: the feed left the room ({time.monotonic() - t0:.1f} s)")
        freq = tonecheck.tone_frequency(wav, max(0.0, tonecheck.seconds(wav) - 2.5), 2.0)
        check(freq and abs(freq - A_HZ) < 15, f"the gateway received A's {A_HZ} Hz ({freq and round(freq)} Hz)")
        with open(report) as f:
            frames = json.load(f)["video"]["buffers"]
        check(frames > 10, f"the gateway received A's video ({frames} frames)")
        admin.destroy()
        check(server.stop() == 0, "janus stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
