#!/usr/bin/env python3
"""OPTIONS outside a dialog is answered 200 with an Allow header naming
INVITE ... BYE (the scenario checks it); no call events follow."""
import mgwtest
import sigtest
import siptest

siptest.require_sipp()
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    gw, port = sigtest.gateway(procs)
    rc = sigtest.run_scenario(procs, wd, port, "uac_options")
    mgwtest.check(rc == 0, "sipp: OPTIONS answered 200 with Allow: INVITE...BYE")
    mgwtest.check(not sigtest.events(procs, gw, "call.incoming"), "no call.incoming for an OPTIONS")
    mgwtest.check(sigtest.still_running(gw), "the gateway is still running")
