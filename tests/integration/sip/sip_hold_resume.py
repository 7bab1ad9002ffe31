#!/usr/bin/env python3
"""Hold and resume by re-INVITE: sipp establishes a call, re-INVITEs with
a=sendonly (the gateway must answer a=recvonly and emit call.held), then
with a=sendrecv (answer a=sendrecv, call.resumed), waits and hangs up.
The call must survive both re-INVITEs: no call.ended before sipp's BYE."""
import mgwtest
import sigtest
import siptest

siptest.require_sipp()
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    gw, port = sigtest.gateway(procs)
    rc = sigtest.run_scenario(procs, wd, port, "uac_hold_resume")
    mgwtest.check(rc == 0, "sipp: both re-INVITEs answered 200 with the right direction, BYE answered 200")
    mgwtest.check(sigtest.wait_event(procs, gw, "call.ended"), "the call ended (sipp's BYE)")
    out = procs.output(gw)
    order = [m for m in ("call.established", "call.held", "call.resumed", "call.ended")
             if f"[event] sip/{m}" in out]
    mgwtest.check(order == ["call.established", "call.held", "call.resumed", "call.ended"],
                  f"events established, held, resumed, ended (saw {order})")
    pos = [out.index(f"[event] sip/{m}") for m in order]
    mgwtest.check(pos == sorted(pos), "in that order")
    mgwtest.check(len(sigtest.events(procs, gw, "call.held")) == 1 and
                  len(sigtest.events(procs, gw, "call.resumed")) == 1, "exactly one held and one resumed")
    mgwtest.check(len(sigtest.events(procs, gw, "call.ended")) == 1 and
                  "bye" in sigtest.events(procs, gw, "call.ended")[0], "one call.ended, reason bye")
