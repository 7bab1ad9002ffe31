#!/usr/bin/python3
"""scripts/bench webrtc: N SIP (RTP/AVP) calls bridged to N WebRTC clients (DTLS-SRTP,
ICE), by N mediagw gateways (one process each) and by one rtpengine (userspace),
Opus passthrough and G.711 (PCMU) <-> Opus transcoding.

Per run, codec and peer: set the calls up; one RTP generator process (`webrtc.py _rtpgen`)
plays the SIP side of every call from its answer on: 20 ms packets of a tone burst
(1000 Hz, 300 ms each second), counting what comes back (seq gaps = loss; PCMU: the
frequency heard); one webrtcbin client process per call (tests/lib/webrtcpeer.py).
Once the clients are connected and after a warm-up: CPU (utime+stime of the process
trees), their context switches (/proc task status: each thread hand-off or socket
wake-up is one; steadier than CPU on a shared VM) and RSS/PSS over the window, as
scripts/bench sip does (its helpers are reused);
clients and generator count over the same window (SIGUSR1/SIGUSR2). Latency: when the
clients get each burst's first loud 20 ms block, minus when the generator sent the
burst's first packet (relay + client decode; the client's jitter buffer holds back only
out-of-order packets; compare peers, not absolute values).
  rtpengine: ng offer from the SIP side with ICE=force, UDP/TLS/RTP/SAVPF; the client
    answers (`webrtcpeer.py answer`, one sendrecv PeerConnection per call).
  mediagw: `mediagw run PIPELINE --set sip.listen=... --set web.listen=127.0.0.1:PORT`
    (--dense: `mediagw run PIPELINE --set ... PIPELINE --set ...`, all in one process);
    sipp places the calls (SIP only, uac_media.xml), the client does what the
    served page does: one sendrecv PeerConnection per call (`webrtcpeer.py
    session`, POST /session); `--client pair` measures WHIP + WHEP instead
    (two PeerConnections per call, as external WHIP/WHEP clients do).
A client that hears nothing prints its SDPs and webrtcbin stats into its log (--keep
keeps them); BENCH_CLIENT_GST_DEBUG sets GST_DEBUG for the clients only.
"""
import argparse
import json
import os
import random
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in scripts/bench.d
from sip import (CALL_RATE, Procs, ThreadWindow, free_even_udp_ports, free_port, loadavg, log, measure,  # noqa: E402
                 print_threads, wait_line)

PY = "/usr/bin/python3"          # has gi (Gst 1.22, GstWebRTC)
PEER = os.path.join(ROOT, "tests", "lib", "webrtcpeer.py")
TONE_HZ, CLIENT_HZ = 1000, 440   # SIP side -> WebRTC, WebRTC -> SIP side
PERIOD_S, BURST_S = 1.0, 0.3     # tone bursts for the latency
CONNECT_S = 25                   # bound on a client's negotiation + connection
RTPE_PORTS = (16000, 16999)      # rtpengine's media ports, below the ephemeral range
CODECS = {"opus": ("opus/48000/2", 96, 960), "pcmu": ("PCMU/8000", 0, 160)}  # rtpmap, pt, ts step


# --- SIP-side RTP generator (its own process) ------------------------------------
def burst_pcm(rate, periods):
    """S16 mono: TONE_HZ for BURST_S of every PERIOD_S, silence between."""
    import math
    import struct
    n, on = int(rate * PERIOD_S), int(rate * BURST_S)
    one = [int(9000 * math.sin(2 * math.pi * TONE_HZ * i / rate)) if i < on else 0 for i in range(n)]
    return struct.pack(f"<{n * periods}h", *(one * periods))


def opus_frames():
    """One period of 20 ms Opus frames (encoded from two, the encoder settled)."""
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    p = Gst.parse_launch("appsrc name=a format=time caps=audio/x-raw,format=S16LE,rate=48000,channels=1,"
                         "layout=interleaved ! opusenc bitrate=32000 frame-size=20 ! appsink name=s sync=false")
    p.set_state(Gst.State.PLAYING)
    p.get_by_name("a").emit("push-buffer", Gst.Buffer.new_wrapped(burst_pcm(48000, 2)))
    p.get_by_name("a").emit("end-of-stream")
    frames = []
    while (s := p.get_by_name("s").emit("try-pull-sample", 5 * Gst.SECOND)) is not None:
        b = s.get_buffer()
        frames.append(b.extract_dup(0, b.get_size()))
    p.set_state(Gst.State.NULL)
    per = int(PERIOD_S * 50)
    if len(frames) < 2 * per:
        raise SystemExit(f"rtpgen: opusenc gave {len(frames)} frames, expected {2 * per}")
    return frames[per:2 * per]


def rtpgen_main(spec_file):
    """Spec: {codec, streams: [[local port, dest port]], max_s}. Runs until SIGTERM (or max_s);
    SIGUSR1/SIGUSR2 open/close the counting window; prints one JSON line at the end."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    import array
    sys.path.insert(0, os.path.dirname(PEER))
    from webrtcpeer import tone_frequency
    spec = json.load(open(spec_file))
    _, pt, step = CODECS[spec["codec"]]
    if spec["codec"] == "pcmu":
        pcm = burst_pcm(8000, 1)
        frames = [audioop.lin2ulaw(pcm[i:i + 320], 2) for i in range(0, len(pcm), 320)]
    else:
        frames = opus_frames()
    sel = selectors.DefaultSelector()
    st = []
    for i, (lport, dport) in enumerate(spec["streams"]):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind(("127.0.0.1", lport))
        s.setblocking(False)
        x = dict(sock=s, dst=("127.0.0.1", dport), seq=random.randrange(65536), ts=random.getrandbits(32),
                 ssrc=0x5000 + i, rx=0, rxw=0, gaps=0, last=None, ulaw=bytearray())
        st.append(x)
        sel.register(s, selectors.EVENT_READ, x)
    tx = txw = k = 0
    t0 = time.monotonic() + 0.05
    win = {}
    signal.signal(signal.SIGUSR1, lambda *_: win.setdefault("from", time.monotonic()))
    signal.signal(signal.SIGUSR2, lambda *_: win.setdefault("to", time.monotonic()))
    signal.signal(signal.SIGTERM, lambda *_: win.setdefault("stop", True))
    print(json.dumps({"t0": t0}), flush=True)
    while "stop" not in win:
        now = time.monotonic()
        if now - t0 >= spec["max_s"]:
            break
        inwin = "from" in win and "to" not in win
        due = t0 + k * 0.02
        if now >= due:
            pl = frames[k % len(frames)]
            for x in st:
                if not x["dst"][1]:
                    continue
                hdr = bytes([0x80, pt | (0x80 if k == 0 else 0)]) + x["seq"].to_bytes(2, "big") + \
                    x["ts"].to_bytes(4, "big") + x["ssrc"].to_bytes(4, "big")
                try:
                    x["sock"].sendto(hdr + pl, x["dst"])
                    tx += 1
                    txw += inwin
                except OSError:
                    pass
                x["seq"], x["ts"] = (x["seq"] + 1) & 0xFFFF, (x["ts"] + step) & 0xFFFFFFFF
            k += 1
            continue
        for key, _ in sel.select(due - now):
            x = key.data
            while True:
                try:
                    d = x["sock"].recv(2048)
                except BlockingIOError:
                    break
                if len(d) < 12 or 200 <= d[1] <= 204:      # RTCP
                    continue
                seq = int.from_bytes(d[2:4], "big")
                x["rx"] += 1
                if inwin:
                    x["rxw"] += 1
                    if x["last"] is not None and 1 < (seq - x["last"]) & 0xFFFF < 3000:
                        x["gaps"] += ((seq - x["last"]) & 0xFFFF) - 1
                x["last"] = seq
                if d[1] & 0x7F == 0:                          # PCMU back: keep 1 s to check the tone
                    x["ulaw"] += d[12:]
                    del x["ulaw"][:-8000]
    rxw, gaps = sum(x["rxw"] for x in st), sum(x["gaps"] for x in st)
    heard = [tone_frequency(array.array("h", audioop.ulaw2lin(bytes(x["ulaw"]), 2)))[0] if x["ulaw"] else None
             for x in st]
    print(json.dumps(dict(streams=len(st), silent_streams=sum(1 for x in st if not x["rxw"]), tx=tx,
                          rx=sum(x["rx"] for x in st), tx_window=txw, rx_window=rxw, seq_gaps_window=gaps,
                          loss_pct_window=100.0 * gaps / (rxw + gaps) if rxw + gaps else 0.0,
                          t0=t0, period=PERIOD_S, heard_hz=heard)), flush=True)


# --- rtpengine ng (bencode over UDP) --------------------------------------------
def benc(x):
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, str):
        x = x.encode()
    if isinstance(x, bytes):
        return b"%d:%s" % (len(x), x)
    if isinstance(x, list):
        return b"l" + b"".join(map(benc, x)) + b"e"
    return b"d" + b"".join(benc(k) + benc(v) for k, v in sorted(x.items())) + b"e"


def bdec(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c in (b"l", b"d"):
        i += 1
        out = [] if c == b"l" else {}
        while b[i:i + 1] != b"e":
            if c == b"l":
                v, i = bdec(b, i)
                out.append(v)
            else:
                k, i = bdec(b, i)
                out[k], i = bdec(b, i)
        return out, i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n].decode(errors="replace"), j + 1 + n


def ng(port, cmd, timeout=5):
    cookie = os.urandom(4).hex().encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(cookie + b" " + benc(cmd), ("127.0.0.1", port))
        while True:
            d = s.recv(65535)
            if d.startswith(cookie + b" "):
                r = bdec(d, len(cookie) + 1)[0]
                if r.get("result") != "ok":
                    raise RuntimeError(f"rtpengine {cmd['command']}: {r}")
                return r


def sip_sdp(port, codec):
    rtpmap, pt, _ = CODECS[codec]
    return (f"v=0\r\no=- {port} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP {pt}\r\na=rtpmap:{pt} {rtpmap}\r\na=ptime:20\r\na=sendrecv\r\n")


def rtpengine_transcodes():
    r = subprocess.run(["rtpengine", "--codecs"], capture_output=True, text=True)
    return bool(re.search(r"^\s*opus: fully supported", r.stdout + r.stderr, re.M)) and \
        bool(re.search(r"^\s*PCMU: fully supported", r.stdout + r.stderr, re.M))


# --- clients ---------------------------------------------------------------------
def start_client(procs, args, wd, tag, i, extra):
    return procs.start([PY, PEER] + extra + ["--freq", str(CLIENT_HZ), "--expect-freq", str(TONE_HZ),
                                             "--seconds", "0", "--timeout", str(CONNECT_S), "--diagnose",
                                             "--latency", str(args.latency)],
                       os.path.join(wd, f"{tag}-client{i}.log"),
                       env={"GST_DEBUG": os.environ.get("BENCH_CLIENT_GST_DEBUG", os.environ.get("GST_DEBUG", "0"))})


def json_lines(p):
    out = []
    for line in open(p.logfile, errors="replace"):
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def wait_all(clients, pattern, timeout):
    """Waits (bounded, in parallel) for pattern in every client's log: [match or None]."""
    deadline = time.monotonic() + timeout
    return [wait_line(c, pattern, max(0.1, deadline - time.monotonic()))[0] for c in clients]


def signal_alive(procs, sig):
    for p in procs:
        if p.poll() is None:
            p.send_signal(sig)


# --- one phase: media + measurement (common) ------------------------------------------
def start_rtpgen(procs, args, wd, tag, codec, streams):
    """The SIP side's media, from now until stopped (a caller sends once answered)."""
    spec = os.path.join(wd, f"{tag}-rtpgen.json")
    json.dump(dict(codec=codec, streams=streams, max_s=CONNECT_S + 20 + args.warmup + args.duration), open(spec, "w"))
    gen = procs.start([PY, os.path.abspath(__file__), "_rtpgen", spec], os.path.join(wd, f"{tag}-rtpgen.out"))
    if not wait_line(gen, r'"t0"', 10)[0]:
        raise SystemExit(f"bench: RTP generator not running, see {gen.logfile}")
    return gen


def run_media(procs, args, gen, clients, roots):
    """Once the clients are connected: warm-up, then the window over roots (+ the clients,
    for context); clients and generator count over the same window (SIGUSR1/SIGUSR2)."""
    connected = wait_all(clients, r'"connected": \{', CONNECT_S + 5)
    load0 = loadavg()
    time.sleep(args.warmup)
    signal_alive(clients + [gen], signal.SIGUSR1)
    n = len(roots)
    threads = ThreadWindow(roots)
    threads.start()
    cpu, rss, pss, busy = measure(roots + [c.pid for c in clients], args.duration)
    thread_cpu = threads.stop()
    signal_alive(clients + [gen], signal.SIGUSR2)
    load1 = loadavg()
    procs.stop([gen])
    procs.stop(clients, timeout=10)     # SIGTERM: each DELETEs its sessions, prints its results
    res = [next((j for j in reversed(json_lines(c)) if "ok" in j), {}) for c in clients]
    silent = [i for i, j in enumerate(res)
              if not (j.get("whep") or j.get("session") or j.get("answer") or {}).get("window", {}).get("rx_packets")]
    gl = json_lines(gen)
    return dict(calls=len(clients), connected=sum(1 for m in connected if m), cpu_pct=cpu[:n], rss_kb=rss[:n],
                pss_kb=pss[:n], client_cpu_pct=cpu[n:], sys_busy_pct=round(busy, 1), load_before=load0,
                load_after=load1, media=gl[-1] if gl else {}, clients=res, silent_clients=silent, threads=thread_cpu,
                switches_per_s=threads.switches_per_s)


def phase_rtpengine(procs, args, wd, codec):
    ngport = free_port()
    rtpe = procs.start(["rtpengine", "--config-file=none", "--interface=127.0.0.1", f"--listen-ng=127.0.0.1:{ngport}",
                        "--foreground", "--log-stderr", "--table=-1", f"--port-min={RTPE_PORTS[0]}",
                        f"--port-max={RTPE_PORTS[1]}", f"--pidfile={wd}/rtpengine.pid"],
                       os.path.join(wd, f"rtpengine-{codec}.log"))
    m, t1 = wait_line(rtpe, r"Startup complete", 20)
    if not m:
        raise SystemExit(f"bench: rtpengine not ready (exit {rtpe.poll()}), see {rtpe.logfile}")
    tag = f"rtpengine-{codec}"
    gen_ports = free_even_udp_ports(args.n)
    calls, clients = [], []
    try:
        for i, gp in enumerate(gen_ports):
            cmd = dict(command="offer", **{"call-id": f"c{i}", "from-tag": f"sip{i}", "sdp": sip_sdp(gp, codec),
                                           "ICE": "force", "transport-protocol": "UDP/TLS/RTP/SAVPF",
                                           "rtcp-mux": ["offer"], "SDES": ["off"], "flags": ["generate-mid"],
                                           "replace": ["origin", "session-connection"]})
            if codec == "pcmu":   # the WebRTC side sees Opus only; rtpengine transcodes
                cmd["codec"] = {"transcode": ["opus"], "mask": ["PCMU"]}
            offer = os.path.join(wd, f"{tag}-offer{i}.sdp")
            open(offer, "w").write(ng(ngport, cmd)["sdp"])
            clients.append(start_client(procs, args, wd, tag, i, ["answer", "--offer", offer]))
        streams = []
        for i, (c, gp) in enumerate(zip(clients, gen_ports)):
            wait_line(c, r'"answer": ', CONNECT_S)
            ans = next((j["answer"] for j in json_lines(c) if "answer" in j), None)
            port = 0
            if ans:
                r = ng(ngport, {"command": "answer", "call-id": f"c{i}", "from-tag": f"sip{i}", "to-tag": f"web{i}",
                                "sdp": ans, "ICE": "remove", "transport-protocol": "RTP/AVP", "rtcp-mux": ["demux"],
                                "replace": ["origin", "session-connection"]})
                port = int(re.search(r"m=audio (\d+)", r["sdp"]).group(1))
                calls.append(i)
            else:
                log(f"{tag}: client {i} gave no answer, see {c.logfile}")
            streams.append([gp, port])
        gen = start_rtpgen(procs, args, wd, tag, codec, streams)
        r = run_media(procs, args, gen, clients, [rtpe.pid])
        for i in calls:
            ng(ngport, {"command": "delete", "call-id": f"c{i}", "from-tag": f"sip{i}"})
    finally:
        procs.stop(clients + [rtpe])
    r.update(answered=len(calls), startup_ms=[(t1 - rtpe.exec_t) * 1000], procs_per_call=1 / args.n)
    return r


def sipp_scenario(wd, codec):
    """uac_media.xml offers PCMU; for Opus the same scenario with the SDP swapped."""
    src = open(os.path.join(HERE, "uac_media.xml")).read()
    if codec == "pcmu":
        return os.path.join(HERE, "uac_media.xml")
    rtpmap, pt, _ = CODECS[codec]
    out = src.replace("RTP/AVP 0\na=rtpmap:0 PCMU/8000", f"RTP/AVP {pt}\na=rtpmap:{pt} {rtpmap}")
    if out == src:
        raise SystemExit("bench: uac_media.xml's SDP changed; cannot derive the Opus caller")
    path = os.path.join(wd, f"uac_{codec}.xml")
    open(path, "w").write(out)
    return path


def phase_mediagw(procs, args, wd, codec):
    tag = f"mediagw-{codec}"
    gws = []
    try:
        for i in range(0 if args.dense else args.n):
            http = free_port(socket.SOCK_STREAM)
            forward = ["--set", "sip.rtp_forward=false"] if getattr(args, "no_forward", False) else []
            p = procs.start([args.mediagw, "run", args.pipeline, "--set", "sip.listen=udp:127.0.0.1:0",
                             "--set", f"web.listen=127.0.0.1:{http}"] + forward, os.path.join(wd, f"{tag}-gw{i}.log"),
                            env={"SIP_LISTEN": "udp:127.0.0.1:0", "HTTP_LISTEN": f"127.0.0.1:{http}"})
            m, t1 = wait_line(p, r"listening on sip:[\d.]+:(\d+)", 20)
            if not m:
                raise SystemExit(f"bench: gateway {i} not ready (exit {p.poll()}), see {p.logfile}")
            gws.append((p, int(m.group(1)), http, (t1 - p.exec_t) * 1000))
        if args.dense:
            gws = start_dense(procs, args, wd, tag)
        n = args.n
        gen_ports = free_even_udp_ports(n)
        inf = os.path.join(wd, f"{tag}-calls.csv")
        open(inf, "w").write("SEQUENTIAL\n" + "".join(f"{g[1]};{rp};{i}\n" for i, (g, rp) in
                                                          enumerate(zip(gws, gen_ports))))
        setup_s = n / CALL_RATE + 10
        hold_ms = int((setup_s + CONNECT_S + 5 + args.warmup + args.duration + 15) * 1000)  # BYE comes after we stop
        sipp_log = os.path.join(wd, f"{tag}-sipp-answers.log")
        procs.start(["sipp", f"127.0.0.1:{gws[0][1]}", "-sf", sipp_scenario(wd, codec), "-inf", inf,
                     "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()), "-m", str(n), "-l", str(n),
                     "-r", str(CALL_RATE), "-d", str(hold_ms), "-nostdin", "-recv_timeout", "10000",
                     "-timeout", str(int(hold_ms / 1000 + setup_s + 10)), "-trace_logs", "-log_file", sipp_log],
                    os.path.join(wd, f"{tag}-sipp.out"), cwd=wd)
        answers = {}
        deadline = time.monotonic() + setup_s
        while time.monotonic() < deadline and len(answers) < n:
            time.sleep(0.2)
            if os.path.exists(sipp_log):
                answers = dict(tuple(map(int, l.split())) for l in open(sipp_log) if re.match(r"\d+ \d+$", l.strip()))
        if len(answers) < n:
            log(f"{tag}: only {len(answers)}/{n} calls answered in {setup_s:.0f} s")
        gen = start_rtpgen(procs, args, wd, tag, codec, [[gen_ports[i], answers.get(i, 0)] for i in range(n)])
        def client_argv(http):
            base = f"http://127.0.0.1:{http}"
            if getattr(args, "client", "session") == "pair":
                return ["pair", "--whip", base + "/whip", "--whep", base + "/whep", "--retry", "10"]
            return ["session", base + "/session", "--retry", "10"]
        clients = [start_client(procs, args, wd, tag, i, client_argv(g[2])) for i, g in enumerate(gws)]
        r = run_media(procs, args, gen, clients, sorted({g[0].pid for g in gws}))
    finally:
        procs.stop_all()                 # clients, sipp (no BYE needed: the gateways go too), gateways
    r.update(answered=len(answers), startup_ms=[g[3] for g in gws], procs_per_call=1)
    return r


def start_dense(procs, args, wd, tag):
    """Dense mode: the N gateways in one process (`mediagw run FILE --set ... FILE --set ...`).
    [(proc, sip port, http port, exec -> all ready ms)] in gateway order."""
    argv, https = [args.mediagw, "run"], []
    for _ in range(args.n):
        https.append(free_port(socket.SOCK_STREAM))
        argv += [args.pipeline, "--set", "sip.listen=udp:127.0.0.1:0", "--set", f"web.listen=127.0.0.1:{https[-1]}"]
        if getattr(args, "no_forward", False):
            argv += ["--set", "sip.rtp_forward=false"]
    p = procs.start(argv, os.path.join(wd, f"{tag}-dense.log"), env={"SIP_LISTEN": "udp:127.0.0.1:0"})
    rx = r"\[[^\]#]+#(\d+) sip-sofia/sip\] listening on sip:[\d.]+:(\d+)"
    m, t1 = wait_line(p, r"(?s)(?:.*?%s){%d}" % (rx, args.n), 60)
    if not m:
        raise SystemExit(f"bench: dense gateways not ready (exit {p.poll()}), see {p.logfile}")
    ports = {int(i): int(port) for i, port in re.findall(rx, m.group(0))}
    return [(p, ports[i + 1], https[i], (t1 - p.exec_t) * 1000) for i in range(args.n)]


# --- figures ---------------------------------------------------------------------------
def digest(r):
    n, m = r["calls"], r["media"]
    cl = [c for c in r["clients"] if c]
    sub = [c.get("whep") or c.get("session") or c.get("answer") or {} for c in cl]  # the client side that receives
    win = [s.get("window", {}) for s in sub]
    rx, gaps = sum(w.get("rx_packets", 0) for w in win), sum(w.get("rx_gaps", 0) for w in win)
    lat = []
    for s in sub:   # onset - start of the burst it belongs to (latency < 0.6 period)
        d = [(o - m["t0"]) % m["period"] for o in s.get("onsets", []) if m.get("t0") and o > m["t0"]]
        d = [x for x in d if x < 0.6 * m["period"]]
        if d:
            lat.append(statistics.median(d) * 1000)
    heard = [h for h in m.get("heard_hz", []) if h]
    return dict(
        cpu_per_call=sum(r["cpu_pct"]) / n,
        switches_per_call_s=r.get("switches_per_s", float("nan")) / n,
        rss_mb=statistics.median(r["rss_kb"]) / 1024,
        mem_per_call_mb=sum(r["rss_kb"]) / 1024 / n,
        pss_per_call_mb=sum(r["pss_kb"]) / 1024 / n,
        loss_to_web_pct=100.0 * gaps / (rx + gaps) if rx + gaps else float("nan"),
        web_rx_per_call_s=rx / n / statistics.median([w["t"] for w in win if w.get("t")] or [1]),
        loss_to_sip_pct=m.get("loss_pct_window", float("nan")),
        sip_rx_over_tx=m.get("rx_window", 0) / max(1, m.get("tx_window", 0)),
        tone_ok=sum(1 for s in sub if s.get("freq_ok")),
        tone_back_ok=sum(1 for h in heard if abs(h - CLIENT_HZ) < 0.03 * CLIENT_HZ) if heard else float("nan"),
        latency_ms=statistics.median(lat) if lat else float("nan"),
        connected=r["connected"],
        answered=r["answered"],
        client_cpu_per_call=sum(r["client_cpu_pct"]) / n,
        startup_ms=statistics.median(r["startup_ms"]))


ROWS = [  # key, label, format, ratio?
    ("cpu_per_call", "CPU per call (% of one core)", "{:.2f}", True),
    ("switches_per_call_s", "context switches/s per call", "{:.0f}", True),
    ("rss_mb", "RSS per process, median (MB)", "{:.1f}", False),
    ("mem_per_call_mb", "RSS per call (MB)", "{:.2f}", True),
    ("pss_per_call_mb", "PSS per call (MB)", "{:.2f}", True),
    ("loss_to_web_pct", "loss SIP->WebRTC, seq gaps (%)", "{:.3f}", False),
    ("web_rx_per_call_s", "packets/s per call at the client", "{:.1f}", False),
    ("loss_to_sip_pct", "loss WebRTC->SIP, seq gaps (%)", "{:.3f}", False),
    ("sip_rx_over_tx", "WebRTC->SIP packets / SIP->WebRTC", "{:.3f}", False),
    ("tone_ok", "clients hearing the 1000 Hz tone", "{:.0f}", False),
    ("tone_back_ok", "SIP side hearing 440 Hz (PCMU only)", "{:.0f}", False),
    ("latency_ms", "SIP->WebRTC latency, median (ms)", "{:.0f}", False),
    ("connected", "clients connected", "{:.0f}", False),
    ("answered", "calls set up", "{:.0f}", False),
    ("client_cpu_per_call", "client processes' CPU per call (%)", "{:.2f}", False),
    ("startup_ms", "start-up to ready, median (ms)", "{:.0f}", False),
]
PEERS = ("mediagw", "rtpengine")


def fmt(vals, f):
    vals = [v for v in vals if v == v]              # NaN: not measured
    if not vals:
        return "-"
    return f.format(vals[0]) if len(vals) == 1 else f"{f.format(min(vals))} / {f.format(statistics.median(vals))}"


def report(args, runs, notes):
    print(f"\nscripts/bench webrtc: {args.n} concurrent SIP<->WebRTC calls, {args.duration:g} s window "
          f"(after {args.warmup:g} s warm-up), {len(runs)} run(s), {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"mediagw: {args.n} gateways ({os.path.relpath(args.pipeline, ROOT)}), "
          + ("all in one process (dense mode), " if args.dense else "one process each, ")
          + ("a WHIP + a WHEP client per call" if getattr(args, "client", "session") == "pair"
             else "one sendrecv WebRTC client per call (/session)")
          + ";\nrtpengine: one userspace process, one sendrecv WebRTC client per call. "
          f"Client jitter buffer {args.latency} ms.")
    for n in notes:
        print(f"note: {n}")
    if len(runs) > 1:
        print("cells: min / median over runs")
    summary = dict(bench="webrtc", n=args.n, window_s=args.duration, runs=len(runs))
    w = max(len(x[1]) for x in ROWS)
    for codec in args.codecs:
        title = "Opus passthrough" if codec == "opus" else "G.711 (PCMU) <-> Opus transcoding"
        have = {p: [digest(r[codec][p]) for r in runs if r.get(codec, {}).get(p)] for p in PEERS}
        print(f"\n{title}\n{'':{w}}  {'mediagw':>17}  {'rtpengine':>17}  {'mediagw/rtpengine':>17}")
        for key, label, f, ratio in ROWS:
            g, e = [x[key] for x in have["mediagw"]], [x[key] for x in have["rtpengine"]]
            gm = statistics.median(g) if g else float("nan")
            em = statistics.median(e) if e else float("nan")
            rt = f"{gm / em:.2f}" if ratio and gm == gm and em == em and em else ""
            print(f"{label:{w}}  {fmt(g, f):>17}  {fmt(e, f):>17}  {rt:>17}")
            for p, v in (("mediagw", gm), ("rtpengine", em)):
                summary[f"{codec}_{p}_{key}"] = round(v, 4) if v == v else None
    for i, r in enumerate(runs):
        for codec in args.codecs:
            for p in PEERS:
                bad = r.get(codec, {}).get(p, {}).get("silent_clients")
                if bad:
                    print(f"WARNING: run {i + 1} {codec} {p}: clients {bad} received no audio in the window "
                          "(--keep keeps their logs)")
    print("\nwhere the CPU goes (per-thread utime+stime in the window, % of one core per call, median run, top 8):")
    for codec in args.codecs:
        for p in PEERS:
            print_threads(f"{codec:5} {p:9}", [r[codec][p].get("threads") for r in runs if r.get(codec, {}).get(p)],
                          args.n)
    print("\nload (loadavg before -> after the window; whole-machine busy % in the window):")
    for i, r in enumerate(runs):
        for codec in args.codecs:
            for p in PEERS:
                x = r.get(codec, {}).get(p)
                if x:
                    print(f"  run {i + 1} {codec:5} {p:9} {x['load_before']} -> {x['load_after']}; "
                          f"busy {x['sys_busy_pct']} %")
    sys.stdout.flush()
    print("\nBENCH_WEBRTC " + json.dumps(summary, separators=(",", ":")))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "_rtpgen":
        return rtpgen_main(sys.argv[2])
    ap = argparse.ArgumentParser(prog="scripts/bench webrtc", description=__doc__.split("\n\n")[0])
    ap.add_argument("n", nargs="?", type=int, help="concurrent calls (default 10)")
    ap.add_argument("-d", "--duration", type=float, help="measurement window, s (default 30)")
    ap.add_argument("--warmup", type=float, help="media before the window opens, s (default 5)")
    ap.add_argument("--runs", type=int, help="runs per point (default 2)")
    ap.add_argument("--codec", choices=("opus", "pcmu", "both"), default="both",
                    help="opus: passthrough; pcmu: G.711 <-> Opus transcoding (default both)")
    ap.add_argument("--only", choices=PEERS, help="measure one peer only")
    ap.add_argument("--pipeline", default=os.path.join(ROOT, "pipelines", "sip-to-browser.toml"),
                    help="mediagw pipeline with nodes sip (sip-sofia) and web (webrtc-direct)")
    ap.add_argument("--latency", type=int, default=50, help="clients' jitter buffer, ms (default 50)")
    ap.add_argument("--client", choices=("session", "pair"), default="session",
                    help="mediagw's clients: one sendrecv connection (the page's way, default) or WHIP + WHEP")
    ap.add_argument("--no-forward", action="store_true",
                    help="mediagw: sip-sofia's rtp_forward off (the caller's RTP depayloaded, payloaded again)")
    ap.add_argument("--dense", action="store_true",
                    help="mediagw: the N gateways in one process (dense mode), rtpengine's process model")
    ap.add_argument("--quick", action="store_true", help="smoke run: 3 calls, 5 s window, 1 run")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, SDPs)")
    ap.add_argument("--mediagw", required=True, help=argparse.SUPPRESS)
    args = ap.parse_args()
    q = args.quick
    args.n = args.n or (3 if q else 10)
    args.duration = args.duration or (5 if q else 30)
    args.warmup = args.warmup if args.warmup is not None else (3 if q else 5)
    args.runs = args.runs or (1 if q else 2)
    args.codecs = ["opus", "pcmu"] if args.codec == "both" else [args.codec]
    args.pipeline = os.path.abspath(args.pipeline)
    notes, peers = [], [p for p in PEERS if args.only in (None, p)]
    for tool in ("sipp", "rtpengine"):
        if not shutil.which(tool):
            raise SystemExit(f"bench: {tool} not found (scripts/setup installs it)")
    if "mediagw" in peers and not os.path.exists(args.pipeline):
        notes.append(f"mediagw not measured: {os.path.relpath(args.pipeline, ROOT)} does not exist")
        peers.remove("mediagw")
    transcode = rtpengine_transcodes()
    if "pcmu" in args.codecs and "rtpengine" in peers and not transcode:
        notes.append("rtpengine not measured for PCMU: `rtpengine --codecs` lists no PCMU/Opus transcoding")
    notes.append("rtpengine " + ("transcodes (--codecs: PCMU and opus fully supported)" if transcode
                                 else "cannot transcode here"))

    wd = tempfile.mkdtemp(prefix="mgw-bench-webrtc-")
    procs = Procs()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    runs = []
    try:
        for i in range(args.runs):
            run = {}
            for codec in args.codecs:
                for peer in peers:
                    if peer == "rtpengine" and codec == "pcmu" and not transcode:
                        continue
                    d = os.path.join(wd, f"run{i + 1}")
                    os.makedirs(d, exist_ok=True)
                    log(f"run {i + 1}/{args.runs}: {peer}, {codec}, {args.n} calls (load {loadavg()})")
                    phase = phase_mediagw if peer == "mediagw" else phase_rtpengine
                    run.setdefault(codec, {})[peer] = r = phase(procs, args, d, codec)
                    g = digest(r)
                    if r["silent_clients"]:
                        log(f"  clients {r['silent_clients']} received no audio in the window")
                    log(f"  cpu/call {g['cpu_per_call']:.2f} %, rss {g['rss_mb']:.1f} MB, connected {g['connected']}/"
                        f"{args.n}, tone {g['tone_ok']}, loss {g['loss_to_web_pct']:.3f}/{g['loss_to_sip_pct']:.3f} %, "
                        f"latency {g['latency_ms']:.0f} ms")
            runs.append(run)
        with open(os.path.join(wd, "results.json"), "w") as f:
            json.dump(runs, f, indent=1)
        report(args, runs, notes)
    finally:
        procs.stop_all()
        if args.keep:
            log(f"work directory kept: {wd}")
        else:
            shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()
