#!/usr/bin/env python3
"""SIP over TLS: with tls_listen, tls_cert and tls_key (a self-signed
certificate made with openssl) the gateway serves TLS on that port, logs
`listening on sips:`, presents our certificate, answers an OPTIONS sent
over TLS with 200, and still serves plain SIP (UDP and TCP) on `listen`."""
import os
import re
import socket
import ssl
import subprocess

import mgwtest
import sigtest
import siptest

mgwtest.require_tools("openssl")
OPTIONS = ("OPTIONS sip:echo@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bKtls1;rport\r\n"
           "From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:echo@127.0.0.1>\r\nCall-ID: tls-1\r\nCSeq: 1 OPTIONS\r\n"
           "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")

with mgwtest.workdir() as wd, mgwtest.Procs(wd) as procs, siptest.on_failure(wd):
    cert, key = os.path.join(wd, "cert.pem"), os.path.join(wd, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    tls_port = mgwtest.free_port()
    gw, port = sigtest.gateway(procs, [f"tls_listen=127.0.0.1:{tls_port}", f"tls_cert={cert}", f"tls_key={key}"],
                               listen_prefix=None)
    mgwtest.check(f"listening on sips:127.0.0.1:{tls_port}" in procs.output(gw), "logged the TLS port")
    mgwtest.check(f"listening on sip:127.0.0.1:{port}" in procs.output(gw), "logged the plain port")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cert)
    ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as raw, ctx.wrap_socket(raw) as s:
        mgwtest.check(s.version() is not None, f"TLS handshake with our certificate ({s.version()})")
        s.sendall(OPTIONS.encode())
        s.settimeout(5)
        reply = s.recv(65536).decode(errors="replace")
    mgwtest.check(re.match(r"SIP/2\.0 200", reply) is not None, f"OPTIONS over TLS answered 200 ({reply[:20]!r})")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(OPTIONS.replace("TLS", "TCP").encode())
        s.settimeout(5)
        mgwtest.check(s.recv(65536).startswith(b"SIP/2.0 200"), "OPTIONS over plain TCP answered 200 too")
    # The same plain listener over UDP: its own Via (sent-by our UDP port, where the answer must come).
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.bind(("127.0.0.1", 0))
        u.settimeout(5)
        via = f"SIP/2.0/UDP 127.0.0.1:{u.getsockname()[1]};branch=z9hG4bKudp1;rport"
        msg = OPTIONS.replace("SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bKtls1;rport", via).replace("tls-1", "udp-1")
        u.sendto(msg.encode(), ("127.0.0.1", port))
        try:
            reply, src = u.recvfrom(65536)
        except socket.timeout:
            reply, src = b"", None
    mgwtest.check(reply.startswith(b"SIP/2.0 200") and b"udp-1" in reply and src == ("127.0.0.1", port),
                  f"OPTIONS over plain UDP answered 200 from the listen port ({reply[:20]!r} from {src})")
    mgwtest.check(sigtest.still_running(gw), "the gateway is still running")
