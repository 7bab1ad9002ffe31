"""Pieces shared by the SIP echo gateway tests (this folder only).

- start_gateway(): `$MEDIAGW run pipelines/sip-echo.toml` on a free UDP port,
  waits for its `listening on sip:` line.
- count_events(): how many `[event] sip/call.X` lines the gateway logged.
- sipp_argv(): a sipp command line on free ports that cannot hang forever.
- on_failure(): a context manager that, when the test fails, prints the sipp
  trace files (errors, messages) that Procs does not know about.
"""
import contextlib
import glob
import os
import re
import shutil
import time

import mgwtest

PIPELINE = os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-echo.toml")


def start_gateway(procs, name="gateway", after_call=None, extra=(), timeout=20):
    """Returns (process, sip port)."""
    if not os.path.exists(PIPELINE):
        mgwtest.fail(f"{PIPELINE} does not exist")
    port = mgwtest.free_port()
    argv = [mgwtest.MEDIAGW, "run", PIPELINE]
    if after_call:
        argv += ["--set", f"gateway.after_call={after_call}"]
    argv += list(extra)
    p = procs.start(name, argv, env={"SIP_LISTEN": f"udp:127.0.0.1:{port}"})
    if not procs.wait_for_output(p, r"listening on sip:", timeout):
        mgwtest.fail(f"{name} did not log 'listening on sip:' within {timeout} s "
                     f"(exit code {p.poll()})")
    m = re.search(r"listening on sip:(\S+)", procs.output(p))
    mgwtest.log(f"{name} ready: listening on sip:{m.group(1) if m else '?'} (asked for port {port})")
    return p, port


def start_echo_peer(procs, workdir):
    """The gateway, or (SIPTEST_STANDIN=1, to check the harness itself) a
    `sipp -sn uas -rtp_echo` stand-in, which answers PCMU only and echoes RTP.
    Returns (process, sip port, is_gateway)."""
    if os.environ.get("SIPTEST_STANDIN") != "1":
        p, port = start_gateway(procs)
        return p, port, True
    port, mport = mgwtest.free_port(), mgwtest.free_port()
    p = procs.start("standin-uas", ["sipp", "-sn", "uas", "-rtp_echo", "-i", "127.0.0.1", "-p", str(port),
                                    "-mp", str(mport), "-nostdin", "-trace_err"],
                    cwd=sipp_workdir(workdir, "standin"))
    time.sleep(0.5)
    return p, port, False


def count_events(procs, p, what):
    """Lines of the gateway log carrying `[event] sip/call.<what>`."""
    return len(re.findall(r"\[event\] sip/call\." + re.escape(what) + r"\b", procs.output(p)))


def wait_events(procs, p, what, count, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if count_events(procs, p, what) >= count:
            return True
        time.sleep(0.1)
    return count_events(procs, p, what) >= count


def sipp_argv(target_port, scenario, sip_port, media_port, calls=1, extra=()):
    """sipp as a UAC on loopback; -recv_timeout / -timeout bound every wait."""
    return ["sipp", f"127.0.0.1:{target_port}", "-sn", scenario, "-s", "echo",
            "-i", "127.0.0.1", "-p", str(sip_port), "-mp", str(media_port),
            "-m", str(calls), "-l", "1", "-nostdin",
            "-recv_timeout", "10000", "-timeout", "40", "-timeout_error",
            "-trace_err", "-trace_msg", *extra]


def run_sipp(procs, name, argv, cwd, timeout):
    """Runs sipp to completion; returns its exit code (None if it hung)."""
    p = procs.start(name, argv, cwd=cwd)
    try:
        return p.wait(timeout)
    except Exception:
        procs.stop(p)
        return None


SIPP_EXIT = {0: "all calls succeeded", 1: "at least one call failed", 97: "exit on internal command",
             99: "normal exit without calls processed", 255: "fatal error"}


def describe_sipp_rc(rc):
    return f"{rc} ({SIPP_EXIT.get(rc, 'unknown')})" if rc is not None else "none (sipp hung and was killed)"


@contextlib.contextmanager
def on_failure(workdir):
    """On a failing exit (not a skip), print the sipp trace files."""
    try:
        yield
    except SystemExit as e:
        if e.code not in (0, 77, None):
            dump_traces(workdir)
        raise
    except BaseException:
        dump_traces(workdir)
        raise


def dump_traces(workdir):
    for f in sorted(glob.glob(os.path.join(workdir, "**", "*_errors.log"), recursive=True) +
                    glob.glob(os.path.join(workdir, "**", "*_messages.log"), recursive=True)):
        with open(f, "rb") as fh:
            text = fh.read().decode(errors="replace")
        mgwtest.log(f"--- {os.path.relpath(f, workdir)} (tail):")
        mgwtest.log(text[-6000:])


def require_sipp():
    mgwtest.require_tools("sipp")


def sipp_workdir(workdir, name="sipp"):
    """A folder to run sipp in, with the `pcap` symlink uac_pcap expects."""
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    if not os.path.exists(os.path.join(d, "pcap")):
        if not os.path.isdir("/usr/share/sip-tester"):
            mgwtest.skip("/usr/share/sip-tester (sipp's pcap files, package sip-tester) is missing")
        os.symlink("/usr/share/sip-tester", os.path.join(d, "pcap"))
    return d


def have(tool):
    return shutil.which(tool) is not None
