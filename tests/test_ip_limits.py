"""Per-address limits group clients by network (connection-limits
cidr-len-ipv4/-ipv6, as Ergo's ip-limits): max-per-ip, the connection
throttle, registration throttling and failed logins count a whole IPv6
/64 (or any prefix) as one address, and a flood from many addresses
cannot push a throttled address's count out of its table.

IPv6 tests add a few addresses of a random ULA /48 to lo (as root) and
remove them afterwards; IPv4 ones use 127.x.y.z, all local on Linux."""

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import ergotest
from ergotest import Client, Server, Skip, run_ergo, wait_for


# ---------------------------------------------------------------- helpers

def client_from(port, src, host="127.0.0.1"):
    """A harness Client connected from source address src."""
    orig = socket.create_connection

    def cc(addr, timeout=None, source_address=None):
        return orig(addr, timeout=timeout, source_address=(src, 0))
    ergotest.socket.create_connection = cc
    try:
        return Client(port, host=host)
    finally:
        ergotest.socket.create_connection = orig


def raw(port, src, host="127.0.0.1"):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect((host, port))
    return s


def first_line(s):
    """The first line a fresh connection gets after PING (or b"")."""
    s.sendall(b"PING :in\r\n")
    data = b""
    while b"\n" not in data:
        try:
            chunk = s.recv(4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def served(port, src, host="127.0.0.1"):
    """Connects from src: True if served, False if refused by a limit."""
    s = raw(port, src, host)
    try:
        got = first_line(s)
    finally:
        s.close()
    if b"PONG" in got:
        return True
    assert got.startswith(b"ERROR :Too many conn"), got
    return False


class V6Addrs:
    """Extra IPv6 addresses on lo, in a random ULA /48, for one test:
    net(i, j) is the j-th address of the i-th /64."""

    def __init__(self, pairs):
        # a random ULA /48, written as inet_ntop writes it (no leading
        # zeros, no zero groups to compress) for matching the log
        self.prefix = "fd%02x:%x:%x" % (random.randrange(256),
                                        random.randrange(0x1000, 0x10000),
                                        random.randrange(0x1000, 0x10000))
        self.added = []
        for i, j in pairs:
            a = self.net(i, j)
            p = subprocess.run(["ip", "-6", "addr", "add", a + "/128",
                                "dev", "lo", "nodad"],
                               capture_output=True, text=True)
            if p.returncode != 0:
                self.remove()
                raise Skip("cannot add IPv6 addresses to lo: %s"
                           % p.stderr.strip())
            self.added.append(a)

    def net(self, i, j):
        return "%s:%x::%x" % (self.prefix, i, j)

    def slash64(self, i):
        return "%s:%x::/64" % (self.prefix, i)

    def remove(self):
        for a in self.added:
            subprocess.run(["ip", "-6", "addr", "del", a + "/128", "dev",
                            "lo"], capture_output=True)
        self.added = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def v6_server(extra, conf=""):
    try:
        t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        t.bind(("::1", 0))
        t.close()
    except OSError:
        raise Skip("no IPv6 loopback on this machine")
    return Server(config="network { name TestNet }\n"
                  "server {\n"
                  " name irc.test\n"
                  " listen 127.0.0.1:{port}\n"
                  " listen [::1]:{port}\n"
                  " fakelag { enabled no }\n"
                  " ip-cloaking { enabled no }\n"
                  " connection-limits { %s }\n"
                  "}\n"
                  "datastore { path ircd.db }\n%s\n" % (extra, conf))


def register_from(port, src, nick, host="127.0.0.1"):
    c = client_from(port, src, host)
    c.register(nick)
    c.send("REGISTER * * correct-horse")
    return c, c.expect(r" REGISTER ")


# ---------------------------------------------------------------- IPv6 /64

def test_two_addresses_in_one_64_share_one_connection_count():
    with V6Addrs([(1, 1), (1, 2), (2, 1)]) as v6:
        s = v6_server("max-per-ip 0  max-connections-per-window 2")
        assert served(s.port, v6.net(1, 1), "::1")
        assert served(s.port, v6.net(1, 1), "::1")
        # another address of the same /64 is the same user
        assert not served(s.port, v6.net(1, 2), "::1")
        s.wait_log(r"%s: connections throttled: 2 in 600s" %
                   re.escape(v6.slash64(1)))
        # another /64 has its own count, and ::1 is still exempt
        assert served(s.port, v6.net(2, 1), "::1")
        for _ in range(4):
            assert served(s.port, "::1", "::1")


def test_cidr_len_ipv6_128_counts_each_address():
    with V6Addrs([(1, 1), (1, 2)]) as v6:
        s = v6_server("max-per-ip 0  max-connections-per-window 2  "
                      "cidr-len-ipv6 128")
        assert served(s.port, v6.net(1, 1), "::1")
        assert served(s.port, v6.net(1, 1), "::1")
        assert served(s.port, v6.net(1, 2), "::1")
        assert not served(s.port, v6.net(1, 1), "::1")
        s.wait_log(r"%s: connections throttled" % re.escape(v6.net(1, 1)))


def test_max_per_ip_counts_a_64_as_one_address():
    with V6Addrs([(1, 1), (1, 2), (2, 1)]) as v6:
        s = v6_server("max-per-ip 2  throttle no")
        a = raw(s.port, v6.net(1, 1), "::1")
        b = raw(s.port, v6.net(1, 2), "::1")
        assert b"PONG" in first_line(a) and b"PONG" in first_line(b)
        c = raw(s.port, v6.net(1, 1), "::1")
        got = first_line(c)
        assert got.startswith(b"ERROR :Too many connections from your IP"), \
            got
        s.wait_log(r"too many connections from %s" %
                   re.escape(v6.slash64(1)))
        d = raw(s.port, v6.net(2, 1), "::1")
        assert b"PONG" in first_line(d)
        # a connection that leaves gives its place back to the /64
        a.close()
        wait_for(lambda: served(s.port, v6.net(1, 2), "::1"), 5,
                 "the /64's freed place")
        for x in (b, c, d):
            x.close()


def test_registrations_from_one_64_share_the_throttle():
    with V6Addrs([(1, 1), (1, 2), (2, 1)]) as v6:
        s = v6_server("max-per-ip 0", "accounts { registration { "
                      "throttling { max-attempts 1  duration 1h } } }")
        a, l = register_from(s.port, v6.net(1, 1), "one", "::1")
        assert " SUCCESS " in l, l
        b, l = register_from(s.port, v6.net(1, 2), "two", "::1")
        assert "TEMPORARILY_UNAVAILABLE" in l, l
        s.wait_log(r"%s: registration throttled" % re.escape(v6.slash64(1)))
        c, l = register_from(s.port, v6.net(2, 1), "three", "::1")
        assert " SUCCESS " in l, l


# ---------------------------------------------------------------- IPv4

def test_cidr_len_ipv4_groups_failed_logins():
    from test_sasl import ns_register, plain, sasl_start
    s = Server(server="connection-limits { max-per-ip 0  throttle no  "
                      "cidr-len-ipv4 24 }")
    ns_register(s, "jack", "right")
    # five failures for five accounts from five addresses of 127.0.9.0/24
    for i in range(5):
        c = client_from(s.port, "127.0.9.%d" % (i + 2))
        sasl_start(c, "t%d" % i)
        plain(c, "nobody%d" % i, "wrong")
        c.expect_numeric(904)
        c.close()
    c = client_from(s.port, "127.0.9.20")
    sasl_start(c, "late")
    plain(c, "jack", "right")         # right, but the /24 failed too often
    c.expect_numeric(904)
    c = client_from(s.port, "127.0.10.2")
    sasl_start(c, "other")
    plain(c, "jack", "right")         # another /24 may log in
    c.expect_numeric(903)


def test_failed_logins_count_the_address_not_the_cloak():
    # cloaks differ per address: counting them would group nothing
    from test_sasl import ns_register, plain, sasl_start
    s = Server(server="connection-limits { max-per-ip 0  throttle no  "
                      "cidr-len-ipv4 24 }", cloaking=True)
    ns_register(s, "jill", "right")
    for i in range(5):
        c = client_from(s.port, "127.0.11.%d" % (i + 2))
        sasl_start(c, "t%d" % i)
        plain(c, "nobody%d" % i, "wrong")
        c.expect_numeric(904)
        c.close()
    c = client_from(s.port, "127.0.11.30")
    sasl_start(c, "late")
    plain(c, "jill", "right")
    c.expect_numeric(904)


def test_rehash_of_cidr_len_applies_to_new_counts_and_is_validated():
    s = Server(server="connection-limits { max-per-ip 0  "
                      "max-connections-per-window 2 }")
    assert served(s.port, "127.0.7.2") and served(s.port, "127.0.7.2")
    assert served(s.port, "127.0.7.3")        # /32: its own count
    assert not served(s.port, "127.0.7.2")
    s.extra_server = ("connection-limits { max-per-ip 0  "
                      "max-connections-per-window 2  cidr-len-ipv4 129 }")
    s.write_config()
    s.signal(signal.SIGHUP)
    s.wait_log(r"config not reloaded")
    assert re.search(r"ergo\.conf:\d+:\d+: cidr-len-ipv4 must be between 0 "
                     r"and 32", s.logtext()), s.logtail()
    assert served(s.port, "127.0.7.4")        # still /32
    s.extra_server = ("connection-limits { max-per-ip 0  "
                      "max-connections-per-window 2  cidr-len-ipv4 24 }")
    s.write_config()
    s.signal(signal.SIGHUP)
    s.wait_log(r"configuration reloaded")
    # 127.0.7.0/24 is a new key: two more, then the /24 is full
    assert served(s.port, "127.0.7.5") and served(s.port, "127.0.7.6")
    assert not served(s.port, "127.0.7.7")
    s.wait_log(r"127\.0\.7\.0/24: connections throttled")


def test_checkconfig_rejects_out_of_range_prefix_lengths():
    d = tempfile.mkdtemp(prefix="ergo-cidr-")
    try:
        for key, bad, hi in (("cidr-len-ipv4", 33, 32),
                             ("cidr-len-ipv6", 129, 128)):
            with open(os.path.join(d, "ergo.conf"), "w") as f:
                f.write("server {\n connection-limits { %s %d }\n}\n"
                        % (key, bad))
            p = run_ergo("checkconfig", "--config", "ergo.conf", cwd=d)
            assert p.returncode == 1, (p.stdout, p.stderr)
            want = "ergo.conf:2:%d: %s must be between 0 and %d" % (
                len(" connection-limits { ") + len(key) + 2, key, hi)
            assert p.stderr.splitlines() == [want], p.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- eviction

FLOOD = 17000       # distinct addresses: more than a throttle table holds


def flood(port, n, base=(1, 0, 0)):
    """Connects once from each of n addresses 127.a.b.c, sends a line
    (a silent connection never reaches the server where the kernel
    defers accept until data) and closes, several at a time so the
    listen queue never overflows."""
    a, b, c = base
    batch = []
    for _ in range(n):
        c += 1
        if c == 255:
            c, b = 1, b + 1
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.settimeout(10)
        s.bind(("127.%d.%d.%d" % (a, b, c), 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"PING :f\r\n")
        batch.append(s)
        if len(batch) == 64:
            for x in batch:
                x.close()
            batch = []
    for x in batch:
        x.close()


def test_a_many_address_flood_cannot_reset_a_throttled_address():
    s = Server(server="connection-limits { max-per-ip 0  "
                      "max-connections-per-window 3 }\nmax-clients 0")
    for _ in range(3):
        assert served(s.port, "127.0.0.4")
    assert not served(s.port, "127.0.0.4")
    t0 = time.monotonic()
    flood(s.port, FLOOD)
    # the table was full: the flood reached the case that used to evict
    s.wait_log(r"connection throttle table full at \d+ keys", 30)
    # the abuser is still refused; a flood address is still counted
    # (its one connection and at most what it inherited) ...
    assert not served(s.port, "127.0.0.4"), \
        "a flood of %d addresses reset a throttled count" % FLOOD
    n = 0
    while served(s.port, "127.1.0.1"):
        n += 1
        assert n < 3, "a flood address connected more than allowed"
    # ... and newcomers are not all locked out: they inherit the low
    # count of one-connection slots, not the limit
    assert served(s.port, "127.2.0.1")
    assert served(s.port, "127.2.0.2")
    assert time.monotonic() - t0 < 120
