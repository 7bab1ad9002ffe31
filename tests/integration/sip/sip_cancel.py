#!/usr/bin/env python3
"""CANCEL before answer: with answer_delay the gateway rings (180) before
answering; sipp CANCELs right after the 180 and must get 200 for the CANCEL
and 487 for the INVITE. The gateway emits call.ended with reason cancel and
no call.established; a normal call works afterwards."""
import mgwtest
import sigtest
import siptest

siptest.require_sipp()
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    gw, port = sigtest.gateway(procs, ["answer_delay=3000"])
    rc = sigtest.run_scenario(procs, wd, port, "uac_cancel")
    mgwtest.check(rc == 0, "sipp: 180, then 200 to the CANCEL and 487 to the INVITE")
    mgwtest.check(sigtest.wait_event(procs, gw, "call.ended"), "the gateway logged call.ended")
    mgwtest.check("reason=(string)cancel" in sigtest.events(procs, gw, "call.ended")[0], "call.ended reason cancel")
    mgwtest.check(not sigtest.events(procs, gw, "call.established"), "the cancelled call was never established")
    rc = sigtest.run_scenario(procs, wd, port, "uac_delayed_offer")
    mgwtest.check(rc == 0, "a call after the cancelled one is answered (after the ring delay)")
    mgwtest.check(len(sigtest.events(procs, gw, "call.established")) == 1, "and established")
