#!/usr/bin/env python3
"""Dense mode: several gateways in one process (`mediagw run FILE FILE ...`).

One mediagw process runs three sip-echo gateways, each on its own SIP port
(SIP_LISTEN=udp:127.0.0.1:0 for all; a `--set` after a FILE is that
gateway's): #1 with after_call = "exit", #3 answering PCMA only.
Hand-written callers (rawcaller.py) then check:
  - three calls at once, each streaming its own tone (600 / 1000 / 1400 Hz),
    each hears its own tone back (no cross-talk; #3 answered PCMA, echoed PCMA);
  - after the BYEs, #1 ended ("gateway #1 ... ended") and its SIP port is
    closed, while #2 (re-armed) answers a new call with the echo;
  - SIGTERM drains the others, exit code 0;
  - a bad second FILE: exit 2, the error names file:line:col, nothing started;
  - two gateways on one SIP port: the second cannot bind, the whole process
    stops (start-up is all or nothing) with exit code 1.
"""
import os
import re
import signal
import threading
import time

import mgwtest
import siptest
import tonecheck
from rawcaller import RtpStream, bye, g711_tone, g711_wav, invite, media_port, rtp_pair, send_invite, udp

CALL_S = 3.0


def start_dense(procs, files_and_sets, name="dense", env=None):
    argv = [mgwtest.MEDIAGW, "run"]
    for path, sets in files_and_sets:
        argv.append(path)
        for s in sets:
            argv += ["--set", s]
    return procs.start(name, argv, env=env or {"SIP_LISTEN": "udp:127.0.0.1:0"})


def ports_of(procs, p, n, timeout=20):
    rx = r"\[sip-echo#(\d+) sip-sofia/sip\] listening on sip:127\.0\.0\.1:(\d+)"
    deadline = time.time() + timeout
    while time.time() < deadline and len(re.findall(rx, procs.output(p))) < n and p.poll() is None:
        time.sleep(0.05)
    found = {int(i): int(port) for i, port in re.findall(rx, procs.output(p))}
    if len(found) < n:
        mgwtest.fail(f"only {len(found)} of {n} gateways listening (exit code {p.poll()})")
    return [found[i + 1] for i in range(n)]


class Call:
    """One caller: INVITE offering `codecs` (payload types), a tone, the echo collected."""

    def __init__(self, port, freq, pts=(0,)):
        self.sip, (self.rtp, self.rtcp) = udp(), rtp_pair()
        names = {0: "PCMU", 8: "PCMA"}
        m = (f"m=audio {self.rtp.getsockname()[1]} RTP/AVP {' '.join(map(str, pts))}\r\n" +
             "".join(f"a=rtpmap:{pt} {names[pt]}/8000\r\n" for pt in pts))
        self.answer, self.dialog = invite(self.sip, port, m)
        self.pt = int(re.search(r"m=audio \d+ RTP/AVP (\d+)", self.answer).group(1))
        self.freq = freq
        self.stream = RtpStream(self.rtp, ("127.0.0.1", media_port(self.answer)), g711_tone(freq, 1.0, self.pt),
                                self.pt)
        self.packets = []

    def run(self, seconds):
        self.packets = self.stream.run(seconds)

    def check_echo(self, wd, name):
        mgwtest.check(len(self.packets) >= 0.6 * CALL_S * 50,
                      f"{name}: echoed ({len(self.packets)} RTP packets in {CALL_S} s)")
        wav = g711_wav([p for _, pt, p in self.packets if pt == self.pt], os.path.join(wd, name + ".wav"), self.pt)
        freq = tonecheck.tone_frequency(wav, 0.3)
        mgwtest.check(freq is not None and abs(freq - self.freq) <= 0.02 * self.freq,
                      f"{name}: the echo is its own {self.freq} Hz tone ({freq and round(freq, 1)} Hz)")

    def hang_up(self):
        status = bye(self.sip, self.dialog)
        for s in (self.sip, self.rtp, self.rtcp):
            s.close()
        return status


def options_answered(port, timeout=1.0):
    sip = udp()
    try:
        status, _, _, _ = send_invite(sip, port, "m=audio 9 RTP/AVP 0\r\n", timeout=timeout)
        return status is not None
    except ConnectionRefusedError:     # ICMP port unreachable: nothing listens
        return False
    finally:
        sip.close()


def main():
    mgwtest.require_tools("sox")
    echo = siptest.PIPELINE
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        p = start_dense(procs, [(echo, ["gateway.after_call=exit"]), (echo, []), (echo, ["sip.codecs=PCMA"])])
        ports = ports_of(procs, p, 3)
        mgwtest.check(len(set(ports)) == 3, f"three gateways, three SIP ports in one process ({ports})")

        calls = [Call(ports[0], 600), Call(ports[1], 1000), Call(ports[2], 1400, pts=(0, 8))]
        mgwtest.check(calls[2].pt == 8, f"#3 (its own codecs=PCMA) answered PCMA (payload type {calls[2].pt})")
        mgwtest.check(calls[0].pt == 0 and calls[1].pt == 0, "#1 and #2 answered PCMU")
        threads = [threading.Thread(target=c.run, args=(CALL_S,)) for c in calls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i, c in enumerate(calls):
            c.check_echo(wd, f"gateway #{i + 1}")
        for i, c in enumerate(calls):
            mgwtest.check(c.hang_up() == 200, f"#{i + 1}: BYE answered 200")

        mgwtest.check(procs.wait_for_output(p, r"gateway #1 'sip-echo' ended \(the call ended", 10),
                      "#1 (after_call = exit) ended after its call")
        time.sleep(0.5)          # freed on the next idle
        mgwtest.check(not options_answered(ports[0]), "#1's SIP port is closed")
        mgwtest.check(p.poll() is None, "the process runs on with #2 and #3")
        again = Call(ports[1], 1000)
        again.run(CALL_S)
        again.check_echo(wd, "gateway #2, second call")
        mgwtest.check(again.hang_up() == 200, "#2, second call: BYE answered 200")

        p.send_signal(signal.SIGTERM)
        try:
            code = p.wait(10)
        except Exception:
            code = None
        mgwtest.check(code == 0, f"SIGTERM: the process drained and exited 0 (exit code {code})")
        mgwtest.check("0 still running" in procs.output(p), "every gateway ended")

        # A bad second FILE: nothing starts.
        bad = os.path.join(wd, "bad.toml")
        with open(bad, "w") as f:
            f.write('[gateway]\nname = "bad"\n\n[node.sip\nplugin = "sip-sofia"\n')
        p = start_dense(procs, [(echo, []), (bad, [])], name="dense-bad")
        code = p.wait(20)
        out = procs.output(p)
        mgwtest.check(code == 2, f"a bad FILE: exit code 2 ({code})")
        mgwtest.check(re.search(re.escape(bad) + r":4:\d+", out) is not None, "the error names bad.toml:4:col")
        mgwtest.check("listening on" not in out, "no gateway started")

        # Two gateways on one port: the process stops as a whole.
        port = mgwtest.free_port()
        p = start_dense(procs, [(echo, []), (echo, [])], name="dense-clash",
                        env={"SIP_LISTEN": f"udp:127.0.0.1:{port}"})
        try:
            code = p.wait(20)
        except Exception:
            code = None
        out = procs.output(p)
        mgwtest.check(code == 1, f"a gateway that cannot start: the process exits 1 ({code})")
        mgwtest.check("failed to start" in out and "stopping every gateway" in out,
                      "the log says which gateway failed to start and that all stop")


main()
