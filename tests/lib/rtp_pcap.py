"""A pcap file of RTP carrying a tone (PCMU, 20 ms packets), for sipp's
`play_pcap_audio`: sipp sends the packets' RTP to the media address of the
answer, keeping their timing. Stdlib only.

    write_tone_pcap(path, 1000, seconds=30)
"""
import math
import struct


def _ulaw(sample):
    """G.711 mu-law of a 16-bit linear sample."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), clip) + bias
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def write_tone_pcap(path, freq, seconds, volume=0.5, src=("10.0.0.1", 6000), dst=("10.0.0.2", 6000)):
    rate, per_packet = 8000, 160
    ssrc, packets = 0x4D475754, int(seconds * 50)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))   # Ethernet link type
        for n in range(packets):
            payload = bytes(_ulaw(int(volume * 32767 * math.sin(2 * math.pi * freq * (n * per_packet + i) / rate)))
                            for i in range(per_packet))
            rtp = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, (n * per_packet) & 0xFFFFFFFF, ssrc) + payload
            udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(rtp), 0) + rtp
            ip_header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64, 17, 0,
                                    bytes(map(int, src[0].split("."))), bytes(map(int, dst[0].split("."))))
            ip = ip_header[:10] + struct.pack("!H", _checksum(ip_header)) + ip_header[12:] + udp
            frame = b"\x00\x00\x00\x00\x00\x02" + b"\x00\x00\x00\x00\x00\x01" + b"\x08\x00" + ip
            t_us = n * 20000
            f.write(struct.pack("<IIII", t_us // 1000000, t_us % 1000000, len(frame), len(frame)))
            f.write(frame)
