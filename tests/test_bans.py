"""K-lines and D-lines on the real binary: KLINE/UNKLINE (user@host),
DLINE/UNDLINE (IPv4 and IPv6 addresses and CIDRs), oper-only, with
duration and reason; applied at connect and to clients already there;
listed by STATS k / STATS d; expiry; kept across restarts. D-line tests
connect from distinct 127.0.0.x source addresses."""

import re
import socket
import time

import ergotest
from ergotest import Server, Client, run_ergo, wait_for, ErgoTestError

PASSWORD = "ban hammer"
HASH = None


def setup_module():
    global HASH
    p = run_ergo("genpasswd", input=PASSWORD + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    HASH = [l for l in p.stdout.splitlines() if l.strip()][-1].strip()


def server():
    return Server(conf='oper admin { class server-admin  password "%s" }\n'
                  % HASH)


def oper(srv, nick="opal"):
    c = srv.client(nick)
    c.send("OPER admin :" + PASSWORD)
    c.expect_numeric("381")
    return c


def notice(c, text):
    return c.expect(r"^:irc\.test NOTICE %s :%s" % (re.escape(c.nick),
                                                   re.escape(text)))


def client_from(srv, src):
    """A Client whose connection comes from the source address src."""
    orig = socket.create_connection

    def cc(addr, timeout=None, source_address=None):
        return orig(addr, timeout=timeout, source_address=(src, 0))
    ergotest.socket.create_connection = cc
    try:
        return Client(srv.port)
    finally:
        ergotest.socket.create_connection = orig


def refused(c):
    """The connection gets ERROR and is closed; returns the ERROR line."""
    lines = c.closed()
    err = [l for l in lines if l.startswith("ERROR ")]
    assert err, lines
    return err[0]


def test_kline_needs_oper():
    with server() as srv:
        c = srv.client("pleb")
        for cmd in ("KLINE *@x", "UNKLINE *@x", "DLINE 10.0.0.1",
                    "UNDLINE 10.0.0.1"):
            c.send(cmd)
            c.expect_numeric("481")
        c.send("STATS k")
        c.expect_numeric("481")
        c.send("STATS d")
        c.expect_numeric("481")
        c.send("STATS u")
        c.expect_numeric("242")
        c.expect(r" 219 pleb u :End of /STATS report")


def test_kline_removes_matching_clients_and_refuses_new_ones():
    with server() as srv:
        o = oper(srv)
        v = srv.client("victim", user="baduser")
        w = srv.client("watch")
        for c in (v, w):
            c.send("JOIN #j")
            c.expect(r" 366 ")
        o.send("KLINE baduser@* :go away")
        notice(o, "Added K-Line for baduser@*")
        err = refused(v)
        assert "You are banned from this server (go away)" in err, err
        w.expect(r"^:victim!~baduser@\S+ QUIT :K-Lined: go away$")
        # at registration: 465 then ERROR
        c = srv.client()
        c.send("NICK again")
        c.send("USER baduser 0 * :x")
        lines = c.closed()
        assert [l for l in lines if " 465 again " in l and "go away" in l], \
            lines
        # others still get in
        srv.client("fine", user="gooduser")
        o.send("STATS k")
        line = o.expect(r" 216 opal ")
        assert re.search(r" 216 opal K \* \* baduser :go away$", line), line
        o.expect(r" 219 opal k :End of /STATS report")
        o.send("UNKLINE baduser@*")
        notice(o, "Removed K-Line for baduser@*")
        o.send("UNKLINE baduser@*")
        notice(o, "Could not remove ban [baduser@*]")
        srv.client("back", user="baduser")


def test_kline_on_host_and_myself_guard():
    with server() as srv:
        o = oper(srv)
        o.send("KLINE *@127.0.0.1 :everyone")
        notice(o, "This ban matches you. To KLINE yourself, you must use "
               "the command:  /KLINE MYSELF <arguments>")
        o.send("STATS k")
        lines = o.lines_until(r" 219 ")
        assert not [l for l in lines if " 216 " in l], lines
        o.send("KLINE nobody")      # a bare host: *@nobody
        notice(o, "Added K-Line for *@nobody")


def test_dline_refuses_before_registration_and_removes_live_clients():
    with server() as srv:
        o = oper(srv)
        live = client_from(srv, "127.0.0.2")
        live.register("livetwo")
        other = client_from(srv, "127.0.0.3")
        other.register("three")
        o.send("DLINE 127.0.0.2 :no twos")
        notice(o, "Added D-Line for 127.0.0.2")
        err = refused(live)
        assert "no twos" in err, err
        # a new connection: ERROR at once, before NICK/USER
        c = client_from(srv, "127.0.0.2")
        assert "You are banned from this server (no twos)" in refused(c)
        other.sync()                     # .3 is untouched
        o.send("STATS d")
        o.expect(r" 225 opal D 127\.0\.0\.2 :no twos$")
        o.expect(r" 219 opal d :End of /STATS report")
        o.send("UNDLINE 127.0.0.2")
        notice(o, "Removed D-Line for 127.0.0.2")
        client_from(srv, "127.0.0.2").register("twoagain")


def test_dline_cidr_ipv4_and_ipv6():
    with server() as srv:
        o = oper(srv)
        o.send("DLINE 127.0.0.9/31 :pair")     # 127.0.0.8 and .9
        notice(o, "Added D-Line for 127.0.0.8/31")
        assert "pair" in refused(client_from(srv, "127.0.0.8"))
        assert "pair" in refused(client_from(srv, "127.0.0.9"))
        client_from(srv, "127.0.0.10").register("ten")
        o.send("DLINE 2001:DB8:0:0::1/32 :six")
        notice(o, "Added D-Line for 2001:db8::/32")
        o.send("DLINE 0::ffff:127.0.0.20 :mapped")
        notice(o, "Added D-Line for 127.0.0.20")
        assert "mapped" in refused(client_from(srv, "127.0.0.20"))
        o.send("DLINE 300.1.1.1")
        notice(o, "Invalid D-Line mask: 300.1.1.1")
        o.send("DLINE 127.0.0.0/8")
        notice(o, "This ban matches you. To DLINE yourself")
        o.send("STATS d")
        lines = o.lines_until(r" 219 ")
        text = "\n".join(lines)
        for m in ("127.0.0.8/31 :pair", "2001:db8::/32 :six",
                  "127.0.0.20 :mapped"):
            assert m in text, text


def test_dline_ipv6_connection():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        raise ergotest.Skip("no IPv6 loopback")
    port = ergotest.free_port()
    srv = Server(conf='oper admin { class server-admin  password "%s" }\n'
                 % HASH, server=" listen [::1]:%d" % port)
    with srv:
        o = oper(srv)
        o.send("DLINE 0::1/128 :v6 gone")
        notice(o, "Added D-Line for ::1")
        c = Client(port, host="::1")
        assert "v6 gone" in refused(c)
        srv.client("v4ok")


def test_temporary_kline_expires():
    with server() as srv:
        o = oper(srv)
        o.send("KLINE 2s tmpuser@* :briefly")
        notice(o, "Added temporary (2s) K-Line for tmpuser@*")
        o.send("STATS k")
        o.expect(r" 216 opal k \* \* tmpuser :briefly \(expires in [12]s\)$")
        o.expect(r" 219 opal k ")
        c = srv.client()
        c.send("NICK tmp1")
        c.send("USER tmpuser 0 * :x")
        assert [l for l in c.closed() if " 465 " in l]

        def gone():
            o.send("STATS k")
            lines = o.lines_until(r" 219 ")
            return not [l for l in lines if " 216 " in l]
        wait_for(gone, timeout=6, what="the K-line to expire")
        srv.client("tmp2", user="tmpuser")
        srv.wait_log(r"K-Line expired for tmpuser@\*")


def test_temporary_dline_expires():
    with server() as srv:
        o = oper(srv)
        sent = time.monotonic()
        o.send("DLINE 2s 127.0.0.30 :soon")
        notice(o, "Added temporary (2s) D-Line for 127.0.0.30")
        assert "soon" in refused(client_from(srv, "127.0.0.30"))
        deadline = time.monotonic() + 6
        while True:
            c = client_from(srv, "127.0.0.30")
            try:
                c.register("thirty")
                break
            except (ErgoTestError, OSError):
                c.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        # a ban of 2s lasts at least 2 s, whatever the second it was
        # set in (the server's clock is whole seconds)
        assert time.monotonic() - sent >= 2.0


def test_bans_survive_restart_and_durations():
    with server() as srv:
        o = oper(srv)
        o.send("KLINE 1h *@bad.host :spam")
        notice(o, "Added temporary (1h) K-Line for *@bad.host")
        o.send("KLINE 90 permuser@* :minutes")
        notice(o, "Added temporary (1h30m) K-Line for permuser@*")
        o.send("KLINE 0 zero@* :never")
        notice(o, "Added K-Line for zero@*")
        o.send("DLINE none 127.0.0.40 :forever")
        notice(o, "Added D-Line for 127.0.0.40")
        srv.stop()
        srv.start()
        assert "forever" in refused(client_from(srv, "127.0.0.40"))
        o = oper(srv)
        o.send("STATS k")
        text = "\n".join(o.lines_until(r" 219 "))
        assert re.search(r" 216 opal k bad\.host \* \* :spam \(expires in "
                         r"(59m\d+s|1h)\)$", text, re.M), text
        assert " K * * zero :never" in text, text
        c = srv.client()
        c.send("NICK z")
        c.send("USER zero 0 * :x")
        assert [l for l in c.closed() if " 465 " in l and "never" in l]


def test_kline_host_cidr_and_nick_form():
    with server() as srv:
        o = oper(srv)
        a = client_from(srv, "127.0.0.49")
        a.register("fortynine")
        b = client_from(srv, "127.0.0.52")
        b.register("fiftytwo")
        o.send("KLINE ANDKILL someone!*@127.0.0.48/30 :range")
        notice(o, "Added K-Line for *@127.0.0.48/30")
        notice(o, "1 client removed by the K-Line")
        assert "range" in refused(a)
        b.sync()
        o.send("KLINE bad@host with spaces")
        notice(o, "Added K-Line for bad@host")
        o.send("STATS k")
        o.expect(r" 216 opal K host \* bad :with spaces$")
