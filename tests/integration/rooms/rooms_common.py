"""Pieces shared by the room-choosing tests (this folder): the room
directory's table, gateways of pipelines/sip-ivr-to-janus.toml and
sip-route-to-janus.toml, a "listener" gateway joined directly to a Janus
room whose baresip caller records what the room says, sipp callers built
per test (SIP INFO digits, X-Room headers, an RTP tone from a pcap), and
the Reason header of the gateway's BYE or refusal seen on the wire.
"""
import os
import re
import sys
import time

import mgwtest
import rtp_pcap

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sip"))
import siptest  # noqa: E402  (tests/integration/sip: sipp helpers)
from baresip import Baresip
from rtpsniff import RtpSniffer

SOURCE = mgwtest.SOURCE_ROOT
IVR_PIPELINE = os.path.join(SOURCE, "pipelines", "sip-ivr-to-janus.toml")
ROUTE_PIPELINE = os.path.join(SOURCE, "pipelines", "sip-route-to-janus.toml")

# A gateway joined to one room with its PIN: what its caller hears is what
# the room says (scripts/bench.d/sip-to-janus.toml with a PIN).
LISTENER = """
[gateway]
name = "listener"
after_call = "exit"

[node.sip]
plugin = "sip-sofia"
listen = "${SIP_LISTEN}"
codecs = ["PCMU"]
video_codecs = []
hangup_on = ["web/room.failed"]
inputs = { audio = "web.audio" }

[node.web]
plugin = "webrtc-direct"
start_on = "sip/call.established"
signalling = "janus"
url = "${JANUS_URL}"
room = "${JANUS_ROOM}"
pin = "${JANUS_PIN:-}"
display = "listener"
inputs = { audio = "sip.audio" }
"""


def write_table(wd, rooms):
    """rooms: {key: {"pin": ..., "room": ...}} -> path of a TOML room table."""
    path = os.path.join(wd, "rooms.toml")
    with open(path, "w") as f:
        for key, fields in rooms.items():
            f.write(f'[room."{key}"]\n')
            for k, v in fields.items():
                f.write(f'{k} = "{v}"\n')
    return path


def start_gateway(procs, name, pipeline, env, sets=()):
    port = mgwtest.free_port()
    argv = [mgwtest.MEDIAGW, "run", pipeline, "-v"]
    for s in sets:
        argv += ["--set", s]
    gw = procs.start(name, argv, env=dict(env, SIP_LISTEN=f"udp:127.0.0.1:{port}"))
    if not procs.wait_for_output(gw, r"listening on sip:", 20):
        mgwtest.fail(f"{name} never listened for SIP (exit code {gw.poll()}):\n{procs.output(gw)[-3000:]}")
    return gw, port


def tone_caller(procs, wd, name, hz, seconds, uri, refused):
    """A baresip caller (PCMU) sending `hz` that dials `uri`; fails the test
    with `refused()` when the call is not established within 10 s."""
    tone = os.path.join(wd, f"{name}-{hz}.wav")
    mgwtest.make_tone_wav(tone, hz, seconds, rate=8000, volume=0.5)
    bs = Baresip(procs, wd, name=name, tone_wav=tone, codecs="PCMU")
    bs.start()
    bs.dial(uri)
    if not bs.wait_event("CALL_ESTABLISHED", 10):
        mgwtest.fail(refused(bs))
    return bs


class Listener:
    """A gateway in `room` and its baresip caller (sending `hz`), recording."""

    def __init__(self, procs, wd, janus_url, room, pin, hz):
        toml = os.path.join(wd, "listener.toml")
        with open(toml, "w") as f:
            f.write(LISTENER)
        self.gw, port = start_gateway(procs, "listener-gw", toml,
                                      {"JANUS_URL": janus_url, "JANUS_ROOM": str(room), "JANUS_PIN": pin})
        self.bs = tone_caller(procs, wd, "listener", hz, 120, f"sip:listen@127.0.0.1:{port}",
                              lambda bs: "the listener's call was not established")
        self.t0 = time.monotonic()     # its recording starts about now
        if not procs.wait_for_output(self.gw, r"\[event\] web/room\.joined", 15):
            mgwtest.fail(f"the listener did not join room {room}")

    def finish(self):
        """Hangs up; the recording of what the room said."""
        self.bs.hangup()
        self.bs.wait_event("CALL_CLOSED", 5)
        self.bs.quit()
        return self.bs.received_wav()


def ivr_caller_scenario(user, digits, end="bye", hold_s=8, headers=(), pcap=None, expect=200, ringing=False):
    """A sipp UAC scenario: INVITE sip:USER (with `headers`), then each
    digit as a SIP INFO dtmf-relay, 300 ms apart (a "," pauses 1.5 s);
    `end` = "bye": stay `hold_s` s and hang up; "wait-bye": wait for the
    gateway's BYE and answer it; with `expect` != 200 the INVITE must be
    refused with that status (no digits then). `pcap`: RTP played from the
    start (play_pcap_audio). `ringing`: a 180 must come before the final
    answer (a gateway whose answer waits for its room)."""
    hdr = "".join(f"      {h}\n" for h in headers)
    common = ("      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
              "      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"
              f"      To: <sip:{user}@[remote_ip]:[remote_port]>[peer_tag_param]\n"
              "      Call-ID: [call_id]\n")
    out = [f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="room caller">
  <send retrans="500">
    <![CDATA[
      INVITE sip:{user}@[remote_ip]:[remote_port] SIP/2.0
{common}      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
{hdr}      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687638 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=sendrecv
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="{'false' if ringing else 'true'}"/>
"""]
    if expect != 200:
        out.append(f"""  <recv response="{expect}"/>
  <send>
    <![CDATA[
      ACK sip:{user}@[remote_ip]:[remote_port] SIP/2.0
{common}      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
</scenario>
""")
        return "".join(out)
    out.append(f"""  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
{common}      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
""")
    if pcap:
        out.append(f"""  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>
""")
    out.append("""  <pause milliseconds="1000"/>
""")
    cseq = 2
    for i, d in enumerate(digits):
        if d == ",":
            out.append("""  <pause milliseconds="1500"/>
""")
            continue
        out.append(f"""  <send retrans="500">
    <![CDATA[
      INFO [next_url] SIP/2.0
{common}      CSeq: {cseq} INFO
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

Signal={d}
Duration=160
    ]]>
  </send>
  <recv response="200"/>
""")
        if i + 1 < len(digits):   # none after the last: the gateway's BYE may follow at once
            out.append("""  <pause milliseconds="300"/>
""")
        cseq += 1
    if end == "bye":
        out.append(f"""  <pause milliseconds="{int(hold_s * 1000)}"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
{common}      CSeq: {cseq} BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
</scenario>
""")
    else:
        out.append("""  <recv request="BYE" timeout="60000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
</scenario>
""")
    return "".join(out)


def start_sipp(procs, wd, name, port, scenario_xml, timeout=60):
    """sipp running `scenario_xml` against 127.0.0.1:port (not waited for)."""
    d = os.path.join(wd, name)
    os.makedirs(d, exist_ok=True)
    xml = os.path.join(d, "scenario.xml")
    with open(xml, "w") as f:
        f.write(scenario_xml)
    argv = ["sipp", f"127.0.0.1:{port}", "-sf", xml, "-i", "127.0.0.1", "-p", str(mgwtest.free_port()),
            "-mp", str(mgwtest.free_port()), "-m", "1", "-nostdin", "-recv_timeout", "70000",
            "-timeout", str(timeout), "-timeout_error", "-trace_err", "-trace_msg"]
    return procs.start(name, argv, cwd=d)


def tone_pcap(wd, hz, seconds=40):
    path = os.path.join(wd, f"tone-{hz}.pcap")
    rtp_pcap.write_tone_pcap(path, hz, seconds)
    return path


def reason_of(packets, port, method_or_status):
    """The Reason header of the first message from `port` that starts with
    `method_or_status` ("BYE " or "SIP/2.0 480"), or None."""
    for p in packets.packets(sport=port, rtp_only=False):
        if p.payload.startswith(method_or_status.encode()):
            m = re.search(r"^Reason:.*$", p.payload.decode(errors="replace"), re.M | re.I)
            return m.group(0).strip() if m else ""
    return None


def tones_heard(wav):
    """Dominant frequency of each second of a recording (None: silence).
    baresip records only the packets it receives, so a recording's time
    is not the wall clock's: look for a tone, not at a moment."""
    import tonecheck
    out = []
    for start in range(int(tonecheck.seconds(wav))):
        if tonecheck.rms(wav, start, 1.0) > 0.02:
            out.append(tonecheck.tone_frequency(wav, start, 1.0))
        else:
            out.append(None)
    mgwtest.log(f"{os.path.basename(wav)}: {[round(f) if f else None for f in out]}")
    return out


def heard(tones, hz, seconds=2):
    """At least `seconds` one-second blocks of `hz` (within 20 Hz)."""
    return sum(1 for f in tones if f and abs(f - hz) < 20) >= seconds


def event_lines(procs, gw, name):
    """The gateway's `[event] NAME, ...` lines, GstStructure escapes removed."""
    return [line.replace("\\", "") for line in procs.output(gw).splitlines() if f"[event] {name}," in line]


def sniffer(port):
    return RtpSniffer(ports={port})


def wait_sipp(procs, p, timeout):
    try:
        return p.wait(timeout)
    except Exception:
        procs.stop(p)
        return None
