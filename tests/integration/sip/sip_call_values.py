#!/usr/bin/env python3
"""Call-time values: a node started on the call gets what the INVITE said.
A raw caller dials sip:room-1234@ with an X-Room header and a display name;
the event-timer node started on sip/call.incoming emits them in its event
fields (${sip.user}, ${sip.header.x-room}, ${sip.from_name}, ${sip.source}),
next to "$${...}" (a literal) and ${ENV} (resolved at load). A second call
without the header, after the re-arm, gets the default: the first call's
values are gone. `mediagw validate` names an undeclared value's place."""
import os
import re
import subprocess

import mgwtest
import siptest
from rawcaller import bye, send_invite, udp

HERE = os.path.dirname(os.path.abspath(__file__))
PIPELINE = os.path.join(HERE, "call-values.toml")
AUDIO = "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"


def reports(procs, gw):
    return re.findall(r"\[event\] report/test\.values, (.*)", procs.output(gw))


def field(report, name):
    m = re.search(r'\b' + name + r'=\(string\)(?:"((?:[^"\\]|\\.)*)"|([^,;]*))', report)
    return (m.group(1) if m.group(1) is not None else m.group(2)).replace('\\', '') if m else None


def call(procs, gw, port, count, **invite):
    sip = udp()
    status, _, _, d = send_invite(sip, port, AUDIO, **invite)
    mgwtest.check(status == 200, f"call {count} answered ({status})")
    mgwtest.check(procs.wait_for_output(gw, r"report/test\.values" + r"(.|\n)*report/test\.values" * (count - 1), 10),
                  f"the report node emitted its event for call {count}")
    bye(sip, d)
    sip.close()
    return reports(procs, gw)[count - 1]


def main():
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
        port = mgwtest.free_port()
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", PIPELINE, "-v"],
                         env={"SIP_LISTEN": f"udp:127.0.0.1:{port}", "CALL_VALUES_ENV": "from-env"})
        mgwtest.check(procs.wait_for_output(gw, r"listening on sip:", 20), "the gateway listens")

        first = call(procs, gw, port, 1, request_user="room-1234", headers="X-Room: 42 \r\n",
                     display="Alice Example")
        mgwtest.log(f"first call: {first}")
        mgwtest.check(field(first, "user") == "room-1234", "${sip.user} is the request-URI's user")
        mgwtest.check(field(first, "room") == "42", "${sip.header.x-room} is the X-Room header")
        mgwtest.check(field(first, "name") == "Alice Example", "${sip.from_name} is From's display name")
        mgwtest.check(field(first, "source") == "127.0.0.1", "${sip.source} is the INVITE's source address")
        mgwtest.check(field(first, "literal") == "${sip.user}", "$${...} stays a literal")
        mgwtest.check(field(first, "env") == "from-env", "${ENV} is resolved at load")
        values_line = re.search(r"\[event\] sip/values.*", procs.output(gw)).group(0)
        mgwtest.check("room-1234" not in values_line and "Alice" not in values_line,
                      f"the values event logs names, not values ({values_line})")

        second = call(procs, gw, port, 2, request_user="lobby")
        mgwtest.log(f"second call: {second}")
        mgwtest.check(field(second, "user") == "lobby", "the second call has its own ${sip.user}")
        mgwtest.check(field(second, "room") == "no room", "a value the call lacks takes its default")

        bad = os.path.join(wd, "bad.toml")
        with open(PIPELINE) as f:
            text = f.read().replace("${sip.user}", "${sip.usr}", 1)
        with open(bad, "w") as f:
            f.write(text)
        v = subprocess.run([mgwtest.MEDIAGW, "validate", bad], capture_output=True, text=True,
                           env=dict(os.environ, SIP_LISTEN="udp:127.0.0.1:5060", CALL_VALUES_ENV="x"))
        mgwtest.log(v.stderr.strip())
        mgwtest.check(v.returncode != 0 and re.search(r"bad\.toml:\d+:\d+: .*\$\{sip\.usr\}.*publishes no value 'usr'"
                                                      r".*did you mean 'user'", v.stderr.replace("\n", " ")),
                      "validate names the undeclared value with its position")


main()
