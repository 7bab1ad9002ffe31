#!/usr/bin/env python3
"""The phone-behind-NAT case, with the gateway behind the NAT: its RTP works
only through a TURN relay (sip-sofia `ice = "nat"`).

tests/lib/natns.py builds the namespaces: the gateway on a private address
behind an nftables masquerade; coturn and a baresip callee on the public
side, which has no route to the private address. The test re-runs itself
inside baresip's namespace. The gateway dials baresip
(turn-nat.toml), plays 1000 Hz, records what it hears; baresip
auto-answers with a 500 Hz tone and records what it hears.

Asserted, with the relay: the gateway's SDP offer announces the relay
(coturn's address, a port of its range); baresip hears 1000 Hz coming from
the relay; the gateway records 500 Hz; coturn logs the channel binding.
Without it (the turn node gives only a STUN server, so the SIP leg sends
plain RTP, the control run): the gateway records no 500 Hz tone, since
baresip's packets to the private address cannot arrive: the NAT is real.
"""
import os
import re
import subprocess
import sys
import time

import mgwtest
import natns
import tonecheck
from baresip import Baresip
from coturn import SECRET, start_coturn

PIPELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "turn-nat.toml")
GW_HZ, CALLEE_HZ = 1000, 500


def call(procs, wd, nat, bs, run, turn_server, policy):
    """One call from the gateway to baresip; returns (gateway log, gateway wav, baresip's wav)."""
    wav = os.path.join(wd, f"{run}.wav")
    calls_before = len([e for e in bs.events if e.get("type") == "CALL_CLOSED"])
    gw = procs.start(f"gateway-{run}", nat.exec(nat.private) + [mgwtest.MEDIAGW, "run", PIPELINE, "-v"], env={
        "SIP_LISTEN": f"udp:{natns.PRIVATE}:{mgwtest.free_port()}", "DIAL": f"sip:alice@{natns.PUBLIC_PEER}:{bs.sip_port}",
        "TURN_SERVER": turn_server, "TURN_POLICY": policy, "TURN_SECRET": SECRET, "WAV": wav})
    try:
        gw.wait(25)
    except subprocess.TimeoutExpired:
        mgwtest.fail(f"{run}: the gateway did not end its 6 s call within 25 s")
    mgwtest.check(gw.returncode == 0, f"{run}: the gateway placed the call and stopped cleanly (exit {gw.returncode})")
    deadline = time.time() + 5
    while time.time() < deadline and len([e for e in bs.events if e.get("type") == "CALL_CLOSED"]) <= calls_before:
        time.sleep(0.1)
    return procs.output(gw), wav, bs.received_wav()


def tone(wav):
    """(RMS, frequency) of a recording after its first 0.5 s; (0, None) when it holds nothing."""
    if not wav or not os.path.exists(wav) or os.path.getsize(wav) <= 44 or tonecheck.seconds(wav) < 1.5:
        return 0.0, None   # nothing recorded (a 44-byte WAV header at most)
    dur = min(3.0, tonecheck.seconds(wav) - 0.5)
    return tonecheck.rms(wav, 0.5, dur), tonecheck.tone_frequency(wav, 0.5, dur)


def heard(wav, hz):
    level, freq = tone(wav)
    return level > 0.05 and freq is not None and abs(freq - hz) <= 0.02 * hz, f"RMS {level:.3f}, {freq} Hz"


def inside(tag):
    check = mgwtest.check
    nat = natns.Nat.attach(tag)
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        callee_tone = os.path.join(wd, "callee.wav")
        mgwtest.make_tone_wav(callee_tone, CALLEE_HZ, 60, rate=8000, volume=0.5)
        coturn, turn_port = start_coturn(procs, wd, listen_ip=natns.PUBLIC_SERVER, prefix=nat.exec(nat.public))
        bs = Baresip(procs, wd, tone_wav=callee_tone, codecs="PCMU", address=natns.PUBLIC_PEER,
                     account_params=";answermode=auto")
        bs.start()

        log, gw_wav, bs_wav = call(procs, wd, nat, bs, "relay", f"turn:{natns.PUBLIC_SERVER}:{turn_port}?transport=udp",
                                   "relay-only")
        m = re.search(r"media: PCMU.* from ([\d.]+):(\d+) \(TURN relay\)", log)
        check(m and m.group(1) == natns.PUBLIC_SERVER and int(m.group(2)) in coturn.relay_ports,
              f"relay: our offer announces the relay ({m and m.group(1)}:{m and m.group(2)})")
        check(re.search(r"we are " + re.escape(natns.NAT_PUBLIC) + r":\d+ to the server", log),
              f"relay: coturn sees the gateway as the NAT's address {natns.NAT_PUBLIC}")
        check(re.search(r"receiving from " + re.escape(natns.PUBLIC_SERVER), procs.output(bs.proc)),
              "relay: baresip receives its RTP from the relay")
        ok, what = heard(bs_wav, GW_HZ)
        check(ok, f"relay: baresip hears the gateway's {GW_HZ} Hz ({what})")
        ok, what = heard(gw_wav, CALLEE_HZ)
        check(ok, f"relay: the gateway hears baresip's {CALLEE_HZ} Hz ({what})")
        check(re.search(r"CHANNEL_BIND processed, success", procs.output(coturn)), "relay: coturn logs the channel binding")

        log, gw_wav, _ = call(procs, wd, nat, bs, "plain", f"stun:{natns.PUBLIC_SERVER}:{turn_port}", "all")
        check(re.search(r"media: PCMU.* from " + re.escape(natns.PRIVATE) + r":\d+ to", log),
              f"plain: without a TURN server our offer announces the private address {natns.PRIVATE}")
        ok, what = heard(gw_wav, CALLEE_HZ)
        check(not ok, f"plain: baresip's tone does not reach the gateway behind the NAT ({what})")
        bs.quit()
    return 0


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--inside":
        return inside(sys.argv[2])
    natns.require()
    mgwtest.require_tools("turnserver", "baresip", "sox")
    if not os.path.exists("/usr/lib/baresip/modules/g711.so"):
        mgwtest.skip("baresip's g711.so is missing")
    with natns.Nat() as nat:
        r = subprocess.run(nat.exec(nat.peer) + [sys.executable, os.path.abspath(__file__), "--inside", nat.tag],
                           timeout=100)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
