#!/usr/bin/env python3
"""TLS figures for ergo: handshakes per second and memory per idle TLS
client, each against plain-text connections to the same server in the
same run (ratios, not absolute goals). The TLS clients' memory is
taken once they have been idle past `timeouts { tls-buffers }` (their
record buffers given back), and again after each sent a line. Run on
demand:

    python3 bench/tls.py [clients]

Prints the figures; asserts nothing. Needs openssl (for a test
certificate) and python3; everything stays on 127.0.0.1."""

import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests"))
from ergotest import ERGO_BIN, Server, free_port, wait_for  # noqa: E402

IDLE = 10       # seconds: server { timeouts { tls-buffers } }, its default


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sched_s(pid):
    """CPU seconds from schedstat: nanoseconds, not clock ticks"""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0]) / 1e9


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    d = tempfile.mkdtemp(prefix="ergo-bench-tls-")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    d + "/k.pem", "-out", d + "/c.pem", "-subj",
                    "/CN=localhost", "-days", "2"], check=True,
                   capture_output=True)
    tls_port = free_port()
    # the default tls-buffers, said here so that the wait below knows it;
    # left out for a binary without the key (a base run of before it)
    idle = IDLE if b"tls-buffers" in subprocess.run(
        [ERGO_BIN, "defaultconfig"], capture_output=True).stdout else None
    s = Server(server="listen 127.0.0.1:%d { tls { cert %s/c.pem  key "
               "%s/k.pem } }\nconnection-limits { max-per-ip 0  throttle no }\n"
               "max-clients 0\n%s" % (tls_port, d, d, "" if idle is None
                                      else "timeouts { tls-buffers %ds }"
                                      % idle))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE

    def fill(kind):
        socks = []
        base_rss, base_cpu = rss_kib(s.pid), cpu_s(s.pid)
        t0 = time.monotonic()
        for i in range(n):
            if kind == "tls":
                raw = socket.create_connection(("127.0.0.1", tls_port))
                c = ctx.wrap_socket(raw)
            else:
                c = socket.create_connection(("127.0.0.1", s.port))
            c.sendall(b"NICK b%s%d\r\nUSER b 0 * :b\r\n" % (kind.encode(),
                                                              i))
            socks.append(c)
        for c in socks:         # every client registered
            buf = b""
            while b" 001 " not in buf:
                buf += c.recv(65536)
        dt = time.monotonic() - t0
        rss = rss_kib(s.pid) - base_rss
        cpu = cpu_s(s.pid) - base_cpu
        return socks, dt, rss, cpu

    plain, pdt, prss, pcpu = fill("plain")
    base_rss = rss_kib(s.pid)
    tls, tdt, trss, tcpu = fill("tls")
    # idle: past tls-buffers and the once-a-second sweep that gives the
    # record buffers back (the first clients' went during the fill)
    icpu = sched_s(s.pid)
    time.sleep((idle if idle is not None else IDLE) + 3)
    icpu = sched_s(s.pid) - icpu
    irss = rss_kib(s.pid) - base_rss
    # woken: every TLS client sends a line and reads the answer (its
    # buffers' first page faulted in again)
    wcpu = sched_s(s.pid)
    for c in tls:
        c.sendall(b"PING :w\r\n")
    for c in tls:
        buf = b""
        while b"PONG" not in buf:
            buf += c.recv(65536)
    wrss = rss_kib(s.pid) - base_rss
    wcpu = sched_s(s.pid) - wcpu
    print("clients: %d of each" % n)
    print("plain: %.0f connects+registrations/s, %.2f KiB RSS each, "
          "%.2f ms server CPU each" % (n / pdt, prss / n, 1000 * pcpu / n))
    # bench/run.sh reads this line: fields 2, 4 (idle RSS) and 8
    print("tls:   %.0f handshakes+registrations/s, %.2f KiB RSS each, "
          "%.2f ms server CPU each" % (n / tdt, irss / n, 1000 * tcpu / n))
    print("tls RSS per client: %.2f KiB just registered (%.1f s to fill), "
          "%.2f KiB idle %s, %.2f KiB after each sent a line"
          % (trss / n, tdt, irss / n, "(no tls-buffers key)" if idle is None
             else "(tls-buffers %ds)" % idle, wrss / n))
    print("tls server CPU per client: %.1f us while idle %d s (the "
          "release), %.1f us for its line and the answer"
          % (1e6 * icpu / n, (idle if idle is not None else IDLE) + 3,
             1e6 * wcpu / n))
    print("tls/plain: %.1fx the memory, %.1fx the CPU per client"
          % ((irss / n) / max(prss / n, 0.01), tcpu / max(pcpu, 1e-6)))
    for c in plain + tls:
        c.close()
    s.cleanup()


if __name__ == "__main__":
    main()
