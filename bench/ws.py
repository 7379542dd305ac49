#!/usr/bin/env python3
"""WebSocket figures for ergo: memory per idle WebSocket client against
memory per idle plain-text client, filled into the same server in the
same run (the goal: within 1 KiB of the plain client's). Run on demand:

    python3 bench/ws.py [clients]

Prints the figures; asserts nothing. Everything stays on 127.0.0.1."""

import base64
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests"))
from ergotest import Server, free_port  # noqa: E402
from wsclient import frame, request  # noqa: E402


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    wport = free_port()
    s = Server(server="listen 127.0.0.1:%d { websocket yes }\n"
               "connection-limits { max-per-ip 0  throttle no }\n"
               "max-clients 0" % wport)

    def fill(kind):
        socks = []
        base = rss_kib(s.pid)
        t0 = time.monotonic()
        for i in range(n):
            if kind == "ws":
                c = socket.create_connection(("127.0.0.1", wport))
                c.sendall(request(wport)[0])
                buf = b""
                while b"\r\n\r\n" not in buf:
                    buf += c.recv(4096)
                c.sendall(frame(1, "NICK bw%d" % i) +
                          frame(1, "USER b 0 * :b"))
            else:
                c = socket.create_connection(("127.0.0.1", s.port))
                c.sendall(b"NICK bp%d\r\nUSER b 0 * :b\r\n" % i)
            socks.append(c)
        for c in socks:         # every client registered
            buf = b""
            while b" 001 " not in buf:
                buf += c.recv(65536)
        dt = time.monotonic() - t0
        time.sleep(2.5)         # kept output buffers are swept after 1-2 s
        return socks, dt, rss_kib(s.pid) - base

    plain, pdt, prss = fill("plain")
    ws, wdt, wrss = fill("ws")
    print("clients: %d of each" % n)
    print("plain: %.0f registrations/s, %.2f KiB RSS each" %
          (n / pdt, prss / n))
    print("ws:    %.0f upgrades+registrations/s, %.2f KiB RSS each" %
          (n / wdt, wrss / n))
    print("ws - plain: %+.2f KiB per idle client (goal: within 1 KiB)" %
          ((wrss - prss) / n))
    for c in plain + ws:
        c.close()
    s.cleanup()


if __name__ == "__main__":
    main()
