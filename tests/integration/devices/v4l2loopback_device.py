"""v4l2loopback-sink into a real v4l2loopback device: frames written by the
gateway are read back with v4l2src and counted, and their size checked."""
import os
import re
import signal
import subprocess

import device_helpers as dh
import mgwtest

WIDTH, HEIGHT, FRAMES = 640, 480, 60

device = dh.find_v4l2loopback_output()
if device is None:
    mgwtest.skip("no v4l2loopback device accepting a writer (no /dev/video* whose VIDIOC_QUERYCAP says "
                 "driver 'v4l2 loopback' with video output; needs `modprobe v4l2loopback`, "
                 "impossible without kernel modules)")
mgwtest.require_tools("gst-launch-1.0")
dh.require_plugins("test-pattern", "v4l2loopback-sink")

with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
    gw = procs.start("mediagw", [mgwtest.MEDIAGW, "run", dh.pipeline("pattern-to-v4l2loopback.toml"),
                                 "--set", f"camera.device={device}", "--set", f"camera.width={WIDTH}",
                                 "--set", f"camera.height={HEIGHT}"])
    mgwtest.check(procs.wait_for_output(gw, r"writing video into", 10), "the gateway opened the device")
    # -v prints the negotiated caps; fakesink counts what arrives.
    try:
        r = subprocess.run(["gst-launch-1.0", "-v", "v4l2src", f"device={device}", f"num-buffers={FRAMES}", "!",
                            "fakesink", "silent=false"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        mgwtest.fail(f"reading {FRAMES} frames from {device} took over 30 s")
    mgwtest.check(r.returncode == 0, f"v4l2src read from {device}")
    frames = len(re.findall(r"chain \*+", r.stdout))
    mgwtest.log(f"{frames} frames read")
    mgwtest.check(frames == FRAMES, f"{FRAMES} frames came back")
    mgwtest.check(f"width=(int){WIDTH}" in r.stdout and f"height=(int){HEIGHT}" in r.stdout,
                  f"the frames are {WIDTH}x{HEIGHT}")
    mgwtest.check(procs.stop(gw, signal.SIGTERM) == 0, "the gateway exits 0 on SIGTERM")
