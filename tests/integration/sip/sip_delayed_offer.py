#!/usr/bin/env python3
"""Delayed offer: an INVITE without SDP. The gateway's 200 must carry an
offer, the ACK carries the answer, media starts on it and the call is
established; the caller's BYE ends it (reason bye). Before this fix such
INVITEs got 488.

1. sipp (scenarios/uac_delayed_offer.xml; it checks the offer has an
   m=audio line with PCMU): the call, its events, no 488.
2. The media, with a hand-written caller (rawcaller.py): the gateway's
   offer lists its codecs (opus first, PCMA last); the ACK answers PCMA
   alone, and the caller streams a 1000 Hz PCMA tone to the offer's port.
   The echo must come back as PCMA (payload type 8: the codec only the
   ACK's answer chose) and decode to 1000 Hz, for the whole call.
"""
import os
import re

import mgwtest
import sigtest
import siptest
import tonecheck
from rawcaller import RtpStream, bye, invite_without_sdp, media_port, g711_tone, g711_wav, rtp_pair, udp

TONE_HZ = 1000
CALL_S = 3.0


def signalling(procs, wd):
    gw, port = sigtest.gateway(procs, name="gateway-sipp")
    rc = sigtest.run_scenario(procs, wd, port, "uac_delayed_offer")
    mgwtest.check(rc == 0, "sipp: 200 with an SDP offer, ACK with the answer, BYE answered 200")
    mgwtest.check(sigtest.wait_event(procs, gw, "call.ended"), "the gateway logged call.ended")
    out = procs.output(gw)
    mgwtest.check(len(sigtest.events(procs, gw, "call.established")) == 1, "one call.established")
    mgwtest.check("reason=(string)bye" in sigtest.events(procs, gw, "call.ended")[0], "call.ended reason bye")
    mgwtest.check(" 488" not in out, "no 488 anywhere")
    mgwtest.check(sigtest.still_running(gw), "the gateway is still running")
    procs.stop(gw)


def media(procs, wd):
    gw, port = sigtest.gateway(procs, name="gateway-media")
    sip = udp()
    rtp, rtcp = rtp_pair()
    try:
        answer = f"m=audio {rtp.getsockname()[1]} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n"
        offer, _, dialog = invite_without_sdp(sip, port, answer)
        m = re.search(r"m=audio \d+ RTP/AVP((?: \d+)*)", offer)
        pts = m.group(1).split() if m else []
        mgwtest.check("8" in pts and pts[0] != "8", f"the 200 carries an offer with PCMA, not first ({pts})")
        mgwtest.check(sigtest.wait_event(procs, gw, "call.established"), "call.established")
        stream = RtpStream(rtp, ("127.0.0.1", media_port(offer)), g711_tone(TONE_HZ, 1.0, pt=8), pt=8)
        packets = stream.run(CALL_S)
        types = sorted({pt for _, pt, _ in packets})
        pcma = [p for _, pt, p in packets if pt == 8]
        mgwtest.check(len(pcma) >= 100 and types == [8], f"the echo comes back as PCMA, the answer's codec "
                      f"({len(pcma)} PCMA packets in {CALL_S} s; payload types {types})")
        wav = g711_wav(pcma, os.path.join(wd, "echo.wav"), pt=8)
        freq = tonecheck.tone_frequency(wav, 0.2)
        best, purity = tonecheck.tone_purity(wav, TONE_HZ, 0.2, 1.5)
        mgwtest.log(f"echo: {freq} Hz, {purity:.0%} of the power at {best} Hz")
        mgwtest.check(freq is not None and abs(freq - TONE_HZ) <= 0.02 * TONE_HZ,
                      f"the echo is the {TONE_HZ} Hz tone ({freq and round(freq, 1)} Hz)")
        mgwtest.check(purity > 0.5, f"mostly that tone ({purity:.0%} of its power)")
        mgwtest.check(bye(sip, dialog) == 200, "BYE answered 200")
        mgwtest.check(sigtest.wait_event(procs, gw, "call.ended"), "call.ended")
        mgwtest.check("reason=(string)bye" in sigtest.events(procs, gw, "call.ended")[0], "call.ended reason bye")
    finally:
        for s in (sip, rtp, rtcp):
            s.close()
    procs.stop(gw)


siptest.require_sipp()
mgwtest.require_tools("sox")
with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    signalling(procs, wd)
    media(procs, wd)
