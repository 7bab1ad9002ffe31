#!/usr/bin/env python3
"""A leak check of a full call cycle, in the ASan build only (meson
registers it when b_sanitize has address): the echo gateway takes one
call (INVITE, RTP echoed, re-INVITE, BYE), re-arms, takes a second one,
and stops on SIGTERM; LeakSanitizer, on for this run, must report nothing
beyond the suppressed one-time allocations of GLib, GStreamer and
Sofia-SIP (tests/sanitizers/lsan.supp: their type systems, caches and
registries, never freed by design).
"""
import os
import sys

import mgwtest
import sigtest
from rawcaller import bye, invite, reinvite, udp
from sip_rtp_latching import Sender, has, stream

SUPP = os.path.join(mgwtest.SOURCE_ROOT, "tests", "sanitizers", "lsan.supp")


def one_call(port, byte):
    sip, a = udp(), udp()
    try:
        media = f"m=audio {a.getsockname()[1]} RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
        answer, dialog = invite(sip, port, media + "a=sendrecv\r\n")
        gw_rtp = ("127.0.0.1", int(answer.split("m=audio ", 1)[1].split()[0]))
        got = stream([Sender(a, byte)], gw_rtp, 1.5, [a])
        mgwtest.check(has(got[a], byte) >= 30, f"the call is echoed ({has(got[a], byte)} packets)")
        reinvite(sip, dialog, media + "a=sendonly\r\n", cseq=2)
        reinvite(sip, dialog, media + "a=sendrecv\r\n", cseq=3)
        mgwtest.check(bye(sip, dialog, cseq=4) == 200, "BYE answered 200")
    finally:
        sip.close()
        a.close()


def main():
    os.environ["ASAN_OPTIONS"] = ("detect_leaks=1:halt_on_error=1:fast_unwind_on_malloc=0:"
                                  f"malloc_context_size=30")
    os.environ["LSAN_OPTIONS"] = f"suppressions={SUPP}:print_suppressions=0"
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        gw, port = sigtest.gateway(procs, ["codecs=PCMU", "gateway.after_call=rearm"], timeout=60)
        one_call(port, 0x21)
        one_call(port, 0x42)
        rc = procs.stop(gw, timeout=60)
        out = procs.output(gw)
        leaks = [l for l in out.splitlines() if "LeakSanitizer" in l or l.startswith("SUMMARY: AddressSanitizer")]
        if leaks:
            i = out.find("ERROR: LeakSanitizer")
            mgwtest.log(out[i:i + 6000])
        mgwtest.check(not leaks, f"no leak reported ({leaks[:2]})")
        mgwtest.check(rc == 0, f"the gateway exits 0 ({rc})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
