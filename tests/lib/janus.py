"""Janus 1.1.2 (videoroom) for tests, a small client of its HTTP API, and a
Chromium participant (janus_peer.html).

    browser.enter_private_netns()                  # Janus and its clients live in it
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        server = janus.Server(procs, wd).start()    # .url = http://10.99.0.1:PORT/janus
        admin = janus.Session(server.url)
        admin.create_room(4321, pin="2468")
        with janus.Participant(wd, server.url, 4321, "2468", "alice", mic_hz=440) as a:
            a.wait_feed("SIP caller")
            a.feed_frequency("SIP caller")         # Hz the page hears from that feed
        admin.destroy_room(4321)
        admin.destroy()

Why the private namespace (peers.md): libnice skips loopback addresses, so
Janus's ICE needs a real interface; browser.enter_private_netns() gives one
(veth v0 = 10.99.0.1, with the accept_local / rp_filter sysctls set). Janus
gathers on v0 only (ice_enforce_list), mDNS is ignored, and every plugin but
videoroom and every transport but HTTP (and WebSockets when asked) is off.
"""
import glob
import http.client
import http.server
import json
import os
import queue
import random
import string
import sys
import threading
import time
import urllib.parse
import urllib.request

import browser
import mgwtest

JANUS = "/usr/bin/janus"
LIB_DIR = "/usr/lib/x86_64-linux-gnu/janus"
ADDRESS, INTERFACE = browser.NETNS_ADDRS[0], "v0"
PEER_PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "janus_peer.html")


def require_janus():
    if not os.access(JANUS, os.X_OK):
        mgwtest.skip("missing janus (scripts/setup installs it)")


def _disable_all_but(folder, keep):
    """Janus's `disable` value: every module in `folder` but those in `keep`."""
    names = sorted({os.path.basename(p).split(".so")[0] + ".so" for p in glob.glob(os.path.join(LIB_DIR, folder, "*.so*"))})
    return ",".join(n for n in names if n not in keep)


class Server:
    """Janus started in the current (private) namespace with configs
    generated into WORKDIR/janus-conf; `stop()` or the Procs ends it."""

    def __init__(self, procs, workdir, websockets=False, session_timeout=60):
        self.procs = procs
        self.confdir = os.path.join(workdir, "janus-conf")
        self.http_port = mgwtest.free_port()
        # RTP ports: a block starting at a reserved port; the namespace is ours
        # alone, so only our own peers could take one (libnice skips a busy port).
        self.rtp_base = mgwtest.free_port()
        self.ws_port = mgwtest.free_port() if websockets else None
        self.session_timeout = session_timeout
        self.url = f"http://{ADDRESS}:{self.http_port}/janus"
        self.ws_url = f"ws://{ADDRESS}:{self.ws_port}" if websockets else None
        self.proc = None

    def write_configs(self):
        os.makedirs(self.confdir, exist_ok=True)
        transports = ["libjanus_http.so"] + (["libjanus_websockets.so"] if self.ws_port else [])
        files = {
            "janus.jcfg": f"""general: {{
    plugins_folder = "{LIB_DIR}/plugins"
    transports_folder = "{LIB_DIR}/transports"
    events_folder = "{LIB_DIR}/events"
    loggers_folder = "{LIB_DIR}/loggers"
    debug_level = 4
    session_timeout = {self.session_timeout}
    interface = "{ADDRESS}"
}}
media: {{
    rtp_port_range = "{self.rtp_base}-{self.rtp_base + 99}"
}}
nat: {{
    ignore_mdns = true
    ice_enforce_list = "{INTERFACE}"
}}
plugins: {{
    disable = "{_disable_all_but("plugins", ["libjanus_videoroom.so"])}"
}}
transports: {{
    disable = "{_disable_all_but("transports", transports)}"
}}
loggers: {{
    disable = "{_disable_all_but("loggers", [])}"
}}
events: {{
    broadcast = false
}}
""",
            # No static room: each test creates its own (with a PIN) through the API.
            "janus.plugin.videoroom.jcfg": "general: {\n    string_ids = false\n}\n",
            "janus.transport.http.jcfg": f"""general: {{
    json = "plain"
    base_path = "/janus"
    http = true
    port = {self.http_port}
    ip = "{ADDRESS}"
    https = false
}}
admin: {{
    admin_http = false
    admin_https = false
}}
""",
        }
        if self.ws_port:
            files["janus.transport.websockets.jcfg"] = f"""general: {{
    json = "plain"
    ws = true
    ws_port = {self.ws_port}
    ws_ip = "{ADDRESS}"
    wss = false
}}
admin: {{
    admin_ws = false
    admin_wss = false
}}
"""
        for name, text in files.items():
            with open(os.path.join(self.confdir, name), "w") as f:
                f.write(text)

    def start(self, timeout=15):
        self.write_configs()
        self.proc = self.procs.start("janus", [JANUS, "-F", self.confdir, "-C", os.path.join(self.confdir, "janus.jcfg"),
                                               "-o"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                mgwtest.fail(f"janus exited ({self.proc.returncode}) while starting")
            try:
                with urllib.request.urlopen(self.url + "/info", timeout=2) as r:
                    info = json.load(r)
                mgwtest.log(f"janus {info.get('version_string')} answers on {self.url}")
                return self
            except (OSError, ValueError):
                time.sleep(0.2)
        mgwtest.fail(f"janus did not answer on {self.url}/info within {timeout} s")

    def stop(self):
        """SIGTERM: Janus closes its sessions and exits 0."""
        return self.procs.stop(self.proc)


class JanusError(RuntimeError):
    pass


def _transaction():
    return "".join(random.choices(string.ascii_letters, k=12))


class Session:
    """One Janus session over the HTTP API (long-poll events, keepalive) with
    a videoroom handle attached: enough to manage rooms and to watch them."""

    def __init__(self, url, token=None):
        self.url = url
        self.token = token
        self.events = queue.Queue()
        self.alive = True
        self.id = self.post("", {"janus": "create"})["data"]["id"]
        self.handle = self.attach()
        threading.Thread(target=self._poll, daemon=True).start()
        threading.Thread(target=self._keepalive, daemon=True).start()

    def post(self, path, body):
        body = dict(body, transaction=_transaction())
        if self.token:
            body["token"] = self.token
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            reply = json.load(r)
        if reply.get("janus") == "error":
            raise JanusError(f"{body.get('janus')}: {reply['error'].get('reason')}")
        return reply

    def attach(self, plugin="janus.plugin.videoroom"):
        return self.post(f"/{self.id}", {"janus": "attach", "plugin": plugin})["data"]["id"]

    def message(self, body, jsep=None, handle=None):
        msg = {"janus": "message", "body": body}
        if jsep:
            msg["jsep"] = jsep
        return self.post(f"/{self.id}/{handle or self.handle}", msg)

    def videoroom(self, body):
        """A synchronous videoroom request: its data, or JanusError."""
        data = self.message(body)["plugindata"]["data"]
        if "error" in data:
            raise JanusError(f"videoroom {body.get('request')}: {data['error']} ({data.get('error_code')})")
        return data

    def _poll(self):
        while self.alive:
            try:
                with urllib.request.urlopen(f"{self.url}/{self.id}?maxev=10", timeout=40) as r:
                    evs = json.load(r)
            except (OSError, ValueError, http.client.HTTPException):   # Janus stopping mid-poll: IncompleteRead
                if self.alive:
                    time.sleep(0.5)
                continue
            for e in evs if isinstance(evs, list) else [evs]:
                if e.get("janus") != "keepalive":
                    self.events.put(e)

    def _keepalive(self):
        while self.alive:
            time.sleep(20)
            try:
                self.post(f"/{self.id}", {"janus": "keepalive"})
            except (OSError, JanusError):
                pass

    def wait_event(self, pred, timeout=15):
        """The first event (from now on) that `pred` accepts, or None."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                e = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if pred(e):
                return e

    def destroy(self):
        self.alive = False
        try:
            self.post(f"/{self.id}", {"janus": "destroy"})
        except (OSError, JanusError):
            pass

    # --- videoroom management -------------------------------------------------
    def create_room(self, room, pin=None, publishers=6, description="mediagw test"):
        body = {"request": "create", "room": room, "description": description, "publishers": publishers,
                "audiocodec": "opus", "videocodec": "vp8,h264", "bitrate": 512000, "fir_freq": 10}
        if pin:
            body["pin"] = pin
        return self.videoroom(body)

    def destroy_room(self, room):
        return self.videoroom({"request": "destroy", "room": room})

    def participants(self, room):
        """[{id, display, publisher, ...}] of the room."""
        return self.videoroom({"request": "listparticipants", "room": room})["participants"]

    def wait_publisher(self, room, display, timeout=15):
        """The publishing participant named `display`, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [p for p in self.participants(room) if p.get("display") == display and p.get("publisher")]
            if found:
                return found[0]
            time.sleep(0.3)
        return None


class _PageServer:
    """janus_peer.html over HTTP on 127.0.0.1 (a secure context for
    getUserMedia; Janus answers the page's cross-origin calls with CORS
    headers). A thread of the test: nothing to clean up but shutdown()."""

    def __init__(self):
        page = open(PEER_PAGE, "rb").read()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", mgwtest.free_port()), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def shutdown(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Participant:
    """A headless Chromium in the room through janus_peer.html: publishes a
    fake camera (moving box, 320x240) and a `mic_hz` tone (unless
    mic_hz=None: watch only) and subscribes to every other publisher.
    A context manager: leaving it destroys the Janus session, then quits."""

    def __init__(self, workdir, janus_url, room, pin, display, mic_hz=None):
        self.display = display
        self.dir = os.path.join(workdir, display)
        os.makedirs(self.dir, exist_ok=True)
        args = {}
        if mic_hz:
            args["fake_audio_wav"] = browser.make_tone_wav(os.path.join(self.dir, "mic.wav"), mic_hz, 60)
            args["fake_video_y4m"] = browser.make_y4m(os.path.join(self.dir, "cam.y4m"), seconds=4)
        self.query = urllib.parse.urlencode({"server": janus_url, "room": room, "pin": pin or "", "display": display,
                                             "publish": "1" if mic_hz else "0"})
        self.browser = browser.Browser(self.dir, **args)
        self.pages = None

    def __enter__(self):
        self.pages = _PageServer()
        try:
            self.browser.start()
            self.browser.open(f"http://127.0.0.1:{self.pages.port}/?{self.query}")
            self.browser.wait_js("jp.state == 'joined' || jp.state == 'failed'", 20, f"{self.display} joins the room")
            state = self.browser.js("return [jp.state, jp.error]")
            if state[0] != "joined":
                mgwtest.fail(f"{self.display}: could not join the room: {state[1]}")
            mgwtest.log(f"ok: {self.display} joined the room (feed {self.browser.js('return jp.feed')})")
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if self.browser.driver is not None:
                self.leave()
        finally:
            self.browser.__exit__(exc_type, exc, tb)
            self.pages.shutdown()

    def leave(self):
        """Destroys the Janus session: our feed leaves the room at once."""
        try:
            self.browser.js("return jp.leave()")
        except Exception as e:   # a failed test may leave a wedged page: quitting follows anyway
            mgwtest.log(f"{self.display}: leave() failed: {e}")

    def js(self, script, *args):
        return self.browser.js(script, *args)

    def _feed_expr(self, display):
        return f"Object.values(jp.feeds).find(f => f.display == {json.dumps(display)} && f.stream)"

    def wait_feed(self, display, timeout=20):
        """Waits until we receive the publisher `display`; returns its feed id."""
        self.browser.wait_js(f"{self._feed_expr(display)} && {self._feed_expr(display)}.pc.connectionState == 'connected'",
                             timeout, f"{self.display} receives {display}")
        return self.browser.js(f"return {self._feed_expr(display)}.id")

    def wait_feed_gone(self, display, timeout=20):
        self.browser.wait_js(f"!{self._feed_expr(display)}", timeout, f"{display} leaves {self.display}'s view")

    def feed_frequency(self, display, tries=8):
        """Dominant frequency (Hz) of the feed's audio; None: silence throughout."""
        for _ in range(tries):
            r = self.js(f"return ({browser.DOMINANT_FREQUENCY_JS})({self._feed_expr(display)}.stream, 1500)")
            if r and r.get("hz"):
                return r["hz"]
        return None

    def feed_video(self, display, min_frames=10, timeout=15):
        """Inbound video stats of the feed once `min_frames` are decoded."""
        pc = f"{self._feed_expr(display)}.pc"
        self.browser.wait_js(f"return ({browser.VIDEO_STATS_JS})({pc}).then(s => s && s.framesDecoded > {min_frames})",
                             timeout, f"{self.display} decodes {display}'s video")
        return self.js(f"return ({browser.VIDEO_STATS_JS})({pc})")
