"""aloop-sink on a machine without an snd-aloop card: `mediagw run` fails
promptly with exit 1 and a message naming the device and the module to load."""
import os

import device_helpers as dh
import mgwtest

DEVICE = "hw:Loopback,0,0"

dh.require_plugins("tone", "aloop-sink")
if os.path.exists("/proc/asound/Loopback"):
    mgwtest.skip("an snd-aloop card is present: the missing-device path cannot be exercised")

code, output = dh.run_gateway(dh.pipeline("tone-to-aloop.toml"), [f"sink.device={DEVICE}"], timeout=20)
mgwtest.check(code == 1, f"mediagw exits 1 (got {code})")
mgwtest.check(f"'{DEVICE}'" in output, "the error names the device")
mgwtest.check("modprobe snd-aloop" in output, "the error says to load snd-aloop")
mgwtest.check("node 'sink' failed to start" in output, "the error comes from the node's start")
