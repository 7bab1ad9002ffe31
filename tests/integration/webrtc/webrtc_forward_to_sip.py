#!/usr/bin/env python3
"""The WebRTC -> SIP fast path: a browser's Opus is forwarded to the caller
as RTP (webrtcbin gets no jitter buffer, the room no depayloader, the SIP
leg no payloader), and when a re-INVITE moves the SIP leg to G.711 mid-call
the core's link depayloads and transcodes it instead.

pipelines/sip-to-browser.toml with sip-sofia's rtp_forward on; a
hand-written SIP caller (rawcaller) offers Opus, then re-INVITEs with PCMU
only; a webrtcbin client (one sendrecv session) sends a 660 Hz tone.
Asserted:
  - with Opus on both legs: the room forwards the browser's RTP (its log),
    the link carries RTP; the caller gets Opus RTP at 50 packets/s from one
    SSRC, sequence numbers by one (no gap, no renumbering), and the payloads
    decode to 660 Hz;
  - no rtpjitterbuffer thread runs in the gateway while it forwards (/proc);
  - after the re-INVITE to PCMU: the link plans "application/x-rtp ->
    audio/x-mulaw needs rtpjitterbuffer ! rtpopusdepay ! opusdec ...", and
    the caller gets PCMU that decodes to 660 Hz, one SSRC, sequence
    numbers by one.
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sip"))
import mgwtest  # noqa: E402
import rawcaller  # noqa: E402
import tonecheck  # noqa: E402
import webrtc_common as wc  # noqa: E402

PEER = os.path.join(mgwtest.SOURCE_ROOT, "tests", "lib", "webrtcpeer.py")
OPUS_PT, BROWSER_HZ = 96, 660


def opus_wav(payloads, path):
    """Decodes 20 ms Opus payloads (in order) to a wav (GStreamer through python gi)."""
    try:
        import gi
        gi.require_version("Gst", "1.0")
        from gi.repository import Gst
    except (ImportError, ValueError):
        mgwtest.skip("GStreamer python bindings missing (python3-gi)")
    Gst.init(None)
    p = Gst.parse_launch("appsrc name=src format=time caps=audio/x-opus,channel-mapping-family=0,channels=2,"
                         f"rate=48000 ! opusdec ! audioconvert ! wavenc ! filesink location={path}")
    src = p.get_by_name("src")
    p.set_state(Gst.State.PLAYING)
    for i, payload in enumerate(payloads):
        b = Gst.Buffer.new_wrapped(payload)
        b.pts, b.duration = i * 20 * Gst.MSECOND, 20 * Gst.MSECOND
        src.emit("push-buffer", b)
    src.emit("end-of-stream")
    p.get_bus().timed_pop_filtered(10 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    p.set_state(Gst.State.NULL)
    return path


def thread_names(pid):
    names = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return names


def by_one(headers):
    return all((b[0] - a[0]) & 0xffff == 1 for a, b in zip(headers, headers[1:]))


def main():
    mgwtest.require_tools("sox")
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        gw, sip_port, http_port = wc.start_gateway(procs, ["--set", "sip.rtp_forward=true"])
        sip = rawcaller.udp()
        rtp, _rtcp = rawcaller.rtp_pair()
        port = rtp.getsockname()[1]
        media = f"m=audio {port} RTP/AVP {OPUS_PT}\r\na=rtpmap:{OPUS_PT} opus/48000/2\r\na=sendrecv\r\n"
        answer, dialog = rawcaller.invite(sip, sip_port, media)
        dest = ("127.0.0.1", rawcaller.media_port(answer))
        check(procs.wait_for_output(gw, r"serving the call on", 10), "the call is up and the web node serves it")
        client = procs.start("client", ["/usr/bin/python3", PEER, "session", f"http://127.0.0.1:{http_port}/session",
                                        "--freq", str(BROWSER_HZ), "--seconds", "14", "--retry", "10"])
        if not procs.wait_for_output(client, r'"connected"', 20):
            mgwtest.fail(f"the client did not connect: {procs.output(client)[-500:]}")
        # The caller sends nothing itself (the call is short of rtp_timeout);
        # it only collects what the gateway sends.
        stream = rawcaller.RtpStream(rtp, dest, b"\xff" * 160)
        stream.run(1.5, send=False)  # the browser's first packets and the link's plan
        first = len(stream.received)
        forwarded = stream.run(3.0, send=False)
        fw_headers = stream.headers[first:]
        threads = thread_names(gw.pid)
        log = procs.output(gw)
        check("web.audio->sip.audio: passthrough of application/x-rtp" in log and
              "receiving audio (OPUS) from participant" in log and "forwarded as RTP" in log,
              "the room forwards the browser's Opus RTP to the SIP leg (log)")
        opus = [p for _t, pt, p in forwarded if pt == OPUS_PT]
        check(len(opus) >= 135, f"the caller gets the browser's Opus RTP ({len(opus)} packets in 3 s)")
        check(len({h[2] for h in fw_headers}) == 1 and by_one(fw_headers),
              f"one SSRC, sequence numbers by one ({len(fw_headers)} packets)")
        check(not any(n.startswith("rtpjitterbuffer") for n in threads),
              f"no jitter buffer thread in the gateway while it forwards ({sorted(set(threads))})")
        tonecheck.check_tone(opus_wav(opus, os.path.join(wd, "forwarded.wav")), BROWSER_HZ, 2.0,
                             "the forwarded Opus, decoded")

        pcmu_media = f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
        answer2 = rawcaller.reinvite(sip, dialog, pcmu_media, cseq=2)
        check("PCMU" in answer2, "the re-INVITE is answered with PCMU")
        mark = len(stream.received)
        stream.run(4.0, send=False)
        after = stream.received[mark:]
        pcmu = [p for _t, pt, p in after if pt == 0]
        check(len(pcmu) >= 100, f"the caller gets PCMU after the re-INVITE ({len(pcmu)} packets)")
        log = procs.output(gw)
        check("web.audio->sip.audio: application/x-rtp -> audio/x-mulaw needs rtpjitterbuffer ! rtpopusdepay ! opusdec"
              in log, "the link depayloads and transcodes the browser's RTP for G.711 (log)")
        tonecheck.check_tone(rawcaller.g711_wav(pcmu[-150:], os.path.join(wd, "transcoded.wav")), BROWSER_HZ, 2.0,
                             "the transcoded G.711")
        pcmu_headers = [h for (_t, pt, _p), h in zip(after, stream.headers[mark:]) if pt == 0]
        check(len({h[2] for h in pcmu_headers}) == 1 and by_one(pcmu_headers),
              f"the G.711 stream: one SSRC, sequence numbers by one ({len(pcmu_headers)} packets)")
        rawcaller.bye(sip, dialog, cseq=3)
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
        lines = [l for l in procs.output(client).splitlines() if l.startswith('{"ran_s"')]
        if lines:
            mgwtest.log(f"client: {json.loads(lines[-1]).get('session')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
