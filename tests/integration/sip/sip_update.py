#!/usr/bin/env python3
"""UPDATE from the caller (RFC 3311): without SDP it is answered 200; with
an SDP offer that holds the call (sendonly) it is answered 200 with the
answer (recvonly) and the gateway reports call.held; the call then ends
normally by BYE."""
import mgwtest
import sigtest
import siptest

siptest.require_sipp()
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    gw, port = sigtest.gateway(procs, ["rtp_timeout=0"])   # the scenario sends no RTP
    rc = sigtest.run_scenario(procs, wd, port, "uac_update")
    mgwtest.check(rc == 0, f"both UPDATEs answered 200, the offer with recvonly: sipp exit "
                           f"{siptest.describe_sipp_rc(rc)}")
    mgwtest.check(sigtest.wait_event(procs, gw, "call.held", timeout=5), "the offer in the UPDATE held the call")
    mgwtest.check(sigtest.wait_event(procs, gw, "call.ended", timeout=5), "the call ended")
    ended = sigtest.events(procs, gw, "call.ended")
    mgwtest.check(len(ended) == 1 and "reason=(string)bye" in ended[0], f"by BYE ({ended})")
