#!/usr/bin/python3
"""scripts/bench browser: one SIP call into one web room through the browser-capture
gateway (pipelines/sip-to-browser-room.toml: input inject, output tab and output peers;
input devices + output screen once the node accepts it) and through the reference
chain built from the same parts (baresip + PulseAudio + Xvfb + Chromium + x11grab/x264),
at 640x360 and 1280x720, in one run: CPU, RSS/PSS and glass-to-glass latency.

Everything runs in a private network namespace (tests/lib/browser.py
enter_private_netns: veth 10.99.0.1/10.99.0.2 and a default route; Chromium gathers no
loopback candidate).

The room: a page served by this script on 127.0.0.1 that takes the camera and the
microphone (getUserMedia, audio processing off), sends them through a pair of
RTCPeerConnections inside the page (VP8 at the page size, Opus: the publish and
subscribe of a real room, on one page) and plays what the second one receives
full-screen in an unmuted <video>. So whatever the caller sends comes back: the page
is the room, and the "remote participant" is the caller himself.

The caller (`browser.py _caller`, GStreamer in its own process, not measured): sipp
signals the call (INVITE with Opus + VP8 for the gateway, Opus + H.264 for the
reference's baresip, which encodes H.264 with libx264), the caller process sends and
receives the RTP on the SDP's ports (one socket per medium, symmetric RTP, no RTCP, no
jitter buffer: loopback). It sends black video (WxH, FPS, a keyframe every 2 s) with
a white frame burst (100 ms) and silence with a 1000 Hz beep (100 ms, -6 dBFS) every
2 s, both at once, and timestamps (CLOCK_MONOTONIC) when the first white frame and the
first beep chunk are handed to its encoders; on the way back it decodes, and
timestamps the first decoded frame whose mean luma is above 100 (after >= 0.5 s dark)
and the first 5 ms block whose RMS is above -46 dBFS (after >= 0.5 s quiet).
Latency = received onset - sent onset of the last event sent before it: the whole
loop (caller encode -> SIP leg -> gateway -> page -> room loop -> capture -> gateway
-> caller decode), medians over the events of the warm-up and the window.

The gateway cases: `mediagw run pipelines/sip-to-browser-room.toml` with ROOM_URL =
the page, JOIN empty, OUTPUT tab|peers, WIDTH/HEIGHT, FRAMERATE; measured: the
gateway's process tree (the gateway and its Chromium, every process below it).
Case screen (input devices + output screen, when `mediagw inspect browser-capture`
lists input "devices"; otherwise the run says it is not available):
pipelines/sip-to-browser-room-devices.toml as tests/integration/browser/room_devices.py
runs it without kernel modules: its camera node taken out (no /dev/video*: the page's
camera is the canvas, as for the reference, and the flash loop is open), the snd-aloop
card stood in for by ALSA pulse PCMs on a stand-in PulseAudio (its CPU is printed, not
counted: a kernel driver's work in the real deployment); measured: the gateway's tree
(the gateway, its Xvfb, PulseAudio, Chromium). Without the camera node the gateway
does not decode and scale the caller's video (the shipped pipeline's v4l2loopback-sink
would), where the reference's baresip does: a few % of a core in the screen case's favour.

The reference chain, as the reference gateway runs it (its Docker image: baresip,
PulseAudio, Xvfb, a kiosk Chromium, x11grab + x264), built here:
  - Xvfb at WxH (-displayfd: a free display), PulseAudio (private, -n, native
    protocol on a socket in the work dir) with two null sinks: `to_page` (baresip
    plays the caller there; its monitor, remapped as a source with
    module-remap-source since Chromium lists no monitor as a microphone, is
    Chromium's default microphone) and
    `from_page` (Chromium's default output; its monitor is baresip's audio source);
  - baresip answers the call (answermode auto): audio through its alsa module on
    ALSA pcm devices of type pulse (the pulse plugin of alsa-plugins: baresip 1.0
    has no pulse module), the caller's video received and decoded (H.264, avcodec)
    into the fakevideo display;
  - the screen capture encoder: no ffmpeg CLI on this machine, and baresip 1.0's
    avformat source refuses x11grab's bgr0 frames, so GStreamer `ximagesrc !
    videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast` (libx264, the
    bitrate of the gateway cases) at FPS, packetized (H.264, packetization-mode 0
    answered by baresip) and sent straight to the caller's video port: the caller
    offers its video sendonly to baresip, so the room's video comes from the
    capture process, not through baresip (the reference pipes its ffmpeg output
    into the SIP leg; one hop less here);
  - Chromium, non-headless, --kiosk at WxH on that display (PulseAudio for audio,
    --use-fake-ui-for-media-stream to grant the microphone), on the same page.
  Measured: the sum of the process trees of baresip, pulseaudio, Xvfb, Chromium and
  the capture encoder.
  What differs from the reference: there is no /dev/video* (no v4l2loopback) here, so
  the caller's video cannot become Chromium's camera: the reference page's camera is
  a black WxH canvas stream drawn by the page (?cam=canvas), the caller's video is
  decoded by baresip and dropped (the reference would write it to v4l2loopback), and
  the reference's video loop is open: its flash latency is not measured (n/a), only
  the beep's. The capture is GStreamer's ximagesrc + x264enc, not ffmpeg's x11grab.

CPU: utime+stime of each process tree over the window (scripts/bench.d/sip.py
measure(), % of one core), max RSS and PSS of the tree sampled each second, and a
breakdown per process (Chromium processes by --type). Each case is run --runs times
(default 2); cells are min / median. The load average is recorded before and after
each window; before each case the script waits (up to 60 s) for the 1-minute load to
fall under --max-load (default 6 on this shared 2-core machine).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
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
from sip import Procs, free_port, loadavg, log, wait_line  # noqa: E402

PY = "/usr/bin/python3"
PIPELINE = os.path.join(ROOT, "pipelines", "sip-to-browser-room.toml")
SIZES = {"360p": (640, 360), "720p": (1280, 720)}
CASES = ("tab", "peers", "screen", "reference")
PERIOD_S, EVENT_S, BEEP_HZ = 2.0, 0.1, 1000
AUDIO_PT, VP8_PT, H264_PT = 111, 96, 97
LOOP_S = 60                     # bound on call set-up + page load + first media back

ROOM_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>bench room</title>
<style>html,body{margin:0;height:100%;background:#000;overflow:hidden}
video{position:fixed;left:0;top:0;width:100vw;height:100vh;object-fit:fill;background:#000}</style></head>
<body><video id="v" autoplay playsinline></video><script>
(async () => {
  const q = new URLSearchParams(location.search);
  const W = +q.get('w') || 640, H = +q.get('h') || 360, FPS = +q.get('fps') || 25;
  const audio = {echoCancellation: false, noiseSuppression: false, autoGainControl: false};
  let s;
  if (q.get('cam') === 'canvas') {   // the reference chain: no camera device here
    const a = await navigator.mediaDevices.getUserMedia({audio});
    const c = document.createElement('canvas'); c.width = W; c.height = H;
    const g = c.getContext('2d');
    setInterval(() => { g.fillStyle = '#000'; g.fillRect(0, 0, W, H);
      g.fillStyle = '#222'; g.fillRect((performance.now() / 10) % W, 0, 8, 8); }, 1000 / FPS);
    s = new MediaStream([...a.getAudioTracks(), ...c.captureStream(FPS).getVideoTracks()]);
  } else {
    s = await navigator.mediaDevices.getUserMedia({audio, video: {width: W, height: H, frameRate: FPS}});
  }
  const gathered = p => new Promise(r => { const f = () => p.iceGatheringState === 'complete' && r();
    p.addEventListener('icegatheringstatechange', f); f(); setTimeout(r, 3000); });
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  const v = document.getElementById('v');
  b.ontrack = e => { if (v.srcObject !== e.streams[0]) { v.srcObject = e.streams[0]; v.play().catch(() => {}); } };
  for (const t of s.getTracks()) a.addTrack(t, s);
  await a.setLocalDescription(await a.createOffer()); await gathered(a);
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer()); await gathered(b);
  await a.setRemoteDescription(b.localDescription);
  window.benchRoom = 'up';
})().catch(e => { window.benchRoom = 'error: ' + e; console.error(e); });
</script></body></html>
"""

SIPP_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- scripts/bench browser: one call; audio + video SDP pointing at the caller process;
     logs "AUDIO_PORT VIDEO_PORT" of the answer, holds the call (-d), BYE. -->
<scenario name="bench browser uac">
  <send retrans="500"><![CDATA[
INVITE sip:room@127.0.0.1:{sip_port} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
To: room <sip:room@127.0.0.1:{sip_port}>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio {aport} RTP/AVP {apt}
a=rtpmap:{apt} opus/48000/2
a=fmtp:{apt} useinbandfec=1
a=ptime:20
a=sendrecv
m=video {vport} RTP/AVP {vpt}
a=rtpmap:{vpt} {vcodec}/90000
{vfmtp}a={vdir}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true">
    <action>
      <ereg regexp="m=audio ([0-9]+)" search_in="body" check_it="true" assign_to="m,aport"/>
      <ereg regexp="m=video ([0-9]+)" search_in="body" check_it="true" assign_to="w,vport"/>
      <log message="ANSWER [$aport] [$vport]"/>
    </action>
  </recv>
  <send><![CDATA[
ACK sip:room@127.0.0.1:{sip_port} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
To: room <sip:room@127.0.0.1:{sip_port}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause/>
  <send retrans="500"><![CDATA[
BYE sip:room@127.0.0.1:{sip_port} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
To: room <sip:room@127.0.0.1:{sip_port}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" optional="true"/>
  <Reference variables="m,w"/>
</scenario>
"""


# --- the caller (its own process) ---------------------------------------------------------
def caller_main(spec_file):
    """Sends black video with white flashes and silence with beeps, receives and timestamps
    what comes back. Prints {"ready"}, {"first": ...} lines, and on SIGTERM one result line."""
    import audioop
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gio, GLib, Gst
    Gst.init(None)
    spec = json.load(open(spec_file))
    w, h, fps = spec["width"], spec["height"], spec["fps"]
    h264 = spec["vcodec"] == "H264"
    socks = {}
    for kind in ("audio", "video"):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", spec[f"{kind}_port"]))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        socks[kind] = s
    print(json.dumps({"ready": True}), flush=True)
    while not os.path.exists(spec["answer_file"]):
        time.sleep(0.01)
    time.sleep(0.05)
    a_port, v_port = map(int, open(spec["answer_file"]).read().split())
    venc = (f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={2 * fps} bitrate={spec['kbps']} ! "
            f"video/x-h264,profile=constrained-baseline ! rtph264pay pt={H264_PT} mtu=1200 config-interval=-1"
            if h264 else
            f"vp8enc deadline=1 cpu-used=8 keyframe-max-dist={2 * fps} end-usage=cbr "
            f"target-bitrate={spec['kbps'] * 1000} error-resilient=partitions ! "
            f"rtpvp8pay pt={VP8_PT} mtu=1200 picture-id-mode=15-bit")
    vcaps = (f"application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload={H264_PT}" if h264 else
             f"application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload={VP8_PT}")
    vdec = "rtph264depay ! avdec_h264 name=vdec" if h264 else "rtpvp8depay ! vp8dec name=vdec"
    desc = (
        "appsrc name=asrc is-live=true format=time do-timestamp=true "
        "caps=audio/x-raw,format=S16LE,rate=48000,channels=1,layout=interleaved ! audioconvert ! "
        f"opusenc frame-size=20 bitrate=48000 ! rtpopuspay pt={AUDIO_PT} ! udpsink name=aout sync=false async=false "
        "appsrc name=vsrc is-live=true format=time do-timestamp=true "
        f"caps=video/x-raw,format=I420,width={w},height={h},framerate={fps}/1 ! {venc} ! "
        "udpsink name=vout sync=false async=false "
        f"udpsrc name=ain caps=application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload={AUDIO_PT} ! "
        "rtpopusdepay ! opusdec ! audioconvert ! audioresample ! "
        "audio/x-raw,format=S16LE,rate=48000,channels=1 ! appsink name=asink sync=false async=false emit-signals=true "
        f"udpsrc name=vin caps={vcaps} ! {vdec} ! videoconvert ! videoscale ! "
        "video/x-raw,format=GRAY8,width=32,height=18 ! appsink name=vsink sync=false async=false emit-signals=true")
    pipe = Gst.parse_launch(desc)
    for kind, src, sink, port in (("audio", "ain", "aout", a_port), ("video", "vin", "vout", v_port)):
        gs = Gio.Socket.new_from_fd(socks[kind].fileno())
        pipe.get_by_name(src).set_property("socket", gs)
        pipe.get_by_name(src).set_property("close-socket", False)
        snk = pipe.get_by_name(sink)
        snk.set_property("socket", gs)
        snk.set_property("close-socket", False)
        snk.set_property("host", "127.0.0.1")
        snk.set_property("port", port)
    res = {"sent": {"audio": [], "video": []}, "recv": {"audio": [], "video": []}, "frames": [], "size": None,
           "audio_blocks": 0}
    first = {}
    lock = threading.Lock()

    def note_first(kind, t):
        if kind not in first:
            first[kind] = t
            print(json.dumps({"first": kind, "t": t}), flush=True)

    vstate = {"dark_since": None, "lit": False}

    def on_video(sink):
        now = time.monotonic()
        sample = sink.emit("pull-sample")
        buf = sample.get_buffer()
        ok, m = buf.map(Gst.MapFlags.READ)
        if not ok:
            return Gst.FlowReturn.OK
        mean = sum(m.data) / max(1, len(m.data))
        buf.unmap(m)
        with lock:
            res["frames"].append(now)
            if mean > 100:
                if not vstate["lit"] and vstate["dark_since"] is not None and now - vstate["dark_since"] >= 0.5:
                    res["recv"]["video"].append(now)
                    note_first("flash", now)
                vstate["lit"], vstate["dark_since"] = True, None
            elif mean < 60:
                if vstate["lit"] or vstate["dark_since"] is None:
                    vstate["dark_since"] = now
                vstate["lit"] = False
        note_first("video", now)
        return Gst.FlowReturn.OK

    astate = {"quiet_since": None, "loud": False}
    block = 240   # 5 ms at 48 kHz
    thr = int(32768 * 10 ** (-46 / 20))

    def on_audio(sink):
        now = time.monotonic()
        sample = sink.emit("pull-sample")
        buf = sample.get_buffer()
        data = buf.extract_dup(0, buf.get_size())
        n = len(data) // 2
        with lock:
            res["audio_blocks"] += 1
            for i in range(0, n - block + 1, block):
                rms = audioop.rms(data[2 * i:2 * (i + block)], 2)
                t = now - (n - i) / 48000.0
                if rms > thr:
                    if not astate["loud"] and astate["quiet_since"] is not None and t - astate["quiet_since"] >= 0.5:
                        res["recv"]["audio"].append(t)
                        note_first("beep", t)
                    astate["loud"], astate["quiet_since"] = True, None
                else:
                    if astate["loud"] or astate["quiet_since"] is None:
                        astate["quiet_since"] = t
                    astate["loud"] = False
        note_first("audio", now)
        return Gst.FlowReturn.OK

    pipe.get_by_name("vsink").connect("new-sample", on_video)
    pipe.get_by_name("asink").connect("new-sample", on_audio)

    def size_probe(pad, info):
        caps = pad.get_current_caps()
        if caps:
            st = caps.get_structure(0)
            res["size"] = [st.get_value("width"), st.get_value("height")]
        return Gst.PadProbeReturn.OK
    pipe.get_by_name("vdec").get_static_pad("src").add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, size_probe)

    pipe.set_state(Gst.State.PLAYING)
    asrc, vsrc = pipe.get_by_name("asrc"), pipe.get_by_name("vsrc")
    import math
    beep = bytearray()
    for i in range(960):
        beep += int(16384 * math.sin(2 * math.pi * BEEP_HZ * i / 48000)).to_bytes(2, "little", signed=True)
    chunks = {False: GLib.Bytes.new(bytes(1920)), True: GLib.Bytes.new(bytes(beep))}
    ysz = w * h
    frames = {False: GLib.Bytes.new(bytes([16]) * ysz + bytes([128]) * (ysz // 2)),
              True: GLib.Bytes.new(bytes([235]) * ysz + bytes([128]) * (ysz // 2))}
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def pump():
        t0 = time.monotonic() + 0.5
        na = nv = 0
        a_on = v_on = False
        while not stop.is_set():
            ta, tv = t0 + na * 0.02, t0 + nv / fps
            t = min(ta, tv)
            d = t - time.monotonic()
            if d > 0:
                time.sleep(d)
            if ta <= tv:
                ph = (ta - t0) % PERIOD_S
                on = ph < EVENT_S - 1e-6
                if on and not a_on:
                    res["sent"]["audio"].append(time.monotonic())
                a_on = on
                asrc.emit("push-buffer", Gst.Buffer.new_wrapped_bytes(chunks[on]))
                na += 1
            else:
                ph = (tv - t0) % PERIOD_S
                on = ph < EVENT_S - 1e-6
                if on and not v_on:
                    res["sent"]["video"].append(time.monotonic())
                v_on = on
                vsrc.emit("push-buffer", Gst.Buffer.new_wrapped_bytes(frames[on]))
                nv += 1

    th = threading.Thread(target=pump, daemon=True)
    th.start()
    bus = pipe.get_bus()
    while not stop.is_set():
        msg = bus.timed_pop_filtered(100 * Gst.MSECOND, Gst.MessageType.ERROR)
        if msg:
            err, dbg = msg.parse_error()
            print(f"caller: error {err.message} ({dbg})", file=sys.stderr, flush=True)
            res["error"] = err.message
            break
    stop.set()
    th.join(2)
    pipe.set_state(Gst.State.NULL)
    with lock:
        print(json.dumps(res), flush=True)
    return 0


# --- the room page ---------------------------------------------------------------------------
def serve_room():
    import http.server

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = ROOM_HTML.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, srv.server_address[1]


# --- measurement: CPU per tree, and per process kind ---------------------------------------
def proc_label(pid):
    try:
        comm = open(f"/proc/{pid}/comm").read().strip()
        argv = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").split()  # Chromium retitles
    except OSError:
        return "?"
    for a in argv:
        if a.startswith(b"--type="):
            t = a[7:].decode()
            for b in argv:
                if b.startswith(b"--utility-sub-type="):
                    t += ":" + b.split(b"=", 1)[1].decode().split(".")[-1]
            return "chromium " + t
    if comm.startswith("chrom"):
        return "chromium browser"
    return comm


def measure(groups, window):
    """groups: {name: [root pids]}. CPU (% of one core) of every tree over window, max RSS/PSS
    (summed over the group's trees, sampled each second), CPU per process label."""
    t0_table, t0, b0 = sip.proc_table(), time.monotonic(), sip.sys_busy()
    trees = {g: set().union(*[sip.tree(t0_table, r) for r in roots]) for g, roots in groups.items()}
    ticks0 = {pid: t0_table[pid][1] for tr in trees.values() for pid in tr}
    labels = {pid: proc_label(pid) for tr in trees.values() for pid in tr}
    rss = dict.fromkeys(groups, 0)
    pss = dict.fromkeys(groups, 0)
    while time.monotonic() - t0 < window:
        time.sleep(min(1.0, max(0.01, window - (time.monotonic() - t0))))
        table = sip.proc_table()
        for g, roots in groups.items():
            cur = set().union(*[sip.tree(table, r) for r in roots])
            for pid in cur - trees[g]:
                labels[pid] = proc_label(pid)
            trees[g] |= cur
            a, b = sip.mem_kb(cur)
            rss[g], pss[g] = max(rss[g], a), max(pss[g], b)
    t1, el, b1 = sip.proc_table(), time.monotonic() - t0, sip.sys_busy()
    cpu, by = {}, {}
    for g, tr in trees.items():
        tot = 0
        by[g] = {}
        for pid in tr:
            d = t1.get(pid, (0, ticks0.get(pid, 0)))[1] - ticks0.get(pid, 0)
            tot += d
            lab = labels.get(pid, "?")
            by[g][lab] = by[g].get(lab, 0) + 100.0 * d / sip.HZ / el
        cpu[g] = 100.0 * tot / sip.HZ / el
    busy = 100.0 * (b1[0] - b0[0]) / max(1, b1[1] - b0[1])
    return cpu, rss, pss, by, busy


def latencies(sent, recv, t_from, t_to):
    """[received - last sent before it] for the received onsets in [t_from, t_to]; events sent
    in the span that never came back count as missed."""
    out, matched = [], set()
    for r in recv:
        if not t_from <= r <= t_to:
            continue
        prior = [s for s in sent if s <= r]
        if prior and r - prior[-1] < PERIOD_S * 0.9:
            out.append((r - prior[-1]) * 1000)
            matched.add(prior[-1])
    expected = [s for s in sent if t_from <= s <= t_to - 1.0]
    missed = len([s for s in expected if s not in matched])
    return out, missed


# --- one case ----------------------------------------------------------------------------------
def wait_load(max_load, limit=60):
    t0 = time.monotonic()
    while float(loadavg().split()[0]) > max_load and time.monotonic() - t0 < limit:
        time.sleep(5)
    return time.monotonic() - t0


def start_caller(procs, args, wd, tag, w, h, vcodec):
    ports = sip.free_even_udp_ports(2, start=33000, stop=40000)
    spec = dict(width=w, height=h, fps=args.fps, vcodec=vcodec, audio_port=ports[0], video_port=ports[1],
                kbps=args.kbps[(w, h)], answer_file=os.path.join(wd, f"{tag}-answer.txt"))
    sf = os.path.join(wd, f"{tag}-caller.json")
    json.dump(spec, open(sf, "w"))
    c = procs.start([PY, os.path.abspath(__file__), "_caller", sf], os.path.join(wd, f"{tag}-caller.log"),
                    env={"GST_DEBUG": os.environ.get("GST_DEBUG", "0")})
    if not wait_line(c, r'"ready"', 15)[0]:
        raise RuntimeError(f"caller not ready, see {c.logfile}")
    return c, spec


def place_call(procs, args, wd, tag, sip_port, spec):
    h264 = spec["vcodec"] == "H264"
    xml = SIPP_XML.format(sip_port=sip_port, aport=spec["audio_port"], vport=spec["video_port"], apt=AUDIO_PT,
                          vpt=H264_PT if h264 else VP8_PT, vcodec=spec["vcodec"],
                          vfmtp=("" if h264 else   # baresip 1.0 answers H.264 only in packetization-mode 0
                                 f"a=rtcp-fb:{VP8_PT} nack pli\n"),
                          vdir="sendonly" if h264 else "sendrecv")   # reference: the capture sends the video
    sf = os.path.join(wd, f"{tag}-uac.xml")
    open(sf, "w").write(xml)
    slog = os.path.join(wd, f"{tag}-sipp-answers.log")
    hold_ms = int((LOOP_S + args.warmup + args.duration + 30) * 1000)
    sipp = procs.start(["sipp", f"127.0.0.1:{sip_port}", "-sf", sf, "-i", "127.0.0.1", "-p", str(free_port()),
                        "-mp", str(free_port()), "-m", "1", "-d", str(hold_ms), "-nostdin", "-recv_timeout", "20000",
                        "-trace_logs", "-log_file", slog, "-trace_err"], os.path.join(wd, f"{tag}-sipp.out"), cwd=wd)
    deadline = time.monotonic() + 25
    while time.monotonic() < deadline and sipp.poll() is None:
        if os.path.exists(slog):
            m = re.search(r"ANSWER (\d+) (\d+)", open(slog).read())
            if m:
                with open(spec["answer_file"] + ".tmp", "w") as f:
                    f.write(f"{m.group(1)} {m.group(2)}\n")
                os.rename(spec["answer_file"] + ".tmp", spec["answer_file"])
                return sipp
        time.sleep(0.05)
    raise RuntimeError(f"no answer to the call (sipp exit {sipp.poll()}), see {sipp.logfile}")


def run_window(procs, args, caller, groups, need_flash):
    """Waits for the loop (the caller's beep, and flash where the video loop is closed) to come
    back, warm-up, measures; stops the caller and returns its results with the figures."""
    pats = [r'"first": "beep"', r'"first": "video"'] + ([r'"first": "flash"'] if need_flash else [])
    t_start = time.monotonic()
    for pat in pats:
        if not wait_line(caller, pat, max(1, LOOP_S - (time.monotonic() - t_start)))[0]:
            raise RuntimeError(f"the loop did not come back ({pat} missing after {LOOP_S} s), see {caller.logfile}")
    loop_s = time.monotonic() - t_start
    time.sleep(args.warmup / 2)
    t_lat0 = time.monotonic()
    time.sleep(args.warmup / 2)
    load0 = loadavg()
    t_win0 = time.monotonic()
    cpu, rss, pss, by, busy = measure(groups, args.duration)
    t_win1 = time.monotonic()
    load1 = loadavg()
    procs.stop([caller], timeout=5)
    r = next((json.loads(l) for l in reversed(open(caller.logfile).read().splitlines())
              if l.startswith('{"sent"')), None)
    if not r:
        raise RuntimeError(f"no result from the caller, see {caller.logfile}")
    la, ma = latencies(r["sent"]["audio"], r["recv"]["audio"], t_lat0, t_win1)
    lv, mv = latencies(r["sent"]["video"], r["recv"]["video"], t_lat0, t_win1)
    fr = [t for t in r["frames"] if t_win0 <= t <= t_win1]
    return dict(cpu=cpu, rss_kb=rss, pss_kb=pss, by_process=by, sys_busy_pct=round(busy, 1), load_before=load0,
                load_after=load1, audio_ms=la, audio_missed=ma, video_ms=lv if need_flash else [],
                video_missed=mv if need_flash else None, rx_fps=len(fr) / max(0.1, t_win1 - t_win0),
                rx_size=r["size"], first_loop_s=round(loop_s, 1))


def case_gateway(procs, args, wd, tag, output, w, h, url):
    caller, spec = start_caller(procs, args, wd, tag, w, h, "VP8")
    gw = procs.start([args.mediagw, "run", PIPELINE, "-v"], os.path.join(wd, f"{tag}-gw.log"),
                     env={"SIP_LISTEN": "udp:127.0.0.1:0", "ROOM_URL": f"{url}?w={w}&h={h}&fps={args.fps}",
                          "JOIN": "", "OUTPUT": output, "WIDTH": str(w), "HEIGHT": str(h),
                          "FRAMERATE": str(args.fps), "ALONE_TIMEOUT": "0", "DISPLAY_NAME": "bench caller"})
    try:
        m, _ = wait_line(gw, r"listening on sip:[\d.]+:(\d+)", 20)
        if not m:
            raise RuntimeError(f"gateway not ready (exit {gw.poll()}), see {gw.logfile}")
        sipp = place_call(procs, args, wd, tag, int(m.group(1)), spec)
        r = run_window(procs, args, caller, {"total": [gw.pid]}, True)
        procs.stop([sipp], timeout=2)
    finally:
        procs.stop([caller, gw], timeout=10)
    return r


BARESIP_REF = """poll_method epoll
sip_listen 127.0.0.1:{port}
call_local_timeout 120
audio_player alsa,to_page
audio_source alsa,from_page
audio_alert alsa,to_page
ausrc_srate 48000
auplay_srate 48000
ausrc_channels 1
auplay_channels 1
audio_level no
rtp_ports 41000-41999
jitter_buffer_delay 1-5
rtcp_mux no
net_interface 127.0.0.1
video_source fakevideo,nil
video_display fakevideo,nil
video_size {w}x{h}
video_bitrate {bps}
video_fps {fps}
module_path /usr/lib/baresip/modules
module opus.so
module alsa.so
module avcodec.so
module fakevideo.so
module_app account.so
module_app menu.so
"""
ASOUNDRC = """pcm.to_page {{ type pulse; device to_page; server "{server}" }}
pcm.from_page {{ type pulse; device from_page.monitor; server "{server}" }}
"""


def start_xvfb(procs, wd, w, h, tag):
    r, wfd = os.pipe()
    out = open(os.path.join(wd, f"{tag}-xvfb.log"), "wb")
    p = subprocess.Popen(["Xvfb", "-displayfd", str(wfd), "-screen", "0", f"{w}x{h}x24", "-nolisten", "tcp",
                          "-noreset"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         pass_fds=(wfd,), preexec_fn=sip._die_with_parent)
    out.close()
    p.logfile = out.name
    procs.all.append(p)
    os.close(wfd)
    buf = b""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not buf.endswith(b"\n"):
        import select
        if select.select([r], [], [], 0.5)[0]:
            chunk = os.read(r, 16)
            if not chunk:
                break
            buf += chunk
    os.close(r)
    if not buf.strip():
        raise RuntimeError(f"Xvfb did not start, see {p.logfile}")
    return p, ":" + buf.decode().strip()


def case_reference(procs, args, wd, tag, w, h, url):
    home = os.path.join(wd, f"{tag}-home")
    os.makedirs(home, exist_ok=True)
    caller, spec = start_caller(procs, args, wd, tag, w, h, "H264")
    started = []
    try:
        xvfb, display = start_xvfb(procs, wd, w, h, tag)
        started.append(xvfb)
        rt = os.path.join(home, "pulse")
        os.makedirs(rt, exist_ok=True)
        server = f"unix:{rt}/native"
        penv = {"PULSE_RUNTIME_PATH": rt, "XDG_RUNTIME_DIR": home, "HOME": home, "PULSE_SERVER": server}
        pulse = procs.start(["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
                             "--disallow-module-loading=no", "-L", "module-native-protocol-unix auth-anonymous=1",
                             "-L", "module-null-sink sink_name=to_page", "-L", "module-null-sink sink_name=from_page",
                             # Chromium lists no monitor source as a microphone: a remapped one
                             "-L", "module-remap-source master=to_page.monitor source_name=page_mic"],
                            os.path.join(wd, f"{tag}-pulse.log"), env=penv)
        started.append(pulse)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if subprocess.run(["pactl", "info"], env=dict(os.environ, **penv), capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        for cmd in (["set-default-sink", "from_page"], ["set-default-source", "page_mic"]):
            subprocess.run(["pactl"] + cmd, env=dict(os.environ, **penv), check=True, capture_output=True)
        open(os.path.join(home, ".asoundrc"), "w").write(ASOUNDRC.format(server=server))
        conf = os.path.join(home, "baresip")
        os.makedirs(conf, exist_ok=True)
        port = free_port()
        open(os.path.join(conf, "config"), "w").write(BARESIP_REF.format(
            port=port, display=display, w=w, h=h, fps=args.fps, bps=args.kbps[(w, h)] * 1000))
        open(os.path.join(conf, "accounts"), "w").write(
            f"<sip:room@127.0.0.1:{port}>;regint=0;answermode=auto;audio_codecs=opus/48000/2;video_codecs=H264\n")
        bs = procs.start(["baresip", "-f", conf], os.path.join(wd, f"{tag}-baresip.log"), env=penv)
        started.append(bs)
        if not wait_line(bs, r"baresip is ready", 20)[0]:
            raise RuntimeError(f"baresip not ready, see {bs.logfile}")
        prof = os.path.join(home, "chromium")
        cr = procs.start(["chromium", "--kiosk", "--no-sandbox", "--test-type", f"--user-data-dir={prof}",
                          "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                          "--disable-component-update", "--disable-sync", "--disable-default-apps",
                          "--disable-extensions", "--disable-dev-shm-usage", "--password-store=basic",
                          "--autoplay-policy=no-user-gesture-required", "--use-fake-ui-for-media-stream",
                          "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                          "--disable-backgrounding-occluded-windows", "--disable-infobars", "--enable-logging=stderr",
                          "--disable-features=WebRtcHideLocalIpsWithMdns,Translate,MediaRouter,OptimizationHints",
                          f"--window-size={w},{h}", "--window-position=0,0",
                          f"{url}?w={w}&h={h}&fps={args.fps}&cam=canvas"],
                         os.path.join(wd, f"{tag}-chromium.log"), env=dict(penv, DISPLAY=display))
        started.append(cr)
        # the screen, captured and encoded, to the caller's video port (the RTP baresip would send)
        kb = args.kbps[(w, h)]
        cap = procs.start(["gst-launch-1.0", "-q", "ximagesrc", f"display-name={display}", "use-damage=false",
                           "show-pointer=false", "!", f"video/x-raw,framerate={args.fps}/1", "!", "videoconvert", "!",
                           "video/x-raw,format=I420", "!", "x264enc", "tune=zerolatency", "speed-preset=ultrafast",
                           f"bitrate={kb}", f"key-int-max={2 * args.fps}", "!",
                           "video/x-h264,profile=constrained-baseline", "!", "rtph264pay", f"pt={H264_PT}",
                           "config-interval=-1", "mtu=1200", "!", "udpsink", "host=127.0.0.1",
                           f"port={spec['video_port']}", "sync=false"],
                          os.path.join(wd, f"{tag}-capture.log"), env=dict(penv, DISPLAY=display))
        started.append(cap)
        time.sleep(2)        # the page up before the call, as the reference's browser sits in the room
        sipp = place_call(procs, args, wd, tag, port, spec)
        r = run_window(procs, args, caller, {"total": [bs.pid, pulse.pid, xvfb.pid, cr.pid, cap.pid]}, False)
        procs.stop([sipp], timeout=2)
    finally:
        procs.stop([caller] + started[::-1], timeout=8)
    return r


DEVICES_PIPELINE = os.path.join(ROOT, "pipelines", "sip-to-browser-room-devices.toml")


def case_screen(procs, args, wd, tag, w, h, url):
    """Input devices + output screen (pipelines/sip-to-browser-room-devices.toml) as
    tests/integration/browser/room_devices.py runs it here: the snd-aloop card stood in for by
    ALSA pulse PCMs on a stand-in PulseAudio (not counted: a kernel driver's work), the camera
    node left out (no /dev/video*: the page's camera is the canvas, as for the reference)."""
    home = os.path.join(wd, f"{tag}-home")
    rt = os.path.join(home, "standin-pulse")
    os.makedirs(rt, mode=0o700)
    open(os.path.join(home, ".asoundrc"), "w").write(
        "pcm.gwout {\n  type pulse\n  device nsink\n}\npcm.gwin {\n  type pulse\n  device nsink.monitor\n}\n")
    env = {"PULSE_RUNTIME_PATH": rt, "XDG_RUNTIME_DIR": rt, "HOME": home}
    caller, spec = start_caller(procs, args, wd, tag, w, h, "VP8")
    started = [caller]
    try:
        standin = procs.start(["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
                               "-L", "module-null-sink sink_name=nsink rate=48000",
                               "-L", "module-native-protocol-unix"],
                              os.path.join(wd, f"{tag}-standin-pulse.log"), env=env)
        started.append(standin)
        deadline = time.monotonic() + 15
        while subprocess.run(["pactl", "info"], env=dict(os.environ, **env), capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the stand-in PulseAudio did not come up")
            time.sleep(0.1)
        text = open(DEVICES_PIPELINE).read()
        cut = re.sub(r"\n\[node\.camera\]\n.*?(?=\n\[node\.)", "\n", text, flags=re.S)
        if "[node.camera]" in cut:
            raise RuntimeError("cannot take the camera node out of " + DEVICES_PIPELINE)
        toml = os.path.join(wd, f"{tag}-devices-no-camera.toml")
        open(toml, "w").write(cut)
        gw = procs.start([args.mediagw, "run", toml, "-v"], os.path.join(wd, f"{tag}-gw.log"),
                         env=dict(env, SIP_LISTEN="udp:127.0.0.1:0", ALOOP_DEVICE="gwout", AUDIO_DEVICE="gwin",
                                  ROOM_URL=f"{url}?w={w}&h={h}&fps={args.fps}&cam=canvas", JOIN="", WIDTH=str(w),
                                  HEIGHT=str(h), FRAMERATE=str(args.fps), ALONE_TIMEOUT="0",
                                  DISPLAY_NAME="bench caller"))
        started.append(gw)
        m, _ = wait_line(gw, r"listening on sip:[\d.]+:(\d+)", 20)
        if not m:
            raise RuntimeError(f"gateway not ready (exit {gw.poll()}), see {gw.logfile}")
        sipp = place_call(procs, args, wd, tag, int(m.group(1)), spec)
        r = run_window(procs, args, caller, {"total": [gw.pid], "standin": [standin.pid]}, False)
        procs.stop([sipp], timeout=2)
    finally:
        procs.stop(started[::-1], timeout=10)
    return r


def devices_available(mediagw):
    r = subprocess.run([mediagw, "inspect", "browser-capture"], capture_output=True, text=True)
    m = re.search(r"^\s*input\s+enum \(([^)]*)\)", r.stdout, re.M)
    return bool(m and "devices" in m.group(1).split("|"))


# --- report ------------------------------------------------------------------------------------
def digest(r):
    med = lambda v: statistics.median(v) if v else None
    return dict(cpu=r["cpu"]["total"], rss_mb=r["rss_kb"]["total"] / 1024, pss_mb=r["pss_kb"]["total"] / 1024,
                audio_ms=med(r["audio_ms"]), video_ms=med(r["video_ms"]), rx_fps=r["rx_fps"],
                audio_n=len(r["audio_ms"]), video_n=len(r["video_ms"]), audio_missed=r["audio_missed"],
                video_missed=r["video_missed"])


def fmt(vals, f):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "n/a"
    if len(vals) == 1:
        return f.format(vals[0])
    return f"{f.format(min(vals))} / {f.format(statistics.median(vals))}"


ROWS = [("cpu", "CPU (% of one core)", "{:.0f}"),
        ("rss_mb", "RSS (MB)", "{:.0f}"),
        ("pss_mb", "PSS (MB)", "{:.0f}"),
        ("audio_ms", "beep loop latency, median (ms)", "{:.0f}"),
        ("video_ms", "flash loop latency, median (ms)", "{:.0f}"),
        ("rx_fps", "video back to the caller (fps)", "{:.1f}")]


def report(args, results, notes):
    print(f"\nscripts/bench browser: one call, the room = a page looping its camera/microphone back "
          f"(in-page RTCPeerConnection pair), {args.duration:g} s window after {args.warmup:g} s warm-up, "
          f"{args.fps} fps, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}")
    print("cells: min / median over runs; ratio = median / median of the reference chain at that size")
    cases = [c for c in CASES if any(k[0] == c for k in results)]
    summary = dict(bench="browser", window_s=args.duration, fps=args.fps, sizes={}, notes=notes)
    for size in args.sizes:
        w, h = SIZES[size]
        print(f"\n{w}x{h}")
        hdr = f"{'':34}" + "".join(f"{c:>17}" for c in cases) + "".join(f"{c + '/ref':>11}" for c in cases
                                                                         if c != "reference")
        print(hdr)
        dg = {c: [digest(r) for r in results.get((c, size), [])] for c in cases}
        summary["sizes"][size] = {}
        for key, label, f in ROWS:
            line = f"{label:34}" + "".join(f"{fmt([d[key] for d in dg[c]], f):>17}" for c in cases)
            ref = [d[key] for d in dg.get("reference", []) if d[key] is not None]
            for c in cases:
                if c == "reference":
                    continue
                mine = [d[key] for d in dg[c] if d[key] is not None]
                ratio = statistics.median(mine) / statistics.median(ref) if mine and ref and key in (
                    "cpu", "rss_mb", "pss_mb") else None
                line += f"{(f'{ratio:.2f}' if ratio else ''):>11}"
            print(line)
        for c in cases:
            rs = results.get((c, size), [])
            s = summary["sizes"][size][c] = {}
            for key, _, _ in ROWS:
                v = [d[key] for d in dg[c] if d[key] is not None]
                s[key] = [round(min(v), 1), round(statistics.median(v), 1)] if v else None
            s["load"] = [f"{r['load_before']} -> {r['load_after']}" for r in rs]
            s["missed"] = [[d["audio_missed"], d["video_missed"]] for d in dg[c]]
            s["rx_size"] = [r["rx_size"] for r in rs]
            if c != "reference" and dg.get("reference") and dg[c]:
                s["cpu_ratio"] = round(statistics.median(d["cpu"] for d in dg[c]) /
                                       statistics.median(d["cpu"] for d in dg["reference"]), 3)
                la = [d["audio_ms"] for d in dg[c] if d["audio_ms"] is not None]
                lr = [d["audio_ms"] for d in dg["reference"] if d["audio_ms"] is not None]
                if la and lr:
                    s["beep_ms_vs_ref"] = round(statistics.median(la) - statistics.median(lr), 1)
        print("  CPU by process (median run, % of one core):")
        for c in cases:
            rs = sorted(results.get((c, size), []), key=lambda r: r["cpu"]["total"])
            if rs:
                by = rs[len(rs) // 2]["by_process"]["total"]
                top = sorted(by.items(), key=lambda kv: -kv[1])
                print(f"    {c:10} " + ", ".join(f"{k} {v:.0f}" for k, v in top if v >= 0.5))
                summary["sizes"][size][c]["by_process"] = {k: round(v, 1) for k, v in top if v >= 0.5}
        print("  load (1/5/15 min before -> after each window), missed events (beep, flash), video size back:")
        for c in cases:
            for i, r in enumerate(results.get((c, size), [])):
                d = digest(r)
                print(f"    {c:10} run {i + 1}: {r['load_before']} -> {r['load_after']}, busy {r['sys_busy_pct']} %, "
                      f"missed {d['audio_missed']}/{d['video_missed']}, {r['rx_size']}, "
                      f"loop up in {r['first_loop_s']} s, events {d['audio_n']}/{d['video_n']}"
                      + (f", stand-in PulseAudio (not counted) {r['cpu']['standin']:.0f} %" if "standin" in r["cpu"]
                         else ""))
    for n in notes:
        print("note: " + n)
    sys.stdout.flush()
    print("\nBENCH_BROWSER " + json.dumps(summary, separators=(",", ":")))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "_caller":
        return caller_main(sys.argv[2])
    ap = argparse.ArgumentParser(prog="scripts/bench browser", description=__doc__.split("\n\n")[0])
    ap.add_argument("-d", "--duration", type=float, help="measurement window, s (default 20)")
    ap.add_argument("--warmup", type=float, help="after the loop is up, before the window, s (default 6)")
    ap.add_argument("--runs", type=int, help="runs (default 2; cells are min / median)")
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    ap.add_argument("--sizes", default="360p,720p", help="comma-separated subset of 360p,720p")
    ap.add_argument("--fps", type=int, default=25, help="frame rate everywhere (default 25)")
    ap.add_argument("--max-load", type=float, default=6.0,
                    help="wait (up to 60 s) before each case until the 1-min load is below this (default 6)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 360p, 8 s window, 1 run")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    ap.add_argument("--mediagw", required=True, help=argparse.SUPPRESS)
    args = ap.parse_args()
    q = args.quick
    args.duration = args.duration or (8 if q else 20)
    args.warmup = args.warmup if args.warmup is not None else (4 if q else 6)
    args.runs = args.runs or (1 if q else 2)
    args.sizes = ["360p"] if q and args.sizes == "360p,720p" else args.sizes.split(",")
    args.kbps = {(640, 360): 800, (1280, 720): 2000}
    cases = args.cases.split(",")
    bad = [c for c in cases if c not in CASES] + [s for s in args.sizes if s not in SIZES]
    if bad:
        ap.error(f"unknown case or size {bad}")
    for tool in ("sipp", "baresip", "Xvfb", "pulseaudio", "pactl", "chromium", "unshare", "ip"):
        if not shutil.which(tool):
            raise SystemExit(f"bench: {tool} not found (scripts/setup installs it)")

    import importlib.util
    spec = importlib.util.spec_from_file_location("browser_lib", os.path.join(LIB, "browser.py"))
    browser_lib = importlib.util.module_from_spec(spec)   # tests/lib/browser.py (this file is browser.py too)
    spec.loader.exec_module(browser_lib)
    browser_lib.enter_private_netns()      # re-execs this script (same pid) in a new namespace
    notes = []
    if "screen" in cases and not devices_available(args.mediagw):
        cases.remove("screen")
        notes.append("devices + screen: not available yet (mediagw inspect browser-capture: input has no "
                     "'devices'); case skipped")
        log(notes[-1])
    wd = tempfile.mkdtemp(prefix="mgw-bench-browser-")
    procs = Procs()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    srv, http_port = serve_room()
    url = f"http://127.0.0.1:{http_port}/room.html"
    results, failures = {}, []
    try:
        for i in range(args.runs):
            for size in args.sizes:
                w, h = SIZES[size]
                for c in cases:
                    waited = wait_load(args.max_load)
                    tag = f"run{i + 1}-{size}-{c}"
                    log(f"run {i + 1}/{args.runs}: {c} at {w}x{h} (load {loadavg()}"
                        + (f", waited {waited:.0f} s for it" if waited > 1 else "") + ")")
                    try:
                        if c == "reference":
                            r = case_reference(procs, args, wd, tag, w, h, url)
                        elif c == "screen":
                            r = case_screen(procs, args, wd, tag, w, h, url)
                        else:
                            r = case_gateway(procs, args, wd, tag, "tab" if c == "tab" else c, w, h, url)
                    except RuntimeError as e:
                        failures.append(f"{tag}: {e}")
                        log(f"  FAILED: {e}")
                        continue
                    results.setdefault((c, size), []).append(r)
                    d = digest(r)
                    log(f"  cpu {d['cpu']:.0f} %, rss {d['rss_mb']:.0f} MB, pss {d['pss_mb']:.0f} MB, beep "
                        f"{d['audio_ms'] and round(d['audio_ms'])} ms ({d['audio_n']}), flash "
                        f"{d['video_ms'] and round(d['video_ms'])} ms ({d['video_n']}), {d['rx_fps']:.1f} fps "
                        f"{r['rx_size']}, load {r['load_after']}")
        with open(os.path.join(wd, "results.json"), "w") as f:
            json.dump({f"{k[0]}-{k[1]}": v for k, v in results.items()}, f, indent=1)
    except (KeyboardInterrupt, SystemExit):
        procs.stop_all()
        if not args.keep:
            shutil.rmtree(wd, ignore_errors=True)
        log("interrupted: every process started is stopped")
        raise
    finally:
        procs.stop_all()
        srv.shutdown()
    notes += [f"FAILED {x}" for x in failures]
    report(args, results, notes)
    if args.keep or failures:
        log(f"work directory kept: {wd}")
    else:
        shutil.rmtree(wd, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
