#!/usr/bin/env python3
"""Links convert only where ports disagree: a 48 kHz tone into a port that
takes 8 kHz G.711 gets an encoder, a matching link stays passthrough, and
video frames arrive with their size (counted by counter-sink)."""
import json
import os
import subprocess

from mgwtest import MEDIAGW, check, workdir

with workdir() as d:
    report = os.path.join(d, "count.json")
    pipeline = os.path.join(d, "conv.toml")
    with open(pipeline, "w") as f:
        f.write(f'''
[node.tone]
plugin = "tone"
duration = 2
[node.pattern]
plugin = "test-pattern"
duration = 2
width = 320
height = 240
[node.fx]
plugin = "gst"
description = "capsfilter name=in_audio caps=audio/x-mulaw,rate=8000,channels=1 ! mulawdec ! identity name=out_audio capsfilter name=in_video caps=video/x-vp8 ! vp8dec ! identity name=out_video"
inputs = {{ audio = "tone.audio", video = "pattern.video" }}
[node.count]
plugin = "counter-sink"
report = "{report}"
inputs = {{ audio = "fx.audio", video = "fx.video" }}
''')
    r = subprocess.run([MEDIAGW, "run", pipeline], capture_output=True, text=True, timeout=30)
    print(r.stderr)
    check(r.returncode == 0, f"run exits 0 (got {r.returncode})")
    check("tone.audio->fx.audio: audio/x-raw -> audio/x-mulaw needs audioconvert ! audioresample ! mulawenc"
          in r.stderr, "an encoder is inserted where the ports disagree")
    check("pattern.video->fx.video: video/x-raw -> video/x-vp8 needs videoconvert ! videoscale ! vp8enc" in r.stderr,
          "a video encoder is inserted where the ports disagree")
    check("fx.audio->count.audio: passthrough" in r.stderr, "a matching link is passthrough")
    with open(report) as f:
        counts = json.load(f)
    print(counts)
    a, v = counts["audio"], counts["video"]
    check("rate=(int)8000" in a["caps"], "audio arrives as 8 kHz after the G.711 round trip")
    check(abs(a["bytes"] - 2 * 16000) <= 640, f"2 s of 8 kHz S16 audio arrives (got {a['bytes']} bytes)")
    check(v["width"] == 320 and v["height"] == 240, "video frames arrive at 320x240")
    check(48 <= v["buffers"] <= 50, f"50 frames arrive, give or take the encoder's delay (got {v['buffers']})")
