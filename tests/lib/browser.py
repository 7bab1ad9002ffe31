"""Drive a headless Chromium against a WebRTC page (selenium + chromedriver).

    browser.require_browser()           # skip (77) without chromium/chromedriver/selenium
    browser.enter_private_netns()       # re-execs this script in a private network namespace
    with mgwtest.workdir() as wd, browser.Browser(wd, fake_audio_wav=wav) as b:
        b.open(url)
        b.wait_js("window.pc && window.pc.connectionState == 'connected'", 20, "ICE connected")
        tone = b.js(f"return ({browser.DOMINANT_FREQUENCY_JS})(window.remoteStream)")

Why a namespace: Chromium 156 gathers no loopback ICE candidate (even with
--allow-loopback-in-peer-connection) and none at all with only `lo`, and ICE
must never use this machine's real address. The private namespace has a veth
pair (10.99.0.1 / 10.99.0.2) and a default route, so Chromium gathers 10.99.0.x
host candidates; the gateway, baresip and chromium started by the test all
live in it, and 127.0.0.1 still works there for SIP and HTTP.
"""
import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import time

import mgwtest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
NETNS_ADDRS = ("10.99.0.1", "10.99.0.2")

# Flags from shared/peers.md; the two last keep autoplay and the WebRTC
# candidates (no mDNS .local names) usable without a user.
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required",
]
# Not --disable-crashpad-for-testing: with it chromedriver's first navigation
# hangs ("Timed out receiving message from renderer"). The crashpad handlers
# chromium double-forks (own session) exit by themselves when chromium dies.

# JS function (stream, ms = 1000) -> Promise of {hz, db, frames} or null (silence):
# the strongest FFT bin of a MediaStream's audio, averaged over `ms`.
# Resolution is sampleRate/8192 (5.9 Hz at 48 kHz). A remote WebRTC stream
# feeds WebAudio only while a media element plays it, hence the muted <audio>.
DOMINANT_FREQUENCY_JS = """async (stream, ms = 1000) => {
  const el = new Audio(); el.muted = true; el.srcObject = stream; await el.play().catch(() => {});
  const ctx = new AudioContext(); await ctx.resume();
  const an = ctx.createAnalyser(); an.fftSize = 8192; an.smoothingTimeConstant = 0;
  ctx.createMediaStreamSource(stream).connect(an);
  const bins = new Float32Array(an.frequencyBinCount), hz = [];
  let db = -Infinity;
  for (const t0 = performance.now(); performance.now() - t0 < ms;) {
    await new Promise(r => setTimeout(r, 100));
    an.getFloatFrequencyData(bins);
    let best = 1;
    for (let i = 2; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
    if (bins[best] > -90) hz.push(best * ctx.sampleRate / an.fftSize);  // -90 dBFS and below: silence
    db = Math.max(db, bins[best]);
  }
  await ctx.close(); el.srcObject = null;
  return hz.length ? {hz: hz.reduce((a, b) => a + b) / hz.length, db: db, frames: hz.length} : null;
}"""

# JS function (pc) -> Promise of the first inbound video RTP stats of an
# RTCPeerConnection ({framesDecoded, frameWidth, frameHeight, ..., codec}) or null.
VIDEO_STATS_JS = """async (pc) => {
  const stats = await pc.getStats();
  for (const s of stats.values()) {
    if (s.type != 'inbound-rtp' || s.kind != 'video') continue;
    const codec = s.codecId && stats.get(s.codecId);
    return {framesDecoded: s.framesDecoded || 0, frameWidth: s.frameWidth || 0, frameHeight: s.frameHeight || 0,
            framesPerSecond: s.framesPerSecond || 0, packetsReceived: s.packetsReceived || 0,
            packetsLost: s.packetsLost || 0, keyFramesDecoded: s.keyFramesDecoded || 0,
            codec: codec ? codec.mimeType : null};
  }
  return null;
}"""

# JS function (pc) -> Promise of the selected ICE candidate pair
# ({local: 'ip:port typ', remote: ..., state}) or null.
SELECTED_PAIR_JS = """async (pc) => {
  const stats = await pc.getStats();
  const desc = id => { const c = stats.get(id); return c ? `${c.address}:${c.port} ${c.candidateType}` : null; };
  for (const s of stats.values()) {
    if (s.type == 'transport' && s.selectedCandidatePairId) {
      const p = stats.get(s.selectedCandidatePairId);
      return {local: desc(p.localCandidateId), remote: desc(p.remoteCandidateId), state: p.state};
    }
  }
  return null;
}"""


def require_browser():
    """Skip (77) unless chromium, chromedriver and python3-selenium are there."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if importlib.util.find_spec("selenium") is None:
        missing.append("python3-selenium")
    if missing:
        mgwtest.skip("missing " + ", ".join(missing))


_NETNS_ENV = "MGWTEST_NETNS"   # unset: outside; "setup": just re-exec'd; "1": ready


def enter_private_netns():
    """Run the rest of this test inside a fresh network namespace (see above).

    The first call re-execs the script under `unshare -n` (same pid, so meson's
    timeout still reaches it); in the new process it sets the namespace up and
    returns. The namespace goes away with its last process: nothing to clean up.
    """
    state = os.environ.get(_NETNS_ENV)
    if state == "1":
        return
    if state == "setup":
        _setup_netns()
        os.environ[_NETNS_ENV] = "1"   # children calling this again stay here
        return
    mgwtest.require_tools("unshare", "ip")
    # Probe first: once exec'd, a refusal could no longer become a skip.
    r = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if r.returncode != 0:
        mgwtest.skip(f"cannot create a network namespace (needs root): {r.stderr.strip()}")
    os.environ[_NETNS_ENV] = "setup"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp("unshare", ["unshare", "-n", "--", sys.executable] + sys.orig_argv[1:])


def _setup_netns():
    a, b = NETNS_ADDRS
    cmds = ["link set lo up", "link add v0 type veth peer name v1",
            f"addr add {a}/24 dev v0", f"addr add {b}/24 dev v1",
            "link set v0 up", "link set v1 up", f"route add default via {b} dev v0"]
    r = subprocess.run(["ip", "-batch", "-"], input="\n".join(cmds) + "\n", capture_output=True, text=True)
    if r.returncode != 0:
        mgwtest.skip(f"cannot set up the veth pair in the namespace: {r.stderr.strip()}")
    # libnice binds each socket to its interface: without these the kernel drops
    # packets between two local addresses arriving over the veth (peers.md, Janus).
    try:
        for conf in ("all", "v0", "v1"):
            for key, value in (("accept_local", "1"), ("rp_filter", "0")):
                with open(f"/proc/sys/net/ipv4/conf/{conf}/{key}", "w") as f:
                    f.write(value)
    except OSError as e:
        mgwtest.skip(f"cannot set the namespace's sysctls: {e}")


def make_tone_wav(path, freq, seconds=30, rate=48000):
    """Sine wav for --use-file-for-fake-audio-capture (Chromium loops it)."""
    mgwtest.make_tone_wav(path, freq, seconds, rate=rate)
    return path


def make_y4m(path, seconds=2, w=320, h=240, fps=15):
    """Raw I420 y4m for --use-file-for-fake-video-capture (Chromium loops it):
    a grey gradient with a white box moving across, so frames differ.
    Written directly: no GStreamer element to depend on."""
    ramp = bytes(16 + 200 * x // w for x in range(w))
    chroma = bytes([128]) * (w // 2 * h // 2)
    box = w // 8
    frames = int(seconds * fps)
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for n in range(frames):
            x0 = (w - box) * n // max(frames - 1, 1)
            row = ramp[:x0] + bytes([235]) * box + ramp[x0 + box:]
            f.write(b"FRAME\n" + ramp * (h // 2 - box // 2) + row * box + ramp * (h - h // 2 + box // 2 - box)
                    + chroma + chroma)
    return path


def _proc_stat(pid):
    """(ppid, start time) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]), fields[19]
    except (OSError, IndexError, ValueError):
        return None


def _descendants(pid):
    """{pid: start time} of all processes below `pid`."""
    children = {}
    for d in filter(str.isdigit, os.listdir("/proc")):
        st = _proc_stat(d)
        if st:
            children.setdefault(st[0], []).append((int(d), st[1]))
    out, todo = {}, [pid]
    while todo:
        for c, start in children.get(todo.pop(), []):
            out[c] = start
            todo.append(c)
    return out


class Browser:
    """A headless Chromium under chromedriver; a context manager.

    Leaving the `with` block (pass, fail() or exception) quits the browser and
    kills whatever chromedriver or chromium process is left; on failure it first
    prints the page's console log. Logs: WORKDIR/chromedriver.log (each
    WebDriver command, chromium's command line) and chromedriver.out (its
    stdout/stderr: start-up errors).
    """

    def __init__(self, workdir, fake_audio_wav=None, fake_video_y4m=None, extra_args=(), script_timeout=30):
        self.workdir = workdir
        self.args = CHROMIUM_FLAGS + [f"--user-data-dir={os.path.join(workdir, 'chromium-profile')}"]
        if fake_audio_wav:
            self.args.append(f"--use-file-for-fake-audio-capture={fake_audio_wav}")
        if fake_video_y4m:
            self.args.append(f"--use-file-for-fake-video-capture={fake_video_y4m}")
        self.args += list(extra_args)
        self.script_timeout = script_timeout
        self.driver = None
        self._console = []

    def start(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in self.args:
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self._stderr = open(os.path.join(self.workdir, "chromedriver.out"), "wb")
        service = Service(CHROMEDRIVER, log_path=os.path.join(self.workdir, "chromedriver.log"),
                          log_file=self._stderr)
        t0 = time.monotonic()
        self.service = service
        self.driver = webdriver.Chrome(service=service, options=opts)
        self.start_seconds = time.monotonic() - t0
        self.driver.set_script_timeout(self.script_timeout)
        self.driver.set_page_load_timeout(30)
        mgwtest.log(f"chromium {self.driver.capabilities.get('browserVersion')} started in "
                    f"{self.start_seconds:.2f} s (chromedriver pid {service.process.pid})")
        return self

    def open(self, url):
        self.driver.get(url)

    def js(self, script, *args):
        """Run `script` (with a `return`) or evaluate one expression; a returned
        Promise is awaited (WebDriver does that). `arguments[i]` are `args`."""
        if not re.search(r"\breturn\b", script):
            script = "return " + script
        return self.driver.execute_script(script, *args)

    def js_async(self, script, *args):
        """execute_async_script: the script ends by calling `done(value)`."""
        return self.driver.execute_async_script("const done = arguments[arguments.length - 1];\n" + script, *args)

    def wait_js(self, expr, timeout, what, interval=0.2):
        """Poll the JS expression until truthy; returns its value or fails
        with the last value (or error) seen."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                last = self.js(expr)
                if last:
                    return last
            except Exception as e:   # e.g. a variable the page has not set yet
                last = f"error: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
            if time.monotonic() > deadline:
                mgwtest.fail(f"timed out after {timeout} s waiting for {what} ({expr}); last value: {last!r}")
            time.sleep(interval)

    def screenshot(self, path):
        self.driver.save_screenshot(path)
        return path

    def console_log(self):
        """The page's console messages so far (entries: level, message)."""
        try:
            self._console += self.driver.get_log("browser")   # get_log drains: keep them
        except Exception:
            pass
        return self._console

    def close(self):
        if self.driver is None:
            return
        driver, self.driver = self.driver, None
        proc = self.service.process
        pids = _descendants(proc.pid)
        # quit() is graceful but may hang on a wedged chromedriver: bound it.
        t = threading.Thread(target=lambda: _ignore_errors(driver.quit), daemon=True)
        t.start()
        t.join(10)
        proc.kill()
        proc.wait()
        for pid, start in pids.items():   # skip pids since reused by someone else
            st = _proc_stat(pid)
            if st and st[1] == start:
                _ignore_errors(lambda: os.kill(pid, signal.SIGKILL))
        self._stderr.close()

    def __enter__(self):
        return self if self.driver is not None else self.start()

    def __exit__(self, exc_type, exc, tb):
        failed = exc_type is not None and not (exc_type is SystemExit and exc.code in (0, 77, None))
        if failed and self.driver is not None:
            mgwtest.log("--- browser console log:")
            for e in self.console_log():
                mgwtest.log(f"{e.get('level')}: {e.get('message')}")
        self.close()


def _ignore_errors(fn):
    try:
        fn()
    except Exception:
        pass
