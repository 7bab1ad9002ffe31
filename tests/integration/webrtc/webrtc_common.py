"""Pieces shared by the browser tests of pipelines/sip-to-browser.toml.

- start_gateway(): the pipeline on free SIP and HTTP ports, waits until it listens.
- call_gateway(): baresip (1 kHz tone, fakevideo) calls it; waits until the
  web node serves.
- join(): a Browser opens the page and both its sessions connect.
- caller_frequency() / caller_video(): what the page receives from the caller.
"""
import os
import re

import browser
import mgwtest
from baresip import Baresip

PIPELINE = os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-to-browser.toml")
CALLER_HZ = 1000


def start_gateway(procs, extra=()):
    """Returns (process, sip port, http port)."""
    sip_port, http_port = mgwtest.free_port(), mgwtest.free_port()
    gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", PIPELINE, "-v", *extra],
                     env={"SIP_LISTEN": f"udp:127.0.0.1:{sip_port}", "HTTP_LISTEN": f"127.0.0.1:{http_port}"})
    if not procs.wait_for_output(gw, r"listening on sip:", 15):
        mgwtest.fail("the gateway never listened for SIP")
    return gw, sip_port, http_port


def call_gateway(procs, wd, gw, sip_port, audio_codec="opus", video_codec="VP8", name="baresip",
                 web_started=r"serving the call on"):
    """baresip calls; returns once the gateway's log says its web node started
    (`web_started`: serve mode's line by default, e.g. r"pub/room.joined")."""
    tone = os.path.join(wd, "caller-tone.wav")
    mgwtest.make_tone_wav(tone, CALLER_HZ, 60, rate=8000, volume=0.5)
    bs = Baresip(procs, wd, name=name, tone_wav=tone, codecs=audio_codec, video_codecs=video_codec,
                 extra_config=[("module", "snapshot.so")])
    bs.start()
    bs.dial(f"sip:room@127.0.0.1:{sip_port}")
    if not bs.wait_event("CALL_ESTABLISHED", 10):
        mgwtest.fail(f"baresip: call not established within 10 s; events {bs.event_types()}")
    if not procs.wait_for_output(gw, web_started, 15):
        mgwtest.fail(f"the web node did not start when the call was established (no {web_started!r})")
    mgwtest.log(f"ok: the call is established and the web node started ({web_started})")
    return bs


def join(wd, http_port, name, mic_hz, mic_volume=0.5, query=""):
    """A started Browser on the page, both sessions connected."""
    mic = os.path.join(wd, f"{name}-mic.wav")
    mgwtest.make_tone_wav(mic, mic_hz, 60, rate=48000, volume=mic_volume)
    cam = browser.make_y4m(os.path.join(wd, f"{name}-cam.y4m"), seconds=4, w=320, h=240, fps=15)
    bdir = os.path.join(wd, name)
    os.makedirs(bdir, exist_ok=True)
    b = browser.Browser(bdir, fake_audio_wav=mic, fake_video_y4m=cam).start()
    b.open(f"http://127.0.0.1:{http_port}/{query}")
    b.wait_js("mgw.state === 'joined' || mgw.state === 'failed'", 20, f"{name}: the page joined")
    state = b.js("return [mgw.state, mgw.error]")
    if state[0] != "joined":
        mgwtest.fail(f"{name}: the page failed to join: {state[1]}")
    b.wait_js("mgw.pc && mgw.pc.connectionState === 'connected'",
              15, f"{name}: the peer connection connected")
    mgwtest.log(f"ok: {name} joined (participant {b.js('return mgw.participant')})")
    return b


def caller_frequency(b, tries=8):
    """Dominant frequency (Hz) the page hears from the caller; None: silence
    on every try (the first packets may take a moment after connecting)."""
    for _ in range(tries):
        r = b.js(f"return ({browser.DOMINANT_FREQUENCY_JS})(mgw.callerStream, 1500)")
        if r and r.get("hz"):
            return r["hz"]
    return None


def caller_video(b, min_frames=10, timeout=15):
    b.wait_js(f"return ({browser.VIDEO_STATS_JS})(mgw.pc).then(s => s && s.framesDecoded > {min_frames})", timeout,
              "the page decodes the caller's video")
    return b.js(f"return ({browser.VIDEO_STATS_JS})(mgw.pc)")


def events(procs, gw, name):
    return re.findall(r"\[event\] web/" + re.escape(name) + r", (.*)", procs.output(gw))
