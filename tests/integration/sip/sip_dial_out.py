#!/usr/bin/env python3
"""Outbound call: the echo gateway dials `dial` at start. baresip answers
automatically (answermode=auto), sends a 1000 Hz tone (PCMU) and records
what it hears. Asserted:
  - the gateway places the call and emits call.established; baresip's call
    is established;
  - media flows both ways on the call the gateway placed: baresip hears its
    own 1000 Hz tone echoed (loud, 1000 Hz +-2%, mostly that tone);
  - on SIGTERM the gateway's drain sends BYE: baresip's call closes, the
    gateway exits 0 and call.ended says shutdown.
"""
import os
import signal
import time

import mgwtest
import sigtest
import siptest
import tonecheck
from baresip import Baresip

TONE_HZ = 1000
CALL_S = 4.0

mgwtest.require_tools("baresip", "sox")
if not os.path.exists("/usr/lib/baresip/modules/g711.so"):
    mgwtest.skip("baresip's g711.so is missing")
check = mgwtest.check
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    tone = os.path.join(wd, "tone.wav")
    mgwtest.make_tone_wav(tone, TONE_HZ, 30, rate=8000, volume=0.5)
    bs = Baresip(procs, wd, tone_wav=tone, codecs="PCMU", user="callee", account_params=";answermode=auto")
    bs.start()
    gw, _ = sigtest.gateway(procs, [f"dial=sip:callee@127.0.0.1:{bs.sip_port}"])
    check(sigtest.wait_event(procs, gw, "call.established", timeout=10), "the outbound call is established")
    check("calling sip:callee@127.0.0.1:" in procs.output(gw), "the gateway logged the call it places")
    check(bs.wait_event("CALL_ESTABLISHED", 5) is not None,
          f"baresip answered and its call is established (events {bs.event_types()})")
    time.sleep(CALL_S)
    check(bs.wait_event("CALL_CLOSED", 0) is None, f"the call is still up after {CALL_S:.0f} s")
    rc = procs.stop(gw, signal.SIGTERM, timeout=10)
    check(rc == 0, f"the gateway drained and exited 0 (got {rc})")
    ended = sigtest.events(procs, gw, "call.ended")
    check(len(ended) == 1 and "reason=(string)shutdown" in ended[0], f"call.ended reason shutdown ({ended})")
    closed = bs.wait_event("CALL_CLOSED", 5)
    check(closed is not None, "baresip's call was closed by the gateway's BYE")
    bs.quit()          # flushes the sndfile wavs

    check("Set audio decoder: PCMU 8000Hz" in procs.output(bs.proc), "baresip decoded PCMU")
    wav = bs.received_wav()
    check(wav is not None, "baresip's sndfile wrote a -dec.wav of the received audio")
    length = tonecheck.seconds(wav)
    check(length >= CALL_S - 1, f"baresip received {length:.2f} s of audio")
    start, dur = 0.5, min(3.0, length - 0.5)
    level = tonecheck.rms(wav, start, dur)
    freq = tonecheck.tone_frequency(wav, start, dur)
    best, purity = tonecheck.tone_purity(wav, TONE_HZ, start, min(2.0, dur))
    mgwtest.log(f"heard: RMS {level:.3f}, {freq} Hz, {purity:.0%} of the power at {best} Hz")
    check(level > 0.05, f"baresip hears the echo (RMS {level:.3f} > 0.05)")
    check(freq is not None and abs(freq - TONE_HZ) <= 0.02 * TONE_HZ,
          f"it is the {TONE_HZ} Hz tone ({freq and round(freq, 1)} Hz)")
    check(purity > 0.5, f"mostly that tone ({purity:.0%} of its power)")
