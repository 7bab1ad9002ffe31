#!/usr/bin/env python3
"""Inbound call policy (property `answer`):
- allowlist: a caller whose From URI matches no `allow` pattern gets 403
  (no call.incoming); with a matching pattern the call is answered.
- auth: an INVITE without credentials is challenged (401, Digest); sipp
  with the right user/password is answered; with a wrong password the
  retried INVITE gets 403. The password is never logged."""
import mgwtest
import sigtest
import siptest

siptest.require_sipp()
SECRET = "s3cret-pw"
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    gw, port = sigtest.gateway(procs, ["answer=allowlist", "allow=sip:nobody@*,sip:*@10.0.0.1"], name="gw-deny")
    rc = sigtest.run_scenario(procs, wd, port, "uac_refused_403")
    mgwtest.check(rc == 0, "allowlist without a match: 403")
    mgwtest.check(not sigtest.events(procs, gw, "call.incoming"), "no call.incoming for a refused caller")

    gw2, port2 = sigtest.gateway(procs, ["answer=allowlist", "allow=sip:*@127.0.0.1"], name="gw-allow")
    rc = sigtest.run_scenario(procs, wd, port2, "uac_delayed_offer")
    mgwtest.check(rc == 0, "allowlist sip:*@127.0.0.1 admits sipp's call")

    auth = ["answer=auth", "auth_user=caller", f"auth_password={SECRET}"]
    gw3, port3 = sigtest.gateway(procs, auth, name="gw-auth")
    rc = sigtest.run_scenario(procs, wd, port3, "uac_digest_auth", extra=["-au", "caller", "-ap", SECRET])
    mgwtest.check(rc == 0, "auth: 401 challenge, then the authenticated INVITE is answered")
    mgwtest.check(sigtest.wait_event(procs, gw3, "call.ended"), "that call was established and ended")
    rc = sigtest.run_scenario(procs, wd, port3, "uac_digest_auth", extra=["-au", "caller", "-ap", "wrong"])
    mgwtest.check(rc != 0, "auth with a wrong password fails")
    mgwtest.check("digest authentication failed: wrong password" in procs.output(gw3), "the gateway refused it (403)")
    mgwtest.check(SECRET not in procs.output(gw3), "the auth password is not in the log")
