#!/usr/bin/env python3
"""A TURN relay the SIP leg cannot get: the call is refused with the reason,
within a bounded wait, and the gateway keeps running without leaks.

Three gateways (tests/integration/sip/turn-echo.toml) and a hand-written
caller (rawcaller.py):
  - a wrong shared secret: coturn answers 401; the INVITE gets 500 with a
    Warning naming the server and "401 Unauthorized";
  - expired credentials (static username "1600000000:x" with the password
    the secret gives it, an old REST credential): 500, the Warning says
    they expired;
  - a TURN server that does not answer (a port nobody listens on): 500
    after the 5 s bound (not sooner than 4.5 s, not later than 8 s), no
    answer named;
each time the gateway logs the error and emits sip/turn.failed, keeps
running, answers OPTIONS afterwards, refuses a second call the same way,
and holds no more sockets than before the calls (checked in /proc).
"""
import os
import re
import sys
import time

import mgwtest
import rawcaller
from coturn import SECRET, rest_credentials, start_coturn
from sip_turn_relay import start_turn_gateway

AUDIO = "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"


def sockets(pid):
    """The socket file descriptors of process `pid`."""
    fd_dir = f"/proc/{pid}/fd"
    count = 0
    for fd in os.listdir(fd_dir):
        try:
            count += os.readlink(os.path.join(fd_dir, fd)).startswith("socket:")
        except OSError:
            pass
    return count


def call(gw_port):
    sip = rawcaller.udp()
    try:
        t0 = time.time()
        status, headers, _, _ = rawcaller.send_invite(sip, gw_port, AUDIO, timeout=12)
        return status, " ".join(headers.get("warning", [])), time.time() - t0
    finally:
        sip.close()


def options_answered(gw_port):
    sip = rawcaller.udp()
    try:
        d = {"call_id": "opt-" + str(time.time()), "tag": "o1", "lport": sip.getsockname()[1], "gw_port": gw_port,
             "user": "prober", "to": f"<sip:echo@127.0.0.1:{gw_port}>"}
        rawcaller.request(sip, d, "OPTIONS", 1)
        deadline = time.time() + 3
        while time.time() < deadline:
            try:
                return sip.recv(65535).decode(errors="replace").startswith("SIP/2.0 200")
            except BlockingIOError:
                time.sleep(0.02)
        return False
    finally:
        sip.close()


def refuses(procs, gw, gw_port, what, warning_pattern, min_s=0.0, max_s=6.0):
    check = mgwtest.check
    before = sockets(gw.pid)
    for attempt in (1, 2):
        status, warning, took = call(gw_port)
        mgwtest.log(f"{what}, call {attempt}: {status} in {took:.2f} s; Warning: {warning}")
        check(status == 500 and re.search(warning_pattern, warning),
              f"{what}: call {attempt} refused with 500 and a Warning naming the reason ({status}, {warning!r})")
        check(min_s <= took <= max_s, f"{what}: refused after {took:.2f} s (bound {min_s}..{max_s} s)")
    time.sleep(0.3)
    log = procs.output(gw)
    check(len(re.findall(r"\[event\] sip/turn\.failed", log)) == 2, f"{what}: two sip/turn.failed events")
    check(re.search(r"ERROR.*TURN allocation failed: turn:127\.0\.0\.1:\d+: ", log),
          f"{what}: the gateway logs the error with the server")
    check(gw.poll() is None and options_answered(gw_port), f"{what}: the gateway keeps running (OPTIONS answered)")
    after = sockets(gw.pid)
    check(after <= before, f"{what}: no socket left behind ({before} before the calls, {after} after)")


def main():
    mgwtest.require_tools("turnserver")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        coturn, turn_port = start_coturn(procs, wd)
        server = f"turn:127.0.0.1:{turn_port}?transport=udp"

        gw, port = start_turn_gateway(procs, server, {"TURN_SECRET": "not-the-secret"}, "gateway-wrong-secret")
        refuses(procs, gw, port, "wrong secret", r"TURN allocation failed: turn:127\.0\.0\.1:\d+: "
                r"401 Unauthorized \(wrong username or password\?\)")

        user, password = rest_credentials(SECRET, "x", 1600000000)
        gw2, port2 = start_turn_gateway(procs, server, {"TURN_USERNAME": user, "TURN_PASSWORD": password},
                                        "gateway-expired")
        refuses(procs, gw2, port2, "expired credentials",
                r"401 Unauthorized \(the credentials expired at 1600000000, \d+ s ago\)")
        check(password not in procs.output(gw2), "the password is not in the gateway's log")
        # coturn writes its log from several threads: give it a moment.
        check(procs.wait_for_output(coturn, r"user <1600000000:x>: incoming packet message processed, error 401", 3),
              "coturn refused the expired credentials with 401")
        check(procs.wait_for_output(coturn, r"user <\d+>: incoming packet message processed, error 401", 3),
              "coturn refused the wrong secret with 401")

        silent = mgwtest.free_port()   # reserved for this test, nobody listens
        gw3, port3 = start_turn_gateway(procs, f"turn:127.0.0.1:{silent}?transport=udp", {"TURN_SECRET": SECRET},
                                        "gateway-unreachable")
        refuses(procs, gw3, port3, "unreachable server", r"TURN allocation failed: turn:127\.0\.0\.1:\d+: no answer within 5 s",
                min_s=4.5, max_s=8.0)
        for p in (gw, gw2, gw3):
            check(procs.stop(p) == 0, f"{p.name} stops cleanly")
        children = [p for p in os.listdir("/proc") if p.isdigit() and
                    any(open(f"/proc/{p}/stat").read().split()[3] == str(g.pid) for g in (gw, gw2, gw3))]
        check(not children, "no process of the gateways is left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
