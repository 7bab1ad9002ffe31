#!/usr/bin/env python3
"""conf/kamailio/fixed-pool.cfg in front of two sip-echo gateways (one
process and port each, as deployed): calls through Kamailio reach the
gateways, and a gateway that is busy (486, one call at a time) makes
Kamailio fail over to the next one.

The test's copy of the cfg gets three xlog lines (routing unchanged; tmx
loaded for them): the
gateway Kamailio picks first for a call, the status and source of a failed
branch, the gateway it fails over to. Asserted for the failover: with
gateway 1 in a direct call, two calls through Kamailio (round robin: one of
them is sent to gateway 1 first) both complete; exactly one was sent to
gateway 1 first, gateway 1 answered it 486 (Kamailio saw the 486 come from
gateway 1's port; gateway 1 logged the rejection), Kamailio failed it over
to gateway 2, and gateway 2 established both calls.
"""
import os
import re
import sys
import time

import mgwtest

HERE = os.path.dirname(os.path.abspath(__file__))


# (anchor in conf/kamailio/fixed-pool.cfg, line inserted after it); tmx
# gives $T_reply_code and $T_rpl (the failed branch's reply).
XLOGS = [
    ('loadmodule "tm.so"\n', 'loadmodule "tmx.so"\n'),
    ('    }\n    t_on_failure("NEXT_GATEWAY");\n',
     '    xlog("L_NOTICE", "mgwtest: first $ci to $du\\n");\n'),
    ("failure_route[NEXT_GATEWAY] {\n",
     '    xlog("L_NOTICE", "mgwtest: failed $ci $T_reply_code from $T_rpl($si):$T_rpl($sp)\\n");\n'),
    ("&& ds_next_dst()) {\n",
     '        xlog("L_NOTICE", "mgwtest: failover $ci to $du\\n");\n'),
]


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
        with open(os.path.join(mgwtest.SOURCE_ROOT, "conf", "kamailio", "fixed-pool.cfg")) as f:
            cfg = f.read().replace("/etc/mediagw/kamailio/fixed-pool.list", os.path.join(wd, "dispatcher.list"))
            cfg = cfg.replace("listen=udp:127.0.0.1:5060", f"listen=udp:127.0.0.1:{kport}")
        for anchor, line in XLOGS:
            check(cfg.count(anchor) == 1, f"the cfg has one {anchor.strip()!r} to log after")
            cfg = cfg.replace(anchor, anchor + line)
        with open(os.path.join(wd, "kamailio.cfg"), "w") as f:
            f.write(cfg)
        os.makedirs(os.path.join(wd, "run"))
        kam = procs.start("kamailio", ["kamailio", "-f", os.path.join(wd, "kamailio.cfg"), "-DD", "-E", "-n", "1",
                                       "-Y", os.path.join(wd, "run"), "-P", os.path.join(wd, "kamailio.pid")])
        check(procs.wait_for_output(kam, r"INFO: .*(listening|bind)|main loop|udp: 127.0.0.1", 10) or
              kam.poll() is None, "kamailio runs")
        time.sleep(0.5)

        # 1. Failover: gateway 1 is busy with a direct call; of two calls
        #    through Kamailio one (round robin) goes to gateway 1 first, gets
        #    486 there and lands on gateway 2; the other goes to gateway 2.
        busy = sipp(procs, "sipp-direct", f"127.0.0.1:{port1}", wd, ["-m", "1", "-d", "10000"])
        deadline = time.time() + 5
        while established(procs, gw1) < 1 and time.time() < deadline:
            time.sleep(0.05)
        check(established(procs, gw1) == 1, "gateway 1 is in a call")
        for i in (1, 2):
            via = sipp(procs, f"sipp-via-kamailio-{i}", f"127.0.0.1:{kport}", wd, ["-m", "1", "-d", "1000"])
            rc = via.wait(30)
            check(rc == 0, f"call {i} through Kamailio succeeds despite a busy gateway (sipp exit {rc})")
        check(busy.poll() is None, "gateway 1's direct call was up during both")
        check(established(procs, gw1) == 1 and established(procs, gw2) == 2,
              f"gateway 2 answered both calls, gateway 1 none (calls established: "
              f"{established(procs, gw1)}, {established(procs, gw2)})")
        log = procs.output(kam)
        gw1_uri, gw2_uri = f"sip:127.0.0.1:{port1}", f"sip:127.0.0.1:{port2}"
        first = dict(re.findall(r"mgwtest: first (\S+) to (\S+)", log))
        check(len(first) == 2, f"Kamailio routed two calls ({first})")
        to_gw1 = [ci for ci, du in first.items() if du == gw1_uri]
        check(len(to_gw1) == 1 and set(first.values()) == {gw1_uri, gw2_uri},
              f"round robin: one call was sent to gateway 1 first, one to gateway 2 ({first})")
        failed = re.findall(r"mgwtest: failed (\S+) (\d+) from (\S+)", log)
        check(failed == [(to_gw1[0], "486", f"127.0.0.1:{port1}")],
              f"that call got 486 from gateway 1's port and no other branch failed ({failed})")
        over = re.findall(r"mgwtest: failover (\S+) to (\S+)", log)
        check(over == [(to_gw1[0], gw2_uri)], f"Kamailio failed it over to gateway 2 ({over})")
        rejected = re.findall(r"rejecting an INVITE from .*: a call is up \(486\)", procs.output(gw1))
        check(len(rejected) == 1, f"gateway 1 logged one INVITE rejected with 486 ({len(rejected)})")
        check(not re.search(r"rejecting an INVITE", procs.output(gw2)), "gateway 2 rejected nothing")
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
