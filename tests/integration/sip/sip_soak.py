#!/usr/bin/env python3
"""Soak: 1,000 sequential calls through one re-arming gateway (sip-echo,
after_call = rearm), in batches of 100 by sipp (INVITE, 200, ACK, 50 ms,
BYE; one call at a time), each batch followed by a call whose media is
checked (a hand-written caller's PCMU pattern echoed back).

Asserted: every sipp call succeeds (sipp exit 0), the 10 sampled calls are
echoed, and the gateway's file descriptors, threads and RSS are flat from
the first batch to the last (printed: fds +3, threads +2, RSS +10 MB at
most); the gateway stops cleanly.
"""
import os
import time
import sys

import hostile
import mgwtest
import sigtest
import siptest
from rawcaller import bye, invite, udp
from sip_rtp_latching import Sender, has, stream

BATCHES, PER_BATCH = 10, 100


def sampled_call(port):
    sip, a = udp(), udp()
    try:
        answer, dialog = invite(sip, port, f"m=audio {a.getsockname()[1]} RTP/AVP 0\r\n"
                                           "a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")
        gw_rtp = ("127.0.0.1", int(answer.split("m=audio ", 1)[1].split()[0]))
        got = stream([Sender(a, 0x55)], gw_rtp, 1.0, [a])
        mgwtest.check(bye(sip, dialog, cseq=2) == 200, "the sampled call's BYE answered 200")
        return has(got[a], 0x55)
    finally:
        sip.close()
        a.close()


def main():
    mgwtest.require_tools("sipp")
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        gw, port = sigtest.gateway(procs, ["codecs=PCMU", "gateway.after_call=rearm"], listen_prefix="udp")
        usage = []
        for batch in range(BATCHES):
            d = os.path.join(wd, f"batch{batch}")
            os.makedirs(d)
            argv = ["sipp", f"127.0.0.1:{port}", "-sn", "uac", "-s", "echo", "-i", "127.0.0.1",
                    "-p", str(mgwtest.free_port()), "-mp", str(mgwtest.free_port()), "-m", str(PER_BATCH),
                    "-l", "1", "-r", "100", "-d", "50", "-nostdin", "-recv_timeout", "5000", "-timeout", "120",
                    "-timeout_error", "-trace_err"]
            rc = siptest.run_sipp(procs, f"sipp-{batch}", argv, d, 150)
            mgwtest.check(rc == 0, f"batch {batch + 1}: {PER_BATCH} calls by sipp ({siptest.describe_sipp_rc(rc)})")
            echoed = sampled_call(port)
            mgwtest.check(echoed >= 40, f"batch {batch + 1}: the sampled call is echoed ({echoed} of ~50 packets)")
            # The sampled call's media still closes for a moment after its BYE
            # (slower under load): let it settle, a real leak would not.
            settle = time.time() + 3
            while True:
                u = hostile.usage(gw.pid)
                if not usage or u[1] <= usage[0][1] + 3 or time.time() > settle:
                    break
                time.sleep(0.2)
            usage.append(u)
            mgwtest.log(f"after {(batch + 1) * (PER_BATCH + 1)} calls: {hostile.describe(usage[-1])}")
        first, last = usage[0], usage[-1]
        mgwtest.log(f"soak: {BATCHES * (PER_BATCH + 1)} calls; first batch {hostile.describe(first)}, "
                    f"last {hostile.describe(last)}")
        mgwtest.check(last[1] <= first[1] + 3, f"file descriptors flat ({first[1]} -> {last[1]})")
        mgwtest.check(last[0] <= first[0] + 2, f"threads flat ({first[0]} -> {last[0]})")
        if hostile.rss_meaningful():
            mgwtest.check(last[2] <= first[2] + 10 * 1024, f"RSS flat ({first[2]} -> {last[2]} kB)")
        mgwtest.check(sigtest.still_running(gw) and procs.stop(gw) == 0, "the gateway stops cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
