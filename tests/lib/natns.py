"""A NAT in network namespaces, for tests of media that must cross it.

    public: a bridge, PUBLIC_SERVER on it (e.g. a TURN server)
      |-- peer: PUBLIC_PEER (the far end, e.g. a phone; the test runs here)
      |-- nat: NAT_PUBLIC; nftables masquerade of what leaves towards public
            |  10.200.0.0/24
          private: PRIVATE, default route through the NAT (e.g. the gateway)
    (203.0.113.0/24 are documentation addresses; they exist only in here)

The public segment has no route to 10.200.0.0/24: nothing there can reach
the private side except as answers to what the private side sent
(conntrack). The server and the peer are separate namespaces because
coturn binds its relay sockets to their interface: packets between two
addresses of one namespace would go through `lo` and never reach it.
Interfaces are made inside the namespaces (none in the machine's own); the
namespaces, and everything in them, go away at the end of the `with`.

    with natns.Nat() as nat:
        subprocess.run(nat.exec(nat.peer) + [...])   # e.g. the test itself
    nat.forward_tcp(8080)                            # NAT_PUBLIC:8080 -> PRIVATE:8080
    nat = natns.Nat.attach(tag)                      # the same names, from inside
"""
import os
import shutil
import subprocess

import mgwtest

PUBLIC_SERVER, PUBLIC_PEER, NAT_PUBLIC = "203.0.113.1", "203.0.113.2", "203.0.113.254"
NAT_PRIVATE, PRIVATE = "10.200.0.1", "10.200.0.2"

RULESET = """table ip mgwnat {
    chain pre { type nat hook prerouting priority -100; }
    chain post { type nat hook postrouting priority 100; oifname "n-pub" masquerade; }
}
"""


def _ip(*args, stdin=None):
    r = subprocess.run(["ip", *args], input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")


def require():
    """Skips (77) when namespaces or nftables cannot be had here."""
    if os.geteuid() != 0:
        mgwtest.skip("network namespaces need root")
    for tool in ("ip", "nft"):
        if not shutil.which(tool):
            mgwtest.skip(f"{tool} is missing (packages iproute2, nftables)")


class Nat:
    def __init__(self, tag=None):
        self.tag = tag or f"mgw{os.getpid()}"
        self.public, self.peer = self.tag + "pub", self.tag + "peer"
        self.nat, self.private = self.tag + "nat", self.tag + "prv"
        self._made = []

    @classmethod
    def attach(cls, tag):
        return cls(tag)

    @staticmethod
    def exec(ns):
        return ["ip", "netns", "exec", ns]

    def __enter__(self):
        try:
            for ns in (self.public, self.peer, self.nat, self.private):
                _ip("netns", "add", ns)
                self._made.append(ns)
                _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", self.public, "link", "add", "br0", "type", "bridge")
            _ip("-n", self.nat, "link", "add", "n-pub", "type", "veth", "peer", "name", "b-nat", "netns", self.public)
            _ip("-n", self.peer, "link", "add", "p-pub", "type", "veth", "peer", "name", "b-peer", "netns", self.public)
            _ip("-n", self.nat, "link", "add", "n-prv", "type", "veth", "peer", "name", "v-nat", "netns", self.private)
            for port in ("b-nat", "b-peer"):
                _ip("-n", self.public, "link", "set", port, "master", "br0", "up")
            for ns, dev, addr in ((self.public, "br0", PUBLIC_SERVER), (self.peer, "p-pub", PUBLIC_PEER),
                                  (self.nat, "n-pub", NAT_PUBLIC), (self.nat, "n-prv", NAT_PRIVATE),
                                  (self.private, "v-nat", PRIVATE)):
                _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
                _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", self.private, "route", "add", "default", "via", NAT_PRIVATE)
            subprocess.run(self.exec(self.nat) + ["sysctl", "-qw", "net.ipv4.ip_forward=1"], check=True)
            r = subprocess.run(self.exec(self.nat) + ["nft", "-f", "-"], input=RULESET, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"nft: {r.stderr.strip()}")
        except (RuntimeError, subprocess.CalledProcessError) as e:
            self.__exit__()
            mgwtest.skip(f"cannot build the NAT namespaces: {e}")
        return self

    def forward_tcp(self, port):
        """A port forward: TCP `port` of NAT_PUBLIC goes to PRIVATE (e.g. signalling over HTTP)."""
        rule = f'add rule ip mgwnat pre iifname "n-pub" tcp dport {port} dnat to {PRIVATE}:{port}\n'
        r = subprocess.run(self.exec(self.nat) + ["nft", "-f", "-"], input=rule, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"nft: {r.stderr.strip()}")

    def __exit__(self, *exc):
        for ns in reversed(self._made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self._made = []
