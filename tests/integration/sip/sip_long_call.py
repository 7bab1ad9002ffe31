#!/usr/bin/env python3
"""A 40 s call survives: no drop at 32 s (64*T1, when a lost ACK or an
unanswered 200 retransmission would end it). rtp_timeout is off (sipp sends
no RTP here). The gateway must not emit call.ended before sipp's BYE at 40 s,
and sipp must see no unexpected message (a BYE from the gateway would fail
the scenario)."""
import time

import mgwtest
import sigtest
import siptest

siptest.require_sipp()
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    gw, port = sigtest.gateway(procs, ["rtp_timeout=0"])
    t0 = time.time()
    rc = sigtest.run_scenario(procs, wd, port, "uac_long_call", timeout=70)
    took = time.time() - t0
    mgwtest.check(rc == 0, "sipp: call set up, BYE after 40 s answered 200")
    mgwtest.check(took >= 40, f"the call lasted {took:.1f} s (>= 40)")
    mgwtest.check(sigtest.wait_event(procs, gw, "call.ended"), "call.ended logged")
    ended = sigtest.events(procs, gw, "call.ended")
    mgwtest.check(len(ended) == 1 and "reason=(string)bye" in ended[0], f"one call.ended, reason bye ({ended})")
