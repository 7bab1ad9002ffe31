"""Pieces shared by the SIP signalling tests (this folder only): a gateway
running pipelines/sip-echo.toml with property overrides, and sipp runs of
the scenarios in scenarios/.

- gateway(procs, sets): start it; returns (process, SIP port).
- run_scenario(procs, workdir, port, name): sipp -sf scenarios/NAME.xml as a
  UAC against the gateway; returns sipp's exit code.
- events(procs, p, name): the `[event] sip/NAME` lines of the gateway log.
"""
import os
import re
import time

import mgwtest
import siptest

SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")


def gateway(procs, sets=(), listen_prefix="udp", name="gateway", timeout=20):
    """The echo gateway with `--set sip.K=V` for each "K=V" of `sets`."""
    extra = []
    for s in sets:
        extra += ["--set", s if s.startswith("gateway.") else "sip." + s]
    port = mgwtest.free_port()
    argv = [mgwtest.MEDIAGW, "run", siptest.PIPELINE, "-v", *extra]
    listen = f"{listen_prefix}:127.0.0.1:{port}" if listen_prefix else f"127.0.0.1:{port}"
    p = procs.start(name, argv, env={"SIP_LISTEN": listen})
    if not procs.wait_for_output(p, r"listening on sip:", timeout):
        mgwtest.fail(f"{name} did not log 'listening on sip:' within {timeout} s (exit code {p.poll()})")
    return p, port


def scenario(name):
    return os.path.join(SCENARIOS, name + ".xml")


def sipp_uac(port, name, sip_port=None, media_port=None, extra=()):
    return ["sipp", f"127.0.0.1:{port}", "-sf", scenario(name), "-s", "echo", "-i", "127.0.0.1",
            "-p", str(sip_port or mgwtest.free_port()), "-mp", str(media_port or mgwtest.free_port()),
            "-m", "1", "-nostdin", "-recv_timeout", "10000", "-timeout", "80", "-timeout_error",
            "-trace_err", "-trace_msg", *extra]


def run_scenario(procs, workdir, port, name, timeout=30, extra=()):
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    rc = siptest.run_sipp(procs, "sipp-" + name, sipp_uac(port, name, extra=extra), d, timeout)
    mgwtest.log(f"sipp {name}: exit {siptest.describe_sipp_rc(rc)}")
    return rc


def events(procs, p, name):
    """Texts of the gateway's `[event] sip/NAME` lines (after the name)."""
    return re.findall(r"\[event\] sip/" + re.escape(name) + r"\b(.*)", procs.output(p))


def wait_event(procs, p, name, count=1, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(events(procs, p, name)) >= count:
            return True
        time.sleep(0.1)
    return len(events(procs, p, name)) >= count


def still_running(p):
    return p.poll() is None
