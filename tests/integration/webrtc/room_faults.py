#!/usr/bin/env python3
"""The room server gone mid-call (issue 10, "Faults"): pipelines/
sip-to-janus.toml with a hand-written SIP caller (rawcaller, PCMU), its web
node talking to a fake Janus HTTP API (this script, run as a separate
process with --janus PORT, speaking just enough of the videoroom API:
session, handle, join, publish acknowledged, the long-poll). Once the
gateway has joined the room and sent its feed's offer, the fake Janus
process is SIGKILLed, as a crashed Janus would be: the kernel closes its
sockets, the long-poll in flight breaks and new connections are refused.

Asserted:
  - the gateway reports room.failed naming the lost Janus (event stream or
    unanswered keepalive) within
    NOTICE_BOUND s of the kill (its poll retries: 3 failures, 1 s apart);
  - it hangs up the SIP call (hangup_on = ["web/room.failed"]) with a BYE
    whose Reason (RFC 3326) names the room failure, within the same bound;
    call.ended follows;
  - as its pipeline says (after_call = "exit"), the gateway then exits 0 in
    bounded time (its leave, a Janus session destroy to a dead server,
    fails fast).
The measured times-to-notice are printed ("MEASURED ...").

Argument `killed` (the default) is the case above. `hung` SIGSTOPs the
fake Janus instead, as a Janus that hangs (or a host whose kernel still
accepts connections): nothing is refused, nothing answered. Asserted:
noticed within HUNG_BOUND = 30 s (a keepalive period and its 5 s request
timeout: an unanswered keepalive fails the room; before, only 3 failed
long-polls did, ~133 s).
"""
import http.server
import json
import os
import queue
import re
import signal
import sys
import time
import urllib.parse

import mgwtest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sip"))
import sip_faults  # noqa: E402  (Call: a rawcaller call that echoes, waits for the BYE)

PIPELINE = os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-to-janus.toml")
NOTICE_BOUND = 5     # 3 failed polls 1 s apart, + slack
EXIT_BOUND = 10      # the gateway gone after the BYE (leave: one refused request)
HUNG_BOUND = 30      # hung: a keepalive period (25 s) + its request timeout (5 s)
HUNG_MEASURE = 60    # hung: how long to wait for it anyway, to measure
SESSION, HANDLE, FEED = 4242, 77, 99


# --- the fake Janus (a separate process, so that it can be killed) -----------

def serve_janus(port):
    events = queue.Queue()

    def say(what):
        print(what, flush=True)

    def plugin_event(data):
        return {"janus": "event", "sender": HANDLE, "plugindata": {"plugin": "janus.plugin.videoroom", "data": data}}

    class Janus(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, body):
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            msg = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            kind, tx = msg.get("janus"), msg.get("transaction")
            request = msg.get("body", {}).get("request") if kind == "message" else None
            say(f"janus: {kind}{' ' + request if request else ''}{' with ' + msg['jsep']['type'] if 'jsep' in msg else ''}")
            if kind == "create":
                return self.reply({"janus": "success", "transaction": tx, "data": {"id": SESSION}})
            if kind == "attach":
                return self.reply({"janus": "success", "transaction": tx, "data": {"id": HANDLE}})
            if kind == "message":
                if request == "join":
                    events.put(plugin_event({"videoroom": "joined", "room": 1234, "id": FEED, "private_id": 1,
                                             "publishers": []}))
                return self.reply({"janus": "ack", "transaction": tx})
            return self.reply({"janus": "success", "transaction": tx})   # keepalive, detach, destroy

        def do_GET(self):   # the long-poll: queued events, else a keepalive after 25 s (Janus: 30)
            if urllib.parse.urlparse(self.path).path.rstrip("/").endswith(str(SESSION)):
                say("janus: long-poll")
            try:
                return self.reply([events.get(timeout=25)])
            except queue.Empty:
                return self.reply({"janus": "keepalive"})

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Janus)
    server.daemon_threads = True
    say(f"fake Janus on 127.0.0.1:{port}")
    server.serve_forever()


# --- the test -----------------------------------------------------------------

def main(hung):
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        janus_port, sip_port = mgwtest.free_port(), mgwtest.free_port()
        janus = procs.start("fake-janus", [sys.executable, os.path.abspath(__file__), "--janus", str(janus_port)])
        check(procs.wait_for_output(janus, r"fake Janus on", 10), "the fake Janus listens")
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", PIPELINE, "-v"], env={
            "SIP_LISTEN": f"udp:127.0.0.1:{sip_port}", "JANUS_URL": f"http://127.0.0.1:{janus_port}/janus",
            "JANUS_ROOM": "1234", "TURN_URL": f"turn:127.0.0.1:{mgwtest.free_port()}", "TURN_SECRET": "unused"})
        check(procs.wait_for_output(gw, r"listening on sip:", 15), "the sip-to-janus gateway starts")

        call = sip_faults.Call(sip_port)
        check(procs.wait_for_output(gw, r"janus: joined room 1234 as feed 99", 10), "the gateway joined the room")
        check(procs.wait_for_output(janus, r"janus: message publish with offer", 10), "and sent its feed's offer")
        check(procs.wait_for_output(janus, r"janus: long-poll(.|\n)*janus: long-poll", 5),
              "its event long-poll is out again")
        call.echo(2.0)   # mid-call: the caller talks for a while
        check(gw.poll() is None and "[event] web/room.failed" not in procs.output(gw), "the call is up, the room too")

        if hung:
            os.kill(janus.pid, signal.SIGSTOP)
            what, bound = "hung", HUNG_BOUND
        else:
            procs.stop(janus, signal.SIGKILL)
            what, bound = "killed", NOTICE_BOUND
        t0 = time.time()
        mgwtest.log(f"the fake Janus {'SIGSTOPped' if hung else 'SIGKILLed'} mid-call")
        t_bye, h = call.wait_bye(HUNG_MEASURE if hung else NOTICE_BOUND + 10)
        if hung:
            sip_faults.measured("room server hung -> BYE at the caller" if t_bye else
                                "room server hung -> still no BYE after", (t_bye or time.time()) - t0)
            check(t_bye is not None and t_bye - t0 <= bound,
                  f"a hung Janus is noticed within {bound} s (a keepalive period and its 5 s request timeout)")
        t_failed = sip_faults.wait_log(procs, gw, r"\[event\] web/room\.failed", 1)
        check(t_failed is not None, "the gateway reports room.failed")
        failed = re.search(r"\[event\] web/room\.failed, reason=\(string\)\"?(.*)", procs.output(gw)).group(1)
        mgwtest.log(f"room.failed: {failed}")
        check(re.search(r"lost\W+the\W+Janus\W+event\W+stream|Janus\W+did\W+not\W+answer\W+a\W+keepalive", failed),
              "naming the lost Janus (its event stream, or an unanswered keepalive)")
        check(t_bye is not None, "the gateway hangs up the SIP call with a BYE")
        sip_faults.measured(f"room server {what} -> BYE at the caller", t_bye - t0)
        check(t_bye - t0 <= bound, f"within {bound} s ({t_bye - t0:.2f} s)")
        reasons = h.get("reason", [])
        mgwtest.log(f"Reason: {reasons}")
        check(len(reasons) == 1 and re.match(r'Q\.850;cause=16;text=".*web/room\.failed.*(lost the Janus event stream|'
                                             r'Janus did not answer a keepalive)',
                                             reasons[0]),
              f"the BYE's Reason names the room failure ({reasons})")
        t_end = sip_faults.wait_log(procs, gw, r"\[event\] sip/call\.ended", 3)
        check(t_end is not None, "call.ended logged")
        sip_faults.measured(f"room server {what} -> call.ended", t_end - t0)
        call.close()

        try:
            rc = gw.wait(EXIT_BOUND)
        except Exception:
            rc = None
        check(rc == 0, f"the gateway exits 0, as its pipeline says (after_call = \"exit\"): {rc}")
        sip_faults.measured(f"room server {what} -> the gateway exited", time.time() - t0)
        out = procs.output(gw)
        check('stopping: the call ended (after_call = "exit")' in out, "it stopped because the call ended")
        if hung:
            procs.stop(janus, signal.SIGKILL)
        check(not re.search(r"CRITICAL|ERROR|Internal data stream error", out), "without errors in its log")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--janus":
        serve_janus(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] not in ("killed", "hung"):
        mgwtest.fail(f"unknown scenario {sys.argv[1]}")
    else:
        sys.exit(main(len(sys.argv) > 1 and sys.argv[1] == "hung"))
