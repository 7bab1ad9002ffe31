#!/usr/bin/env python3
"""webrtc-direct's WHEP client (client.toml, MODE=whep) against the test
suite's own WHEP server (tests/lib/whep_server.py: a 440 Hz Opus tone and a
VP8 pattern, bearer token required). One case per run:

  trickle     the server trickles (PATCH 204) and hands out coturn in a Link
              header: the gateway plays 440 Hz and counts frames, its relayed
              candidates reach the server in PATCHes (If-Match = the ETag),
              coturn logs the allocation, the session is DELETEd on stop, no
              credential in the gateway's log;
  no-trickle  same, but PATCH gets 405: still plays; the client tries one
              PATCH only and says so once;
  token       a wrong token: the server answers 401, the gateway reports
              room.failed naming HTTP 401 and keeps running;
  slow-turn   the gateway's own TURN server (a turn node) answers each request
              1.5 s late (a delaying UDP relay in front of coturn; an
              allocation takes two requests): the offer goes out with host
              candidates at the 1 s bound, the relayed one is PATCHed later,
              the tone plays.
"""
import json
import os
import re
import select
import socket
import sys
import threading
import time

import mgwtest
import tonecheck
import whep_server
import whip_whep_client as wwc
from coturn import SECRET, rest_credentials, start_coturn

TOKEN = "whep-test-token"
HERE = os.path.dirname(os.path.abspath(__file__))


def start_client(procs, wd, url, token=TOKEN, pipeline="client.toml", extra_env=None):
    env = {"MODE": "whep", "URL": url, "TOKEN": token, "WAV": os.path.join(wd, "whep.wav"),
           "COUNT_REPORT": os.path.join(wd, "whep.json"), **(extra_env or {})}
    return wwc.start(procs, "gateway", pipeline, env, r"client: offering")


def play_and_stop(procs, wd, gw, server):
    """The session connects, plays 4 s, the gateway stops (DELETE): checks media."""
    check = mgwtest.check
    check(procs.wait_for_output(gw, r"\[event\] web/room\.joined", 15), "the gateway joined (201)")
    check(procs.wait_for_output(server, r"session 1 connected", 15), "the server's session connects")
    time.sleep(4)
    check(procs.stop(gw) == 0, "the gateway stops cleanly")
    check(procs.wait_for_output(server, r"DELETE /whep/1: 200", 10), "the gateway DELETEd its session")
    freq = tonecheck.tone_frequency(os.path.join(wd, "whep.wav"), 1.0, 2.0)
    check(freq and abs(freq - 440) < 10, f"the gateway plays the server's 440 Hz ({freq and round(freq)} Hz)")
    with open(os.path.join(wd, "whep.json")) as f:
        frames = json.load(f)["video"]["buffers"]
    check(frames > 30, f"the gateway receives the server's video ({frames} frames)")


def patches(procs, server):
    return re.findall(r"PATCH /whep/1: (\d+)(.*)", procs.output(server))


def link_turn_case(procs, wd, trickle):
    check = mgwtest.check
    coturn, turn_port = start_coturn(procs, wd)
    user, password = rest_credentials(SECRET, "whep", int(time.time()) + 3600)
    port = mgwtest.free_port()
    server = whep_server.start(procs, port, "--token", TOKEN, *([] if trickle else ["--no-trickle"]),
                               "--ice-server", f"turn:127.0.0.1:{turn_port}?transport=udp",
                               "--ice-username", user, "--ice-credential", password)
    gw = start_client(procs, wd, f"http://127.0.0.1:{port}/whep")
    play_and_stop(procs, wd, gw, server)
    out = procs.output(gw)
    check(re.search(r"TURN server <turn:127\.0\.0\.1:\d+\?transport=udp> added \(1 live ICE stream\)", out),
          "the gateway took the Link header's TURN server into its live ICE session")
    allocations = len(re.findall(r"ALLOCATE processed, success", procs.output(coturn)))
    check(allocations >= 1, f"coturn allocated a relay for the gateway ({allocations})")
    check(password not in out and TOKEN not in out, "neither the TURN credential nor the token is logged")
    sent = patches(procs, server)
    if trickle:
        relayed = [p for p in sent if p[0] == "204" and "relay" in p[1]]
        check(relayed, f"the relayed candidates reached the server in PATCHes ({sent})")
        check(all("If-Match matches" in p[1] for p in sent), "every PATCH carried If-Match with the ETag")
    else:
        check([p[0] for p in sent] == ["405"], f"one PATCH, answered 405, and no more ({sent})")
        said = len(re.findall(r"takes no trickled candidates", out))
        check(said == 1, f"the gateway says once that the server takes no trickle ({said})")


def token_case(procs, wd):
    check = mgwtest.check
    port = mgwtest.free_port()
    server = whep_server.start(procs, port, "--token", TOKEN)
    gw = start_client(procs, wd, f"http://127.0.0.1:{port}/whep", token="not-the-token")
    check(procs.wait_for_output(gw, r"room\.failed.*HTTP\\ 401", 10), "a wrong token: room.failed naming HTTP 401")
    check(re.search(r"POST /whep: 401", procs.output(server)), "the server refused the POST with 401")
    check(gw.poll() is None, "the gateway keeps running")
    check(procs.stop(gw) == 0, "it stops cleanly")


class DelayRelay:
    """A UDP relay in front of a TURN server that holds every datagram from
    the server back `delay` seconds: a slow TURN allocation."""

    def __init__(self, target_port, delay):
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.target, self.delay = ("127.0.0.1", target_port), delay
        self.backs = {}   # client address -> socket towards the TURN server
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            ready, _, _ = select.select([self.front, *self.backs.values()], [], [], 0.1)
            for s in ready:
                try:
                    data, addr = s.recvfrom(65535)
                except OSError:  # an ICMP error from a previous send
                    continue
                if s is self.front:
                    if addr not in self.backs:
                        self.backs[addr] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    self.backs[addr].sendto(data, self.target)
                else:
                    client = next(a for a, b in self.backs.items() if b is s)
                    timer = threading.Timer(self.delay, self._send_back, (data, client))
                    timer.daemon = True
                    timer.start()

    def _send_back(self, data, client):
        try:
            if not self.stop.is_set():
                self.front.sendto(data, client)
        except OSError:  # closed meanwhile
            pass

    def close(self):
        self.stop.set()
        self.thread.join()
        for s in [self.front, *self.backs.values()]:
            s.close()


def slow_turn_case(procs, wd):
    check = mgwtest.check
    _, turn_port = start_coturn(procs, wd)
    relay = DelayRelay(turn_port, 1.5)
    try:
        port = mgwtest.free_port()
        server = whep_server.start(procs, port, "--token", TOKEN)
        t0 = time.monotonic()
        gw = start_client(procs, wd, f"http://127.0.0.1:{port}/whep", pipeline="whep-slow-turn.toml",
                          extra_env={"TURN_PORT": str(relay.port), "TURN_SECRET": SECRET})
        check(procs.wait_for_output(server, r"POST /whep: 201", 10), "the offer reached the server")
        waited = time.monotonic() - t0
        post = re.search(r"POST /whep: 201 .*candidates (\S+)\)", procs.output(server))
        check(post and "relay" not in post.group(1) and "host" in post.group(1),
              f"the offer did not wait for the slow TURN allocation: host candidates only "
              f"({post and post.group(1)}, {waited:.1f} s after start)")
        check(procs.wait_for_output(server, r"PATCH /whep/1: 204 .*relay", 10),
              f"the relayed candidate was PATCHed once allocated ({patches(procs, server)})")
        play_and_stop(procs, wd, gw, server)
    finally:
        relay.close()


def main():
    case = sys.argv[1] if len(sys.argv) > 1 else "trickle"
    if case != "token":
        mgwtest.require_tools("turnserver", "sox")
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        if case in ("trickle", "no-trickle"):
            link_turn_case(procs, wd, case == "trickle")
        elif case == "token":
            token_case(procs, wd)
        elif case == "slow-turn":
            slow_turn_case(procs, wd)
        else:
            mgwtest.fail(f"unknown case {case!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
