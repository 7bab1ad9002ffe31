#!/usr/bin/env python3
"""Hold and resume by re-INVITE, signalling and media.

Usage: sip_hold_resume.py signalling|media   (both without an argument)

1. signalling: sipp (scenarios/uac_hold_resume.xml) establishes a call, re-INVITEs with
   a=sendonly (the gateway must answer a=recvonly and emit call.held), then
   with a=sendrecv (answer a=sendrecv, call.resumed), waits and hangs up.
   The call survives both re-INVITEs: no call.ended before sipp's BYE.
2. media (RFC 3264 6.1: the answerer of a sendonly stream answers
   recvonly and does not send on it; of an inactive one, sends nothing
   either), with a hand-written caller (rawcaller.py) that streams a
   1000 Hz PCMU tone to the echo gateway and records what comes back:
   - sendrecv: the echo comes back, 1000 Hz;
   - re-INVITE a=sendonly (answered a=recvonly): the caller keeps sending,
     the gateway sends no RTP (after GRACE_S for packets already on their way);
   - re-INVITE a=inactive (answered a=inactive): the caller still sends (a
     late or careless peer), the gateway still sends no RTP;
   - re-INVITE a=sendrecv (answered a=sendrecv, call.resumed): the echo
     comes back again, 1000 Hz; BYE answered 200.
"""
import os
import re
import sys
import time

import mgwtest
import sigtest
import siptest
import tonecheck
from rawcaller import RtpStream, bye, invite, media_port, g711_tone, g711_wav, reinvite, rtp_pair, udp

TONE_HZ = 1000
PHASE_S = 2.5
GRACE_S = 0.3          # RTP already in the gateway's pipeline when it answers may still arrive


def direction(sdp):
    dirs = re.findall(r"a=(sendrecv|sendonly|recvonly|inactive)", sdp)
    return dirs[0] if dirs else "sendrecv"


def check_echo(packets, wd, name):
    mgwtest.check(len(packets) >= 50, f"{name}: the gateway echoes ({len(packets)} RTP packets in {PHASE_S} s)")
    wav = g711_wav([p for _, pt, p in packets if pt == 0], os.path.join(wd, name + ".wav"))
    freq = tonecheck.tone_frequency(wav, 0.2)
    mgwtest.check(freq is not None and abs(freq - TONE_HZ) <= 0.02 * TONE_HZ,
                  f"{name}: the echo is the {TONE_HZ} Hz tone ({freq and round(freq, 1)} Hz)")


def check_silent(packets, since, name):
    late = [t for t, _, _ in packets if t > since + GRACE_S]
    mgwtest.log(f"{name}: {len(packets)} RTP packets from the gateway, {len(late)} of them after {GRACE_S} s")
    mgwtest.check(not late, f"{name}: the gateway sends no RTP ({len(late)} packets)")


def signalling(procs, wd):
    gw, port = sigtest.gateway(procs, name="gateway-sipp")
    rc = sigtest.run_scenario(procs, wd, port, "uac_hold_resume")
    mgwtest.check(rc == 0, "sipp: both re-INVITEs answered 200 with the right direction, BYE answered 200")
    mgwtest.check(sigtest.wait_event(procs, gw, "call.ended"), "the call ended (sipp's BYE)")
    out = procs.output(gw)
    order = [m for m in ("call.established", "call.held", "call.resumed", "call.ended")
             if f"[event] sip/{m}" in out]
    mgwtest.check(order == ["call.established", "call.held", "call.resumed", "call.ended"],
                  f"events established, held, resumed, ended (saw {order})")
    pos = [out.index(f"[event] sip/{m}") for m in order]
    mgwtest.check(pos == sorted(pos), "in that order")
    mgwtest.check(len(sigtest.events(procs, gw, "call.held")) == 1 and
                  len(sigtest.events(procs, gw, "call.resumed")) == 1, "exactly one held and one resumed")
    mgwtest.check(len(sigtest.events(procs, gw, "call.ended")) == 1 and
                  "bye" in sigtest.events(procs, gw, "call.ended")[0], "one call.ended, reason bye")
    procs.stop(gw)


def media(procs, wd):
    gw, port = sigtest.gateway(procs, ["codecs=PCMU"], name="gateway-media")
    sip = udp()
    rtp, rtcp = rtp_pair()
    try:
        def m(d):
            return f"m=audio {rtp.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na={d}\r\n"

        answer, dialog = invite(sip, port, m("sendrecv"))
        mgwtest.check(direction(answer) == "sendrecv", f"call: answered sendrecv ({direction(answer)})")
        stream = RtpStream(rtp, ("127.0.0.1", media_port(answer)), g711_tone(TONE_HZ, 1.0))
        check_echo(stream.run(PHASE_S), wd, "before hold")

        cseq = 2
        for offered, expected in (("sendonly", "recvonly"), ("inactive", "inactive")):
            answer = reinvite(sip, dialog, m(offered), cseq)
            since = time.time()
            cseq += 1
            mgwtest.check(direction(answer) == expected, f"hold ({offered}): answered {expected} ({direction(answer)})")
            check_silent(stream.run(PHASE_S), since, f"held ({offered})")
        mgwtest.check(len(sigtest.events(procs, gw, "call.held")) == 1, "one call.held")

        answer = reinvite(sip, dialog, m("sendrecv"), cseq)
        cseq += 1
        mgwtest.check(direction(answer) == "sendrecv", f"resume: answered sendrecv ({direction(answer)})")
        mgwtest.check(sigtest.wait_event(procs, gw, "call.resumed"), "call.resumed")
        check_echo(stream.run(PHASE_S), wd, "resumed")
        mgwtest.check(bye(sip, dialog, cseq) == 200, "BYE answered 200")
        mgwtest.check(sigtest.wait_event(procs, gw, "call.ended"), "call.ended")
    finally:
        for s in (sip, rtp, rtcp):
            s.close()
    procs.stop(gw)


parts = sys.argv[1:] or ["signalling", "media"]
if not set(parts) <= {"signalling", "media"}:
    mgwtest.fail(f"unknown part(s) {parts}: signalling, media")
siptest.require_sipp()
mgwtest.require_tools("sox")
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    for part in parts:
        {"signalling": signalling, "media": media}[part](procs, wd)
