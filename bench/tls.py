#!/usr/bin/env python3
"""TLS figures for ergo: handshakes per second and memory per idle TLS
client, each against plain-text connections to the same server in the
same run (ratios, not absolute goals). Run on demand:

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
from ergotest import Server, free_port, wait_for  # noqa: E402


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


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
    s = Server(server="listen 127.0.0.1:%d { tls { cert %s/c.pem  key "
               "%s/k.pem } }\nconnection-limits { max-per-ip 0  throttle no }\n"
               "max-clients 0" % (tls_port, d, d))
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
    tls, tdt, trss, tcpu = fill("tls")
    print("clients: %d of each" % n)
    print("plain: %.0f connects+registrations/s, %.2f KiB RSS each, "
          "%.2f ms server CPU each" % (n / pdt, prss / n, 1000 * pcpu / n))
    print("tls:   %.0f handshakes+registrations/s, %.2f KiB RSS each, "
          "%.2f ms server CPU each" % (n / tdt, trss / n, 1000 * tcpu / n))
    print("tls/plain: %.1fx the memory, %.1fx the CPU per client"
          % ((trss / n) / max(prss / n, 0.01), tcpu / max(pcpu, 1e-6)))
    for c in plain + tls:
        c.close()
    s.cleanup()


if __name__ == "__main__":
    main()
