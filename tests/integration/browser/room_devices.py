#!/usr/bin/env python3
"""browser-capture in devices mode (pipelines/sip-to-browser-room-devices.toml):
the caller reaches a visible Chromium through devices, the room comes back
from its screen.

Usage: room_devices.py screen|camera

screen (runs here, without kernel modules): the snd-aloop card is stood in
for by ALSA `pulse` PCMs on a stand-in PulseAudio (gwout plays into its null
sink, gwin records that sink's monitor: shared/peers.md); the camera node is
left out of the pipeline (no /dev/video* here). A baresip caller (600 Hz)
calls the gateway; its browser-capture node starts Xvfb, a private
PulseAudio whose microphone is the ALSA PCM gwin, and Chromium on a local
page that plays 880 Hz on a magenta background. Asserted:
  - the page's viewport is exactly the screen (640x360) and its microphone
    (the private PulseAudio's ALSA source) hears the caller's 600 Hz: the
    path aloop-sink -> ALSA -> PulseAudio -> Chromium;
  - the caller decodes the screen at 640x360, magenta, and hears the page's
    880 Hz (ximagesrc and pulsesrc on the null sink's monitor, raw out of
    the node, encoded by the links);
  - the gateway killed with SIGKILL: no Chromium, Xvfb or PulseAudio process
    of it is left (checked by PID and process group).
camera: the same with a real v4l2loopback device as the page's camera (the
shipped pipeline's camera node writes the caller's video into it); skips
(77) where there is no such device, as here.
fault: as screen up to the join, then the node's PulseAudio is killed
(SIGKILL): room.failed says so, the caller gets a BYE, the gateway exits and
leaves no Chromium or Xvfb process behind.
hangup: as screen up to the join, then the caller hangs up: the node leaves
(room.left), the gateway drains and exits 0, no Chromium, Xvfb or PulseAudio
process is left and the node's private directory is gone.
"""
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "devices"))

import browser  # noqa: E402
import device_helpers as dh  # noqa: E402
import mgwtest  # noqa: E402
import tonecheck  # noqa: E402
from baresip import Baresip  # noqa: E402
from room_common import group_pids, wait_gone  # noqa: E402

PIPELINE = os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-to-browser-room-devices.toml")
CALLER_HZ, PAGE_HZ = 600, 880
WIDTH, HEIGHT = 640, 360
check = mgwtest.check


def start_standin_pulse(procs, wd):
    """The stand-in for an snd-aloop card: a PulseAudio with a null sink
    `nsink`, ALSA PCMs gwout (plays into it) and gwin (records its monitor).
    Returns the environment (HOME with the asoundrc, its runtime path)."""
    runtime, home = os.path.join(wd, "standin-pulse"), os.path.join(wd, "home")
    os.makedirs(runtime, mode=0o700)
    os.makedirs(home)
    with open(os.path.join(home, ".asoundrc"), "w") as f:
        f.write("pcm.gwout {\n  type pulse\n  device nsink\n}\npcm.gwin {\n  type pulse\n  device nsink.monitor\n}\n")
    env = {"PULSE_RUNTIME_PATH": runtime, "XDG_RUNTIME_DIR": runtime, "HOME": home}
    procs.start("standin-pulse", ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
                                  "--log-target=stderr", "-L", "module-null-sink sink_name=nsink rate=48000",
                                  "-L", "module-native-protocol-unix"], env=env)
    full = dict(os.environ, **env)
    deadline = time.time() + 10
    while subprocess.run(["pactl", "info"], env=full, capture_output=True).returncode != 0:
        if time.time() > deadline:
            mgwtest.fail("the stand-in PulseAudio did not come up within 10 s")
        time.sleep(0.1)
    return env


class Reports:
    """The page's reports (POST /report) and the page itself."""

    def __init__(self):
        self.items = []
        self.cond = threading.Condition()

    def add(self, item):
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def wait(self, pred, timeout):
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for r in self.items:
                    if pred(r):
                        return r
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def last(self, t):
        with self.cond:
            found = [r for r in self.items if r.get("t") == t]
            return found[-1] if found else None


def serve_page(reports):
    page = open(os.path.join(HERE, "room_devices_page.html"), "rb").read()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                reports.add(json.loads(body))
            except ValueError:
                pass
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def pipeline_without_camera(wd):
    """The shipped pipeline minus its camera node (no /dev/video* here)."""
    text = open(PIPELINE).read()
    cut = re.sub(r"\n\[node\.camera\]\n.*?(?=\n\[node\.)", "\n", text, flags=re.S)
    check("[node.camera]" not in cut and "[node.room]" in cut, "the pipeline without its camera node")
    path = os.path.join(wd, "devices-no-camera.toml")
    with open(path, "w") as f:
        f.write(cut)
    return path


def mean_rgb(png, wd):
    raw = os.path.join(wd, "shot.rgb")
    subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={png}", "!", "pngdec", "!", "videoconvert", "!",
                    "video/x-raw,format=RGB", "!", "filesink", f"location={raw}"], check=True, timeout=20)
    data = open(raw, "rb").read()
    n = len(data) // 3
    return tuple(round(sum(data[i::3]) / n) for i in range(3))


def sound_server_killed(procs, gw, caller, xvfb_pid, pulse_pid, chromium_pid):
    others = {"Chromium": [chromium_pid] + group_pids(chromium_pid), "Xvfb": [xvfb_pid] + group_pids(xvfb_pid)}
    os.kill(pulse_pid, signal.SIGKILL)
    t0 = time.time()
    check(procs.wait_for_output(gw, r"\[event\] room/room\.failed, reason=\(string\)\"PulseAudio\\ killed\\ by\\ signal\\ 9", 5),
          "room.failed names the PulseAudio exit")
    mgwtest.log(f"room.failed {time.time() - t0:.2f} s after the kill")
    check(caller.wait_event("CALL_CLOSED", 10) is not None, "the gateway hung up on the caller")
    try:
        gw.wait(15)
    except subprocess.TimeoutExpired:
        pass
    check(gw.poll() is not None, f"the gateway exited ({gw.poll()})")
    for name, group in others.items():
        left = wait_gone(group, 5)
        check(not left, f"no {name} process is left ({left})")
    caller.quit()
    return 0


def caller_hung_up(procs, gw, caller, pids):
    members = {name: [pid] + group_pids(pid) for name, pid in pids.items()}
    private = re.search(r"on unix:(/tmp/mediagw-devices-[^/]+)/", procs.output(gw)).group(1)
    check(os.path.isdir(private), f"the node's private directory {private} exists")
    time.sleep(2)
    caller.hangup()
    check(procs.wait_for_output(gw, r"\[event\] room/room\.left", 10), "the node left the room (room.left)")
    try:
        gw.wait(15)
    except subprocess.TimeoutExpired:
        pass
    check(gw.poll() == 0, f"the gateway exits 0 after the call ({gw.poll()})")
    for name, group in members.items():
        left = wait_gone(group, 5)
        check(not left, f"no {name} process is left ({left})")
    check(not os.path.exists(private), "the node's private directory is removed")
    caller.quit()
    return 0


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "screen"
    camera = None
    if mode == "camera":
        camera = dh.find_v4l2loopback_output()
        if camera is None:
            mgwtest.skip("no v4l2loopback device (no /dev/video* whose VIDIOC_QUERYCAP says driver 'v4l2 loopback'; "
                         "needs `modprobe v4l2loopback exclusive_caps=1`, impossible without kernel modules): the "
                         "camera path of devices mode cannot run here; room_devices_screen covers the rest")
    if not os.access(browser.CHROMIUM, os.X_OK):
        mgwtest.skip("missing " + browser.CHROMIUM)
    mgwtest.require_tools("baresip", "sox", "Xvfb", "pulseaudio", "pactl", "gst-launch-1.0")
    if not any(os.path.exists(os.path.join(d, "libasound_module_pcm_pulse.so"))
               for d in ("/usr/lib/x86_64-linux-gnu/alsa-lib", "/usr/lib/aarch64-linux-gnu/alsa-lib",
                         "/usr/lib/alsa-lib")):
        mgwtest.skip("ALSA's pulse PCM plugin is missing (Debian package libasound2-plugins)")
    browser.enter_private_netns()
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        env = start_standin_pulse(procs, wd)
        reports = Reports()
        http_port = serve_page(reports)
        sip_port = mgwtest.free_port()
        env.update({"SIP_LISTEN": f"udp:127.0.0.1:{sip_port}", "ALOOP_DEVICE": "gwout", "AUDIO_DEVICE": "gwin",
                    "ROOM_URL": f"http://127.0.0.1:{http_port}/?tone={PAGE_HZ}&camera={1 if camera else 0}",
                    "WIDTH": str(WIDTH), "HEIGHT": str(HEIGHT), "ALONE_TIMEOUT": "0", "DISPLAY_NAME": "Devices"})
        if camera:
            env["VIDEO_DEVICE"] = camera
        toml = PIPELINE if camera else pipeline_without_camera(wd)
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", toml, "-v"], env=env)
        check(procs.wait_for_output(gw, r"listening on sip:", 15), "the gateway listens for SIP")

        tone = os.path.join(wd, "caller-tone.wav")
        mgwtest.make_tone_wav(tone, CALLER_HZ, 60, rate=8000, volume=0.5)
        caller = Baresip(procs, wd, name="caller", tone_wav=tone, codecs="opus", video_codecs="VP8",
                         extra_config=[("module", "snapshot.so")])
        caller.start()
        caller.dial(f"sip:room@127.0.0.1:{sip_port}")
        check(caller.wait_event("CALL_ESTABLISHED", 10), "the caller's call is established")
        check(procs.wait_for_output(gw, r"Xvfb \(pid \d+\) serves display :\d+", 20), "the node started Xvfb and PulseAudio")
        check(procs.wait_for_output(gw, r"Chromium started \(pid \d+\)", 10), "the node started Chromium")
        out = procs.output(gw)
        m = re.search(r"Xvfb \(pid (\d+)\) serves display (:\d+).*?PulseAudio \(pid (\d+)\)", out)
        xvfb_pid, display, pulse_pid = int(m.group(1)), m.group(2), int(m.group(3))
        chromium_pid = int(re.search(r"Chromium started \(pid (\d+)\)", out).group(1))
        mgwtest.log(f"Xvfb {xvfb_pid} on {display}, PulseAudio {pulse_pid}, Chromium {chromium_pid}")
        check(procs.wait_for_output(gw, r"\[event\] room/room\.joined", 30), "Chromium loaded the page (room.joined)")
        if mode == "fault":
            return sound_server_killed(procs, gw, caller, xvfb_pid, pulse_pid, chromium_pid)
        if mode == "hangup":
            return caller_hung_up(procs, gw, caller, {"Chromium": chromium_pid, "Xvfb": xvfb_pid,
                                                      "PulseAudio": pulse_pid})

        devices = reports.wait(lambda r: r.get("t") in ("devices", "error"), 20)
        check(devices and devices.get("t") == "devices", f"the page opened its microphone ({devices})")
        mgwtest.log(f"the page's devices: {devices}")
        heard = reports.wait(lambda r: r.get("t") == "mic" and abs(r["hz"] - CALLER_HZ) < 15 and r["db"] > -60, 20)
        last = reports.last("mic")
        check(heard, f"the page's microphone hears the caller's {CALLER_HZ} Hz through aloop-sink, ALSA and "
                     f"PulseAudio (last: {last and round(last['hz'])} Hz, {last and round(last['db'])} dB)")
        mgwtest.log(f"microphone: {heard}")
        check(heard["viewport"] == [WIDTH, HEIGHT], f"the page fills the screen exactly: {heard['viewport']}")
        if camera:
            seen = reports.wait(lambda r: r.get("t") == "mic" and r["camera"] and r["camera"]["frames"] > 30, 20)
            check(seen, f"the page's camera ({camera}) delivers frames ({reports.last('mic')})")

        time.sleep(5)  # the caller records the room meanwhile
        shot = os.path.join(wd, "caller.png")
        caller.command("snapshot_recv", shot)
        time.sleep(1)
        size = mgwtest.png_size(shot)
        check(size == (WIDTH, HEIGHT), f"the caller decodes the screen at {WIDTH}x{HEIGHT} ({size})")
        if os.environ.get("MGWTEST_KEEP_SHOT"):
            subprocess.run(["cp", shot, os.environ["MGWTEST_KEEP_SHOT"]])
        # The mean colour of the whole picture: the page's magenta (after
        # I420, VP8 and the caller's PNG conversion) from edge to edge; a
        # black screen, a white page or a browser bar would pull it away.
        rgb = mean_rgb(shot, wd)
        check(rgb[0] > 180 and rgb[2] > 180 and rgb[1] < 60,
              f"the caller sees the page's magenta ({rgb})")
        # Fault: the gateway killed outright leaves none of its helpers behind.
        pids = {"Chromium": chromium_pid, "Xvfb": xvfb_pid, "PulseAudio": pulse_pid}
        members = {name: [pid] + group_pids(pid) for name, pid in pids.items()}
        mgwtest.log(f"the node's processes: {members}")
        os.kill(gw.pid, signal.SIGKILL)
        gw.wait(5)
        for name, group in members.items():
            left = wait_gone(group, 5)
            check(not left, f"no {name} process is left after SIGKILL of the gateway (group {group}, left {left})")

        # What the caller heard (its recording is complete once the call is
        # closed): the page's tone, from the page's load to the kill.
        caller.hangup()
        caller.wait_event("CALL_CLOSED", 5)
        time.sleep(0.5)
        wav = caller.received_wav()
        check(wav is not None, "the caller recorded what it heard")
        tonecheck.check_tone(wav, PAGE_HZ, 3, "the caller hears the page's tone")
        caller.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
