"""v4l2loopback-sink without its device: `mediagw run` fails promptly with
exit 1 and a message naming the device and the v4l2loopback module. A file
that is not a V4L2 device (/dev/null) is refused too."""
import os

import device_helpers as dh
import mgwtest

DEVICE = "/dev/video10"

dh.require_plugins("test-pattern", "v4l2loopback-sink")
if os.path.exists(DEVICE):
    mgwtest.skip(f"{DEVICE} exists: the missing-device path cannot be exercised")
toml = dh.pipeline("pattern-to-v4l2loopback.toml")

code, output = dh.run_gateway(toml, [f"camera.device={DEVICE}"], timeout=20)
mgwtest.check(code == 1, f"mediagw exits 1 (got {code})")
mgwtest.check(f"'{DEVICE}'" in output, "the error names the device")
mgwtest.check("modprobe v4l2loopback" in output, "the error says to load v4l2loopback")
mgwtest.check("node 'camera' failed to start" in output, "the error comes from the node's start")

code, output = dh.run_gateway(toml, ["camera.device=/dev/null"], timeout=20)
mgwtest.check(code == 1, f"mediagw exits 1 on /dev/null (got {code})")
mgwtest.check("'/dev/null' is not a V4L2 device" in output, "/dev/null is refused as not a V4L2 device")
