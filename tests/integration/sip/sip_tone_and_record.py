#!/usr/bin/env python3
"""pipelines/sip-record.toml with baresip as the caller, both ways at once.

A live 600 Hz tone feeds the SIP node before any call exists (the node parks
its input; when the call's codec is known the core re-plans that link to a
G.711 encoder). baresip sends 1000 Hz and records what it hears. Asserted:
  - baresip hears 600 Hz (+-2%), not silence;
  - the gateway's wav holds the caller's 1000 Hz (+-2%), and is complete;
  - after baresip hangs up the gateway exits 0 by itself (after_call = "exit").
"""
import os
import re
import sys
import time

import mgwtest
import tonecheck
from baresip import Baresip

CALLER_HZ, GATEWAY_HZ = 1000, 600


def main():
    mgwtest.require_tools("baresip", "sox")
    if not os.path.isdir("/usr/lib/baresip/modules"):
        mgwtest.skip("/usr/lib/baresip/modules is missing")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        port = mgwtest.free_port()
        recorded = os.path.join(wd, "caller.wav")
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run",
                                     os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-record.toml")],
                         env={"SIP_LISTEN": f"udp:127.0.0.1:{port}", "WAV": recorded, "TONE_HZ": str(GATEWAY_HZ)})
        check(procs.wait_for_output(gw, r"listening on sip:", 15), "gateway listens")

        tone = os.path.join(wd, "tone.wav")
        mgwtest.make_tone_wav(tone, CALLER_HZ, 30, rate=8000, volume=0.5)
        bs = Baresip(procs, wd, tone_wav=tone, codecs="PCMU")
        bs.start()
        check(bs.dial(f"sip:record@127.0.0.1:{port}").get("ok"), "baresip dials")
        check(bs.wait_event("CALL_ESTABLISHED", 10) is not None, "call established")
        time.sleep(4)
        bs.hangup()
        check(bs.wait_event("CALL_CLOSED", 5) is not None, "baresip hung up")
        bs.quit()

        deadline = time.time() + 10
        while gw.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        check(gw.poll() == 0, f"gateway exited 0 by itself after the call (got {gw.poll()})")
        log = procs.output(gw)
        check(re.search(r"tone\.audio->sip\.audio: audio/x-raw -> audio/x-mulaw needs .*mulawenc", log),
              "the parked tone's link was re-planned to a G.711 encoder when the call began")

        heard = bs.received_wav()
        check(heard is not None, "baresip recorded what it heard")
        f = tonecheck.tone_frequency(heard, 0.5, 2.5)
        check(f is not None and abs(f - GATEWAY_HZ) <= 0.02 * GATEWAY_HZ, f"caller hears {GATEWAY_HZ} Hz (got {f})")
        check(tonecheck.rms(heard, 0.5, 2.5) > 0.05, "caller's audio is not silent")

        length = tonecheck.seconds(recorded)
        check(length >= 3.0, f"gateway recorded the call ({length:.2f} s)")
        f = tonecheck.tone_frequency(recorded, 0.5, 2.5)
        check(f is not None and abs(f - CALLER_HZ) <= 0.02 * CALLER_HZ, f"gateway recorded {CALLER_HZ} Hz (got {f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
