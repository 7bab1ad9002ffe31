#!/usr/bin/env python3
"""DTMF from baresip (RFC 4733 telephone-event) becomes `dtmf` events.

baresip calls the echo gateway and sends digits with its menu's `sndcode`
command (ctrl_tcp), which baresip sends as RFC 4733 packets (end packet
three times). Asserted: the gateway logs one `[event] sip/dtmf` per digit,
in order, with source=rfc4733 (no duplicates from the repeated end packets),
and the call's audio still echoes the tone afterwards.
"""
import os
import re
import sys
import time

import mgwtest
import siptest
import tonecheck
from baresip import Baresip

DIGITS = "159#*0"


def dtmf_events(procs, gw):
    # GstStructure text escapes * and # inside quotes: digit=(string)"\#"
    return re.findall(r'\[event\] sip/dtmf, digit=\(string\)"?\\?([0-9A-D*#])"?, source=\(string\)(\w+)',
                      procs.output(gw))


def main():
    mgwtest.require_tools("baresip", "sox")
    if not os.path.isdir("/usr/lib/baresip/modules"):
        mgwtest.skip("/usr/lib/baresip/modules is missing")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        tone = os.path.join(wd, "tone-1000hz-8k.wav")
        mgwtest.make_tone_wav(tone, 1000, 30, rate=8000, volume=0.5)
        gw, gw_port = siptest.start_gateway(procs, extra=("-v",))  # digits are logged at debug level
        bs = Baresip(procs, wd, tone_wav=tone, codecs="PCMU")
        bs.start()
        uri = f"sip:echo@127.0.0.1:{gw_port}"
        check(bs.dial(uri).get("ok"), f"baresip accepted 'dial {uri}'")
        if not bs.wait_event("CALL_ESTABLISHED", 10):
            mgwtest.fail(f"baresip: call not established within 10 s; events {bs.event_types()}")
        time.sleep(1.0)
        for d in DIGITS:
            resp = bs.command("sndcode", d)
            check(resp.get("ok"), f"baresip accepted 'sndcode {d}'")
            time.sleep(0.4)      # a key press each, as a person would
        deadline = time.time() + 5
        while time.time() < deadline and len(dtmf_events(procs, gw)) < len(DIGITS):
            time.sleep(0.1)
        time.sleep(1.0)          # late duplicates would show up now
        bs.hangup()
        bs.wait_event("CALL_CLOSED", 5)
        bs.quit()

        events = dtmf_events(procs, gw)
        mgwtest.log(f"dtmf events: {events}")
        got = "".join(d for d, _ in events)
        check(got == DIGITS, f"the gateway emitted one dtmf event per digit, in order ({got!r}, want {DIGITS!r})")
        check(all(src == "rfc4733" for _, src in events), "every dtmf event says source=rfc4733")
        wav = bs.received_wav()
        freq = tonecheck.tone_frequency(wav, 0.5, 2.0) if wav else None
        check(freq is not None and abs(freq - 1000) <= 20, f"the audio still echoes: {freq and round(freq)} Hz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
