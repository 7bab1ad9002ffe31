"""Drive a baresip user agent from an integration test (stdlib only).

    bs = Baresip(procs, workdir, tone_wav="/tmp/t.wav", codecs="PCMU")
    bs.start()
    bs.dial("sip:echo@127.0.0.1:5060")
    bs.wait_event("CALL_ESTABLISHED", 10)
    time.sleep(4)
    bs.hangup()
    bs.wait_event("CALL_CLOSED", 5)
    wav = bs.received_wav()       # what baresip heard (sndfile module)

baresip gets a private config dir, listens for SIP and for its ctrl_tcp
module on free loopback ports, sends `tone_wav` (must be 8 kHz mono: aufile
refuses other rates) and records what it receives with the sndfile module
(`snd_path`: one dump-*-dec.wav per call, next to a -enc.wav of what it sent).
There is no sound device: the player is aubridge with no matching source.

Control is baresip's ctrl_tcp: JSON in netstrings, both ways. Commands get
`{"response":true,"ok":...,"token":...}`; events arrive as
`{"event":true,"type":"CALL_ESTABLISHED",...}`.
"""
import glob
import json
import os
import socket
import threading
import time

import mgwtest

MODULE_PATH = "/usr/lib/baresip/modules"


class Baresip:
    def __init__(self, procs, workdir, name="baresip", tone_wav=None, codecs=None, user="alice",
                 video_codecs=None, video_source=None, extra_config=(), account_params="", address="127.0.0.1",
                 prefix=()):
        self.procs = procs
        self.name = name
        self.dir = os.path.join(workdir, name)
        self.snd_dir = os.path.join(self.dir, "snd")
        os.makedirs(self.snd_dir, exist_ok=True)
        self.tone_wav = tone_wav
        self.codecs = codecs          # e.g. "PCMU" or "opus/48000/2" (account param)
        # Video: the account's video_codecs (e.g. "VP8"; "*" = every one loaded) and a source
        # ("fakevideo,nil" or "avformat,lavfi,testsrc2=..."); None = audio only.
        self.video_codecs = video_codecs
        self.video_source = video_source
        self.extra_config = list(extra_config)
        self.account_params = account_params   # more account params, e.g. ";mediaenc=srtp-mand"
        self.user = user
        self.address = address        # SIP and RTP address (ctrl_tcp stays on 127.0.0.1)
        self.prefix = list(prefix)    # command prefix, e.g. ["ip", "netns", "exec", NS]
        self.sip_port = mgwtest.free_port(host=address)
        self.ctrl_port = mgwtest.free_port()
        self.proc = None
        self.sock = None
        self.events = []              # every event dict received, in order
        self.responses = {}           # token -> response dict
        self._cond = threading.Condition()
        self._token = 0
        self._reader = None

    # --- setup -------------------------------------------------------------
    def write_config(self):
        src = f"aufile,{self.tone_wav}" if self.tone_wav else "aubridge,nil"
        lines = [
            ("poll_method", "epoll"),
            ("sip_listen", f"{self.address}:{self.sip_port}"),
            ("sip_trans_def", "udp"),
            ("net_interface", self.address),
            ("audio_player", "aubridge,nil"),
            ("audio_source", src),
            ("audio_alert", "aubridge,nil"),
            ("audio_srate", "8000"),          # baresip < 1.0
            ("audio_channels", "1"),
            ("ausrc_srate", "8000"),          # baresip 1.x: aufile reads an 8 kHz wav, baresip resamples
            ("ausrc_channels", "1"),
            ("rtp_timeout", "0"),
            ("rtp_ports", "33000-60000"),    # clear of the ports tests hand out (mgwtest.free_port)
            ("module_path", MODULE_PATH),
            ("module", "g711.so"),
            ("module", "g722.so"),
            ("module", "opus.so"),
            ("module", "aufile.so"),
            ("module", "aubridge.so"),
            ("module", "sndfile.so"),
            ("module_app", "account.so"),
            ("module_app", "menu.so"),        # provides dial/hangup/quit
            ("module_app", "ctrl_tcp.so"),
            ("ctrl_tcp_listen", f"127.0.0.1:{self.ctrl_port}"),
            ("snd_path", self.snd_dir),
        ]
        if self.video_codecs:
            lines += [
                ("module", "avcodec.so"),       # H.264
                ("module", "vp8.so"),
                ("module", "fakevideo.so"),
                ("video_source", self.video_source or "fakevideo,nil"),
                ("video_display", "fakevideo,nil"),
                ("video_size", "320x240"),
                ("video_fps", "15"),
                ("video_bitrate", "300000"),
            ]
            if self.video_source and self.video_source.startswith("avformat"):
                lines.append(("module", "avformat.so"))
        lines += list(self.extra_config)
        with open(os.path.join(self.dir, "config"), "w") as f:
            for k, v in lines:
                f.write(f"{k}\t\t{v}\n")
        params = ";regint=0"
        if self.codecs:
            params += f";audio_codecs={self.codecs}"
        if self.video_codecs and self.video_codecs != "*":
            params += f";video_codecs={self.video_codecs}"
        params += self.account_params
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write(f"<sip:{self.user}@{self.address}:{self.sip_port}>{params}\n")
        # baresip creates these itself when missing; keep it quiet.
        open(os.path.join(self.dir, "contacts"), "a").close()

    def start(self, timeout=10):
        self.write_config()
        self.proc = self.procs.start(self.name, self.prefix + ["baresip", "-v", "-f", self.dir])
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early ({self.proc.returncode})")
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{self.name}: ctrl_tcp port {self.ctrl_port} never opened")
        self.sock.settimeout(None)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    # --- ctrl_tcp ----------------------------------------------------------
    def _read_loop(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                with self._cond:
                    self.events.append({"type": "_CTRL_CLOSED"})
                    self._cond.notify_all()
                return
            buf += data
            while True:
                colon = buf.find(b":")
                if colon < 0:
                    break
                try:
                    n = int(buf[:colon])
                except ValueError:
                    buf = b""       # desynchronised: drop it
                    break
                if len(buf) < colon + 1 + n + 1:
                    break
                payload = buf[colon + 1:colon + 1 + n]
                buf = buf[colon + 1 + n + 1:]     # skip the trailing ','
                try:
                    msg = json.loads(payload.decode(errors="replace"))
                except ValueError:
                    continue
                with self._cond:
                    if msg.get("response"):
                        self.responses[msg.get("token")] = msg
                    elif msg.get("event"):
                        self.events.append(msg)
                        mgwtest.log(f"{self.name} event: {msg.get('type')} {msg.get('param', '')}")
                    self._cond.notify_all()

    def command(self, command, params="", timeout=5):
        with self._cond:
            self._token += 1
            token = f"t{self._token}"
        msg = json.dumps({"command": command, "params": params, "token": token}).encode()
        self.sock.sendall(str(len(msg)).encode() + b":" + msg + b",")
        deadline = time.time() + timeout
        with self._cond:
            while token not in self.responses:
                left = deadline - time.time()
                if left <= 0:
                    raise RuntimeError(f"{self.name}: no response to {command} {params}")
                self._cond.wait(left)
            return self.responses[token]

    def wait_event(self, etype, timeout, since=0):
        """First event of type `etype` at index >= since, or None on timeout."""
        deadline = time.time() + timeout
        with self._cond:
            while True:
                for ev in self.events[since:]:
                    if ev.get("type") == etype:
                        return ev
                left = deadline - time.time()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def event_types(self):
        with self._cond:
            return [e.get("type") for e in self.events]

    def dial(self, uri):
        return self.command("dial", uri)

    def hangup(self):
        return self.command("hangup")

    def quit(self):
        try:
            self.command("quit", timeout=2)
        except (OSError, RuntimeError):
            pass
        if self.proc:
            try:
                self.proc.wait(5)
            except Exception:
                pass

    # --- results -----------------------------------------------------------
    def received_wav(self):
        """The wav of decoded received audio from the last call, or None."""
        files = sorted(glob.glob(os.path.join(self.snd_dir, "*-dec.wav")), key=os.path.getmtime)
        return files[-1] if files else None

    def sent_wav(self):
        files = sorted(glob.glob(os.path.join(self.snd_dir, "*-enc.wav")), key=os.path.getmtime)
        return files[-1] if files else None
