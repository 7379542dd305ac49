#!/usr/bin/env python3
"""Logins for ergo: SASL PLAIN logins per second and the time the
single-threaded loop is blocked per login (server CPU per login: while
PBKDF2 runs, nothing else is served), against plain registrations in the
same run. Run on demand (never part of make test):

    python3 bench/logins.py [logins] [iterations]

iterations is accounts { password-iterations } (default 4096). Loopback
only; prints the figures, asserts nothing."""

import base64
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests"))
from ergotest import Server  # noqa: E402


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def login(srv, i, password):
    c = srv.client()
    c.send("CAP LS 302")
    c.send("NICK l%d" % i)
    c.send("USER l 0 * :l")
    c.send("CAP REQ :sasl")
    c.expect(r" CAP \S+ ACK :sasl$")
    c.send("AUTHENTICATE PLAIN")
    c.expect(r"^AUTHENTICATE \+$")
    c.send("AUTHENTICATE " + base64.b64encode(
        ("\0bench\0" + password).encode()).decode())
    c.expect(r" 903 ")
    c.send("CAP END")
    c.expect(r" 001 ")
    c.close()


def plain_registration(srv, i):
    c = srv.client("p%d" % i)
    c.close()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    iters = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
    srv = Server(conf="accounts { password-iterations %d }" % iters,
                 server="connection-limits { max-per-ip 0  throttle no }")
    c = srv.client("bench")
    c.send("PRIVMSG NickServ :REGISTER benchpass")
    c.expect(r"Account created")
    c.close()

    t0, c0 = time.monotonic(), cpu_s(srv.pid)
    for i in range(n):
        plain_registration(srv, i)
    pdt, pcpu = time.monotonic() - t0, cpu_s(srv.pid) - c0

    t0, c0 = time.monotonic(), cpu_s(srv.pid)
    for i in range(n):
        login(srv, i, "benchpass")
    ldt, lcpu = time.monotonic() - t0, cpu_s(srv.pid) - c0

    print("password-iterations %d, %d of each" % (iters, n))
    print("plain registrations: %.0f/s, %.2f ms server CPU each"
          % (n / pdt, 1000 * pcpu / n))
    print("SASL PLAIN logins:   %.0f/s, %.2f ms server CPU each "
          "(the loop is blocked about that long per login)"
          % (n / ldt, 1000 * lcpu / n))
    print("a login costs %.1fx a plain registration"
          % ((lcpu / n) / max(pcpu / n, 1e-6)))
    srv.cleanup()


if __name__ == "__main__":
    main()
