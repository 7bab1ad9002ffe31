#!/usr/bin/env python3
"""The [gateway] lifecycle with a real SIP call: idle_timeout ends a gateway
nobody calls; a node with start_on starts when the call is established and,
with after_call = "rearm", stops after the call and starts again with the
next one; max_call_duration ends a call that lasts too long."""
import os
import re
import sys
import time

import mgwtest
import siptest


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def wait_exit(p, timeout):
    deadline = time.time() + timeout
    while p.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    return p.poll()


def main():
    siptest.require_sipp()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        # 1. Nobody calls: idle_timeout ends the gateway with exit 0.
        t0 = time.time()
        gw, _ = siptest.start_gateway(procs, "idle-gateway", extra=["--set", "gateway.idle_timeout=1"])
        rc = wait_exit(gw, 10)
        check(rc == 0, f"idle gateway exits 0 (got {rc})")
        check(time.time() - t0 < 5, "after about idle_timeout")
        check("no call within gateway.idle_timeout" in procs.output(gw), "and says why")

        # 2. start_on and re-arm: the counter starts with each call.
        port = mgwtest.free_port()
        pipeline = write(os.path.join(wd, "start-on.toml"), f'''
[gateway]
after_call = "rearm"
[node.sip]
plugin = "sip-sofia"
listen = "udp:127.0.0.1:{port}"
inputs = {{ audio = "sip.audio" }}
[node.count]
plugin = "counter-sink"
start_on = "sip/call.established"
inputs = {{ audio = "sip.audio" }}
''')
        gw = procs.start("start-on-gateway", [mgwtest.MEDIAGW, "run", pipeline, "-v"])
        check(procs.wait_for_output(gw, r"listening on sip:", 10), "gateway listens")
        time.sleep(0.5)
        check("[counter-sink/count] started" not in procs.output(gw), "the start_on node waits for its event")
        sippdir = siptest.sipp_workdir(wd)
        for call in (1, 2):
            argv = siptest.sipp_argv(port, "uac", mgwtest.free_port(), mgwtest.free_port(), extra=["-d", "500"])
            rc = siptest.run_sipp(procs, f"sipp-{call}", argv, sippdir, 30)
            check(rc == 0, f"call {call}: sipp exit {siptest.describe_sipp_rc(rc)}")
            check(siptest.wait_events(procs, gw, "ended", call, 5), f"call {call} ended")
        time.sleep(0.3)
        log = procs.output(gw)
        order = re.findall(r"\[event\] sip/call\.established|\[counter-sink/count\] (?:started|stopped)"
                           r"|\[event\] sip/call\.ended", log)
        order = [o.split()[-1] if o.startswith("[counter") else o.split("/")[-1] for o in order]
        mgwtest.log(f"order: {order}")
        check(order == ["call.established", "started", "call.ended", "stopped"] * 2,
              "the node starts after each call.established and stops after each call.ended")
        check(procs.stop(gw) == 0, "SIGTERM: exit 0")

        # 3. max_call_duration: the gateway ends a long call itself (BYE).
        gw, port = siptest.start_gateway(procs, "short-gateway", after_call="exit",
                                         extra=["--set", "gateway.max_call_duration=1"])
        scenario = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios", "uac_wait_bye.xml")
        argv = siptest.sipp_argv(port, "uac", mgwtest.free_port(), mgwtest.free_port())
        argv[argv.index("-sn"):argv.index("-sn") + 2] = ["-sf", scenario]
        rc = siptest.run_sipp(procs, "sipp-long", argv, sippdir, 30)
        check(rc == 0, f"the caller got the gateway's BYE: sipp exit {siptest.describe_sipp_rc(rc)}")
        check(wait_exit(gw, 10) == 0, "gateway exits 0 after the call it ended")
        check("gateway.max_call_duration reached" in procs.output(gw), "and says why")
    return 0


if __name__ == "__main__":
    sys.exit(main())
