#!/usr/bin/env python3
"""The far side gone mid-call (issue 10, "Faults"): the gateway notices it
within a bounded time, ends the call with a BYE whose Reason (RFC 3326) says
why, and takes the next call. A hand-written caller (rawcaller) whose PCMU
the gateway echoes; `rtp_timeout` = 3 s. One scenario per argument:

  turn    The gateway's RTP goes through coturn (turn-echo.toml); coturn is
          SIGKILLed mid-call. Asserted: the gateway's BYE reaches the caller
          within rtp_timeout + 2 s of the kill, with `Reason: Q.850;cause=102;
          text="rtp-timeout"`; call.ended (reason rtp-timeout) is logged as
          soon as the BYE is answered; coturn restarted on the same port and
          relay ports, the next call is echoed through the new relay.
  link    The gateway in a network namespace, the caller in another, one
          veth pair between them; the caller's end is set down mid-call.
          Asserted: the gateway gives up on the call ("no RTP for 3 s:
          hanging up") and reports call.ended (rtp-timeout) within
          rtp_timeout + 2 s of the cut, with the link still down (its BYE
          is on its way; the call is over once it leaves); the link
          restored, the caller gets the BYE (a retransmission) with the
          Reason above; the next call is echoed.
  silent  The caller stops sending RTP and stops answering (its BYE is
          never answered). Asserted: the BYE with the Reason comes within
          rtp_timeout + 2 s of the last RTP, and the gateway takes the next
          call within 5 s of it (it no longer waits 32 s for Sofia's BYE
          transaction, Timer F); the next call is echoed.

Each scenario prints its measured times-to-notice ("MEASURED ...").
"""
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import mgwtest
import rawcaller
import sigtest
import siptest
from coturn import SECRET, start_coturn
from sip_rtp_latching import Sender, has

HERE = os.path.dirname(os.path.abspath(__file__))
TURN_PIPELINE = os.path.join(HERE, "turn-echo.toml")
RTP_TIMEOUT = 3
NOTICE_BOUND = RTP_TIMEOUT + 2   # rtp_timeout, checked once a second, + slack
TIMER_F = 32                     # Sofia's non-INVITE transaction timeout (64 * T1)
BYTE = 0x11
REASON = re.compile(r'^Q\.850\s*;\s*cause=102\s*;\s*text="rtp-timeout"$')


def measured(what, seconds):
    mgwtest.log(f"MEASURED {what}: {seconds:.2f} s")


def pcmu(sock):
    return f"m=audio {sock.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"


class Call:
    """A rawcaller call: its SIP and RTP sockets, dialog, the gateway's RTP address."""

    def __init__(self, gw_port, host="127.0.0.1", gw_host="127.0.0.1", socks=None):
        self.sip, self.rtp = socks or (rawcaller.udp(host=host), rawcaller.udp(host=host))
        answer, self.dialog = rawcaller.invite(self.sip, gw_port, pcmu(self.rtp), gw_host=gw_host)
        self.gw_rtp = (re.search(r"c=IN IP4 (\S+)", answer).group(1), rawcaller.media_port(answer))
        self.sender = Sender(self.rtp, BYTE)

    def echo(self, seconds):
        """Sends PCMU for `seconds`; how many of its packets came back."""
        got, end, nxt = [], time.time() + seconds, time.time()
        while time.time() < end:
            if time.time() >= nxt:
                try:
                    self.rtp.sendto(self.sender.packet(), self.gw_rtp)
                except OSError:
                    pass   # a cut link: "Network is unreachable"
                nxt += 0.02
            try:
                while True:
                    got.append(self.rtp.recv(2048)[12:])
            except OSError:   # BlockingIOError included
                pass
            time.sleep(0.005)
        return has(got, BYTE)

    def wait_bye(self, timeout, send_rtp=True, answer=True):
        """Goes on sending RTP (unless send_rtp=False) until the gateway's BYE
        comes; answers it 200 (unless answer=False). Returns (arrival time,
        its headers), or (None, None)."""
        end, nxt = time.time() + timeout, time.time()
        while time.time() < end:
            if send_rtp and time.time() >= nxt:
                try:
                    self.rtp.sendto(self.sender.packet(), self.gw_rtp)
                except OSError:
                    pass   # e.g. ICMP port unreachable from a dead relay, reported on the next send
                nxt += 0.02
            try:
                data, addr = self.sip.recvfrom(65535)
            except BlockingIOError:
                time.sleep(0.005)
                continue
            except OSError:
                continue
            msg = data.decode(errors="replace")
            first, h, _ = rawcaller.parse(msg)
            if first.startswith("SIP/2.0") or first.startswith("ACK"):
                continue
            if answer:
                rawcaller.reply_200(self.sip, msg, addr)
            if first.startswith("BYE "):
                return time.time(), h
        return None, None

    def close(self):
        self.sip.close()
        self.rtp.close()


def check_reason(h, what):
    reasons = h.get("reason", [])
    mgwtest.check(len(reasons) == 1 and REASON.match(reasons[0]),
                  f"{what}: the BYE says why: Reason: {reasons} (RFC 3326; Q.850 cause 102, rtp-timeout)")


def ended_reasons(procs, gw):
    return re.findall(r"reason=\(string\)\"?([^;\"]+)", "\n".join(sigtest.events(procs, gw, "call.ended")))


def wait_log(procs, gw, pattern, timeout):
    """The time `pattern` appeared in the gateway's log (polled), or None."""
    end = time.time() + timeout
    while time.time() < end:
        if re.search(pattern, procs.output(gw)):
            return time.time()
        time.sleep(0.02)
    return None


def wait_ended(procs, gw, count, timeout):
    """The time the gateway's `count`th call.ended appeared (polled), or None."""
    end = time.time() + timeout
    while True:
        if len(sigtest.events(procs, gw, "call.ended")) >= count:
            return time.time()
        if time.time() >= end:
            return None
        time.sleep(0.02)


def next_call(gw_port, bound, host="127.0.0.1", gw_host="127.0.0.1", socks_fn=None):
    """INVITEs (a new caller each time) until one is answered 200 within
    `bound` s; returns (the call or None, seconds waited, refusals seen)."""
    t0, refusals = time.time(), []
    while time.time() - t0 < bound:
        socks = socks_fn() if socks_fn else (rawcaller.udp(host=host), rawcaller.udp(host=host))
        status, _, body, d = rawcaller.send_invite(socks[0], gw_port, pcmu(socks[1]), timeout=2, gw_host=gw_host)
        if status == 200:
            call = Call.__new__(Call)
            call.sip, call.rtp, call.dialog = socks[0], socks[1], d
            call.gw_rtp = (re.search(r"c=IN IP4 (\S+)", body).group(1), rawcaller.media_port(body))
            call.sender = Sender(call.rtp, BYTE)
            return call, time.time() - t0, refusals
        refusals.append(status)
        for s in socks:
            s.close()
        time.sleep(0.5)
    return None, time.time() - t0, refusals


def finish(call, what):
    mgwtest.check(rawcaller.bye(call.sip, call.dialog, cseq=2) == 200, f"{what}: our BYE answered 200")
    call.close()


# --- turn: coturn killed mid-call ---------------------------------------------

def turn(procs, wd):
    mgwtest.require_tools("turnserver")
    check = mgwtest.check
    coturn, turn_port = start_coturn(procs, wd)
    relay0 = coturn.relay_ports.start
    gw_port = mgwtest.free_port()
    gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", TURN_PIPELINE, "-v", "--set", f"sip.rtp_timeout={RTP_TIMEOUT}"],
                     env={"SIP_LISTEN": f"udp:127.0.0.1:{gw_port}", "TURN_SERVER": f"turn:127.0.0.1:{turn_port}?transport=udp",
                          "TURN_SECRET": SECRET})
    check(procs.wait_for_output(gw, r"listening on sip:", 15), "the turn-echo gateway starts")

    call = Call(gw_port)
    check(call.gw_rtp[1] in coturn.relay_ports, f"the answer announces a relayed port ({call.gw_rtp})")
    n = call.echo(2.0)
    check(n >= 80, f"the caller's PCMU comes back through the relay ({n} of ~100)")
    procs.stop(coturn, signal.SIGKILL)
    t0 = time.time()
    mgwtest.log("coturn SIGKILLed mid-call")
    t_bye, h = call.wait_bye(NOTICE_BOUND + 3)
    check(t_bye is not None, "the gateway sends a BYE")
    measured("TURN server killed -> BYE at the caller", t_bye - t0)
    check(t_bye - t0 <= NOTICE_BOUND, f"within rtp_timeout + 2 = {NOTICE_BOUND} s ({t_bye - t0:.2f} s)")
    check_reason(h, "TURN killed")
    t_end = wait_ended(procs, gw, 1, 3)
    check(t_end is not None, "call.ended logged")
    measured("TURN server killed -> call.ended", t_end - t0)
    check(t_end - t0 <= NOTICE_BOUND + 0.5, f"call.ended within rtp_timeout + 2 s of the kill ({t_end - t0:.2f} s)")
    check(ended_reasons(procs, gw) == ["rtp-timeout"], f"reason rtp-timeout ({ended_reasons(procs, gw)})")
    call.close()
    check(sigtest.still_running(gw), "the gateway keeps running (re-armed)")

    coturn2, port2 = start_coturn(procs, wd, name="coturn-restarted", port=turn_port, relay=relay0)
    check(port2 == turn_port, f"coturn restarted on the same port {turn_port}")
    call, waited, refusals = next_call(gw_port, 5)
    check(call is not None, f"the next call is answered ({waited:.1f} s, refusals {refusals})")
    check(call.gw_rtp[1] in coturn2.relay_ports, f"through the restarted coturn's relay ({call.gw_rtp})")
    n = call.echo(2.0)
    check(n >= 80, f"the next call is echoed through the relay ({n} of ~100)")
    finish(call, "next call")
    check(wait_ended(procs, gw, 2, 5), "the next call ended")
    time.sleep(0.3)
    check(re.search(r"ALLOCATE processed, success", procs.output(coturn2)), "the restarted coturn logged the allocation")
    check(procs.stop(gw) == 0, "the gateway stops cleanly")


# --- link: the network link cut mid-call --------------------------------------

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
GW_ADDR, CALLER_ADDR = "10.201.0.2", "10.201.0.1"


def in_netns(ns, fn):
    """fn() on a thread inside network namespace `ns` (sockets it makes stay there)."""
    out = {}

    def run():
        fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns {ns}")
            out["v"] = fn()
        except BaseException as e:   # handed to the caller
            out["e"] = e
        finally:
            os.close(fd)
    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "e" in out:
        raise out["e"]
    return out["v"]


def ip(*args):
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")


class Link:
    """Namespaces <tag>g (the gateway, veth g0 GW_ADDR) and <tag>c (the
    caller, veth c0 CALLER_ADDR), one veth pair between them; gone at exit."""

    def __init__(self):
        tag = f"mgf{os.getpid()}"
        self.gw_ns, self.caller_ns, self.made = tag + "g", tag + "c", []

    def __enter__(self):
        if os.geteuid() != 0:
            mgwtest.skip("network namespaces need root")
        try:
            for ns in (self.gw_ns, self.caller_ns):
                ip("netns", "add", ns)
                self.made.append(ns)
                ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", self.gw_ns, "link", "add", "g0", "type", "veth", "peer", "name", "c0", "netns", self.caller_ns)
            for ns, dev, addr in ((self.gw_ns, "g0", GW_ADDR), (self.caller_ns, "c0", CALLER_ADDR)):
                ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
                ip("-n", ns, "link", "set", dev, "up")
            # The caller's MAC address pinned: as with a peer behind a router,
            # a cut further away gives the gateway no local error (no ARP
            # failure, no "host unreachable" for its BYE): its packets vanish.
            shown = subprocess.run(["ip", "-n", self.caller_ns, "-j", "link", "show", "c0"], capture_output=True, text=True)
            mac = json.loads(shown.stdout)[0]["address"]
            ip("-n", self.gw_ns, "neigh", "replace", CALLER_ADDR, "lladdr", mac, "dev", "g0", "nud", "permanent")
        except RuntimeError as e:
            self.__exit__()
            mgwtest.skip(f"cannot make the namespaces: {e}")
        return self

    def set(self, up):
        ip("-n", self.caller_ns, "link", "set", "c0", "up" if up else "down")

    def __exit__(self, *exc):
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.made = []


def link(procs, wd, strict):
    mgwtest.require_tools("ip")
    check = mgwtest.check
    with Link() as net:
        gw_port = 5060   # the namespace is ours: every port is free
        gw = procs.start("gateway", ["ip", "netns", "exec", net.gw_ns, mgwtest.MEDIAGW, "run", siptest.PIPELINE,
                                     "-v", "--set", "sip.codecs=PCMU", "--set", f"sip.rtp_timeout={RTP_TIMEOUT}"],
                         env={"SIP_LISTEN": f"udp:{GW_ADDR}:{gw_port}"})
        try:
            check(procs.wait_for_output(gw, r"listening on sip:", 15), "the gateway starts in its namespace")
            socks = lambda: in_netns(net.caller_ns, lambda: (rawcaller.udp(host=CALLER_ADDR), rawcaller.udp(host=CALLER_ADDR)))
            call = Call(gw_port, gw_host=GW_ADDR, socks=socks())
            check(call.gw_rtp[0] == GW_ADDR, f"the gateway's RTP is on its veth address ({call.gw_rtp})")
            n = call.echo(2.0)
            check(n >= 80, f"the caller's PCMU comes back across the veth pair ({n} of ~100)")
            net.set(False)
            t0 = time.time()
            mgwtest.log("the caller's end of the link set down mid-call")
            call.echo(0.5)   # the caller talks on, into the cut link
            t_hang = wait_log(procs, gw, r"no RTP for \d+ s: hanging up", NOTICE_BOUND + 2)
            check(t_hang is not None, "the gateway notices the silence and hangs up")
            measured("link cut -> the gateway hangs up (BYE sent)", t_hang - t0)
            check(t_hang - t0 <= NOTICE_BOUND, f"within rtp_timeout + 2 = {NOTICE_BOUND} s ({t_hang - t0:.2f} s)")
            if strict:   # the link stays down: call.ended should not wait for the BYE's answer
                t_end = wait_ended(procs, gw, 1, max(0.0, NOTICE_BOUND - (time.time() - t0)))
                if t_end is None:
                    late = wait_ended(procs, gw, 1, TIMER_F + 5)
                    measured("link cut -> call.ended, the link still down", (late or time.time()) - t0)
                check(t_end is not None, f"call.ended within rtp_timeout + 2 = {NOTICE_BOUND} s of the cut, the link "
                                         f"still down (known bug: it waits for the BYE's transaction, ~{TIMER_F} s)")
                measured("link cut -> call.ended, the link still down", t_end - t0)
            mgwtest.log(f"call.ended before the link is restored: {bool(sigtest.events(procs, gw, 'call.ended'))}")
            net.set(True)
            t_up = time.time()
            t_bye, h = call.wait_bye(6, send_rtp=False)
            if not strict:
                check(t_bye is not None, "with the link back, the caller gets the gateway's BYE (a retransmission)")
                measured("link restored -> the BYE's retransmission at the caller", t_bye - t_up)
                check_reason(h, "link cut")
            t_end = wait_ended(procs, gw, 1, 5)
            check(t_end is not None, "call.ended logged")
            measured("link cut -> call.ended (the link restored after the hang-up)", t_end - t0)
            check(strict or t_end - t0 <= NOTICE_BOUND + 4,
                  f"within rtp_timeout + 2 s + 4 s (T2, the longest gap between the BYE's retransmissions) "
                  f"of the cut ({t_end - t0:.2f} s)")
            check(ended_reasons(procs, gw) == ["rtp-timeout"], f"reason rtp-timeout ({ended_reasons(procs, gw)})")
            call.close()

            nxt, waited, refusals = next_call(gw_port, 5, gw_host=GW_ADDR, socks_fn=socks)
            check(nxt is not None, f"the next call is answered ({waited:.1f} s, refusals {refusals})")
            n = nxt.echo(2.0)
            check(n >= 80, f"the next call is echoed across the restored link ({n} of ~100)")
            finish(nxt, "next call")
            check(procs.stop(gw) == 0, "the gateway stops cleanly")
        finally:
            procs.stop(gw)


# --- silent: the SIP peer stops sending RTP and answering ----------------------

def silent(procs, wd, strict):
    check = mgwtest.check
    gw, gw_port = sigtest.gateway(procs, ["codecs=PCMU", f"rtp_timeout={RTP_TIMEOUT}"])
    call = Call(gw_port)
    n = call.echo(2.0)
    check(n >= 80, f"the caller's PCMU is echoed ({n} of ~100)")
    t0 = time.time()   # its last RTP; from now on it neither sends nor answers
    t_bye, h = call.wait_bye(NOTICE_BOUND + 3, send_rtp=False, answer=False)
    check(t_bye is not None, "the gateway sends a BYE")
    measured("peer silent -> BYE", t_bye - t0)
    check(t_bye - t0 <= NOTICE_BOUND, f"within rtp_timeout + 2 = {NOTICE_BOUND} s of the last RTP ({t_bye - t0:.2f} s)")
    check_reason(h, "silent peer")

    bound = 5 if strict else TIMER_F + 3
    nxt, waited, refusals = next_call(gw_port, bound + 1 - (time.time() - t_bye))
    busy = time.time() - t_bye
    measured("BYE unanswered -> the next call is answered" if nxt else "BYE unanswered -> still busy after", busy)
    mgwtest.log(f"refusals meanwhile: {len(refusals)} x {sorted(set(refusals), key=str)}")
    t_end = wait_ended(procs, gw, 1, 1)
    if t_end:
        measured("peer silent -> call.ended", t_end - t0)
    check(nxt is not None and busy <= bound,
          f"the next call is answered within {bound} s of the unanswered BYE ({busy:.1f} s)")
    check(set(refusals) <= {486}, f"meanwhile new callers get 486 Busy Here ({sorted(set(refusals), key=str)})")
    check(t_end is not None and ended_reasons(procs, gw) == ["rtp-timeout"],
          f"call.ended logged, reason rtp-timeout ({ended_reasons(procs, gw)})")
    n = nxt.echo(2.0)
    check(n >= 80, f"the next call is echoed ({n} of ~100)")
    finish(nxt, "next call")
    call.close()
    check(procs.stop(gw) == 0, "the gateway stops cleanly")


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "turn"
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        if what == "turn":
            turn(procs, wd)
        elif what == "link":
            link(procs, wd, True)
        elif what == "silent":
            silent(procs, wd, True)
        else:
            mgwtest.fail(f"unknown scenario {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
