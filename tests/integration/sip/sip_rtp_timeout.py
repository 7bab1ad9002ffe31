#!/usr/bin/env python3
"""A caller that vanishes without BYE (its SDP promises RTP, none comes):
after `rtp_timeout` seconds the gateway ends the call itself with a BYE
(the scenario waits for it and answers), reports reason rtp-timeout, and,
re-armed, takes the next call."""
import os
import sys
import time

import mgwtest
import siptest

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    siptest.require_sipp()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        gw, port = siptest.start_gateway(procs, extra=["--set", "sip.rtp_timeout=2"])
        argv = siptest.sipp_argv(port, "uac", mgwtest.free_port(), mgwtest.free_port())
        argv[argv.index("-sn"):argv.index("-sn") + 2] = ["-sf", os.path.join(HERE, "scenarios", "uac_wait_bye.xml")]
        t0 = time.time()
        rc = siptest.run_sipp(procs, "sipp-silent", argv, siptest.sipp_workdir(wd), 30)
        took = time.time() - t0
        check(rc == 0, f"the silent caller got the gateway's BYE: sipp exit {siptest.describe_sipp_rc(rc)}")
        check(1.5 < took < 8, f"after about rtp_timeout = 2 s ({took:.1f} s)")
        check(siptest.wait_events(procs, gw, "ended", 1, 5), "call.ended logged")
        check("reason=(string)rtp-timeout" in procs.output(gw), "with reason rtp-timeout")
        rc = siptest.run_sipp(procs, "sipp-next",
                              siptest.sipp_argv(port, "uac", mgwtest.free_port(), mgwtest.free_port(),
                                                extra=["-d", "500"]), siptest.sipp_workdir(wd), 30)
        check(rc == 0, f"the next call works: sipp exit {siptest.describe_sipp_rc(rc)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
