"""Helpers shared by the device-sink tests (snd-aloop, v4l2loopback)."""
import fcntl
import glob
import os
import re
import struct
import subprocess
import time

import mgwtest

PIPELINES = os.path.join(mgwtest.SOURCE_ROOT, "pipelines")


def pipeline(name):
    return os.path.join(PIPELINES, name)


def run_gateway(toml, sets=(), timeout=20, env=None):
    """Runs `mediagw run` to its end; a hang past `timeout` is a failure."""
    argv = [mgwtest.MEDIAGW, "run", toml] + [a for s in sets for a in ("--set", s)]
    mgwtest.log("running: " + " ".join(argv))
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                           start_new_session=True)
    except subprocess.TimeoutExpired as e:
        mgwtest.fail(f"mediagw did not exit within {timeout} s; output: {e.stderr}")
    mgwtest.log(r.stderr[-3000:])
    return r.returncode, r.stderr


def require_plugins(*names):
    """Each plugin must load (`mediagw inspect NAME` exits 0): they are built
    with the project, so one that does not load is a failure of ours, never
    a reason to skip (only a missing kernel device or module is)."""
    for name in names:
        r = subprocess.run([mgwtest.MEDIAGW, "inspect", name], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            mgwtest.fail(f"plugin '{name}' does not load (mediagw inspect exit {r.returncode}): "
                         f"{(r.stderr or r.stdout).strip()}")
        mgwtest.log(f"ok: plugin '{name}' loads")


def trim_silence(path):
    """A copy of the mono recording `path` without the silence before and
    after the sound (the recorder runs longer than the player): its path."""
    sound = os.path.join(os.path.dirname(path), "sound-" + os.path.basename(path))
    # silence 1 0.05 1%: drop the leading stretch below 1% of full scale;
    # reversed, the same drops the trailing one.
    subprocess.run(["sox", path, sound, "remix", "-", "silence", "1", "0.05", "1%", "reverse", "silence", "1",
                    "0.05", "1%", "reverse"], check=True)
    return sound


def rms(path, start, duration):
    """RMS amplitude (0..1) of an excerpt of a wav, by sox."""
    r = subprocess.run(["sox", path, "-n", "trim", str(start), str(duration), "stat"], capture_output=True,
                       text=True)
    m = re.search(r"RMS\s+amplitude:\s+(-?[0-9.e+-]+)", r.stderr)
    return float(m.group(1)) if m else None


def segment_stat(path, start, duration):
    """(dominant frequency in Hz, RMS 0..1) of an excerpt of a mono wav; either
    is None when sox cannot tell (e.g. the file is empty or too short)."""
    return mgwtest.dominant_frequency(path, start, duration), rms(path, start, duration)


def wait_for_growth(path, min_bytes, timeout=10):
    """Until a recorder has written `min_bytes` into `path`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and os.path.getsize(path) >= min_bytes:
            return
        time.sleep(0.05)
    mgwtest.fail(f"{path} did not grow to {min_bytes} bytes within {timeout} s")


def wav_seconds(path):
    r = subprocess.run(["soxi", "-D", path], capture_output=True, text=True)
    return float(r.stdout.strip() or 0)


# --- PulseAudio as a userspace stand-in for an ALSA loopback card ---------

def start_pulse(procs, workdir):
    """A private PulseAudio with a null sink `nsink` (48 kHz) and an ALSA PCM
    `gwout` that plays into it. Returns the environment clients need."""
    runtime, home = os.path.join(workdir, "pulse"), os.path.join(workdir, "home")
    os.makedirs(runtime, mode=0o700)
    os.makedirs(home)
    with open(os.path.join(home, ".asoundrc"), "w") as f:
        # ~/.asoundrc is read by the system alsa.conf; the pulse PCM type
        # comes from libasound2-plugins.
        f.write("pcm.gwout {\n  type pulse\n  device nsink\n}\n")
    env = {"PULSE_RUNTIME_PATH": runtime, "XDG_RUNTIME_DIR": runtime, "HOME": home}
    # Root is fine in this mode (a warning only); -n skips default.pa so no
    # module touches hardware, D-Bus or the network.
    procs.start("pulseaudio", ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--log-target=stderr",
                               "-L", "module-null-sink sink_name=nsink rate=48000",
                               "-L", "module-native-protocol-unix"], env=env)
    full_env = dict(os.environ, **env)
    deadline = time.time() + 10
    while time.time() < deadline:
        if subprocess.run(["pactl", "info"], env=full_env, capture_output=True).returncode == 0:
            return env
        time.sleep(0.1)
    mgwtest.fail("pulseaudio did not come up within 10 s")


# --- V4L2 -------------------------------------------------------------------

# struct v4l2_capability: driver[16] card[32] bus_info[32] version capabilities device_caps reserved[3]
_CAPABILITY = struct.Struct("16s32s32sIII3I")
_VIDIOC_QUERYCAP = (2 << 30) | (_CAPABILITY.size << 16) | (ord("V") << 8) | 0  # _IOR('V', 0, ...)
_CAP_VIDEO_OUTPUT = 0x2
_CAP_DEVICE_CAPS = 0x80000000


def query_cap(path):
    """(driver, effective capabilities) of a V4L2 device, or None."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        buf = bytearray(_CAPABILITY.size)
        fcntl.ioctl(fd, _VIDIOC_QUERYCAP, buf)
    except OSError:
        return None
    finally:
        os.close(fd)
    driver, _card, _bus, _version, caps, device_caps, *_ = _CAPABILITY.unpack(bytes(buf))
    return driver.rstrip(b"\0").decode(), device_caps if caps & _CAP_DEVICE_CAPS else caps


def find_v4l2loopback_output():
    """A v4l2loopback device that currently accepts a writer, or None."""
    for path in sorted(glob.glob("/dev/video*")):
        info = query_cap(path)
        if info and info[0] == "v4l2 loopback" and info[1] & _CAP_VIDEO_OUTPUT:
            return path
    return None


def yuy2_ball_frames(path, width, height, step=4):
    """What each YUY2 frame of a raw file (frames back to back) shows, for
    videotestsrc's `ball` pattern (a white ball moving on black), read every
    `step`th pixel: [(dark share, bright share, centroid (x, y) of the bright
    pixels or None)], one per whole frame, and the bytes left over (a partial
    frame)."""
    size = width * height * 2
    out = []
    with open(path, "rb") as f:
        data = f.read()
    for n in range(len(data) // size):
        y = data[n * size:(n + 1) * size:2 * step]      # luma of every step-th pixel (Y0 U Y1 V ...)
        dark = sum(1 for v in y if v < 48)
        bright = [i for i, v in enumerate(y) if v > 180]
        centroid = None
        if bright:
            xs = [(i * step) % width for i in bright]
            ys = [(i * step) // width for i in bright]
            centroid = (sum(xs) / len(xs), sum(ys) / len(ys))
        out.append((dark / len(y), len(bright) / len(y), centroid))
    return out, len(data) % size


def check_ball_frames(frames, count):
    """Fails unless `frames` (yuy2_ball_frames) are `count` pictures of the
    moving ball: each mostly black with a bright ball, the ball moving."""
    mgwtest.check(len(frames) == count, f"{count} whole frames were read back (got {len(frames)})")
    for i, (dark, bright, _) in enumerate(frames):
        if not (dark > 0.8 and 0.001 < bright < 0.2):
            mgwtest.fail(f"frame {i} is not the ball pattern: {dark:.1%} dark, {bright:.1%} bright pixels")
    mgwtest.log(f"ok: every frame shows the ball on black (first: {frames[0][0]:.1%} dark, {frames[0][1]:.1%} bright)")
    positions = {(round(c[0] / 4), round(c[1] / 4)) for _, _, c in frames if c}
    mgwtest.check(len(positions) >= count // 2,
                  f"the ball moves: {len(positions)} positions in {count} frames (a live stream, not one frame repeated)")
