"""What a hostile peer sends, and what it costs the gateway (shared by the
hostile-peer tests). Every sender here targets 127.0.0.1 only, is bounded
in count, and stops by itself.

- usage(pid): (threads, open fds, RSS kB) of a process.
- udp_ports(pid): the local UDP ports of a process's sockets (RTP, RTCP,
  ICE/DTLS, SIP...), read from /proc; socket_inodes(pid): its sockets.
- blast(pid, n): garbage() to every one of those ports.
- garbage(n, seed): n datagrams: random bytes, truncated/flipped RTP and
  RTCP, STUN-looking, DTLS-looking records (content types 20-23).
- mutated_sip(template, n, seed): n corruptions of a SIP message.
"""
import os
import random
import socket
import struct
import time


def usage(pid):
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return int(fields["Threads"]), len(os.listdir(f"/proc/{pid}/fd")), int(fields["VmRSS"].split()[0])


def describe(u):
    return f"{u[0]} threads, {u[1]} fds, RSS {u[2] // 1024} MB"


def socket_inodes(pid):
    """The inode numbers of a process's open sockets (as /proc/net/* lists them)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def udp_ports(pid):
    inodes = socket_inodes(pid)
    ports = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[9] in inodes:
                        ports.add(int(cols[1].rsplit(":", 1)[1], 16))
        except FileNotFoundError:
            pass
    return sorted(ports)


def blast(pid, n, seed=1, source="127.0.0.1"):
    """n garbage datagrams from `source`, spread over every UDP port of the
    process, paced (100 per 10 ms); returns the ports."""
    ports = udp_ports(pid)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((source, 0))
        for i, d in enumerate(garbage(n, seed)):
            s.sendto(d, ("127.0.0.1", ports[i % len(ports)]))
            if i % 100 == 0:
                time.sleep(0.01)
    finally:
        s.close()
    return ports


def garbage(n, seed=1):
    rnd = random.Random(seed)
    for i in range(n):
        kind = i % 6
        if kind == 0:
            yield rnd.randbytes(rnd.randrange(1, 1400))
        elif kind == 1:  # RTP, any payload type, new SSRC, sometimes truncated
            pkt = struct.pack("!BBHII", 0x80 | rnd.randrange(16), rnd.randrange(256), rnd.getrandbits(16),
                              rnd.getrandbits(32), rnd.getrandbits(32)) + rnd.randbytes(rnd.randrange(0, 400))
            yield pkt[:rnd.randrange(1, len(pkt) + 1)]
        elif kind == 2:  # RTCP: SR/RR/SDES/BYE/APP/feedback with lying lengths
            yield struct.pack("!BBH", 0x80 | rnd.randrange(32), rnd.choice([200, 201, 202, 203, 204, 205, 206]),
                              rnd.getrandbits(16)) + rnd.randbytes(rnd.randrange(0, 200))
        elif kind == 3:  # STUN-looking: magic cookie, random type and length
            yield struct.pack("!HHI", rnd.getrandbits(14), rnd.getrandbits(16), 0x2112A442) + \
                rnd.randbytes(12) + rnd.randbytes(rnd.randrange(0, 300))
        elif kind == 4:  # DTLS-looking record: handshake/alert/appdata, DTLS 1.0/1.2
            yield bytes([rnd.choice([20, 21, 22, 23]), 0xfe, rnd.choice([0xff, 0xfd])]) + \
                rnd.randbytes(8) + struct.pack("!H", rnd.getrandbits(16)) + rnd.randbytes(rnd.randrange(0, 600))
        else:  # a lone byte or an empty datagram
            yield rnd.randbytes(rnd.randrange(0, 2))


def mutated_sip(template, n, seed=2):
    """Truncations, byte flips, duplicated and dropped lines, huge numbers."""
    rnd = random.Random(seed)
    data = template.encode()
    lines = template.split("\r\n")
    for i in range(n):
        kind = i % 5
        if kind == 0:
            yield data[:rnd.randrange(1, len(data))]
        elif kind == 1:
            b = bytearray(data)
            for _ in range(rnd.randrange(1, 20)):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
            yield bytes(b)
        elif kind == 2:
            ls = lines[:]
            rnd.shuffle(ls[1:-2])
            if rnd.random() < 0.5:
                del ls[rnd.randrange(1, len(ls))]
            yield "\r\n".join(ls).encode()
        elif kind == 3:
            ls = lines[:]
            j = rnd.randrange(1, len(ls) - 2)
            ls.insert(j, ls[j])
            yield "\r\n".join(ls).replace("Content-Length: ", "Content-Length: 99999999999").encode()
        else:
            yield rnd.randbytes(rnd.randrange(1, 2000))


def rss_meaningful():
    """False under AddressSanitizer (scripts/sanitize): its quarantine keeps
    freed memory on purpose, so RSS says nothing about leaks there (its leak
    check does)."""
    return "ASAN_OPTIONS" not in os.environ
