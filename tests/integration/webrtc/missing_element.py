#!/usr/bin/env python3
"""An exception on a GStreamer streaming thread becomes the node's failure:
the gateway serves the grid layout without GStreamer's VPX plugin (hidden:
its pattern goes out as H.264), a WHIP publisher (tests/lib/webrtcpeer.py)
sends VP8, and the decoder the node builds in webrtcbin's pad-added is
missing. The gateway exits 1 with an error naming the node, the callback
and the element - not an abort from an exception unwinding through C.
"""
import glob
import os
import re
import signal
import subprocess
import sys

import mgwtest

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(mgwtest.SOURCE_ROOT, "tests", "lib", "webrtcpeer.py")
GST_DIR = "/usr/lib/x86_64-linux-gnu/gstreamer-1.0"
HIDDEN = "libgstvpx.so"


def main():
    check = mgwtest.check
    if not os.path.exists(os.path.join(GST_DIR, HIDDEN)):
        mgwtest.skip(f"no {GST_DIR}/{HIDDEN} to hide")
    with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs:
        plugins = os.path.join(wd, "gst-plugins")
        os.makedirs(plugins)
        for lib in glob.glob(os.path.join(GST_DIR, "*.so")):
            if os.path.basename(lib) != HIDDEN:
                os.symlink(lib, os.path.join(plugins, os.path.basename(lib)))
        pipeline = os.path.join(wd, "grid.toml")
        with open(os.path.join(HERE, "serve-tone.toml")) as f, open(pipeline, "w") as out:
            out.write(f.read().replace('signalling = "serve"', 'signalling = "serve"\nvideo_layout = "grid"'))
        port = mgwtest.free_port()
        gw = procs.start("gateway", [mgwtest.MEDIAGW, "run", pipeline, "-v"],
                         env={"HTTP_LISTEN": f"127.0.0.1:{port}", "GST_PLUGIN_SYSTEM_PATH_1_0": plugins,
                              "GST_PLUGIN_PATH_1_0": "", "GST_REGISTRY_1_0": os.path.join(wd, "registry.bin")})
        if not procs.wait_for_output(gw, r"serving the call on", 20):
            mgwtest.fail("the gateway never served HTTP")
        peer = subprocess.run([sys.executable, PEER, "whip", f"http://127.0.0.1:{port}/whip", "--video",
                               "--seconds", "3"], capture_output=True, text=True, timeout=40)
        if "No module named 'gi'" in peer.stderr:
            mgwtest.skip("GStreamer python bindings missing (python3-gi)")
        try:
            rc = gw.wait(20)
        except subprocess.TimeoutExpired:
            rc = None
        out = procs.output(gw)
        check(rc == 1, f"the gateway exits 1 (exit {rc}; {-rc if rc and rc < 0 else ''} "
                       f"{signal.Signals(-rc).name if rc and rc < 0 else ''})")
        check("terminate called" not in out, "no exception reached std::terminate")
        check(re.search(r"node 'web': webrtcbin pad-added: GStreamer element 'vp8dec' is missing", out),
              "the error names the node, the callback and the missing element")
    return 0


if __name__ == "__main__":
    sys.exit(main())
