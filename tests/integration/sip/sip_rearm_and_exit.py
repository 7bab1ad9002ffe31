#!/usr/bin/env python3
"""The echo gateway's lifecycle: re-arm between calls, or exit after one.

1. pipelines/sip-echo.toml as shipped (after_call = "rearm"): two consecutive
   sipp `uac` calls (1 s each) both succeed, the gateway logs two
   call.established / call.ended and is still running afterwards.
2. With --set gateway.after_call=exit: one call succeeds and the gateway
   exits 0 by itself shortly after it.
"""
import os
import sys
import time

import mgwtest
import siptest


def one_call(procs, wd, gw_port, name):
    sipp_dir = siptest.sipp_workdir(wd, name)
    argv = siptest.sipp_argv(gw_port, "uac", mgwtest.free_port(), mgwtest.free_port(), extra=["-d", "1000"])
    return siptest.run_sipp(procs, name, argv, sipp_dir, timeout=40)


def main():
    siptest.require_sipp()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        # --- re-arm: two calls to one gateway --------------------------------
        gw, port = siptest.start_gateway(procs, "gateway-rearm")
        for n in (1, 2):
            rc = one_call(procs, wd, port, f"sipp-call{n}")
            check(rc == 0, f"call {n}: sipp uac exit code 0 (got {siptest.describe_sipp_rc(rc)})")
            check(siptest.wait_events(procs, gw, "ended", n, 5),
                  f"call {n}: gateway logged sip/call.ended (x{siptest.count_events(procs, gw, 'ended')})")
            check(siptest.count_events(procs, gw, "established") == n,
                  f"call {n}: gateway logged sip/call.established {n} time(s) "
                  f"(saw {siptest.count_events(procs, gw, 'established')})")
            time.sleep(0.5)
            check(gw.poll() is None, f"call {n}: gateway still running (after_call = rearm; exit code {gw.poll()})")
        rc = procs.stop(gw)
        mgwtest.log(f"gateway-rearm stopped with SIGTERM: exit code {rc}")

        # --- exit: the gateway ends by itself after one call ------------------
        gw, port = siptest.start_gateway(procs, "gateway-exit", after_call="exit")
        rc = one_call(procs, wd, port, "sipp-call3")
        check(rc == 0, f"after_call=exit: sipp uac exit code 0 (got {siptest.describe_sipp_rc(rc)})")
        try:
            code = gw.wait(10)
        except Exception:
            code = None
        check(code == 0, f"after_call=exit: gateway exited by itself with code 0 within 10 s "
                         f"(got {'still running' if code is None else code})")
        check(siptest.count_events(procs, gw, "established") == 1 and siptest.count_events(procs, gw, "ended") == 1,
              "after_call=exit: gateway logged call.established and call.ended once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
