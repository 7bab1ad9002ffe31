#!/usr/bin/env python3
"""BYE from the gateway's side: SIGTERM during a call makes the gateway send
BYE (sipp's scenario waits for it and answers 200), report the call ended
with reason shutdown, and exit 0 within its drain bound."""
import os
import signal
import sys
import time

import mgwtest
import siptest


def main():
    siptest.require_sipp()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        gw, port = siptest.start_gateway(procs)
        scenario = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios", "uac_wait_bye.xml")
        argv = siptest.sipp_argv(port, "uac", mgwtest.free_port(), mgwtest.free_port())
        argv[argv.index("-sn"):argv.index("-sn") + 2] = ["-sf", scenario]
        sipp = procs.start("sipp", argv, cwd=siptest.sipp_workdir(wd))
        check(siptest.wait_events(procs, gw, "established", 1, 10), "the call is established")
        time.sleep(1)
        t0 = time.time()
        rc = procs.stop(gw, signal.SIGTERM, timeout=10)
        check(rc == 0, f"gateway exits 0 on SIGTERM during a call (got {rc})")
        check(time.time() - t0 < 4, f"the drain is bounded ({time.time() - t0:.2f} s)")
        try:
            sipp_rc = sipp.wait(15)
        except Exception:
            sipp_rc = None
        check(sipp_rc == 0, f"sipp received the gateway's BYE and completed: exit {siptest.describe_sipp_rc(sipp_rc)}")
        check("reason=(string)shutdown" in procs.output(gw), "call.ended carries reason shutdown")
    return 0


if __name__ == "__main__":
    sys.exit(main())
