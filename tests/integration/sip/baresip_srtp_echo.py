#!/usr/bin/env python3
"""SRTP with SDES keys (issue #4): baresip offers RTP/SAVP with a=crypto.

Three calls to pipelines/sip-echo.toml, each to a gateway of its own:
  1. srtp = optional (the default), baresip with its srtp module and
     `;mediaenc=srtp-mand` (RTP/SAVP only): the call is established, the
     gateway logged SRTP for the stream, and baresip hears its 1000 Hz tone
     back (+-2%, RMS > 0.05). baresip decrypts with the key of our a=crypto
     and we with the key of its own, so a tone back proves both directions;
  2. `--set sip.srtp=off`, the same baresip: the gateway refuses with 488 and
     a Warning saying why, baresip's call closes without being established;
  3. `--set sip.srtp=required`, a baresip without SRTP (plain RTP/AVP): 488.
No gateway log contains an SDES key ("inline:").
"""
import os
import re
import sys
import time

import mgwtest
import siptest
import tonecheck
from baresip import Baresip

TONE_HZ = 1000
CALL_SECONDS = 4.0
MODULES = "/usr/lib/baresip/modules"


def caller(procs, wd, name, tone, srtp):
    extra = [("module", "srtp.so")] if srtp else []
    return Baresip(procs, wd, name=name, tone_wav=tone, codecs="PCMU", extra_config=extra,
                   account_params=";mediaenc=srtp-mand" if srtp else "")


def no_key_in_log(procs, gw):
    mgwtest.check("inline:" not in procs.output(gw), "the gateway log holds no SDES key")


def srtp_call(procs, wd, tone):
    check = mgwtest.check
    gw, port = siptest.start_gateway(procs, name="gw-optional", extra=["-v"])  # -v: keys stay out of debug logs too
    bs = caller(procs, wd, "baresip-srtp", tone, srtp=True)
    bs.start()
    uri = f"sip:echo@127.0.0.1:{port}"
    check(bs.dial(uri).get("ok"), f"baresip accepted 'dial {uri}'")
    if not bs.wait_event("CALL_ESTABLISHED", 10):
        mgwtest.fail(f"baresip: SRTP call not established within 10 s; events {bs.event_types()}")
    mgwtest.log("ok: SRTP call established")
    menc = bs.wait_event("CALL_MENC", 2)
    check(menc is not None and "AES_CM_128_HMAC_SHA1" in menc.get("param", ""),
          f"baresip secured the audio with SDES-SRTP ({menc and menc.get('param')})")
    time.sleep(CALL_SECONDS)
    check(bs.wait_event("CALL_CLOSED", 0) is None, f"the call was still up after {CALL_SECONDS:.0f} s")
    bs.hangup()
    check(bs.wait_event("CALL_CLOSED", 5) is not None, "baresip: call closed after hangup")
    bs.quit()
    check(re.search(r"media: PCMU/8000 \(pt 0.*SRTP AES_CM_128_HMAC_SHA1_(80|32)\)", procs.output(gw)),
          "the gateway negotiated SRTP (AES_CM_128_HMAC_SHA1_*) for the audio stream")
    check(siptest.wait_events(procs, gw, "ended", 1, 5), "gateway logged sip/call.ended")
    no_key_in_log(procs, gw)

    wav = bs.received_wav()
    check(wav is not None, "baresip's sndfile wrote a -dec.wav of the received audio")
    length = tonecheck.seconds(wav)
    check(length >= 2.5, f"received audio lasts {length:.2f} s (>= 2.5 s)")
    start, dur = 0.5, min(3.0, length - 0.5)
    level = tonecheck.rms(wav, start, dur)
    freq = tonecheck.tone_frequency(wav, start, dur)
    mgwtest.log(f"after {start} s: RMS {level:.3f}, frequency {freq} Hz")
    check(level > 0.05, f"received audio is not silent (RMS {level:.3f} > 0.05)")
    check(freq is not None and abs(freq - TONE_HZ) <= 0.02 * TONE_HZ,
          f"received frequency {freq and round(freq, 1)} Hz is {TONE_HZ} Hz +-2%")
    procs.stop(gw)


def refused_call(procs, wd, tone, mode, srtp, why):
    check = mgwtest.check
    gw, port = siptest.start_gateway(procs, name=f"gw-{mode}", extra=["--set", f"sip.srtp={mode}"])
    bs = caller(procs, wd, f"baresip-{mode}", tone, srtp=srtp)
    bs.start()
    bs.dial(f"sip:echo@127.0.0.1:{port}")
    closed = bs.wait_event("CALL_CLOSED", 10)
    check(closed is not None, f"srtp = {mode}: baresip's call closed ({closed and closed.get('param')})")
    check("CALL_ESTABLISHED" not in bs.event_types(), f"srtp = {mode}: the call was never established")
    check(procs.wait_for_output(gw, r"refusing the INVITE: 488 .*" + why, 5),
          f"srtp = {mode}: the gateway refused with 488 ({why})")
    bs.quit()
    no_key_in_log(procs, gw)
    procs.stop(gw)


def main():
    mgwtest.require_tools("baresip", "sox")
    for module in ("srtp.so", "g711.so"):
        if not os.path.exists(os.path.join(MODULES, module)):
            mgwtest.skip(f"baresip's {module} is missing")
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        tone = os.path.join(wd, "tone-1000hz-8k.wav")
        mgwtest.make_tone_wav(tone, TONE_HZ, 30, rate=8000, volume=0.5)
        srtp_call(procs, wd, tone)
        refused_call(procs, wd, tone, "off", srtp=True, why="SRTP is off")
        refused_call(procs, wd, tone, "required", srtp=False, why="SRTP .* is required")
    return 0


if __name__ == "__main__":
    sys.exit(main())
