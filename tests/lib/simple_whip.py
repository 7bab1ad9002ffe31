"""Debian's simple-whip-server (Meetecho's WHIP server, a Janus videoroom
publisher per WHIP endpoint) for tests.

    whip = simple_whip.Server(procs, wd, janus_server.ws_url).start()
    url = whip.create_endpoint("gw", room=4321, pin="2468", label="SIP caller", token="s3cret")
    ...                                  # a WHIP client publishes to url
    procs.wait_for_output(whip.proc, simple_whip.SESSION_ENDED, 10)

It talks to Janus over the WebSocket transport (janus.Server(websockets=True)).
Where it lives: /usr/share/simple-whip-server (the Debian package) or, where
apt cannot install it (a non-Debian Node.js, see scripts/setup), unpacked in
BUILD/simple-whip-server with its Node modules from npm. Its configuration is
a JS module beside server.js (`require('./config.js')`), so the two sources
are copied into the workdir next to a generated config.js.
"""
import json
import os
import shutil
import urllib.request

import mgwtest

SESSION_ENDED = r"Terminating WHIP session"   # its log line for a DELETE of the resource
_INSTALLS = [  # (folder with src/, NODE_PATH)
    ("/usr/share/simple-whip-server", "/usr/share/nodejs:/usr/lib/nodejs"),
    (os.path.join(mgwtest.BUILD_ROOT, "simple-whip-server", "root", "usr", "share", "simple-whip-server"),
     os.path.join(mgwtest.BUILD_ROOT, "simple-whip-server", "node_modules")),
]


def find_install():
    """(folder, NODE_PATH) of an installed simple-whip-server, or skip (77)."""
    for folder, node_path in _INSTALLS:
        if os.path.exists(os.path.join(folder, "src", "server.js")) and os.path.isdir(node_path.split(":")[0]):
            return folder, node_path
    mgwtest.skip("simple-whip-server is not installed (scripts/setup installs it)")


class Server:
    def __init__(self, procs, workdir, janus_ws_url):
        mgwtest.require_tools("node")
        self.procs = procs
        self.src, self.node_path = find_install()
        self.dir = os.path.join(workdir, "simple-whip-server")
        self.port = mgwtest.free_port()
        self.janus_ws_url = janus_ws_url
        self.base = f"http://127.0.0.1:{self.port}/whip"
        self.proc = None

    def start(self, timeout=15):
        os.makedirs(os.path.join(self.dir, "src"), exist_ok=True)
        for name in ("server.js", "whip-janus.js"):
            shutil.copy(os.path.join(self.src, "src", name), os.path.join(self.dir, "src", name))
        config = {"janus": {"address": self.janus_ws_url}, "port": self.port, "rest": "/whip",
                  "allowTrickle": True, "strictETags": False, "iceServers": []}
        with open(os.path.join(self.dir, "src", "config.js"), "w") as f:
            f.write("module.exports = " + json.dumps(config, indent=2) + ";\n")
        # whip:info logs endpoints created, published and torn down.
        self.proc = self.procs.start("simple-whip-server", ["node", "src/server.js"], cwd=self.dir, env={
            "NODE_PATH": self.node_path, "NODE_ENV": "production",
            "DEBUG": "whip:*,-whip:debug,janus:*,-janus:debug,-janus:vdebug", "DEBUG_COLORS": "0"})
        if not self.procs.wait_for_output(self.proc, r"WHIP REST API listening", timeout):
            mgwtest.fail(f"simple-whip-server did not start (connected to Janus at {self.janus_ws_url}?)")
        return self

    def create_endpoint(self, endpoint_id, room, pin=None, label=None, token=None):
        """Its non-standard /create: maps a WHIP endpoint to a room; returns the endpoint URL."""
        body = {"id": endpoint_id, "room": room, "pin": pin, "label": label, "token": token}
        req = urllib.request.Request(self.base + "/create", method="POST",
                                     data=json.dumps({k: v for k, v in body.items() if v is not None}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            if r.status != 200:
                mgwtest.fail(f"simple-whip-server /create answered {r.status}")
        return f"{self.base}/endpoint/{endpoint_id}"

    def endpoints(self):
        with urllib.request.urlopen(self.base + "/endpoints", timeout=5) as r:
            return json.load(r)
