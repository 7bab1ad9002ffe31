#!/usr/bin/env python3
"""conf/kamailio/serve-front.cfg, as shipped (only its -A defines set: the
listen address, the hosts list, the probe interval), in front of serve hosts
played by sipp (serve itself is not needed to test the front door's routing):

1. Failover and redirect: hosts [full (INVITE -> 503 + Retry-After),
   redirecting (INVITE -> 302 to a warm gateway)], the gateway a sipp UAS.
   Two calls from a sipp UAC dialling sip:room-1234@front both complete; the
   full host got exactly one INVITE (503, then marked down: the second call
   does not try it), the redirecting host both, the gateway both with the
   request URI's user `room-1234` intact and the front's Record-Route (ACK
   and BYE came through the front).
2. OPTIONS probing: hosts [dead (nothing listens), full by its OPTIONS
   answer (503), redirecting (OPTIONS 200)], probed every second. After the
   probes three calls complete, each within the front's 2 s no-answer timer
   (a dead host tried first would cost that), none failed over, and neither
   the dead nor the full host got an INVITE; `kamcmd dispatcher.list` (the
   config's control socket) shows the two inactive, the third active.
"""
import os
import re
import socket
import subprocess
import sys
import time

import mgwtest

HERE = os.path.dirname(os.path.abspath(__file__))
CFG = os.path.join(mgwtest.SOURCE_ROOT, "conf", "kamailio", "serve-front.cfg")
ROOM = "room-1234"


def uas(procs, wd, name, scenario, extra=()):
    port = mgwtest.free_port()
    argv = ["sipp", "-i", "127.0.0.1", "-p", str(port), "-nostdin", "-trace_msg",
            "-message_file", os.path.join(wd, name + ".msg"), *extra]
    argv += ["-sn", "uas"] if scenario == "uas" else ["-sf", os.path.join(HERE, scenario)]
    return procs.start(name, argv), port


def received(wd, name, method):
    """Request URIs of the `method` requests the sipp `name` received."""
    try:
        with open(os.path.join(wd, name + ".msg"), errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return []
    return re.findall(r"message received \[\d+\] bytes :\s*\n\s*" + method + r" (\S+) SIP/2\.0", text)


def received_messages(wd, name, method):
    with open(os.path.join(wd, name + ".msg"), errors="replace") as f:
        parts = re.split(r"-{20,}.*\n", f.read())
    return [p for p in parts if re.match(r"\s*" + method + " ", p)]


def options_ok(port, timeout=10):
    """The front answers an OPTIONS for itself 200 (its keep-alive route):
    it is up and routing."""
    deadline = time.time() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.3)
        me = s.getsockname()[1]
        while time.time() < deadline:
            msg = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-{time.monotonic_ns()}\r\n"
                   f"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1:{port}>\r\n"
                   f"Call-ID: probe-{time.monotonic_ns()}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                   f"Content-Length: 0\r\n\r\n")
            s.sendto(msg.encode(), ("127.0.0.1", port))
            try:
                if s.recv(4096).startswith(b"SIP/2.0 200"):
                    return True
            except socket.timeout:
                pass
        return False


def front(procs, wd, name, hosts, ping_interval):
    kport = mgwtest.free_port()
    hosts_list = os.path.join(wd, name + ".list")
    with open(hosts_list, "w") as f:
        f.writelines(f"1 sip:127.0.0.1:{p}\n" for p in hosts)
    run = os.path.join(wd, name + "-run")
    os.makedirs(run)
    kam = procs.start(name, ["kamailio", "-f", CFG, "-DD", "-E", "-n", "1", "-Y", run,
                             "-P", os.path.join(wd, name + ".pid"),
                             "-A", f"LISTEN=udp:127.0.0.1:{kport}", "-A", f'HOSTS_LIST="{hosts_list}"',
                             "-A", f"DS_PING_INTERVAL={ping_interval}",
                             "-A", f'CTL_SOCKET="unix:{os.path.join(wd, name + ".ctl")}"'])
    mgwtest.check(options_ok(kport) and kam.poll() is None,
                  f"{name}: kamailio answers OPTIONS for itself on udp:127.0.0.1:{kport}")
    return kam, kport


def dispatcher_states(wd, name):
    """{destination URI: flags} as `kamcmd dispatcher.list` shows them (AP:
    active and probed, IP: inactive and probed)."""
    r = subprocess.run(["kamcmd", "-s", "unix:" + os.path.join(wd, name + ".ctl"), "dispatcher.list"],
                       capture_output=True, text=True, timeout=10)
    return dict(re.findall(r"URI: (\S+)\s+FLAGS: (\S+)", r.stdout))


def call(procs, wd, name, kport, n=1):
    argv = ["sipp", f"127.0.0.1:{kport}", "-sf", os.path.join(HERE, "uac_rr.xml"), "-s", ROOM,
            "-i", "127.0.0.1", "-p", str(mgwtest.free_port()), "-nostdin", "-m", str(n), "-l", "1",
            "-d", "300", "-recv_timeout", "10000", "-timeout", "30", "-timeout_error", "-trace_err"]
    started = time.monotonic()
    rc = procs.start(name, argv).wait(40)
    return rc, time.monotonic() - started


def main():
    mgwtest.require_tools("kamailio", "kamcmd", "sipp")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        gw, gw_port = uas(procs, wd, "gateway", "uas_gateway.xml")
        gateway = f"127.0.0.1:{gw_port}"

        # 1. 503 fails over; 302 is followed to the gateway.
        full, full_port = uas(procs, wd, "host-full", "uas_full.xml")
        redir, redir_port = uas(procs, wd, "host-redirect", "uas_redirect.xml", ["-key", "gateway", gateway])
        kam, kport = front(procs, wd, "front-1", [full_port, redir_port], 600)
        for i in (1, 2):
            rc, took = call(procs, wd, f"caller-{i}", kport)
            check(rc == 0, f"call {i} to sip:{ROOM}@front completes (sipp exit {rc}, {took:.1f} s)")
        check(len(received(wd, "host-full", "INVITE")) == 1,
              f"the full host got one INVITE (503), then was skipped ({received(wd, 'host-full', 'INVITE')})")
        to_redir = received(wd, "host-redirect", "INVITE")
        check(len(to_redir) == 2 and all(u.startswith(f"sip:{ROOM}@") for u in to_redir),
              f"the redirecting host got both INVITEs, user part kept ({to_redir})")
        to_gw = received(wd, "gateway", "INVITE")
        check(to_gw == [f"sip:{ROOM}@{gateway}"] * 2, f"the 302 was followed: the gateway got both calls for "
              f"{ROOM} ({to_gw})")
        invites = received_messages(wd, "gateway", "INVITE")
        check(all(re.search(rf"(?im)^Record-Route:.*127\.0\.0\.1:{kport}", m) for m in invites),
              "the gateway's INVITEs carry the front's Record-Route")
        check(len(received(wd, "gateway", "ACK")) == 2 and len(received(wd, "gateway", "BYE")) == 2,
              f"ACK and BYE reached the gateway through the front (ACK {len(received(wd, 'gateway', 'ACK'))}, "
              f"BYE {len(received(wd, 'gateway', 'BYE'))})")
        log = procs.output(kam)
        over = re.findall(r"call \S+: (\d+) from (\S+), failing over", log)
        check(over == [("503", f"sip:127.0.0.1:{full_port}")], f"the front failed over once, on the 503 ({over})")
        check(len(re.findall(r"call \S+: host \S+ redirects", log)) == 2, "the front followed two redirects")
        procs.stop(kam)

        # 2. Probing: a dead host and one that says it is full are skipped.
        dead_port = mgwtest.free_port()
        busy, busy_port = uas(procs, wd, "host-options-503", "uas_options_503.xml")
        redir2, redir2_port = uas(procs, wd, "host-redirect-2", "uas_redirect.xml",
                                  ["-key", "gateway", gateway, "-aa"])
        kam2, kport2 = front(procs, wd, "front-2", [dead_port, busy_port, redir2_port], 1)
        deadline = time.time() + 10
        while time.time() < deadline and not (received(wd, "host-options-503", "OPTIONS") and
                                               received(wd, "host-redirect-2", "OPTIONS")):
            time.sleep(0.2)
        check(received(wd, "host-options-503", "OPTIONS") and received(wd, "host-redirect-2", "OPTIONS"),
              "the front probes the hosts with OPTIONS")
        time.sleep(2.5)   # the dead host's probe times out (no answer) and marks it down
        states = dispatcher_states(wd, "front-2")
        check(states.get(f"sip:127.0.0.1:{dead_port}", "").startswith("I") and
              states.get(f"sip:127.0.0.1:{busy_port}", "").startswith("I") and
              states.get(f"sip:127.0.0.1:{redir2_port}", "").startswith("A"),
              f"kamcmd dispatcher.list: the dead and the full host inactive, the healthy one active ({states})")
        before = len(received(wd, "gateway", "INVITE"))
        for i in (1, 2, 3):
            rc, took = call(procs, wd, f"caller-probed-{i}", kport2)
            check(rc == 0 and took < 2.0, f"call {i} completes without waiting for a down host "
                  f"(sipp exit {rc}, {took:.2f} s; the no-answer timer is 2 s)")
        check(not received(wd, "host-options-503", "INVITE"), "the host answering OPTIONS 503 got no INVITE")
        check(len(received(wd, "host-redirect-2", "INVITE")) == 3, "the healthy host got all three")
        check(len(received(wd, "gateway", "INVITE")) - before == 3, "and the gateway all three calls")
        check(not re.search(r"failing over", procs.output(kam2)), "no call needed a failover")
    return 0


if __name__ == "__main__":
    sys.exit(main())
