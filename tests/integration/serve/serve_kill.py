#!/usr/bin/env python3
"""A gateway of `mediagw serve` SIGKILLed mid-call, then a graceful drain
(issue 12).

Two baresip callers (1000 Hz and 600 Hz tones) through Kamailio to serve
(template echo, 2 warm). One gateway in a call is killed with SIGKILL.
Asserted:
  - its call record says ended_by "crash", signal 9, "killed by signal 9";
    metrics count one exit by signal and one call ended by a crash;
  - Kamailio's dialog keepalive notices the dead gateway and sends alice a BYE;
  - the other call is unaffected: still up, its caller keeps hearing its
    tone (checked on what it heard after the kill);
  - SIGTERM (drain): OPTIONS 503 and /ready 503 "draining" while the
    surviving call is up, the call goes on; when its caller hangs up, serve
    exits 0 and no gateway process is left.
The killed gateway's call is ended by Kamailio (kamailio-redirect.cfg.in
with WITH_DIALOG: Record-Route, the dialog module's in-dialog OPTIONS to
both ends): serve redirects and is not in the signalling path, so the proxy
that keeps the dialog is the one that can send the caller a BYE.
"""
import os
import re
import signal
import sys
import time

import mgwtest
import serve_common as sc
import tonecheck
from baresip import Baresip


def main():
    mgwtest.require_tools("kamailio", "baresip", "sox")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        echo = os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-echo.toml")
        serve = sc.Serve(procs, wd, f'''[template.echo]
pipeline = "{echo}"
warm = 2
cpu = 0.01
''', serve_extra="cpu = 1\nmemory_mb = 2000\ndrain_timeout = 30")
        serve.wait_gateways(lambda g: sum(x["state"] == "idle" for x in g) == 2, 15, "2 warm gateways")
        kam, kport = sc.start_kamailio(procs, wd, serve.sip_port, dialog=True)
        callers = []
        for name, hz in (("alice", 1000), ("bob", 600)):
            tone = os.path.join(wd, f"tone-{hz}.wav")
            mgwtest.make_tone_wav(tone, hz, 60, rate=8000, volume=0.5)
            bs = Baresip(procs, wd, name=f"baresip-{name}", tone_wav=tone, codecs="PCMU", user=name)
            bs.start()
            check(bs.dial(f"sip:echo@127.0.0.1:{kport}").get("ok"), f"baresip {name} dials")
            check(bs.wait_event("CALL_ESTABLISHED", 15) is not None, f"baresip {name}'s call is established")
            callers.append(bs)
        gws = serve.wait_gateways(lambda g: sum(x["state"] == "in_call" for x in g) == 2, 10, "2 calls")
        in_call = [g for g in gws if g["state"] == "in_call"]
        victim = next(g for g in in_call if g["call"]["from"].startswith("sip:alice"))
        survivor = next(g for g in in_call if g is not victim)
        time.sleep(1.0)
        t_kill = time.time()
        os.kill(victim["pid"], signal.SIGKILL)
        mgwtest.log(f"killed {victim['id']} (pid {victim['pid']}), alice's gateway")
        deadline = time.time() + 5
        while time.time() < deadline and not any(r["gateway"] == victim["id"] for r in serve.read_records()):
            time.sleep(0.05)
        rec = [r for r in serve.read_records() if r["gateway"] == victim["id"]]
        check(len(rec) == 1, f"a record for the killed gateway within {time.time() - t_kill:.2f} s")
        rec = rec[0]
        check(rec["ended_by"] == "crash" and rec["exit"]["signal"] == 9 and
              rec["end_reason"] == "killed by signal 9 (Killed)" and rec["established"],
              f"its record: ended by a crash, signal 9 ({rec['ended_by']}, {rec['exit']}, {rec['end_reason']})")
        check(re.search(rf"gateway {victim['id']} \(pid {victim['pid']}\) killed by signal 9", serve.output()),
              "serve logged the kill")
        m = serve.metrics()
        check(sc.metric(m, "mediagw_serve_gateway_exits_total", template="echo", how="signal") == 1,
              "metric: one exit by signal")
        check(sc.metric(m, "mediagw_serve_calls_ended_total", template="echo", ended_by="crash") == 1,
              "metric: one call ended by a crash")

        # The other call goes on: bob still hears his tone after the kill.
        check(callers[1].wait_event("CALL_CLOSED", 0) is None, "bob's call is still up after the kill")
        check(any(g["id"] == survivor["id"] and g["state"] == "in_call" for g in serve.gateways()),
              "bob's gateway is still in its call")

        # Kamailio's dialog module finds the gateway gone (its in-dialog
        # OPTIONS, every 30 s, time out) and ends alice's call with a BYE.
        closed = callers[0].wait_event("CALL_CLOSED", 60)  # seen: 44 s
        check(closed is not None, f"alice gets a BYE from Kamailio {time.time() - t_kill:.1f} s after the kill")
        check(callers[1].wait_event("CALL_CLOSED", 0) is None, "bob's call, whose gateway answers the probes, stays up")

        # Drain: new calls refused, the running one goes on.
        os.kill(serve.proc.pid, signal.SIGTERM)
        time.sleep(0.5)
        status, reply = sc.options(serve.sip_port)
        check(status == 503, f"OPTIONS while draining: 503 ({status})")
        status, body, _ = serve.api("GET", "/ready", token=None)
        check(status == 503 and body.get("state") == "draining", f"/ready while draining: 503 draining ({body})")
        time.sleep(1.0)
        check(serve.proc.poll() is None and callers[1].wait_event("CALL_CLOSED", 0) is None,
              "serve waits for bob's call, which is still up")
        for bs in callers:
            bs.hangup()
        check(callers[1].wait_event("CALL_CLOSED", 5) is not None, "bob hung up")
        try:
            rc = serve.proc.wait(15)
        except Exception:
            rc = None
        check(rc == 0, f"serve exited 0 once the last call ended ({rc})")
        for bs in callers:
            bs.quit()
        wav = callers[1].received_wav()
        check(wav is not None, "bob recorded what he heard")
        # The last 3 s of what bob heard were all after the kill.
        length = tonecheck.seconds(wav)
        after = os.path.join(wd, "bob-after-kill.wav")
        import subprocess
        subprocess.run(["sox", wav, after, "trim", str(max(0.0, length - 3.5)), "3"], check=True)
        tonecheck.check_tone(after, 600, 2.0, "bob hears his 600 Hz tone after the kill")
        recs = serve.read_records()
        bob = [r for r in recs if r["gateway"] == survivor["id"]]
        check(len(bob) == 1 and bob[0]["ended_by"] == "caller", f"bob's record: ended by the caller ({bob})")
        left = [g["pid"] for g in gws if sc.pid_alive(g["pid"])]
        check(not left, f"no gateway process left ({left})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
