#!/usr/bin/env python3
"""tls-connect: server CPU per TLS handshake, ergo against `openssl
s_server` with the very same certificate and key, in the same run.

    python3 bench/tls_connect.py [-n HANDSHAKES] [-r ROUNDS] [--rsa]

For each server and round: N full handshakes (TLS 1.2, no session
reuse; the client offers X25519 first, as nearly all do), N/4 full
handshakes from a client that offers only P-256, and N resumed
handshakes (the session of one full handshake offered again), and N
TCP connections opened and closed without TLS (what a handshake costs
beyond TLS: accept, close, the kernel's TCP work). The
server's CPU is read from /proc/PID/schedstat (nanoseconds on CPU)
before and after each batch, so the client's own CPU is not in it.
Prints medians over the rounds and ergo's ratio to s_server, then one
RESULT line for bench/run.sh. Loopback only; every process it starts is
stopped by its PID."""

import argparse
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests"))
from ergotest import Server, free_port, wait_for  # noqa: E402


def cpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def client_ctx(curve=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if curve:
        ctx.set_ecdh_curve(curve)	# the only group offered
    return ctx


def handshake(port, ctx, session=None):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = ctx.wrap_socket(raw, session=session)
    reused = s.session_reused
    sess = s.session
    s.close()
    return sess, reused


def tcp_only(port, ctx=None, session=None):
    """A TCP connection opened and closed: what a handshake costs the
    server beyond the TLS (accept, close, the kernel's TCP work)."""
    socket.create_connection(("127.0.0.1", port), timeout=10).close()
    return None, False


def batch(pid, port, ctx, n, resume, fn=handshake):
    """(server CPU us per handshake, handshakes/s wall, resumed count)"""
    sess = None
    if resume:
        sess, _ = handshake(port, ctx)
        time.sleep(0.05)
    c0 = cpu_ns(pid)
    t0 = time.monotonic()
    reused = 0
    for _ in range(n):
        _, r = fn(port, ctx, sess)
        reused += r
    dt = time.monotonic() - t0
    # the last close is handled after the client returns: let it land
    time.sleep(0.05)
    return (cpu_ns(pid) - c0) / 1000.0 / n, n / dt, reused


def openssl_server(d, port):
    p = subprocess.Popen(["openssl", "s_server", "-quiet", "-accept",
                          str(port), "-cert", d + "/c.pem", "-key",
                          d + "/k.pem", "-naccept", "1000000"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)

    def up():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    wait_for(up, 10, "openssl s_server listening")
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=400)
    ap.add_argument("-r", type=int, default=3)
    ap.add_argument("--rsa", action="store_true",
                    help="an RSA-2048 certificate instead of ECDSA P-256")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="ergo-bench-tlsc-")
    newkey = ["-newkey", "rsa:2048"] if a.rsa else \
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    subprocess.run(["openssl", "req", "-x509"] + newkey +
                   ["-nodes", "-keyout", d + "/k.pem", "-out", d + "/c.pem",
                    "-subj", "/CN=localhost", "-days", "2"], check=True,
                   capture_output=True)
    tls_port = free_port()
    srv = Server(server="listen 127.0.0.1:%d { tls { cert %s/c.pem  key "
                 "%s/k.pem } }\nconnection-limits { max-per-ip 0  throttle "
                 "no }\nmax-clients 0" % (tls_port, d, d))
    oport = free_port()
    osrv = openssl_server(d, oport)
    kinds = [("full", None, a.n, False), ("full-p256", "prime256v1",
             max(a.n // 4, 20), False), ("resumed", None, a.n, True),
             ("tcp", None, a.n, False)]
    res = {}
    try:
        for r in range(a.r):
            for name, pid, port in (("ergo", srv.pid, tls_port),
                                    ("openssl", osrv.pid, oport)):
                for kind, curve, n, resume in kinds:
                    us, hs, reused = batch(pid, port, client_ctx(curve), n,
                                           resume, tcp_only if kind == "tcp"
                                           else handshake)
                    res.setdefault((name, kind), []).append((us, hs,
                                                             reused, n))
                    print("round %d %-7s %-9s %7.1f us/handshake %6.0f/s%s"
                          % (r + 1, name, kind, us, hs,
                             " (%d of %d resumed)" % (reused, n)
                             if resume else ""), file=sys.stderr)
    finally:
        osrv.terminate()
        osrv.wait()
        srv.cleanup()
    cert = "RSA-2048" if a.rsa else "ECDSA P-256"
    print("tls-connect: %s certificate, medians of %d rounds, server CPU "
          "per handshake (schedstat)" % (cert, a.r))
    print("| %-22s | %10s | %10s | %6s | %10s |" % ("handshake", "ergo us",
          "openssl us", "ratio", "ergo hs/s"))
    print("|%s|%s|%s|%s|%s|" % ("-" * 24, "-" * 12, "-" * 12, "-" * 8,
                                "-" * 12))
    out = {}
    for kind, _, _, resume in kinds:
        e = statistics.median(x[0] for x in res[("ergo", kind)])
        o = statistics.median(x[0] for x in res[("openssl", kind)])
        h = statistics.median(x[1] for x in res[("ergo", kind)])
        lab = {"full": "full (X25519 offered)", "full-p256":
               "full (P-256 only)", "resumed": "resumed (session ID)",
               "tcp": "TCP connect+close only"}[kind]
        print("| %-22s | %10.1f | %10.1f | %6.2f | %10.0f |"
              % (lab, e, o, e / o, h))
        out[kind] = (e, o, h)
        if resume:
            for name in ("ergo", "openssl"):
                rr = res[(name, kind)]
                print("  %s resumed %d of %d" % (name, sum(x[2] for x in rr),
                                                  sum(x[3] for x in rr)))
    print("RESULT scenario=tls-connect cert=%s full_us=%.1f ossl_full_us=%.1f "
          "full_ratio=%.2f p256_us=%.1f ossl_p256_us=%.1f resumed_us=%.1f "
          "ossl_resumed_us=%.1f tcp_us=%.1f ossl_tcp_us=%.1f "
          "full_hs_per_s=%.0f ok=%d"
          % ("rsa" if a.rsa else "ec", out["full"][0], out["full"][1],
             out["full"][0] / out["full"][1], out["full-p256"][0],
             out["full-p256"][1], out["resumed"][0], out["resumed"][1],
             out["tcp"][0], out["tcp"][1], out["full"][2],
             int(all(x[2] == x[3] for x in res[("ergo", "resumed")]))))


if __name__ == "__main__":
    main()
