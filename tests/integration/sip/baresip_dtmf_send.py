#!/usr/bin/env python3
"""`dtmf.send` events become RFC 4733 telephone-events to the caller.

The gateway is the echo pipeline plus an event-timer node that emits
`dtmf.send {digit: "1590#*"}` one second after the call is established.
baresip calls it (PCMU + telephone-event) and reports each digit it
receives as a CALL_DTMF_START event (ctrl_tcp). Asserted: baresip received
exactly the digits, in order, and the gateway said it sent them as RFC 4733
(not SIP INFO); the audio still echoes afterwards (event packets take the place of
audio packets only while a digit plays).
"""
import os
import subprocess
import sys
import time

import mgwtest
import siptest
import tonecheck
from baresip import Baresip

DIGITS = "1590#*"

PIPELINE = """
[gateway]
name = "sip-echo-dtmf"
after_call = "exit"

[node.sip]
plugin = "sip-sofia"
listen = "${SIP_LISTEN}"
codecs = ["PCMU"]
video_codecs = []
inputs = { audio = "sip.audio" }

[node.keys]
plugin = "event-timer"
start_on = "sip/call.established"
event = "dtmf.send"
fields = ["digit=%s"]
after_ms = 1000
"""


def main():
    mgwtest.require_tools("baresip", "sox")
    if not os.path.isdir("/usr/lib/baresip/modules"):
        mgwtest.skip("/usr/lib/baresip/modules is missing")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        tone = os.path.join(wd, "tone-1000hz-8k.wav")
        mgwtest.make_tone_wav(tone, 1000, 30, rate=8000, volume=0.5)
        toml = os.path.join(wd, "gw.toml")
        with open(toml, "w") as f:
            f.write(PIPELINE % DIGITS)
        port = mgwtest.free_port()
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", toml], env={"SIP_LISTEN": f"udp:127.0.0.1:{port}"})
        if not procs.wait_for_output(gw, r"listening on sip:", 20):
            mgwtest.fail(f"the gateway did not start (exit code {gw.poll()})")
        bs = Baresip(procs, wd, tone_wav=tone, codecs="PCMU")
        bs.start()
        check(bs.dial(f"sip:echo@127.0.0.1:{port}").get("ok"), "baresip accepted the dial")
        if not bs.wait_event("CALL_ESTABLISHED", 10):
            mgwtest.fail(f"baresip: call not established within 10 s; events {bs.event_types()}")

        def received():
            with bs._cond:
                return "".join(str(e.get("param", "")) for e in bs.events if e.get("type") == "CALL_DTMF_START")

        deadline = time.time() + 8
        while time.time() < deadline and len(received()) < len(DIGITS):
            time.sleep(0.1)
        time.sleep(2.0)          # extra digits (a repeated end packet taken as a new press) would show now
        bs.hangup()
        bs.wait_event("CALL_CLOSED", 5)
        bs.quit()

        got = received()
        mgwtest.log(f"baresip received DTMF: {got!r}")
        check(got == DIGITS, f"baresip received the digits once each, in order ({got!r}, want {DIGITS!r})")
        check(f"dtmf.send: '{DIGITS}' as RFC 4733 events" in procs.output(gw), "the gateway sent them as RFC 4733")
        # baresip's wav holds decoded packets only: the event packets leave no
        # audio in it, so its last second is the echo after the digits.
        wav = bs.received_wav()
        length = float(subprocess.run(["soxi", "-D", wav], capture_output=True, text=True).stdout or 0) if wav else 0
        freq = tonecheck.tone_frequency(wav, max(0.0, length - 1.0), 0.8) if length > 1.5 else None
        check(freq is not None and abs(freq - 1000) <= 20,
              f"the echo carries on after the digits: {freq and round(freq)} Hz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
