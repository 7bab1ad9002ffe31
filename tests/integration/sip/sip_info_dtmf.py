#!/usr/bin/env python3
"""SIP INFO DTMF: in one call sipp sends INFO application/dtmf-relay
"Signal=5", application/dtmf "7", text/plain (must get 415), a dtmf-relay
with a bogus signal (400) and dtmf-relay "Signal=#" (the scenario checks
each status). The gateway emits one `dtmf` event per valid INFO, in order:
5, 7, #, all with source=info."""
import re

import mgwtest
import sigtest
import siptest

siptest.require_sipp()
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    gw, port = sigtest.gateway(procs)
    rc = sigtest.run_scenario(procs, wd, port, "uac_info_dtmf")
    mgwtest.check(rc == 0, "sipp: INFO answered 200, 200, 415, 400, 200; BYE answered")
    sigtest.wait_event(procs, gw, "call.ended")
    dtmf = sigtest.events(procs, gw, "dtmf")
    digits = [re.search(r'digit=\(string\)"?\\?(.)', d).group(1) for d in dtmf]
    mgwtest.check(digits == ["5", "7", "#"], f"dtmf events 5, 7, # (saw {digits})")
    mgwtest.check(all("source=(string)info" in d for d in dtmf), "every dtmf event has source=info")
    mgwtest.check("duration=(int)250" in dtmf[2], "the duration of the dtmf-relay INFO is carried (250)")
    mgwtest.check(sigtest.still_running(gw), "the gateway is still running")
