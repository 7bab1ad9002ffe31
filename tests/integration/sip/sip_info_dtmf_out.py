#!/usr/bin/env python3
"""`dtmf.send` events become SIP INFO requests when the caller negotiated no
telephone-event.

Pipeline: a tone -> sip.audio, sip-sofia (PCMU only) and an event-timer node
that emits `dtmf.send {digit: "47#"}` 500 ms after the call is established.
A hand-written UDP caller offers PCMU alone (no telephone-event), answers
the gateway's in-dialog requests with 200 and records each INFO. Asserted:
the INFOs carry the digits 4, 7, # in this order (application/dtmf-relay
"Signal=" or application/dtmf), no others within a second more, each in the
caller's dialog (Call-ID, tags) with rising CSeqs; the gateway logs each as
sent as SIP INFO ("dtmf.send: '47#' as SIP INFO", or a line per digit);
the caller's BYE gets a 200 and the gateway ends the call ("call ended:
bye") and exits.
"""
import os
import re
import sys
import time

import mgwtest
from rawcaller import bye, invite, parse, reply_200, rtp_pair, udp

DIGITS = "47#"

PIPELINE = """
[gateway]
name = "info-dtmf-out"
after_call = "exit"

[node.tone]
plugin = "tone"
frequency = 600
rate = 8000

[node.sip]
plugin = "sip-sofia"
listen = "${SIP_LISTEN}"
codecs = ["PCMU"]
video_codecs = []
inputs = { audio = "tone.audio" }

[node.keys]
plugin = "event-timer"
start_on = "sip/call.established"
event = "dtmf.send"
fields = ["digit=%s"]
after_ms = 500
"""


def info_digit(content_type, body):
    """The digit an INFO body carries, or None."""
    ct = content_type.split(";")[0].strip().lower()
    if ct == "application/dtmf-relay":
        m = re.search(r"^\s*Signal\s*=\s*(\S)", body, re.M | re.I)
        return m.group(1) if m else None
    if ct == "application/dtmf":
        b = body.strip()
        return b if len(b) == 1 else None
    return None


def main():
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        toml = os.path.join(wd, "gw.toml")
        with open(toml, "w") as f:
            f.write(PIPELINE % DIGITS)
        port = mgwtest.free_port()
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", toml, "-v"],
                         env={"SIP_LISTEN": f"udp:127.0.0.1:{port}"})
        if not procs.wait_for_output(gw, r"listening on sip:", 20):
            mgwtest.fail(f"the gateway did not start (exit code {gw.poll()})")
        sip = udp()
        audio, audio_rtcp = rtp_pair()
        try:
            media = f"m=audio {audio.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
            answer, dialog = invite(sip, port, media, "dtmf")
            check("telephone-event" not in answer, "the answer has no telephone-event (none was offered)")
            infos = []            # (digit, content type, cseq, call-id, from, to)
            other = []            # other in-dialog requests
            rtp = 0
            deadline = time.time() + 10
            quiet_until = None    # after the last expected digit: one more second for extra INFOs
            while time.time() < deadline and (quiet_until is None or time.time() < quiet_until):
                busy = False
                try:
                    data, addr = sip.recvfrom(65535)
                    busy = True
                    msg = data.decode(errors="replace")
                    first, h, body = parse(msg)
                    if not first.startswith("SIP/2.0"):
                        reply_200(sip, msg, addr)
                        method = first.split()[0]
                        if method == "INFO":
                            ct = h.get("content-type", [""])[0]
                            d = info_digit(ct, body)
                            mgwtest.log(f"INFO {ct!r}: {body!r} -> {d!r}")
                            infos.append((d, ct, h.get("cseq", [""])[0], h.get("call-id", [""])[0],
                                          h.get("from", [""])[0], h.get("to", [""])[0]))
                            if len(infos) == len(DIGITS):
                                quiet_until = time.time() + 1.0
                        elif method != "ACK":
                            other.append(first)
                except BlockingIOError:
                    pass
                for s in (audio, audio_rtcp):
                    try:
                        while s.recv(4096):
                            if s is audio:
                                rtp += 1
                            busy = True
                    except BlockingIOError:
                        pass
                if not busy:
                    time.sleep(0.005)
            got = "".join(d or "?" for d, *_ in infos)
            check(rtp > 0, f"the gateway sent audio RTP ({rtp} packets)")
            check(not other, f"no other in-dialog requests from the gateway ({other})")
            check(got == DIGITS, f"SIP INFOs carried the digits once each, in order ({got!r}, want {DIGITS!r})")
            for d, ct, cseq, call_id, frm, to in infos:
                check(call_id == dialog["call_id"], f"INFO {d!r} is in the caller's dialog (Call-ID)")
                # From the gateway: its From is our To (its tag), its To is our From (our tag).
                check(f"tag={dialog['tag']}" in to and frm.split("tag=")[-1] == dialog["to"].split("tag=")[-1],
                      f"INFO {d!r} carries the dialog's tags")
            cseqs = [int(c.split()[0]) for _, _, c, *_ in infos]
            check(all(b > a for a, b in zip(cseqs, cseqs[1:])), f"the INFOs' CSeqs rise ({cseqs})")

            status = bye(sip, dialog)
            check(status == 200, f"the gateway answered the BYE with 200 ({status})")
            check(procs.wait_for_output(gw, r"call ended: bye", 5), "the gateway ended the call: bye")
            try:
                code = gw.wait(10)
            except Exception:
                code = None
            check(code == 0, f"the gateway exited after the call (after_call = exit): code {code}")
            # The gateway's own word: "dtmf.send: '47#' as SIP INFO" (like its
            # "... as RFC 4733 events"), or one such line per digit.
            out = procs.output(gw)
            check("as RFC 4733" not in out, "the gateway did not send RFC 4733 events")
            logged = "".join(re.findall(r"dtmf\.send: '([^']*)' as SIP INFO", out))
            check(logged == DIGITS, f"the gateway logged the digits as sent as SIP INFO ({logged!r}, want {DIGITS!r})")
        finally:
            for s in (sip, audio, audio_rtcp):
                s.close()
            procs.stop(gw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
