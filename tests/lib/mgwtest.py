"""Shared helpers for mediagw's integration tests (stdlib only).

Tests are plain scripts run by `meson test`: exit 0 = pass, 1 = fail,
77 = skip (print why). Every process a test starts goes through `Procs`,
which kills it (and its process group) when the test ends, pass or fail.
"""
import contextlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

MEDIAGW = os.environ.get("MEDIAGW", "mediagw")
SOURCE_ROOT = os.environ.get("MEDIAGW_SOURCE_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
BUILD_ROOT = os.environ.get("MEDIAGW_BUILD_ROOT", "")


def log(*args):
    print(*args, flush=True)


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    sys.exit(77)


def fail(reason):
    print(f"FAIL: {reason}", flush=True)
    sys.exit(1)


def check(cond, what):
    if not cond:
        fail(what)
    log(f"ok: {what}")


def require_tools(*names):
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        skip("missing tools: " + ", ".join(missing) + " (scripts/setup installs them)")


# Ports handed to test peers come from below the kernel's ephemeral range
# (32768+ here), so no port-0 socket or outgoing connection of a parallel test
# can take one between our check and the peer's bind. A held flock per port keeps
# parallel tests from handing out the same one; it is released when the test exits.
_PORT_LOCK_DIR = os.path.join(tempfile.gettempdir(), "mgwtest-ports")
_PORT_RANGE = (20000, 32000)
_held_port_locks = []


def _port_bindable(host, port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def free_port(kind="udp", host="127.0.0.1"):
    """A port free for UDP and TCP, reserved for this test process with the
    three above it (baresip puts TLS on +1, RTP puts RTCP on +1, sipp's -mp
    uses +2 for video)."""
    import fcntl
    import random
    os.makedirs(_PORT_LOCK_DIR, exist_ok=True)
    for _ in range(500):
        port = random.randrange(_PORT_RANGE[0], _PORT_RANGE[1], 4)
        fd = os.open(os.path.join(_PORT_LOCK_DIR, str(port)), os.O_CREAT | os.O_RDWR, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        if all(_port_bindable(host, port + i) for i in range(4)):
            _held_port_locks.append(fd)
            return port
        os.close(fd)
    raise RuntimeError("no free port")


def tempdir(prefix="mgwtest-"):
    return tempfile.mkdtemp(prefix=prefix)


class Procs:
    """Starts processes with output to files in `workdir`; stops them all."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []

    def start(self, name, argv, env=None, cwd=None, stdin=subprocess.DEVNULL):
        out = open(os.path.join(self.workdir, name + ".log"), "wb")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=full_env, cwd=cwd or self.workdir,
                             stdin=stdin, start_new_session=True)
        p.name = name
        p.logfile = out.name
        self.procs.append(p)
        log(f"started {name} (pid {p.pid}): {' '.join(argv)}")
        return p

    def output(self, p):
        with open(p.logfile, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_for_output(self, p, pattern, timeout):
        deadline = time.time() + timeout
        rx = re.compile(pattern)
        while time.time() < deadline:
            if rx.search(self.output(p)):
                return True
            if p.poll() is not None:
                return bool(rx.search(self.output(p)))
            time.sleep(0.05)
        return False

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        return p.returncode

    def close(self):
        for p in reversed(self.procs):
            self.stop(p, timeout=3)
        for p in self.procs:
            if p.returncode not in (0, None, -signal.SIGTERM):
                log(f"--- {p.name} exited {p.returncode}; last output:")
            else:
                log(f"--- {p.name} output (tail):")
            log(self.output(p)[-3000:])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def png_size(path):
    """(width, height) of a PNG file (e.g. a decoded frame baresip saved),
    None when it is missing or not a PNG."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def wav_stat(path):
    """sox's `stat` of a wav: dict with 'length', 'rough_frequency', 'rms'."""
    r = subprocess.run(["sox", path, "-n", "stat"], capture_output=True, text=True)
    out = r.stderr
    def num(label):
        m = re.search(label + r":\s+(-?[0-9.e+-]+)", out)
        return float(m.group(1)) if m else None
    return {"length": num(r"Length \(seconds\)"), "rough_frequency": num(r"Rough\s+frequency"),
            "rms": num(r"RMS\s+amplitude"), "raw": out}


def dominant_frequency(path, start=None, duration=None):
    """Frequency of the strongest tone in a wav, by sox's rough estimate on
    a trimmed, band-limited copy (avoids the edges of a call)."""
    args = ["sox", path, "-n"]
    if start is not None:
        args += ["trim", str(start)] + ([str(duration)] if duration else [])
    args += ["stat"]
    r = subprocess.run(args, capture_output=True, text=True)
    m = re.search(r"Rough\s+frequency:\s+(-?[0-9]+)", r.stderr)
    return float(m.group(1)) if m else None


def make_tone_wav(path, freq, seconds, rate=8000, volume=0.5):
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", "1", "-b", "16", path, "synth", str(seconds), "sine",
                    str(freq), "vol", str(volume)], check=True)


@contextlib.contextmanager
def workdir():
    d = tempdir()
    try:
        yield d
    finally:
        if os.environ.get("MEDIAGW_KEEP_TEST_FILES"):
            log(f"kept {d}")
        else:
            shutil.rmtree(d, ignore_errors=True)
