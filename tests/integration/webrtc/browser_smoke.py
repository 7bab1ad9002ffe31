#!/usr/bin/env python3
"""Smoke test of tests/lib/browser.py: headless Chromium does WebRTC with itself.

Inside a private network namespace (browser.enter_private_netns), a page served
on 127.0.0.1 connects two RTCPeerConnections to each other (whole SDPs after
gathering, no trickle). The sender's getUserMedia is Chromium's fake devices fed
by a 440 Hz wav and a 320x240 y4m. Asserted:
  - both peer connections reach 'connected', with host candidates on
    127.0.0.1 and 10.99.0.x only;
  - the received audio's dominant frequency (WebAudio, DOMINANT_FREQUENCY_JS)
    is 440 Hz +-15 Hz;
  - the receiver decodes more than 10 video frames of 320x240 (VIDEO_STATS_JS).
No gateway involved: this checks the harness (and the machine) alone.
"""
import http.server
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
import browser  # noqa: E402
import mgwtest  # noqa: E402

TONE_HZ = 440

PAGE = b"""<!doctype html><meta charset="utf-8"><title>loopback</title>
<video id="v" autoplay muted playsinline></video>
<script>
const gathered = pc => new Promise(done => {
  const check = () => pc.iceGatheringState == 'complete' && done();
  pc.addEventListener('icegatheringstatechange', check);
  check();
});
async function run() {
  const pc1 = window.pc1 = new RTCPeerConnection(), pc2 = window.pc2 = new RTCPeerConnection();
  pc2.ontrack = e => { window.remoteStream = e.streams[0]; document.getElementById('v').srcObject = e.streams[0]; };
  const media = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
  media.getTracks().forEach(t => pc1.addTrack(t, media));
  // Whole SDPs once gathering is done: the test reads the candidates from them.
  await pc1.setLocalDescription(); await gathered(pc1);
  await pc2.setRemoteDescription(pc1.localDescription);
  await pc2.setLocalDescription(); await gathered(pc2);
  await pc1.setRemoteDescription(pc2.localDescription);
  window.offerSdp = pc1.localDescription.sdp;
  window.answerSdp = pc2.localDescription.sdp;
}
run().catch(e => { window.error = String(e); console.error(e); });
</script>
"""


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        pass


def candidates(sdp):
    """'address port typ' of each a=candidate line."""
    return [" ".join(m) for m in re.findall(r"a=candidate:\S+ \d+ \S+ \d+ (\S+) (\d+) typ (\S+)", sdp or "")]


def main():
    browser.require_browser()
    browser.enter_private_netns()
    mgwtest.require_tools("sox")
    check = mgwtest.check

    with mgwtest.workdir() as wd:
        wav = browser.make_tone_wav(os.path.join(wd, "tone.wav"), TONE_HZ)
        y4m = browser.make_y4m(os.path.join(wd, "box.y4m"), seconds=2)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", mgwtest.free_port("tcp")), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        try:
            with browser.Browser(wd, fake_audio_wav=wav, fake_video_y4m=y4m) as b:
                t0 = time.monotonic()
                b.open(url)
                state = b.wait_js("window.error || (window.pc1 && pc1.connectionState == 'connected' && "
                                  "pc2.connectionState == 'connected')", 20, "both peer connections connected")
                check(state is True, f"both peer connections connected ({state}) "
                                     f"{time.monotonic() - t0:.2f} s after open()")
                offer, answer = candidates(b.js("window.offerSdp")), candidates(b.js("window.answerSdp"))
                mgwtest.log(f"offer candidates: {offer}\nanswer candidates: {answer}")
                pair = b.js(f"return ({browser.SELECTED_PAIR_JS})(pc2)")
                mgwtest.log(f"selected pair (receiver): {pair}")
                # Chromium gathers 127.0.0.1 too (--allow-loopback-in-peer-connection) and
                # sometimes selects 127.0.0.1 <-> 10.99.0.1: either is fine, nothing else is.
                addrs = [c.split()[0] for c in offer + answer] + [pair[k].split(":")[0] for k in ("local", "remote")]
                check(all(a == "127.0.0.1" or a.startswith("10.99.0.") for a in addrs),
                      "ICE uses only the namespace's addresses (127.0.0.1, 10.99.0.x)")

                t0 = time.monotonic()
                tone = b.js(f"return ({browser.DOMINANT_FREQUENCY_JS})(window.remoteStream, 1000)")
                mgwtest.log(f"received audio: {tone} (measured in {time.monotonic() - t0:.2f} s)")
                check(tone and abs(tone["hz"] - TONE_HZ) <= 15,
                      f"received audio's dominant frequency is {TONE_HZ} Hz +-15")

                video = b.wait_js(f"return ({browser.VIDEO_STATS_JS})(pc2).then(s => s && s.framesDecoded > 10 && s)",
                                  15, "more than 10 decoded video frames")
                mgwtest.log(f"received video: {video}")
                check((video["frameWidth"], video["frameHeight"]) == (320, 240), "decoded video is 320x240")
                b.screenshot(os.path.join(wd, "page.png"))
        finally:
            server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
