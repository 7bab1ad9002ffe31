"""v4l2loopback-sink into a real v4l2loopback device: the gateway writes the
moving `ball` test pattern (no clock overlay) at 640x480 YUY2; a reader on the
device (v4l2src) must get FRAMES whole frames of that size which show the ball
on black, the ball moving from frame to frame (live frames, not a stale or
blank buffer the device repeats)."""
import os
import signal
import subprocess

import device_helpers as dh
import mgwtest

WIDTH, HEIGHT, FRAMES = 640, 480, 60

# The plugins are ours: a plugin that does not load fails the test, with or
# without the device; only the missing kernel device skips it.
dh.require_plugins("test-pattern", "v4l2loopback-sink")
device = dh.find_v4l2loopback_output()
if device is None:
    mgwtest.skip("no v4l2loopback device accepting a writer (no /dev/video* whose VIDIOC_QUERYCAP says "
                 "driver 'v4l2 loopback' with video output; needs `modprobe v4l2loopback`, "
                 "impossible without kernel modules)")
mgwtest.require_tools("gst-launch-1.0")

with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
    gw = procs.start("mediagw", [mgwtest.MEDIAGW, "run", dh.pipeline("pattern-to-v4l2loopback.toml"),
                                 "--set", f"camera.device={device}", "--set", f"camera.width={WIDTH}",
                                 "--set", f"camera.height={HEIGHT}", "--set", "pattern.pattern=ball",
                                 "--set", "pattern.clock=false"])
    mgwtest.check(procs.wait_for_output(gw, r"writing video into", 10), "the gateway opened the device")
    # The caps filter refuses any other size or format; the raw frames go to a file.
    raw = os.path.join(wd, "frames.yuy2")
    try:
        r = subprocess.run(["gst-launch-1.0", "-q", "v4l2src", f"device={device}", f"num-buffers={FRAMES}", "!",
                            f"video/x-raw,format=YUY2,width={WIDTH},height={HEIGHT}", "!",
                            "filesink", f"location={raw}"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        mgwtest.fail(f"reading {FRAMES} frames from {device} took over 30 s")
    mgwtest.check(r.returncode == 0, f"v4l2src read {WIDTH}x{HEIGHT} YUY2 from {device} ({r.stderr.strip()[-300:]})")
    mgwtest.check(gw.poll() is None, "the gateway is still writing")
    frames, rest = dh.yuy2_ball_frames(raw, WIDTH, HEIGHT)
    mgwtest.check(rest == 0, f"only whole {WIDTH}x{HEIGHT} frames came back ({rest} bytes over)")
    dh.check_ball_frames(frames, FRAMES)
    mgwtest.check(procs.stop(gw, signal.SIGTERM) == 0, "the gateway exits 0 on SIGTERM")
