#!/usr/bin/env python3
"""Three `mediagw serve` hosts, each in its own network namespace, behind
one Kamailio running the shipped conf/kamailio/serve-front.cfg (issue 12).

The network (fleet_net.py): a bridge in the root namespace holds the front
address 10.61.X.1 (Kamailio and the callers); namespaces 1..3 hold
10.61.X.11..13, one serve each (SIP front on 5060, API on 8088, its
gateways on the same address; template `echo` = pipelines/sip-echo.toml,
1 warm). Hosts 1 and 2 have room for 5 calls; host 3's budget (cpu 0.01 =
one echo call) is filled by a single call. Kamailio gets only -A defines:
LISTEN, HOSTS_LIST (the three hosts), DS_PING_INTERVAL=1, CTL_SOCKET; its
no-answer timer stays the shipped FR_TIMEOUT_MS (2 s). Every call is placed
one at a time from the root namespace with its own dialled user, so that
the call records of the hosts say which host took it.

1. Spread: a baresip call (1000 Hz tone) and 5 sipp calls, each placed
   while `kamcmd dispatcher.list` shows the three hosts active: every host
   took at least one (its call records), in a fixed round-robin order, and
   the tone came back through the echo at its frequency.
2. A host killed: a baresip call is placed on a host other than host 3,
   two short calls bring round robin back to that host, and its serve gets
   SIGKILL. Its gateways die with it, the one in the call too
   (PR_SET_PDEATHSIG); the caller hangs up (the front's dialog keepalive
   would send it a BYE, but only after ~30-45 s: not waited for). The
   call placed right after the kill goes there first, gets no answer and
   fails over: Kamailio logs the 408 from that host, and the INVITE reaches
   another host (its serve logs the 302) FR_TIMEOUT_MS after sipp sent it
   (-0.15 s, +0.5 s: the whole cost of the dead host); the call connects.
   Four more calls all connect, none goes to the dead host (it is marked
   inactive), the front logged no other failover from it.
3. A host full: baresip calls until its call lands on host 3 (a call that
   lands on the other host is hung up), which fills it. Host 3's OPTIONS
   answer 503, Kamailio's probe marks it inactive (dispatcher.list), four
   new calls all connect on the one host left, and host 3's counters
   (redirects, refusals, calls started) do not move: no INVITE was sent to
   it. When baresip hangs up, host 3 is active again.
Finally both live serves drain on SIGTERM (exit 0) and nothing is left
running in the namespaces.
"""
import contextlib
import os
import re
import signal
import subprocess
import sys
import time

import mgwtest
import serve_common as sc
import tonecheck
from baresip import Baresip
from fleet_net import FleetNet, NotPermitted

CFG = os.path.join(mgwtest.SOURCE_ROOT, "conf", "kamailio", "serve-front.cfg")
UAC = os.path.join(mgwtest.SOURCE_ROOT, "tests", "integration", "deploy", "uac_rr.xml")
SIP_PORT, API_PORT = 5060, 8088       # each host has its own network: the usual ports
FR_TIMEOUT_S = 2.0                    # serve-front.cfg's FR_TIMEOUT_MS, as shipped
FULL = 2                              # host 3: one call fills it
HOLD_MS = 300


def hn(i):
    """A host's number as the messages say it (1..3)."""
    return "?" if i is None else str(i + 1)


class Fleet:
    def __init__(self, procs, wd, net):
        self.procs, self.wd, self.net = procs, wd, net
        self.serves, self.kam, self.kport = [], None, None
        self.landed = []       # host index of each call, in order
        self.baresip = None    # the caller that holds a call when one is needed

    # --- the pieces ------------------------------------------------------
    def start_serves(self):
        echo = os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-echo.toml")
        for i, host in enumerate(self.net.hosts):
            budget = "cpu = 0.01" if i == FULL else "cpu = 0.05"
            self.serves.append(sc.Serve(self.procs, self.wd, f'''[template.echo]
pipeline = "{echo}"
default = true
warm = 1
cpu = 0.01
memory_mb = 30
''', serve_extra=f"{budget}\nmemory_mb = 2000\nretry_after = 5\ndrain_timeout = 10",
                                        name=f"serve-{i + 1}", address=host.address, prefix=host.prefix,
                                        sip_port=SIP_PORT, api_port=API_PORT))
        for i, s in enumerate(self.serves):
            s.wait_gateways(lambda g: any(x["state"] == "idle" for x in g), 15, f"host {i + 1}: a warm gateway")
            status, _ = sc.options(SIP_PORT, host=s.address, local=self.net.front)
            mgwtest.check(status == 200, f"host {i + 1} ({s.address}) answers OPTIONS from the root namespace")

    def start_front(self):
        self.kport = mgwtest.free_port(host=self.net.front)
        hosts_list = os.path.join(self.wd, "serve-hosts.list")
        with open(hosts_list, "w") as f:
            f.writelines(f"1 sip:{h.address}:{SIP_PORT}\n" for h in self.net.hosts)
        run = os.path.join(self.wd, "kamailio-run")
        os.makedirs(run)
        self.ctl = os.path.join(self.wd, "kamailio.ctl")
        self.kam = self.procs.start("kamailio", [
            "kamailio", "-f", CFG, "-DD", "-E", "-n", "1", "-Y", run, "-P", os.path.join(self.wd, "kamailio.pid"),
            "-A", f"LISTEN=udp:{self.net.front}:{self.kport}", "-A", f'HOSTS_LIST="{hosts_list}"',
            "-A", "DS_PING_INTERVAL=1", "-A", f'CTL_SOCKET="unix:{self.ctl}"'])
        deadline = time.time() + 10
        while time.time() < deadline and self.kam.poll() is None:
            if sc.options(self.kport, timeout=0.3, host=self.net.front, local=self.net.front)[0] == 200:
                break
        mgwtest.check(self.kam.poll() is None and
                      sc.options(self.kport, host=self.net.front, local=self.net.front)[0] == 200,
                      f"Kamailio (shipped serve-front.cfg) answers OPTIONS on {self.net.front}:{self.kport}")

    def front_log(self):
        return self.procs.output(self.kam)

    def failovers(self):
        """(code, host address) of each failover the front logged."""
        return re.findall(r"call \S+: (\d+) from sip:([\d.]+):\d+, failing over", self.front_log())

    def states(self):
        """Host index -> dispatcher flags (AP: active, IP: inactive), as kamcmd shows them."""
        r = subprocess.run(["kamcmd", "-s", "unix:" + self.ctl, "dispatcher.list"], capture_output=True,
                           text=True, timeout=10)
        flags = dict(re.findall(r"URI: sip:([\d.]+):\d+\s+FLAGS: (\S+)", r.stdout))
        return {i: flags.get(h.address, "?") for i, h in enumerate(self.net.hosts)}

    def wait_states(self, want, timeout, what):
        """Until each host index of `want` shows flags starting with its letter."""
        t0 = time.time()
        while True:
            st = self.states()
            if all(st[i].startswith(letter) for i, letter in want.items()):
                return time.time() - t0
            if time.time() - t0 > timeout:
                mgwtest.fail(f"{what}: dispatcher.list {st} after {timeout} s")
            time.sleep(0.1)

    # --- calls -----------------------------------------------------------
    def sipp(self, user, hold_ms):
        argv = ["sipp", f"{self.net.front}:{self.kport}", "-sf", UAC, "-s", user, "-i", self.net.front,
                "-p", str(mgwtest.free_port(host=self.net.front)), "-nostdin", "-m", "1", "-d", str(hold_ms),
                "-recv_timeout", "10000", "-timeout", "30", "-timeout_error", "-trace_err",
                "-trace_msg", "-message_file", os.path.join(self.wd, f"sipp-{user}.msg")]
        return self.procs.start("sipp-" + user, argv)

    def invite_times(self, user):
        """(INVITE sent, its 200 received) as time of day in s, from sipp's
        -trace_msg file; either None when missing."""
        try:
            with open(os.path.join(self.wd, f"sipp-{user}.msg"), errors="replace") as f:
                text = f.read()
        except OSError:
            return None, None
        stamp = r"-{20,} \S+ (\d\d):(\d\d):(\d\d\.\d+)\s*\n"
        tod = lambda m: m and int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
        sent = re.search(stamp + r"UDP message sent.*\n\s*INVITE ", text)
        ok = re.search(stamp + r"UDP message received.*\n\s*SIP/2\.0 200 [^\n]*\n(?:[^\n]+\n)*?CSeq: 1 INVITE", text)
        return tod(sent), tod(ok)

    def setup_time(self, user):
        """INVITE to its 200, in s."""
        sent, ok = self.invite_times(user)
        return None if sent is None or ok is None else round((ok - sent) % 86400, 3)

    def call(self, user, hold_ms=HOLD_MS):
        """A sipp call dialling `user` through the front: (exit code, setup s, host index)."""
        rc = self.sipp(user, hold_ms).wait(40)
        return rc, self.setup_time(user), self.host_of(user)

    def host_of(self, user, timeout=10):
        """The host whose call records have the call for `user` (its gateway exits after the BYE)."""
        deadline = time.time() + timeout
        while True:
            hits = [i for i, s in enumerate(self.serves) if any(r.get("user") == user for r in s.read_records())]
            if hits or time.time() > deadline:
                return hits[0] if len(hits) == 1 else None
            time.sleep(0.05)

    def redirected_at(self, i, user):
        """When host i's serve answered the INVITE for `user` with a 302 (its log's
        local time of day, in s), or None."""
        rx = rf"^(\d\d):(\d\d):(\d\d\.\d+) INFO +\[sip-front\] INVITE \S+ for '{re.escape(user)}' -> 302"
        m = re.search(rx, self.serves[i].output(), re.M)
        return m and int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))

    def in_call(self, i):
        return [g for g in self.serves[i].gateways() if g["state"] == "in_call"]


def time_of_day(t):
    """Seconds since local midnight of the time t (as the logs write it)."""
    lt = time.localtime(t)
    return lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec + t % 1


def counters(serve):
    m = serve.metrics()
    refused = sum(v for (name, _), v in m.items() if name == "mediagw_serve_calls_refused_total")
    return {"redirects": sc.metric(m, "mediagw_serve_redirects_total", template="echo"),
            "calls_started": sc.metric(m, "mediagw_serve_calls_started_total", template="echo"),
            "refused": refused, "accepting": sc.metric(m, "mediagw_serve_accepting")}


def spread(f):
    check = mgwtest.check
    all_active = {0: "A", 1: "A", 2: "A"}
    f.wait_states(all_active, 10, "the three hosts active")
    tone = os.path.join(f.wd, "tone-1000.wav")
    mgwtest.make_tone_wav(tone, 1000, 30, rate=8000, volume=0.5)
    bs = Baresip(f.procs, f.wd, name="baresip", tone_wav=tone, codecs="PCMU", user="alice", address=f.net.front)
    bs.start()
    check(bs.dial(f"sip:fleet-1@{f.net.front}:{f.kport}").get("ok"), "baresip dials sip:fleet-1 at the front")
    check(bs.wait_event("CALL_ESTABLISHED", 15) is not None, "baresip's call is established")
    time.sleep(3.5)
    bs.hangup()
    check(bs.wait_event("CALL_CLOSED", 5) is not None, "baresip hung up")
    f.baresip = bs
    host = f.host_of("fleet-1")
    check(host is not None, f"baresip's call is in host {hn(host)}'s call records")
    f.landed.append(host)
    wav = bs.received_wav()
    check(wav is not None, "baresip recorded what it heard")
    tonecheck.check_tone(wav, 1000, 2.0, f"the 1000 Hz tone came back through host {host + 1}'s echo")
    for n in range(2, 7):
        f.wait_states(all_active, 10, "the three hosts active")
        rc, setup, host = f.call(f"fleet-{n}")
        check(rc == 0 and host is not None, f"call fleet-{n} connects (sipp exit {rc}, setup {setup} s) "
              f"on host {hn(host)}")
        f.landed.append(host)
    per_host = [f.landed.count(i) for i in range(3)]
    check(all(n >= 1 for n in per_host), f"every host took calls: {per_host} (order {[h + 1 for h in f.landed]})")
    check(all(f.landed[k] == f.landed[k - 3] for k in range(3, len(f.landed))),
          "round robin: the hosts take turns in a fixed order")
    check(not f.failovers(), f"no failover while all were up ({f.failovers()})")


def kill_one(f):
    check = mgwtest.check
    all_active = {0: "A", 1: "A", 2: "A"}
    turns = iter(range(1, 10))

    def turn():                        # a short call: round robin moves on by one
        user = f"turn-{next(turns)}"
        f.wait_states(all_active, 10, "the three hosts active")
        rc, _, host = f.call(user)
        check(rc == 0 and host is not None, f"call {user} connects on host {hn(host)}")
        f.landed.append(host)

    if f.landed[-3] == FULL:           # the next call would go to host 3: turn once more
        turn()
    victim = f.landed[-3]
    serve = f.serves[victim]
    addr = f.net.hosts[victim].address
    # A call is up on it when it dies: baresip's, its turn in the rotation.
    f.wait_states(all_active, 10, "the three hosts active")
    bs = f.baresip
    since = len(bs.events)
    check(bs.dial(f"sip:doomed@{f.net.front}:{f.kport}").get("ok"), "baresip dials sip:doomed")
    check(bs.wait_event("CALL_ESTABLISHED", 15, since) is not None, "baresip's call doomed is established")
    deadline = time.time() + 5
    while time.time() < deadline and not f.in_call(victim):
        time.sleep(0.05)
    check(len(f.in_call(victim)) == 1, f"baresip's call is up on host {hn(victim)}")
    f.landed.append(victim)
    turn()
    turn()                             # round robin is back at the victim
    f.wait_states(all_active, 10, "the three hosts active")
    check(f.landed[-3] == victim, f"host {hn(victim)} is the next in the rotation {[hn(h) for h in f.landed]}")
    gateways = serve.gateways()
    gw_pids = [g["pid"] for g in gateways]
    os.kill(serve.proc.pid, signal.SIGKILL)
    t_kill = time.time()
    mgwtest.log(f"SIGKILLed host {victim + 1}'s serve (pid {serve.proc.pid}; gateways "
                f"{[(g['pid'], g['state']) for g in gateways]}), the next in the rotation")
    rc, setup, host = f.call("after-kill-1")
    sent, _ = f.invite_times("after-kill-1")
    after = "?" if sent is None else f"{((sent - time_of_day(t_kill)) % 86400) * 1000:.0f}"
    check(rc == 0 and host is not None and host != victim and sent is not None,
          f"the call placed {after} ms after the kill connects, on host {hn(host)}")
    over = f.failovers()
    check(over == [("408", addr)], f"it went to the dead host first: the front logged its 408 ({over})")
    # The bound: the front's no-answer timer, then the next host at once
    # (its 302, logged by its serve). The rest of the setup is that of any
    # call (gateway answering: 0.05 s idle, seen 1.6 s on a loaded machine).
    reached = f.redirected_at(host, "after-kill-1")
    delay = -1.0 if reached is None else (reached - sent) % 86400
    # (Kamailio's timers tick every 62.5 ms: seen firing up to 55 ms early)
    check(FR_TIMEOUT_S - 0.15 <= delay <= FR_TIMEOUT_S + 0.5,
          f"its INVITE reached host {hn(host)} {delay:.3f} s after sipp sent it: the no-answer timer "
          f"(FR_TIMEOUT_MS {FR_TIMEOUT_S:.0f} s, +0.5 s allowed)")
    check(setup is not None and FR_TIMEOUT_S - 0.15 <= setup <= FR_TIMEOUT_S + 3,
          f"and connected {setup} s after its INVITE (+3 s allowed for the rest of the setup under load)")
    deadline = time.time() + 3
    while time.time() < deadline and any(sc.pid_alive(p) for p in gw_pids):
        time.sleep(0.05)
    check(serve.proc.wait(5) == -signal.SIGKILL and not any(sc.pid_alive(p) for p in gw_pids),
          f"host {victim + 1}'s gateways died with its serve, the one in baresip's call too "
          f"({len(gw_pids)}, PR_SET_PDEATHSIG)")
    # The front's dialog keepalive tells the caller within ~30-45 s (the
    # module's minimum interval): longer than this test waits.
    mgwtest.log(f"baresip's call on the dead host, {time.time() - t_kill:.1f} s after the kill: "
                f"{'ended' if bs.wait_event('CALL_CLOSED', 0, since) else 'still up for the caller (no BYE yet)'}")
    since = len(bs.events)
    bs.hangup()
    check(bs.wait_event("CALL_CLOSED", 10, since) is not None, "baresip hung up its call on the dead host")
    check(f.states()[victim].startswith("I"), f"the front marked host {victim + 1} inactive ({f.states()})")
    for n in range(2, 6):
        rc, setup, host = f.call(f"after-kill-{n}")
        check(rc == 0 and host is not None and host != victim,
              f"call after-kill-{n} connects on host {hn(host)} (setup {setup} s)")
    check([o for o in f.failovers() if o[1] == addr] == over,
          f"no other call went to the dead host (failovers: {f.failovers()})")
    return victim


def fill_one(f, victim):
    check = mgwtest.check
    other = 3 - victim - FULL            # the host left with room
    up = {victim: "I", other: "A", FULL: "A"}
    bs = f.baresip
    for k in range(1, 4):                # round robin reaches host 3 within a few calls
        f.wait_states(up, 10, "the two live hosts active")
        since = len(bs.events)
        check(bs.dial(f"sip:held-{k}@{f.net.front}:{f.kport}").get("ok"), f"baresip dials sip:held-{k}")
        check(bs.wait_event("CALL_ESTABLISHED", 15, since) is not None, f"baresip's call held-{k} is established")
        # (serve learns of the call from its gateway's control line: a moment later)
        deadline = time.time() + 5
        while time.time() < deadline and not (f.in_call(FULL) or f.in_call(other)):
            time.sleep(0.05)
        if f.in_call(FULL):
            break
        check(len(f.in_call(other)) == 1, f"held-{k} went to host {hn(other)}: hung up, once more")
        since = len(bs.events)
        bs.hangup()
        check(bs.wait_event("CALL_CLOSED", 5, since) is not None, "baresip hung up")
    check(len(f.in_call(FULL)) == 1, "baresip's call holds host 3")
    full = f.serves[FULL]
    status, reply = sc.options(SIP_PORT, host=full.address, local=f.net.front)
    check(status == 503 and re.search(r"(?mi)^Retry-After: 5", reply),
          f"host 3 is full: its OPTIONS answer 503 with Retry-After ({status})")
    took = f.wait_states({FULL: "I", other: "A"}, 5, "host 3 marked inactive by the probes")
    mgwtest.log(f"host 3 inactive at the front {took:.2f} s after it was full (probe interval 1 s)")
    before = counters(full)
    check(before["accepting"] == 0, "host 3's metrics: accepting 0")
    failovers = len(f.failovers())
    for n in range(1, 5):
        rc, setup, host = f.call(f"while-full-{n}")
        check(rc == 0 and host == other, f"call while-full-{n} connects on host {hn(host)} (setup {setup} s)")
    check(len(f.in_call(FULL)) == 1, "host 3 was full all along (baresip's call is still up)")
    after = counters(full)
    check(after == before, f"host 3 got no INVITE meanwhile: its redirects, calls started and refusals "
          f"did not move ({before} -> {after})")
    check(len(f.failovers()) == failovers, f"no call was sent to host 3 and failed over ({f.failovers()})")
    since = len(bs.events)
    bs.hangup()
    check(bs.wait_event("CALL_CLOSED", 5, since) is not None, "baresip hung up the call on host 3")
    t0 = time.time()
    f.wait_states({FULL: "A"}, 5, "host 3 back after its call")
    mgwtest.log(f"ok: host 3 active again {time.time() - t0:.2f} s after its call ended")
    bs.quit()


def main():
    if os.geteuid() != 0:
        mgwtest.skip("needs root (network namespaces, veth, a bridge)")
    mgwtest.require_tools("ip", "kamailio", "kamcmd", "sipp", "baresip", "sox")
    if not any(os.path.exists(os.path.join(d, "uac_redirect.so"))
               for d in ("/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules",
                         "/usr/local/lib/kamailio/modules")):
        mgwtest.skip("Kamailio's uac_redirect module is missing (package kamailio)")
    # meson's timeout sends SIGTERM: unwind, so that the namespaces go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("SIGTERM"))
    check = mgwtest.check
    net = FleetNet(3)
    try:
        net.setup()
    except NotPermitted as e:
        mgwtest.skip(f"cannot make network namespaces here ({e})")
    with mgwtest.workdir() as wd, contextlib.closing(net), mgwtest.Procs(wd) as procs:
        f = Fleet(procs, wd, net)
        f.start_serves()
        f.start_front()
        spread(f)
        victim = kill_one(f)
        fill_one(f, victim)
        for i, s in enumerate(f.serves):
            if i != victim:
                pids = [g["pid"] for g in s.gateways()]
                check(sc.stop_serve(procs, s) == 0, f"host {i + 1}'s serve drains and exits 0 on SIGTERM")
                check(not any(sc.pid_alive(p) for p in pids), f"host {i + 1}: no gateway left")
        left = {h.ns: subprocess.run(["ip", "netns", "pids", h.ns], capture_output=True, text=True).stdout.split()
                for h in net.hosts}
        check(not any(left.values()), f"nothing left running in the namespaces ({left})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
