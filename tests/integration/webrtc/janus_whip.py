#!/usr/bin/env python3
"""The gateway's WHIP client against a real WHIP server: Debian's
simple-whip-server fronting Janus (a videoroom publisher per WHIP endpoint).

In a private network namespace (Janus and Chromium need a non-loopback
interface): Janus (videoroom, HTTP + WebSocket API), a room with a PIN,
simple-whip-server with an endpoint on it (bearer token, display "SIP
caller"), and the gateway running sip-to-whip-publish.toml (sip-to-whip.toml
without WHEP: no WHEP server exists for Janus). baresip calls it with a
1000 Hz tone and video; a Chromium room participant (janus_peer.html, watching
only) subscribes to every publisher. Asserted:
  - the gateway publishes with WHIP: simple-whip-server's endpoint becomes a
    room publisher named "SIP caller" (listparticipants);
  - the participant hears the caller's 1000 Hz and decodes its video;
  - the caller hangs up: the gateway DELETEs the WHIP resource
    (simple-whip-server tears the session down), the publisher leaves the
    room, and the gateway exits 0 (after_call = "exit").
"""
import os
import sys

import browser
import janus
import mgwtest
import simple_whip
import webrtc_common as wc

PIPELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sip-to-whip-publish.toml")
ROOM, PIN, TOKEN, DISPLAY = 4242, "2468", "whip-s3cret", "SIP caller"


def main():
    browser.require_browser()
    janus.require_janus()
    mgwtest.require_tools("baresip", "sox", "node")
    simple_whip.find_install()
    browser.enter_private_netns()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        server = janus.Server(procs, wd, websockets=True).start()
        admin = janus.Session(server.url)
        admin.create_room(ROOM, pin=PIN)
        whip = simple_whip.Server(procs, wd, server.ws_url).start()
        url = whip.create_endpoint("gateway", ROOM, pin=PIN, label=DISPLAY, token=TOKEN)
        sip_port = mgwtest.free_port()
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", PIPELINE, "-v"], env={
            "SIP_LISTEN": f"udp:127.0.0.1:{sip_port}", "WHIP_URL": url, "ROOM_TOKEN": TOKEN})
        if not procs.wait_for_output(gw, r"listening on sip:", 15):
            mgwtest.fail("the gateway never listened for SIP")
        with janus.Participant(wd, server.url, ROOM, PIN, "watcher") as watcher:
            bs = wc.call_gateway(procs, wd, gw, sip_port, web_started=r"\[event\] pub/room\.joined")
            check(admin.wait_publisher(ROOM, DISPLAY) is not None,
                  f"the WHIP session is a publisher of the room named {DISPLAY!r}")
            watcher.wait_feed(DISPLAY)
            hz = watcher.feed_frequency(DISPLAY)
            check(hz and abs(hz - wc.CALLER_HZ) < 20, f"the room hears the caller's {wc.CALLER_HZ} Hz ({hz} Hz)")
            v = watcher.feed_video(DISPLAY)
            check(v["frameWidth"] > 0 and v["frameHeight"] > 0,
                  f"the room decodes the caller's video: {v['framesDecoded']} frames, "
                  f"{v['frameWidth']}x{v['frameHeight']} {v.get('codec')}")

            bs.hangup()
            check(bs.wait_event("CALL_CLOSED", 10) is not None, "the caller hung up")
            check(procs.wait_for_output(whip.proc, simple_whip.SESSION_ENDED, 10),
                  "the gateway DELETEd the WHIP resource (simple-whip-server ended the session)")
            watcher.wait_feed_gone(DISPLAY)
            check(not [p for p in admin.participants(ROOM) if p.get("display") == DISPLAY],
                  "the gateway's publisher left the room")
        try:
            rc = gw.wait(15)
        except Exception:
            rc = None
        check(rc == 0, f"the gateway exits 0 after the call (after_call = exit): {rc}")
        bs.quit()
        admin.destroy_room(ROOM)
        admin.destroy()
        check(server.stop() == 0, "janus stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
