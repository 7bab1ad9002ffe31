"""coturn (turnserver) for tests, with a shared secret (coturn's REST
scheme, `--use-auth-secret`), verbose so that allocations and channel
bindings are logged.

    coturn, port = start_coturn(procs, wd)                       # loopback
    coturn, port = start_coturn(procs, wd, listen_ip="203.0.113.1", prefix=["ip", "netns", "exec", NS])
    user, password = rest_credentials(SECRET, "x", expiry=1600000000)
"""
import base64
import hashlib
import hmac

import mgwtest

SECRET = "mediagw-test-secret"


def start_coturn(procs, wd, listen_ip="127.0.0.1", secret=SECRET, name="coturn", prefix=(), port=None, relay=None):
    """coturn on a free port of `listen_ip`, relaying from the same address on
    the four ports free_port reserved; `prefix` runs it elsewhere (another
    network namespace, where `listen_ip` lives and its ports are free).
    `port` and `relay` (the first relay port) restart one on the ports an
    earlier one had. Returns (process, port); the relay ports are
    p.relay_ports (a range)."""
    host = "127.0.0.1" if prefix else listen_ip   # free_port checks ports here, in our namespace
    port = port or mgwtest.free_port(host=host)
    relay = relay or mgwtest.free_port(host=host)
    p = procs.start(name, list(prefix) + [
        "turnserver", "-n", "-v", f"--listening-ip={listen_ip}", f"--listening-port={port}", f"--relay-ip={listen_ip}",
        f"--min-port={relay}", f"--max-port={relay + 3}", "--use-auth-secret", f"--static-auth-secret={secret}",
        "--realm=test", f"--userdb={wd}/{name}-db", f"--pidfile={wd}/{name}.pid", "--no-tls", "--no-dtls", "--no-cli",
        "--allow-loopback-peers", "--log-file=stdout", "--simple-log", "--no-stun-backward-compatibility"])
    if not procs.wait_for_output(p, r"listener opened on|Total General servers", 10):
        mgwtest.fail(f"{name} did not start")
    p.relay_ports = range(relay, relay + 4)
    return p, port


def rest_credentials(secret, user, expiry):
    """coturn's REST credentials: ("<expiry>:<user>", base64(HMAC-SHA1(secret, username)))."""
    username = f"{expiry}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()
