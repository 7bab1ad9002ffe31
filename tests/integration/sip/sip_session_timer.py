#!/usr/bin/env python3
"""Session timers (RFC 4028): a caller asking for a 90 s session refreshed
by the callee gets it accepted (Session-Expires: 90;refresher=uas in the
200) and the gateway refreshes it (UPDATE or re-INVITE) before 45 s; the
call then ends normally by BYE."""
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
        # The scenario sends no RTP: no inactivity timeout in this test.
        gw, port = siptest.start_gateway(procs, extra=["--set", "sip.rtp_timeout=0"])
        argv = siptest.sipp_argv(port, "uac", mgwtest.free_port(), mgwtest.free_port())
        argv[argv.index("-sn"):argv.index("-sn") + 2] = ["-sf", os.path.join(HERE, "scenarios",
                                                                             "uac_session_timer.xml")]
        argv[argv.index("-timeout") + 1] = "80"
        argv[argv.index("-recv_timeout") + 1] = "70000"
        t0 = time.time()
        rc = siptest.run_sipp(procs, "sipp-session-timer", argv, siptest.sipp_workdir(wd), 90)
        took = time.time() - t0
        check(rc == 0, f"the gateway accepted refresher=uas and refreshed the session: sipp exit "
                       f"{siptest.describe_sipp_rc(rc)}")
        # RFC 4028 section 10: the refresher refreshes at half the interval (45 s).
        check(took < 55, f"the refresh came at about half the session interval (call lasted {took:.1f} s)")
        check(siptest.wait_events(procs, gw, "ended", 1, 5), "the call then ended normally")
        check("reason=(string)bye" in procs.output(gw), "by the caller's BYE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
