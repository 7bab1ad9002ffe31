"""Network namespaces for a test fleet of `serve` hosts (root only).

    with FleetNet(3) as net:
        net.front              # 10.61.X.1: the root namespace's address (Kamailio, callers)
        net.hosts[0].address   # 10.61.X.11: the first namespace's address
        net.hosts[0].prefix    # ["ip", "netns", "exec", NS]: run a command in it

One bridge in the root namespace holds the front address; each namespace
joins it with a veth pair and gets the next address of the same /24, so the
root namespace reaches every host and the hosts reach the front (they do
not need each other). Names carry this process's id, and the /24 is one
that no address or route of the root namespace uses yet: the tests of
other engineers, running at the same time, keep theirs. Everything goes at
the end, also on failure: the processes still in the namespaces (started
by this test), the namespaces (their veth pairs with them), the bridge.
A previous run killed before its cleanup (its PID gone) is cleaned first.
"""
import os
import re
import signal
import subprocess
import time

import mgwtest

PREFIX = "mgwf"            # interface names (15 chars at most: mgwf + pid + 2)
NS_PREFIX = "mgwfleet-"    # namespaces: mgwfleet-PID-N
SUBNET = "10.61"           # 10.61.X.0/24 (the bench has 10.99, the browser tests 10.77/10.99)


class NotPermitted(RuntimeError):
    """This machine does not let us make namespaces or links (a container
    without CAP_NET_ADMIN / CAP_SYS_ADMIN): a test skips."""


def _ip(*args, check=True):
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if check and r.returncode != 0:
        kind = NotPermitted if "not permitted" in r.stderr.lower() else RuntimeError
        raise kind(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class Host:
    def __init__(self, ns, address):
        self.ns, self.address = ns, address
        self.prefix = ["ip", "netns", "exec", ns]


class FleetNet:
    def __init__(self, count):
        self.pid = os.getpid()
        self.count = count
        self.bridge = f"{PREFIX}{self.pid}"
        self.hosts = []
        self.front = None

    def _free_subnet(self):
        used = _ip("-4", "-o", "addr") + _ip("-4", "route", "show", "table", "all")
        for i in range(250):
            x = (self.pid + i) % 250 + 1
            if not re.search(rf"\b{re.escape(SUBNET)}\.{x}\.", used):
                return x
        raise RuntimeError(f"no free {SUBNET}.X.0/24")

    @staticmethod
    def sweep_stale():
        """Namespaces and bridges of earlier runs whose process is gone."""
        for ns in re.findall(rf"^({re.escape(NS_PREFIX)}(\d+)-\d+)", _ip("netns", "list"), re.M):
            if not _pid_alive(int(ns[1])):
                mgwtest.log(f"removing {ns[0]}, left by a run that did not clean up")
                _ip("netns", "del", ns[0], check=False)
        for name, pid in re.findall(rf"^\d+: ({PREFIX}(\d+)):", _ip("-o", "link", "show", "type", "bridge"), re.M):
            if not _pid_alive(int(pid)):
                _ip("link", "del", name, check=False)

    def __enter__(self):
        self.setup()
        return self

    def setup(self):
        """Makes the bridge and the namespaces (undone on failure)."""
        try:
            self.sweep_stale()
            x = self._free_subnet()
            self.front = f"{SUBNET}.{x}.1"
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("addr", "add", f"{self.front}/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
            for n in range(1, self.count + 1):
                host = Host(f"{NS_PREFIX}{self.pid}-{n}", f"{SUBNET}.{x}.{10 + n}")
                outer, inner = f"{PREFIX}{self.pid}r{n}", f"{PREFIX}{self.pid}n{n}"
                _ip("netns", "add", host.ns)
                self.hosts.append(host)
                _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
                _ip("link", "set", inner, "netns", host.ns)
                _ip("link", "set", outer, "master", self.bridge, "up")
                _ip("-n", host.ns, "addr", "add", f"{host.address}/24", "dev", inner)
                _ip("-n", host.ns, "link", "set", "lo", "up")
                _ip("-n", host.ns, "link", "set", inner, "up")
            mgwtest.log(f"fleet network: bridge {self.bridge} {self.front}/24, namespaces " +
                        ", ".join(f"{h.ns} {h.address}" for h in self.hosts))
        except BaseException:
            self.close()
            raise

    def close(self):
        for host in self.hosts:
            # Whatever this test started there and is still running.
            pids = [int(p) for p in _ip("netns", "pids", host.ns, check=False).split()]
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = time.time() + 3
            while time.time() < deadline and any(_pid_alive(p) for p in pids):
                time.sleep(0.05)
            if pids:
                mgwtest.log(f"{host.ns}: killed {len(pids)} processes left in it")
            _ip("netns", "del", host.ns, check=False)  # its veth pair goes with it
        _ip("link", "del", self.bridge, check=False)
        self.hosts = []

    def __exit__(self, *exc):
        self.close()
