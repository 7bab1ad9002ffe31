#!/usr/bin/env python3
"""The echo forwards RTP as RTP (rtp_forward, the default): the caller's
packets go back through no jitter buffer, depayloader or payloader, with the
gateway's own SSRC.

A hand-written caller (rawcaller.py) streams a 1000 Hz PCMU tone to the
sip-echo gateway and records what comes back:
  - the echo is the tone; it carries one SSRC, not the caller's, and its
    sequence numbers run on by one per packet;
  - the gateway has no `rtpjitterbuffer` thread during the call
    (/proc/PID/task/*/comm): the packets cross one thread;
  - the caller changes its SSRC (a phone restarting its stream) and jumps
    its sequence numbers and timestamps: the echo keeps its SSRC, its
    sequence numbers still run on by one, the tone goes on;
  - with `rtp_forward = false` the same call goes through a jitter buffer
    (its thread is there) and is echoed too (the payloading path).
"""
import os
import random

import mgwtest
import sigtest
import tonecheck
from rawcaller import RtpStream, bye, g711_tone, g711_wav, invite, media_port, rtp_pair, udp

TONE_HZ = 1000
PHASE_S = 2.5


def threads(pid):
    names = []
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            names.append(open(f"/proc/{pid}/task/{t}/comm").read().strip())
        except OSError:
            pass
    return names


def check_tone(packets, wd, name):
    mgwtest.check(len(packets) >= 0.6 * PHASE_S * 50, f"{name}: echoed ({len(packets)} RTP packets)")
    wav = g711_wav([p for _, pt, p in packets if pt == 0], os.path.join(wd, name.replace(" ", "-") + ".wav"))
    freq = tonecheck.tone_frequency(wav, 0.2)
    mgwtest.check(freq is not None and abs(freq - TONE_HZ) <= 0.02 * TONE_HZ,
                  f"{name}: the echo is the {TONE_HZ} Hz tone ({freq and round(freq, 1)} Hz)")


def call(procs, wd, forward):
    sets = [] if forward else ["rtp_forward=false"]
    gw, port = sigtest.gateway(procs, ["codecs=PCMU"] + sets, name=f"gateway-forward-{forward}")
    sip = udp()
    rtp, rtcp = rtp_pair()
    tag = "forwarded" if forward else "payloaded"
    try:
        answer, dialog = invite(sip, port, f"m=audio {rtp.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        stream = RtpStream(rtp, ("127.0.0.1", media_port(answer)), g711_tone(TONE_HZ, 1.0))
        first = stream.run(PHASE_S)
        names = threads(gw.pid)
        jb = [n for n in names if n.startswith("rtpjitterbuffer")]
        if forward:
            mgwtest.check(not jb, f"{tag}: no jitter buffer thread in the gateway ({sorted(set(names))})")
        else:
            mgwtest.check(jb, f"{tag}: the payloading path has its jitter buffer thread ({jb})")
        check_tone(first, wd, f"{tag}, first stream")
        if forward:
            check_ssrc_change(stream, tag, wd)
        mgwtest.check(bye(sip, dialog, 2) == 200, f"{tag}: BYE answered 200")
    finally:
        for s in (sip, rtp, rtcp):
            s.close()
        procs.stop(gw)


def check_ssrc_change(stream, tag, wd):
    """One SSRC, the gateway's, sequence numbers by one; and so after the caller's SSRC change."""
    heads = stream.headers[:]
    ssrcs = {h[2] for h in heads}
    mgwtest.check(len(ssrcs) == 1, f"{tag}: the echo has one SSRC ({len(ssrcs)})")
    mgwtest.check(stream.ssrc not in ssrcs, f"{tag}: the echo's SSRC is the gateway's, not the caller's")
    steps = {(b[0] - a[0]) & 0xffff for a, b in zip(heads, heads[1:])}
    mgwtest.check(steps == {1}, f"{tag}: sequence numbers run on by one (steps seen: {sorted(steps)[:5]})")

    # The caller restarts its stream: new SSRC, sequence and timestamp.
    stream.ssrc = (stream.ssrc + 1 + random.getrandbits(31)) & 0xffffffff
    stream.seq += 20000
    stream.ts += 5_000_000
    before = len(stream.headers)
    second = stream.run(PHASE_S)
    heads2 = stream.headers[before - 1:]
    mgwtest.check({h[2] for h in heads2} == ssrcs, f"{tag}: after the caller's SSRC change the echo keeps its SSRC")
    steps2 = {(b[0] - a[0]) & 0xffff for a, b in zip(heads2, heads2[1:])}
    mgwtest.check(steps2 == {1}, f"{tag}: ... and its sequence numbers still run on by one "
                                  f"(steps seen: {sorted(steps2)[:5]})")
    check_tone(second, wd, f"{tag}, second stream")


mgwtest.require_tools("sox")
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
    call(procs, wd, True)
    call(procs, wd, False)
