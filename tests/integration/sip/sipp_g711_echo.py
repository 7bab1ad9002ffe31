#!/usr/bin/env python3
"""sipp places a G.711 (PCMA) call with real RTP and the echo comes back.

sipp's built-in `uac_pcap` scenario offers PCMA (8) + telephone-event (101),
then plays /usr/share/sip-tester/g711a.pcap (7 s of speech, 236 packets of
30 ms) from its media port, sends a DTMF '1' and hangs up. sipp itself does
not record what it receives, so a loopback sniffer (tests/lib/rtpsniff.py)
captures both directions of sipp's media port. Asserted:
  - sipp exit code 0 (INVITE answered 200, BYE answered 200);
  - the gateway logged call.incoming, call.established, call.ended;
  - RTP came back to sipp's media port, all PCMA (pt 8; 101 tolerated), with
    60%..150% of the audio duration sipp sent;
  - the echoed audio is the caller's: its loudness envelope (100 ms RMS of the
    decoded A-law) correlates with what sipp sent (r >= 0.8);
  - the gateway is still running afterwards (after_call = "rearm").
"""
import math
import os
import sys

import mgwtest
import rtpsniff
import siptest

PT_PCMA, PT_DTMF = 8, 101


def stream_bytes(pkts):
    """A-law bytes of the largest SSRC's PCMA packets, placed by RTP timestamp
    (gaps filled with A-law silence, 0xD5)."""
    by_ssrc = {}
    for p in pkts:
        by_ssrc.setdefault(p.ssrc, []).append(p)
    if not by_ssrc:
        return []
    pkts = max(by_ssrc.values(), key=len)
    ts0 = pkts[0].ts
    out = bytearray()
    for p in pkts:
        off = (p.ts - ts0) & 0xFFFFFFFF
        if off > 8000 * 60:          # older than the first packet (reordering) or absurd: skip
            continue
        if len(out) < off + len(p.payload):
            out.extend(b"\xd5" * (off + len(p.payload) - len(out)))
        out[off:off + len(p.payload)] = p.payload
    return bytes(out)


def stream_samples(pkts):
    return rtpsniff.decode_g711(stream_bytes(pkts), PT_PCMA)


def bit_exact_share(sent, back):
    """Share of the sent A-law bytes that come back identical, aligned on a
    1 s chunk of the middle of the call; None if that chunk is not found."""
    if len(sent) < 5 * 8000:
        return None
    probe = sent[3 * 8000:4 * 8000]
    at = back.find(probe)
    if at < 0:
        return None
    shift = at - 3 * 8000
    pairs = [(sent[i], back[i + shift]) for i in range(len(sent)) if 0 <= i + shift < len(back)]
    return sum(1 for a, b in pairs if a == b) / len(sent)


def envelope(samples, step=800):
    return [math.sqrt(sum(v * v for v in samples[i:i + step]) / step) for i in range(0, len(samples) - step + 1, step)]


def best_correlation(a, b, max_lag=20, min_overlap=30):
    """Highest Pearson r of a[i] vs b[i+lag] over lags in +-max_lag; (r, lag)."""
    best = (-1.0, 0)
    for lag in range(-max_lag, max_lag + 1):
        pairs = [(a[i], b[i + lag]) for i in range(len(a)) if 0 <= i + lag < len(b)]
        if len(pairs) < min_overlap:
            continue
        xs, ys = zip(*pairs)
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        sxy = sum((x - mx) * (y - my) for x, y in pairs)
        sxx = sum((x - mx) ** 2 for x in xs)
        syy = sum((y - my) ** 2 for y in ys)
        if sxx > 0 and syy > 0:
            r = sxy / math.sqrt(sxx * syy)
            if r > best[0]:
                best = (r, lag)
    return best


def main():
    siptest.require_sipp()
    why = rtpsniff.available()
    if why:
        mgwtest.skip(why)
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        gw, gw_port, is_gw = siptest.start_echo_peer(procs, wd)
        sipp_dir = siptest.sipp_workdir(wd)
        sip_port, media_port = mgwtest.free_port(), mgwtest.free_port()
        argv = siptest.sipp_argv(gw_port, "uac_pcap", sip_port, media_port)
        with rtpsniff.RtpSniffer({media_port}) as sniffer:
            rc = siptest.run_sipp(procs, "sipp-uac_pcap", argv, sipp_dir, timeout=50)
        check = mgwtest.check
        check(rc == 0, f"sipp uac_pcap exit code 0 (got {siptest.describe_sipp_rc(rc)})")

        if is_gw:
            check(siptest.wait_events(procs, gw, "ended", 1, 5), "gateway logged sip/call.ended")
            check(siptest.count_events(procs, gw, "incoming") >= 1, "gateway logged sip/call.incoming")
            check(siptest.count_events(procs, gw, "established") >= 1, "gateway logged sip/call.established")

        sent = sniffer.packets(sport=media_port)
        back = [p for p in sniffer.packets(dport=media_port) if p.sport != media_port]
        sent_audio = [p for p in sent if p.pt == PT_PCMA]
        back_audio = [p for p in back if p.pt == PT_PCMA]
        pts = sorted({p.pt for p in back})
        mgwtest.log(f"sipp sent {len(sent)} RTP packets ({len(sent_audio)} PCMA) from port {media_port}; "
                    f"received {len(back)} (payload types {pts}) from "
                    f"{sorted({(p.src, p.sport) for p in back})}, SSRCs {sorted({hex(p.ssrc) for p in back})}")
        check(len(sent_audio) >= 100, f"harness: sipp played the pcap ({len(sent_audio)} PCMA packets sent)")
        check(len(back) > 0, "RTP came back to sipp's media port")
        check(set(pts) <= {PT_PCMA, PT_DTMF} and PT_PCMA in pts,
              f"echoed RTP carries the offered payload type 8 (PCMA) (saw {pts})")

        sent_s = sum(len(p.payload) for p in sent_audio) / 8000
        back_s = sum(len(p.payload) for p in back_audio) / 8000
        sizes = sorted({len(p.payload) for p in back_audio})
        mgwtest.log(f"audio sent {sent_s:.2f} s, echoed {back_s:.2f} s in {len(back_audio)} packets "
                    f"(payload sizes {sizes[:5]})")
        check(0.6 * sent_s <= back_s <= 1.5 * sent_s,
              f"echoed audio duration {back_s:.2f} s is 60%..150% of the {sent_s:.2f} s sent")

        share = bit_exact_share(stream_bytes(sent_audio), stream_bytes(back_audio))
        mgwtest.log("bit-exact echo: " + ("1 s probe not found in the echo" if share is None else
                                          f"{share * 100:.1f}% of the sent A-law bytes came back identical")
                    + " (informational: a transcoding echo may differ)")

        env_sent = envelope(stream_samples(sent_audio))
        env_back = envelope(stream_samples(back_audio))
        r, lag = best_correlation(env_sent, env_back)
        mgwtest.log(f"loudness envelope correlation r={r:.3f} at lag {lag * 100} ms "
                    f"({len(env_sent)} vs {len(env_back)} windows of 100 ms)")
        check(r >= 0.8, f"the echoed audio follows the sent speech (envelope r={r:.2f} >= 0.8)")

        if is_gw:
            check(gw.poll() is None, "gateway still running after the call (after_call = rearm)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
