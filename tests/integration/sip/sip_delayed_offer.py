#!/usr/bin/env python3
"""Delayed offer: sipp sends an INVITE without SDP. The gateway's 200 must
carry an offer (the scenario checks for an m=audio line with PCMU), sipp's
ACK carries the answer, media starts on it and the call is established;
sipp's BYE ends it (reason bye). Before this fix such INVITEs got 488."""
import mgwtest
import sigtest
import siptest

siptest.require_sipp()
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    gw, port = sigtest.gateway(procs)
    rc = sigtest.run_scenario(procs, wd, port, "uac_delayed_offer")
    mgwtest.check(rc == 0, "sipp: 200 with an SDP offer, ACK with the answer, BYE answered 200")
    mgwtest.check(sigtest.wait_event(procs, gw, "call.ended"), "the gateway logged call.ended")
    out = procs.output(gw)
    mgwtest.check("answer to our offer" in out, "the gateway took the answer from the ACK (media started)")
    mgwtest.check(len(sigtest.events(procs, gw, "call.established")) == 1, "one call.established")
    mgwtest.check("reason=(string)bye" in sigtest.events(procs, gw, "call.ended")[0], "call.ended reason bye")
    mgwtest.check(" 488" not in out, "no 488 anywhere")
    mgwtest.check(sigtest.still_running(gw), "the gateway is still running")
