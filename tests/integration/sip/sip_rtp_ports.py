#!/usr/bin/env python3
"""sip-sofia's `rtp_ports` (a firewall opens only that range): the call's
RTP and RTCP sockets bind inside it.

The echo gateway runs with rtp_ports = a 4-port range (two even/odd pairs)
found free at run time. Asserted:
  - a sipp call is answered with an m=audio port inside the range (the 200's
    SDP, from sipp's message trace) and, while it is up, every UDP socket of
    the gateway but its SIP one is inside the range;
  - with both pairs of the range taken by another process, a call is refused
    (5xx) and the gateway logs that the range is exhausted, naming it; the
    gateway lives on and, once the ports are free again, answers the next
    call inside the range;
  - a malformed range stops the gateway at start with an error naming
    rtp_ports (sip-sofia), and the same for webrtc-direct's rtp_ports.
"""
import os
import random
import re
import socket
import subprocess
import sys
import time

import hostile
import mgwtest
import siptest


def free_range(size=4):
    """An even base with `size` consecutive bindable UDP ports on loopback."""
    for _ in range(200):
        base = random.randrange(42000, 48000, 2)
        socks = []
        try:
            for p in range(base, base + size):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    mgwtest.fail("no free 4-port UDP range on loopback")


def answered_audio_ports(sipp_dir):
    """m=audio ports of the SDPs sipp received in 200 responses."""
    ports = []
    for name in os.listdir(sipp_dir):
        if name.endswith("_messages.log"):
            with open(os.path.join(sipp_dir, name), errors="replace") as f:
                for msg in f.read().split("SIP/2.0 200")[1:]:
                    ports += [int(p) for p in re.findall(r"^m=audio (\d+)", msg.split("\n\n\n")[0], re.M)]
    return ports


def call(procs, wd, port, name, duration_ms=2000):
    d = siptest.sipp_workdir(wd, name)
    argv = siptest.sipp_argv(port, "uac", mgwtest.free_port(), mgwtest.free_port(), extra=["-d", str(duration_ms)])
    return procs.start(name, argv, cwd=d), d


def start_fails(argv, env, what):
    r = subprocess.run(argv, env=dict(os.environ, **env), capture_output=True, text=True, timeout=20)
    mgwtest.check(r.returncode != 0 and re.search(r"rtp_ports: '[^']*' is not MIN-MAX", r.stderr),
                  f"{what}: a malformed rtp_ports stops the gateway naming it "
                  f"(exit {r.returncode}: {r.stderr.strip()[-200:]})")


def main():
    siptest.require_sipp()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        base = free_range()
        lo, hi = base, base + 3
        gw, port = siptest.start_gateway(procs, extra=["--set", f"sip.rtp_ports={lo}-{hi}"])

        # 1. The call's sockets are inside the range.
        sipp, d = call(procs, wd, port, "sipp-1")
        bound = set()
        deadline = time.time() + 8
        while sipp.poll() is None and time.time() < deadline:
            bound |= set(hostile.udp_ports(gw.pid)) - {port}
            time.sleep(0.2)
        rc = sipp.wait(15)
        check(rc == 0, f"the first call succeeds (sipp {siptest.describe_sipp_rc(rc)})")
        answered = answered_audio_ports(d)
        check(answered and all(lo <= p <= hi and p % 2 == 0 for p in answered),
              f"the 200's m=audio port is an even port of {lo}-{hi} ({answered})")
        check(bound and all(lo <= p <= hi for p in bound),
              f"during the call every media socket of the gateway is inside {lo}-{hi} ({sorted(bound)})")

        # 2. The range taken: the call is refused, the gateway says why and lives on.
        taken = []
        for p in range(lo, hi + 1):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", p))
            taken.append(s)
        siptest.wait_events(procs, gw, "ended", 1, 5)
        sipp, d = call(procs, wd, port, "sipp-2")
        rc = sipp.wait(20)
        check(rc == 1, f"with the range taken the call fails (sipp {siptest.describe_sipp_rc(rc)})")
        check(re.search(rf"no free even/odd UDP port pair in rtp_ports {lo}-{hi}", procs.output(gw)),
              "the gateway logs the exhausted range, naming it")
        check(gw.poll() is None, "the gateway lives on")
        for s in taken:
            s.close()
        sipp, d = call(procs, wd, port, "sipp-3", duration_ms=200)
        rc = sipp.wait(15)
        answered = answered_audio_ports(d)
        check(rc == 0 and answered and all(lo <= p <= hi for p in answered),
              f"once the ports are free the next call is answered inside the range ({answered}, "
              f"sipp {siptest.describe_sipp_rc(rc)})")
        check(procs.stop(gw) == 0, "the gateway stops cleanly")

        # 3. Malformed ranges, both plugins.
        start_fails([mgwtest.MEDIAGW, "run", siptest.PIPELINE, "--set", "sip.rtp_ports=30000"],
                    {"SIP_LISTEN": f"udp:127.0.0.1:{mgwtest.free_port()}"}, "sip-sofia")
        serve = os.path.join(mgwtest.SOURCE_ROOT, "tests", "integration", "webrtc", "serve-tone.toml")
        start_fails([mgwtest.MEDIAGW, "run", serve, "--set", "web.rtp_ports=20000:20010"],
                    {"HTTP_LISTEN": f"127.0.0.1:{mgwtest.free_port('tcp')}", "COUNT_REPORT": os.path.join(wd, "c.json"),
                     "WAV": os.path.join(wd, "w.wav")}, "webrtc-direct")
    return 0


if __name__ == "__main__":
    sys.exit(main())
