#!/usr/bin/env python3
"""The HTTP API of `mediagw serve` (issue 12), with real callers.

serve with template `echo` (pipelines/sip-echo.toml), 1 warm, a budget of 3
calls. Asserted:
  - /ready needs no token; everything else wants the bearer token: none or
    a wrong one is 401 (with WWW-Authenticate), /metrics too;
  - bad requests are 400 naming the field: malformed JSON, template not a
    string, unknown template, unknown field, dial mode without a sip: URI,
    a value name that is not a variable; a 20 KiB body is 413; unknown ids
    are 404 (GET, DELETE, dtmf);
  - POST mode "wait" (room + values) starts a gateway: 201 + Location, listed
    (origin api) with its contact; baresip calls that contact, the call is
    established; POST .../dtmf reaches the gateway's SIP node (its log says
    dtmf.send '12#'); DELETE stops it: baresip gets the BYE, the process is
    gone, the record says ended_by "api" with the room and values;
  - POST mode "dial": the gateway calls `sipp -sn uas`; DELETE, record;
  - a start beyond the budget is 503 with Retry-After (metric refused moves);
  - docs/openapi.yaml documents every method, path and status met here;
  - a raw INVITE to the front gets a 302 to the warm gateway, reserved, and
    released after reservation_timeout (metric);
  - records are POSTed to records_url as well as written;
  - a connection that sends nothing, or half a request, is closed (10 s).
"""
import http.server
import json
import os
import re
import socket
import sys
import threading
import time

import mgwtest
import serve_common as sc
from baresip import Baresip


class RecordSink(http.server.BaseHTTPRequestHandler):
    """records_url: keeps what serve POSTs."""
    received = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        RecordSink.received.append((self.headers.get("Content-Type"), self.rfile.read(min(n, 65536))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def invite_front(port):
    """A raw INVITE to serve's front (nobody follows the 302): its status and Contact."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    lport = s.getsockname()[1]
    msg = (f"INVITE sip:echo@127.0.0.1:{port} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK-inv{lport}\r\n"
           f"From: <sip:probe@127.0.0.1>;tag=i{lport}\r\nTo: <sip:echo@127.0.0.1>\r\n"
           f"Call-ID: inv-{lport}\r\nCSeq: 1 INVITE\r\nContact: <sip:probe@127.0.0.1:{lport}>\r\n"
           f"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    s.settimeout(3)
    s.sendto(msg.encode(), ("127.0.0.1", port))
    status, contact = None, None
    try:
        while status is None or status < 200:
            data = s.recv(65535).decode(errors="replace")
            status = int(data.split()[1])
            m = re.search(r"(?mi)^(?:Contact|m):\s*<?([^>\r\n]+)", data)
            contact = m.group(1) if m else None
        ack = msg.replace("INVITE sip:", "ACK sip:", 1).replace("CSeq: 1 INVITE", "CSeq: 1 ACK")
        s.sendto(ack.encode(), ("127.0.0.1", port))
    except socket.timeout:
        pass
    finally:
        s.close()
    return status, contact


def main():
    mgwtest.require_tools("baresip", "sipp")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        sink = http.server.HTTPServer(("127.0.0.1", mgwtest.free_port(kind="tcp")), RecordSink)
        threading.Thread(target=sink.serve_forever, daemon=True).start()
        echo = os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-echo.toml")
        serve = sc.Serve(procs, wd, f'''[template.echo]
pipeline = "{echo}"
warm = 1
cpu = 0.01
''', serve_extra=f"cpu = 0.03\nmemory_mb = 2000\nretry_after = 5\nreservation_timeout = 1\n"
                   f"records_url = \"http://127.0.0.1:{sink.server_address[1]}/records\"")
        api = serve.api

        # A 302 nobody follows: the reservation is released after reservation_timeout.
        warm = serve.wait_gateways(lambda g: any(x["state"] == "idle" for x in g), 10, "a warm gateway")[0]
        status, contact = invite_front(serve.sip_port)
        check(status == 302 and contact == warm["contact"].replace("sip:", "sip:echo@"),
              f"INVITE to the front: 302 to the warm gateway ({status} {contact})")
        check(api("GET", f"/v1/gateways/{warm['id']}")[1]["state"] == "reserved", "that gateway is reserved")
        serve.wait_gateways(lambda g: any(x["id"] == warm["id"] and x["state"] == "idle" for x in g), 3,
                            "the reservation is released after 1 s")
        check(sc.metric(serve.metrics(), "mediagw_serve_reservations_expired_total", template="echo") == 1,
              "metric: one reservation expired")

        # A client that opens a connection and sends nothing is cut after 10 s
        # (checked at the end); one that sends half a request, too.
        idle = socket.create_connection(("127.0.0.1", serve.api_port))
        half = socket.create_connection(("127.0.0.1", serve.api_port))
        half.sendall(b"POST /v1/gateways HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        opened = time.time()

        # Authentication.
        check(api("GET", "/ready", token=None)[0] == 200, "/ready answers without a token")
        status, body, headers = api("GET", "/v1/gateways", token=None)
        check(status == 401 and headers.get("WWW-Authenticate") == "Bearer", f"no token: 401 Bearer ({status})")
        check(api("GET", "/v1/gateways", token="wrong")[0] == 401, "a wrong token: 401")
        check(api("GET", "/metrics", token=None)[0] == 401, "/metrics without the token: 401")
        check(api("POST", "/v1/gateways", {"template": "echo"}, token="wrong")[0] == 401,
              "POST with a wrong token: 401 (nothing started)")

        # Bad requests name the field.
        def bad(body, field, what, raw=None):
            status, reply, _ = api("POST", "/v1/gateways", body, raw=raw)
            check(status == 400 and isinstance(reply, dict) and reply.get("field") == field,
                  f"{what}: 400 naming '{field}' ({status} {reply})")
        bad(None, "(body)", "malformed JSON", raw=b'{"template": "echo",')
        bad(None, "(body)", "a JSON array", raw=b'["echo"]')
        bad({"template": 5}, "template", "template not a string")
        bad({"mode": "wait"}, "template", "no template")
        bad({"template": "nope"}, "template", "unknown template")
        bad({"template": "echo", "colour": "red"}, "colour", "unknown field")
        bad({"template": "echo", "mode": "dial"}, "dial", "dial mode without a URI")
        bad({"template": "echo", "mode": "sideways"}, "mode", "unknown mode")
        bad({"template": "echo", "values": {"bad-name": "x"}}, "values.bad-name", "a value name with '-'")
        bad({"template": "echo", "values": {"PIN": 1234}}, "values.PIN", "a value that is not a string")
        status, _, _ = api("POST", "/v1/gateways", raw=b'{"template":"' + b"x" * 20000 + b'"}')
        check(status == 413, f"a 20 KiB body: 413 ({status})")
        for method, path in (("GET", "/v1/gateways/nope-1"), ("DELETE", "/v1/gateways/nope-1"),
                             ("POST", "/v1/gateways/nope-1/dtmf")):
            status, reply, _ = api(method, path, {"digits": "1"} if method == "POST" else None)
            check(status == 404, f"{method} {path}: 404 ({status})")

        # Mode "wait": a gateway for room 4711, called directly by baresip.
        status, gw, headers = api("POST", "/v1/gateways", {"template": "echo", "room": "4711",
                                                            "values": {"ROOM_PIN": "1234"}})
        check(status == 201 and headers.get("Location") == f"/v1/gateways/{gw['id']}" and gw["origin"] == "api",
              f"POST mode wait: 201 with Location ({status} {gw})")
        gid = gw["id"]
        listed = serve.wait_gateways(lambda g: any(x["id"] == gid and x["contact"] for x in g), 10,
                                     "the API gateway listens")
        contact = next(x for x in listed if x["id"] == gid)["contact"]
        status, one, _ = api("GET", f"/v1/gateways/{gid}")
        check(status == 200 and one["room"] == "4711" and one["state"] == "idle", f"GET status ({one})")
        tone = os.path.join(wd, "tone.wav")
        mgwtest.make_tone_wav(tone, 800, 30, rate=8000)
        bs = Baresip(procs, wd, tone_wav=tone, codecs="PCMU")
        bs.start()
        check(bs.dial(contact.replace("sip:", "sip:room@")).get("ok"), f"baresip dials {contact}")
        check(bs.wait_event("CALL_ESTABLISHED", 10) is not None, "the call to the API gateway is established")
        serve.wait_gateways(lambda g: any(x["id"] == gid and x["state"] == "in_call" for x in g), 5, "in_call")
        status, reply, _ = api("POST", f"/v1/gateways/{gid}/dtmf", {"digits": "12#"})
        check(status == 202, f"POST dtmf: 202 ({status} {reply})")
        gwlog = os.path.join(serve.logs, gid + ".log")
        deadline = time.time() + 5
        while time.time() < deadline and "dtmf.send: '12#'" not in open(gwlog).read():
            time.sleep(0.1)
        check("dtmf.send: '12#'" in open(gwlog).read(), "the gateway's SIP node sent the digits '12#'")
        bad_dtmf = api("POST", f"/v1/gateways/{gid}/dtmf", {"digits": "12x"})
        check(bad_dtmf[0] == 400 and bad_dtmf[1]["field"] == "digits", "dtmf with a bad digit: 400 naming 'digits'")
        pid = one["pid"]
        status, reply, _ = api("DELETE", f"/v1/gateways/{gid}")
        check(status == 202 and reply["state"] == "stopping", f"DELETE: 202, stopping ({status} {reply})")
        check(bs.wait_event("CALL_CLOSED", 10) is not None, "baresip got the gateway's BYE")
        deadline = time.time() + 10
        while time.time() < deadline and (sc.pid_alive(pid) or not serve.read_records()):
            time.sleep(0.1)
        check(not sc.pid_alive(pid), "the stopped gateway's process is gone")
        check(api("GET", f"/v1/gateways/{gid}")[0] == 404, "a stopped gateway is 404 afterwards")
        rec = serve.read_records()[-1]
        check(rec["gateway"] == gid and rec["ended_by"] == "api" and rec["values"].get("ROOM") == "4711" and
              rec["values"].get("ROOM_PIN") == "(redacted)" and rec["room"] == "4711" and rec["codecs"].get("sip") == "PCMU",
              f"the record: ended by the API, room and values (the PIN redacted), codec ({rec})")

        # Mode "dial": the gateway calls sipp's uas.
        uas_port = mgwtest.free_port()
        uas = procs.start("sipp-uas", ["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(uas_port),
                                        "-mp", str(mgwtest.free_port()), "-nostdin", "-trace_err"])
        time.sleep(0.5)
        status, gw, _ = api("POST", "/v1/gateways", {"template": "echo", "mode": "dial",
                                                      "dial": f"sip:room@127.0.0.1:{uas_port}"})
        check(status == 201 and gw["mode"] == "dial", f"POST mode dial: 201 ({status})")
        serve.wait_gateways(lambda g: any(x["id"] == gw["id"] and x["state"] == "in_call" for x in g), 10,
                            "the dial-out gateway is in a call with sipp")

        # The budget (3 calls): the dial-out and the warm one's slot... two more API gateways fill it.
        started = [api("POST", "/v1/gateways", {"template": "echo"}) for _ in range(3)]
        codes = [s[0] for s in started]
        check(codes == [201, 201, 503], f"beyond the budget of 3: 503 ({codes})")
        check(started[2][2].get("Retry-After") == "5", "the 503 carries Retry-After: 5")
        check(sc.metric(serve.metrics(), "mediagw_serve_calls_refused_total", reason="host_cpu") == 1,
              "metric: one start refused for host_cpu")
        status, _, _ = api("DELETE", f"/v1/gateways/{gw['id']}")
        check(status == 202, "DELETE of the dial-out gateway: 202")
        deadline = time.time() + 10
        while time.time() < deadline and not any(r["gateway"] == gw["id"] for r in serve.read_records()):
            time.sleep(0.1)
        rec = [r for r in serve.read_records() if r["gateway"] == gw["id"]]
        check(len(rec) == 1 and rec[0]["mode"] == "dial" and rec[0]["ended_by"] == "api" and rec[0]["established"],
              f"the dial-out's record: established, ended by the API ({rec})")
        for name, conn in (("an idle connection", idle), ("half a request", half)):
            conn.settimeout(max(0.5, 12 - (time.time() - opened)))
            try:
                data = conn.recv(100)
            except (socket.timeout, ConnectionResetError):
                data = None
            check(data == b"", f"{name} is closed by serve within 12 s ({time.time() - opened:.1f} s)")
            conn.close()
        check(sc.stop_serve(procs, serve) == 0, "serve exits 0 on SIGTERM")
        sc.check_openapi(serve.seen)
        posted = [json.loads(body) for ctype, body in RecordSink.received if ctype == "application/json"]
        written = serve.read_records()  # the two above and the two API gateways stopped by the drain
        check(len(written) == 4 and sorted(r["gateway"] for r in posted) == sorted(r["gateway"] for r in written),
              f"every record was also POSTed to records_url ({len(posted)} of {len(written)})")
        sink.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
