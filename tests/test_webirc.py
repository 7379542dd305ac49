"""WEBIRC (irc_webirc.c): server { webirc NAME { password certfp hosts } }
lets a web gateway pass on its user's real address and hostname before
registration. Only a gateway whose address, password (and certificate,
if set) match is believed; a refusal is logged and ends the connection.
The secure flag counts only from a gateway that came over TLS."""

import os
import shutil
import socket
import ssl
import tempfile
import time

from ergotest import Client, Server, free_port, run_ergo

GWPASS = "gatewaysecret"
OPERPASS = "oper secret"
GWHASH = OPERHASH = None
tmp = None


def genpasswd(pw):
    p = run_ergo("genpasswd", input=pw + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    return [l for l in p.stdout.splitlines() if l.strip()][-1].strip()


def setup_module():
    global GWHASH, OPERHASH, tmp
    GWHASH, OPERHASH = genpasswd(GWPASS), genpasswd(OPERPASS)
    tmp = tempfile.mkdtemp(prefix="ergo-webirc-")


def teardown_module():
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


def gw_server(hosts="localhost", extra="", **kw):
    return Server(server=' webirc kiwi { password "%s"  hosts "%s" }\n%s'
                  % (GWHASH, hosts, extra),
                  conf='oper admin { class server-admin  password "%s" }'
                  % OPERHASH, **kw)


def oper(srv):
    o = srv.client("oper")
    o.send("OPER admin :" + OPERPASS)
    o.expect_numeric("381")
    return o


def whois(o, nick):
    o.send("WHOIS " + nick)
    return o.lines_until(r" 318 ")


def test_webirc_gives_the_users_address_and_hostname():
    srv = gw_server()
    c = srv.client()
    c.send('WEBIRC %s kiwi user.example.net 192.0.2.5' % GWPASS)
    c.register("webuser")
    lines = whois(oper(srv), "webuser")
    assert any(" 311 oper webuser ~webuser user.example.net " in l
               for l in lines), lines
    assert any(" 338 oper webuser ~webuser@192.0.2.5 192.0.2.5 :Actual"
               in l for l in lines), lines
    srv.wait_log(r"WEBIRC kiwi: 127\.0\.0\.1 is 192\.0\.2\.5 "
                 r"\(user\.example\.net\)")


def test_webirc_with_a_bad_hostname_shows_the_address_and_ipv6_works():
    srv = gw_server()
    c = srv.client()
    c.send('WEBIRC %s kiwi bad_host! 2001:db8::7' % GWPASS)
    c.register("six")
    lines = whois(oper(srv), "six")
    assert any(" 311 oper six ~six 2001:db8::7 " in l for l in lines), lines


def test_webirc_address_is_cloaked_when_cloaking_is_on():
    srv = gw_server(cloaking=True)
    c = srv.client()
    c.send('WEBIRC %s kiwi user.example.net 192.0.2.6' % GWPASS)
    c.register("cloaked")
    d = srv.client("direct")
    d.send("WHOIS cloaked")
    host = d.expect(r" 311 direct cloaked ").split()[5]
    d.send("WHOIS direct")
    own = d.expect(r" 311 direct direct ").split()[5]
    assert host != own and "192.0.2" not in host and \
        "example" not in host, (host, own)


def test_wrong_password_is_refused_and_logged():
    srv = gw_server()
    c = srv.client()
    c.send("WEBIRC wrong kiwi h.example.net 192.0.2.9")
    c.expect(r"^ERROR :WEBIRC refused: wrong password$")
    c.closed()
    srv.wait_log(r"WEBIRC from 127\.0\.0\.1 refused: wrong password")


def test_gateway_not_in_hosts_is_refused_and_logged():
    srv = gw_server(hosts="192.0.2.1 10.0.0.0/8")
    c = srv.client()
    c.send('WEBIRC %s kiwi h.example.net 192.0.2.9' % GWPASS)
    c.expect(r"^ERROR :WEBIRC refused: not a gateway's address$")
    srv.wait_log(r"WEBIRC from 127\.0\.0\.1 refused: not a gateway's "
                 r"address")


def test_bad_address_is_refused():
    srv = gw_server()
    c = srv.client()
    c.send('WEBIRC %s kiwi h.example.net not-an-ip' % GWPASS)
    c.expect(r"^ERROR :WEBIRC refused: not an IP address$")


def test_webirc_after_registration_is_462():
    srv = gw_server()
    c = srv.client("late")
    c.send('WEBIRC %s kiwi h.example.net 192.0.2.9' % GWPASS)
    c.expect_numeric("462")


def test_secure_flag_is_ignored_from_a_plain_gateway():
    srv = gw_server()
    c = srv.client()
    c.send('WEBIRC %s kiwi h.example.net 192.0.2.10 :secure' % GWPASS)
    c.register("notsecure")
    assert not any(" 671 " in l for l in whois(oper(srv), "notsecure"))


def test_secure_flag_counts_from_a_tls_gateway_and_only_with_it():
    cert, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
    if not os.path.exists(cert):
        p = run_ergo("mkcerts", "--cert", cert, "--key", key, "--host",
                     "localhost")
        assert p.returncode == 0, p.stderr
    tport = free_port()
    srv = gw_server(extra=" listen 127.0.0.1:%d { tls { cert %s  key %s } }"
                    % (tport, cert, key))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    keep = []
    for nick, flags in (("sec", " :secure"), ("insec", "")):
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", tport)))
        s.sendall(('WEBIRC %s kiwi h.example.net 192.0.2.11%s\r\n'
                   'NICK %s\r\nUSER u 0 * :r\r\n' % (GWPASS, flags, nick))
                  .encode())
        buf = b""
        deadline = time.monotonic() + 5
        while b" 001 " not in buf and time.monotonic() < deadline:
            buf += s.recv(4096)
        assert b" 001 %s " % nick.encode() in buf, buf
        keep.append(s)
    o = oper(srv)
    assert any(" 671 " in l for l in whois(o, "sec"))
    assert not any(" 671 " in l for l in whois(o, "insec"))


def test_webirc_address_is_d_lined_at_registration():
    srv = gw_server()
    o = oper(srv)
    o.send("DLINE 192.0.2.77 :webirc ban")
    o.send("PING :sync")
    o.expect(r"PONG .*sync")
    c = srv.client()
    c.send('WEBIRC %s kiwi h.example.net 192.0.2.77' % GWPASS)
    c.send("NICK banned")
    c.send("USER u 0 * :r")
    c.expect(r"^ERROR :.*banned", timeout=5)


def test_webirc_address_counts_for_max_per_ip():
    srv = gw_server(extra=" connection-limits { max-per-ip 1 }")
    a = srv.client()
    a.send('WEBIRC %s kiwi h.example.net 192.0.2.88' % GWPASS)
    a.register("first")
    b = Client(srv.port)
    b.send('WEBIRC %s kiwi h.example.net 192.0.2.88' % GWPASS)
    b.expect(r"^ERROR :Too many connections from your IP$")


def test_bad_webirc_blocks_are_config_errors():
    p = run_ergo("checkconfig", "--config", "/dev/stdin",
                 input="server { webirc x { hosts localhost } }\n")
    assert p.returncode != 0
    assert "needs a password or a certfp" in p.stderr, p.stderr
    p = run_ergo("checkconfig", "--config", "/dev/stdin",
                 input='server { webirc x { password "%s" } }\n' % GWHASH)
    assert "needs hosts" in p.stderr, p.stderr
    p = run_ergo("checkconfig", "--config", "/dev/stdin",
                 input='server { webirc x { password "%s" hosts "nope" } }'
                 '\n' % GWHASH)
    assert "expected addresses or CIDR blocks" in p.stderr, p.stderr
