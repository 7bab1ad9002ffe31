"""Checks that a recorded wav carries a known tone (stdlib + sox).

Why not mgwtest.dominant_frequency alone: sox's "Rough frequency" is
rate/(2*pi) * RMS(delta)/RMS(amplitude), which for a sine is
rate/pi * sin(pi*f/rate): at 8 kHz a 1000 Hz tone reads 974 Hz (-2.5%).
Resampling to 48 kHz first (as below) brings that error under 0.1%.
"""
import math
import re
import subprocess
import wave


def tone_frequency(path, start=0.0, duration=None):
    """Frequency estimate of a (mostly) single tone, in Hz, or None."""
    # remix 1: the first channel (sox's stat reads a stereo file's samples interleaved)
    args = ["sox", path, "-n", "remix", "1", "trim", str(start)] + ([str(duration)] if duration else [])
    args += ["rate", "48000", "stat"]
    r = subprocess.run(args, capture_output=True, text=True)
    m = re.search(r"Rough\s+frequency:\s+(-?[0-9.]+)", r.stderr)
    if not m:
        return None
    rough = float(m.group(1))
    x = rough * math.pi / 48000
    return 48000 / math.pi * math.asin(x) if 0 <= x <= 1 else rough


def read_mono(path, start=0.0, duration=None):
    """Samples (floats in -1..1) of the first channel of a 16-bit PCM wav."""
    with wave.open(path, "rb") as w:
        rate, ch, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        if width != 2:
            raise ValueError(f"{path}: {8 * width}-bit samples, expected 16")
        w.setpos(min(w.getnframes(), int(start * rate)))
        n = w.getnframes() - w.tell() if duration is None else int(duration * rate)
        raw = w.readframes(n)
    count = len(raw) // (2 * ch)
    vals = memoryview(raw).cast("h")
    return rate, [vals[i * ch] / 32768.0 for i in range(count)]


def tone_purity(path, freq, start=0.0, duration=2.0, spread=0.02):
    """(best_freq, fraction): the share of the signal's power carried by a
    sinusoid near `freq` (searched over +-spread in 1 Hz steps, Goertzel),
    0..1; a clean tone gives > 0.9, noise or another tone gives ~0."""
    rate, x = read_mono(path, start, duration)
    n = len(x)
    if n == 0:
        return None, 0.0
    total = sum(v * v for v in x) / n
    if total <= 0:
        return None, 0.0
    best = (None, 0.0)
    lo, hi = int(freq * (1 - spread)), int(freq * (1 + spread)) + 1
    for f in range(lo, hi + 1):
        w = 2 * math.pi * f / rate
        c = 2 * math.cos(w)
        s1 = s2 = 0.0
        for v in x:
            s1, s2 = v + c * s1 - s2, s1
        power = s1 * s1 + s2 * s2 - c * s1 * s2          # |X(f)|^2
        amp = 2 * math.sqrt(max(power, 0.0)) / n
        frac = (amp * amp / 2) / total
        if frac > best[1]:
            best = (f, frac)
    return best[0], min(best[1], 1.0)


def seconds(path):
    """Duration of a wav (0.0 for an empty or header-only one)."""
    with wave.open(path, "rb") as w:
        return w.getnframes() / float(w.getframerate() or 1)


def rms(path, start=0.0, duration=None):
    _, x = read_mono(path, start, duration)
    return math.sqrt(sum(v * v for v in x) / len(x)) if x else 0.0


def trim_silence(path):
    """A copy of `path` (mono, 16 bit) without its leading and trailing
    silence (below 1% of full scale): its path."""
    out = path[:-4] + "-sound.wav" if path.endswith(".wav") else path + "-sound.wav"
    subprocess.run(["sox", path, "-b", "16", out, "remix", "1", "silence", "1", "0.05", "1%", "reverse",
                    "silence", "1", "0.05", "1%", "reverse"], check=True)
    return out


def check_tone(path, freq, min_seconds, what, tolerance=0.02):
    """Fails the test (mgwtest.fail) unless the sound in the wav `path`
    (silence before and after left out) lasts `min_seconds` or more, is
    loud (RMS > 0.02), is `freq` Hz +-tolerance and carries most of its
    power in that tone (> 50%). `what` names it in the messages."""
    import mgwtest
    sound = trim_silence(path)
    length = seconds(sound)
    mgwtest.check(length >= min_seconds, f"{what}: {length:.2f} s of sound (>= {min_seconds} s) in {path}")
    start, dur = min(0.5, length / 4), min(2.0, length / 2)
    level = rms(sound, start, dur)
    f = tone_frequency(sound, start, dur)
    best, purity = tone_purity(sound, freq, start, min(1.0, dur))
    mgwtest.log(f"{what}: RMS {level:.3f}, {f and round(f, 1)} Hz, {purity:.0%} of the power at {best} Hz")
    mgwtest.check(level > 0.02, f"{what}: loud enough (RMS {level:.3f})")
    mgwtest.check(f is not None and abs(f - freq) <= tolerance * freq,
                  f"{what}: {freq} Hz +-{tolerance:.0%} ({f and round(f, 1)} Hz)")
    mgwtest.check(purity > 0.5, f"{what}: mostly the {freq} Hz tone ({purity:.0%} of its power)")
