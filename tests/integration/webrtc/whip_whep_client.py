#!/usr/bin/env python3
"""webrtc-direct as a WHIP and as a WHEP client, against the serve mode of
another gateway (its WHIP/WHEP server, bearer token required).

Asserted:
  - a WHEP client gateway plays the server's 1000 Hz tone (its WAV) and
    pattern (counted frames);
  - a WHIP client gateway publishes a 440 Hz tone and a pattern: the
    server's counter gets them, and the server's WAV of what it received is
    that 440 Hz tone;
  - each client, stopped, DELETEs its session (the server logs it);
  - a wrong token: the server answers 401 and the client reports room.failed
    with "HTTP 401"; an unknown path: room.failed with "HTTP 404".
"""
import json
import os
import sys
import time

import mgwtest
import tonecheck

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "test-token-42"


def start(procs, name, pipeline, env, ready):
    p = procs.start(name, [mgwtest.MEDIAGW, "run", os.path.join(HERE, pipeline), "-v"], env=env)
    if not procs.wait_for_output(p, ready, 15):
        mgwtest.fail(f"{name}: no '{ready}' in its log")
    return p


def expect_room_failures(procs, cases, clients, bound_s=20):
    """Each client (of `cases`: [(name, reason regex)]) reports room.failed
    matching its reason within `bound_s`, keeps running, and stops cleanly.
    The event log escapes spaces ("\\ "): in a reason, \\W+ stands for one."""
    check = mgwtest.check
    t0 = time.monotonic()
    for (name, reason), p in zip(cases, clients):
        ok = procs.wait_for_output(p, r"room\.failed, reason=\(string\)\".*(" + reason + ")", bound_s)
        line = [l for l in procs.output(p).splitlines() if "room.failed" in l]
        check(ok, f"{name}: room.failed naming the problem ({line[-1][-160:] if line else 'none'})")
    took = time.monotonic() - t0
    check(took < bound_s, f"every failure within a bounded wait ({took:.1f} s)")
    for (name, _), p in zip(cases, clients):
        check(p.poll() is None, f"{name}: the gateway is still running")
        rc = procs.stop(p)
        check(rc == 0, f"{name}: the gateway stops cleanly (exit {rc})")


def main():
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        port = mgwtest.free_port()
        base = f"http://127.0.0.1:{port}"
        server_report, server_wav = os.path.join(wd, "server.json"), os.path.join(wd, "server.wav")
        server = start(procs, "server", "serve-tone.toml",
                       {"HTTP_LISTEN": f"127.0.0.1:{port}", "TOKEN": TOKEN, "COUNT_REPORT": server_report,
                        "WAV": server_wav},
                       r"serving the call on")

        def client(name, mode, url, token=TOKEN):
            env = {"MODE": mode, "URL": url, "TOKEN": token, "WAV": os.path.join(wd, name + ".wav"),
                   "COUNT_REPORT": os.path.join(wd, name + ".json")}
            return start(procs, name, "client.toml", env, r"client: offering")

        whep = client("whep", "whep", base + "/whep")
        whip = client("whip", "whip", base + "/whip")
        for name, p in (("whep", whep), ("whip", whip)):
            check(procs.wait_for_output(p, r"\[event\] web/room\.joined", 15), f"the {name} client joined (201)")
            check(procs.wait_for_output(p, r"session 1 \(participant room\) connected", 15),
                  f"the {name} client's session connects")
        time.sleep(4)
        for name, p in (("whep", whep), ("whip", whip)):
            check(procs.stop(p) == 0, f"the {name} client stops cleanly")
        check(procs.wait_for_output(server, r"(?s)left \(DELETE\).*left \(DELETE\)", 10),
              "both clients DELETEd their sessions")

        wav = os.path.join(wd, "whep.wav")
        freq = tonecheck.tone_frequency(wav, 1.0, 2.0)
        check(freq and abs(freq - 1000) < 15, f"the WHEP client plays the server's 1000 Hz ({freq and round(freq)} Hz)")
        with open(os.path.join(wd, "whep.json")) as f:
            frames = json.load(f)["video"]["buffers"]
        check(frames > 30, f"the WHEP client receives the server's video ({frames} frames)")

        bad_token = client("bad-token", "whep", base + "/whep", token="wrong")
        check(procs.wait_for_output(bad_token, r"room\.failed.*HTTP\\ 401", 10), "a wrong token: room.failed, HTTP 401")
        bad_path = client("bad-path", "whip", base + "/nothing")
        check(procs.wait_for_output(bad_path, r"room\.failed.*HTTP\\ 404", 10), "an unknown path: room.failed, HTTP 404")
        for p in (bad_token, bad_path):
            check(procs.stop(p) == 0, "a client whose session failed still stops cleanly")

        check(procs.stop(server) == 0, "the server stops cleanly")
        with open(server_report) as f:
            counts = json.load(f)
        check(counts["audio"]["buffers"] > 100 and counts["video"]["buffers"] > 30,
              f"the server got the WHIP client's audio and video ({counts['audio']['buffers']} / "
              f"{counts['video']['buffers']} buffers)")
        tonecheck.check_tone(server_wav, 440, 2.0, "the WHIP client's audio, as the server received it")
        check(TOKEN not in procs.output(whip) + procs.output(server), "the token is not logged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
