#!/usr/bin/env python3
"""Writes the STUN/TURN fuzz seeds in corpus/stun/ from a real exchange with
coturn on loopback (an Allocate, its 401 challenge, the authenticated
Allocate and its success, a ChannelBind and its success), plus a ChannelData
datagram made by hand. Run from anywhere: python3 tests/fuzz/capture_seeds.py
"""
import base64
import hashlib
import hmac
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "stun")
COOKIE = 0x2112A442
SECRET = "fuzz-seed-secret"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * ((4 - len(v) % 4) % 4)


def message(mtype, tid, attrs, key=None):
    body = b"".join(attrs)
    if key is None:
        return struct.pack("!HHI", mtype, len(body), COOKIE) + tid + body
    head = struct.pack("!HHI", mtype, len(body) + 24, COOKIE) + tid + body
    return head + attr(0x0008, hmac.new(key, head, hashlib.sha1).digest())


def find(msg, t):
    at = 20
    while at + 4 <= len(msg):
        at_t, n = struct.unpack("!HH", msg[at:at + 4])
        if at_t == t:
            return msg[at + 4:at + 4 + n]
        at += 4 + n + (4 - n % 4) % 4
    return None


def xor_peer(ip, port):
    raw = socket.inet_aton(ip)
    mask = struct.pack("!I", COOKIE)
    return struct.pack("!BBH", 0, 1, port ^ (COOKIE >> 16)) + bytes(a ^ b for a, b in zip(raw, mask))


def save(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    print(f"{name}: {len(data)} bytes")


def main():
    os.makedirs(OUT, exist_ok=True)
    port, relay = free_port(), free_port()
    with tempfile.TemporaryDirectory() as wd:
        turn = subprocess.Popen([
            "turnserver", "-n", "--listening-ip=127.0.0.1", f"--listening-port={port}", "--relay-ip=127.0.0.1",
            f"--min-port={relay}", f"--max-port={relay + 3}", "--use-auth-secret", f"--static-auth-secret={SECRET}",
            "--realm=test", f"--userdb={wd}/db", f"--pidfile={wd}/pid", "--no-tls", "--no-dtls", "--no-cli",
            "--allow-loopback-peers", "--log-file=stdout", "--simple-log", "--fingerprint"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(1.5)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2)
            server = ("127.0.0.1", port)
            base = [attr(0x0019, b"\x11\0\0\0"), attr(0x000D, struct.pack("!I", 600))]
            first = message(0x0003, os.urandom(12), base)
            s.sendto(first, server)
            challenge, _ = s.recvfrom(65536)
            save("allocate-request-unauthenticated", first)
            save("allocate-error-401", challenge)
            user = f"{int(time.time()) + 3600}:fuzz"
            password = base64.b64encode(hmac.new(SECRET.encode(), user.encode(), hashlib.sha1).digest()).decode()
            realm, nonce = find(challenge, 0x0014), find(challenge, 0x0015)
            key = hashlib.md5(user.encode() + b":" + realm + b":" + password.encode()).digest()
            creds = [attr(0x0006, user.encode()), attr(0x0014, realm), attr(0x0015, nonce)]
            allocate = message(0x0003, os.urandom(12), base + creds, key)
            s.sendto(allocate, server)
            success, _ = s.recvfrom(65536)
            save("allocate-request", allocate)
            save("allocate-success", success)
            bind = message(0x0009, os.urandom(12), [attr(0x000C, b"\x40\x00\0\0"), attr(0x0012, xor_peer("127.0.0.1", 9))] + creds,
                           key)
            s.sendto(bind, server)
            bound, _ = s.recvfrom(65536)
            save("channelbind-request", bind)
            save("channelbind-success", bound)
            rtp = struct.pack("!BBHII", 0x80, 0, 1, 160, 0x1234) + b"\xff" * 160
            save("channeldata", struct.pack("!HH", 0x4000, len(rtp)) + rtp)
            save("channeldata-padded", struct.pack("!HH", 0x4000, 5) + b"hello" + b"\0\0\0")
            s.sendto(message(0x0004, os.urandom(12), [attr(0x000D, b"\0\0\0\0")] + creds, key), server)
            s.recvfrom(65536)
        finally:
            turn.send_signal(signal.SIGTERM)
            turn.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
