#!/usr/bin/env python3
"""conf/kamailio-dispatcher.cfg in front of two sip-echo gateways (one
process and port each, as deployed): calls through Kamailio reach the
gateways, and a gateway that is busy (486, one call at a time) makes
Kamailio fail over to the next one."""
import os
import re
import sys
import time

import mgwtest

HERE = os.path.dirname(os.path.abspath(__file__))


def start_gateway(procs, name):
    port = mgwtest.free_port()
    p = procs.start(name, [mgwtest.MEDIAGW, "run", os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-echo.toml")],
                    env={"SIP_LISTEN": f"udp:127.0.0.1:{port}"})
    if not procs.wait_for_output(p, r"listening on sip:", 15):
        mgwtest.fail(f"{name} did not start")
    return p, port


def established(procs, p):
    return len(re.findall(r"\[event\] sip/call\.established", procs.output(p)))


def sipp(procs, name, target, wd, extra):
    argv = ["sipp", target, "-sf", os.path.join(HERE, "uac_rr.xml"), "-s", "echo", "-i", "127.0.0.1",
            "-p", str(mgwtest.free_port()), "-mp", str(mgwtest.free_port()), "-nostdin",
            "-recv_timeout", "10000", "-timeout", "30", "-timeout_error", "-trace_err", *extra]
    return procs.start(name, argv, cwd=wd)


def main():
    mgwtest.require_tools("kamailio", "sipp")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        gw1, port1 = start_gateway(procs, "gateway-1")
        gw2, port2 = start_gateway(procs, "gateway-2")
        with open(os.path.join(wd, "dispatcher.list"), "w") as f:
            f.write(f"1 sip:127.0.0.1:{port1}\n1 sip:127.0.0.1:{port2}\n")
        kport = mgwtest.free_port()
        with open(os.path.join(mgwtest.SOURCE_ROOT, "conf", "kamailio-dispatcher.cfg")) as f:
            cfg = f.read().replace("/etc/mediagw/dispatcher.list", os.path.join(wd, "dispatcher.list"))
            cfg = cfg.replace("listen=udp:127.0.0.1:5060", f"listen=udp:127.0.0.1:{kport}")
        with open(os.path.join(wd, "kamailio.cfg"), "w") as f:
            f.write(cfg)
        os.makedirs(os.path.join(wd, "run"))
        kam = procs.start("kamailio", ["kamailio", "-f", os.path.join(wd, "kamailio.cfg"), "-DD", "-E", "-n", "1",
                                       "-Y", os.path.join(wd, "run"), "-P", os.path.join(wd, "kamailio.pid")])
        check(procs.wait_for_output(kam, r"INFO: .*(listening|bind)|main loop|udp: 127.0.0.1", 10) or
              kam.poll() is None, "kamailio runs")
        time.sleep(0.5)

        # 1. Failover: gateway 1 is busy with a direct call; the call through
        #    Kamailio gets 486 there and lands on gateway 2.
        busy = sipp(procs, "sipp-direct", f"127.0.0.1:{port1}", wd, ["-m", "1", "-d", "6000"])
        deadline = time.time() + 5
        while established(procs, gw1) < 1 and time.time() < deadline:
            time.sleep(0.05)
        check(established(procs, gw1) == 1, "gateway 1 is in a call")
        via = sipp(procs, "sipp-via-kamailio", f"127.0.0.1:{kport}", wd, ["-m", "1", "-d", "1000"])
        rc = via.wait(30)
        check(rc == 0, f"the call through Kamailio succeeds despite a busy gateway (sipp exit {rc})")
        check(established(procs, gw2) == 1, "it was answered by gateway 2")
        check(busy.wait(30) == 0, "the direct call to gateway 1 completes")

        # 2. Two concurrent calls through Kamailio: one gateway each.
        before = (established(procs, gw1), established(procs, gw2))
        both = sipp(procs, "sipp-two", f"127.0.0.1:{kport}", wd, ["-m", "2", "-l", "2", "-d", "2000"])
        rc = both.wait(40)
        check(rc == 0, f"two concurrent calls through Kamailio succeed (sipp exit {rc})")
        after = (established(procs, gw1), established(procs, gw2))
        check(after[0] - before[0] == 1 and after[1] - before[1] == 1,
              f"each gateway took one of them (calls per gateway {before} -> {after})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
