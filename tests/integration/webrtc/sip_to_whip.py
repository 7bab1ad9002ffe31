#!/usr/bin/env python3
"""pipelines/sip-to-whip.toml joins a SIP caller to a WHIP/WHEP room: here
another gateway's serve mode (tone-to-room, bearer token), with coturn for
the turn node.

Asserted: baresip calls; the gateway publishes (WHIP) and plays (WHEP) once
the call is up; the caller hears the room's 1000 Hz; the room receives the
caller's audio: its counter counts it, and its WAV is the caller's 440 Hz
tone (the WHIP direction: baresip -> SIP -> gateway -> WHIP -> room); the
caller hangs up: the gateway DELETEs both
sessions and exits 0 (after_call = "exit").
"""
import json
import os
import sys
import time

import mgwtest
import tonecheck
import whip_whep_client as wwc
from baresip import Baresip
from coturn import SECRET, start_coturn

PIPELINE = os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-to-whip.toml")


def main():
    mgwtest.require_tools("turnserver", "baresip", "sox")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        coturn, turn_port = start_coturn(procs, wd)
        port = mgwtest.free_port()
        room_report, room_wav = os.path.join(wd, "room.json"), os.path.join(wd, "room.wav")
        room = wwc.start(procs, "room", "serve-tone.toml",
                         {"HTTP_LISTEN": f"127.0.0.1:{port}", "TOKEN": wwc.TOKEN, "COUNT_REPORT": room_report,
                          "WAV": room_wav},
                         r"serving the call on")
        sip_port = mgwtest.free_port()
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", PIPELINE, "-v"], env={
            "SIP_LISTEN": f"udp:127.0.0.1:{sip_port}", "WHIP_URL": f"http://127.0.0.1:{port}/whip",
            "WHEP_URL": f"http://127.0.0.1:{port}/whep", "ROOM_TOKEN": wwc.TOKEN,
            "TURN_URL": f"turn:127.0.0.1:{turn_port}", "TURN_SECRET": SECRET})
        if not procs.wait_for_output(gw, r"listening on sip:", 15):
            mgwtest.fail("the gateway never listened for SIP")
        tone = os.path.join(wd, "caller.wav")
        mgwtest.make_tone_wav(tone, 440, 60, rate=8000, volume=0.5)
        bs = Baresip(procs, wd, tone_wav=tone, codecs="opus", video_codecs="VP8")
        bs.start()
        bs.dial(f"sip:room@127.0.0.1:{sip_port}")
        check(bs.wait_event("CALL_ESTABLISHED", 10) is not None, "baresip's call is established")
        check(procs.wait_for_output(gw, r"(?s)pub/room\.joined.*play/room\.joined|play/room\.joined.*pub/room\.joined", 15),
              "the gateway published (WHIP) and plays (WHEP) the room")
        time.sleep(5)
        bs.hangup()
        check(bs.wait_event("CALL_CLOSED", 10) is not None, "the caller hung up")
        try:
            rc = gw.wait(15)
        except Exception:
            rc = None
        check(rc == 0, f"the gateway exits 0 after the call (after_call = exit): {rc}")
        check(procs.wait_for_output(room, r"(?s)left \(DELETE\).*left \(DELETE\)", 10), "both sessions were DELETEd")
        wav = bs.received_wav()
        freq = wav and tonecheck.tone_frequency(wav, 2.0, 2.0)
        check(freq and abs(freq - 1000) < 15, f"the caller hears the room's 1000 Hz ({freq and round(freq)} Hz)")
        check(procs.stop(room) == 0, "the room stops cleanly")
        with open(room_report) as f:
            audio = json.load(f)["audio"]["buffers"]
        check(audio > 100, f"the room received the caller's audio ({audio} buffers)")
        tonecheck.check_tone(room_wav, 440, 3.0, "the caller's audio, as the room received it over WHIP")
        bs.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
