"""WHOX (irc_monitor.c, called by WHO in irc_query.c): WHO <mask>
%<fields>[,<token>] answers with 354 holding the fields asked for in
the order t c u i h s n f d l a o r, then 315; WHOX in 005."""

import itertools
import re

from ergotest import Server

srv = None
_ids = itertools.count(1)
OPER_PW = "whox-oper-pw"


def setup_module():
    global srv
    from ergotest import run_ergo
    p = run_ergo("genpasswd", input=OPER_PW + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    h = [l for l in p.stdout.splitlines() if l.strip()][-1].strip()
    srv = Server(conf='oper wx { class server-admin  password "%s" }' % h)


def nick(base="wx"):
    return "%s%d" % (base, next(_ids))


def params(line):
    head, sep, trailing = line.partition(" :")
    out = head.split(" ")[2:]
    if sep:
        out.append(trailing)
    return out


def who(c, args):
    c.send("WHO %s" % args)
    lines = c.lines_until(r" 315 ")
    return [params(l) for l in lines if " 354 " in l], lines[-1]


def test_whox_in_isupport():
    with srv.client() as c:
        lines = c.register(nick())
        assert any(re.search(r" WHOX[ =]", l) for l in lines), lines


def test_whox_full_field_list():
    n, o = nick("full"), nick("asker")
    with srv.client(n, user="myuser", realname="My Real Name") as a, \
            srv.client(o) as b:
        a.send("JOIN #whoxfull")
        a.expect(r" 366 ")
        rows, end = who(b, "%s %%tcuihsnfdlaor,123" % n)
        assert len(rows) == 1, rows
        r = rows[0]
        assert r[0] == o
        assert r[1] == "123"                      # t
        assert r[2] in ("*", "#whoxfull")         # c
        assert r[3] == "~myuser"                  # u
        assert r[4] == "255.255.255.255"          # i: hidden from others
        assert r[5] == "127.0.0.1"                # h
        assert r[6] == "irc.test"                 # s
        assert r[7] == n                          # n
        assert r[8] == "H"                        # f
        assert r[9] == "0"                        # d
        assert re.match(r"^\d+$", r[10])          # l
        assert r[11] == "0"                       # a: not logged in
        assert r[12] == "n/a"                     # o
        assert r[13] == "My Real Name"            # r, the trailing one
        assert params(end)[:2] == [o, n]


def test_whox_fields_in_spec_order_whatever_asked():
    n = nick("rev")
    with srv.client(n) as a, srv.client(nick()) as b:
        rows, _ = who(b, "%s %%%s,7" % (n, "".join(reversed("tcuihsnfdlaor"))))
        fwd, _ = who(b, "%s %%tcuihsnfdlaor,7" % n)
        assert rows[0][1:10] == fwd[0][1:10] and rows[0][11:] == fwd[0][11:]


def test_whox_token_and_nick_only():
    n = nick("tok")
    with srv.client(n), srv.client(nick()) as b:
        rows, _ = who(b, "%s %%tn,321" % n)
        assert rows == [[b.nick, "321", n]], rows
        rows, _ = who(b, "%s %%n" % n)
        assert rows == [[b.nick, n]], rows
        # t without a token, and a bad token: "0"
        rows, _ = who(b, "%s %%tn" % n)
        assert rows == [[b.nick, "0", n]], rows
        rows, _ = who(b, "%s %%tn,abcd" % n)
        assert rows == [[b.nick, "0", n]], rows


def test_whox_channel_flags_and_prefix():
    a_n, b_n = nick("cha"), nick("chb")
    with srv.client(a_n) as a, srv.client(b_n) as b:
        a.send("JOIN #whoxchan")
        a.expect(r" 366 ")
        b.send("JOIN #whoxchan")
        b.expect(r" 366 ")
        b.send("AWAY :gone")
        b.expect_numeric(306)
        rows, end = who(a, "#whoxchan %cnf")
        got = {r[2]: r for r in rows}
        assert got[a_n] == [a_n, "#whoxchan", a_n, "H@"], rows
        assert got[b_n] == [a_n, "#whoxchan", b_n, "G"], rows
        assert params(end)[1] == "#whoxchan"


def test_whox_oper_flag_and_ip():
    n = nick("op")
    with srv.client(n) as a, srv.client(nick()) as b:
        a.send("OPER wx %s" % OPER_PW)
        a.expect_numeric(381)
        rows, _ = who(b, "%s %%nf" % n)
        assert rows[0][2] == "H*", rows
        # an oper sees the real IP, so does the user itself
        rows, _ = who(a, "%s %%ni" % b.nick)
        assert rows[0][1:] == ["127.0.0.1", b.nick], rows
        rows, _ = who(b, "%s %%ni" % b.nick)
        assert rows[0][1:] == ["127.0.0.1", b.nick], rows


def test_whox_realname_with_spaces_is_trailing():
    n = nick("rn")
    with srv.client(n, realname=":colon and spaces") as a, \
            srv.client(nick()) as b:
        b.send("WHO %s %%nr" % n)
        line = b.expect(r" 354 ")
        assert line.endswith(" %s ::colon and spaces" % n), line


def test_whox_no_match_only_315():
    with srv.client(nick()) as b:
        rows, end = who(b, "nosuchnickatall %n")
        assert rows == [] and params(end)[1] == "nosuchnickatall"


def test_who_without_percent_is_plain_352():
    n = nick("plain")
    with srv.client(n), srv.client(nick()) as b:
        b.send("WHO %s" % n)
        lines = b.lines_until(r" 315 ")
        assert any(" 352 " in l for l in lines)
        assert not any(" 354 " in l for l in lines)


def test_whox_opers_only_flag():
    n = nick("notop")
    with srv.client(n), srv.client(nick()) as b:
        rows, _ = who(b, "%s o%%n" % n)
        assert rows == [], rows


def test_whox_match_fields_before_percent():
    """ircu's WHOX: letters before '%' choose what the mask matches."""
    n = nick("sel")
    with srv.client(n, user="seluser", realname="Findable Person") as a, \
            srv.client(nick()) as b:
        rows, _ = who(b, "%s n%%n" % n)
        assert rows == [[b.nick, n]], rows
        # the nick is not the user name: no match on u only
        rows, _ = who(b, "%s u%%n" % n)
        assert rows == [], rows
        rows, _ = who(b, "~seluser u%n")
        assert [r[1] for r in rows] == [n], rows
        rows, _ = who(b, "*Findable* r%n")
        assert [r[1] for r in rows] == [n], rows
        # without letters the mask matches any field, as plain WHO
        rows, _ = who(b, "*Findable* %n")
        assert [r[1] for r in rows] == [n], rows


def test_whox_match_account():
    n = nick("acc")
    with srv.client(n) as a, srv.client(nick()) as b:
        a.send("NICKSERV REGISTER sesame-%s" % n)
        a.expect(r" 900 ", timeout=15)
        rows, _ = who(b, "%s a%%na" % n)
        assert rows == [[b.nick, n, n]], rows
        rows, _ = who(b, "nosuchaccount a%na")
        assert rows == [], rows


def test_whox_no_known_field_sends_no_empty_parameter():
    # fuzz_dispatch: "WHO #c %" sent "354 asker " with a trailing space
    # (an empty parameter); no field asked for is just the asker's nick
    n, o = nick("nof"), nick("asker")
    with srv.client(n) as a, srv.client(o) as b:
        a.send("JOIN #whoxnof")
        a.expect(r" 366 ")
        for args in ("#whoxnof %", "#whoxnof %,12", "%s %%zq" % n):
            b.send("WHO %s" % args)
            lines = b.lines_until(r" 315 ")
            rows = [l for l in lines if " 354 " in l]
            assert rows, lines
            for l in rows:
                assert l.endswith(" 354 %s" % o), repr(l)
