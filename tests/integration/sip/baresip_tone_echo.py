#!/usr/bin/env python3
"""baresip calls the echo gateway with a 1000 Hz tone and hears it back.

Usage: baresip_tone_echo.py CODEC   (PCMU, PCMA, G722 or opus; baresip offers
only that one, so the gateway must answer with it and echo it untouched)

baresip sends an 8 kHz mono tone wav (aufile), records what it receives with
its sndfile module (dump-*-dec.wav), and is driven over ctrl_tcp
(tests/lib/baresip.py): dial, ~4 s of call, hangup. Asserted:
  - the call is established and baresip decoded with CODEC;
  - the gateway logged call.established and call.ended;
  - the received audio (first 0.5 s skipped) is loud (RMS > 0.05; the sent tone
    has 0.35), its frequency is 1000 Hz +-2%, and most of its power (> 50%) is
    that tone (not noise, not another tone).
"""
import os
import sys
import time

import mgwtest
import siptest
import tonecheck
from baresip import Baresip

TONE_HZ = 1000
CALL_SECONDS = 4.0
# codec -> (baresip account audio_codecs, how baresip names the decoder it set)
CODECS = {
    "PCMU": ("PCMU", "PCMU 8000Hz"),
    "PCMA": ("PCMA", "PCMA 8000Hz"),
    "G722": ("G722/16000/1", "G722 16000Hz"),
    "OPUS": ("opus/48000/2", "opus 48000Hz"),
}


def main():
    codec = (sys.argv[1] if len(sys.argv) > 1 else "PCMU").upper()
    if codec not in CODECS:
        mgwtest.fail(f"unknown codec {codec}")
    account_codec, decoder = CODECS[codec]
    mgwtest.require_tools("baresip", "sox")
    if not os.path.isdir("/usr/lib/baresip/modules"):
        mgwtest.skip("/usr/lib/baresip/modules is missing")
    module = {"G722": "g722.so", "OPUS": "opus.so"}.get(codec, "g711.so")
    if not os.path.exists(os.path.join("/usr/lib/baresip/modules", module)):
        mgwtest.skip(f"baresip's {module} is missing")
    check = mgwtest.check

    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        tone = os.path.join(wd, "tone-1000hz-8k.wav")
        mgwtest.make_tone_wav(tone, TONE_HZ, 30, rate=8000, volume=0.5)
        gw, gw_port, is_gw = siptest.start_echo_peer(procs, wd)

        bs = Baresip(procs, wd, tone_wav=tone, codecs=account_codec)
        bs.start()
        uri = f"sip:echo@127.0.0.1:{gw_port}"
        resp = bs.dial(uri)
        check(resp.get("ok"), f"baresip accepted 'dial {uri}' ({resp.get('data', '').strip()})")
        est = bs.wait_event("CALL_ESTABLISHED", 10)
        if not est:
            mgwtest.fail(f"baresip: call not established within 10 s; events {bs.event_types()}")
        mgwtest.log("ok: call established")
        time.sleep(CALL_SECONDS)
        closed_early = bs.wait_event("CALL_CLOSED", 0)
        check(closed_early is None, "the call was still up after "
              f"{CALL_SECONDS:.0f} s" + (f" (closed: {closed_early.get('param')})" if closed_early else ""))
        bs.hangup()
        closed = bs.wait_event("CALL_CLOSED", 5)
        check(closed is not None, "baresip: call closed after hangup")
        bs.quit()          # flushes and closes the sndfile wavs

        out = procs.output(bs.proc)
        check(f"Set audio decoder: {decoder}" in out, f"baresip decoded the received audio as {decoder}")
        if is_gw:
            check(siptest.wait_events(procs, gw, "ended", 1, 5), "gateway logged sip/call.ended")
            check(siptest.count_events(procs, gw, "established") >= 1, "gateway logged sip/call.established")

        wav = bs.received_wav()
        check(wav is not None, "baresip's sndfile wrote a -dec.wav of the received audio")
        length = tonecheck.seconds(wav)
        mgwtest.log(f"received {os.path.basename(wav)}: {length:.2f} s")
        check(length >= 2.5, f"received audio lasts {length:.2f} s (>= 2.5 s of a {CALL_SECONDS:.0f} s call)")
        start, dur = 0.5, min(3.0, length - 0.5)
        level = tonecheck.rms(wav, start, dur)
        freq = tonecheck.tone_frequency(wav, start, dur)
        best, purity = tonecheck.tone_purity(wav, TONE_HZ, start, min(2.0, dur))
        mgwtest.log(f"after {start} s: RMS {level:.3f}, frequency {freq} Hz, "
                    f"{purity * 100:.1f}% of the power at {best} Hz")
        check(level > 0.05, f"received audio is not silent (RMS {level:.3f} > 0.05)")
        check(freq is not None and abs(freq - TONE_HZ) <= 0.02 * TONE_HZ,
              f"received frequency {freq and round(freq, 1)} Hz is {TONE_HZ} Hz +-2%")
        check(purity > 0.5, f"received audio is mostly the {TONE_HZ} Hz tone ({purity * 100:.1f}% of its power)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
