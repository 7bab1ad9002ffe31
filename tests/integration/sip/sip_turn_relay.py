#!/usr/bin/env python3
"""The SIP leg's RTP through a TURN relay (sip-sofia with `ice = "nat"`, a
turn node with ephemeral credentials, relay-only), against a real coturn on
loopback and a baresip caller.

Asserted:
  - the gateway allocates a relay and its SDP answer announces it: the
    audio port of its "media:" line lies in coturn's relay range, with
    "(TURN relay)";
  - coturn logs the allocations, the permission and the channel binding;
  - baresip's 1000 Hz tone comes back (the echo crosses the relay both ways);
  - after the call the relay is given back (coturn logs the deallocation),
    and the shared secret is not in the gateway's log.
"""
import os
import re
import sys
import time

import mgwtest
import siptest
import tonecheck
from baresip import Baresip
from coturn import SECRET, start_coturn

PIPELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "turn-echo.toml")
TONE_HZ = 1000


def start_turn_gateway(procs, turn_server, env, name="gateway"):
    """The turn-echo gateway on a free port; returns (process, sip port)."""
    port = mgwtest.free_port()
    gw = procs.start(name, [mgwtest.MEDIAGW, "run", PIPELINE, "-v"],
                     env=dict(env, SIP_LISTEN=f"udp:127.0.0.1:{port}", TURN_SERVER=turn_server))
    if not procs.wait_for_output(gw, r"listening on sip:", 15):
        mgwtest.fail(f"{name} did not start")
    return gw, port


def require_peers():
    mgwtest.require_tools("turnserver", "baresip", "sox")
    if not os.path.exists("/usr/lib/baresip/modules/g711.so"):
        mgwtest.skip("baresip's g711.so is missing")


def check_tone(wav, what):
    check = mgwtest.check
    check(wav is not None, f"{what}: baresip recorded what it received")
    start, dur = 0.5, min(3.0, tonecheck.seconds(wav) - 0.5)
    level, freq = tonecheck.rms(wav, start, dur), tonecheck.tone_frequency(wav, start, dur)
    mgwtest.log(f"{what}: RMS {level:.3f}, {freq} Hz")
    check(level > 0.05 and freq is not None and abs(freq - TONE_HZ) <= 0.02 * TONE_HZ,
          f"{what}: the {TONE_HZ} Hz tone comes back (RMS {level:.3f}, {freq and round(freq, 1)} Hz)")


def main():
    require_peers()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        tone = os.path.join(wd, "tone.wav")
        mgwtest.make_tone_wav(tone, TONE_HZ, 30, rate=8000, volume=0.5)
        coturn, turn_port = start_coturn(procs, wd)
        gw, gw_port = start_turn_gateway(procs, f"turn:127.0.0.1:{turn_port}?transport=udp", {"TURN_SECRET": SECRET})

        bs = Baresip(procs, wd, tone_wav=tone, codecs="PCMU")
        bs.start()
        t0 = time.time()
        bs.dial(f"sip:echo@127.0.0.1:{gw_port}")
        check(bs.wait_event("CALL_ESTABLISHED", 10), "the call is established")
        mgwtest.log(f"established {time.time() - t0:.2f} s after the dial (relay allocation included)")
        time.sleep(4)
        bs.hangup()
        check(bs.wait_event("CALL_CLOSED", 5), "the call closes")
        bs.quit()
        check(siptest.wait_events(procs, gw, "ended", 1, 5), "the gateway ended the call")

        log = procs.output(gw)
        m = re.search(r"media: PCMU/8000 .* from 127\.0\.0\.1:(\d+) \(TURN relay\)", log)
        check(m and int(m.group(1)) in coturn.relay_ports,
              f"the SDP answer announces the relayed port ({m and m.group(1)} in {coturn.relay_ports})")
        check(re.search(r"TURN turn:127\.0\.0\.1:\d+ \(audio RTP\): relayed address 127\.0\.0\.1:\d+", log),
              "the gateway logs its relayed address")
        time.sleep(0.5)
        turn_log = procs.output(coturn)
        for what, pattern in [("allocations", r"ALLOCATE processed, success"),
                              ("permission", r"CREATE_PERMISSION processed, success"),
                              ("channel binding", r"CHANNEL_BIND processed, success"),
                              ("deallocation", r"refreshed, .*lifetime=0")]:
            check(re.search(pattern, turn_log), f"coturn logs the {what}")
        check_tone(bs.received_wav(), "through the relay")
        check(SECRET not in log, "the shared secret is not in the gateway's log")
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
