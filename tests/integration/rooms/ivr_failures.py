#!/usr/bin/env python3
"""pipelines/sip-ivr-to-janus.toml when the caller does not get through
(no Janus needed: the room node never starts). Two gateways at once, each
called by sipp (SIP INFO digits), IVR_TRIES=2, DIGIT_TIMEOUT_MS=1500:
  - wrong: room 9999 (not in the table), then 5151, then PINs 1111 and
    2222 (the table says 8642). Asserted: the IVR says "no such room" and
    asks again, asks for the PIN, says "wrong PIN" and asks again, then
    says goodbye; ivr.failed; the gateway's BYE carries
    Reason: ...;text="ivr/ivr.failed: wrong PIN (2 tries)" (seen on the
    wire); the web node never started.
  - directory down: ROOM_LOOKUP_URL where nobody listens, room 1234#.
    Asserted: "rooms cannot be looked up" + goodbye, a BYE whose Reason says
    "room directory unavailable" (not the directory's address), the log
    says which directory failed.
  - the first gateway re-arms (after_call = rearm): a second call types
    5151# 8642# and gets through (ivr.done names 5151; the web node then
    fails against a Janus that is not there, which ends the call).
  - `mediagw validate` refuses ${ivr.rooom} (not a value of the plugin)
    with its line.
  - silent: no digit at all. Asserted: asked again once, then goodbye and a
    BYE whose Reason says "no digits (2 tries)", within the time the
    prompts and two digit timeouts take (bounded).
"""
import os
import re
import subprocess
import sys
import time

import mgwtest
import rooms_common as rc
from rooms_common import siptest


def prompts_played(procs, gw):
    return re.findall(r"playing: ([a-z_, ]+)", procs.output(gw))


def main():
    siptest.require_sipp()
    mgwtest.require_tools("espeak-ng")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        # A value the ivr plugin does not publish is refused before anything runs, with its place.
        bad = os.path.join(wd, "bad.toml")
        with open(rc.IVR_PIPELINE) as f:
            text = f.read().replace('room = "${ivr.room}"', 'room = "${ivr.rooom}"')
        with open(bad, "w") as f:
            f.write(text)
        r = subprocess.run([mgwtest.MEDIAGW, "validate", bad], capture_output=True, text=True)
        line = 1 + text[:text.index("${ivr.rooom}")].count("\n")
        check(r.returncode == 2 and f"bad.toml:{line}:" in r.stderr and "publishes no value 'rooom'" in r.stderr,
              f"validate refuses ${{ivr.rooom}} at its line: {r.stderr.strip()}")
        table = rc.write_table(wd, {"5151": {"pin": "8642"}})
        env = {"ROOM_TABLE": table, "JANUS_URL": "http://127.0.0.1:9/janus", "DIGIT_TIMEOUT_MS": "1500",
               "IVR_TRIES": "2"}
        # after_call = rearm: a second call into the same gateway gets a fresh IVR.
        wrong_gw, wrong_port = rc.start_gateway(procs, "gw-wrong", rc.IVR_PIPELINE, env,
                                                sets=["gateway.after_call=rearm"])
        silent_gw, silent_port = rc.start_gateway(procs, "gw-silent", rc.IVR_PIPELINE, env)
        dead = f"http://127.0.0.1:{mgwtest.free_port('tcp')}/rooms"   # nobody listens there
        dir_gw, dir_port = rc.start_gateway(procs, "gw-nodir", rc.IVR_PIPELINE,
                                            dict(env, ROOM_TABLE="", ROOM_LOOKUP_URL=dead))
        with rc.sniffer(wrong_port) as wrong_wire, rc.sniffer(silent_port) as silent_wire, \
                rc.sniffer(dir_port) as dir_wire:
            t0 = time.monotonic()
            nodir = rc.start_sipp(procs, wd, "sipp-nodir", dir_port,
                                  rc.ivr_caller_scenario("ivr", "1234#", end="wait-bye"))
            wrong = rc.start_sipp(procs, wd, "sipp-wrong", wrong_port,
                                  rc.ivr_caller_scenario("ivr", "9999#,5151#,1111#,2222#", end="wait-bye"))
            silent = rc.start_sipp(procs, wd, "sipp-silent", silent_port,
                                   rc.ivr_caller_scenario("ivr", "", end="wait-bye"))
            rc_wrong = rc.wait_sipp(procs, wrong, 60)
            rc_silent = rc.wait_sipp(procs, silent, 60)
            silent_s = time.monotonic() - t0
            rc_nodir = rc.wait_sipp(procs, nodir, 30)
            time.sleep(0.3)
        check(rc_wrong == 0, f"sipp (wrong room and PINs): the call was answered and ended by the gateway's BYE "
                             f"({siptest.describe_sipp_rc(rc_wrong)})")
        played = prompts_played(procs, wrong_gw)
        mgwtest.log(f"prompts (wrong): {played}")
        check(played[:4] == ["welcome, room", "no_room, room", "pin", "wrong_pin, pin"] and
              played[-1] == "wrong_pin, goodbye",
              "no such room, asked again; the PIN asked; wrong PIN, asked again; then goodbye")
        failed = rc.event_lines(procs, wrong_gw, "ivr/ivr.failed")
        check(len(failed) == 1 and 'reason=(string)"wrong PIN (2 tries)"' in failed[0],
              f"ivr.failed says: wrong PIN (2 tries) ({failed})")
        reason = rc.reason_of(wrong_wire, wrong_port, "BYE ")
        check(reason and "wrong PIN (2 tries)" in reason, f"the BYE says why: {reason}")
        check("web/room.joined" not in procs.output(wrong_gw) and "joining Janus" not in procs.output(wrong_gw),
              "the web node never started")
        check("8642" not in procs.output(wrong_gw), "the PIN is not in the gateway's log")

        check(rc_silent == 0, f"sipp (silent): ended by the gateway's BYE ({siptest.describe_sipp_rc(rc_silent)})")
        played = prompts_played(procs, silent_gw)
        mgwtest.log(f"prompts (silent): {played}")
        check(played == ["welcome, room", "no_input, room", "no_input, goodbye"],
              "silence: asked again once, then goodbye")
        reason = rc.reason_of(silent_wire, silent_port, "BYE ")
        check(reason and "no digits (2 tries)" in reason, f"the BYE says why: {reason}")
        check(silent_s < 30, f"the silent call ended in {silent_s:.1f} s (prompts + 2 x 1.5 s timeouts)")

        check(rc_nodir == 0, f"sipp (directory down): ended by the gateway's BYE ({siptest.describe_sipp_rc(rc_nodir)})")
        check(prompts_played(procs, dir_gw)[-1:] == ["unavailable, goodbye"], "the caller is told rooms cannot be looked up")
        reason = rc.reason_of(dir_wire, dir_port, "BYE ")
        check(reason and "room directory unavailable" in reason and "127.0.0.1" not in reason,
              f"the BYE says why, without the directory's address: {reason}")
        check(re.search(r"room '1234': http://127\.0\.0\.1:\d+/rooms: .*", procs.output(dir_gw)),
              "the log says which directory failed and how")

        # The re-armed gateway, called again: the IVR starts afresh and lets the caller through
        # (to a Janus that is not there: the web node fails and the call ends with that).
        again = rc.start_sipp(procs, wd, "sipp-again", wrong_port,
                              rc.ivr_caller_scenario("ivr", "5151#,8642#", end="wait-bye"))
        rc_again = rc.wait_sipp(procs, again, 40)
        check(rc_again == 0, f"sipp (second call): answered, ended by the gateway ({siptest.describe_sipp_rc(rc_again)})")
        played = prompts_played(procs, wrong_gw)
        check(played.count("welcome, room") == 2 and "connecting" in played,
              f"the second call was welcomed again and let through: {played[-3:]}")
        done = rc.event_lines(procs, wrong_gw, "ivr/ivr.done")
        check(len(done) == 1 and "room=(string)5151" in done[0], f"ivr.done names room 5151 ({done})")
        check("8642" not in procs.output(wrong_gw), "the PIN is still not in the gateway's log")
        procs.stop(wrong_gw)
        for gw in (wrong_gw, silent_gw, dir_gw):
            try:
                code = gw.wait(10)
            except Exception:
                code = None
            check(code == 0, f"the gateway exits 0 after the call ({code})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
