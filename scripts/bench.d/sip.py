#!/usr/bin/env python3
"""scripts/bench sip: N sip-echo gateways (one process and SIP port each) against
one baresip echo service (module echo.so), the same N concurrent G.711 calls each;
with --dense also the N gateways in one process (`mediagw run FILE FILE ...`),
baresip's process model.

Per run and per peer: start the peer(s) and time exec -> ready line; place N
calls with one sipp (SIP only, injection file of ports, uac_media.xml) whose SDP
points the media at rtpgen's sockets; rtpgen sends 20 ms PCMU on every call and
counts what comes back (sequence gaps = loss); after a warm-up, CPU
(utime+stime of the process trees, /proc/PID/stat), their threads' context
switches (/proc/PID/task/*/status: a thread hand-off or a socket wake-up each;
steadier than CPU on a shared VM) and RSS/PSS (sampled each second) over the
window; BYE; stop the peer(s). Stdlib only; called by
scripts/bench, which builds first and compiles rtpgen.
"""
import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HZ = os.sysconf("SC_CLK_TCK")
CALL_RATE = 20          # calls per second placed by sipp
BARESIP_CONF = """poll_method epoll
sip_listen 127.0.0.1:{port}
call_local_timeout 120
call_max_calls 200
audio_player aubridge,nil
audio_source aubridge,nil
audio_alert nil,nil
audio_level no
ausrc_srate 8000
auplay_srate 8000
ausrc_channels 1
auplay_channels 1
rtp_tos 0
rtp_ports 10000-20000
rtp_bandwidth 512-1024
rtcp_mux no
jitter_buffer_delay 5-10
rtp_stats no
net_interface 127.0.0.1
module_path /usr/lib/baresip/modules
module g711.so
module aubridge.so
module_app account.so
module_app echo.so
"""  # shared/bench/baresip-echo/config with a free port (account user "echo", as the calls)


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# --- processes ---------------------------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: a crashed bench leaves nothing behind


def _child_setup(clock_fd):
    """Runs in the child just before exec: dies with the bench, and says when
    it execs (start-up is timed from there: forking this Python process,
    ~10 ms here, is the bench's cost, not the peer's)."""
    _die_with_parent()
    os.write(clock_fd, struct.pack("d", time.monotonic()))


class Procs:
    """Every process the bench starts, stopped by pid (SIGTERM, then SIGKILL)."""
    def __init__(self):
        self.all = []

    def start(self, argv, logfile, env=None, cwd=None):
        """The process, with .logfile and .exec_t (monotonic time of its exec)."""
        out = open(logfile, "wb")
        r, w = os.pipe()
        try:
            p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=dict(os.environ, **(env or {})), cwd=cwd, preexec_fn=lambda: _child_setup(w))
            os.close(w)
            w = -1
            data = os.read(r, 8)
        finally:
            for fd in (r, w):
                if fd >= 0:
                    os.close(fd)
            out.close()
        p.exec_t = struct.unpack("d", data)[0] if len(data) == 8 else time.monotonic()
        p.logfile = logfile
        self.all.append(p)
        return p

    def stop(self, procs, timeout=5):
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_all(self):
        self.stop([p for p in self.all if p.poll() is None])


def wait_line(p, pattern, timeout):
    """Polls p's log for pattern (1 ms steps); returns (match, monotonic time seen) or (None, None)."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    with open(p.logfile, "rb") as f:
        buf = b""
        while time.monotonic() < deadline:
            chunk = f.read()
            now = time.monotonic()
            if chunk:
                buf += chunk
                m = rx.search(buf.decode(errors="replace"))
                if m:
                    return m, now
            elif p.poll() is not None:
                return None, None
            time.sleep(0.001)
    return None, None


# --- /proc -------------------------------------------------------------------
def proc_table():
    t = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    r = f.read().rsplit(")", 1)[1].split()
                t[int(d)] = (int(r[1]), int(r[11]) + int(r[12]))  # ppid, utime+stime
            except (OSError, IndexError):
                pass
    return t


def tree(table, root):
    kids = {}
    for pid, (ppid, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = set(), [root] if root in table else []
    while todo:
        pid = todo.pop()
        out.add(pid)
        todo += kids.get(pid, [])
    return out


def mem_kb(pids):
    """(VmRSS, Pss) summed over pids, in kB."""
    rss = pss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                rss += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
            with open(f"/proc/{pid}/smaps_rollup") as f:
                pss += next(int(l.split()[1]) for l in f if l.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
    return rss, pss


def sys_busy():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(f) - f[3] - f[4], sum(f)


def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def measure(roots, window):
    """CPU of each root's tree over window (ticks -> % of one core), max RSS/PSS per root."""
    t0_table, t0, b0 = proc_table(), time.monotonic(), sys_busy()
    trees = [tree(t0_table, r) for r in roots]
    ticks0 = [{pid: t0_table[pid][1] for pid in tr} for tr in trees]
    rss = [0] * len(roots)
    pss = [0] * len(roots)
    while time.monotonic() - t0 < window:
        time.sleep(min(1.0, max(0.01, window - (time.monotonic() - t0))))
        table = proc_table()
        for i, r in enumerate(roots):
            cur = tree(table, r)
            trees[i] |= cur
            a, b = mem_kb(cur)
            rss[i], pss[i] = max(rss[i], a), max(pss[i], b)
    t1_table, el, b1 = proc_table(), time.monotonic() - t0, sys_busy()
    cpu = []
    for tr, t0s in zip(trees, ticks0):
        ticks = sum(t1_table.get(pid, (0, t0s.get(pid, 0)))[1] - t0s.get(pid, 0) for pid in tr)
        cpu.append(100.0 * ticks / HZ / el)
    busy = 100.0 * (b1[0] - b0[0]) / max(1, b1[1] - b0[1])
    return cpu, rss, pss, busy


# --- per-thread CPU (where a gateway's CPU goes) ---------------------------------
def task_files(pids, name):
    """(pid, tid, text of /proc/PID/task/TID/<name>) for each live thread of pids."""
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/{name}") as f:
                    yield pid, tid, f.read()
            except OSError:
                continue


def thread_ticks(pids):
    """{(pid, tid, thread name with digits as '#'): utime+stime ticks} of pids' threads."""
    out = {}
    for pid, tid, s in task_files(pids, "stat"):
        name = re.sub(r"\d+", "#", s[s.index("(") + 1:s.rindex(")")])
        r = s.rsplit(")", 1)[1].split()
        out[(pid, tid, name)] = int(r[11]) + int(r[12])
    return out


def context_switches(pids):
    """Voluntary + involuntary context switches of pids' threads so far: a
    thread hand-off or a socket wake-up is one, so their rate shows how a
    packet's path is cut into threads, whatever else loads the machine."""
    return sum(int(line.split()[1]) for _, _, s in task_files(pids, "status") for line in s.splitlines()
               if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")))


class ThreadWindow:
    """Per-thread CPU of some processes over a window: start() before it,
    stop() after -> {thread name: % of one core, summed over the processes};
    switches_per_s: their context switches per second over the window."""

    def __init__(self, pids):
        self.pids = list(pids)
        self.switches_per_s = float("nan")

    def start(self):
        self.t0, self.before = time.monotonic(), thread_ticks(self.pids)
        self.switches0 = context_switches(self.pids)

    def stop(self):
        el, after, agg = time.monotonic() - self.t0, thread_ticks(self.pids), {}
        self.switches_per_s = (context_switches(self.pids) - self.switches0) / el
        for key, t in after.items():
            agg[key[2]] = agg.get(key[2], 0) + t - self.before.get(key, 0)
        return {name: 100.0 * t / HZ / el for name, t in agg.items()}


def print_threads(label, runs_threads, calls, top=8):
    """One line: the top threads by median (over runs) % of one core per call."""
    per = {}
    for threads in runs_threads:
        for name, v in (threads or {}).items():
            per.setdefault(name, []).append(v / max(1, calls))
    if per:
        best = [(v, k) for v, k in sorted(((statistics.median(v), k) for k, v in per.items()), reverse=True)[:top]
                if v >= 0.005]
        print(f"  {label}: " + ", ".join(f"{k} {v:.2f}" for v, k in best))


# --- ports -------------------------------------------------------------------
def free_even_udp_ports(n, start=21000, stop=32000):
    """n even UDP ports free on 127.0.0.1 (port+1 left for RTCP), below the
    ephemeral range the gateways draw from and above baresip's 10000-20000."""
    out = []
    for port in range(start, stop, 2):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", port))
            out.append(port)
        except OSError:
            continue
        if len(out) == n:
            return out
    raise SystemExit(f"bench: fewer than {n} free UDP ports in {start}-{stop}")


def free_port(kind=socket.SOCK_DGRAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- peers -------------------------------------------------------------------
def start_mediagw(procs, args, n, wd):
    """n gateways, one after another (each timed alone): [(proc, sip port, start-up ms)]."""
    pipeline = os.path.join(ROOT, "pipelines", "sip-echo.toml")
    out = []
    for i in range(n):
        p = procs.start([args.mediagw, "run", pipeline], os.path.join(wd, f"gw{i}.log"),
                        env={"SIP_LISTEN": "udp:127.0.0.1:0"})
        m, t1 = wait_line(p, r"listening on sip:[\d.]+:(\d+)", 20)
        if not m:
            raise SystemExit(f"bench: gateway {i} not ready (exit {p.poll()}), see {p.logfile}")
        out.append((p, int(m.group(1)), (t1 - p.exec_t) * 1000))
    return out


def start_dense(procs, args, n, wd):
    """n gateways in one process: (proc, [sip ports in gateway order], exec -> all ready, ms)."""
    pipeline = os.path.join(ROOT, "pipelines", "sip-echo.toml")
    p = procs.start([args.mediagw, "run"] + [pipeline] * n, os.path.join(wd, "dense.log"),
                    env={"SIP_LISTEN": "udp:127.0.0.1:0"})
    m, t1 = wait_line(p, r"(?s)(?:.*?\[sip-echo#\d+ sip-sofia/sip\] listening on sip:[\d.]+:\d+){%d}" % n, 30)
    if not m:
        raise SystemExit(f"bench: dense gateways not ready (exit {p.poll()}), see {p.logfile}")
    ports = dict((int(i), int(port)) for i, port in
                 re.findall(r"\[sip-echo#(\d+) sip-sofia/sip\] listening on sip:[\d.]+:(\d+)", m.group(0)))
    return p, [ports[i + 1] for i in range(n)], (t1 - p.exec_t) * 1000


def start_baresip(procs, wd):
    conf = os.path.join(wd, "baresip")
    os.makedirs(conf, exist_ok=True)
    port = free_port()
    with open(os.path.join(conf, "config"), "w") as f:
        f.write(BARESIP_CONF.format(port=port))
    with open(os.path.join(conf, "accounts"), "w") as f:
        f.write(f"<sip:echo@127.0.0.1:{port}>;regint=0;audio_codecs=PCMU,PCMA\n")
    p = procs.start(["baresip", "-f", conf], os.path.join(wd, "baresip.log"))
    m, t1 = wait_line(p, r"baresip is ready", 20)
    if not m:
        raise SystemExit(f"bench: baresip not ready (exit {p.poll()}), see {p.logfile}")
    return p, port, (t1 - p.exec_t) * 1000


# --- one phase: calls + media + measurement -----------------------------------
def run_calls(procs, args, sip_ports, roots, wd, tag):
    n = len(sip_ports)
    rtp = free_even_udp_ports(n)
    inf = os.path.join(wd, f"{tag}-calls.csv")
    with open(inf, "w") as f:
        f.write("SEQUENTIAL\n" + "".join(f"{sp};{rp};{i}\n" for i, (sp, rp) in enumerate(zip(sip_ports, rtp))))
    setup_s = n / CALL_RATE + 10          # budget for all answers
    # every call lasts past rtpgen's end, even the first one answered (rtpgen starts after the last)
    hold_ms = int((n / CALL_RATE + 3 + args.warmup + args.duration + 1.5) * 1000)
    sipp_log = os.path.join(wd, f"{tag}-sipp-answers.log")
    sipp = procs.start(["sipp", f"127.0.0.1:{sip_ports[0]}", "-sf", os.path.join(HERE, "uac_media.xml"),
                        "-inf", inf, "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()),
                        "-m", str(n), "-l", str(n), "-r", str(CALL_RATE), "-d", str(hold_ms),
                        "-nostdin", "-recv_timeout", "10000", "-timeout", str(int(hold_ms / 1000 + setup_s + 10)),
                        "-trace_logs", "-log_file", sipp_log, "-trace_err", "-trace_stat"],
                       os.path.join(wd, f"{tag}-sipp.out"), cwd=wd)
    answers = {}
    deadline = time.monotonic() + setup_s
    while time.monotonic() < deadline and len(answers) < n and sipp.poll() is None:
        time.sleep(0.2)
        if os.path.exists(sipp_log):
            answers = dict(tuple(map(int, l.split())) for l in open(sipp_log) if re.match(r"\d+ \d+$", l.strip()))
    if len(answers) < n:
        log(f"{tag}: only {len(answers)}/{n} calls answered in {setup_s:.0f} s")
    gen_file = os.path.join(wd, f"{tag}-rtpgen.txt")
    with open(gen_file, "w") as f:
        f.write("".join(f"{rtp[i]} {answers.get(i, 0)}\n" for i in range(n)))
    load0 = loadavg()
    gen = procs.start([args.rtpgen, gen_file, str(args.warmup + args.duration + 0.5), str(args.warmup),
                       str(args.warmup + args.duration)], os.path.join(wd, f"{tag}-rtpgen.out"))
    time.sleep(args.warmup)
    threads = ThreadWindow(roots)
    threads.start()
    cpu, rss, pss, busy = measure(roots, args.duration)
    thread_cpu = threads.stop()
    gen.wait(30)
    load1 = loadavg()
    media = json.loads(open(gen.logfile).read().strip().splitlines()[-1])
    try:
        sipp_rc = sipp.wait(setup_s + 20)
    except subprocess.TimeoutExpired:
        sipp_rc = None
    return dict(calls=n, answered=len(answers), sipp_rc=sipp_rc, cpu_pct=cpu, rss_kb=rss, pss_kb=pss,
                sys_busy_pct=round(busy, 1), load_before=load0, load_after=load1, media=media, threads=thread_cpu,
                switches_per_s=threads.switches_per_s)


def phase_mediagw(procs, args, wd):
    gws = start_mediagw(procs, args, args.n, wd)
    try:
        r = run_calls(procs, args, [g[1] for g in gws], [g[0].pid for g in gws], wd, "mediagw")
    finally:
        procs.stop([g[0] for g in gws])
    r["startup_ms"] = [g[2] for g in gws]
    return r


def phase_dense(procs, args, wd):
    p, ports, startup = start_dense(procs, args, args.n, wd)
    try:
        r = run_calls(procs, args, ports, [p.pid], wd, "dense")
    finally:
        procs.stop([p])
    r["startup_ms"] = [startup]
    return r


def phase_baresip(procs, args, wd):
    p, port, startup = start_baresip(procs, wd)
    try:
        r = run_calls(procs, args, [port] * args.n, [p.pid], wd, "baresip")
    finally:
        procs.stop([p])
    r["startup_ms"] = [startup]
    return r


def digest(r):
    """One run of one peer -> the figures of the table."""
    n, m = r["calls"], r["media"]
    procs_count = len(r["rss_kb"])
    return dict(
        cpu_per_call=sum(r["cpu_pct"]) / n,
        switches_per_call_s=r.get("switches_per_s", float("nan")) / n,
        rss_mb=statistics.median(r["rss_kb"]) / 1024,          # per process (per gateway)
        rss_max_mb=max(r["rss_kb"]) / 1024,
        pss_mb=statistics.median(r["pss_kb"]) / 1024,
        mem_per_call_mb=sum(r["rss_kb"]) / 1024 / n,
        pss_per_call_mb=sum(r["pss_kb"]) / 1024 / n,
        loss_pct=m["loss_pct_window"],
        rx_over_tx=m["rx_window"] / max(1, m["tx_window"]),
        silent=m["silent_streams"],
        answered=r["answered"],
        startup_ms=statistics.median(r["startup_ms"]),
        startup_max_ms=max(r["startup_ms"]),
        procs=procs_count)


# --- output ------------------------------------------------------------------
ROWS = [  # key, label, format
    ("cpu_per_call", "CPU per call (% of one core)", "{:.2f}"),
    ("switches_per_call_s", "context switches/s per call", "{:.0f}"),
    ("rss_mb", "RSS per process, median (MB)", "{:.1f}"),
    ("rss_max_mb", "RSS per process, max (MB)", "{:.1f}"),
    ("pss_mb", "PSS per process, median (MB)", "{:.1f}"),
    ("mem_per_call_mb", "RSS per call (MB)", "{:.2f}"),
    ("pss_per_call_mb", "PSS per call (MB)", "{:.2f}"),
    ("loss_pct", "loss, seq gaps (%)", "{:.3f}"),
    ("rx_over_tx", "echoed / sent", "{:.4f}"),
    ("silent", "calls with no echo", "{:.0f}"),
    ("answered", "calls answered", "{:.0f}"),
    ("startup_ms", "start-up to ready, median (ms)", "{:.0f}"),
    ("startup_max_ms", "start-up to ready, max (ms)", "{:.0f}"),
]


def fmt_runs(vals, f):
    """min / median over runs (one value when there is one run)."""
    if len(vals) == 1:
        return f.format(vals[0])
    return f"{f.format(min(vals))} / {f.format(statistics.median(vals))}"


RATIO_KEYS = ("cpu_per_call", "switches_per_call_s", "mem_per_call_mb", "pss_per_call_mb", "startup_ms")


def report(args, runs):
    peers = [p for p in ("mediagw", "dense", "baresip") if p in runs[0]]
    d = {p: [digest(r[p]) for r in runs] for p in peers}
    b = d["baresip"]
    print(f"\nscripts/bench sip: {args.n} concurrent G.711 echo calls, {args.duration:g} s window "
          f"(after {args.warmup:g} s warm-up), {len(runs)} run(s), {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"mediagw: {args.n} sip-echo gateways (one process each); "
          + (f"dense: the {args.n} gateways in one process; " if "dense" in d else "")
          + "baresip: one process, module echo.so")
    if len(runs) > 1:
        print("cells: min / median over runs")
    w = max(len(x[1]) for x in ROWS)
    others = [p for p in peers if p != "baresip"]
    print(f"\n{'':{w}}" + "".join(f"  {p:>17}" for p in peers) + "".join(f"  {p + '/baresip':>15}" for p in others))
    for key, label, f in ROWS:
        vals = {p: [x[key] for x in d[p]] for p in peers}
        bm = statistics.median(vals["baresip"])
        ratios = [f"{statistics.median(vals[p]) / bm:.2f}" if key in RATIO_KEYS and bm else "" for p in others]
        print(f"{label:{w}}" + "".join(f"  {fmt_runs(vals[p], f):>17}" for p in peers)
              + "".join(f"  {r:>15}" for r in ratios))
    print("\nwhere the CPU goes (per-thread utime+stime in the window, % of one core per call, median run, top 8):")
    for peer in peers:
        print_threads(f"{peer:8}", [r[peer].get("threads") for r in runs], args.n)
    print("\nload (loadavg before -> after the window; whole-machine busy % of 2 cores in the window):")
    for i, r in enumerate(runs):
        for peer in peers:
            x = r[peer]
            print(f"  run {i + 1} {peer:8} {x['load_before']} -> {x['load_after']}; busy {x['sys_busy_pct']} %; "
                  f"sipp exit {x['sipp_rc']}")
    for peer in peers:
        bad = [i + 1 for i, x in enumerate(d[peer]) if x["answered"] < args.n or x["silent"]]
        if bad:
            print(f"WARNING: {peer}: unanswered or silent calls in run(s) {bad}: its figures cover fewer calls")
    med = lambda rows, k: round(statistics.median(x[k] for x in rows), 4)
    summary = dict(bench="sip", n=args.n, window_s=args.duration, runs=len(runs),
                   **{f"{p}_{k}": med(d[p], k) for p in peers for k, _, _ in ROWS},
                   **{("cpu_ratio" if p == "mediagw" else f"{p}_cpu_ratio"):
                      (round(med(d[p], "cpu_per_call") / med(b, "cpu_per_call"), 3) if med(b, "cpu_per_call") else None)
                      for p in others},
                   load=runs[-1]["baresip"]["load_after"])
    sys.stdout.flush()
    print("\nBENCH_SIP " + json.dumps(summary, separators=(",", ":")))


def main():
    ap = argparse.ArgumentParser(prog="scripts/bench sip", description=__doc__.split("\n\n")[0])
    ap.add_argument("n", nargs="?", type=int, help="concurrent calls = gateways (default 10)")
    ap.add_argument("-d", "--duration", type=float, help="measurement window, s (default 30)")
    ap.add_argument("--warmup", type=float, help="media before the window opens, s (default 5)")
    ap.add_argument("--runs", type=int, help="runs per point; the table shows min / median (default 2)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 3 calls, 5 s window, 1 run")
    ap.add_argument("--dense", action="store_true", help="also the N gateways in one process (dense mode)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, sipp traces)")
    ap.add_argument("--mediagw", required=True, help=argparse.SUPPRESS)
    ap.add_argument("--rtpgen", required=True, help=argparse.SUPPRESS)
    args = ap.parse_args()
    q = args.quick
    args.n = args.n or (3 if q else 10)
    args.duration = args.duration or (5 if q else 30)
    args.warmup = args.warmup if args.warmup is not None else (2 if q else 5)
    args.runs = args.runs or (1 if q else 2)
    for tool in ("sipp", "baresip"):
        if not shutil.which(tool):
            raise SystemExit(f"bench: {tool} not found (scripts/setup installs it)")

    wd = tempfile.mkdtemp(prefix="mgw-bench-sip-")
    procs = Procs()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    runs = []
    try:
        for i in range(args.runs):
            run = {}
            phases = [("mediagw", phase_mediagw)] + ([("dense", phase_dense)] if args.dense else [])
            for peer, phase in phases + [("baresip", phase_baresip)]:
                d = os.path.join(wd, f"run{i + 1}")
                os.makedirs(d, exist_ok=True)
                log(f"run {i + 1}/{args.runs}: {peer}, {args.n} calls (load {loadavg()})")
                run[peer] = phase(procs, args, d)
                dg = digest(run[peer])
                log(f"  cpu/call {dg['cpu_per_call']:.2f} %, rss {dg['rss_mb']:.1f} MB, loss {dg['loss_pct']:.3f} %, "
                    f"answered {dg['answered']}/{args.n}, silent {dg['silent']}")
            runs.append(run)
        with open(os.path.join(wd, "results.json"), "w") as f:
            json.dump(runs, f, indent=1)
        report(args, runs)
    finally:
        procs.stop_all()
        if args.keep:
            log(f"work directory kept: {wd}")
        else:
            shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()
