"""Conference rooms for browser-capture's join scripts (conf/join/), and a
replay of a join script in a selenium-driven Chromium.

    browser.enter_private_netns()
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        server = janus.Server(procs, wd).start()
        url = rooms.janus_demo(procs, wd, server) + "?room=4321"
        url = rooms.easyrtc(procs, wd)             # open-easyrtc's demo_multiparty
        with browser.Browser(wd) as b:
            b.open(url)
            room = rooms.run_join_script(b, "janus-videoroom", display_name="gateway")
            room.wait_participants(lambda n, names: "alice" in names)

run_join_script() evaluates the exact JS of the C++ runner (build/tests/unit/
join-dump prints it) with the runner's rules: waits, clicks and types are
polled every 200 ms until true within the step's timeout; an eval runs once
(retried only after a navigation); sleep sleeps.

`python3 tests/lib/rooms.py janus|easyrtc|serve` checks a shipped script
against the real page (a second participant in the room, the participants
seen, the mute action, leave); see conf/join/README.md.
"""
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402
import mgwtest  # noqa: E402

JANUS_DEMOS = "/usr/share/janus/demos"
EASYRTC_VERSION = "2.1.8"


def _build_root():
    return mgwtest.BUILD_ROOT or os.path.join(mgwtest.SOURCE_ROOT, "build")


def _easyrtc_dir():
    return os.path.join(_build_root(), "open-easyrtc", "node_modules", "open-easyrtc")


def require_janus_demos():
    """Skip (77) without Debian's janus-demos."""
    if not os.path.exists(os.path.join(JANUS_DEMOS, "videoroomtest.html")):
        mgwtest.skip(f"missing janus-demos ({JANUS_DEMOS}/videoroomtest.html; scripts/setup installs it)")


def require_easyrtc():
    """Skip (77) without node or open-easyrtc in BUILD/open-easyrtc."""
    mgwtest.require_tools("node")
    server = os.path.join(_easyrtc_dir(), "server_example", "server.js")
    if not os.path.exists(server):
        mgwtest.skip(f"missing open-easyrtc {EASYRTC_VERSION} ({server}; scripts/setup installs it with npm)")


def _serve_folder(procs, folder, name):
    """A static HTTP server on 127.0.0.1 (a secure context for getUserMedia)."""
    port = mgwtest.free_port("tcp")
    p = procs.start(name, [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", folder,
                           str(port)])
    if not procs.wait_for_output(p, r"Serving HTTP", 10):
        mgwtest.fail(f"{name}: the HTTP server did not start")
    return port


def janus_demo(procs, workdir, server):
    """Debian's janus-demos over HTTP on 127.0.0.1, with a settings.js that
    points at `server` (a janus.Server; Debian's own settings.js is broken:
    token undefined). Returns the videoroomtest.html URL (add ?room=N)."""
    require_janus_demos()
    overlay = os.path.join(workdir, "janus-demos")
    os.makedirs(overlay, exist_ok=True)
    for entry in os.listdir(JANUS_DEMOS):
        if entry != "settings.js":
            os.symlink(os.path.join(JANUS_DEMOS, entry), os.path.join(overlay, entry))
    with open(os.path.join(overlay, "settings.js"), "w") as f:
        f.write(f"var server = {json.dumps(server.url)};\nvar iceServers = [];\nvar token = null, apisecret = null;\n")
    port = _serve_folder(procs, overlay, "janus-demos-http")
    return f"http://127.0.0.1:{port}/videoroomtest.html"


def easyrtc(procs, workdir):
    """open-easyrtc's server_example (HTTP, a free port on 127.0.0.1);
    returns the demo_multiparty.html URL."""
    require_easyrtc()
    port = mgwtest.free_port("tcp")
    folder = os.path.join(_easyrtc_dir(), "server_example")
    p = procs.start("easyrtc", ["node", "server.js"], cwd=folder,
                    env={"HTTP_ONLY": "true", "PORT": str(port), "NODE_ENV": "production"})
    if not procs.wait_for_output(p, r"listening on", 15):
        mgwtest.fail("open-easyrtc's server_example did not start")
    return f"http://127.0.0.1:{port}/demos/demo_multiparty.html"


# --- join scripts in a selenium browser ---------------------------------------

def dump_join_script(script, **variables):
    """The runner's expressions for `script` (a name or a path) as a dict."""
    tool = os.path.join(_build_root(), "tests", "unit", "join-dump")
    if not os.access(tool, os.X_OK):
        mgwtest.skip(f"missing {tool} (ninja -C build)")
    r = subprocess.run([tool, script] + [f"{k}={v}" for k, v in variables.items()], capture_output=True, text=True)
    if r.returncode != 0:
        mgwtest.fail(f"join-dump {script}: {r.stderr.strip()}")
    return json.loads(r.stdout)


_TRANSIENT = ("Execution context was destroyed", "Cannot find context", "Inspected target navigated or closed",
              "no such execution context", "unload", "detached")


def _evaluate(b, expression):
    """(ok, value or error text): the expression in the page's global scope,
    a promise awaited (WebDriver awaits what the script returns)."""
    try:
        return True, b.driver.execute_script("return (0, eval)(arguments[0]);", expression)
    except Exception as e:   # a JS exception or a navigation
        return False, (getattr(e, "msg", None) or str(e)).splitlines()[0]


class JoinFailed(Exception):
    def __init__(self, step, reason):
        super().__init__(f"step '{step}': {reason}")
        self.step, self.reason = step, reason


class JoinedRoom:
    def __init__(self, b, dump):
        self.b, self.dump = b, dump

    def participants(self):
        """(count, names) now, or None when the page cannot tell."""
        if not self.dump["participants"]:
            return None
        ok, v = _evaluate(self.b, self.dump["participants"])
        return (v[0], v[1]) if ok and v and v[0] >= 0 else None

    def wait_participants(self, pred, timeout=20):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.participants()
            if last and pred(*last):
                return last
            time.sleep(1)   # the runner polls once a second
        mgwtest.fail(f"participants never matched; last seen: {last}")

    def action(self, key):
        """Runs the action of a DTMF key; True when it did something."""
        a = self.dump["actions"].get(key)
        if not a:
            mgwtest.fail(f"no action for {key}")
        ok, v = _evaluate(self.b, a["expression"])
        if not ok:
            mgwtest.fail(f"action {a['name']} threw: {v}")
        return v is True

    def leave(self):
        if self.dump["leave"]:
            ok, v = _evaluate(self.b, self.dump["leave"])
            mgwtest.log(f"leave: {'ok' if ok else 'error: ' + v}")


def run_join_script(b, script, poll=0.2, **variables):
    """Runs a join script's steps in the page open in `b` (a browser.Browser);
    returns a JoinedRoom, or raises JoinFailed(step, reason)."""
    dump = dump_join_script(script, **variables)
    for st in dump["steps"]:
        t0 = time.monotonic()
        if st["kind"] == "sleep":
            time.sleep(st["seconds"])
            continue
        deadline = t0 + st["timeout"]
        last = "the page did not answer"
        while True:
            ok, v = _evaluate(b, st["expression"])
            if ok and (st["kind"] == "eval" or v is True):
                break
            if not ok and st["kind"] == "eval" and not any(t in v for t in _TRANSIENT):
                raise JoinFailed(st["name"], f"eval threw: {v}")
            last = f"last value: {json.dumps(v)}" if ok else f"last error: {v}"
            if time.monotonic() > deadline:
                raise JoinFailed(st["name"], f"timed out after {st['timeout']} s ({last})")
            time.sleep(poll)
        mgwtest.log(f"ok: join step '{st['name']}' ({st['kind']}) done in {time.monotonic() - t0:.1f} s")
    return JoinedRoom(b, dump)


# --- checks of the shipped scripts against the real pages ---------------------

def _join(b, script, name):
    try:
        return run_join_script(b, script, display_name=name)
    except JoinFailed as e:
        b.screenshot(os.path.join(b.workdir, "failed.png"))
        mgwtest.fail(f"{script}: {e}")


def check_janus(wd, procs):
    import janus
    janus.require_janus()
    require_janus_demos()
    server = janus.Server(procs, wd).start()
    admin = janus.Session(server.url)
    admin.create_room(4321)
    url = janus_demo(procs, wd, server) + "?room=4321"
    with janus.Participant(wd, server.url, 4321, None, "alice", mic_hz=440) as alice:
        gw_dir = os.path.join(wd, "gw")
        os.makedirs(gw_dir)
        with browser.Browser(gw_dir) as b:
            b.open(url)
            room = _join(b, "janus-videoroom", "gateway")
            mgwtest.check(admin.wait_publisher(4321, "gateway") is not None, "Janus lists the publisher 'gateway'")
            alice.wait_feed("gateway")
            mgwtest.log("ok: alice receives the gateway's feed")
            n, names = room.wait_participants(lambda n, names: n == 1 and names == ["alice"])
            mgwtest.check((n, names) == (1, ["alice"]), f"participants: {n} {names}")
            mgwtest.check(room.action("*6") and b.js("return sfutest.isAudioMuted()") is True, "*6 mutes")
            mgwtest.check(room.action("*6") and b.js("return sfutest.isAudioMuted()") is False, "*6 again unmutes")
            room.leave()
            deadline = time.monotonic() + 10
            while any(p.get("display") == "gateway" for p in admin.participants(4321)):
                if time.monotonic() > deadline:
                    mgwtest.fail("the gateway is still in the room after leave")
                time.sleep(0.3)
            mgwtest.log("ok: leave: the gateway is gone from the room")
            alice.wait_feed_gone("gateway")
            mgwtest.log("ok: alice no longer sees the gateway")
    admin.destroy_room(4321)
    admin.destroy()


def check_easyrtc(wd, procs):
    require_easyrtc()
    url = easyrtc(procs, wd)
    other_dir, gw_dir = os.path.join(wd, "other"), os.path.join(wd, "gw")
    os.makedirs(other_dir)
    os.makedirs(gw_dir)
    with browser.Browser(other_dir) as other:
        other.open(url)
        other.wait_js("window.easyrtc && easyrtc.myEasyrtcid", 20, "the other participant connects")
        other_id = other.js("return easyrtc.myEasyrtcid")
        with browser.Browser(gw_dir) as b:
            b.open(url)
            room = _join(b, "easyrtc-multiparty", "gateway")
            n, names = room.wait_participants(lambda n, names: n == 1)
            mgwtest.check(names == [other_id], f"participants: {n} {names} (the other is {other_id})")
            other.wait_js("easyrtc.getConnectionCount() == 1 && easyrtc.idToName(easyrtc.getIthCaller(0)) == 'gateway'",
                          20, "the other participant is connected to 'gateway'")
            mgwtest.log("ok: the other participant sees 'gateway'")
            room.action("*6")
            mgwtest.check(b.js("return easyrtc.getLocalStream().getAudioTracks()[0].enabled") is False, "*6 mutes")
            room.action("*6")
            mgwtest.check(b.js("return easyrtc.getLocalStream().getAudioTracks()[0].enabled") is True, "*6 unmutes")
            room.leave()
            other.wait_js("easyrtc.getConnectionCount() == 0", 15, "the other participant sees the gateway leave")
            mgwtest.log("ok: leave: the other participant lost the gateway")


def check_serve(wd, procs):
    mediagw = os.path.join(_build_root(), "core", "cli", "mediagw")
    if not os.access(mediagw, os.X_OK):
        mgwtest.skip(f"missing {mediagw}")
    port = mgwtest.free_port("tcp")
    gw = procs.start("mediagw", [mediagw, "run", os.path.join(mgwtest.SOURCE_ROOT, "tests", "integration", "webrtc",
                                                                "serve-tone.toml")],
                     env={"HTTP_LISTEN": f"127.0.0.1:{port}"})
    deadline = time.monotonic() + 15
    import urllib.request
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2).read()
            break
        except OSError:
            if time.monotonic() > deadline or gw.poll() is not None:
                mgwtest.fail("the serve gateway did not start: " + procs.output(gw)[-2000:])
            time.sleep(0.2)
    with browser.Browser(wd) as b:
        b.open(f"http://127.0.0.1:{port}/")
        room = _join(b, "serve", "gateway")
        n, names = room.wait_participants(lambda n, names: n == 1)
        mgwtest.log(f"ok: participants: {n} {names}")
        mgwtest.check(room.action("*6") is True and b.js("return mgw.localStream.getAudioTracks()[0].enabled") is False,
                      "*6 mutes the microphone")
        mgwtest.check(room.action("*6") is True and b.js("return mgw.localStream.getAudioTracks()[0].enabled") is True,
                      "*6 unmutes it")
        room.leave()
        mgwtest.check(b.js("return mgw.state") == "left", "leave: the page has left")


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    checks = {"janus": check_janus, "easyrtc": check_easyrtc, "serve": check_serve}
    if which not in checks:
        print("usage: rooms.py janus|easyrtc|serve", file=sys.stderr)
        sys.exit(2)
    browser.require_browser()
    browser.enter_private_netns()
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        checks[which](wd, procs)
    mgwtest.log(f"PASS: {which}")
