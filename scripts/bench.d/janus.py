#!/usr/bin/python3
"""scripts/bench janus: N SIP calls bridged into N Janus videorooms (one room per
call) by N mediagw gateways in Janus mode, one webrtcbin subscriber per room,
beside the serve-mode figures of `scripts/bench webrtc` (same N, same window).

Everything runs in a private network namespace (tests/lib/browser.py
enter_private_netns: veth 10.99.0.1/10.99.0.2 with the accept_local/rp_filter
sysctls; libnice and Janus ignore loopback). Janus (tests/lib/janus.py: videoroom,
HTTP API, configs generated) is started once; per phase:
  - N rooms are created through the API (janus.Session.create_room);
  - N gateways run scripts/bench.d/sip-to-janus.toml (pipelines/sip-to-janus.toml
    without its turn node): each joins its room as a publisher "SIP caller";
  - sipp places the calls (SIP only; webrtc.py's scenario, plus an m=video VP8
    line for the audio+video cases); webrtc.py's RTP generator plays the SIP audio
    (20 ms Opus or PCMU, 1000 Hz bursts); for video one process (`janus.py
    _vidgen`) replays a pre-encoded VP8 640x360 clip (encoded once at its start,
    RTP re-stamped per call) to every gateway;
  - one subscriber per room (`janus.py _sub`: tests/lib/webrtcpeer.py's Peer
    answering Janus's subscriber offer for the gateway's feed) counts RTP, seq
    gaps, decoded audio (tone frequency, onsets for latency) and video frames;
  - webrtc.py's run_media: warm-up, then CPU (utime+stime) and RSS/PSS over the
    window for the gateways, Janus, the generators and the subscribers, each
    counted separately, plus per-thread CPU of the gateways and of Janus
    (/proc/PID/task/*/stat, grouped by thread name).
A phase whose subscribers did not all connect, hear the tone and (with video)
decode frames is a failed phase: no figures, exit status 1.
The serve-mode phases are webrtc.py's own phase_mediagw (pipelines/sip-to-browser.toml,
a WHIP + WHEP webrtcbin client per call), run in the same namespace.
"""
import argparse
import importlib.util
import json
import os
import random
import selectors
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LIB = os.path.join(ROOT, "tests", "lib")
sys.path.insert(0, HERE)
sys.path.insert(1, LIB)
sys.dont_write_bytecode = True
import sip  # noqa: E402
import webrtc  # noqa: E402
from sip import CALL_RATE, Procs, free_even_udp_ports, free_port, loadavg, log, wait_line  # noqa: E402

PY = webrtc.PY
PIPELINE = os.path.join(HERE, "sip-to-janus.toml")
DISPLAY = "SIP caller"
VIDEO_PT, VIDEO_CLOCK = 97, 90000
CONNECT_S = webrtc.CONNECT_S


def lib_module(name):
    """tests/lib/NAME.py, under another name: scripts/bench.d has a janus.py and a browser.py too,
    and this directory comes first on sys.path."""
    key = f"{name}_lib"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, os.path.join(LIB, f"{name}.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return sys.modules[key]


def janus_lib():
    """tests/lib/janus.py; its `import browser` must find tests/lib/browser.py, not ours."""
    if "janus_lib" not in sys.modules:
        saved = sys.modules.get("browser")
        sys.modules["browser"] = lib_module("browser")
        try:
            lib_module("janus")
        finally:
            if saved is None:
                del sys.modules["browser"]
            else:
                sys.modules["browser"] = saved
    return sys.modules["janus_lib"]


# --- the subscriber (one process per room) ---------------------------------------------
def sub_main(spec):
    """Subscribes to the room's publisher DISPLAY; prints {"connected": ...}, then on SIGTERM
    one result line in webrtcpeer.py's format (role "answer": webrtc.digest reads it)."""
    import webrtcpeer as wp
    jl = janus_lib()
    stop = threading.Event()
    peers = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: [p.mark("start") for p in peers.values()])
    signal.signal(signal.SIGUSR2, lambda *_: [p.mark("end") for p in peers.values()])
    err, sess, t0 = None, None, time.monotonic()
    try:
        sess = jl.Session(spec["url"])
        pub = sess.wait_publisher(spec["room"], DISPLAY, spec["timeout"])
        if not pub:
            raise wp.PeerError(f"no publisher {DISPLAY!r} in room {spec['room']} within {spec['timeout']} s")
        sess.message({"request": "join", "ptype": "subscriber", "room": spec["room"],
                      "streams": [{"feed": pub["id"]}]})
        ev = sess.wait_event(lambda e: (e.get("jsep") or {}).get("type") == "offer", spec["timeout"])
        if not ev:
            raise wp.PeerError(f"no subscriber offer from Janus; events: {sess.seen[-5:]}")
        p = peers["answer"] = wp.Peer(ice_addresses=(spec["ice_address"],), latency_ms=spec["latency"],
                                      name="answer")
        answer = p.answer(ev["jsep"]["sdp"], spec["timeout"])
        sess.message({"request": "start", "room": spec["room"]}, jsep={"type": "answer", "sdp": answer,
                                                                        "trickle": False})
        if not p.wait_connected(spec["timeout"]):
            raise wp.PeerError(p._failed or f"not connected in {spec['timeout']} s")
        print(json.dumps({"connected": {"answer": p.connect_ms}, "feed": pub["id"]}), flush=True)
        t0 = time.monotonic()
        stop.wait()
    except (wp.PeerError, jl.JanusError, OSError) as e:
        err = str(e)
    res = wp._results(peers, spec["expect_freq"], time.monotonic() - t0)
    if err:
        res.update(ok=False, error=err)
    for p in peers.values():
        if not p.rx_packets:
            print(f"--- no RTP; local SDP:\n{p.local_sdp}\n--- remote SDP:\n{p.remote_sdp}\n--- stats:\n"
                  + "\n".join(p.webrtc_stats()), file=sys.stderr)
        p.close()
    if sess:
        sess.destroy()
    print(json.dumps(res), flush=True)
    return 0 if res["ok"] else 1


# --- the SIP side's video (one process for every call) ---------------------------------------
def vp8_clip(w, h, fps, kbps, seconds):
    """[(frame index, RTP packet)] of a VP8 clip (moving colour bars), keyframe every second."""
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    frames = int(fps * seconds)
    p = Gst.parse_launch(
        f"videotestsrc num-buffers={frames} pattern=smpte horizontal-speed=3 ! "
        f"video/x-raw,width={w},height={h},framerate={fps}/1 ! "
        f"vp8enc deadline=1 cpu-used=4 target-bitrate={kbps * 1000} keyframe-max-dist={fps} ! "
        f"rtpvp8pay mtu=1200 pt={VIDEO_PT} ! appsink name=s sync=false")
    p.set_state(Gst.State.PLAYING)
    pkts, ts0 = [], None
    while (s := p.get_by_name("s").emit("try-pull-sample", 10 * Gst.SECOND)) is not None:
        b = s.get_buffer()
        d = b.extract_dup(0, b.get_size())
        ts = int.from_bytes(d[4:8], "big")
        ts0 = ts if ts0 is None else ts0
        pkts.append((round(((ts - ts0) & 0xFFFFFFFF) * fps / VIDEO_CLOCK), d))
    p.set_state(Gst.State.NULL)
    if not pkts or pkts[-1][0] < frames - 2:
        raise SystemExit(f"vidgen: the encoder gave {len(pkts)} packets, {pkts[-1][0] + 1 if pkts else 0} frames")
    return pkts, frames


def vidgen_main(spec_file):
    """Spec {streams: [[local port, dest port]], w, h, fps, kbps, max_s}: sends the clip to every
    dest port in real time (looped; seq, timestamp and SSRC per stream), drains what comes back."""
    spec = json.load(open(spec_file))
    fps = spec["fps"]
    pkts, nframes = vp8_clip(spec["w"], spec["h"], fps, spec["kbps"], 2)
    by_frame = [[] for _ in range(nframes)]
    for f, d in pkts:
        by_frame[min(f, nframes - 1)].append(d)
    step = VIDEO_CLOCK // fps
    sel = selectors.DefaultSelector()
    st = []
    for i, (lport, dport) in enumerate(spec["streams"]):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", lport))
        s.setblocking(False)
        x = dict(sock=s, dst=("127.0.0.1", dport), seq=random.randrange(65536), ts=random.getrandbits(32),
                 ssrc=(0x7000 + i).to_bytes(4, "big"), rx=0)
        st.append(x)
        sel.register(s, selectors.EVENT_READ, x)
    stop = {}
    signal.signal(signal.SIGTERM, lambda *_: stop.setdefault("stop", True))
    t0 = time.monotonic() + 0.05
    print(json.dumps({"t0": t0, "clip_packets": len(pkts), "clip_frames": nframes,
                      "clip_kbps": round(sum(len(d) for _, d in pkts) * 8 / 1000 / (nframes / fps))}), flush=True)
    k = tx = 0
    while "stop" not in stop and time.monotonic() - t0 < spec["max_s"]:
        due = t0 + k / fps
        now = time.monotonic()
        if now >= due:
            for x in st:
                if not x["dst"][1]:
                    continue
                ts = (x["ts"] + k * step) & 0xFFFFFFFF
                for d in by_frame[k % nframes]:
                    pkt = d[:2] + x["seq"].to_bytes(2, "big") + ts.to_bytes(4, "big") + x["ssrc"] + d[12:]
                    x["seq"] = (x["seq"] + 1) & 0xFFFF
                    try:
                        x["sock"].sendto(pkt, x["dst"])
                        tx += 1
                    except OSError:
                        pass
            k += 1
            continue
        for key, _ in sel.select(due - now):
            while True:
                try:
                    key.data["sock"].recv(4096)
                    key.data["rx"] += 1
                except BlockingIOError:
                    break
    print(json.dumps({"tx": tx, "frames": k, "rx": sum(x["rx"] for x in st)}), flush=True)


# --- per-thread CPU (what dominates) -------------------------------------------------------
BREAKDOWN = {}   # {"n": gateways (the first n roots measured), "janus": [pid]}; + per-thread figures


def measure_with_threads(roots, window):
    """sip.measure, with per-thread CPU of the gateways (and Janus) over the same window."""
    groups = {"gateway": roots[:BREAKDOWN.get("n", 0)], "janus": BREAKDOWN.get("janus", [])}
    windows = {k: sip.ThreadWindow(pids) for k, pids in groups.items()}
    for w in windows.values():
        w.start()
    out = sip.measure(roots, window)
    for k, w in windows.items():
        BREAKDOWN[f"{k}_threads"] = w.stop()
    return out


webrtc.measure = measure_with_threads    # webrtc.run_media's window (serve and Janus phases alike)


# --- a Janus phase ---------------------------------------------------------------------------
def sipp_scenario(wd, codec, video):
    """webrtc.py's caller (PCMU or Opus), plus m=video VP8 (port = injection field 3) and
    the answer's video port in the log line: 'INDEX AUDIO_PORT VIDEO_PORT'."""
    path = webrtc.sipp_scenario(wd, codec)
    if not video:
        return path
    src = open(path).read()
    out = src.replace("a=sendrecv\n]]></send>",
                      f"a=sendrecv\nm=video [field3] RTP/AVP {VIDEO_PT}\na=rtpmap:{VIDEO_PT} VP8/90000\n"
                      f"a=rtcp-fb:{VIDEO_PT} nack pli\na=sendrecv\n]]></send>", 1)
    out = out.replace('assign_to="m,rtpport"/>',
                      'assign_to="m,rtpport"/>\n      <ereg regexp="m=video ([0-9]+)" search_in="body" '
                      'check_it="true" assign_to="v,vport"/>', 1)
    out = out.replace('<log message="[field2] [$rtpport]"/>', '<log message="[field2] [$rtpport] [$vport]"/>', 1)
    out = out.replace('<Reference variables="m"/>', '<Reference variables="m,v"/>', 1)
    if out.count("m=video") != 2 or "[$vport]" not in out:
        raise SystemExit("bench: uac_media.xml changed; cannot derive the audio+video caller")
    p = os.path.join(wd, f"uac_{codec}_video.xml")
    open(p, "w").write(out)
    return p


def phase_janus(procs, args, wd, codec, video, server):
    jl = janus_lib()
    n = args.n
    tag = f"janus-{'av' if video else 'audio'}-{codec}"
    admin = jl.Session(server.url)
    base = random.randrange(100000, 900000)
    rooms = [base + i for i in range(n)]
    for r in rooms:
        admin.create_room(r, publishers=3, description=f"bench {tag}")
    gws, subs, vgen, answers = [], [], None, {}
    try:
        for i in range(n):
            p = procs.start([args.mediagw, "run", PIPELINE], os.path.join(wd, f"{tag}-gw{i}.log"),
                            env={"SIP_LISTEN": "udp:127.0.0.1:0", "JANUS_URL": server.url,
                                 "JANUS_ROOM": str(rooms[i]), "JANUS_DISPLAY": DISPLAY,
                                 "JOIN_DELAY_MS": str(args.join_delay)})
            m, t1 = wait_line(p, r"listening on sip:[\d.]+:(\d+)", 20)
            if not m:
                raise SystemExit(f"bench: gateway {i} not ready (exit {p.poll()}), see {p.logfile}")
            gws.append((p, int(m.group(1)), (t1 - p.exec_t) * 1000))
        ports = free_even_udp_ports(2 * n)          # audio, then video (port + 1 left for RTCP)
        aports, vports = ports[:n], ports[n:]
        inf = os.path.join(wd, f"{tag}-calls.csv")
        open(inf, "w").write("SEQUENTIAL\n" + "".join(f"{g[1]};{aports[i]};{i};{vports[i]}\n"
                                                      for i, g in enumerate(gws)))
        setup_s = n / CALL_RATE + 10
        hold_ms = int((setup_s + CONNECT_S + 5 + args.warmup + args.duration + 15) * 1000)
        sipp_log = os.path.join(wd, f"{tag}-sipp-answers.log")
        procs.start(["sipp", f"127.0.0.1:{gws[0][1]}", "-sf", sipp_scenario(wd, codec, video), "-inf", inf,
                     "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()), "-m", str(n), "-l", str(n),
                     "-r", str(CALL_RATE), "-d", str(hold_ms), "-nostdin", "-recv_timeout", "10000",
                     "-timeout", str(int(hold_ms / 1000 + setup_s + 10)), "-trace_logs", "-log_file", sipp_log],
                    os.path.join(wd, f"{tag}-sipp.out"), cwd=wd)
        want = 3 if video else 2
        deadline = time.monotonic() + setup_s
        while time.monotonic() < deadline and len(answers) < n:
            time.sleep(0.2)
            if os.path.exists(sipp_log):
                answers = {int(f[0]): [int(x) for x in f[1:]] for f in (l.split() for l in open(sipp_log))
                           if len(f) == want and all(x.isdigit() for x in f)}
        if len(answers) < n:
            log(f"{tag}: only {len(answers)}/{n} calls answered in {setup_s:.0f} s")
        if args.late_media:         # the feeds are up before the SIP side's media starts
            for g in gws:
                wait_line(g[0], r"our feed is up", CONNECT_S)
        gen = webrtc.start_rtpgen(procs, args, wd, tag, codec,
                                  [[aports[i], answers.get(i, [0])[0]] for i in range(n)])
        if video:
            spec = os.path.join(wd, f"{tag}-vidgen.json")
            json.dump(dict(streams=[[vports[i], answers.get(i, [0, 0])[1]] for i in range(n)], w=640, h=360,
                           fps=args.fps, kbps=args.video_kbps,
                           max_s=CONNECT_S + 20 + args.warmup + args.duration), open(spec, "w"))
            vgen = procs.start([PY, os.path.abspath(__file__), "_vidgen", spec], os.path.join(wd, f"{tag}-vidgen.out"))
            if not wait_line(vgen, r'"t0"', 20)[0]:
                raise SystemExit(f"bench: video generator not running, see {vgen.logfile}")
        browser = lib_module("browser")
        for i in range(n):
            spec = dict(url=server.url, room=rooms[i], timeout=CONNECT_S, latency=args.latency,
                        expect_freq=webrtc.TONE_HZ, ice_address=browser.NETNS_ADDRS[1])
            subs.append(procs.start([PY, os.path.abspath(__file__), "_sub", json.dumps(spec)],
                                    os.path.join(wd, f"{tag}-sub{i}.log"),
                                    env={"GST_DEBUG": os.environ.get("BENCH_CLIENT_GST_DEBUG", "0")}))
        gw_pids = [g[0].pid for g in gws]
        extra = [server.proc.pid, gen.pid] + ([vgen.pid] if vgen else [])
        BREAKDOWN.clear()
        BREAKDOWN.update(n=n, janus=[server.proc.pid])
        r = webrtc.run_media(procs, args, gen, subs, gw_pids + extra)
        if vgen:
            procs.stop([vgen])
            r["vidgen"] = webrtc.json_lines(vgen)
    finally:
        procs.stop_all()                 # subscribers, generators, sipp, gateways (they leave Janus)
        for room in rooms:
            try:
                admin.destroy_room(room)
            except (jl.JanusError, OSError):
                pass
        admin.destroy()
    split_extra(r, n, ["janus", "rtpgen"] + (["vidgen"] if video else []))
    r.update(answered=len(answers), startup_ms=[g[2] for g in gws], procs_per_call=1, video=video,
             threads={k: v for k, v in BREAKDOWN.items() if k.endswith("_threads")})
    return r


def split_extra(r, n, names):
    """run_media measured gateways + extra roots: move the extras out of the gateways' lists."""
    for i, name in enumerate(names):
        r[f"{name}_cpu_pct"] = r["cpu_pct"][n + i]
        r[f"{name}_rss_kb"] = r["rss_kb"][n + i]
        r[f"{name}_pss_kb"] = r["pss_kb"][n + i]
    for k in ("cpu_pct", "rss_kb", "pss_kb"):
        r[k] = r[k][:n]


def phase_serve(procs, args, wd, codec):
    """webrtc.py's mediagw phase, unchanged (one sip-to-browser gateway per call, WHIP + WHEP client)."""
    BREAKDOWN.clear()
    BREAKDOWN.update(n=args.n)
    r = webrtc.phase_mediagw(procs, args, wd, codec)
    r.update(video=False, threads={k: v for k, v in BREAKDOWN.items() if k.endswith("_threads")})
    return r


# --- figures ------------------------------------------------------------------------------
def check_media(r, fps, window):
    """Why the phase's media did not flow ([] when it did)."""
    n, bad = r["calls"], []
    if r["answered"] < n:
        bad.append(f"{r['answered']}/{n} calls answered")
    if r["connected"] < n:
        bad.append(f"{r['connected']}/{n} subscribers connected")
    for i, c in enumerate(r["clients"]):
        sub = (c or {}).get("whep") or (c or {}).get("answer") or {}
        w = sub.get("window", {})
        if not w.get("rx_packets"):
            why = (c or {}).get("error") or ("no result line" if not c else
                                             f"connected: {sub.get('connected')}, {sub.get('rx_packets', 0)} packets")
            bad.append(f"subscriber {i}: no RTP in the window ({why})")
        elif not sub.get("freq_ok"):
            bad.append(f"subscriber {i}: heard {sub.get('freq')} Hz, not {webrtc.TONE_HZ}")
        if r.get("video") and w.get("video_frames", 0) < 0.5 * fps * window:
            bad.append(f"subscriber {i}: {w.get('video_frames', 0)} video frames decoded in the window")
    return bad


def digest(r, args):
    d = webrtc.digest(r)
    n = r["calls"]
    wins = [((c or {}).get("whep") or (c or {}).get("answer") or {}).get("window", {}) for c in r["clients"]]
    d.update(
        pss_mb=statistics.median(r["pss_kb"]) / 1024,
        janus_cpu_per_call=r["janus_cpu_pct"] / n if "janus_cpu_pct" in r else float("nan"),
        janus_rss_mb=r["janus_rss_kb"] / 1024 if "janus_rss_kb" in r else float("nan"),
        gen_cpu_per_call=(r.get("rtpgen_cpu_pct", float("nan")) + r.get("vidgen_cpu_pct", 0)) / n,
        video_fps=min((w.get("video_frames", 0) / w["t"] for w in wins if w.get("t")), default=0)
        if r.get("video") else float("nan"),
        total_cpu_per_call=(sum(r["cpu_pct"]) + r.get("janus_cpu_pct", 0)) / n,
        sys_busy=r["sys_busy_pct"])
    if r.get("janus_cpu_pct") is not None:
        d["loss_to_sip_pct"] = float("nan")     # nothing goes back: the room has no other publisher
        d["sip_rx_over_tx"] = float("nan")
    return d


ROWS = [  # key, label, format
    ("cpu_per_call", "gateway CPU per call (% of one core)", "{:.2f}"),
    ("janus_cpu_per_call", "Janus CPU per call (%)", "{:.2f}"),
    ("total_cpu_per_call", "gateway + Janus per call (%)", "{:.2f}"),
    ("rss_mb", "RSS per gateway, median (MB)", "{:.1f}"),
    ("pss_mb", "PSS per gateway, median (MB)", "{:.1f}"),
    ("janus_rss_mb", "Janus RSS (MB)", "{:.1f}"),
    ("loss_to_web_pct", "loss SIP->WebRTC, seq gaps (%)", "{:.3f}"),
    ("loss_to_sip_pct", "loss WebRTC->SIP (%)", "{:.3f}"),
    ("web_rx_per_call_s", "RTP packets/s per subscriber", "{:.1f}"),
    ("tone_ok", "subscribers hearing 1000 Hz", "{:.0f}"),
    ("video_fps", "video frames/s decoded, worst subscriber", "{:.1f}"),
    ("latency_ms", "SIP->WebRTC audio latency, median (ms)", "{:.0f}"),
    ("client_cpu_per_call", "far-end WebRTC client CPU per call (%)", "{:.2f}"),
    ("gen_cpu_per_call", "SIP-side generators' CPU per call (%)", "{:.2f}"),
    ("startup_ms", "gateway start-up, median (ms)", "{:.0f}"),
    ("sys_busy", "whole machine busy in the window (%)", "{:.0f}"),
]


def case_name(c):
    kind, codec, video = c
    if kind == "serve":
        return f"serve {codec}"
    return f"janus {'A+V' if video else 'audio'} {codec}"


def report(args, runs, failures):
    print(f"\nscripts/bench janus: {args.n} concurrent calls, {args.duration:g} s window (after {args.warmup:g} s "
          f"warm-up), {len(runs)} run(s), {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}")
    print("janus: one room per call, the gateway publishes (scripts/bench.d/sip-to-janus.toml), one webrtcbin "
          "subscriber per room;\nserve: pipelines/sip-to-browser.toml, a WHIP + WHEP webrtcbin client per call "
          f"(scripts/bench webrtc). Video: VP8 640x360 {args.fps} fps ~{args.video_kbps} kbps from the SIP side.\n"
          f"The gateways join their room {args.join_delay} ms after the call is up"
          f"{'; SIP media starts once the feeds are up' if args.late_media else ''}.")
    if len(runs) > 1:
        print("cells: min / median over runs")
    cols = [c for c in args.case_list]
    w = max(len(x[1]) for x in ROWS)
    names = [case_name(c) for c in cols]
    cw = max(15, max(len(x) for x in names))
    print(f"\n{'':{w}}  " + "  ".join(f"{x:>{cw}}" for x in names))
    summary = dict(bench="janus", n=args.n, window_s=args.duration, runs=len(runs))
    digs = {c: [digest(r[c], args) for r in runs if r.get(c) is not None] for c in cols}
    for key, label, f in ROWS:
        cells = []
        for c in cols:
            vals = [d[key] for d in digs[c]]
            cells.append(webrtc.fmt(vals, f))
            good = [v for v in vals if v == v]
            summary[f"{case_name(c).replace(' ', '_')}_{key}"] = round(statistics.median(good), 4) if good else None
        print(f"{label:{w}}  " + "  ".join(f"{x:>{cw}}" for x in cells))
    print("\nwhere the gateways' CPU goes (per-thread utime+stime in the window, % of one core per call, "
          "median run, top 8):")
    for c in cols:
        rs = [r[c] for r in runs if r.get(c) is not None]
        if not rs:
            continue
        for who in ("gateway", "janus"):
            sip.print_threads(f"{case_name(c):18} {who:7}", [r.get("threads", {}).get(f"{who}_threads") for r in rs],
                              args.n)
    for f in failures:
        print(f"FAILED: {f}")
    sys.stdout.flush()
    print("\nBENCH_JANUS " + json.dumps(summary, separators=(",", ":")))


CASES = {   # name -> (kind, codec, video)
    "serve-opus": ("serve", "opus", False), "audio-opus": ("janus", "opus", False),
    "av-opus": ("janus", "opus", True), "serve-pcmu": ("serve", "pcmu", False),
    "audio-pcmu": ("janus", "pcmu", False), "av-pcmu": ("janus", "pcmu", True),
}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "_sub":
        return sub_main(json.loads(sys.argv[2]))
    if len(sys.argv) == 3 and sys.argv[1] == "_vidgen":
        return vidgen_main(sys.argv[2])
    ap = argparse.ArgumentParser(prog="scripts/bench janus", description=__doc__.split("\n\n")[0])
    ap.add_argument("n", nargs="?", type=int, help="concurrent calls = gateways = rooms (default 5)")
    ap.add_argument("-d", "--duration", type=float, help="measurement window, s (default 20)")
    ap.add_argument("--warmup", type=float, help="media before the window opens, s (default 5)")
    ap.add_argument("--runs", type=int, help="runs (default 2; cells are min / median)")
    ap.add_argument("--cases", default=",".join(CASES),
                    help=f"comma-separated, in this order by default: {','.join(CASES)}")
    ap.add_argument("--fps", type=int, default=30, help="SIP-side video frame rate (default 30)")
    ap.add_argument("--video-kbps", type=int, default=500, help="SIP-side VP8 bitrate (default 500)")
    ap.add_argument("--latency", type=int, default=50, help="subscribers' jitter buffer, ms (default 50)")
    ap.add_argument("--join-delay", type=int, default=0,
                    help="the gateways join their room this long after the call is up, ms (default 0)")
    ap.add_argument("--late-media", action="store_true",
                    help="start the SIP side's media only once every gateway's feed is up")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 calls, 5 s window, 1 run")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, SDPs, Janus log)")
    ap.add_argument("--mediagw", required=True, help=argparse.SUPPRESS)
    args = ap.parse_args()
    q = args.quick
    args.n = args.n or (2 if q else 5)
    args.duration = args.duration or (5 if q else 20)
    args.warmup = args.warmup if args.warmup is not None else (3 if q else 5)
    args.runs = args.runs or (1 if q else 2)
    args.pipeline = os.path.join(ROOT, "pipelines", "sip-to-browser.toml")    # serve phases (webrtc.py)
    unknown = [c for c in args.cases.split(",") if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s) {unknown}; known: {', '.join(CASES)}")
    args.case_list = [CASES[c] for c in args.cases.split(",")]
    for tool in ("sipp", "janus", "unshare", "ip"):
        if not shutil.which(tool):
            raise SystemExit(f"bench: {tool} not found (scripts/setup installs it)")

    browser = lib_module("browser")
    import contextlib
    browser.enter_private_netns()          # re-execs this script (same pid) in a new namespace
    import mgwtest
    jl = janus_lib()
    wd = tempfile.mkdtemp(prefix="mgw-bench-janus-")
    procs = Procs()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    runs, failures = [], []
    with contextlib.redirect_stdout(sys.stderr), mgwtest.Procs(wd) as jprocs:   # mgwtest logs to stdout
        try:
            server = jl.Server(jprocs, wd, session_timeout=30).start()
            for i in range(args.runs):
                run = {}
                d = os.path.join(wd, f"run{i + 1}")
                os.makedirs(d, exist_ok=True)
                for c in args.case_list:
                    kind, codec, video = c
                    log(f"run {i + 1}/{args.runs}: {case_name(c)}, {args.n} calls (load {loadavg()})")
                    if server.proc.poll() is not None:
                        raise SystemExit(f"bench: janus exited ({server.proc.returncode}), see {server.proc.logfile}")
                    r = phase_serve(procs, args, d, codec) if kind == "serve" else \
                        phase_janus(procs, args, d, codec, video, server)
                    bad = check_media(r, args.fps, args.duration)
                    if bad:
                        failures.append(f"run {i + 1} {case_name(c)}: " + "; ".join(bad[:4]))
                        log(f"  FAILED: {'; '.join(bad[:4])}")
                        run[c] = None
                        continue
                    run[c] = r
                    g = digest(r, args)
                    log(f"  gateway cpu/call {g['cpu_per_call']:.2f} %, janus/call {g['janus_cpu_per_call']:.2f} %, "
                        f"rss {g['rss_mb']:.1f} MB, tone {g['tone_ok']}/{args.n}, video {g['video_fps']:.1f} fps, "
                        f"loss {g['loss_to_web_pct']:.3f} %, latency {g['latency_ms']:.0f} ms, "
                        f"busy {g['sys_busy']:.0f} %")
                runs.append(run)
            with open(os.path.join(wd, "results.json"), "w") as f:
                json.dump([{case_name(c): r for c, r in run.items()} for run in runs], f, indent=1, default=str)
        finally:
            procs.stop_all()
            jprocs.procs and server_stop(jprocs)
    report(args, runs, failures)
    if args.keep:
        log(f"work directory kept: {wd}")
    else:
        shutil.rmtree(wd, ignore_errors=True)
    return 1 if failures else 0


def server_stop(jprocs):
    for p in jprocs.procs:
        jprocs.stop(p, timeout=5)
    jprocs.procs.clear()          # its close() would dump Janus's log tail otherwise


if __name__ == "__main__":
    sys.exit(main())
