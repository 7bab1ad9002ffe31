#!/usr/bin/env python3
"""The serve mode's WHIP and WHEP endpoints with a client that is not a
browser: GStreamer webrtcbin peers (tests/lib/webrtcpeer.py), on loopback.

serve-tone.toml: a 1000 Hz tone and a test pattern feed the web node, what
browsers send ends in a counter and (audio) a WAV. Asserted:
  - a WHEP subscriber connects, hears 1000 Hz and decodes video frames;
  - a WHIP publisher (440 Hz + VP8) connects; the counter behind the node
    gets its audio (Opus, passed through) and video, and the WAV of the
    node's audio output, decoded by the gateway, is the publisher's 440 Hz
    tone (at least 3 s of it);
  - DELETE of both ends the sessions (participant.left) and the gateway
    stops cleanly;
  - the node's rtp.stats (webrtcbin's get-stats, for mediagw serve's
    metrics and call records) count the Opus packets each way;
  - with rtp_ports set, every UDP socket of the gateway (its ICE
    candidates' sockets) is inside that range during the sessions.
"""
import json
import os
import re
import subprocess
import sys
import time

import hostile
import mgwtest
import tonecheck

PIPELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve-tone.toml")
PEER = os.path.join(mgwtest.SOURCE_ROOT, "tests", "lib", "webrtcpeer.py")


def main():
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        port = mgwtest.free_port()
        report, wav = os.path.join(wd, "count.json"), os.path.join(wd, "whip.wav")
        lo = 20000 + 20 * (os.getpid() % 1000)  # 20 ports: 2 sessions x every local address
        hi = lo + 19
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", PIPELINE, "-v", "--set", f"web.rtp_ports={lo}-{hi}"],
                         env={"HTTP_LISTEN": f"127.0.0.1:{port}", "COUNT_REPORT": report, "WAV": wav})
        if not procs.wait_for_output(gw, r"serving the call on", 15):
            mgwtest.fail("the gateway never served HTTP")
        base = f"http://127.0.0.1:{port}"
        # One client process doing both, as the benchmark runs it.
        peer = subprocess.Popen([sys.executable, PEER, "pair", "--whip", base + "/whip", "--whep", base + "/whep",
                                 "--video", "--seconds", "6"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        bound = set()
        while peer.poll() is None: # the gateway's UDP sockets while the sessions run
            bound |= set(hostile.udp_ports(gw.pid))
            time.sleep(0.3)
        out, err = peer.communicate(timeout=40)
        peer = subprocess.CompletedProcess(peer.args, peer.returncode, out, err)
        check(bound and all(lo <= p <= hi for p in bound),
              f"with rtp_ports every UDP socket of the gateway is inside {lo}-{hi} ({sorted(bound)})")
        if "No module named 'gi'" in peer.stderr:
            mgwtest.skip("GStreamer python bindings missing (python3-gi)")
        lines = [l for l in peer.stdout.splitlines() if l.startswith('{"ran_s"')]
        check(lines, f"the client reports (exit {peer.returncode}; {peer.stderr.strip()[-300:]})")
        result = json.loads(lines[-1])
        whep, whip = result["whep"], result["whip"]
        mgwtest.log(f"client: {result}")
        check(whep["connected"] and whip["connected"], "the WHEP and WHIP sessions connect")
        check(whep.get("freq") and abs(whep["freq"] - 1000) < 15, f"the subscriber hears 1000 Hz ({whep.get('freq')} Hz)")
        check(whep["video_frames"] > 50, f"the subscriber decodes the pattern ({whep['video_frames']} frames)")
        check(whip["tx_packets"] > 200, f"the publisher sent media ({whip['tx_packets']} packets)")
        check(procs.wait_for_output(gw, r"participant\.left.*participants=\(int\)0", 10),
              "DELETE ends both sessions: participant.left")
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
        stats = re.findall(r"web/rtp\.stats, audio_packets_sent=\(guint64\)(\d+), audio_packets_received=\(guint64\)(\d+)",
                           procs.output(gw))
        check(stats and int(stats[-1][0]) > 50 and int(stats[-1][1]) > 50,
              f"rtp.stats count the WebRTC leg's audio packets (sent, received: {stats[-1] if stats else None})")
        with open(report) as f:
            counts = json.load(f)
        check("web.audio->count.audio: passthrough of audio/x-opus" in procs.output(gw),
              "the publisher's Opus passes through the node")
        check(counts["audio"]["buffers"] > 100, f"the counter got the publisher's audio ({counts['audio']['buffers']} buffers)")
        check(counts["video"]["buffers"] > 20, f"the counter got the publisher's video ({counts['video']['buffers']} buffers)")
        tonecheck.check_tone(wav, 440, 3.0, "the publisher's audio, as the gateway received it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
