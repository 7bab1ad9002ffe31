#!/usr/bin/env python3
"""pipelines/sip-to-janus.toml: a SIP caller joins a Janus videoroom.

In a private network namespace (Janus and Chromium need a non-loopback
interface): Janus (videoroom, HTTP API) with a room that has a PIN, coturn
for the pipeline's turn node (host candidates win here); Chromium
participant A (janus_peer.html, 440 Hz fake microphone, 320x240 fake camera)
is in the room; baresip calls the gateway with a 1000 Hz tone and video.
Asserted:
  - the gateway joins the room (web/room.joined) as the publisher
    "SIP caller" and sees A (web/participant.joined, participant = A);
  - A hears the caller's 1000 Hz and decodes its video;
  - the caller hears A's 440 Hz (baresip's recording) and decodes A's video
    (a 320x240 snapshot);
  - participant B (660 Hz) joins and leaves: participant.joined and
    participant.left name B, and the call goes on;
  - the room is destroyed through the API: web/room.failed ("room destroyed"),
    the gateway hangs up with a BYE whose Reason header says so (seen on the
    wire), and exits 0 (after_call = "exit").
"""
import os
import re
import sys
import time

import browser
import janus
import mgwtest
import tonecheck
import webrtc_common as wc
from rtpsniff import RtpSniffer
from turn_relay import SECRET, start_coturn

PIPELINE = os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-to-janus.toml")
ROOM, PIN, DISPLAY = 5151, "8642", "SIP caller"
A_HZ, B_HZ = 440, 660


def main():
    browser.require_browser()
    janus.require_janus()
    mgwtest.require_tools("baresip", "sox", "turnserver")
    browser.enter_private_netns()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        server = janus.Server(procs, wd).start()
        admin = janus.Session(server.url)
        admin.create_room(ROOM, pin=PIN)
        _, turn_port = start_coturn(procs, wd)   # the pipeline's turn node wants a server
        sip_port = mgwtest.free_port()
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", PIPELINE, "-v"], env={
            "SIP_LISTEN": f"udp:127.0.0.1:{sip_port}", "JANUS_URL": server.url, "JANUS_ROOM": str(ROOM),
            "JANUS_PIN": PIN, "TURN_URL": f"turn:127.0.0.1:{turn_port}", "TURN_SECRET": SECRET})
        if not procs.wait_for_output(gw, r"listening on sip:", 15):
            mgwtest.fail("the gateway never listened for SIP")

        with janus.Participant(wd, server.url, ROOM, PIN, "A", mic_hz=A_HZ) as a:
            bs = wc.call_gateway(procs, wd, gw, sip_port, web_started=r"\[event\] web/room\.joined")
            t_call = time.monotonic()
            check(admin.wait_publisher(ROOM, DISPLAY) is not None, f"the gateway publishes in the room as {DISPLAY!r}")
            check(procs.wait_for_output(gw, r"\[event\] web/participant\.joined, participant=\(string\)A[,;]", 10),
                  "participant.joined names A")
            a.wait_feed(DISPLAY)
            hz = a.feed_frequency(DISPLAY)
            check(hz and abs(hz - wc.CALLER_HZ) < 20, f"A hears the caller's {wc.CALLER_HZ} Hz ({hz} Hz)")
            v = a.feed_video(DISPLAY)
            check(v["frameWidth"] > 0 and v["frameHeight"] > 0,
                  f"A decodes the caller's video: {v['framesDecoded']} frames, {v['frameWidth']}x{v['frameHeight']}")
            time.sleep(3)   # the caller records A's tone meanwhile
            shot = os.path.join(wd, "caller-sees.png")
            bs.command("snapshot_recv", shot)
            time.sleep(1)
            size = mgwtest.png_size(shot)
            check(size == (320, 240), f"the caller decodes A's video ({size})")
            a_window_end = time.monotonic() - t_call   # A alone in the room up to here

            with janus.Participant(wd, server.url, ROOM, PIN, "B", mic_hz=B_HZ) as b:
                b.wait_feed(DISPLAY)
                check(procs.wait_for_output(gw, r"\[event\] web/participant\.joined, participant=\(string\)B[,;]", 10),
                      "participant.joined names B")
            check(procs.wait_for_output(gw, r"\[event\] web/participant\.left, participant=\(string\)B[,;]", 10),
                  "B left: participant.left names B")
            time.sleep(2)
            check(bs.wait_event("CALL_CLOSED", 0) is None and gw.poll() is None, "the call goes on without B")
            check(a.feed_frequency(DISPLAY) is not None, "A still hears the caller")

            with RtpSniffer(ports={sip_port}) as sip_wire:   # baresip does not show the BYE's headers
                admin.destroy_room(ROOM)
                check(procs.wait_for_output(gw, r"\[event\] web/room\.failed, reason=.*destroyed", 10),
                      "the room destroyed: web/room.failed says so")
                closed = bs.wait_event("CALL_CLOSED", 10)
                check(closed is not None, f"the gateway hung up on the caller: {closed and closed.get('param')}")
            bye = [p.payload.decode(errors="replace") for p in sip_wire.packets(sport=sip_port, rtp_only=False)
                   if p.payload.startswith(b"BYE ")]
            reason = bye and re.search(r"^Reason:.*$", bye[0], re.M | re.I)
            check(reason and "destroyed" in reason.group(0), f"the BYE says why: {reason and reason.group(0).strip()}")
            a.browser.wait_js("jp.state == 'room destroyed'", 10, "A is told the room is gone")
        try:
            rc = gw.wait(15)
        except Exception:
            rc = None
        check(rc == 0, f"the gateway exits 0 after the call (after_call = exit): {rc}")

        wav = bs.received_wav()
        freq = wav and tonecheck.tone_frequency(wav, max(0.0, a_window_end - 2.5), 2.0)
        check(freq and abs(freq - A_HZ) < 15, f"the caller hears A's {A_HZ} Hz ({freq and round(freq)} Hz)")
        bs.quit()
        admin.destroy()
        check(server.stop() == 0, "janus stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
