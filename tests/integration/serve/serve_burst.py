#!/usr/bin/env python3
"""30 calls in a burst through Kamailio on a `mediagw serve` host whose
budget makes room for exactly 20 (issue 12).

serve: host cpu = 0.2 cores, template `echo` (pipelines/sip-echo.toml)
cpu = 0.01 per call: 20 calls; 10 gateways kept warm (the other 10 of the
20 are cold starts, answered once they listen). Kamailio
(kamailio-redirect.cfg.in) sends each INVITE to serve's SIP front and
follows its 302 to the gateway (uac_redirect), or passes its 503 back.

Two baresip callers (a 1000 Hz and a 600 Hz tone) call first and stay up
(the media sample: each hears its own tone echoed through its gateway),
then sipp places 28 calls in a burst (all within ~0.3 s, each held 6 s).
Asserted:
  - exactly 20 calls bridged (2 baresip + 18 sipp), 10 refused with 503 and
    Retry-After: 7; Kamailio followed 20 redirects and passed 10 refusals on;
  - while the 20 calls are up: OPTIONS to the front 503, /ready 503;
    before and after: OPTIONS 200, /ready 200;
  - each baresip caller heard its own tone back;
  - after the hang-ups: 20 call records, each ended_by "caller" (BYE), with
    the codec and times; every gateway process that took a call is gone;
  - RTP statistics (sip-sofia's rtp.stats): in the metrics during the
    calls, and in the baresip callers' records (packets both ways, |lost| < 0.5 %);
  - metrics (parsed): calls_started 20, calls_refused{host_cpu} 10,
    redirects 20, calls_ended{caller} 20, the pool refilled to 10 idle;
  - SIGTERM: serve drains and exits 0, no gateway process left.
"""
import os
import re
import sys
import time

import mgwtest
import serve_common as sc
import tonecheck
from baresip import Baresip

CAPACITY, BURST, WARM = 20, 28, 10


def main():
    mgwtest.require_tools("kamailio", "sipp", "baresip", "sox")
    if not os.path.exists("/usr/lib/x86_64-linux-gnu/kamailio/modules/uac_redirect.so") and \
            not any(os.path.exists(os.path.join(d, "uac_redirect.so"))
                    for d in ("/usr/lib/kamailio/modules", "/usr/local/lib/kamailio/modules")):
        mgwtest.skip("Kamailio's uac_redirect module is missing (package kamailio)")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        echo = os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-echo.toml")
        serve = sc.Serve(procs, wd, f'''[template.echo]
pipeline = "{echo}"
warm = {WARM}
cpu = 0.01
memory_mb = 30
''', serve_extra="cpu = 0.2\nmemory_mb = 4000\nretry_after = 7")
        serve.wait_gateways(lambda g: sum(x["state"] == "idle" for x in g) == WARM, 20, f"{WARM} warm gateways")
        check(sc.options(serve.sip_port)[0] == 200, "OPTIONS to the front: 200 while there is room")
        check(serve.api("GET", "/ready", token=None)[0] == 200, "/ready: 200 while there is room")
        kam, kport = sc.start_kamailio(procs, wd, serve.sip_port)

        # The media sample: two baresip calls, each with its own tone.
        callers = []
        for name, hz in (("alice", 1000), ("bob", 600)):
            tone = os.path.join(wd, f"tone-{hz}.wav")
            mgwtest.make_tone_wav(tone, hz, 60, rate=8000, volume=0.5)
            bs = Baresip(procs, wd, name=f"baresip-{name}", tone_wav=tone, codecs="PCMU", user=name)
            bs.start()
            resp = bs.dial(f"sip:echo@127.0.0.1:{kport}")
            check(resp.get("ok"), f"baresip {name} dials through Kamailio")
            if not bs.wait_event("CALL_ESTABLISHED", 15):
                mgwtest.fail(f"baresip {name}: no call within 15 s; events {bs.event_types()}")
            callers.append((bs, name, hz))
        mgwtest.log("ok: both baresip calls are established")

        # The burst: 28 sipp calls at once.
        burst_log = os.path.join(wd, "burst.log")
        t0 = time.time()
        sipp = procs.start("sipp", ["sipp", f"127.0.0.1:{kport}", "-sf", os.path.join(sc.HERE, "uac_burst.xml"),
                                    "-s", "echo", "-i", "127.0.0.1", "-p", str(mgwtest.free_port()),
                                    "-mp", str(mgwtest.free_port()), "-m", str(BURST), "-l", str(BURST),
                                    "-r", "100", "-d", "6000", "-nostdin", "-timeout", "40", "-recv_timeout",
                                    "20000", "-trace_err", "-trace_logs", "-log_file", burst_log])
        gws = serve.wait_gateways(lambda g: sum(x["state"] == "in_call" for x in g) == CAPACITY, 15,
                                  f"{CAPACITY} gateways in a call")
        mgwtest.log(f"{CAPACITY} calls up {time.time() - t0:.2f} s after the burst began")
        busy_pids = [g["pid"] for g in gws if g["state"] == "in_call"]
        status, reply = sc.options(serve.sip_port)
        check(status == 503 and re.search(r"(?mi)^Retry-After: 7", reply),
              f"OPTIONS to the front while full: 503 with Retry-After ({status})")
        check(serve.api("GET", "/ready", token=None)[0] == 503, "/ready while full: 503")
        rc = sipp.wait(40)
        check(rc == 0, f"sipp: every call ended as the scenario expects (bridged or refused; exit {rc})")
        with open(burst_log) as f:
            lines = f.read().splitlines()
        bridged = [l for l in lines if l.startswith("BRIDGED")]
        refused = [l for l in lines if l.startswith("REFUSED")]
        check(len(bridged) == CAPACITY - 2 and len(refused) == 10,
              f"sipp: {len(bridged)} bridged + 2 baresip = {len(bridged) + 2}, {len(refused)} refused "
              f"(expected {CAPACITY} and 10)")
        check(all(l.endswith("retry-after=7") for l in refused), "every 503 carried Retry-After: 7")

        # RTP statistics (sip-sofia's rtp.stats every 5 s) in the metrics while the calls are up.
        m = serve.metrics()
        rtp = {k: v for k, v in m.items() if k[0] == "mediagw_serve_gateway_rtp"
               and ("stat", "audio_packets_received") in k[1]}
        check(len(rtp) >= 2 and sorted(rtp.values())[-2] > 100,
              f"metrics: RTP packets received per gateway during the calls ({sorted(rtp.values())[-3:]})")
        for bs, name, hz in callers:
            check(bs.wait_event("CALL_CLOSED", 0) is None, f"baresip {name}'s call survived the burst")
            bs.hangup()
            check(bs.wait_event("CALL_CLOSED", 5) is not None, f"baresip {name} hung up")
            bs.quit()
            wav = bs.received_wav()
            check(wav is not None, f"baresip {name} recorded what it heard")
            tonecheck.check_tone(wav, hz, 3.0, f"{name} hears its own {hz} Hz tone echoed")

        klog = procs.output(kam)
        check(len(re.findall(r"mgwtest: redirect ", klog)) == CAPACITY,
              f"Kamailio followed {CAPACITY} redirects ({len(re.findall(r'mgwtest: redirect ', klog))})")
        check(len(re.findall(r"mgwtest: refused \S+ retry-after 7", klog)) == 10,
              "Kamailio passed 10 refusals (Retry-After 7) back to the caller")

        deadline = time.time() + 15
        while len(serve.read_records()) < CAPACITY and time.time() < deadline:
            time.sleep(0.2)
        records = serve.read_records()
        check(len(records) == CAPACITY, f"{len(records)} call records (expected {CAPACITY})")
        check(all(r["ended_by"] == "caller" and r["end_reason"] == "bye" for r in records),
              f"every record: ended by the caller with a BYE ({[(r['ended_by'], r['end_reason']) for r in records]})")
        check(all(r["codecs"].get("sip") == "PCMU" and r["established"] and r["ended"] and r["exit"]["code"] == 0
                  for r in records), "every record names the codec, the times and a clean exit")
        sample = [r for r in records if r["from"].startswith(("sip:alice", "sip:bob"))]
        check(len(sample) == 2, "two records are the baresip callers'")
        for r in sample:
            check(r["values"].get("sip.user") == "echo" and r["user"] == "echo",
                  f"{r['from']}'s record: the dialled user reached the gateway through the 302's Contact "
                  f"(call value sip.user {r['values'].get('sip.user')!r})")
            st = r["rtp"].get("sip", {})
            got, lost, sent = st.get("audio_packets_received", 0), st.get("audio_packets_lost", -1), \
                st.get("audio_packets_sent", 0)
            # (RFC 3550's cumulative loss goes negative with duplicates: a packet or two)
            check(got > 300 and sent > 300 and abs(lost) <= 0.005 * got,
                  f"{r['from']}'s record: RTP {got:g} received, {sent:g} sent, {lost:g} lost, "
                  f"jitter {st.get('audio_jitter_ms', -1):.1f} ms")
        gone = [pid for pid in busy_pids if not sc.pid_alive(pid)]
        check(len(gone) == CAPACITY, f"every gateway that took a call is gone ({len(gone)} of {CAPACITY})")
        check(sc.options(serve.sip_port)[0] == 200, "OPTIONS after the calls: 200 again")

        serve.wait_gateways(lambda g: sum(x["state"] == "idle" for x in g) == WARM and len(g) == WARM, 20,
                            f"the pool refilled to {WARM} idle gateways")
        m = serve.metrics()
        for name, labels, want in (("mediagw_serve_calls_started_total", {"template": "echo"}, CAPACITY),
                                   ("mediagw_serve_redirects_total", {"template": "echo"}, CAPACITY),
                                   ("mediagw_serve_calls_refused_total", {"reason": "host_cpu"}, 10),
                                   ("mediagw_serve_calls_ended_total", {"template": "echo", "ended_by": "caller"},
                                    CAPACITY),
                                   ("mediagw_serve_gateways", {"template": "echo", "state": "idle"}, WARM),
                                   ("mediagw_serve_gateways", {"template": "echo", "state": "in_call"}, 0)):
            got = sc.metric(m, name, **labels)
            check(got == want, f"metric {name}{labels} = {got:g} (expected {want})")
        idle_pids = [g["pid"] for g in serve.gateways()]
        rc = sc.stop_serve(procs, serve)
        check(rc == 0, f"serve drained and exited 0 on SIGTERM ({rc})")
        check(not any(sc.pid_alive(p) for p in idle_pids), "no gateway process left after serve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
