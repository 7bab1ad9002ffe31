"""Pieces shared by the browser-capture tests (pipelines/sip-to-browser-room.toml).

- start_room_gateway(): the pipeline on a free SIP port, aimed at a room page.
- chromium_pids(): the gateway's Chromium and every process of its group.
- no_processes_left(): none of them is alive any more.
- heard_frequency(): the tone a selenium participant hears in a stream.
- caller_sees(): the size of what the caller decodes (baresip snapshot).
- exits_clean(): after the call, the gateway exits 0 and its Chromium is gone.
"""
import os
import re
import time

import browser
import mgwtest

PIPELINE = os.path.join(mgwtest.SOURCE_ROOT, "pipelines", "sip-to-browser-room.toml")


def start_room_gateway(procs, name, url, join="", env=None, extra=()):
    """Returns (process, sip port); waits until it listens for SIP."""
    sip_port = mgwtest.free_port()
    e = {"SIP_LISTEN": f"udp:127.0.0.1:{sip_port}", "ROOM_URL": url, "JOIN": join}
    e.update(env or {})
    gw = procs.start(name, [mgwtest.MEDIAGW, "run", PIPELINE, "-v", *extra], env=e)
    if not procs.wait_for_output(gw, r"listening on sip:", 15):
        mgwtest.fail(f"{name} never listened for SIP")
    return gw, sip_port


def chromium_pid(procs, gw, timeout=15):
    m = procs.wait_for_output(gw, r"Chromium started \(pid (\d+)\)", timeout)
    if not m:
        mgwtest.fail("the gateway never started Chromium")
    return int(re.search(r"Chromium started \(pid (\d+)\)", procs.output(gw)).group(1))


def browser_pids(gw_pid, chromium):
    """Chromium's process group plus every process below the gateway but the
    gateway's own threads: what must be gone once the gateway is."""
    pids = set(group_pids(chromium)) | {chromium}
    pids |= {p for p in browser._descendants(gw_pid)}
    return sorted(pids)


def group_pids(pgid):
    """Every live process whose process group is `pgid`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return pids


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        left = [p for p in pids if alive(p)]
        if not left:
            return []
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def event_lines(procs, gw, node, name):
    return re.findall(r"\[event\] " + re.escape(node) + "/" + re.escape(name) + r"(?:, (.*))?", procs.output(gw))


def heard_frequency(b, stream_js, tries=8):
    """Dominant frequency (Hz) a selenium Browser hears in the MediaStream
    `stream_js` evaluates to; None: silence on every try (media may take a
    moment after connecting)."""
    for _ in range(tries):
        r = b.js(f"return ({browser.DOMINANT_FREQUENCY_JS})({stream_js}, 1500)")
        if r and r.get("hz"):
            return r["hz"]
    return None


def caller_sees(caller, wd, name="caller"):
    """(width, height) of the video the baresip `caller` decodes now, or None."""
    shot = os.path.join(wd, f"{name}-sees.png")
    caller.command("snapshot_recv", shot)
    time.sleep(1)
    return mgwtest.png_size(shot)


def exits_clean(gw, tree, who="the gateway"):
    """After its call: `gw` exits 0 (one call per process) and none of the
    processes of `tree` (browser_pids) is left."""
    try:
        gw.wait(15)
    except Exception:
        pass
    mgwtest.check(gw.poll() == 0, f"{who} exits 0 after the call ({gw.poll()})")
    left = wait_gone(tree)
    mgwtest.check(not left, f"no process of {who}'s Chromium is left ({len(tree)} checked, {left})")
