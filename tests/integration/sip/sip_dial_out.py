#!/usr/bin/env python3
"""Outbound call: the gateway dials `dial` at start. sipp's built-in uas
answers (PCMU); the gateway applies the answer from the 200, ACKs and emits
call.established. On SIGTERM the gateway's drain sends BYE, which sipp
answers 200 (sipp exits 0 only if the BYE came), and call.ended says
shutdown. A second gateway dialling a port where nobody listens gets no
answer and ends the call with an error reason instead of hanging."""
import os
import signal

import mgwtest
import sigtest
import siptest

siptest.require_sipp()
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    uas_port, uas_media = mgwtest.free_port(), mgwtest.free_port()
    d = os.path.join(wd, "uas")
    os.makedirs(d)
    uas = procs.start("sipp-uas", ["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(uas_port), "-mp",
                                   str(uas_media), "-m", "1", "-nostdin", "-trace_err", "-trace_msg",
                                   "-timeout", "40", "-timeout_error"], cwd=d)
    gw, _ = sigtest.gateway(procs, [f"dial=sip:callee@127.0.0.1:{uas_port}"])
    mgwtest.check(sigtest.wait_event(procs, gw, "call.established", timeout=10), "the outbound call is established")
    out = procs.output(gw)
    mgwtest.check("calling sip:callee@127.0.0.1:" in out, "the gateway logged the call it places")
    mgwtest.check("answer to our offer" in out, "media started from the answer in the 200")
    rc = procs.stop(gw, signal.SIGTERM, timeout=10)
    mgwtest.check(rc == 0, f"the gateway drained and exited 0 (got {rc})")
    ended = sigtest.events(procs, gw, "call.ended")
    mgwtest.check(len(ended) == 1 and "reason=(string)shutdown" in ended[0], f"call.ended reason shutdown ({ended})")
    try:
        urc = uas.wait(10)
    except Exception:
        urc = None
    mgwtest.check(urc == 0, f"sipp uas got the gateway's BYE and exited 0 (exit {urc})")
