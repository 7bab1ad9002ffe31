#!/usr/bin/python3
"""A WebRTC client on GStreamer's webrtcbin (python gi), for tests and benchmarks.

    pub = WhipPublisher("http://127.0.0.1:8080/whip", audio_freq=440)   # sends an Opus tone
    sub = WhepSubscriber("http://127.0.0.1:8080/whep")                  # receives and decodes
    sub.wait_connected(10); time.sleep(3)
    sub.frequency()  -> (Hz, share of power in that tone) or (None, 0.0)
    sub.stats()      -> dict: rx_packets, rx_gaps, samples, video_frames, ...
    pub.stop(); sub.stop()                                               # DELETE, then tear down

`Peer` is the bare PeerConnection (offer()/set_answer() or answer(offer)), used
by both and by benchmarks that hand an offer from elsewhere (rtpengine).
Non-trickle only: every SDP we hand out waits for ICE gathering to complete.
Per peers.md: UPnP and ICE-TCP off (no SSDP multicast off this machine), and a
127.0.0.1 host candidate (libnice gathers none on loopback by default; adding an
address also restricts gathering to the addresses added).

CLI (one process per call; prints one JSON line of results; SIGTERM ends the
run early, SIGUSR1/SIGUSR2 mark a measuring window whose counters are reported):
    webrtcpeer.py whip URL [--freq 440] [--video] [--seconds 10]
    webrtcpeer.py whep URL [--expect-freq 1000] [--video] [--seconds 10]
    webrtcpeer.py pair --whip URL --whep URL [...]     both, in one process
    webrtcpeer.py session URL [...]                   both on one sendrecv connection
    webrtcpeer.py answer [--freq F] [--expect-freq F] [--offer FILE] < offer.sdp
        answers an offer (stdin or FILE): prints {"answer": SDP} first
Once connected, a line {"connected": {...}} is printed; --retry S retries POSTs
answered 503 (a gateway that serves only once its SIP call is up).
Exit status: 0 connected (and the expected tone heard), 1 otherwise.
"""
import argparse
import array
import json
import os
import math
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import Gst, GstSdp, GstWebRTC  # noqa: E402

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop  # C speed for the per-buffer level; gone in Python 3.13
except ImportError:
    audioop = None

Gst.init(None)
# Load the probe types' wrappers now, before streaming threads (audio, video)
# race to do it in the probes: "TypeError: Must be Gst.PadProbeInfo, not
# PadProbeInfo" on every buffer otherwise (seen by scripts/bench janus).
_ = (Gst.PadProbeInfo, Gst.PadProbeInfo.get_buffer, Gst.PadProbeInfo.get_buffer_list, Gst.PadProbeType.BUFFER_LIST,
     Gst.Buffer.extract_dup, Gst.BufferList.length)

RATE = 8000             # decoded audio is analysed at this rate, mono S16
KEEP_S = 2.0            # seconds of decoded audio kept for frequency()
ONSET_DBFS = -30.0      # a 20 ms block above this after silence is a tone onset
OPUS_CAPS = "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload={pt}"
VIDEO_CAPS = ("application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload={pt},"
              "rtcp-fb-nack-pli=(boolean)true")
SENDONLY = GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY
RECVONLY = GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY
SENDRECV = GstWebRTC.WebRTCRTPTransceiverDirection.SENDRECV


class PeerError(RuntimeError):
    pass


def _auth():
    """The bearer token of WHIP_TOKEN (environment), for a served room that has one."""
    token = os.environ.get("WHIP_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


def _promise_reply(emit, *args):
    """Emits an action signal with a fresh promise and waits for its reply."""
    p = Gst.Promise.new()
    emit(*args, p)
    if p.wait() != Gst.PromiseResult.REPLIED:
        raise PeerError(f"{args[0]}: no reply")
    r = p.get_reply()
    if r is not None and r.has_field("error"):
        raise PeerError(f"{args[0]}: {r.get_value('error').message}")
    return r


def _rms(samples):
    if audioop:
        return audioop.rms(samples.tobytes() if hasattr(samples, "tobytes") else bytes(samples), 2)
    return math.sqrt(sum(v * v for v in samples) / max(1, len(samples)))


def tone_frequency(samples, rate=RATE):
    """(frequency, share of the power in it) of a mostly single tone; (None, 0)
    for silence. Zero crossings give a first guess, Goertzel refines it."""
    n = len(samples)
    if n < rate // 20:
        return None, 0.0
    mean = sum(samples) / n
    x = [v - mean for v in samples]
    power = sum(v * v for v in x) / n
    if power < 1.0:                                     # digital silence
        return None, 0.0
    crossings = sum(1 for a, b in zip(x, x[1:]) if a < 0 <= b)
    guess = crossings * rate / n
    if guess <= 0:
        return None, 0.0

    def share(f):
        c = 2 * math.cos(2 * math.pi * f / rate)
        s1 = s2 = 0.0
        for v in x:
            s1, s2 = v + c * s1 - s2, s1
        return 2 * (s1 * s1 + s2 * s2 - c * s1 * s2) / n / n / power

    best = max((share(f), f) for f in _steps(guess * 0.85, guess * 1.15, max(1.0, guess / 200)))
    fine = max((share(f), f) for f in _steps(best[1] - guess / 200, best[1] + guess / 200, 0.25))
    return round(fine[1], 1), round(min(1.0, fine[0]), 3)


def _steps(lo, hi, step):
    f = max(1.0, lo)
    while f <= hi:
        yield f
        f += step


def with_default_candidate(sdp):
    """webrtcbin leaves c=IN IP4 0.0.0.0 / port 9 even after gathering; put each
    m-section's first RTP host candidate there, as browsers do (rtpengine, for
    one, takes 0.0.0.0 for hold)."""
    out, sections = [], sdp.replace("\r\n", "\n").split("\nm=")
    for i, sec in enumerate(sections):
        lines = (sec if i == 0 else "m=" + sec).split("\n")
        cand = next((l.split() for l in lines if l.startswith("a=candidate:") and l.split()[1] == "1"
                     and l.split()[2].upper() == "UDP" and ":" not in l.split()[4]), None)
        if i and cand and lines[0].split()[1] == "9":
            m = lines[0].split()
            lines[0] = " ".join(m[:1] + [cand[5]] + m[2:])
            lines = [f"c=IN IP4 {cand[4]}" if l.startswith("c=IN IP4 0.0.0.0") else l for l in lines]
        out.append("\n".join(lines))
    return "\n".join(out).replace("\n", "\r\n")


class Peer:
    """One webrtcbin PeerConnection in its own pipeline (no GLib main loop
    needed: webrtcbin signals come on its threads, promises are waited for)."""

    def __init__(self, ice_addresses=("127.0.0.1",), latency_ms=200, name="peer"):
        self.name = name
        self.pipe = Gst.Pipeline.new(name)
        self.wb = Gst.ElementFactory.make("webrtcbin", "wb")
        self.wb.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
        self.wb.set_property("latency", latency_ms)
        self.pipe.add(self.wb)
        self._ice = self.wb.get_property("ice-agent")   # held: the bindings crash if it is freed
        self._ice.set_property("ice-tcp", False)
        self._nice = self._ice.get_property("agent")
        self._nice.set_property("upnp", False)
        for a in ice_addresses or ():
            self._ice.emit("add-local-ip-address", a)
        self._gathered = threading.Event()
        self._connected = threading.Event()
        self._failed = None
        self._t_start = time.monotonic()
        self.connect_ms = None
        self.rx_packets = self.rx_gaps = self.tx_packets = 0
        self.samples = self.video_frames = self.rx_pads = 0
        self.local_sdp = self.remote_sdp = None     # kept for diagnostics
        self._last_seq = {}
        self._pcm = bytearray()
        self._lock = threading.Lock()
        self._loud = False
        self.onsets = []          # monotonic times at which a tone started after silence (see _on_audio)
        self._marks = {}
        self.wb.connect("notify::ice-gathering-state", self._on_gathering)
        self.wb.connect("notify::connection-state", self._on_connection)
        self.wb.connect("notify::ice-connection-state", self._on_connection)
        self.wb.connect("pad-added", self._on_pad)

    # --- media ---------------------------------------------------------------
    def add_audio_source(self, freq=440, pt=111, volume=0.3):
        """Sends a sine of `freq` Hz as Opus (pt: the offer's, when answering)."""
        self._add_source(f"audiotestsrc is-live=true wave=sine freq={freq} volume={volume} ! audioconvert ! "
                         "audioresample ! audio/x-raw,rate=48000,channels=1 ! opusenc bitrate=32000 frame-size=20 ! "
                         f'rtpopuspay pt={pt} ! capsfilter caps="{OPUS_CAPS.format(pt=pt)}"')

    def add_video_source(self, pt=96):
        self._add_source("videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 ! "
                         "videoconvert ! vp8enc deadline=1 target-bitrate=300000 keyframe-max-dist=30 ! "
                         f'rtpvp8pay pt={pt} mtu=1200 ! capsfilter caps="{VIDEO_CAPS.format(pt=pt)}"')

    def _add_source(self, desc):
        src = Gst.parse_bin_from_description(desc, True)
        self.pipe.add(src)
        pad = self.wb.request_pad_simple("sink_%u")
        src.get_static_pad("src").link(pad)
        # counts what we send (RTP, before SRTP)
        pad.add_probe(Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST, self._count_tx)

    def add_receiver(self, kind="audio", pt=None):
        """A recvonly transceiver (offer side); the answer side needs none."""
        caps = OPUS_CAPS.format(pt=pt or 111) if kind == "audio" else VIDEO_CAPS.format(pt=pt or 96)
        self.wb.emit("add-transceiver", RECVONLY, Gst.Caps.from_string(caps))

    def _count_tx(self, pad, info):
        self.tx_packets += info.get_buffer_list().length() if info.type & Gst.PadProbeType.BUFFER_LIST else 1
        return Gst.PadProbeReturn.OK

    def _on_pad(self, _wb, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        self.rx_pads += 1
        pad.add_probe(Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST, self._count_rx)
        dec = Gst.ElementFactory.make("decodebin")
        dec.connect("pad-added", self._on_decoded)
        self.pipe.add(dec)
        dec.sync_state_with_parent()
        pad.link(dec.get_static_pad("sink"))

    def _count_rx(self, pad, info):
        if info.type & Gst.PadProbeType.BUFFER_LIST:
            bl = info.get_buffer_list()
            bufs = [bl.get(i) for i in range(bl.length())]
        else:
            bufs = [info.get_buffer()]
        for b in bufs:
            hdr = b.extract_dup(0, 12)
            if len(hdr) < 12:
                continue
            ssrc, seq = hdr[8:12], (hdr[2] << 8) | hdr[3]
            last = self._last_seq.get(ssrc)
            if last is not None:
                d = (seq - last) & 0xFFFF
                if 1 < d < 3000:     # a gap (reordering and wraps aside)
                    self.rx_gaps += d - 1
            self._last_seq[ssrc] = seq
            self.rx_packets += 1
        return Gst.PadProbeReturn.OK

    def _on_decoded(self, _dec, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        if caps.to_string().startswith("audio"):
            desc = (f"audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate={RATE},channels=1 ! "
                    "appsink name=s emit-signals=true sync=false max-buffers=50 drop=true")
            cb = ("new-sample", self._on_audio)
        else:
            desc = "fakesink name=s sync=false"
            cb = None
        b = Gst.parse_bin_from_description(desc, True)
        self.pipe.add(b)
        b.sync_state_with_parent()
        pad.link(b.get_static_pad("sink"))
        sink = b.get_by_name("s")
        if cb:
            sink.connect(*cb)
        else:
            sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self._count_frame)

    def _count_frame(self, pad, info):
        self.video_frames += 1
        return Gst.PadProbeReturn.OK

    def _on_audio(self, sink):
        now = time.monotonic()
        s = sink.emit("pull-sample")
        buf = s.get_buffer()
        data = buf.extract_dup(0, buf.get_size())
        n = len(data) // 2
        with self._lock:
            self.samples += n
            self._pcm += data
            excess = len(self._pcm) - int(KEEP_S * RATE) * 2
            if excess > 0:
                del self._pcm[:excess]
        # Onsets for latency: when the first loud block reaches us. The appsink does not
        # sync and the jitter buffer holds back only out-of-order packets, so this is
        # arrival + decode time (the first burst also waits for the jitter buffer).
        loud = _rms(array.array("h", data)) > 32768 * 10 ** (ONSET_DBFS / 20)
        if loud and not self._loud:
            self.onsets.append(round(now, 4))
            del self.onsets[:-200]
        self._loud = loud
        return Gst.FlowReturn.OK

    def frequency(self, seconds=1.0):
        """(Hz, power share) of the last `seconds` of decoded audio, gated:
        only its 20 ms blocks above ONSET_DBFS count (tone bursts)."""
        with self._lock:
            x = array.array("h", bytes(self._pcm[-int(seconds * RATE) * 2:]))
        floor = 32768 * 10 ** (ONSET_DBFS / 20)
        blocks = [x[i:i + RATE // 50] for i in range(0, len(x), RATE // 50)]
        return tone_frequency([v for b in blocks if _rms(b) > floor for v in b])

    # --- negotiation -------------------------------------------------------------
    def _on_gathering(self, wb, _):
        if wb.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            self._gathered.set()

    def _on_connection(self, wb, _):
        pc = wb.get_property("connection-state")
        ice = wb.get_property("ice-connection-state")
        if pc == GstWebRTC.WebRTCPeerConnectionState.CONNECTED and not self._connected.is_set():
            self.connect_ms = round((time.monotonic() - self._t_start) * 1000)
            self._connected.set()
        elif pc == GstWebRTC.WebRTCPeerConnectionState.FAILED or ice == GstWebRTC.WebRTCICEConnectionState.FAILED:
            self._failed = f"connection failed (ice {ice.value_nick}, pc {pc.value_nick})"
            self._connected.set()

    def _start(self):
        if self.pipe.get_state(0)[1] != Gst.State.PLAYING:
            if self.pipe.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
                raise PeerError("pipeline does not start")

    def _local_sdp(self, desc, timeout):
        _promise_reply(self.wb.emit, "set-local-description", desc)
        if not self._gathered.wait(timeout):
            raise PeerError(f"ICE gathering not complete in {timeout} s")
        self.local_sdp = with_default_candidate(self.wb.get_property("local-description").sdp.as_text())
        return self.local_sdp

    def offer(self, direction=None, timeout=10):
        """Creates the offer and returns it with all candidates. Called once, by us:
        on-negotiation-needed is not used (it may fire more than once)."""
        self._start()
        if direction is not None:
            i = 0
            while (t := self.wb.emit("get-transceiver", i)) is not None:
                if t.get_property("direction") != RECVONLY:
                    t.set_property("direction", direction)
                i += 1
        r = _promise_reply(self.wb.emit, "create-offer", None)
        return self._local_sdp(r.get_value("offer"), timeout)

    def set_answer(self, sdp):
        ok, msg = GstSdp.SDPMessage.new_from_text(sdp)
        if ok != GstSdp.SDPResult.OK:
            raise PeerError("unparsable SDP answer")
        self.remote_sdp = sdp
        desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        _promise_reply(self.wb.emit, "set-remote-description", desc)

    def answer(self, offer_sdp, timeout=10):
        """Answers a remote offer; returns the answer with all candidates."""
        ok, msg = GstSdp.SDPMessage.new_from_text(offer_sdp)
        if ok != GstSdp.SDPResult.OK:
            raise PeerError("unparsable SDP offer")
        self.remote_sdp = offer_sdp
        self._start()
        desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.OFFER, msg)
        _promise_reply(self.wb.emit, "set-remote-description", desc)
        r = _promise_reply(self.wb.emit, "create-answer", None)
        return self._local_sdp(r.get_value("answer"), timeout)

    def wait_connected(self, timeout=10):
        """True once DTLS is up (ICE connected); False on failure or timeout."""
        deadline = time.monotonic() + timeout
        while not self._connected.wait(0.05):
            self._check_bus()
            if time.monotonic() > deadline:
                return False
        return self._failed is None

    def _check_bus(self):
        m = self.pipe.get_bus().pop_filtered(Gst.MessageType.ERROR)
        if m:
            err, dbg = m.parse_error()
            self._failed = f"{err.message} ({dbg})"
            self._connected.set()

    # --- results -----------------------------------------------------------------
    def mark(self, name):
        """Snapshots the counters (e.g. 'start'/'end' of a measuring window)."""
        self._marks[name] = dict(t=time.monotonic(), rx_packets=self.rx_packets, rx_gaps=self.rx_gaps,
                                 tx_packets=self.tx_packets, samples=self.samples, video_frames=self.video_frames)

    def stats(self):
        out = dict(connected=self._connected.is_set() and self._failed is None, connect_ms=self.connect_ms,
                   error=self._failed, rx_pads=self.rx_pads, rx_packets=self.rx_packets, rx_gaps=self.rx_gaps, tx_packets=self.tx_packets,
                   samples=self.samples, video_frames=self.video_frames)
        a, b = self._marks.get("start"), self._marks.get("end")
        if a:
            b = b or dict(t=time.monotonic(), **{k: out[k] for k in a if k != "t"})
            out["window"] = {k: (round(b[k] - a[k], 3) if k == "t" else b[k] - a[k]) for k in a}
        return out

    def webrtc_stats(self):
        """webrtcbin's get-stats, one string per report (for diagnostics)."""
        r = _promise_reply(self.wb.emit, "get-stats", None)
        out = []
        r.foreach(lambda _f, v: out.append(v.to_string() if isinstance(v, Gst.Structure) else str(v)) or True)
        return out

    def close(self):
        self.pipe.set_state(Gst.State.NULL)


class _HttpPeer(Peer):
    """POSTs our offer to a WHIP/WHEP endpoint; DELETEs the session on stop()."""

    def __init__(self, url, timeout, retry_s=0, **kw):
        super().__init__(**kw)
        self.url, self.location, self.timeout, self.retry_s = url, None, timeout, retry_s

    def _post(self, offer):
        """POST the offer; with retry_s, 503 and refused connections are retried
        that long (a gateway serves only once its SIP call is up)."""
        deadline = time.monotonic() + self.retry_s
        while True:
            req = urllib.request.Request(self.url, data=offer.encode(), method="POST",
                                         headers={"Content-Type": "application/sdp", **_auth()})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as r:
                    if r.status != 201:
                        raise PeerError(f"POST {self.url}: {r.status}, expected 201")
                    self.location = urllib.parse.urljoin(self.url, r.headers.get("Location") or "")
                    return r.read().decode()
            except urllib.error.HTTPError as e:
                why = f"POST {self.url}: {e.code} {e.read().decode(errors='replace').strip()}"
                if e.code != 503 or time.monotonic() > deadline:
                    raise PeerError(why) from None
            except urllib.error.URLError as e:
                if not isinstance(e.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                    raise PeerError(f"POST {self.url}: {e.reason}") from None
            time.sleep(0.2)

    def _negotiate(self, direction):
        try:
            self.set_answer(self._post(self.offer(direction, self.timeout)))
        except Exception:
            self.close()
            raise

    def stop(self):
        """DELETE the session (best effort), then tear down."""
        if self.location and self.location != self.url:
            try:
                urllib.request.urlopen(urllib.request.Request(self.location, method="DELETE", headers=_auth()),
                                       timeout=3).close()
            except (urllib.error.URLError, OSError):
                pass
            self.location = None
        self.close()


class WhipPublisher(_HttpPeer):
    """Sends an Opus tone of audio_freq Hz (and a VP8 test pattern with video=True)."""

    def __init__(self, url, audio_freq=440, video=False, timeout=10, retry_s=0, **kw):
        super().__init__(url, timeout, retry_s, name="whip", **kw)
        self.audio_freq = audio_freq
        self.add_audio_source(audio_freq)
        if video:
            self.add_video_source()
        self._negotiate(SENDONLY)


class WhepSubscriber(_HttpPeer):
    """Receives and decodes: see frequency(), onsets and stats()."""

    def __init__(self, url, audio=True, video=False, timeout=10, retry_s=0, **kw):
        super().__init__(url, timeout, retry_s, name="whep", **kw)
        if audio:
            self.add_receiver("audio")
        if video:
            self.add_receiver("video")
        self._negotiate(None)


class SessionPeer(_HttpPeer):
    """Both on one connection, as mediagw's page does (POST /session):
    sends an Opus tone (and VP8 with video=True) and receives, sendrecv."""

    def __init__(self, url, audio_freq=440, video=False, timeout=10, retry_s=0, **kw):
        super().__init__(url, timeout, retry_s, name="session", **kw)
        self.audio_freq = audio_freq
        self.add_audio_source(audio_freq)
        if video:
            self.add_video_source()
        self._negotiate(SENDRECV)


# --- CLI ---------------------------------------------------------------------
def _results(peers, expect, seconds_ran):
    out = dict(ran_s=round(seconds_ran, 2))
    ok = True
    for role, p in peers.items():
        st = p.stats()
        ok &= st["connected"]
        if role != "whip" and p.samples:
            st["freq"], st["tone_share"] = p.frequency()
            st["onsets"] = p.onsets
            if expect:
                st["freq_ok"] = st["freq"] is not None and abs(st["freq"] - expect) <= 0.03 * expect
                ok &= st["freq_ok"]
        elif role != "whip" and expect:
            ok = False
        out[role] = st
    out["ok"] = bool(ok)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("whip", "whep", "pair", "session", "answer"))
    ap.add_argument("url", nargs="?", help="WHIP, WHEP or session endpoint (modes whip, whep, session)")
    ap.add_argument("--whip", help="pair: WHIP endpoint")
    ap.add_argument("--whep", help="pair: WHEP endpoint")
    ap.add_argument("--freq", type=float, default=440, help="tone we send, Hz")
    ap.add_argument("--expect-freq", type=float, help="tone we must hear, Hz (within 3%%)")
    ap.add_argument("--video", action="store_true", help="send / receive video too")
    ap.add_argument("--seconds", type=float, default=10, help="run this long once connected (0: until SIGTERM)")
    ap.add_argument("--timeout", type=float, default=15, help="bound on negotiation and connection, s")
    ap.add_argument("--latency", type=int, default=200, help="webrtcbin jitter buffer, ms")
    ap.add_argument("--retry", type=float, default=0, help="retry a POST answered 503 (or refused) this long, s")
    ap.add_argument("--offer", default="-", help="answer: file holding the offer (default stdin)")
    ap.add_argument("--diagnose", action="store_true",
                    help="print SDPs and webrtcbin stats to stderr when a receiving side got no RTP")
    ap.add_argument("--ice-address", action="append", help="local ICE address (default 127.0.0.1; 'all': every one)")
    a = ap.parse_args(argv)
    addrs = a.ice_address or ["127.0.0.1"]
    kw = dict(latency_ms=a.latency, ice_addresses=() if addrs == ["all"] else addrs)
    stop = threading.Event()
    peers = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: [p.mark("start") for p in peers.values()])
    signal.signal(signal.SIGUSR2, lambda *_: [p.mark("end") for p in peers.values()])
    t0 = time.monotonic()
    err = None
    try:
        if a.mode == "answer":
            offer = sys.stdin.read() if a.offer == "-" else open(a.offer).read()
            p = peers["answer"] = Peer(name="answer", **kw)
            pt = _opus_pt(offer)
            if pt is not None:
                p.add_audio_source(a.freq, pt=pt)
            print(json.dumps({"answer": p.answer(offer, a.timeout)}), flush=True)
        if a.mode in ("whip", "pair") and (a.url if a.mode == "whip" else a.whip):
            peers["whip"] = WhipPublisher(a.url if a.mode == "whip" else a.whip, a.freq, a.video, a.timeout,
                                          a.retry, **kw)
        if a.mode in ("whep", "pair") and (a.url if a.mode == "whep" else a.whep):
            peers["whep"] = WhepSubscriber(a.url if a.mode == "whep" else a.whep, True, a.video, a.timeout,
                                           a.retry, **kw)
        if a.mode == "session" and a.url:
            peers["session"] = SessionPeer(a.url, a.freq, a.video, a.timeout, a.retry, **kw)
        if not peers:
            ap.error("no endpoint given")
        for p in peers.values():
            if not p.wait_connected(a.timeout):
                raise PeerError(p._failed or f"{p.name}: not connected in {a.timeout} s")
        print(json.dumps({"connected": {r: p.connect_ms for r, p in peers.items()}}), flush=True)
        t0 = time.monotonic()
        stop.wait(a.seconds if a.seconds > 0 else None)
    except (PeerError, OSError) as e:
        err = str(e)
    res = _results(peers, a.expect_freq, time.monotonic() - t0)
    if err:
        res.update(ok=False, error=err)
    for role, p in peers.items():
        if a.diagnose and role != "whip" and not p.rx_packets:
            print(f"--- {role}: no RTP; local SDP:\n{p.local_sdp}\n--- remote SDP:\n{p.remote_sdp}\n--- stats:\n"
                  + "\n".join(p.webrtc_stats()), file=sys.stderr)
        (p.stop if hasattr(p, "stop") else p.close)()
    print(json.dumps(res), flush=True)
    return 0 if res["ok"] else 1


def _opus_pt(sdp):
    for line in sdp.splitlines():
        if line.lower().startswith("a=rtpmap:") and "opus/48000" in line.lower():
            return int(line.split(":", 1)[1].split()[0])
    return None


if __name__ == "__main__":
    sys.exit(main())
