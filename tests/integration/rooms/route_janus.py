#!/usr/bin/env python3
"""pipelines/sip-route-to-janus.toml: the INVITE itself picks the Janus room.

In a private network namespace: one Janus with room 5151 (PIN 8642) and
room 6161; a room table giving 5151 its PIN (6161 comes from the
pipeline's pattern: four to ten digits); a listener gateway in 5151
(baresip, 660 Hz, recording).
  - URI: baresip (1000 Hz) calls sip:5151@gateway. Asserted: route.found
    before the answer, the web node joins 5151 with the table's PIN (a
    publisher "route-uri"), the listener hears 1000 Hz, the caller hears
    660 Hz.
  - X-Room: sipp calls sip:reception@gateway with "X-Room: 6161" (and a
    1300 Hz RTP tone). Asserted: a publisher "route-xroom" in room 6161,
    none in 5151.
  - HTTP directory: sipp calls sip:sales@gateway; the gateway asks a small
    HTTP room service of the test (bearer token) which answers room 6161.
    Asserted: a publisher "route-http" in 6161; the service was asked once
    with the token; the token is not in the log.
  - unknown: sipp calls sip:nobody@gateway. Asserted: the INVITE is refused
    (480, never answered) with a Reason header saying "no such room" (seen
    on the wire); the web node never starts; the gateway exits 0. A
    re-arming gateway refuses two such calls, one lookup each.
"""
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.parse

import browser
import janus
import mgwtest
import rooms_common as rc
import tonecheck
from rooms_common import siptest

LISTENER_HZ, CALLER_HZ = 660, 1000


class RoomService:
    """An HTTP room directory: GET /rooms?key=K -> JSON or 404; records (key, Authorization)."""

    def __init__(self, rooms, token):
        svc = self
        self.asked = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                key = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query).get("key", [""])[0]
                auth = self.headers.get("Authorization", "")
                svc.asked.append((key, auth))
                if auth != f"Bearer {token}":
                    body, status = b'{"error": "unauthorized"}', 401
                elif key in rooms:
                    body, status = json.dumps(rooms[key]).encode(), 200
                else:
                    body, status = b'{"error": "no such room"}', 404
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/rooms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def main():
    janus.require_janus()
    mgwtest.require_tools("baresip", "sox", "sipp")
    browser.enter_private_netns()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        server = janus.Server(procs, wd).start()
        admin = janus.Session(server.url)
        admin.create_room(5151, pin="8642")
        admin.create_room(6161)
        table = rc.write_table(wd, {"5151": {"pin": "8642"}})
        listener = rc.Listener(procs, wd, server.url, 5151, "8642", LISTENER_HZ)
        env = {"ROOM_TABLE": table, "JANUS_URL": server.url}

        # --- the dialled URI ---
        gw, port = rc.start_gateway(procs, "gw-uri", rc.ROUTE_PIPELINE, dict(env, JANUS_DISPLAY="route-uri"))
        bs = rc.tone_caller(procs, wd, "caller", CALLER_HZ, 60, f"sip:5151@127.0.0.1:{port}",
                            lambda bs: f"baresip: the call was not answered; events {bs.event_types()}\n"
                                       f"{procs.output(gw)[-3000:]}")
        t_call = time.monotonic()
        procs.wait_for_output(gw, r"\[event\] sip/call\.established", 5)
        log = procs.output(gw)
        check(re.search(r"\[event\] route/route\.found, room=\(string\)5151", log), "route.found names room 5151")
        check(0 <= log.find("route/route.found") < log.find("sip/call.established"),
              "the room was known before the call was answered")
        if not procs.wait_for_output(gw, r"\[event\] web/room\.joined", 20):
            mgwtest.fail(f"the web node did not join:\n{procs.output(gw)[-3000:]}")
        t_join = time.monotonic()
        check(admin.wait_publisher(5151, "route-uri") is not None, "the caller publishes in room 5151 (PIN from the table)")
        time.sleep(7)
        bs.hangup()
        bs.wait_event("CALL_CLOSED", 5)
        bs.quit()
        hz = tonecheck.tone_frequency(bs.received_wav(), t_join - t_call + 3.0, 2.5)
        check(hz and abs(hz - LISTENER_HZ) < 20, f"the caller hears the room's {LISTENER_HZ} Hz ({hz} Hz)")

        # --- an X-Room header ---
        gw2, port2 = rc.start_gateway(procs, "gw-xroom", rc.ROUTE_PIPELINE, dict(env, JANUS_DISPLAY="route-xroom"))
        sipp = rc.start_sipp(procs, wd, "sipp-xroom", port2,
                             rc.ivr_caller_scenario("reception", "", hold_s=6, headers=["X-Room: 6161"],
                                                    pcap=rc.tone_pcap(wd, 1300)))
        check(admin.wait_publisher(6161, "route-xroom", timeout=20) is not None,
              "the X-Room caller publishes in room 6161")
        check(not [p for p in admin.participants(5151) if p.get("display") == "route-xroom"],
              "and not in room 5151 (the dialled user loses to X-Room)")
        rc_sipp = rc.wait_sipp(procs, sipp, 30)
        check(rc_sipp == 0, f"sipp (X-Room): answered, ended by its BYE ({siptest.describe_sipp_rc(rc_sipp)})")

        # --- an HTTP directory: "sales" is room 6161 ---
        directory = RoomService({"sales": {"room": 6161, "service": "janus"}}, token="dir-token")
        gw4, port4 = rc.start_gateway(procs, "gw-http", rc.ROUTE_PIPELINE,
                                      dict(env, JANUS_DISPLAY="route-http", ROOM_LOOKUP_URL=directory.url,
                                           ROOM_LOOKUP_TOKEN="dir-token"))
        sipp = rc.start_sipp(procs, wd, "sipp-http", port4, rc.ivr_caller_scenario("sales", "", hold_s=4, ringing=True))
        check(admin.wait_publisher(6161, "route-http", timeout=20) is not None,
              "sip:sales@ publishes in room 6161, as the HTTP directory says")
        check(directory.asked == [("sales", "Bearer dir-token")], f"the directory was asked once, with the token "
                                                                   f"({len(directory.asked)} requests)")
        check("dir-token" not in procs.output(gw4), "the token is not in the gateway's log")
        rc_sipp = rc.wait_sipp(procs, sipp, 30)
        check(rc_sipp == 0, f"sipp (HTTP directory): 180 while the room is looked up, answered, ended by its BYE "
                            f"({siptest.describe_sipp_rc(rc_sipp)})")
        directory.close()

        # --- no such room ---
        gw3, port3 = rc.start_gateway(procs, "gw-unknown", rc.ROUTE_PIPELINE, dict(env, JANUS_DISPLAY="route-none"))
        with rc.sniffer(port3) as wire:
            sipp = rc.start_sipp(procs, wd, "sipp-unknown", port3, rc.ivr_caller_scenario("nobody", "", expect=480))
            rc_sipp = rc.wait_sipp(procs, sipp, 20)
            time.sleep(0.3)
        check(rc_sipp == 0, f"sipp: the INVITE was refused with 480, never answered ({siptest.describe_sipp_rc(rc_sipp)})")
        reason = rc.reason_of(wire, port3, "SIP/2.0 480")
        check(reason and "no such room" in reason, f"the refusal says why: {reason}")
        check("joining Janus" not in procs.output(gw3), "the web node never started")
        try:
            code = gw3.wait(10)
        except Exception:
            code = None
        check(code == 0, f"the gateway exits 0 after the refused call ({code})")

        # --- re-armed (after_call = rearm): the route node looks each new call up ---
        gw5, port5 = rc.start_gateway(procs, "gw-rearm", rc.ROUTE_PIPELINE, dict(env, JANUS_DISPLAY="route-rearm"),
                                      sets=["gateway.after_call=rearm"])
        for n in (1, 2):
            sipp = rc.start_sipp(procs, wd, f"sipp-rearm-{n}", port5, rc.ivr_caller_scenario("nobody", "", expect=480))
            rc_sipp = rc.wait_sipp(procs, sipp, 20)
            check(rc_sipp == 0, f"re-armed gateway, call {n}: refused with 480 ({siptest.describe_sipp_rc(rc_sipp)})")
        failed = rc.event_lines(procs, gw5, "route/route.failed")
        check(len(failed) == 2, f"one route.failed per call ({len(failed)})")
        procs.stop(gw5)

        check(rc.heard(rc.tones_heard(listener.finish()), CALLER_HZ), f"room 5151 hears the URI caller's {CALLER_HZ} Hz")
        admin.destroy()
        check(server.stop() == 0, "janus stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
