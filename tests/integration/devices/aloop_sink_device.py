"""aloop-sink into a real snd-aloop card: a 1000 Hz tone played into
hw:Loopback,0,0 is captured from hw:Loopback,1,0 and checked."""
import os
import signal
import time

import device_helpers as dh
import mgwtest

TONE_HZ = 1000

# The plugins are ours: they must load whether or not the card exists (a
# plugin that fails to load fails the test); only the kernel card may skip it.
dh.require_plugins("tone", "aloop-sink")
if not os.path.exists("/proc/asound/Loopback"):
    mgwtest.skip("no snd-aloop card (/proc/asound/Loopback is absent; needs `modprobe snd-aloop`, "
                 "impossible without kernel modules)")
mgwtest.require_tools("gst-launch-1.0", "sox", "soxi")

with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
    gw = procs.start("mediagw", [mgwtest.MEDIAGW, "run", dh.pipeline("tone-to-aloop.toml"),
                                 "--set", f"tone.frequency={TONE_HZ}", "--set", "sink.device=hw:Loopback,0,0"])
    mgwtest.check(procs.wait_for_output(gw, r"playing into ALSA device", 10), "the gateway opened the device")
    # snd-aloop's capture side must take the playback side's parameters.
    # 300 buffers of alsasrc's default 10 ms period = 3 s.
    recording = os.path.join(wd, "captured.wav")
    capture = procs.start("capture", [
        "gst-launch-1.0", "-q", "alsasrc", "device=hw:Loopback,1,0", "num-buffers=300", "!",
        "audio/x-raw,format=S16LE,rate=48000,channels=2", "!", "audioconvert", "!", "audio/x-raw,channels=1", "!",
        "wavenc", "!", "filesink", f"location={recording}"])
    deadline = time.time() + 15
    while capture.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    mgwtest.check(capture.poll() == 0, "the capture side recorded 3 s")
    mgwtest.check(procs.stop(gw, signal.SIGTERM) == 0, "the gateway exits 0 on SIGTERM")
    seconds = dh.wav_seconds(recording)
    mgwtest.check(seconds >= 2.9, f"3 s were captured ({seconds:.2f} s)")
    freq, rms = dh.segment_stat(recording, 0.5, 2)
    mgwtest.log(f"dominant frequency {freq} Hz, RMS {rms}")
    mgwtest.check(freq is not None and abs(freq - TONE_HZ) <= TONE_HZ * 0.02, f"the tone is {TONE_HZ} Hz ±2%")
    mgwtest.check(rms is not None and rms > 0.1, "the tone is well above silence")
