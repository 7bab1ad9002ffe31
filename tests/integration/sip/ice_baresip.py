#!/usr/bin/env python3
"""ICE on the SIP leg (sip-sofia with media_nat = "ice") against baresip's
ice module (`medianat=ice`), inside a private network namespace.

Why a namespace: baresip's ice module gathers on every interface but
loopback, and this machine's own addresses must not carry test traffic. The
script re-runs itself under `unshare -n` (the namespace and its veth pair
vanish with it); inside, the gateway's RTP lives on 10.77.0.1 and baresip on
10.77.0.2, both ends of one veth pair, with accept_local (libnice binds each
socket to its interface and would drop packets between two local addresses).
SIP stays on loopback for the hand-written caller (rawcaller.py).

Asserted:
  - the gateway maps libnice only once a call does ICE (its ICE agent is a
    module loaded on demand);
  - a hand-written INVITE with ICE attributes gets an answer with
    a=ice-ufrag, a=ice-pwd and host candidates on 10.77.0.1 whose RTP one is
    the default in c=/m=; offered a=rtcp-mux is answered, with no RTCP
    component candidates then; an INVITE without ICE gets no ICE attributes;
  - baresip with medianat=ice calls the echo gateway: the gateway logs "ICE:
    completed for audio", baresip's checks succeed, the 1000 Hz tone comes
    back; the same with SDES-SRTP (`mediaenc=srtp-mand`), and with rtcp-mux
    offered (answered; RTCP shares the RTP component);
  - the gateway dials baresip (our offer, controlling): ICE completes, the
    tone comes back;
  - a plain baresip (no ICE) still gets its tone back over plain RTP, and
    no ICE agent is started for it; dialling a plain baresip, our ICE offer
    gets an answer without ICE: plain RTP to its address (the fallback);
  - with a turn node (coturn, relay-only): our only candidates are relayed,
    ICE completes over the relay, the tone comes back, the allocations are
    given back after the call.
"""
import os
import re
import shutil
import subprocess
import sys
import time

import mgwtest
import rawcaller
import siptest
import tonecheck
from baresip import Baresip
from coturn import SECRET, start_coturn

HERE = os.path.dirname(os.path.abspath(__file__))
PIPELINE = os.path.join(HERE, "ice-echo.toml")
TURN_PIPELINE = os.path.join(HERE, "ice-turn-echo.toml")
GW_IP, PEER_IP = "10.77.0.1", "10.77.0.2"
TONE_HZ = 1000
SETUP = f"""set -e
ip link set lo up
ip link add ice0 type veth peer name ice1
ip addr add {GW_IP}/24 dev ice0
ip addr add {PEER_IP}/24 dev ice1
ip link set ice0 up
ip link set ice1 up
for i in all ice0 ice1; do
  sysctl -qw net.ipv4.conf.$i.accept_local=1 net.ipv4.conf.$i.rp_filter=0
done
"""


def enter_namespace():
    """Runs this script again in a new network namespace; returns its status."""
    if os.geteuid() != 0:
        mgwtest.skip("network namespaces need root")
    for tool in ("unshare", "ip", "sysctl"):
        if not shutil.which(tool):
            mgwtest.skip(f"{tool} is missing")
    script = SETUP + 'exec "$@"\n'
    return subprocess.call(["unshare", "-n", "sh", "-c", script, "sh", sys.executable, *sys.argv],
                           env=dict(os.environ, ICE_TEST_NAMESPACE="1"))


def start_gateway(procs, name, dial="", pipeline=PIPELINE, env=None):
    port = mgwtest.free_port()
    gw = procs.start(name, [mgwtest.MEDIAGW, "run", pipeline, "-v"],
                     env=dict(env or {}, SIP_LISTEN=f"udp:0.0.0.0:{port}", RTP_ADDRESS=GW_IP, DIAL=dial))
    if not procs.wait_for_output(gw, r"listening on sip:", 15):
        mgwtest.fail(f"{name} did not start")
    return gw, port


def check_clean(procs, gw, what):
    """No GLib/GStreamer criticals or warnings in a gateway's log."""
    bad = re.findall(r".*-(?:CRITICAL|WARNING) \*\*.*", procs.output(gw))
    mgwtest.check(not bad, f"{what}: no GLib criticals or warnings in the gateway's log {bad[:3]}")


def check_tone(wav, what):
    check = mgwtest.check
    check(wav is not None, f"{what}: baresip recorded what it received")
    length = tonecheck.seconds(wav)
    start, dur = 0.5, min(3.0, length - 0.5)
    check(dur > 1.5, f"{what}: {length:.2f} s of audio received")
    level, freq = tonecheck.rms(wav, start, dur), tonecheck.tone_frequency(wav, start, dur)
    mgwtest.log(f"{what}: RMS {level:.3f}, {freq} Hz")
    check(level > 0.05 and freq is not None and abs(freq - TONE_HZ) <= 0.02 * TONE_HZ,
          f"{what}: the {TONE_HZ} Hz tone comes back (RMS {level:.3f}, {freq and round(freq, 1)} Hz)")


def mapped(proc, name):
    """Whether process `proc` has a file whose name contains `name` mapped."""
    with open(f"/proc/{proc.pid}/maps") as f:
        return name in f.read()


def sdp_checks(procs, gw, gw_port):
    """Hand-written offers: what our answer says about ICE."""
    check = mgwtest.check
    sip = rawcaller.udp()
    rtp, rtcp = rawcaller.rtp_pair()
    try:
        port = rtp.getsockname()[1]
        ice = ("a=ice-ufrag:Rk9x\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
               f"a=candidate:1 1 UDP 2130706431 127.0.0.1 {port} typ host\r\n"
               f"a=candidate:1 2 UDP 2130706430 127.0.0.1 {port + 1} typ host\r\n")
        answer, d = rawcaller.invite(sip, gw_port, f"m=audio {port} RTP/AVP 0\r\n{ice}a=rtcp-mux\r\n")
        mgwtest.log("answer to an ICE offer:\n" + answer)
        cands = re.findall(r"a=candidate:\S+ (\d) UDP \d+ (\S+) (\d+) typ (\w+)", answer)
        check(re.search(r"a=ice-ufrag:\S+", answer) and re.search(r"a=ice-pwd:\S{22,}", answer),
              "the answer has a=ice-ufrag and a=ice-pwd")
        check(any(c == ("1", GW_IP, c[2], "host") for c in cands),
              f"the answer has a host candidate on {GW_IP} ({cands})")
        m = re.search(r"m=audio (\d+) ", answer)
        check(f"c=IN IP4 {GW_IP}" in answer and m and ("1", GW_IP, m.group(1), "host") in cands,
              "c=/m= carry the RTP host candidate (the default candidate)")
        check("a=rtcp-mux" in answer and all(c[0] == "1" for c in cands),
              "offered rtcp-mux is answered, without RTCP candidates")
        rawcaller.bye(sip, d)
        siptest.wait_events(procs, gw, "ended", 1, 5)

        answer, d = rawcaller.invite(sip, gw_port, f"m=audio {port} RTP/AVP 0\r\n")
        check("a=candidate" not in answer and "a=ice-ufrag" not in answer,
              "an offer without ICE gets an answer without ICE attributes")
        rawcaller.bye(sip, d)
    finally:
        for s in (sip, rtp, rtcp):
            s.close()


def tone_call(procs, wd, gw, gw_port, tone, name, ice, params="", modules=(), config=()):
    """baresip calls the echo gateway; returns the Baresip (events, output)."""
    check = mgwtest.check
    params = (";medianat=ice" if ice else "") + params
    bs = Baresip(procs, wd, name=name, tone_wav=tone, codecs="PCMU", address=PEER_IP, account_params=params,
                 extra_config=[("module", m) for m in (["ice.so"] if ice else []) + list(modules)] + list(config))
    bs.start()
    bs.dial(f"sip:echo@{GW_IP}:{gw_port}")
    check(bs.wait_event("CALL_ESTABLISHED", 10), f"{name}: the call is established")
    time.sleep(4)
    bs.hangup()
    check(bs.wait_event("CALL_CLOSED", 5), f"{name}: the call closes")
    bs.quit()
    check_tone(bs.received_wav(), name)
    return bs


def dial_call(procs, wd, tone, ice):
    """The gateway offers ICE to baresip (auto answer): we control; a
    baresip without ICE answers without it, and gets plain RTP."""
    check = mgwtest.check
    what = "dial" if ice else "dial-plain"
    bs = Baresip(procs, wd, name=f"baresip-{what}", tone_wav=tone, codecs="PCMU", address=PEER_IP, user="bob",
                 account_params=(";medianat=ice" if ice else "") + ";answermode=auto",
                 extra_config=[("module", "ice.so")] if ice else [])
    bs.start()
    gw, _ = start_gateway(procs, f"gateway-{what}", dial=f"sip:bob@{PEER_IP}:{bs.sip_port}")
    check(bs.wait_event("CALL_ESTABLISHED", 10), f"{what}: baresip answered the gateway's ICE offer")
    if ice:
        check(procs.wait_for_output(gw, r"ICE: completed for audio", 8), f"{what}: the gateway logs ICE completed")
    time.sleep(4)
    bs.hangup()
    check(bs.wait_event("CALL_CLOSED", 5), f"{what}: the call closes")
    bs.quit()
    log = procs.output(gw)
    if ice:
        check("as the controlling agent" in log, f"{what}: the gateway is the controlling agent")
    else:
        check(re.search(r"ICE: audio: the peer has no ICE attributes: plain RTP to 10\.77\.0\.2:\d+", log),
              f"{what}: the gateway falls back to plain RTP to the answer's address")
    check_tone(bs.received_wav(), what)
    check(procs.stop(gw) == 0, f"{what}: the gateway stops cleanly")
    check_clean(procs, gw, what)


def relay_call(procs, wd, tone):
    """A turn node with relay-only: our only candidates are relayed ones on
    coturn (here on the gateway's address), and the echo crosses the relay."""
    check = mgwtest.check
    coturn, turn_port = start_coturn(procs, wd, listen_ip=GW_IP)
    gw, gw_port = start_gateway(procs, "gateway-relay", pipeline=TURN_PIPELINE,
                                env={"TURN_SERVER": f"turn:{GW_IP}:{turn_port}?transport=udp", "TURN_SECRET": SECRET})
    out = procs.output(tone_call(procs, wd, gw, gw_port, tone, "baresip-relay", ice=True).proc)
    check(siptest.wait_events(procs, gw, "ended", 1, 5), "relay: the gateway ended the call")
    log = procs.output(gw)
    m = re.search(r"ICE: audio: \d+ candidates \(RTP: relay 10\.77\.0\.1:(\d+)\)", log)
    check(m and int(m.group(1)) in coturn.relay_ports,
          f"relay: the only RTP candidate is relayed by coturn ({m and m.group(1)} in {coturn.relay_ports})")
    check(re.search(r"ICE: completed for audio \(RTP relay 10\.77\.0\.1:\d+ <-> host", log),
          "relay: ICE completed over the relayed candidate")
    check(re.search(r"Set default remote candidate: relay:10\.77\.0\.1:\d+", out) or
          re.search(r"Set default remote candidate: \S+:10\.77\.0\.1:" + (m.group(1) if m else "x"), out),
          "relay: baresip's default remote candidate is our relayed one")
    check(SECRET not in log, "relay: the shared secret is not in the gateway's log")
    check(procs.stop(gw) == 0, "relay: the gateway stops cleanly")
    check_clean(procs, gw, "relay")
    time.sleep(0.5)
    turn_log = procs.output(coturn)
    check(re.search(r"ALLOCATE processed, success", turn_log), "relay: coturn logs the allocations")
    check(re.search(r"refreshed, .*lifetime=0", turn_log), "relay: the allocations are given back")


def main():
    mgwtest.require_tools("baresip", "sox")
    if not os.path.exists("/usr/lib/baresip/modules/ice.so"):
        mgwtest.skip("baresip's ice.so is missing")
    if not os.environ.get("ICE_TEST_NAMESPACE"):
        return enter_namespace()
    check = mgwtest.check
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        tone = os.path.join(wd, "tone.wav")
        mgwtest.make_tone_wav(tone, TONE_HZ, 30, rate=8000, volume=0.5)
        gw, gw_port = start_gateway(procs, "gateway")
        # The ICE agent's module (libnice and what it loads) comes with the first call that does ICE.
        check(not mapped(gw, "libnice"), "before any ICE call the gateway has not loaded libnice")

        sdp_checks(procs, gw, gw_port)
        check(mapped(gw, "libmgw-sip-sofia-ice.so") and mapped(gw, "libnice"),
              "an ICE offer loaded the ICE module and libnice")

        out = procs.output(tone_call(procs, wd, gw, gw_port, tone, "baresip-ice", ice=True).proc)
        check(siptest.wait_events(procs, gw, "ended", 3, 5), "the gateway ended the ICE call")
        log = procs.output(gw)
        check(re.search(r"ICE: completed for audio \(RTP host 10\.77\.0\.1:\d+ <-> host 10\.77\.0\.[12]:\d+\)", log),
              "the gateway logs ICE completed between the namespace's addresses (baresip has both)")
        check("as the controlled agent" in log, "answering, the gateway is the controlled agent")
        check(re.search(r"Set default remote candidate: host:10\.77\.0\.1:\d+", out),
              "baresip read our candidates (its default remote one is our host candidate)")
        check(re.search(r"FSM:\s+InProgress ===> Succeeded", out), "baresip's checks succeeded")

        # SDES-SRTP over ICE: the caps of the SRTP sources go through nicesrc too.
        tone_call(procs, wd, gw, gw_port, tone, "baresip-ice-srtp", ice=True, params=";mediaenc=srtp-mand",
                  modules=["srtp.so"])
        check(siptest.wait_events(procs, gw, "ended", 4, 5), "the gateway ended the ICE call with SRTP")
        check(re.search(r"media: PCMU/8000 \(pt 0, telephone-event, SRTP AES_CM_128_HMAC_SHA1_\d+\) from 10\.77",
                        procs.output(gw)), "the ICE call with SRTP negotiated SDES-SRTP")
        log = procs.output(gw)

        # rtcp-mux offered: RTCP shares the RTP component both ways.
        bs = tone_call(procs, wd, gw, gw_port, tone, "baresip-ice-mux", ice=True, config=[("rtcp_mux", "yes")])
        check(siptest.wait_events(procs, gw, "ended", 5, 5), "the gateway ended the ICE call with rtcp-mux")
        check(re.search(r"ICE: audio: checking \d+ remote candidates as the controlled agent, rtcp-mux",
                        procs.output(gw)), "the gateway took the offered rtcp-mux")
        check("CALL_RTCP" in bs.event_types(), "baresip got RTCP from the gateway over the RTP component")
        log = procs.output(gw)

        tone_call(procs, wd, gw, gw_port, tone, "baresip-plain", ice=False)
        check(siptest.wait_events(procs, gw, "ended", 6, 5), "the gateway ended the plain call")
        check(procs.output(gw).count("ICE:") == log.count("ICE:"), "the plain call started no ICE agent")
        check(procs.stop(gw) == 0, "the gateway stops cleanly")
        check_clean(procs, gw, "answering")

        dial_call(procs, wd, tone, ice=True)
        dial_call(procs, wd, tone, ice=False)
        if shutil.which("turnserver"):
            relay_call(procs, wd, tone)
        else:
            mgwtest.log("turnserver (coturn) is missing: relayed candidates not tested")
    return 0


if __name__ == "__main__":
    sys.exit(main())
