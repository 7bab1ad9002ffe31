#!/usr/bin/env python3
"""`mediagw run` of a tone -> wav pipeline: frequency and duration checked
with sox; SIGTERM mid-run still leaves a valid wav and exit 0."""
import os
import signal
import subprocess
import time

from mgwtest import MEDIAGW, SOURCE_ROOT, Procs, check, dominant_frequency, require_tools, wav_stat, workdir

require_tools("sox")
pipeline = os.path.join(SOURCE_ROOT, "pipelines", "tone-to-wav.toml")

with workdir() as d:
    # 1. Runs to its end by itself: 2 s of 1000 Hz.
    wav = os.path.join(d, "tone.wav")
    r = subprocess.run([MEDIAGW, "run", pipeline, "--set", "tone.frequency=1000"],
                       env=dict(os.environ, TONE_SECONDS="2", WAV=wav), capture_output=True, text=True, timeout=20)
    print(r.stderr)
    check(r.returncode == 0, f"run exits 0 at end of stream (got {r.returncode})")
    st = wav_stat(wav)
    check(st["length"] is not None and abs(st["length"] - 2.0) < 0.05, f"wav lasts 2.0 s (got {st['length']})")
    f = dominant_frequency(wav, 0.1)
    check(f is not None and abs(f - 1000) < 20, f"wav holds 1000 Hz (got {f})")

    # 2. Endless tone stopped by SIGTERM: a complete wav and exit 0.
    wav2 = os.path.join(d, "stopped.wav")
    with Procs(d) as procs:
        p = procs.start("gateway", [MEDIAGW, "run", pipeline, "--set", "tone.duration=0", "--set",
                                    "tone.frequency=700"], env={"WAV": wav2})
        check(procs.wait_for_output(p, r"ready", 10), "gateway reports ready")
        time.sleep(1.5)
        t0 = time.time()
        rc = procs.stop(p, signal.SIGTERM, timeout=10)
        check(rc == 0, f"SIGTERM: exit 0 (got {rc})")
        check(time.time() - t0 < 5, "the drain is bounded")
    st = wav_stat(wav2)
    check(st["length"] is not None and 1.0 < st["length"] < 3.0, f"stopped wav is valid, ~1.5 s (got {st['length']})")
    f = dominant_frequency(wav2, 0.1)
    check(f is not None and abs(f - 700) < 15, f"stopped wav holds 700 Hz (got {f})")
