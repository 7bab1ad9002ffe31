#!/usr/bin/env python3
"""REGISTER through Kamailio (DB-less registrar, digest auth from an
htable: kamailio/kamailio.cfg.in) and calls to the AoR.

1. The gateway registers sip:alice@127.0.0.1 with digest auth (401, then
   200): register.ok; the password never appears in its log.
2. sipp calls alice through Kamailio (Record-Route-aware scenario): the call
   reaches the gateway (call.established, then call.ended bye).
3. With register_expires = 10 the gateway refreshes the registration
   before it expires (Kamailio logs a second REGISTER with credentials).
4. On SIGTERM the gateway unregisters: Kamailio logs a REGISTER with
   Expires 0, and a new call to alice gets 404 (no contact).
5. A gateway with a wrong password gets register.failed (403).
"""
import os
import re
import signal
import time

import mgwtest
import sigtest
import siptest

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "alicepw"

siptest.require_sipp()
mgwtest.require_tools("kamailio")


def start_kamailio(procs, wd):
    port = mgwtest.free_port()
    with open(os.path.join(HERE, "kamailio", "kamailio.cfg.in")) as f:
        cfg = f.read().replace("@PORT@", str(port))
    path = os.path.join(wd, "kamailio.cfg")
    with open(path, "w") as f:
        f.write(cfg)
    run = os.path.join(wd, "kamrun")
    os.makedirs(run)
    p = procs.start("kamailio", ["kamailio", "-f", path, "-DD", "-E", "-n", "1", "-Y", run,
                                 "-P", os.path.join(wd, "kamailio.pid")])
    if not procs.wait_for_output(p, r"INFO.*(main|init)|listening on", 10):
        time.sleep(1.0)
    if p.poll() is not None:
        mgwtest.fail("kamailio exited at start")
    return p, port


def count(procs, p, rx):
    return len(re.findall(rx, procs.output(p)))


def call_alice(procs, wd, kport, name):
    d = os.path.join(wd, name)
    os.makedirs(d, exist_ok=True)
    argv = ["sipp", f"127.0.0.1:{kport}", "-sf", sigtest.scenario("uac_rr"), "-s", "alice", "-i", "127.0.0.1",
            "-p", str(mgwtest.free_port()), "-mp", str(mgwtest.free_port()), "-m", "1", "-nostdin",
            "-d", "1000", "-recv_timeout", "8000", "-timeout", "20", "-timeout_error", "-trace_err", "-trace_msg"]
    return siptest.run_sipp(procs, "sipp-" + name, argv, d, 30)


with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    kam, kport = start_kamailio(procs, wd)
    account = ["account=sip:alice@127.0.0.1", f"registrar=sip:127.0.0.1:{kport}", "register_expires=10"]
    gw, _ = sigtest.gateway(procs, account + [f"password={PASSWORD}"])
    mgwtest.check(sigtest.wait_event(procs, gw, "register.ok", timeout=10), "register.ok (digest auth passed)")
    mgwtest.check(count(procs, kam, r"REGISTER ok user=alice") >= 1, "Kamailio saved alice's contact")

    rc = call_alice(procs, wd, kport, "call1")
    mgwtest.check(rc == 0, f"sipp called alice through Kamailio: exit {siptest.describe_sipp_rc(rc)}")
    mgwtest.check(sigtest.wait_event(procs, gw, "call.ended"), "the call reached the gateway and ended")
    mgwtest.check(len(sigtest.events(procs, gw, "call.established")) == 1, "call.established once")

    deadline = time.time() + 15
    while time.time() < deadline and "registration refreshed" not in procs.output(gw):
        time.sleep(0.2)
    mgwtest.check("registration refreshed" in procs.output(gw), "the gateway refreshed its 10 s registration")
    mgwtest.check(count(procs, kam, r"REGISTER ok user=alice expires=10") >= 2,
                  "Kamailio saw at least two authenticated REGISTERs with Expires 10")

    rc = procs.stop(gw, signal.SIGTERM, timeout=10)
    mgwtest.check(rc == 0, f"the gateway drained and exited 0 (got {rc})")
    mgwtest.check("unregistered sip:alice@127.0.0.1" in procs.output(gw), "the gateway logged its unregister")
    mgwtest.check(count(procs, kam, r"REGISTER ok user=alice expires=0") >= 1, "Kamailio got REGISTER Expires: 0")
    mgwtest.check(PASSWORD not in procs.output(gw), "the password is not in the gateway's log")

    rc = call_alice(procs, wd, kport, "call2")
    mgwtest.check(rc != 0, "a call to alice after the unregister fails")
    mgwtest.check(count(procs, kam, r"no contact for sip:alice@") >= 1, "Kamailio: no contact for alice (404)")

    bad, _ = sigtest.gateway(procs, account + ["password=WRONG"], name="gateway-badpw")
    mgwtest.check(sigtest.wait_event(procs, bad, "register.failed", timeout=10), "wrong password: register.failed")
    mgwtest.check("403" in sigtest.events(procs, bad, "register.failed")[0], "with the registrar's 403")
