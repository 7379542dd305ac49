"""PROXY protocol v1 and v2 (net_proxy.c, net.c): `listen ADDR { proxy
yes }` listeners require the header, server { proxy-allowed-from } lets
listed addresses send one first on any listener, and the address it gives
is the client's for WHOIS (338 to opers), D-lines, max-per-ip and cloaks.
Unix socket listeners (`listen /path`) too."""

import os
import select
import shutil
import socket
import ssl
import stat
import struct
import tempfile
import time

from ergotest import Client, Server, free_port, run_ergo, wait_for

PASSWORD = "proxy oper password"
HASH = None
tmp = None


def setup_module():
    global HASH, tmp
    p = run_ergo("genpasswd", input=PASSWORD + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    HASH = [l for l in p.stdout.splitlines() if l.strip()][-1].strip()
    tmp = tempfile.mkdtemp(prefix="ergo-proxy-")


def teardown_module():
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


def oper_conf():
    return 'oper admin { class server-admin  password "%s" }\n' % HASH


def proxy_server(extra_server="", conf="", **kw):
    """A server with an ordinary listener (srv.port) and a proxy one
    (srv.pport)."""
    pport = free_port()
    srv = Server(server=" listen 127.0.0.1:%d { proxy yes }\n%s"
                 % (pport, extra_server), conf=oper_conf() + conf, **kw)
    srv.pport = pport
    return srv


def v1(src, dst="127.0.0.1", sport=40000, dport=6667):
    fam = "TCP6" if ":" in src else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport, dport)) \
        .encode()


SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(src, dst=None, sport=40000, dport=6667, tlvs=b"", cmd=1):
    if ":" in src:
        dst = dst or "::1"
        addrs = socket.inet_pton(socket.AF_INET6, src) + \
            socket.inet_pton(socket.AF_INET6, dst) + \
            struct.pack("!HH", sport, dport)
        fam = 0x21
    else:
        dst = dst or "127.0.0.1"
        addrs = socket.inet_aton(src) + socket.inet_aton(dst) + \
            struct.pack("!HH", sport, dport)
        fam = 0x11
    body = addrs + tlvs
    return SIG + bytes([0x20 | cmd, fam]) + struct.pack("!H", len(body)) + \
        body


def oper(srv, nick="oper"):
    o = srv.client(nick)
    o.send("OPER admin :" + PASSWORD)
    o.expect_numeric("381")
    return o


def whois(o, nick):
    o.send("WHOIS " + nick)
    return o.lines_until(r" 318 ")


def proxied(srv, header, nick=None, port=None):
    c = Client(port or srv.pport)
    c.send_raw(header)
    if nick:
        c.register(nick)
    return c


def test_proxy_v1_header_gives_oper_whois_338_with_the_real_address():
    srv = proxy_server()
    proxied(srv, v1("192.0.2.7"), "webby")
    o = oper(srv)
    lines = whois(o, "webby")
    assert any(" 311 oper webby " in l and " 192.0.2.7 " in l
               for l in lines), lines
    assert any(l.endswith(" 338 oper webby ~webby@192.0.2.7 192.0.2.7 "
                          ":Actual user@host, Actual IP") or
               " 338 oper webby " in l and " 192.0.2.7 :Actual" in l
               for l in lines), lines


def test_whois_338_is_for_opers_only():
    srv = proxy_server()
    proxied(srv, v1("192.0.2.8"), "webby")
    u = srv.client("user")
    assert not any(" 338 " in l for l in whois(u, "webby"))


def test_proxy_v2_ipv6_header():
    srv = proxy_server()
    proxied(srv, v2("2001:db8::5"), "six")
    lines = whois(oper(srv), "six")
    assert any(" 338 " in l and " 2001:db8::5 :Actual" in l
               for l in lines), lines


def test_proxy_v2_ssl_tlv_makes_the_session_secure():
    srv = proxy_server()
    ssl_tlv = bytes([0x20]) + struct.pack("!H", 5) + b"\x01" + b"\0" * 4
    proxied(srv, v2("192.0.2.30", tlvs=ssl_tlv), "secure")
    proxied(srv, v2("192.0.2.31"), "plain")
    o = oper(srv)
    assert any(" 671 " in l for l in whois(o, "secure"))
    assert not any(" 671 " in l for l in whois(o, "plain"))


def test_proxy_v2_local_command_keeps_the_peer_address():
    srv = proxy_server()
    proxied(srv, v2("192.0.2.40", cmd=0), "health")
    lines = whois(oper(srv), "health")
    assert any(" 338 " in l and " 127.0.0.1 :Actual" in l
               for l in lines), lines


def test_proxy_v1_unknown_keeps_the_peer_address():
    srv = proxy_server()
    proxied(srv, b"PROXY UNKNOWN\r\n", "unk")
    lines = whois(oper(srv), "unk")
    assert any(" 338 " in l and " 127.0.0.1 :Actual" in l
               for l in lines), lines


def test_proxy_header_split_over_many_reads():
    srv = proxy_server()
    for i, header in enumerate((v1("192.0.2.50"), v2("192.0.2.51"))):
        c = Client(srv.pport)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for b in header:
            c.send_raw(bytes([b]))
            # nothing comes back while the header is incomplete
            r, _, _ = select.select([c.sock], [], [], 0.01)
            assert not r, c.sock.recv(100)
        c.register("split%d" % i)
    o = oper(srv)
    assert any("192.0.2.50 :Actual" in l for l in whois(o, "split0"))
    assert any("192.0.2.51 :Actual" in l for l in whois(o, "split1"))


def test_header_and_first_lines_in_one_packet():
    srv = proxy_server()
    c = Client(srv.pport)
    c.send_raw(v2("192.0.2.60") + b"NICK onego\r\nUSER u 0 * :r\r\n")
    c.expect_numeric("001")
    assert any("192.0.2.60 :Actual" in l for l in whois(oper(srv), "onego"))


def test_proxy_listener_refuses_a_connection_without_header():
    srv = proxy_server()
    c = Client(srv.pport)
    c.send_raw(b"NICK nohdr\r\nUSER u 0 * :r\r\n")
    c.expect(r"^ERROR :Bad PROXY header$")
    c.closed()
    srv.wait_log(r"refused 127\.0\.0\.1: no PROXY header")


def test_malformed_proxy_headers_are_refused_and_logged():
    srv = proxy_server()
    bad = [b"PROXY TCP4 999.0.0.1 127.0.0.1 1 2\r\n",
           b"PROXY TCP4 192.0.2.1 127.0.0.1 1 99999\r\n",
           b"PROXY TCP5 192.0.2.1 127.0.0.1 1 2\r\n",
           b"PROXY TCP4 192.0.2.1 127.0.0.1 1 2\n",
           b"PROXY TCP4 192.0.2.1  127.0.0.1 1 2\r\n",
           b"PROXY " + b"x" * 120 + b"\r\n",
           SIG + b"\x31\x11\x00\x0c" + b"\0" * 12,      # version 3
           SIG + b"\x21\x11\x00\x04" + b"\0" * 4,       # too short
           SIG + b"\x21\x11\x00\x0f" + b"\0" * 12 + b"\x20\x00\x09",
           SIG + b"\x21\x11\xff\xff"]                   # too long
    for h in bad:
        c = Client(srv.pport)
        c.send_raw(h)
        c.expect(r"^ERROR :Bad PROXY header$")
        c.closed()
    srv.wait_log(r"refused 127\.0\.0\.1: PROXY header with a bad address")
    srv.wait_log(r"refused 127\.0\.0\.1: PROXY header too long")
    # still serving
    proxied(srv, v1("192.0.2.70"), "after")


def test_proxy_header_must_come_within_the_registration_timeout():
    srv = proxy_server(extra_server=" timeouts { registration 1s }")
    c = Client(srv.pport)
    c.send_raw(b"PROXY TCP4 192.0.2.1")      # never finished
    c.expect(r"^ERROR :Registration timed out$", timeout=5)
    c.closed()
    srv.wait_log(r"refused 127\.0\.0\.1: no PROXY header in time")


def test_proxy_line_from_an_address_not_allowed_is_refused_and_logged():
    srv = proxy_server()
    c = Client(srv.port)
    c.send_raw(v1("192.0.2.80"))
    c.expect(r"^ERROR :Your address may not send a PROXY header$")
    c.closed()
    srv.wait_log(r"refused 127\.0\.0\.1: a PROXY header, and the address "
                 r"is not in proxy-allowed-from")


def test_proxy_allowed_from_lets_a_proxy_line_first_on_ordinary_listener():
    srv = proxy_server('proxy-allowed-from "192.0.2.0/24 localhost"')
    proxied(srv, v1("198.51.100.9"), "viaproxy", port=srv.port)
    # an ordinary client from that address still connects as before,
    # also when its first line starts like a header would
    srv.client("direct")
    c = Client(srv.port)
    c.send("PROTOCTL x")
    c.register("protoctl")
    o = oper(srv)
    assert any("198.51.100.9 :Actual" in l for l in whois(o, "viaproxy"))
    assert any("127.0.0.1 :Actual" in l for l in whois(o, "protoctl"))


def test_proxy_listener_refuses_addresses_not_in_proxy_allowed_from():
    srv = proxy_server('proxy-allowed-from "192.0.2.1"')
    c = Client(srv.pport)
    c.expect(r"^ERROR :Your address may not send a PROXY header$")
    srv.wait_log(r"refused 127\.0\.0\.1 on 127\.0\.0\.1:\d+: not in "
                 r"proxy-allowed-from")


def test_proxied_address_is_d_lined():
    srv = proxy_server()
    o = oper(srv)
    o.send("DLINE 192.0.2.90 :proxied")
    o.expect(r"NOTICE|DLINE|D-Line|added", timeout=5)
    c = Client(srv.pport)
    c.send_raw(v1("192.0.2.90"))
    c.expect(r"^ERROR :You are banned from this server \(proxied\)$")
    proxied(srv, v1("192.0.2.91"), "notbanned")


def test_max_per_ip_counts_the_proxied_address_not_the_proxy():
    srv = proxy_server(extra_server=" connection-limits { max-per-ip 1 }")
    proxied(srv, v1("192.0.2.100"), "one")
    proxied(srv, v1("192.0.2.101"), "two")     # the proxy's 3rd: fine
    c = Client(srv.pport)
    c.send_raw(v1("192.0.2.100"))
    c.expect(r"^ERROR :Too many connections from your IP$")
    srv.wait_log(r"refused 192\.0\.2\.100 \(through 127\.0\.0\.1\)")


def test_proxied_address_is_cloaked():
    srv = proxy_server(cloaking=True)
    proxied(srv, v1("192.0.2.110"), "ca")
    proxied(srv, v1("192.0.2.111"), "cb")
    d = srv.client("cd")
    hosts = {}
    for n in ("ca", "cb", "cd"):
        d.send("WHOIS " + n)
        l = d.expect(r" 311 cd %s " % n)
        hosts[n] = l.split()[5]
    assert len(set(hosts.values())) == 3, hosts
    assert not any("192.0.2" in h for h in hosts.values()), hosts


def test_proxy_header_before_tls():
    d = tempfile.mkdtemp(dir=tmp)
    cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
    p = run_ergo("mkcerts", "--cert", cert, "--key", key, "--host",
                 "localhost")
    assert p.returncode == 0, p.stderr
    tport = free_port()
    srv = Server(server=" listen 127.0.0.1:%d { proxy yes  tls { cert %s "
                 " key %s } }" % (tport, cert, key), conf=oper_conf())
    raw = socket.create_connection(("127.0.0.1", tport), timeout=5)
    raw.sendall(v2("192.0.2.120"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(raw)
    s.sendall(b"NICK tlsp\r\nUSER u 0 * :r\r\n")
    buf = b""
    deadline = time.monotonic() + 5
    while b" 001 " not in buf and time.monotonic() < deadline:
        buf += s.recv(4096)
    assert b" 001 tlsp " in buf, buf
    lines = whois(oper(srv), "tlsp")
    assert any("192.0.2.120 :Actual" in l for l in lines), lines
    assert any(" 671 " in l for l in lines), lines
    s.close()


class UnixClient(Client):
    def __init__(self, path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path)
        real = socket.create_connection

        def fake(addr, timeout=None):
            return s
        socket.create_connection = fake
        try:
            Client.__init__(self, 0)
        finally:
            socket.create_connection = real


def test_unix_socket_listener_serves_local_clients_with_its_mode():
    d = tempfile.mkdtemp(dir=tmp)
    path = os.path.join(d, "ergo.sock")
    srv = Server(server=" listen %s\n unix-bind-mode 0770" % path,
                 conf=oper_conf())
    wait_for(lambda: os.path.exists(path), what="socket file")
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o770, oct(st.st_mode)
    c = UnixClient(path)
    c.register("local")
    o = oper(srv)
    lines = whois(o, "local")
    assert any(" 311 oper local " in l and " 127.0.0.1 " in l
               for l in lines), lines
    c.send("PRIVMSG oper :over a unix socket")
    o.expect(r"^:local!\S+ PRIVMSG oper :over a unix socket$")
    srv.stop()
    assert not os.path.exists(path)


def test_unix_socket_replaces_a_stale_file_but_not_a_live_server():
    d = tempfile.mkdtemp(dir=tmp)
    path = os.path.join(d, "ergo.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()                       # the file stays, nobody listens
    srv = Server(server=" listen %s" % path)
    UnixClient(path).register("fresh")
    # a second server on the same path is refused: the first answers
    srv2 = Server(server=" listen %s" % path, wait=False)
    srv2.wait_log(r"a server is listening there already")
    UnixClient(path).register("stillfirst")


def test_unix_socket_with_proxy_header():
    d = tempfile.mkdtemp(dir=tmp)
    path = os.path.join(d, "gw.sock")
    srv = Server(server=" listen %s { proxy yes }" % path, conf=oper_conf())
    wait_for(lambda: os.path.exists(path), what="socket file")
    c = UnixClient(path)
    c.send_raw(v1("203.0.113.5"))
    c.register("gw")
    assert any("203.0.113.5 :Actual" in l for l in whois(oper(srv), "gw"))
