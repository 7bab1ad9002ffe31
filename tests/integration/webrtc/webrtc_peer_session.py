#!/usr/bin/env python3
"""The serve mode's /session endpoint (what the page uses): one sendrecv
connection per browser instead of a WHIP and a WHEP one, with a webrtcbin
client (tests/lib/webrtcpeer.py session).

serve-tone.toml: a 1000 Hz tone and a test pattern feed the web node; what
browsers send ends in a counter and a WAV. Asserted:
  - the client connects once (one session, one participant.joined), hears
    1000 Hz and decodes the pattern on the connection it sends on;
  - the gateway receives its 660 Hz tone (the WAV of the node's audio
    output) and its video (the counter);
  - the gateway ran one webrtcbin for it (one "session N ... connected"
    line);
  - a POST to /session/ID or a DELETE of a /whep/ID for the session's id
    is refused (a resource is addressed by its own endpoint);
  - DELETE ends the session (participant.left) and the gateway stops cleanly.
"""
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

import mgwtest
import tonecheck

PIPELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve-tone.toml")
PEER = os.path.join(mgwtest.SOURCE_ROOT, "tests", "lib", "webrtcpeer.py")


def main():
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        port = mgwtest.free_port("tcp")
        report, wav = os.path.join(wd, "count.json"), os.path.join(wd, "session.wav")
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", PIPELINE, "-v"],
                         env={"HTTP_LISTEN": f"127.0.0.1:{port}", "COUNT_REPORT": report, "WAV": wav})
        if not procs.wait_for_output(gw, r"serving the call on", 15):
            mgwtest.fail("the gateway never served HTTP")
        base = f"http://127.0.0.1:{port}"
        peer = subprocess.run([sys.executable, PEER, "session", base + "/session", "--video", "--freq", "660",
                               "--expect-freq", "1000", "--seconds", "6"], capture_output=True, text=True, timeout=40)
        if "No module named 'gi'" in peer.stderr:
            mgwtest.skip("GStreamer python bindings missing (python3-gi)")
        lines = [l for l in peer.stdout.splitlines() if l.startswith('{"ran_s"')]
        check(lines, f"the client reports (exit {peer.returncode}; {peer.stderr.strip()[-300:]})")
        result = json.loads(lines[-1])
        mgwtest.log(f"client: {result}")
        s = result["session"]
        check(s["connected"], "the session connects")
        check(s.get("freq") and abs(s["freq"] - 1000) < 15, f"the client hears 1000 Hz ({s.get('freq')} Hz)")
        check(s["video_frames"] > 50, f"the client decodes the pattern ({s['video_frames']} frames)")
        check(s["tx_packets"] > 200, f"the client sent media on the same connection ({s['tx_packets']} packets)")
        check(procs.wait_for_output(gw, r"participant\.left.*participants=\(int\)0", 10),
              "DELETE ends the session: participant.left")
        out = procs.output(gw)
        check(len(re.findall(r"session \d+ \(participant [^)]*\) connected", out)) == 1,
              "one connection for the browser (one session connected)")
        check(len(re.findall(r"participant\.joined", out)) == 1, "one participant.joined")
        # A resource lives at its own endpoint only.
        for method, path in (("DELETE", "/whep/1"), ("PATCH", "/whip/1")):
            req = urllib.request.Request(base + path, method=method, data=b"" if method == "PATCH" else None,
                                         headers={"Content-Type": "application/trickle-ice-sdpfrag"})
            try:
                urllib.request.urlopen(req, timeout=5)
                status = 200
            except urllib.error.HTTPError as e:
                status = e.code
            check(status == 404, f"{method} {path} (the session's id, another endpoint) is 404 ({status})")
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
        with open(report) as f:
            counts = json.load(f)
        check(counts["audio"]["buffers"] > 100, f"the counter got the client's audio ({counts['audio']['buffers']} buffers)")
        check(counts["video"]["buffers"] > 20, f"the counter got the client's video ({counts['video']['buffers']} buffers)")
        tonecheck.check_tone(wav, 660, 3.0, "the client's audio, as the gateway received it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
