#!/usr/bin/env python3
"""pipelines/sip-ivr-to-janus.toml: callers pick a Janus room by DTMF.

In a private network namespace (Janus needs a non-loopback interface):
one Janus (videoroom, HTTP API) with room 5151 (PIN 8642) and room 6161;
a room table mapping both; a listener gateway joined to 5151 whose
baresip caller sends 660 Hz and records what the room says.
  - RFC 4733: baresip (1000 Hz) calls an IVR gateway and types 5151#, then
    8642# (telephone-events). Asserted: the caller hears the prompts
    before any digit (the welcome from PROMPT_DIR, a 440 Hz WAV; then
    espeak-ng's question), the IVR publishes the room (ivr.done) and
    the web node joins room 5151 with the PIN (a publisher named
    "ivr-rfc4733" in 5151); the listener hears 1000 Hz; the caller hears
    the listener's 660 Hz through the IVR's passthrough.
  - SIP INFO: sipp (a 1300 Hz RTP tone) calls a second IVR gateway and
    sends 5151#, 8642# as INFO dtmf-relay. Asserted: a publisher
    "ivr-info" in 5151, and the listener hears 1300 Hz.
"""
import os
import sys
import time

import browser
import janus
import mgwtest
import rooms_common as rc
import tonecheck
from rooms_common import siptest

LISTENER_HZ, CALLER_HZ, INFO_HZ, WELCOME_HZ = 660, 1000, 1300, 440


def wait_joined(procs, gw, what):
    if not procs.wait_for_output(gw, r"\[event\] web/room\.joined", 20):
        mgwtest.fail(f"{what}: the web node did not join the room:\n{procs.output(gw)[-3000:]}")
    return time.monotonic()


def main():
    janus.require_janus()
    mgwtest.require_tools("baresip", "sox", "sipp", "espeak-ng")
    browser.enter_private_netns()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        server = janus.Server(procs, wd).start()
        admin = janus.Session(server.url)
        admin.create_room(5151, pin="8642")
        admin.create_room(6161)
        table = rc.write_table(wd, {"5151": {"pin": "8642"}, "6161": {}})
        listener = rc.Listener(procs, wd, server.url, 5151, "8642", LISTENER_HZ)

        # --- RFC 4733 digits from baresip ---
        prompts = os.path.join(wd, "prompts")   # a user's own welcome: 1.5 s of 440 Hz (a 48 kHz WAV)
        os.makedirs(prompts)
        mgwtest.make_tone_wav(os.path.join(prompts, "welcome.wav"), WELCOME_HZ, 1.5, rate=48000, volume=0.5)
        env = {"ROOM_TABLE": table, "JANUS_URL": server.url, "JANUS_DISPLAY": "ivr-rfc4733", "PROMPT_DIR": prompts}
        gw, port = rc.start_gateway(procs, "gw-rfc4733", rc.IVR_PIPELINE, env)
        bs = rc.tone_caller(procs, wd, "caller", CALLER_HZ, 60, f"sip:ivr@127.0.0.1:{port}",
                            lambda bs: f"baresip: the IVR did not answer; events {bs.event_types()}")
        t_call = time.monotonic()
        time.sleep(2.5)   # the welcome and the question, heard before any digit
        for keys in ("5151#", "8642#"):
            for d in keys:
                check(bs.command("sndcode", d).get("ok"), f"baresip sends {d}")
                time.sleep(0.35)
            time.sleep(1.0)
        check(procs.wait_for_output(gw, r"\[event\] ivr/ivr\.done, room=\(string\)5151", 10),
              "ivr.done names room 5151")
        t_join = wait_joined(procs, gw, "RFC 4733")
        check(admin.wait_publisher(5151, "ivr-rfc4733") is not None, "the caller publishes in room 5151")
        check("joining Janus room 5151" in procs.output(gw), "the web node joined ${ivr.room} = 5151")
        time.sleep(7)     # both ways recorded meanwhile
        bs.hangup()
        bs.wait_event("CALL_CLOSED", 5)
        bs.quit()
        heard = bs.received_wav()
        hz = tonecheck.tone_frequency(heard, 0.3, 0.8)
        check(hz and abs(hz - WELCOME_HZ) < 20, f"the caller hears the welcome from PROMPT_DIR first ({hz} Hz)")
        speech = tonecheck.rms(heard, 1.8, 0.6)
        check(speech and speech > 0.01, f"then the spoken question, before typing (RMS {speech:.3f})")
        hz = tonecheck.tone_frequency(heard, t_join - t_call + 3.0, 2.5)
        check(hz and abs(hz - LISTENER_HZ) < 20,
              f"the caller hears the room (the listener's {LISTENER_HZ} Hz) through the IVR ({hz} Hz)")

        # --- SIP INFO digits from sipp ---
        env["JANUS_DISPLAY"] = "ivr-info"
        gw2, port2 = rc.start_gateway(procs, "gw-info", rc.IVR_PIPELINE, env)
        sipp = rc.start_sipp(procs, wd, "sipp-info", port2,
                             rc.ivr_caller_scenario("ivr", "5151#,8642#", hold_s=9, pcap=rc.tone_pcap(wd, INFO_HZ)))
        check(procs.wait_for_output(gw2, r"\[event\] sip/dtmf, digit=\(string\)5, source=\(string\)info", 15),
              "the digits arrive as SIP INFO")
        wait_joined(procs, gw2, "SIP INFO")
        check(admin.wait_publisher(5151, "ivr-info") is not None, "the INFO caller publishes in room 5151")
        rc_sipp = rc.wait_sipp(procs, sipp, 40)
        check(rc_sipp == 0, f"sipp: the call went through and ended with its BYE ({siptest.describe_sipp_rc(rc_sipp)})")

        tones = rc.tones_heard(listener.finish())
        check(rc.heard(tones, CALLER_HZ), f"room 5151 hears the RFC 4733 caller's {CALLER_HZ} Hz")
        check(rc.heard(tones, INFO_HZ), f"room 5151 hears the SIP INFO caller's {INFO_HZ} Hz")
        check("8642" not in procs.output(gw) + procs.output(gw2), "the PIN is not in the IVR gateways' logs")
        admin.destroy()
        check(server.stop() == 0, "janus stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
