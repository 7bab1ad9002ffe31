#!/usr/bin/env python3
"""The turn node gives webrtc-direct ephemeral TURN credentials (coturn's
shared-secret REST scheme) and relay-only ICE, against a real coturn on
loopback.

Asserted:
  - the gateway's SDP answer carries relayed candidates only (typ relay);
  - a webrtcbin WHIP+WHEP client connects and the media flows through the
    relay: 1000 Hz heard, video frames decoded; coturn logs the allocations;
  - the same with the TURN server reached over TCP (`?transport=tcp`): the
    tone crosses, and coturn's log shows allocations of a client connected
    over TCP relaying the media both ways (>= 100 packets from a peer in one,
    to a peer in another: WHIP in, WHEP out);
  - with a wrong shared secret, coturn refuses the allocation and the offer
    gets a 502 whose reason names the TURN failure; the gateway keeps running.
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import mgwtest
from coturn import SECRET, start_coturn  # noqa: F401 (also imported from here by other tests)
from whip_bad_input import offer

PIPELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve-turn.toml")
PEER = os.path.join(mgwtest.SOURCE_ROOT, "tests", "lib", "webrtcpeer.py")
def start_gateway(procs, name, turn_port, secret, transport="udp"):
    port = mgwtest.free_port()
    gw = procs.start(name, [mgwtest.MEDIAGW, "run", PIPELINE, "-v"],
                     env={"HTTP_LISTEN": f"127.0.0.1:{port}", "TURN_PORT": str(turn_port), "TURN_SECRET": secret,
                          "TURN_TRANSPORT": transport})
    if not procs.wait_for_output(gw, r"serving the call on", 15):
        mgwtest.fail(f"{name} never served HTTP")
    return gw, f"http://127.0.0.1:{port}"


def post_offer(url):
    req = urllib.request.Request(url + "/whep", data=offer().encode(), headers={"Content-Type": "application/sdp"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.reason, r.read().decode(), r.headers.get("Location")
    except urllib.error.HTTPError as e:
        return e.code, e.reason, e.read().decode(), None


def run_pair(base, seconds=5):
    """A webrtcbin WHIP + WHEP client against `base`: its JSON report."""
    peer = subprocess.run([sys.executable, PEER, "pair", "--whip", base + "/whip", "--whep", base + "/whep",
                           "--video", "--seconds", str(seconds)], capture_output=True, text=True, timeout=40)
    lines = [l for l in peer.stdout.splitlines() if l.startswith('{"ran_s"')]
    mgwtest.check(lines, f"the client reports (exit {peer.returncode}; {peer.stderr.strip()[-300:]})")
    return json.loads(lines[-1])


def tcp_relay_sessions(procs, coturn, packets=100, timeout=20):
    """coturn's sessions of clients connected over TCP that allocated a relay:
    {session id: (packets received from peers, packets sent to peers)}, once
    one session received and one sent `packets` (or at the timeout).
    "tcp or tls connected to: ADDR" and a session's "closed ... remote ADDR"
    name the client's transport, "peer usage: ... rp=N, ... sp=M" the packets relayed
    (coturn logs both when the session closes, one session after the other:
    under load the WHEP session's line comes well before the WHIP one's)."""
    deadline = time.time() + timeout
    while True:
        log = procs.output(coturn)
        allocated = set(re.findall(r"session (\d+): realm <[^>]*> user <[^>]+>: incoming packet ALLOCATE processed, success", log))
        # A session is a TCP client's when its connection was logged as TCP:
        # it may close for another reason ("allocation timeout" once the
        # client deallocated), so match the remote address, not the reason.
        tcp_remotes = set(re.findall(r"tcp or tls connected to: (\S+)", log))
        closed = dict(re.findall(r"session (\d+): closed \(2nd stage\).*?, remote (\S+),", log))
        tcp = set(re.findall(r"session (\d+): TCP socket closed remotely", log)) | \
            {sid for sid, remote in closed.items() if remote in tcp_remotes}
        peer = {sid: (int(rp), int(sp)) for sid, rp, sp in
                re.findall(r"session (\d+): peer usage: realm=<[^>]*>, username=<[^>]*>, rp=(\d+), rb=\d+, sp=(\d+)", log)}
        found = {sid: peer[sid] for sid in allocated & tcp if sid in peer}
        if max((rp for rp, _ in found.values()), default=0) >= packets and \
                max((sp for _, sp in found.values()), default=0) >= packets or time.time() > deadline:
            mgwtest.log(f"coturn: allocated {sorted(allocated)}, TCP {sorted(tcp)}, peer usage {peer}")
            return found
        time.sleep(0.2)


def main():
    mgwtest.require_tools("turnserver")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        coturn, turn_port = start_coturn(procs, wd)
        gw, base = start_gateway(procs, "gateway", turn_port, SECRET)

        status, _, answer, location = post_offer(base)
        kinds = re.findall(r"a=candidate:\S+ \d+ UDP \d+ \S+ \d+ typ (\w+)", answer)
        check(status == 201 and kinds and set(kinds) == {"relay"}, f"relay-only: the answer has relayed candidates only ({kinds})")
        urllib.request.urlopen(urllib.request.Request(base + location, method="DELETE"), timeout=5).read()

        result = run_pair(base)
        whep = result["whep"]
        check(whep["connected"] and result["whip"]["connected"], "WHIP and WHEP connect through the relay")
        check(whep.get("freq") and abs(whep["freq"] - 1000) < 15, f"the tone crosses the relay ({whep.get('freq')} Hz)")
        check(whep["video_frames"] > 30, f"video crosses the relay ({whep['video_frames']} frames)")
        allocations = len(re.findall(r"ALLOCATE processed, success", procs.output(coturn)))
        check(allocations >= 2, f"coturn logged the gateway's allocations ({allocations})")
        check(SECRET not in procs.output(gw), "the shared secret is not in the gateway's log")

        # TURN over TCP (turn:...?transport=tcp): the relay still carries the media.
        # A coturn of its own: the first one's four relay ports are taken.
        coturn_tcp, tcp_port = start_coturn(procs, wd, name="coturn-tcp")
        tcp, tcp_base = start_gateway(procs, "gateway-tcp", tcp_port, SECRET, transport="tcp")
        tcp_result = run_pair(tcp_base, seconds=3)
        check(tcp_result["whep"]["connected"] and abs((tcp_result["whep"].get("freq") or 0) - 1000) < 15,
              f"over TURN/TCP too: the tone crosses the relay ({tcp_result['whep'].get('freq')} Hz)")
        # coturn logs a session's transport and traffic when it closes: stop the gateway first.
        check(procs.stop(tcp) == 0, "the TCP gateway stops cleanly")
        # Its WHIP session receives the publisher's media from the peer, its
        # WHEP session sends media to the peer: 3 s of audio alone is 150 packets.
        sessions = tcp_relay_sessions(procs, coturn_tcp)
        check(sessions and max(rp for rp, _ in sessions.values()) >= 100 and
              max(sp for _, sp in sessions.values()) >= 100,
              "coturn relayed the media over allocations of a client connected over TCP, both ways "
              f"(>= 100 packets from and to peers; TCP sessions' packets from/to peers: {sessions})")

        bad, bad_base = start_gateway(procs, "gateway-bad-secret", turn_port, "not-the-secret")
        status, reason, body, _ = post_offer(bad_base)
        check(status == 502 and "TURN allocation failed" in body,
              f"a wrong secret: 502 naming the TURN failure ({status} {body.strip()[:120]!r})")
        check(re.search(r"ALLOCATE processed, error 401|Cannot complete Allocation|check_stun_auth", procs.output(coturn)),
              "coturn refused the allocation")
        check(bad.poll() is None, "the gateway keeps running")
        check(procs.stop(bad) == 0 and procs.stop(gw) == 0, "both gateways stop cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
