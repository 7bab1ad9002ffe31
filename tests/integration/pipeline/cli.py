#!/usr/bin/env python3
"""The CLI's contract: plugins, inspect, validate (every error as
file:line:col, exit 2), run refusing a node that cannot be built, exit codes.

The six mission plugins (sip-sofia, webrtc-direct, browser-capture,
aloop-sink, v4l2loopback-sink, turn) are listed and none says "not
implemented". A node whose plugin refuses its configuration at build time
(browser-capture with a broken join script) makes `run` exit 2 with the
error naming the node and the script's file:line:col, before any node
starts."""
import os
import re
import subprocess
import time

from mgwtest import MEDIAGW, SOURCE_ROOT, check, workdir


def mediagw(*args, env=None):
    r = subprocess.run([MEDIAGW, *args], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, **(env or {})))
    print(f"$ mediagw {' '.join(args)} -> {r.returncode}\n{r.stdout}{r.stderr}")
    return r


r = mediagw("--version")
check(r.returncode == 0 and re.match(r"mediagw \d+\.\d+\.\d+", r.stdout), "--version")
r = mediagw("--help")
check(r.returncode == 0 and "validate FILE" in r.stdout and "Exit codes" in r.stdout, "--help")
r = mediagw("frobnicate")
check(r.returncode == 2 and "unknown command" in r.stderr, "unknown command: exit 2")

r = mediagw("plugins")
check(r.returncode == 0, "plugins: exit 0")
listed = dict(re.findall(r"^(\S+)\s+\d+\.\d+\.\d+\s+(.*)$", r.stdout, re.M))   # name -> description
names = set(listed)
mission = {"sip-sofia", "webrtc-direct", "browser-capture", "aloop-sink", "v4l2loopback-sink", "turn"}
utility = {"gst", "tone", "test-pattern", "wav-sink", "counter-sink", "event-timer"}
check(mission <= names, f"plugins lists the six mission plugins (missing {mission - names})")
check(utility <= names, f"plugins lists the utility plugins (missing {utility - names})")
unimplemented = {n for n, d in listed.items() if "not implemented" in d}
check(not unimplemented, f"no plugin is listed as not implemented ({sorted(unimplemented)})")
check(all(os.path.isabs(p) for p in re.findall(r"^\s+(/\S+\.so)$", r.stdout, re.M)), "plugins shows paths")

r = mediagw("inspect", "tone")
check(r.returncode == 0 and re.search(r"frequency\s+number, default: 440", r.stdout)
      and re.search(r"output\s+audio", r.stdout), "inspect tone: properties and ports")
r = mediagw("inspect", "ton")
check(r.returncode == 2 and "did you mean 'tone'" in r.stderr, "inspect of a typo suggests the name")
r = mediagw("inspect", "turn")
check("secret" in r.stdout and "provides: ice-servers" in r.stdout, "inspect turn: secret flag, capability")

with workdir() as d:
    broken = os.path.join(d, "broken.toml")
    with open(broken, "w") as f:
        f.write('[gateway]\nname = "x"\nafter_cal = "exit"\n\n'
                '[node.src]\nplugin = "tone"\nfrequncy = 440\nvolume = "loud"\n\n'
                '[node.rec]\nplugin = "wav-sink"\ninputs = { audio = "src.audo" }\n\n'
                '[node.cam]\nplugin = "test-pattern"\n\n'
                '[node.bad]\nplugin = "wav-sink"\npath = "/tmp/x.wav"\ninputs = { audio = "cam.video" }\n')
    r = mediagw("validate", broken)
    check(r.returncode == 2, "validate of a broken file: exit 2")
    expected = [
        f"{broken}:3:1: error: unknown key 'gateway.after_cal' (did you mean 'after_call'?)",
        f"{broken}:7:1: error: node 'src': unknown property 'frequncy' (did you mean 'frequency'?) (plugin tone)",
        f"{broken}:8:10: error: node 'src': property 'volume': expected a number, found a string",
        f"{broken}:10:7: error: node 'rec': missing required property 'path'",
        f"{broken}:12:20: error: node 'rec': input 'audio': node 'src' has no output port 'audo' (did you mean 'audio'?)",
        f"{broken}:20:20: error: node 'bad': input 'audio' takes audio but 'cam.video' gives video",
    ]
    for line in expected:
        check(line in r.stderr, f"reports: {line}")
    check("6 errors" in r.stderr, "every error is reported (6)")
    lines = [l for l in r.stderr.splitlines() if ": error: " in l]
    check(lines == sorted(lines, key=lambda l: [int(x) for x in l.split(":")[1:3]]), "errors come in file order")

    # browser-capture with a broken join script, working nodes around it: tone -> room -> wav-sink.
    capture, wav, script = (os.path.join(d, n) for n in ("capture.toml", "capture.wav", "join.toml"))
    with open(script, "w") as f:
        f.write('[service]\nname = "x"\n\n[[step]]\nname = "a"\nwiat = "#x"\n')
    with open(capture, "w") as f:
        f.write('[node.tone]\nplugin = "tone"\n\n'
                f'[node.room]\nplugin = "browser-capture"\nurl = "http://127.0.0.1:9/"\njoin = "{script}"\n'
                'inputs = { audio = "tone.audio" }\n\n'
                f'[node.rec]\nplugin = "wav-sink"\npath = "{wav}"\ninputs = {{ audio = "room.audio" }}\n')
    r = mediagw("validate", capture)
    check(r.returncode == 0, "the pipeline validates (the join script is read when the node is built)")
    t0 = time.monotonic()
    r = mediagw("run", capture)
    took = time.monotonic() - t0
    errors = [l.split("ERROR ", 1)[1].strip() for l in r.stderr.splitlines() if " ERROR " in l]
    check(r.returncode == 2, f"run refuses the node: exit 2 (got {r.returncode})")
    check(len(errors) == 1 and errors[0].startswith("[core] node 'room' (plugin browser-capture): ") and
          f"{script}:6:1: error: unknown key 'wiat'" in r.stderr,
          f"with one error naming the node and the script's line and column ({errors})")
    check(took < 10, f"at once ({took:.1f} s)")
    check(not os.path.exists(wav) and "ready" not in r.stderr and "Chromium started" not in r.stderr,
          "before any node started (no wav written, never ready, no Chromium)")

    r = mediagw("validate", os.path.join(d, "absent.toml"))
    check(r.returncode == 2 and "absent.toml: error: cannot read" in r.stderr, "missing file: exit 2")

for p in sorted(os.listdir(os.path.join(SOURCE_ROOT, "pipelines"))):
    if p.endswith(".toml"):
        r = mediagw("validate", os.path.join(SOURCE_ROOT, "pipelines", p))
        check(r.returncode == 0, f"shipped pipeline {p} validates")

# A new user's first run of a room pipeline: only JANUS_URL set, no TURN
# variables. It starts (an empty TURN_URL means no TURN, said once) and
# waits for a call; gateway.max_duration ends the run.
from mgwtest import free_port
r = mediagw("run", os.path.join(SOURCE_ROOT, "pipelines", "sip-to-janus.toml"), "--set", "gateway.max_duration=2",
            env={"JANUS_URL": "http://127.0.0.1:9/janus", "SIP_LISTEN": f"udp:127.0.0.1:{free_port()}",
                 "TURN_URL": "", "TURN_SECRET": "", "TURN_PASSWORD": ""})
check(r.returncode == 0 and "ready" in r.stderr, f"sip-to-janus.toml runs with only JANUS_URL set (exit {r.returncode})")
check(r.stderr.count("no STUN/TURN server configured") == 1, "no TURN server: said once in the log")
