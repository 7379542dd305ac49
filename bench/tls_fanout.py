#!/usr/bin/env python3
"""tls-fanout: server CPU per million deliveries to TLS clients, against
the same run over plain TCP.

    python3 bench/tls_fanout.py [-c CLIENTS] [-S SENDERS] [-m MSGS] [-r ROUNDS]

One ergo with a plain and a TLS listener (an ECDSA P-256 certificate).
Each round runs the fan-out twice, plain then TLS, each with fresh
clients: CLIENTS (200) join one channel, SENDERS (4) of them send MSGS
PRIVMSGs each, closed loop with at most 64 not yet delivered to every
member per sender. Every delivery is checked: each member must get
every other sender's messages, each once and in order. The server's CPU
is read from /proc/PID/schedstat over the message phase only. The same
client code drives both, so their ratio is what TLS costs the server
per delivery (the clients are Python: slower than bench/load, so each
write carries more lines than in `make bench`'s fanout; compare the
ratio, not the absolute figures). Prints medians and one RESULT line.
Loopback only; the server is stopped by its PID."""

import argparse
import os
import select
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests"))
from ergotest import Server, free_port  # noqa: E402

WINDOW = 64


def cpu_ns(pid):
    total = 0
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
            total += int(f.read().split()[0])
    return total


class Conn:
    def __init__(self, port, ctx, nick):
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s = ctx.wrap_socket(raw) if ctx is not None else raw
        self.nick = nick
        self.buf = b""
        self.last = {}          # sender index -> last sequence seen
        self.bad = 0
        self.send("NICK %s\r\nUSER %s 0 * :bench\r\n" % (nick, nick))

    def send(self, text):
        self.s.setblocking(True)
        self.s.sendall(text.encode())
        self.s.setblocking(False)

    def lines(self):
        """The whole lines readable now (TLS: every buffered record)."""
        while True:
            try:
                d = self.s.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                break
            if not d:
                raise RuntimeError("%s: connection closed" % self.nick)
            self.buf += d
            if not isinstance(self.s, ssl.SSLSocket) or \
                    self.s.pending() == 0:
                break
        *out, self.buf = self.buf.split(b"\r\n")
        return out

    def wait_for(self, token, timeout=60):
        end = time.monotonic() + timeout
        self.s.setblocking(False)
        while time.monotonic() < end:
            if isinstance(self.s, ssl.SSLSocket) and self.s.pending():
                pass
            else:
                select.select([self.s], [], [], 0.5)
            for ln in self.lines():
                if token in ln:
                    return
        raise RuntimeError("%s: no %r" % (self.nick, token))


def one_run(srv, port, ctx, nclients, nsend, msgs, tag):
    conns = []
    try:
        for i in range(nclients):
            c = Conn(port, ctx, "%s%d" % (tag, i))
            c.wait_for(b" 001 ")
            c.send("JOIN #fan\r\n")
            c.wait_for(b" 366 ")
            conns.append(c)
        # everyone has seen every JOIN: a PING round trip each
        for c in conns:
            c.send("PING :ready\r\n")
        for c in conns:
            c.wait_for(b"ready")
        senders = conns[:nsend]
        fd_of = {c.s.fileno(): c for c in conns}
        poller = select.poll()
        for fd in fd_of:
            poller.register(fd, select.POLLIN)
        sent = [0] * nsend
        done = [0] * nsend      # every member has up to this one
        others = [[x for x in conns if x is not s] for s in senders]
        delivered = 0
        expected = nsend * msgs * (nclients - 1)
        c0 = cpu_ns(srv.pid)
        t0 = time.monotonic()
        while delivered < expected:
            for k, s in enumerate(senders):
                if sent[k] >= done[k] + WINDOW:
                    done[k] = min(x.last.get(k, 0) for x in others[k])
                out = []
                while sent[k] < msgs and sent[k] < done[k] + WINDOW:
                    sent[k] += 1
                    out.append("PRIVMSG #fan :%d %d\r\n" % (k, sent[k]))
                if out:
                    s.send("".join(out))
            if time.monotonic() - t0 > 300:
                raise RuntimeError("tls-fanout: stuck at %d of %d"
                                   % (delivered, expected))
            ready = [fd_of[fd] for fd, _ in poller.poll(1000)]
            ready += [c for c in conns if isinstance(c.s, ssl.SSLSocket)
                      and c.s.pending() and c not in ready]
            for c in ready:
                for ln in c.lines():
                    i = ln.find(b" PRIVMSG #fan :")
                    if i < 0:
                        continue
                    k, q = ln[i + 15:].split()
                    k, q = int(k), int(q)
                    if q != c.last.get(k, 0) + 1:
                        c.bad += 1
                    c.last[k] = q
                    delivered += 1
        dt = time.monotonic() - t0
        # let the server finish what it was doing, then read its clock
        time.sleep(0.05)
        cpu = (cpu_ns(srv.pid) - c0) / 1e9
        bad = sum(c.bad for c in conns)
        for k in range(nsend):
            for c in conns:
                if c is not senders[k] and c.last.get(k, 0) != msgs:
                    bad += 1
        return cpu / delivered * 1e6, delivered / dt, delivered, bad
    finally:
        for c in conns:
            try:
                c.s.setblocking(True)
                c.s.sendall(b"QUIT\r\n")
            except OSError:
                pass
            c.s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-c", type=int, default=200)
    ap.add_argument("-S", type=int, default=4)
    ap.add_argument("-m", type=int, default=1000)
    ap.add_argument("-r", type=int, default=3)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="ergo-bench-tlsf-")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    d + "/k.pem", "-out", d + "/c.pem", "-subj",
                    "/CN=localhost", "-days", "2"], check=True,
                   capture_output=True)
    tport = free_port()
    srv = Server(server="listen 127.0.0.1:%d { tls { cert %s/c.pem  key "
                 "%s/k.pem } }\nconnection-limits { max-per-ip 0  throttle "
                 "no }\nmax-clients 0\nmax-sendq 1m" % (tport, d, d),
                 )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    res = {"plain": [], "tls": []}
    ok = True
    try:
        for r in range(a.r):
            for kind, port, cx in (("plain", srv.port, None),
                                   ("tls", tport, ctx)):
                us, rate, n, bad = one_run(srv, port, cx, a.c, a.S, a.m,
                                           "%s%dx" % (kind[0], r))
                ok = ok and bad == 0
                res[kind].append(us)
                print("round %d %-5s %.3f s CPU per 1M deliveries, %.0f "
                      "deliveries/s, %d delivered, %d wrong"
                      % (r + 1, kind, us, rate, n, bad), file=sys.stderr)
    finally:
        srv.cleanup()
    p = statistics.median(res["plain"])
    t = statistics.median(res["tls"])
    print("tls-fanout: %d clients, %d senders x %d, medians of %d rounds: "
          "plain %.3f, TLS %.3f s CPU per 1M deliveries, ratio %.2f%s"
          % (a.c, a.S, a.m, a.r, p, t, t / p,
             "" if ok else " (DELIVERY ERRORS)"))
    print("RESULT scenario=tlsfanout plain_cpu_s_per_M=%.3f "
          "tls_cpu_s_per_M=%.3f ratio=%.2f ok=%d" % (p, t, t / p, int(ok)))


if __name__ == "__main__":
    main()
