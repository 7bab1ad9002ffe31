#!/usr/bin/python3
"""scripts/bench fleet: how many concurrent calls this machine carries per template
through `mediagw serve` at < 0.5 % loss, INVITE -> media (warm and cold), memory per
call, beside the reference design's 2.5 cores per call (issue 12's benchmark).

Everything runs in a private network namespace (as scripts/bench janus: Janus and
libnice ignore loopback). Started once: Janus (tests/lib/janus.py, videoroom) and
Kamailio (tests/integration/serve/kamailio-redirect.cfg.in: every INVITE to serve's
SIP front, its 302 followed with uac_redirect, its 503 passed back). Per template one
`mediagw serve` (its warm pool, the template's budget from conf/serve.toml) runs
pipelines/sip-route-to-janus.toml: the dialled user is the Janus room.
  - audio:      the caller sends Opus, the room is Opus (passthrough both ways);
  - av:         Opus + VP8 640x360 30 fps (~500 kbps), passthrough;
  - transcoded: the caller sends PCMU (the gateway transcodes to and from Opus).
The calls go in pairs into one room each: each caller hears the other through
caller -> gateway -> Janus -> gateway -> caller, so one process (fleet_caller.py:
SIP UAC + RTP for every call) both loads and measures, and no WebRTC subscriber
process competes for the 2 cores. What measured what:
  - loss: sequence gaps in what each caller receives inside the window (both
    directions of every gateway, end to end through Janus); a stream that stalls
    (< 50 % of the packets sent to it) counts as a failure; the gateways' own
    RTP statistics (call records, sip-sofia rtp.stats) are shown beside;
  - media check: Opus payloads received byte-identical to the ones sent
    (passthrough), the 1000 Hz tone heard (PCMU), video frames (RTP marker bits);
    delay caller -> caller (Opus: a payload sent once per second dates itself);
  - CPU: utime+stime over the window per group (gateways in a call, Janus, serve with
    its idle pool, Kamailio, the callers), per thread for gateways and Janus;
    memory: RSS and PSS of each gateway in a call;
  - INVITE -> media: a call A waits in a room, then B calls: from B's INVITE to
    its 200, to B's first RTP from its gateway (the room's media reached the new
    caller), and to A's first RTP of B's media (the new caller reached the room and
    a participant), with a warm gateway and with none warm (the gateway starts at the call).
A template's ramp stops at the first step with loss >= 0.5 %, a refused call (503),
a failed call or a stalled stream.
"""
import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LIB = os.path.join(ROOT, "tests", "lib")
sys.path.insert(0, HERE)
sys.path.insert(1, LIB)
sys.dont_write_bytecode = True
import janus as janus_bench  # noqa: E402  (scripts/bench.d/janus.py: Janus server, per-thread CPU)
import sip  # noqa: E402
from sip import Procs, free_even_udp_ports, free_port, loadavg, log, wait_line  # noqa: E402

PY = "/usr/bin/python3"
CALLER = os.path.join(HERE, "fleet_caller.py")
PIPELINE = os.path.join(ROOT, "pipelines", "sip-route-to-janus.toml")
KAMAILIO_CFG = os.path.join(ROOT, "tests", "integration", "serve", "kamailio-redirect.cfg.in")
TOKEN = "bench-fleet-token"
LOSS_BOUND = 0.5            # %
REF_CORES_PER_CALL = 2.5    # the reference design
CALL_RATE = 10              # calls placed per second
GOALS = {"audio": 40, "av": 10}
TEMPLATES = {  # name -> (codec, video, label)
    "audio": ("opus", False, "audio passthrough (Opus)"),
    "av": ("opus", True, "audio+video passthrough (Opus + VP8 640x360)"),
    "transcoded": ("pcmu", False, "transcoded (PCMU <-> Opus)"),
}


# --- the pieces started once --------------------------------------------------------------
def start_kamailio(procs, wd, front_port):
    port = free_port()
    cfg = open(KAMAILIO_CFG).read().replace("@PORT@", str(port)).replace("@FRONT@", str(front_port))
    path = os.path.join(wd, f"kamailio-{front_port}.cfg")
    open(path, "w").write(cfg)
    run = os.path.join(wd, f"kamailio-run-{front_port}")
    os.makedirs(run, exist_ok=True)
    p = procs.start(["kamailio", "-f", path, "-DD", "-E", "-n", "1", "-Y", run, "-P", os.path.join(run, "pid")],
                    os.path.join(wd, f"kamailio-{front_port}.log"))
    time.sleep(0.7)
    if p.poll() is not None:
        raise SystemExit(f"bench: kamailio exited at start, see {p.logfile}")
    return p, port


class Serve:
    """One `mediagw serve` with one template (sip-route-to-janus), its API and records."""
    def __init__(self, procs, args, wd, name, warm, janus_url):
        # serve keeps at most what its budget admits warm
        self.wd, self.warm = wd, min(warm, int(args.host_cpu / args.cpu_per_call + 1e-9))
        self.sip_port, self.api_port = free_port(), free_port(socket.SOCK_STREAM)
        self.records = os.path.join(wd, f"{name}-calls.jsonl")
        self.logs = os.path.join(wd, f"{name}-gateways")
        path = os.path.join(wd, f"{name}-serve.toml")
        open(path, "w").write(f'''[serve]
sip = "udp:127.0.0.1:{self.sip_port}"
api = "127.0.0.1:{self.api_port}"
token = "${{SERVE_TOKEN}}"
records = "{self.records}"
gateway_logs = "{self.logs}"
cpu = {args.host_cpu}
retry_after = 5

[template.room]
pipeline = "{PIPELINE}"
match = "^[0-9]+$"
default = true
warm = {warm}
cpu = {args.cpu_per_call}
memory_mb = {args.memory_per_call}
env = {{ JANUS_URL = "{janus_url}" }}
''')
        self.proc = procs.start([args.mediagw, "serve", path], os.path.join(wd, f"{name}-serve.log"),
                                env={"SERVE_TOKEN": TOKEN})
        if not wait_line(self.proc, r"serving: SIP", 20)[0]:
            raise SystemExit(f"bench: serve did not start, see {self.proc.logfile}")
        self.kamailio, self.kport = start_kamailio(procs, wd, self.sip_port)
        self.wait_pool(120)

    def api(self, path):
        req = urllib.request.Request(f"http://127.0.0.1:{self.api_port}{path}")
        req.add_header("Authorization", f"Bearer {TOKEN}")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode())

    def gateways(self):
        return self.api("/v1/gateways")["gateways"]

    def wait_pool(self, timeout):
        """Until the warm pool is full again and no gateway of an ended call is left."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            g = self.gateways()
            if sum(x["state"] == "idle" for x in g) >= self.warm and len(g) == self.warm:
                return True
            time.sleep(0.2)
        log(f"serve: pool not back to {self.warm} idle within {timeout} s: "
            f"{[x['state'] for x in self.gateways()]}")
        return False

    def read_records(self):
        if not os.path.exists(self.records):
            return []
        return [json.loads(line) for line in open(self.records) if line.strip()]

    def stop(self, procs):
        procs.stop([self.kamailio])
        procs.stop([self.proc], timeout=30)     # SIGTERM: serve drains (no calls left) and stops its pool


# --- one phase: the callers' process ----------------------------------------------------------
def run_caller(procs, wd, tag, serve, codec, video, calls, max_s, args):
    spec = os.path.join(wd, f"{tag}-caller.json")
    json.dump(dict(proxy=["127.0.0.1", serve.kport], codec=codec, video=video, calls=calls, max_s=max_s,
                   video_kbps=args.video_kbps), open(spec, "w"))
    p = procs.start([PY, CALLER, spec], os.path.join(wd, f"{tag}-caller.log"))
    if not wait_line(p, r'"t0"', 30)[0]:
        raise SystemExit(f"bench: caller process not running, see {p.logfile}")
    return p


def caller_lines(p, key):
    return [j for j in janus_bench.webrtc.json_lines(p) if key in j]


def create_rooms(admin, n, tag):
    base = random.randrange(100000, 900000)
    rooms = [base + i for i in range(n)]
    for r in rooms:
        admin.create_room(r, publishers=4, description=f"bench fleet {tag}")
    return rooms


def destroy_rooms(admin, rooms):
    jl = janus_bench.janus_lib()
    for r in rooms:
        try:
            admin.destroy_room(r)
        except (jl.JanusError, OSError):
            pass


def step(procs, args, wd, serve, admin, janus_pid, tpl, n):
    """n calls (n/2 rooms of two) up together; the window; hang-up. Returns the step's figures."""
    codec, video, _ = TEMPLATES[tpl]
    tag = f"{tpl}-{n}"
    rooms = create_rooms(admin, n // 2, tag)
    ports = free_even_udp_ports(2 * n if video else n)
    calls = [dict(user=str(rooms[i // 2]), at=i / CALL_RATE, hangup_at=None, audio_port=ports[i],
                  video_port=ports[n + i] if video else 0) for i in range(n)]
    setup_s = n / CALL_RATE + 20
    n_records = len(serve.read_records())
    try:
        caller = run_caller(procs, wd, tag, serve, codec, video, calls,
                            setup_s + args.settle + args.warmup + args.duration + 60, args)
        deadline = time.monotonic() + setup_s
        while time.monotonic() < deadline:
            done = len(caller_lines(caller, "answered")) + len(caller_lines(caller, "refused"))
            if done >= n or caller.poll() is not None:
                break
            time.sleep(0.2)
        answered = len(caller_lines(caller, "answered"))
        # every answered call receives its partner's media (rooms joined, ICE + DTLS up), then the warm-up
        t_answered, flowing = time.monotonic(), {}
        while time.monotonic() - t_answered < args.settle and caller.poll() is None:
            flowing = (caller_lines(caller, "flowing") or [{}])[-1]
            if flowing.get("flowing", -1) >= answered and (not video or flowing.get("video_flowing", -1) >= answered):
                break
            time.sleep(0.25)
        media_s = time.monotonic() - t_answered
        time.sleep(args.warmup)
        gws = [g for g in serve.gateways() if g["state"] == "in_call"]
        gw_pids = [g["pid"] for g in gws]
        kam_pid = serve.kamailio.pid
        roots = gw_pids + [janus_pid, serve.proc.pid, kam_pid, caller.pid]
        janus_bench.BREAKDOWN.clear()
        janus_bench.BREAKDOWN.update(n=len(gw_pids), janus=[janus_pid])
        load0 = loadavg()
        janus_bench.webrtc.signal_alive([caller], signal.SIGUSR1)
        cpu, rss, pss, busy = janus_bench.measure_with_threads(roots, args.duration)
        janus_bench.webrtc.signal_alive([caller], signal.SIGUSR2)
        threads = {k: v for k, v in janus_bench.BREAKDOWN.items() if k.endswith("_threads")}
        procs.stop([caller], timeout=15)          # SIGTERM: BYE every call, then the result line
        res = (caller_lines(caller, "calls") or [{}])[-1]
    finally:
        destroy_rooms(admin, rooms)
    deadline = time.monotonic() + 20
    while len(serve.read_records()) < n_records + answered and time.monotonic() < deadline:
        time.sleep(0.2)
    records = serve.read_records()[n_records:]
    serve.wait_pool(90)
    g = len(gw_pids)
    return dict(template=tpl, n=n, answered=answered, in_call=g, load_before=load0, load_after=loadavg(),
                media_s=media_s, flowing_at_window=flowing,
                sys_busy_pct=round(busy, 1),
                cpu=dict(gateways=sum(cpu[:g]), janus=cpu[g], serve_pool=cpu[g + 1] - sum(cpu[:g]),
                         kamailio=cpu[g + 2], callers=cpu[g + 3]),
                rss_kb=rss[:g], pss_kb=pss[:g], janus_rss_kb=rss[g], threads=threads,
                calls=res.get("calls", []), records=records)


def step_figures(r, args):
    """Loss, media checks, CPU and memory of one step; 'bad' lists why it is beyond capacity."""
    calls, n, video = r["calls"], r["n"], TEMPLATES[r["template"]][1]
    codec = TEMPLATES[r["template"]][0]
    refused = [c for c in calls if c.get("code") and c["code"] >= 300]
    failed = [c for c in calls if not c.get("answer_t") and c not in refused]
    f = dict(n=n, answered=sum(1 for c in calls if c.get("answer_t")), refused=len(refused),
             refused_codes=sorted({c["code"] for c in refused}), failed=len(failed))
    for kind in ("audio", "video") if video else ("audio",):
        rxw = sum(c["rx"][kind]["rxw"] for c in calls if c.get("answer_t"))
        gaps = sum(c["rx"][kind]["gaps"] for c in calls if c.get("answer_t"))
        f[f"{kind}_loss_pct"] = 100.0 * gaps / (rxw + gaps) if rxw + gaps else float("nan")
        f[f"{kind}_worst_loss_pct"] = max((100.0 * c["rx"][kind]["gaps"] / max(1, c["rx"][kind]["rxw"] +
                                                                                c["rx"][kind]["gaps"])
                                           for c in calls if c.get("answer_t")), default=float("nan"))
        # the pair partner sent tx_window packets to this caller's room
        stalled = 0
        for c in calls:
            if not c.get("answer_t"):
                continue
            partner = calls[c["i"] ^ 1] if (c["i"] ^ 1) < len(calls) else None
            sent = partner["tx_window"][kind] if partner else 0
            if sent and c["rx"][kind]["rxw"] < 0.5 * sent:
                stalled += 1
        f[f"{kind}_stalled"] = stalled
    if video:      # frames: a gateway that re-payloads renumbers, so a dropped frame leaves no sequence gap
        got = sum(c["rx"]["video"]["frames"] for c in calls if c.get("answer_t"))
        sent = sum(calls[c["i"] ^ 1]["tx_window"].get("frames", 0) for c in calls
                   if c.get("answer_t") and (c["i"] ^ 1) < len(calls))
        streams = sum(1 for c in calls if c.get("answer_t"))
        # up to 2 frames per stream are in flight at the window's edges: not counted as lost
        f["video_frame_loss_pct"] = 100.0 * max(0, sent - got - 2 * streams) / sent if sent else float("nan")
        f["video_fps_min"] = min((c["rx"]["video"]["frames"] / args.duration for c in calls if c.get("answer_t")),
                                 default=0.0)
    if codec == "opus":
        delays = sorted(x for c in calls if c.get("answer_t") for x in c["rx"]["audio"].get("delay_ms", []))
        if delays:
            f.update(delay_ms_median=statistics.median(delays), delay_ms_p95=delays[int(0.95 * (len(delays) - 1))],
                     delay_ms_max=delays[-1])
        got = sum(c["rx"]["audio"]["rxw"] for c in calls if c.get("answer_t"))
        f["opus_intact_pct"] = 100.0 * sum(c["rx"]["audio"]["intact"] for c in calls if c.get("answer_t")) / got \
            if got else 0.0
    else:
        f["tone_ok"] = sum(1 for c in calls if c.get("heard_hz") and abs(c["heard_hz"] - 1000) < 50)
    g = max(1, r["in_call"])
    cpu = r["cpu"]
    f.update(gw_cpu_per_call=cpu["gateways"] / g, janus_cpu_per_call=cpu["janus"] / g,
             cores_per_call=(cpu["gateways"] + cpu["janus"] + cpu["serve_pool"] + cpu["kamailio"]) / 100 / g,
             rss_mb=statistics.median(r["rss_kb"]) / 1024 if r["rss_kb"] else float("nan"),
             pss_mb=statistics.median(r["pss_kb"]) / 1024 if r["pss_kb"] else float("nan"),
             janus_rss_mb=r["janus_rss_kb"] / 1024, sys_busy=r["sys_busy_pct"], in_call=r["in_call"],
             **{f"cpu_{k}": v for k, v in cpu.items()})
    # the gateways' own view: RTP statistics of the SIP leg in the call records
    lost = got = 0
    for rec in r["records"]:
        st = (rec.get("rtp") or {}).get("sip") or {}
        got += st.get("audio_packets_received", 0)
        lost += max(0, st.get("audio_packets_lost", 0))
    f["records"] = len(r["records"])
    f["gw_sip_rx_loss_pct"] = 100.0 * lost / (got + lost) if got + lost else float("nan")
    bad = []
    if f["refused"]:      # 503: serve's admission; 408: no response to the INVITE (the caller's timer)
        bad.append(f"{f['refused']} calls ended with SIP {'/'.join(map(str, f['refused_codes']))}"
                   + (" (503: over serve's budget)" if 503 in f["refused_codes"] else ""))
    if f["failed"]:
        bad.append(f"{f['failed']} calls failed (no answer)")
    for kind in ("audio", "video") if video else ("audio",):
        if f[f"{kind}_stalled"]:
            bad.append(f"{f[f'{kind}_stalled']} {kind} streams stalled")
        if not f[f"{kind}_loss_pct"] < LOSS_BOUND:
            bad.append(f"{kind} loss {f[f'{kind}_loss_pct']:.2f} %")
    if codec == "opus" and f["opus_intact_pct"] < 95:
        bad.append(f"only {f['opus_intact_pct']:.0f} % of the Opus payloads came through intact")
    if codec == "pcmu" and f["tone_ok"] < f["answered"]:
        bad.append(f"tone heard by {f['tone_ok']}/{f['answered']} callers")
    if video and not f["video_frame_loss_pct"] < LOSS_BOUND:
        bad.append(f"video frames lost {f['video_frame_loss_pct']:.2f} % (worst caller {f['video_fps_min']:.1f} fps)")
    # the rest of the machine's busy time: other work on this shared host (and the kernel's softirqs)
    f["cpu_others"] = max(0.0, r["sys_busy_pct"] * (os.cpu_count() or 1) - sum(cpu.values()))
    f["media_s"] = r.get("media_s", float("nan"))
    fl = r.get("flowing_at_window") or {}
    f["no_media"] = max(0, f["answered"] - fl.get("flowing", f["answered"]))
    if f["no_media"]:
        bad.insert(0, f"{f['no_media']} calls without media {args.settle:g} s after the last answer")
    f["bad"] = bad
    return f


def ramp(procs, args, wd, server, admin, tpl):
    serve = Serve(procs, args, wd, tpl, max(args.steps[tpl]), server.url)
    out = []
    try:
        for n in args.steps[tpl]:
            log(f"{tpl}: {n} calls (load {loadavg()})")
            if server.proc.poll() is not None:
                raise SystemExit(f"bench: janus exited ({server.proc.returncode})")
            r = step(procs, args, wd, serve, admin, server.proc.pid, tpl, n)
            f = step_figures(r, args)
            out.append(dict(raw=r, fig=f))
            log(f"  {f['answered']}/{n} answered, loss audio {f['audio_loss_pct']:.3f} %"
                + (f", video {f['video_loss_pct']:.3f} % ({f['video_fps_min']:.1f} fps worst)" if "video_loss_pct" in f
                   else "")
                + f", gateways {f['cpu_gateways']:.0f} %, janus {f['cpu_janus']:.0f} %, callers "
                f"{f['cpu_callers']:.0f} %, busy {f['sys_busy']:.0f} %"
                + (f"; STOP: {'; '.join(f['bad'])}" if f["bad"] else ""))
            if f["bad"]:
                break
    finally:
        serve.stop(procs)
    return out


# --- INVITE -> media ---------------------------------------------------------------------------
def latency(procs, args, wd, server, admin, warm):
    """args.latency_calls pairs, one after another: A waits in the room, then B calls."""
    tag = f"latency-{'warm' if warm else 'cold'}"
    serve = Serve(procs, args, wd, tag, 2 if warm else 0, server.url)
    k = args.latency_calls
    rooms = create_rooms(admin, k, tag)
    ports = free_even_udp_ports(2 * k)
    gap, period = 3.0, 8.0
    calls = []
    for j in range(k):
        for m in range(2):
            calls.append(dict(user=str(rooms[j]), at=j * period + m * gap, hangup_at=j * period + gap + 3.5,
                              audio_port=ports[2 * j + m], video_port=0))
    try:
        caller = run_caller(procs, wd, tag, serve, "opus", False, calls, k * period + 20, args)
        wait_line(caller, r'"calls"', k * period + 25)
        res = (caller_lines(caller, "calls") or [{}])[-1].get("calls", [])
        procs.stop([caller])
    finally:
        destroy_rooms(admin, rooms)
        serve.stop(procs)
    out = dict(answer_ms=[], to_new_caller_ms=[], to_room_ms=[], failed=0, early_rx=0)
    for j in range(k):
        if 2 * j + 1 >= len(res):
            out["failed"] += 1
            continue
        a, b = res[2 * j], res[2 * j + 1]
        if not (a.get("answer_t") and b.get("answer_t") and b["rx"]["audio"]["first"] and a["rx"]["audio"]["first"]):
            out["failed"] += 1
            continue
        if a["rx"]["audio"]["first"] < b["invite_t"]:
            out["early_rx"] += 1     # A got RTP while alone in the room: not the room's media
        out["answer_ms"].append((b["answer_t"] - b["invite_t"]) * 1000)
        out["to_new_caller_ms"].append((b["rx"]["audio"]["first"] - b["invite_t"]) * 1000)
        out["to_room_ms"].append((a["rx"]["audio"]["first"] - b["invite_t"]) * 1000)
    out["milestones"] = gateway_milestones(serve, [2 * j + 1 for j in range(k)])
    log(f"{tag}: {json.dumps({k2: [round(x) for x in v] if isinstance(v, list) else v for k2, v in out.items() if k2 != 'milestones'})}")
    return out


MILESTONES = [  # key, gateway log line (pipelines/sip-route-to-janus.toml's nodes)
    ("answered", r"answering on route/route.found"),
    ("joined", r"janus: joined room"),
    ("publisher connected", r"session 1 \(participant .*\) connected"),
    ("feed up", r"janus: our feed is up"),
    ("subscribing", r"janus: subscribing to feed"),
    ("subscriber connected", r"session 2 \(participant .*\) connected"),
    ("receiving", r"session 2: receiving audio"),
]


def gateway_milestones(serve, indexes):
    """ms from the INVITE's arrival at the gateway to each milestone in its log, for the calls
    of these caller indexes (matched through the records' Call-ID): where the set-up time goes."""
    out = {k: [] for k, _ in MILESTONES}
    for rec in serve.read_records():
        m = re.match(r"fleet-\d+-(\d+)-", rec.get("values", {}).get("sip.call_id", ""))
        path = os.path.join(serve.logs, f"{rec.get('gateway')}.log")
        if not m or int(m.group(1)) not in indexes or not os.path.exists(path):
            continue
        t0, seen = None, {}
        for line in open(path, errors="replace"):
            tm = re.match(r"(\d\d):(\d\d):(\d\d\.\d+) ", line)
            if not tm:
                continue
            t = int(tm.group(1)) * 3600 + int(tm.group(2)) * 60 + float(tm.group(3))
            if t0 is None and "INVITE from" in line:
                t0 = t
            for key, rx in MILESTONES:
                if t0 is not None and key not in seen and re.search(rx, line):
                    seen[key] = (t - t0) * 1000
        for key, v in seen.items():
            out[key].append(v)
    return out


# --- the report ---------------------------------------------------------------------------------
def mmm(v):
    return f"{min(v):.0f} / {statistics.median(v):.0f} / {max(v):.0f}" if v else "-"


def capacity(steps):
    """The largest step without a reason to stop, and the first step that had one."""
    good = [s["fig"] for s in steps if not s["fig"]["bad"]]
    bad = next((s["fig"] for s in steps if s["fig"]["bad"]), None)
    return (good[-1] if good else None), bad


def report(args, ramps, lat, loads):
    print(f"\nscripts/bench fleet: {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M %Z')}, "
          f"window {args.duration:g} s after {args.warmup:g} s warm-up; load average at the start "
          f"{loads[0]}, at the end {loads[1]} (a shared machine: other work ran beside)")
    print("path: caller -> Kamailio -> serve's SIP front (302) -> a warm gateway (pipelines/sip-route-to-janus.toml)"
          " -> Janus videoroom;\ncalls in pairs (one room per two calls), each caller receives the other's media. "
          f"serve budget: {args.cpu_per_call} cores and {args.memory_per_call} MB per call, host {args.host_cpu} cores.")
    print("measured by: loss = sequence gaps at the receiving caller (end to end through both gateways and Janus; "
          "a/v/vf: audio, video packets, video frames vs the frames sent); "
          "CPU = /proc utime+stime per process group;\nmemory = RSS/PSS of each gateway in a call; media = Opus "
          "payloads byte-identical end to end, the PCMU tone at 1000 Hz, VP8 frames (marker bits);\n"
          "delay = caller -> gateway -> Janus -> gateway -> caller, Opus (median/p95), dated by payload;\n"
          "others % = the machine's busy time (/proc/stat, tick-sampled: approximate) minus all of the above "
          "(other work on this shared host);\n"
          "media s = from the step's last answer until every call received media (the window waits for it).")
    hdr = (f"{'template':12} {'calls':>5} {'up':>4} {'loss a/v/vf %':>15} {'fps':>5} {'gw %/call':>9} "
           f"{'janus %/call':>12} {'serve+pool %':>12} {'kam %':>6} {'callers %':>9} {'others %':>8} "
           f"{'RSS/PSS MB':>11} {'delay ms':>10} {'media s':>7}  verdict")
    print("\nper step (CPU in % of one core; 'gw' = gateways in a call):")
    print(hdr)
    summary = dict(bench="fleet", cores=os.cpu_count(), window_s=args.duration, load_start=loads[0],
                   load_end=loads[1], reference_cores_per_call=REF_CORES_PER_CALL,
                   reference_calls_per_2_cores=2 / REF_CORES_PER_CALL)
    for tpl, steps in ramps.items():
        for s in steps:
            f = s["fig"]
            loss = f"{f['audio_loss_pct']:.2f}" + (f"/{f['video_loss_pct']:.2f}/{f['video_frame_loss_pct']:.2f}"
                                                    if "video_loss_pct" in f else "")
            fps = f"{f['video_fps_min']:.0f}" if "video_fps_min" in f else "-"
            print(f"{tpl:12} {f['n']:>5} {f['answered']:>4} {loss:>15} {fps:>5} {f['gw_cpu_per_call']:>9.2f} "
                  f"{f['janus_cpu_per_call']:>12.2f} {f['cpu_serve_pool']:>12.1f} {f['cpu_kamailio']:>6.1f} "
                  f"{f['cpu_callers']:>9.1f} {f['cpu_others']:>8.0f} {f['rss_mb']:>5.1f}/{f['pss_mb']:<5.1f} "
                  + (f"{f['delay_ms_median']:>4.0f}/{f['delay_ms_p95']:<5.0f}" if "delay_ms_median" in f else f"{'-':>10}")
                  + f" {f['media_s']:>7.1f}  "
                  + ("ok" if not f["bad"] else "; ".join(f["bad"])))
    print(f"\ncapacity at < {LOSS_BOUND} % loss (reference: {REF_CORES_PER_CALL} cores per call = "
          f"{2 / REF_CORES_PER_CALL:.1f} calls per 2 cores):")
    print("cores/call = (gateways + Janus + serve with its idle pool + Kamailio) / calls, the callers left out; "
          "'vs ref' = calls / 0.8")
    print(f"{'template':48} {'calls':>5} {'cores/call':>10} {'vs ref':>7} {'goal':>5}  why the ramp stopped")
    for tpl, steps in ramps.items():
        best, stop = capacity(steps)
        label = TEMPLATES[tpl][2]
        n = best["n"] if best else 0
        cpc = best["cores_per_call"] if best else float("nan")
        goal = GOALS.get(tpl)
        why = "; ".join(stop["bad"]) + f" at {stop['n']}" if stop else f"not reached (largest step {steps[-1]['fig']['n']})"
        gap = "" if goal is None else (f" (goal {goal}: met)" if n >= goal else
                                       f" (goal {goal}: {goal - n} short)" if stop else
                                       f" (goal {goal}: steps did not go that far)")
        print(f"{label:48} {n:>5} {cpc:>10.3f} {n / (2 / REF_CORES_PER_CALL):>6.0f}x {goal or '-':>5}  {why}{gap}")
        summary[f"{tpl}_calls"] = n
        summary[f"{tpl}_cores_per_call"] = round(cpc, 4) if cpc == cpc else None
        summary[f"{tpl}_stopped_by"] = why
        if best:
            for key in ("gw_cpu_per_call", "janus_cpu_per_call", "rss_mb", "pss_mb", "audio_loss_pct",
                        "video_loss_pct", "video_frame_loss_pct", "video_fps_min", "sys_busy", "cpu_others", "media_s", "delay_ms_median", "delay_ms_p95"):
                if key in best:
                    summary[f"{tpl}_{key}"] = round(best[key], 3)
        if goal is not None:
            summary[f"{tpl}_goal"] = goal
    if lat:
        print("\nINVITE -> media, ms (min / median / max; Opus audio template; B calls a room where A waits):")
        print(f"{'':8} {'calls':>5} {'INVITE->200':>16} {'->B hears room':>16} {'->A hears B':>16}")
        for kind, v in lat.items():
            print(f"{kind:8} {len(v['answer_ms']):>5} {mmm(v['answer_ms']):>16} {mmm(v['to_new_caller_ms']):>16} "
                  f"{mmm(v['to_room_ms']):>16}" + (f"  ({v['failed']} failed)" if v["failed"] else ""))
            for key in ("answer_ms", "to_new_caller_ms", "to_room_ms"):
                if v[key]:
                    summary[f"latency_{kind}_{key}_median"] = round(statistics.median(v[key]), 1)
                    summary[f"latency_{kind}_{key}_max"] = round(max(v[key]), 1)
        for kind, v in lat.items():
            ms = v.get("milestones", {})
            print(f"  {kind} B's gateway, ms after the INVITE reached it (median): "
                  + ", ".join(f"{k} {statistics.median(ms[k]):.0f}" for k, _ in MILESTONES if ms.get(k)))
        print("  ->B hears room: B's first RTP from its gateway (B's gateway joined, subscribed to A, media through);"
              "\n  ->A hears B: A's first RTP of B's media (B's gateway published, A's gateway subscribed to it). "
              "Goal: < 150 ms warm.")
    print("\nwhere the CPU goes at each template's largest good step (per-thread utime+stime, % of one core per call, "
          "top 8):")
    for tpl, steps in ramps.items():
        best, stop = capacity(steps)
        s = next((x for x in steps if x["fig"] is (best or stop)), None)
        if not s:
            continue
        g = max(1, s["raw"]["in_call"])
        for who in ("gateway", "janus"):
            per = s["raw"]["threads"].get(f"{who}_threads", {})
            top = sorted(((v / g, k) for k, v in per.items()), reverse=True)[:8]
            print(f"  {tpl:11} {s['fig']['n']:>3} calls {who:7}: " + ", ".join(f"{k} {v:.2f}" for v, k in top))
    sys.stdout.flush()
    print("\nBENCH_FLEET " + json.dumps(summary, separators=(",", ":")))


def main():
    ap = argparse.ArgumentParser(prog="scripts/bench fleet", description=__doc__.split("\n\n")[0])
    ap.add_argument("--templates", default="audio,av,transcoded", help="comma-separated: audio,av,transcoded")
    ap.add_argument("--audio-steps", default="10,20,30,40,50,60", help="concurrent calls per step (even numbers; past serve's budget, 0.04 x 50 = 2 cores, the "
                    "host answers 503: --cpu-per-call lower to measure beyond)")
    ap.add_argument("--av-steps", default="4,6,8,10,12,16,20")
    ap.add_argument("--transcoded-steps", default="10,20,30,40,50,60")
    ap.add_argument("-d", "--duration", type=float, help="measurement window per step, s (default 15)")
    ap.add_argument("--warmup", type=float, help="media before the window opens, s (default 3)")
    ap.add_argument("--settle", type=float, default=30,
                    help="bound on the wait from the last answer until every call receives media, s (default 30)")
    ap.add_argument("--latency-calls", type=int, help="INVITE -> media: calls each warm and cold (default 6)")
    ap.add_argument("--no-latency", action="store_true", help="skip the INVITE -> media phases")
    ap.add_argument("--cpu-per-call", type=float, default=0.04,
                    help="serve's template budget, cores (default 0.04, conf/serve.toml's janus template)")
    ap.add_argument("--memory-per-call", type=int, default=38, help="MB (default 38, conf/serve.toml)")
    ap.add_argument("--host-cpu", type=float, default=float(os.cpu_count()), help="serve's host budget, cores")
    ap.add_argument("--video-kbps", type=int, default=500)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run (~2 min): one small step per template, 5 s window, 2 latency calls each")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, records, configs)")
    ap.add_argument("--mediagw", required=True, help=argparse.SUPPRESS)
    args = ap.parse_args()
    q = args.quick
    args.duration = args.duration or (5 if q else 15)
    args.warmup = args.warmup if args.warmup is not None else (1 if q else 3)
    args.latency_calls = args.latency_calls or (2 if q else 6)
    if q:
        args.audio_steps, args.av_steps, args.transcoded_steps = "4", "2", "4"
    args.steps = {}
    for tpl in args.templates.split(","):
        if tpl not in TEMPLATES:
            ap.error(f"--templates: unknown template {tpl!r}; known: {', '.join(TEMPLATES)}")
        try:
            steps = [int(x) for x in getattr(args, f"{tpl}_steps").split(",")]
        except ValueError:
            ap.error(f"--{tpl}-steps: not a list of numbers: {getattr(args, f'{tpl}_steps')!r}")
        if any(x < 2 or x % 2 for x in steps):
            ap.error(f"--{tpl}-steps: calls go in pairs (one room per two): even numbers >= 2, not {steps}")
        args.steps[tpl] = steps
    for tool in ("janus", "kamailio", "unshare", "ip"):
        if not shutil.which(tool):
            raise SystemExit(f"bench: {tool} not found (scripts/setup installs it)")

    janus_bench.lib_module("browser").enter_private_netns()          # re-execs this script (same pid) in a new namespace
    import mgwtest
    jl = janus_bench.janus_lib()
    wd = tempfile.mkdtemp(prefix="mgw-bench-fleet-")
    procs = Procs()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ramps, lat = {}, {}
    loads = [loadavg(), None]
    with contextlib.redirect_stdout(sys.stderr), mgwtest.Procs(wd) as jprocs:   # mgwtest logs to stdout
        try:
            server = jl.Server(jprocs, wd, session_timeout=60).start()
            admin = jl.Session(server.url)
            if not args.no_latency:
                for warm in (True, False):
                    lat["warm" if warm else "cold"] = latency(procs, args, wd, server, admin, warm)
            for tpl in args.steps:
                ramps[tpl] = ramp(procs, args, wd, server, admin, tpl)
            loads[1] = loadavg()
            with open(os.path.join(wd, "results.json"), "w") as f:
                json.dump(dict(ramps=ramps, latency=lat), f, indent=1, default=str)
            admin.destroy()
        finally:
            procs.stop_all()
            jprocs.procs and janus_bench.server_stop(jprocs)
    report(args, ramps, lat, loads)
    if args.keep:
        log(f"work directory kept: {wd}")
    else:
        shutil.rmtree(wd, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
