#!/usr/bin/env python3
"""CANCEL from the gateway's side: it dials a callee that rings and never
answers; SIGTERM during the ringing makes the gateway's drain CANCEL the
INVITE (the callee's scenario answers 200 and 487 and gets the ACK), and
the gateway exits 0 without ever reporting the call established."""
import os
import signal
import time

import mgwtest
import sigtest
import siptest

siptest.require_sipp()
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    callee_port = mgwtest.free_port()
    d = os.path.join(wd, "callee")
    os.makedirs(d)
    callee = procs.start("sipp-callee", ["sipp", "-sf", sigtest.scenario("uas_ring_cancel"), "-i", "127.0.0.1",
                                         "-p", str(callee_port), "-mp", str(mgwtest.free_port()), "-m", "1",
                                         "-nostdin", "-trace_err", "-trace_msg", "-timeout", "30",
                                         "-timeout_error"], cwd=d)
    time.sleep(0.3)
    gw, _ = sigtest.gateway(procs, [f"dial=sip:callee@127.0.0.1:{callee_port}"])
    mgwtest.check(procs.wait_for_output(gw, r"calling sip:callee@", 10), "the gateway dials")
    time.sleep(1.0)  # ringing
    rc = procs.stop(gw, signal.SIGTERM, timeout=10)
    mgwtest.check(rc == 0, f"the gateway drained and exited 0 (got {rc})")
    try:
        crc = callee.wait(15)
    except Exception:
        crc = None
    mgwtest.check(crc == 0, f"the callee got CANCEL, answered 487 and got the ACK: sipp exit "
                            f"{siptest.describe_sipp_rc(crc)}")
    mgwtest.check(not sigtest.events(procs, gw, "call.established"), "the call was never established")
