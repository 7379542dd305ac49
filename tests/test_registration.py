"""Registration and connection life: NICK/USER/PASS, CAP negotiation, the
welcome burst (001-005, LUSERS, MOTD), ISUPPORT values from the config,
NICK errors and changes, server passwords, registration and ping
timeouts, QUIT (irc.c)."""

import itertools
import re
import socket
import time

from ergotest import Server, Client, ErgoTestError, run_ergo

srv = None
_ids = itertools.count(1)


def setup_module():
    global srv
    srv = Server()


def nick(base="r"):
    """A nick not used before in this module (the shared server may not
    have processed an earlier test's disconnect yet)."""
    return "%s%d" % (base, next(_ids))


def numerics(lines):
    """The numeric of each server numeric line, in order."""
    out = []
    for l in lines:
        m = re.match(r"^:\S+ (\d{3}) ", l)
        if m:
            out.append(m.group(1))
    return out


def isupport(lines):
    """The 005 tokens as a dict (value None for a bare token)."""
    toks = {}
    for l in lines:
        m = re.match(r"^:\S+ 005 \S+ (.*?) :", l)
        if not m:
            continue
        for t in m.group(1).split():
            k, sep, v = t.partition("=")
            toks[k] = v if sep else None
    return toks


def genpasswd(password):
    p = run_ergo("genpasswd", input=password + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    return [l for l in p.stdout.splitlines() if l.strip()][-1].strip()


def join(c, chan):
    c.send("JOIN %s" % chan)
    c.expect(r"^:\S+ 366 \S+ %s " % re.escape(chan))


# ---------------------------------------------------------------- welcome

def test_welcome_burst_order():
    n = nick()
    c = srv.client()
    c.send("NICK %s" % n)
    c.send("USER %s 0 * :Real Name" % n)
    lines = c.lines_until(r"^:\S+ (376|422) ")
    nums = numerics(lines)
    for want in ("001", "002", "003", "004", "005", "251"):
        assert want in nums, "no %s in welcome burst: %r" % (want, lines)
    assert nums[:4] == ["001", "002", "003", "004"], nums
    last005 = max(i for i, x in enumerate(nums) if x == "005")
    first005 = nums.index("005")
    assert all(x == "005" for x in nums[first005:last005 + 1]), nums
    assert nums.index("251") > last005, "LUSERS before ISUPPORT: %r" % nums
    assert nums[-1] in ("376", "422"), nums
    assert nums.index("251") < len(nums) - 1
    # MOTD (or its absence) comes after LUSERS
    motd_start = [i for i, x in enumerate(nums) if x in ("375", "422")]
    assert motd_start and motd_start[0] > nums.index("251"), nums
    # every numeric is addressed to the new nick
    for l in lines:
        if re.match(r"^:\S+ \d{3} ", l):
            assert l.split()[2] == n, l


def test_welcome_001_has_full_prefix():
    n = nick()
    c = srv.client()
    c.send("NICK %s" % n)
    c.send("USER someuser 0 * :Real Name")
    l = c.expect_numeric("001")
    assert l.startswith(":irc.test 001 %s :" % n), l
    assert "%s!~someuser@127.0.0.1" % n in l, l
    assert "TestNet" in l, l
    c.expect(r"^:\S+ (376|422) ")


def test_welcome_002_004_content():
    c = srv.client()
    n = nick()
    lines = c.register(n)
    l2 = [l for l in lines if " 002 " in l][0]
    assert "irc.test" in l2, l2
    l4 = [l for l in lines if " 004 " in l][0]
    parts = l4.split()
    assert parts[3] == "irc.test", l4
    assert len(parts) >= 7, l4


def test_user_before_nick_registers():
    n = nick()
    c = srv.client()
    c.send("USER %s 0 * :Real Name" % n)
    lines = c.sync()
    assert "001" not in numerics(lines), lines
    c.send("NICK %s" % n)
    l = c.expect_numeric("001")
    assert "%s!~%s@127.0.0.1" % (n, n) in l, l
    c.expect(r"^:\S+ (376|422) ")


def test_nick_alone_does_not_register():
    c = srv.client()
    c.send("NICK %s" % nick())
    lines = c.sync()
    assert "001" not in numerics(lines), lines


def test_realname_with_spaces_and_ident_cleaned():
    n = nick()
    c = srv.client()
    c.send("NICK %s" % n)
    c.send("USER we$ird 0 * :A Real  Name: yes")
    l = c.expect_numeric("001")
    # the ident shown never holds characters a prefix cannot carry
    m = re.search(r"%s!(\S+)@127\.0\.0\.1" % n, l)
    assert m, l
    assert "$" not in m.group(1), l
    assert m.group(1).startswith("~"), l
    c.expect(r"^:\S+ (376|422) ")


# ---------------------------------------------------------------- CAP

def test_cap_ls_suspends_registration_until_end():
    n = nick()
    c = srv.client()
    c.send("CAP LS 302")
    c.send("NICK %s" % n)
    c.send("USER %s 0 * :Real Name" % n)
    # a 302 list may take several lines: up to the one without "*"
    l = " ".join(c.lines_until(r"^:\S+ CAP \* LS :"))
    assert "multi-prefix" in l, l
    lines = c.sync()
    assert "001" not in numerics(lines), \
        "registered before CAP END: %r" % lines
    c.send("CAP END")
    c.expect_numeric("001")
    c.expect(r"^:\S+ (376|422) ")


def test_cap_ls_without_version():
    c = srv.client()
    c.send("CAP LS")
    l = c.expect(r"^:\S+ CAP \* LS ")
    assert "multi-prefix" in l, l
    assert "userhost-in-names" in l, l


def test_cap_req_ack_and_list():
    n = nick()
    c = srv.client()
    c.send("CAP LS 302")
    c.expect(r" CAP \* LS ")
    c.send("CAP REQ :multi-prefix userhost-in-names")
    l = c.expect(r" CAP \* (ACK|NAK) ")
    assert re.search(r" CAP \* ACK :multi-prefix userhost-in-names$", l), l
    c.send("CAP LIST")
    l = c.expect(r" CAP \* LIST ")
    caps = l.split(" :", 1)[1].split()
    assert "multi-prefix" in caps and "userhost-in-names" in caps, l
    c.send("NICK %s" % n)
    c.send("USER %s 0 * :Real Name" % n)
    c.send("CAP END")
    c.expect_numeric("001")
    c.expect(r"^:\S+ (376|422) ")
    # the caps hold after registration; LIST now names the nick
    c.send("CAP LIST")
    l = c.expect(r" CAP %s LIST " % n)
    assert "multi-prefix" in l.split(" :", 1)[1].split(), l


def test_cap_req_unknown_naks_whole_request():
    c = srv.client()
    c.send("CAP LS 302")
    c.expect(r" CAP \* LS ")
    c.send("CAP REQ :multi-prefix no-such-cap-xyz")
    l = c.expect(r" CAP \* (ACK|NAK) ")
    assert re.search(r" CAP \* NAK :multi-prefix no-such-cap-xyz$", l), l
    c.send("CAP LIST")
    l = c.expect(r" CAP \* LIST ")
    caps = l.split(" :", 1)[1].split() if " :" in l else []
    assert "multi-prefix" not in caps, \
        "NAKed request still enabled a cap: %s" % l


def test_cap_req_remove():
    c = srv.client()
    c.send("CAP REQ :multi-prefix")
    c.expect(r" CAP \* ACK :multi-prefix$")
    c.send("CAP REQ :-multi-prefix")
    c.expect(r" CAP \* ACK :-multi-prefix$")
    c.send("CAP LIST")
    l = c.expect(r" CAP \* LIST ")
    assert "multi-prefix" not in l.split(" :", 1)[1].split(), l


def test_cap_req_suspends_registration():
    n = nick()
    c = srv.client()
    c.send("CAP REQ :multi-prefix")
    c.send("NICK %s" % n)
    c.send("USER %s 0 * :Real Name" % n)
    c.expect(r" CAP \* ACK ")
    lines = c.sync()
    assert "001" not in numerics(lines), lines
    c.send("CAP END")
    c.expect_numeric("001")


def test_cap_unknown_subcommand_410():
    c = srv.client()
    c.send("CAP FOO")
    l = c.expect_numeric("410")
    assert re.match(r"^:irc\.test 410 \* FOO :", l), l


def test_cap_after_registration():
    n = nick()
    c = srv.client(n)
    c.send("CAP REQ :multi-prefix")
    c.expect(r"^:irc\.test CAP %s ACK :multi-prefix$" % n)
    c.send("CAP LS 302")
    c.expect(r" CAP %s LS " % n)
    # CAP LS after registration must not suspend anything: commands work
    c.send("JOIN #capafter")
    c.expect_numeric("366")


# ---------------------------------------------------------------- ISUPPORT

ISUPPORT_TOKENS = ("AWAYLEN CASEMAPPING CHANLIMIT CHANMODES CHANNELLEN "
                   "CHANTYPES ELIST EXCEPTS INVEX KICKLEN MAXLIST MODES "
                   "NETWORK NICKLEN PREFIX STATUSMSG TARGMAX TOPICLEN "
                   "USERLEN").split()


def test_isupport_has_every_token():
    c = srv.client()
    toks = isupport(c.register(nick()))
    missing = [t for t in ISUPPORT_TOKENS if t not in toks]
    assert not missing, "005 lacks %s: %r" % (missing, toks)
    assert toks["NETWORK"] == "TestNet", toks
    assert toks["CASEMAPPING"] == "ascii", toks
    assert toks["NICKLEN"] == "32", toks
    assert toks["CHANNELLEN"] == "64", toks
    assert toks["TOPICLEN"] == "390", toks
    assert toks["AWAYLEN"] == "390", toks
    assert toks["KICKLEN"] == "390", toks
    assert toks["PREFIX"] == "(qaohv)~&@%+", toks
    assert toks["EXTBAN"] == ",am" and toks["ACCOUNTEXTBAN"] == "a", toks
    assert toks["FORWARD"] == "f", toks
    assert "#" in toks["CHANTYPES"], toks
    assert toks["STATUSMSG"] is not None and "@" in toks["STATUSMSG"] \
        and "+" in toks["STATUSMSG"], toks
    assert toks["EXCEPTS"] in ("e", None), toks
    assert toks["INVEX"] in ("I", None), toks
    assert re.search(r"(^|,)PRIVMSG:4(,|$)", toks["TARGMAX"]), toks
    assert re.search(r"(^|,)NOTICE:4(,|$)", toks["TARGMAX"]), toks
    assert "100" in toks["CHANLIMIT"], toks
    assert "100" in toks["MAXLIST"], toks
    # CHANMODES lists the four classes with the modes this server has
    classes = toks["CHANMODES"].split(",")
    assert len(classes) == 4, toks
    for m in "beI":
        assert m in classes[0], toks
    assert "k" in classes[1] and "l" in classes[2], toks
    assert "f" in classes[2], toks
    for m in "CMRUimnpstu":
        assert m in classes[3], toks


def test_isupport_lines_fit():
    c = srv.client()
    lines = c.register(nick())
    for l in lines:
        if " 005 " in l:
            assert len(l.encode()) <= 510, l
            assert l.endswith(":are supported by this server"), l


def test_isupport_values_from_config():
    s = Server(server="casemapping rfc1459",
               conf="limits { nicklen 20  channellen 50  topiclen 300  "
                    "awaylen 200  kicklen 250  targmax 3  identlen 10 }\n"
                    "channels { max-per-user 7  max-list-entries 42 }\n")
    c = s.client()
    toks = isupport(c.register("cfgnick"))
    assert toks.get("NICKLEN") == "20", toks
    assert toks.get("CHANNELLEN") == "50", toks
    assert toks.get("TOPICLEN") == "300", toks
    assert toks.get("AWAYLEN") == "200", toks
    assert toks.get("KICKLEN") == "250", toks
    assert toks.get("CASEMAPPING") == "rfc1459", toks
    assert re.search(r"(^|,)PRIVMSG:3(,|$)", toks.get("TARGMAX", "")), toks
    assert "7" in toks.get("CHANLIMIT", ""), toks
    assert "42" in toks.get("MAXLIST", ""), toks
    userlen = int(toks["USERLEN"])
    # a long ident is cut so that what is shown fits USERLEN
    d = s.client()
    d.send("NICK identcut")
    d.send("USER abcdefghijklmnopqrstuvwxyz 0 * :x")
    l = d.expect_numeric("001")
    ident = re.search(r"identcut!(\S+)@", l).group(1)
    assert len(ident) <= userlen, (ident, userlen)
    assert ident.startswith("~abcdefg"), ident
    # the advertised NICKLEN is the one enforced
    e = s.client()
    e.send("NICK " + "n" * 21)
    e.expect_numeric("432")
    e.send("NICK " + "n" * 20)
    e.send("USER u 0 * :x")
    e.expect_numeric("001")


def test_isupport_network_name_from_config():
    s = Server(config="network { name OtherNet }\n"
               "server {\n name irc.test\n listen 127.0.0.1:{port}\n"
               " fakelag { enabled no }\n}\n"
               "datastore { path ircd.db }\n")
    c = s.client()
    lines = c.register("netnick")
    assert isupport(lines).get("NETWORK") == "OtherNet", lines
    assert "OtherNet" in [l for l in lines if " 001 " in l][0]


# ---------------------------------------------------------------- pre-reg

def test_commands_before_registration_451():
    c = srv.client()
    # every command that needs registration, with and without parameters
    for cmd in ("JOIN #x", "PRIVMSG foo :hi", "NOTICE foo :hi",
                "MODE #x", "WHOIS foo", "NAMES", "LIST", "AWAY :x",
                "TOPIC #x", "PART #x", "KICK #x foo", "INVITE foo #x",
                "WHO", "WHOWAS foo", "ISON foo", "USERHOST foo", "MOTD",
                "LUSERS", "VERSION", "TIME", "ADMIN", "INFO",
                "OPER a b", "KILL foo :x", "WALLOPS :x", "REHASH", "DIE",
                "BATCH +1 draft/multiline foo", "REDACT #x id",
                "CHGHOST foo u h",
                "JOIN", "KICK", "MODE"):
        c.send(cmd)
        l = c.expect(r"^:\S+ \d{3} ")
        assert re.match(r"^:irc\.test 451 \* ", l), (cmd, l)


def test_ping_before_registration():
    c = srv.client()
    c.send("PING :early")
    c.expect(r"^:irc\.test PONG irc\.test :?early$")
    c.send("NICK %s" % nick())
    c.send("PING :early2")
    c.expect(r"PONG irc\.test :?early2$")


def test_unknown_command_before_registration():
    c = srv.client()
    c.send("FOOBAR x")
    l = c.expect(r"^:\S+ \d{3} ")
    assert re.match(r"^:irc\.test (451|421) \* ", l), l


def test_user_needs_four_params_461():
    c = srv.client()
    c.send("USER onlythree 0 *")
    l = c.expect_numeric("461")
    assert re.match(r"^:irc\.test 461 \* USER :", l), l
    c.send("USER")
    c.expect(r"^:irc\.test 461 \* USER :")
    # and a proper USER afterwards still works
    n = nick()
    c.send("NICK %s" % n)
    c.send("USER %s 0 * :Real" % n)
    c.expect_numeric("001")


def test_reregister_462():
    n = nick()
    c = srv.client(n)
    c.send("USER again 0 * :Again")
    l = c.expect_numeric("462")
    assert l.startswith(":irc.test 462 %s :" % n), l
    c.send("PASS something")
    c.expect(r"^:irc\.test 462 %s :" % n)


def test_double_user_before_nick_462():
    c = srv.client()
    c.send("USER a 0 * :A")
    c.send("USER b 0 * :B")
    c.expect(r"^:irc\.test 462 \* :")


# ---------------------------------------------------------------- NICK

def test_nick_no_param_431():
    c = srv.client()
    c.send("NICK")
    l = c.expect_numeric("431")
    assert l.startswith(":irc.test 431 * :"), l
    c.send("NICK :")
    c.expect_numeric("431")
    n = nick()
    d = srv.client(n)
    d.send("NICK")
    l = d.expect_numeric("431")
    assert l.startswith(":irc.test 431 %s :" % n), l


def test_nick_erroneous_432():
    c = srv.client()
    for bad in ("a$b", "1abc", "-dash", "a.b", "a!b", "a@b", "#chan",
                "x" * 33, "caf\u00e9"):
        c.send("NICK %s" % bad)
        l = c.expect(r"^:\S+ \d{3} ")
        assert re.match(r"^:irc\.test 432 \* ", l), (bad, l)
        assert bad in l, (bad, l)
    # the longest allowed nick is accepted
    n = "y" * 31 + str(next(_ids) % 10)
    c.send("NICK %s" % n)
    c.send("USER u 0 * :x")
    c.expect(r"^:irc\.test 001 %s " % n)


def test_nick_erroneous_after_registration_keeps_nick():
    n = nick()
    c = srv.client(n)
    c.send("NICK 9lives")
    l = c.expect_numeric("432")
    assert l.startswith(":irc.test 432 %s 9lives :" % n), l
    c.send("WHOIS %s" % n)
    c.expect_numeric("311")


def test_nick_in_use_433():
    n = nick("Foo")
    a = srv.client(n)
    b = srv.client()
    b.send("NICK %s" % n)
    l = b.expect_numeric("433")
    assert re.match(r"^:irc\.test 433 \* %s :" % n, l), l
    # case-insensitively too
    b.send("NICK %s" % n.lower())
    b.expect(r"^:irc\.test 433 \* %s :" % n.lower())
    b.send("NICK %s" % n.upper())
    b.expect(r"^:irc\.test 433 \* %s :" % n.upper())
    # and for a registered client changing nick
    m = nick()
    c = srv.client(m)
    c.send("NICK %s" % n.lower())
    c.expect(r"^:irc\.test 433 %s %s :" % (m, n.lower()))
    del a


def test_nick_in_use_by_unregistered_client():
    n = nick()
    a = srv.client()
    a.send("NICK %s" % n)
    a.sync()
    b = srv.client()
    b.send("NICK %s" % n)
    b.expect(r"^:irc\.test 433 \* %s :" % n)


def test_reconnect_at_once_gets_its_nick_back():
    # A client whose connection drops closes it and reconnects at once (a
    # bouncer on the same host): the old connection's end is seen before
    # the new one's NICK, even when NICK arrives with the connect.
    for _ in range(30):
        reconnect_gets_nick_back(srv, nick("back"))


def reconnect_gets_nick_back(srv, n):
    """n registers and closes; a new connection at once sends NICK n with
    its first bytes and is welcomed as n (not 433)."""
    srv.client(n).close()
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        s.sendall(("NICK %s\r\nUSER u 0 * :r\r\n" % n).encode())
        got = b""
        deadline = time.monotonic() + 5
        while not re.search(rb" (001|433) ", got):
            assert time.monotonic() < deadline, got
            data = s.recv(4096)
            assert data, got
            got += data
        assert re.search(rb"^:irc\.test 001 %s " % n.encode(), got,
                         re.M), got
    finally:
        s.close()


def test_nick_rfc1459_collision():
    s = Server(server="casemapping rfc1459")
    a = s.client("a[x]\\")
    b = s.client()
    b.send("NICK a{x}|")
    b.expect(r"^:irc\.test 433 \* a\{x\}\| :")
    b.send("NICK A[X]|")
    b.expect_numeric("433")
    b.send("NICK a{y}")
    b.send("USER b 0 * :b")
    b.expect_numeric("001")
    del a


def test_nick_ascii_brackets_distinct():
    n = nick("q")
    a = srv.client(n + "[")
    b = srv.client(n + "{")   # registers: not the same nick in ascii
    assert a.nick != b.nick


def test_nick_change_seen_once_by_self_and_peers():
    an, bn, cn = nick("nca"), nick("ncb"), nick("ncc")
    a = srv.client(an)
    b = srv.client(bn)
    c = srv.client(cn)
    ch1, ch2, ch3 = "#%s1" % an, "#%s2" % an, "#%s3" % an
    for ch in (ch1, ch2, ch3):
        join(a, ch)
        join(b, ch)
    new = nick("ncnew")
    a.send("NICK %s" % new)
    want = r"^:%s!~%s@127\.0\.0\.1 NICK :?%s$" % (an, an, new)
    a.expect(want)
    b.expect(want)
    la = a.sync()
    lb = b.sync()
    assert not any(" NICK " in l for l in la), "self saw it twice: %r" % la
    assert not any(" NICK " in l for l in lb), \
        "peer saw it more than once: %r" % lb
    lc = c.sync()
    assert not any(" NICK " in l for l in lc), \
        "a stranger saw the nick change: %r" % lc
    # the new nick is reachable, the old one gone and free
    b.send("PRIVMSG %s :hello" % new)
    a.expect(r"PRIVMSG %s :hello$" % new)
    b.send("PRIVMSG %s :hello" % an)
    b.expect(r"^:irc\.test 401 %s %s " % (bn, an))
    d = srv.client(an)
    assert d.nick == an


def test_nick_change_case_of_own_nick():
    n = nick("case")
    a = srv.client(n)
    a.send("NICK %s" % n.upper())
    a.expect(r"^:%s!\S+ NICK :?%s$" % (n, n.upper()))
    a.send("PING :after")
    a.expect(r"PONG irc\.test :?after$")
    b = srv.client(nick())
    b.send("WHOIS %s" % n)
    l = b.expect_numeric("311")
    assert l.split()[3] == n.upper(), l


def test_nick_same_nick_is_silent():
    n = nick()
    a = srv.client(n)
    a.send("NICK %s" % n)
    lines = a.sync()
    assert not lines, lines


def test_nick_change_before_registration():
    n1, n2 = nick(), nick()
    c = srv.client()
    c.send("NICK %s" % n1)
    c.send("NICK %s" % n2)
    c.send("USER u 0 * :x")
    c.expect(r"^:irc\.test 001 %s " % n2)
    # the first nick was released
    d = srv.client(n1)
    assert d.nick == n1


# ---------------------------------------------------------------- PASS

_pwhash = None


def pw_server():
    global _pwhash
    if _pwhash is None:
        _pwhash = genpasswd("s3cret-server-pw")
    return Server(server='password "%s"' % _pwhash)


def test_server_password_right():
    s = pw_server()
    c = s.client()
    c.send("PASS s3cret-server-pw")
    c.send("NICK pwok")
    c.send("USER pwok 0 * :x")
    c.expect_numeric("001")
    c.expect(r"^:\S+ (376|422) ")
    # wrong one: 464 and the connection is closed. One write, as a real
    # client sends it: the server closes at the PASS, and lines written
    # after that meet a closed socket (EPIPE here, or a reset that can
    # drop the 464 before it is read).
    d = s.client()
    d.send_raw("PASS wrong-password\r\nNICK pwbad\r\nUSER pwbad 0 * :x\r\n")
    lines = d.closed()
    assert any(re.match(r"^:irc\.test 464 \S+ :", l) for l in lines), lines
    assert any(l.startswith("ERROR ") for l in lines), lines
    assert not any(" 001 " in l for l in lines), lines
    # no PASS at all: 464 and closed
    e = s.client()
    e.send("NICK pwnone")
    e.send("USER pwnone 0 * :x")
    lines = e.closed()
    assert any(re.match(r"^:irc\.test 464 \S+ :", l) for l in lines), lines
    assert not any(" 001 " in l for l in lines), lines
    # the good client is unaffected
    c.send("PING :still")
    c.expect(r"PONG irc\.test :?still$")


def test_pass_ignored_without_server_password():
    c = srv.client()
    c.send("PASS whatever")
    n = nick()
    c.send("NICK %s" % n)
    c.send("USER %s 0 * :x" % n)
    c.expect_numeric("001")


# ---------------------------------------------------------------- timeouts

def test_registration_timeout():
    s = Server(server="timeouts { registration 1s }")
    idle = s.client()
    half = s.client()
    half.send("NICK halfway")
    reg = s.client("stays")
    lines = idle.closed(timeout=5)
    assert any(l.startswith("ERROR ") for l in lines), lines
    lines = half.closed(timeout=5)
    assert any(l.startswith("ERROR ") for l in lines), lines
    # a registered client is not subject to it
    reg.send("PING :alive")
    reg.expect(r"PONG irc\.test :?alive$")


def test_idle_ping_and_pong_keeps_connection():
    s = Server(server="timeouts { idle 1s  ping 1s }")
    c = s.client("pinged")
    l = c.expect(r"^PING ", timeout=5)
    token = l.split(" ", 1)[1]
    c.send("PONG %s" % token)
    # still there: a second idle PING arrives later
    l = c.expect(r"^PING ", timeout=5)
    c.send("PONG %s" % l.split(" ", 1)[1])
    c.send("PING :ok")
    c.expect(r"PONG irc\.test :?ok$")


def test_ping_timeout_disconnects():
    s = Server(server="timeouts { idle 1s  ping 1s }")
    peer = s.client("watcher")
    c = s.client("silent")
    join(c, "#pt")
    join(peer, "#pt")
    c.expect(r"^PING ", timeout=5)
    # ... and never answer; keep the watcher alive meanwhile
    lines = c.closed(timeout=6)
    assert any(re.match(r"^ERROR :.*Ping timeout", l) for l in lines), lines
    peer.send("PONG :irc.test")
    l = peer.expect(r"^:silent!\S+ QUIT ", timeout=5)
    assert "Ping timeout" in l, l


# ---------------------------------------------------------------- QUIT

def test_quit_sends_error_and_peers_see_quit():
    an, bn = nick("qa"), nick("qb")
    a = srv.client(an)
    b = srv.client(bn)
    join(a, "#" + an)
    join(b, "#" + an)
    a.send("QUIT :see you later")
    lines = a.closed()
    assert any(l.startswith("ERROR ") for l in lines), lines
    b.expect(r"^:%s!~%s@127\.0\.0\.1 QUIT :Quit: see you later$" % (an, an))
    # and the nick is free again
    c = srv.client(an)
    assert c.nick == an


def test_lines_after_quit_in_the_same_write_are_not_processed():
    an, bn = nick("qx"), nick("qy")
    a = srv.client(an)
    b = srv.client(bn)
    a.send_raw("QUIT :gone\r\nPRIVMSG %s :after quit\r\n" % bn)
    a.closed()
    lines = b.sync()
    assert not any("after quit" in l for l in lines), lines


def test_quit_before_registration():
    c = srv.client()
    c.send("NICK %s" % nick())
    c.send("QUIT")
    lines = c.closed()
    assert any(l.startswith("ERROR ") for l in lines), lines


def test_quit_seen_once_with_several_shared_channels():
    an, bn = nick("qs"), nick("qt")
    a = srv.client(an)
    b = srv.client(bn)
    for i in range(3):
        join(a, "#%s-%d" % (an, i))
        join(b, "#%s-%d" % (an, i))
    a.send("QUIT :bye")
    b.expect(r"^:%s!\S+ QUIT :" % an)
    lines = b.sync()
    assert not any(" QUIT " in l for l in lines), lines


def test_connection_drop_is_quit_for_peers():
    an, bn = nick("da"), nick("db")
    a = srv.client(an)
    b = srv.client(bn)
    join(a, "#" + an)
    join(b, "#" + an)
    a.close()
    l = b.expect(r"^:%s!\S+ QUIT :" % an)
    assert len(l.split(" :", 1)[1]) > 0, l


# ---------------------------------------------------------------- lengths

def test_realname_truncated_to_realnamelen_utf8_safe():
    s = Server(conf="limits { realnamelen 10 }")
    c = s.client()
    c.send("NICK rn")
    # 'a' + 6 two-byte characters = 13 bytes: a cut at 10 bytes would
    # land inside the 5th character
    c.send("USER rn 0 * :a\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9")
    c.expect(r"^:\S+ (376|422) ")
    c.send("WHOIS rn")
    l = c.expect_numeric("311")
    real = l.split(" :", 1)[1]
    assert "\ufffd" not in real, \
        "realname cut inside a UTF-8 sequence: %r" % real
    assert len(real.encode("utf-8")) <= 10, real
    assert real == "a\u00e9\u00e9\u00e9\u00e9", real


def test_quit_reason_truncated_utf8_safe():
    an, bn = nick("qu"), nick("qv")
    a = srv.client(an)
    b = srv.client(bn)
    join(a, "#" + an)
    join(b, "#" + an)
    # 1 + 2*240 bytes: any byte limit at an even offset from "Quit: x"
    # falls inside a character
    a.send("QUIT :x" + "\u00e9" * 240)
    l = b.expect(r"^:%s!\S+ QUIT :" % an)
    assert "\ufffd" not in l, "QUIT reason cut inside a UTF-8 sequence"
    assert len(l.encode("utf-8")) <= 510, len(l.encode("utf-8"))
