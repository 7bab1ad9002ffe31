#!/usr/bin/env python3
"""The WebRTC leg behind a NAT: webrtc-direct (serve mode) in the private
namespace of tests/lib/natns.py with a turn node, relay-only; a webrtcbin
WHEP client (tests/lib/webrtcpeer.py) on the public side, which reaches the
gateway's HTTP through a port forward of the NAT but its media only through
coturn's relay. Asserted: the client connects and hears the 1000 Hz tone;
coturn logs the gateway's allocation and its permission for the client.
"""
import json
import os
import re
import subprocess
import sys

import mgwtest
import natns
from coturn import SECRET, start_coturn

PIPELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "webrtc-nat.toml")
PEER = os.path.join(mgwtest.SOURCE_ROOT, "tests", "lib", "webrtcpeer.py")


def inside(tag, http_port):
    check = mgwtest.check
    nat = natns.Nat.attach(tag)
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        coturn, turn_port = start_coturn(procs, wd, listen_ip=natns.PUBLIC_SERVER, prefix=nat.exec(nat.public))
        gw = procs.start("gateway", nat.exec(nat.private) + [mgwtest.MEDIAGW, "run", PIPELINE, "-v"], env={
            "HTTP_LISTEN": f"{natns.PRIVATE}:{http_port}", "TURN_SECRET": SECRET,
            "TURN_SERVER": f"turn:{natns.PUBLIC_SERVER}:{turn_port}?transport=udp"})
        check(procs.wait_for_output(gw, r"serving the call on", 15), "the gateway serves HTTP")
        url = f"http://{natns.NAT_PUBLIC}:{http_port}/whep"
        peer = subprocess.run([sys.executable, PEER, "whep", url, "--expect-freq", "1000", "--seconds", "4",
                               "--ice-address", natns.PUBLIC_PEER, "--timeout", "20"],
                              capture_output=True, text=True, timeout=60)
        lines = [l for l in peer.stdout.splitlines() if l.startswith('{"ran_s"')]
        check(lines, f"the client reports (exit {peer.returncode}; {peer.stderr.strip()[-400:]})")
        mgwtest.log(f"client: {lines[-1]}")
        result = json.loads(lines[-1])["whep"]
        check(result.get("connected"), "the WHEP client connects through the relay")
        freq = result.get("freq")
        check(freq and abs(freq - 1000) < 15, f"the client hears 1000 Hz through the NAT and the relay ({freq} Hz)")
        turn_log = procs.output(coturn)
        check(re.search(r"ALLOCATE processed, success", turn_log), "coturn logs the gateway's allocation")
        check(re.search(r"peer " + re.escape(natns.PUBLIC_PEER) + r" lifetime updated", turn_log),
              f"the gateway gave the client {natns.PUBLIC_PEER} a permission on its relay")
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
    return 0


def main():
    if len(sys.argv) > 3 and sys.argv[1] == "--inside":
        return inside(sys.argv[2], int(sys.argv[3]))
    natns.require()
    mgwtest.require_tools("turnserver")
    http_port = mgwtest.free_port()
    with natns.Nat() as nat:
        nat.forward_tcp(http_port)
        r = subprocess.run(nat.exec(nat.peer) + [sys.executable, os.path.abspath(__file__), "--inside", nat.tag,
                                                 str(http_port)], timeout=100)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
