"""Passive RTP capture on the loopback interface (stdlib only, needs root).

A test can't always bind the port a peer's media goes to (the peer owns it),
so this watches `lo` with an AF_PACKET socket and keeps the UDP datagrams
whose source or destination port is one of `ports`, parsed as RTP:

    with RtpSniffer(ports={6000}) as snif:
        ... run the call ...
    to_peer = snif.packets(dport=6000)

Each loopback datagram is seen once (the inbound copy; the outbound copy is
skipped by packet type).
"""
import socket
import struct
import threading
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


class Packet:
    __slots__ = ("time", "src", "sport", "dst", "dport", "pt", "marker", "seq", "ts", "ssrc", "payload", "rtp")

    def __repr__(self):
        return (f"<{self.src}:{self.sport}->{self.dst}:{self.dport} pt={self.pt} seq={self.seq} "
                f"ssrc={self.ssrc:#x} len={len(self.payload)}>")


def available():
    """None if a sniffer can be opened here, else the reason it can't."""
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.close()
        return None
    except (OSError, AttributeError) as e:
        return f"cannot open an AF_PACKET socket ({e}); needs root/CAP_NET_RAW on Linux"


class RtpSniffer:
    def __init__(self, ports, iface="lo"):
        self.ports = set(ports)
        self.iface = iface
        self._pkts = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self._sock.bind((iface, 0))
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        self._thread.join(2)
        self._sock.close()

    def _run(self):
        while not self._stop.is_set():
            try:
                frame, addr = self._sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == PACKET_OUTGOING:
                continue
            self._parse(frame)

    def _parse(self, frame):
        # lo frames carry a 14-byte (all-zero) Ethernet header.
        if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
            return
        ip = frame[14:]
        if ip[0] >> 4 != 4 or ip[9] != 17:       # IPv4, UDP
            return
        ihl = (ip[0] & 0x0F) * 4
        udp = ip[ihl:]
        sport, dport, ulen = struct.unpack("!HHH", udp[:6])
        if sport not in self.ports and dport not in self.ports:
            return
        data = udp[8:ulen]
        p = Packet()
        p.time = time.time()
        p.src = socket.inet_ntoa(ip[12:16])
        p.dst = socket.inet_ntoa(ip[16:20])
        p.sport, p.dport = sport, dport
        p.rtp = len(data) >= 12 and (data[0] >> 6) == 2
        if p.rtp:
            cc = data[0] & 0x0F
            p.marker = bool(data[1] & 0x80)
            p.pt = data[1] & 0x7F
            p.seq, p.ts, p.ssrc = struct.unpack("!HII", data[2:12])
            off = 12 + 4 * cc
            if data[0] & 0x10 and len(data) >= off + 4:          # header extension
                off += 4 + 4 * struct.unpack("!H", data[off + 2:off + 4])[0]
            end = len(data)
            if data[0] & 0x20 and end > off:                     # padding
                end -= data[-1]
            p.payload = data[off:end]
        else:
            p.pt = p.seq = p.ts = p.ssrc = None
            p.marker = False
            p.payload = data
        with self._lock:
            self._pkts.append(p)

    def packets(self, sport=None, dport=None, rtp_only=True):
        with self._lock:
            out = list(self._pkts)
        return [p for p in out
                if (sport is None or p.sport == sport) and (dport is None or p.dport == dport)
                and (p.rtp or not rtp_only)]


# --- G.711 decoding (ITU-T G.711), for checking echoed payloads -------------
def ulaw_to_linear(b):
    b = ~b & 0xFF
    t = ((b & 0x0F) << 3) + 0x84
    t <<= (b & 0x70) >> 4
    return (0x84 - t) if (b & 0x80) else (t - 0x84)


def alaw_to_linear(b):
    b ^= 0x55
    t = (b & 0x0F) << 4
    seg = (b & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if (b & 0x80) else -t


_ULAW = [ulaw_to_linear(i) for i in range(256)]
_ALAW = [alaw_to_linear(i) for i in range(256)]


def decode_g711(payload, pt):
    """Linear 16-bit samples of a PCMU (pt 0) or PCMA (pt 8) payload."""
    table = _ULAW if pt == 0 else _ALAW
    return [table[b] for b in payload]
