"""Helpers for the `mediagw serve` tests: a serve instance on free ports
(its TOML written by the test), Kamailio in front (kamailio-redirect.cfg.in:
follows serve's 302s with uac_redirect, passes its 503s back), the HTTP API
(bearer token), an OPTIONS probe, the call records and the gateway PIDs."""
import json
import os
import re
import signal
import socket
import time
import urllib.error
import urllib.request

import mgwtest

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "serve-test-token"


class Serve:
    """`address`: its SIP front, API and gateways (with `prefix`, e.g.
    ["ip", "netns", "exec", NS], an address of that namespace: the ports
    given are then its own)."""

    def __init__(self, procs, wd, templates, serve_extra="", name="serve", address="127.0.0.1", prefix=(),
                 sip_port=None, api_port=None):
        self.procs, self.wd = procs, wd
        self.address = address
        self.sip_port = sip_port or mgwtest.free_port()
        self.api_port = api_port or mgwtest.free_port()
        self.records = os.path.join(wd, "calls.jsonl" if name == "serve" else name + "-calls.jsonl")
        self.logs = os.path.join(wd, "gateways" if name == "serve" else name + "-gateways")
        self.path = os.path.join(wd, name + ".toml")
        self.seen = []  # (method, path, status) of every API call, for the OpenAPI check
        with open(self.path, "w") as f:
            f.write(f'''[serve]
sip = "udp:{address}:{self.sip_port}"
api = "{address}:{self.api_port}"
gateway_address = "{address}"
token = "${{SERVE_TOKEN}}"
records = "{self.records}"
gateway_logs = "{self.logs}"
{serve_extra}
{templates}
''')
        # SERVE_WRAP="valgrind -q" (or gdb -batch ...): serve under a checker.
        wrap = os.environ.get("SERVE_WRAP", "").split()
        self.proc = procs.start(name, list(prefix) + wrap + [mgwtest.MEDIAGW, "serve", self.path],
                                env={"SERVE_TOKEN": TOKEN})
        if not procs.wait_for_output(self.proc, r"serving: SIP", 15):
            mgwtest.fail("serve did not start")

    def output(self):
        return self.procs.output(self.proc)

    def api(self, method, path, body=None, token=TOKEN, raw=None):
        """(status, parsed JSON or text, headers)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(f"http://{self.address}:{self.api_port}{path}", data=data, method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, text, headers = r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            status, text, headers = e.code, e.read().decode(), dict(e.headers)
        self.seen.append((method, path, status))
        try:
            return status, json.loads(text), headers
        except ValueError:
            return status, text, headers

    def gateways(self):
        status, body, _ = self.api("GET", "/v1/gateways")
        if status != 200:
            mgwtest.fail(f"GET /v1/gateways answered {status}: {body}")
        return body["gateways"]

    def wait_gateways(self, pred, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            gws = self.gateways()
            if pred(gws):
                return gws
            time.sleep(0.1)
        mgwtest.fail(f"{what} (gateways: {[(g['id'], g['state']) for g in self.gateways()]})")

    def read_records(self):
        if not os.path.exists(self.records):
            return []
        with open(self.records) as f:
            return [json.loads(line) for line in f if line.strip()]

    def metrics(self):
        status, text, _ = self.api("GET", "/metrics")
        if status != 200:
            mgwtest.fail(f"/metrics answered {status}")
        return parse_metrics(text)


def check_openapi(seen):
    """Every (method, path, status) the test met is in docs/openapi.yaml."""
    try:
        import yaml
    except ImportError:
        mgwtest.log("no python3-yaml: the OpenAPI check is left out")
        return
    with open(os.path.join(mgwtest.SOURCE_ROOT, "docs", "openapi.yaml")) as f:
        spec = yaml.safe_load(f)
    calls = {(m, re.sub(r"^/v1/gateways/[^/]+", "/v1/gateways/{id}", p), s) for m, p, s in seen}
    for method, templ, status in sorted(calls):
        op = spec["paths"].get(templ, {}).get(method.lower())
        mgwtest.check(op is not None and str(status) in op["responses"],
                      f"docs/openapi.yaml documents {method} {templ} -> {status}")


def parse_metrics(text):
    """Prometheus text format -> {(name, frozenset(labels)): value}; fails on
    a line that is not the format."""
    out = {}
    rx = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            if line.startswith("#") and not re.match(r"^# (HELP|TYPE) \S+ ", line):
                mgwtest.fail(f"metrics: bad comment line {line!r}")
            continue
        m = rx.match(line)
        if not m:
            mgwtest.fail(f"metrics: not the exposition format: {line!r}")
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())), 0.0)


def start_kamailio(procs, wd, front_port, dialog=False):
    port = mgwtest.free_port()
    with open(os.path.join(HERE, "kamailio-redirect.cfg.in")) as f:
        cfg = f.read().replace("@PORT@", str(port)).replace("@FRONT@", str(front_port))
    path = os.path.join(wd, "kamailio.cfg")
    with open(path, "w") as f:
        f.write(cfg)
    run = os.path.join(wd, "kamailio-run")
    os.makedirs(run, exist_ok=True)
    p = procs.start("kamailio", ["kamailio", "-f", path, "-DD", "-E", "-n", "1", "-Y", run,
                                 "-P", os.path.join(wd, "kamailio.pid")] + (["-A", "WITH_DIALOG"] if dialog else []))
    time.sleep(0.7)
    if p.poll() is not None:
        mgwtest.fail("kamailio exited at start")
    return p, port


def options(port, timeout=3, host="127.0.0.1", local="127.0.0.1"):
    """Status code of an OPTIONS to host:port (sent from `local`), and the reply's headers text."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((local, 0))
    lport = s.getsockname()[1]
    branch = "z9hG4bK-opt-%d" % time.time_ns()
    msg = (f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP {local}:{lport};branch={branch}\r\n"
           f"From: <sip:probe@{local}>;tag=p{lport}\r\nTo: <sip:{host}:{port}>\r\n"
           f"Call-ID: opt-{branch}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    s.settimeout(timeout)
    s.sendto(msg.encode(), (host, port))
    try:
        data = s.recv(65535).decode(errors="replace")
    except socket.timeout:
        return None, ""
    finally:
        s.close()
    m = re.match(r"SIP/2\.0 (\d+)", data)
    return (int(m.group(1)) if m else None), data


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose only once reaped: check its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop_serve(procs, serve, timeout=20):
    return procs.stop(serve.proc, signal.SIGTERM, timeout)
