#!/usr/bin/env python3
"""webrtc-direct's Janus mode against a Janus API that misbehaves (a small
HTTP server of this test speaking just enough of Janus' HTTP API): not JSON,
HTTP 500, no answer at all, a join refused by the videoroom (wrong PIN), and
an SDP answer that is garbage. Each time the gateway reports room.failed with
a reason that says what happened, within bounded waits (5 s per request, 10 s
to join), keeps running, and stops cleanly - destroying the Janus session it
created. A gateway stopped while Janus is still creating its session waits
for it (bounded) and destroys it: no session is left behind.

Hostile answers: 64 MiB without a length (not read past 1 MiB: the
gateway's peak memory stays near that of one that got a 500), JSON nested a
400000 levels deep (refused before json-glib recurses), and ids of the
wrong type (a string session id: no session, said so).
"""
import http.server
import json
import os
import queue
import sys
import threading
import time
import urllib.parse

import mgwtest
import whip_whep_client as wwc

SESSION, HANDLE, FEED = 4242, 77, 99
events = {}       # case -> queue of events for the long-poll
destroyed = set()  # cases whose session the gateway destroyed


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0


def plugin_event(data, jsep=None):
    e = {"janus": "event", "sender": HANDLE, "plugindata": {"plugin": "janus.plugin.videoroom", "data": data}}
    if jsep:
        e["jsep"] = jsep
    return e


class Janus(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        case = self.path.split("/")[1]
        msg = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        kind, tx = msg.get("janus"), msg.get("transaction")
        if case == "garbage":
            return self.reply(200, b"<html>this is not Janus</html>")
        if case == "huge":  # no Content-Length: read until the server closes
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                self.wfile.write(b'{"janus":"success","transaction":"' + tx.encode() + b'","data":{"junk":"')
                for _ in range(1024):
                    self.wfile.write(b"x" * 65536)
            except OSError:
                pass  # the gateway stopped reading
            self.close_connection = True
            return
        if case == "deep":
            return self.reply(200, b"[" * 400000 + b"]" * 400000)  # 800 kB, under the bound
        if case == "types" and kind == "create":
            return self.reply(200, {"janus": "success", "transaction": tx, "data": {"id": str(SESSION)},
                                    "error": "not an object", "plugindata": [1, {"x": None}]})
        if case == "error":
            return self.reply(500, b"Janus exploded")
        if case == "slow":
            time.sleep(15)
            return
        if kind == "create" and case == "late":
            time.sleep(2)
        if kind == "create":
            return self.reply(200, {"janus": "success", "transaction": tx, "data": {"id": SESSION}})
        if kind == "attach":
            return self.reply(200, {"janus": "success", "transaction": tx, "data": {"id": HANDLE}})
        if kind == "destroy":
            destroyed.add(case)
            return self.reply(200, {"janus": "success", "transaction": tx})
        if kind == "message":
            request = msg.get("body", {}).get("request")
            if request == "join" and case == "refuse":
                events[case].put(plugin_event({"videoroom": "event", "error_code": 433,
                                               "error": "Unauthorized (wrong pin)"}))
            elif request == "join":
                events[case].put(plugin_event({"videoroom": "joined", "room": 1234, "id": FEED,
                                               "private_id": 1, "publishers": []}))
            elif request == "publish":
                events[case].put(plugin_event({"videoroom": "event", "configured": "ok"},
                                              {"type": "answer", "sdp": "v=0\r\nthis is not an answer\r\n"}))
            return self.reply(200, {"janus": "ack", "transaction": tx})
        return self.reply(200, {"janus": "success", "transaction": tx})

    def do_GET(self):  # the long-poll: queued events, else a keepalive after a while
        case = urllib.parse.urlparse(self.path).path.split("/")[1]
        try:
            return self.reply(200, [events[case].get(timeout=2)])
        except queue.Empty:
            return self.reply(200, {"janus": "keepalive"})


def main():
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        port = mgwtest.free_port()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Janus)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        cases = [("garbage", r"not\W+a\W+JSON\W+object"), ("error", r"HTTP\W+500"),
                 ("slow", r"no\W+answer\W+from\W+Janus"), ("refuse", r"refused\W+to\W+join.*433.*wrong\W+pin"),
                 ("sdp", r"our\W+feed\W+failed.*answer\W+was\W+refused"),
                 ("huge", rf"127\.0\.0\.1:{port}/huge/janus.*over\W+1024\W+KiB"),
                 ("deep", r"not\W+a\W+JSON\W+object"), ("types", r"no\W+data\.id")]
        clients = []
        for case, _ in cases:
            events[case] = queue.Queue()
            env = {"MODE": "janus", "URL": f"http://127.0.0.1:{port}/{case}/janus", "ROOM": "1234",
                   "WAV": os.path.join(wd, case + ".wav"), "COUNT_REPORT": os.path.join(wd, case + ".json")}
            clients.append(wwc.start(procs, case, "client.toml", env, r"joining Janus room 1234"))
        by_name = dict(zip([c for c, _ in cases], clients))
        for name in ("error", "huge"):
            procs.wait_for_output(by_name[name], r"room\.failed", 20)
        peaks = {name: peak_rss_mib(by_name[name].pid) for name in ("error", "huge")}
        mgwtest.log("peak VmHWM (MiB): " + ", ".join(f"{k} {v:.1f}" for k, v in peaks.items()))
        check(peaks["huge"] - peaks["error"] < 16,
              f"a 64 MiB answer is not read (peak memory {peaks['huge']:.1f} MiB, {peaks['error']:.1f} after a 500)")
        wwc.expect_room_failures(procs, cases, clients)
        for case in ("refuse", "sdp"):
            check(case in destroyed, f"{case}: the gateway destroyed its Janus session when it stopped")

        events["late"] = queue.Queue()
        env = {"MODE": "janus", "URL": f"http://127.0.0.1:{port}/late/janus", "ROOM": "1234",
               "WAV": os.path.join(wd, "late.wav"), "COUNT_REPORT": os.path.join(wd, "late.json")}
        late = wwc.start(procs, "late", "client.toml", env, r"joining Janus room 1234")
        t0 = time.monotonic()
        check(procs.stop(late) == 0, "late: stopped while Janus creates its session, the gateway exits cleanly")
        check("late" in destroyed, f"late: it destroyed the session Janus created meanwhile "
                                   f"(stop took {time.monotonic() - t0:.1f} s)")
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
