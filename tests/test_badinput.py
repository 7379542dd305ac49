"""Bad input from clients: overlong lines and tags (417), NUL bytes, bare
CR, garbage, unknown and numeric commands, odd spacing, tags, empty
lines and many lines in one write. The server answers with the right
numeric, never relays what it must not, and keeps serving (net.c,
irc.c)."""

import itertools
import os
import re

from ergotest import Server

srv = None
_ids = itertools.count(1)


def setup_module():
    global srv
    srv = Server()


def nick(base="b"):
    return "%s%d" % (base, next(_ids))


def pair():
    return srv.client(nick("x")), srv.client(nick("y"))


def no_line(c, pattern):
    lines = c.sync()
    bad = [l for l in lines if re.search(pattern, l)]
    assert not bad, "unexpected: %r" % bad
    return lines


def alive(c, token="alive"):
    c.send("PING :%s" % token)
    c.expect(r"PONG irc\.test :?%s$" % token)


# ---------------------------------------------------------------- length

def test_line_of_510_accepted_511_rejected():
    a, b = pair()
    head = "PRIVMSG %s :" % b.nick
    ok = head + "k" * (510 - len(head))
    assert len(ok) == 510
    a.send(ok)
    b.expect(r"PRIVMSG %s :kkkk" % b.nick)
    a.send(ok + "k")
    a.expect(r"^:irc\.test 417 %s :" % a.nick)
    no_line(b, r"PRIVMSG")


def test_600_byte_line_417_and_connection_keeps_working():
    a, b = pair()
    a.send("PRIVMSG %s :%s" % (b.nick, "z" * 600))
    l = a.expect(r"^:\S+ \d{3} ")
    assert re.match(r"^:irc\.test 417 %s :" % a.nick, l), l
    no_line(b, r"PRIVMSG")
    a.send("PRIVMSG %s :after" % b.nick)
    b.expect(r"PRIVMSG %s :after$" % b.nick)


def test_overlong_line_before_registration_417():
    c = srv.client()
    c.send("NICK " + "n" * 700)
    c.expect(r"^:irc\.test 417 \* :")
    n = nick()
    c.send("NICK %s" % n)
    c.send("USER %s 0 * :x" % n)
    c.expect_numeric("001")


# Under the 16 KiB readq (past it the client is disconnected:
# test_conformance_lines.py).
def test_10000_bytes_without_newline_417_once():
    a, b = pair()
    a.send_raw(b"PRIVMSG " + b.nick.encode() + b" :" + b"w" * 10000)
    a.send("")              # the CRLF ending the monster
    a.send("PRIVMSG %s :next" % b.nick)
    b.expect(r"PRIVMSG %s :next$" % b.nick)
    lines = a.sync()
    n417 = [l for l in lines if " 417 " in l]
    assert len(n417) == 1, "want exactly one 417, got %r" % lines
    assert not any("wwww" in l for l in b.sync())


def test_huge_partial_line_in_pieces():
    a, b = pair()
    a.send_raw(b"PRIVMSG " + b.nick.encode() + b" :")
    for _ in range(3):
        a.send_raw(b"q" * 4000)
    a.send_raw(b"\r\nPRIVMSG " + b.nick.encode() + b" :fine\r\n")
    b.expect(r"PRIVMSG %s :fine$" % b.nick)
    lines = a.sync()
    assert len([l for l in lines if " 417 " in l]) == 1, lines
    assert not any("qqqq" in l for l in b.sync())


# ---------------------------------------------------------------- bytes

def test_nul_byte_not_relayed_and_fail():
    a, b = pair()
    a.send_raw(b"PRIVMSG " + b.nick.encode() + b" :hel\x00lo\r\n")
    l = a.expect(r"FAIL|^:\S+ \d{3} ")
    assert re.match(r"^:irc\.test FAIL ", l), l
    lines = b.sync()
    assert not any("PRIVMSG" in x for x in lines), lines
    # a NUL anywhere, even in the command
    a.send_raw(b"PRIV\x00MSG " + b.nick.encode() + b" :x\r\n")
    a.expect(r"^:irc\.test FAIL ")
    no_line(b, r"PRIVMSG")
    alive(a)


def test_nul_byte_before_registration():
    c = srv.client()
    n = nick()
    c.send_raw(b"NICK " + n.encode() + b"\x00x\r\n")
    c.expect(r"^:irc\.test FAIL ")
    c.send("NICK %s" % n)
    c.send("USER u 0 * :x")
    l = c.expect_numeric("001")
    assert " 001 %s " % n in l, l


def test_bare_cr_splits_lines():
    a, b = pair()
    a.send_raw(("PRIVMSG %s :x\rPRIVMSG %s :y\n" % (b.nick, b.nick))
               .encode())
    b.expect(r"PRIVMSG %s :x$" % b.nick)
    b.expect(r"PRIVMSG %s :y$" % b.nick)
    # the raw bytes never hold a CR inside a line
    for l in b.received:
        assert "\r" not in l, repr(l)


def test_cr_never_inside_a_relayed_parameter():
    a, b = pair()
    a.send_raw(("PRIVMSG %s :one\r\rtwo\r\n" % b.nick).encode())
    b.expect(r"PRIVMSG %s :one$" % b.nick)
    lines = b.sync()
    assert all("\r" not in l for l in b.received)
    # "two" is a line of its own: an unknown command, not a message
    assert not any("two" in l for l in lines), lines
    a.expect(r"^:irc\.test 421 %s TWO " % a.nick)


def test_lf_only_line_ending():
    a, b = pair()
    a.send_raw(("PRIVMSG %s :lf only\n" % b.nick).encode())
    b.expect(r"PRIVMSG %s :lf only$" % b.nick)


def test_garbage_bytes_server_survives():
    a, b = pair()
    rnd = os.urandom(4000)
    garbage = bytes(x for x in rnd if x not in (10, 13))
    a.send_raw(garbage + b"\r\n")
    a.send_raw(garbage[:300].replace(b"\x00", b"") + b"\r\n")
    # the other client is unaffected
    alive(b)
    c = srv.client(nick("z"))
    c.send("PRIVMSG %s :still here" % b.nick)
    b.expect(r"PRIVMSG %s :still here$" % b.nick)
    # the sender may even still be connected; if so it answers
    try:
        a.send("PING :survivor")
        a.expect(r"PONG irc\.test :?survivor$")
    except OSError:
        pass


def test_invalid_utf8_does_not_break_anything():
    # UTF8ONLY: refused with FAIL, never relayed; both sides keep working
    a, b = pair()
    a.send_raw(b"PRIVMSG " + b.nick.encode() + b" :\xff\xfe\xc3\r\n")
    a.expect(r"^:irc\.test FAIL PRIVMSG INVALID_UTF8 :")
    no_line(b, r"PRIVMSG")
    alive(a)
    a.send("PRIVMSG %s :fine" % b.nick)
    b.expect(r"PRIVMSG %s :fine$" % b.nick)


def test_invalid_utf8_in_tags_refused_never_echoed_or_relayed():
    # fuzz_dispatch: a batch reference in invalid UTF-8 came back in
    # "FAIL BATCH ... :No multiline batch <ref> is open", and a client
    # tag's value went on to others as it was: the whole line, tags
    # too, must be UTF-8
    a, b = pair()
    for c in (a, b):
        c.send("CAP REQ :message-tags")
        c.expect(r" ACK :message-tags")
    a.send_raw(b"@+draft/reply=\xff\xfe TAGMSG " + b.nick.encode() +
               b"\r\n")
    a.expect(r"^:irc\.test FAIL TAGMSG INVALID_UTF8 :")
    a.send_raw(b"@batch=q\xf9 PRIVMSG " + b.nick.encode() + b" :hi\r\n")
    a.expect(r"^:irc\.test FAIL PRIVMSG INVALID_UTF8 :")
    lines = no_line(b, r"TAGMSG|PRIVMSG")
    assert not any("\ufffd" in l for l in lines), lines
    assert not any("\ufffd" in l for l in no_line(a, r"No multiline")), a
    alive(a)
    a.send("@+draft/reply=ok TAGMSG %s" % b.nick)
    b.expect(r"^@\S*\+draft/reply=ok[; ].*TAGMSG %s$" % b.nick)


def test_invalid_utf8_notice_refused_not_relayed():
    # a NOTICE gets the FAIL too (a malformed command, like 412)
    a, b = pair()
    a.send("JOIN #u8n")
    a.expect(r"JOIN #u8n")
    b.send("JOIN #u8n")
    b.expect(r" 366 ")
    a.send_raw(b"NOTICE #u8n :caf\xe9\r\n")
    a.expect(r"^:irc\.test FAIL NOTICE INVALID_UTF8 :")
    no_line(b, r"NOTICE")
    alive(b)


# ---------------------------------------------------------------- commands

def test_unknown_command_421():
    a = srv.client(nick())
    a.send("FOOBAR baz")
    l = a.expect(r"^:\S+ \d{3} ")
    assert re.match(r"^:irc\.test 421 %s FOOBAR :" % a.nick, l), l
    a.send("foobar")
    a.expect(r"^:irc\.test 421 %s FOOBAR :" % a.nick)


def test_numeric_command_from_client_ignored():
    a, b = pair()
    a.send("001 %s :Welcome fake" % b.nick)
    a.send(":irc.test 433 * %s :fake" % b.nick)
    assert not a.sync(), "server answered a numeric"
    no_line(b, r"fake")


def test_sixteen_parameters():
    a, b = pair()
    params = " ".join("p%d" % i for i in range(2, 17))
    a.send("PRIVMSG %s %s" % (b.nick, params))
    b.expect(r"PRIVMSG %s :p2$" % b.nick)
    a.send("USER " + " ".join("u%d" % i for i in range(1, 17)))
    a.expect(r"^:irc\.test 462 ")
    alive(a)


def test_line_of_only_spaces_ignored():
    a = srv.client(nick())
    a.send(" " * 50)
    a.send(" ")
    lines = a.sync()
    assert not lines, lines


def test_source_only_line_ignored():
    a = srv.client(nick())
    a.send(":some.source")
    a.send(":some.source   ")
    assert not a.sync()


def test_tags_only_line_ignored():
    # a tag section with no command is malformed, not too long: no 417
    a = srv.client(nick())
    a.send("@a=b;c")
    a.send("@a=b ")
    a.send("@a=b :some.source")
    assert not a.sync()


def test_client_source_prefix_ignored():
    a, b = pair()
    a.send(":fake!spoof@host PRIVMSG %s :spoofed?" % b.nick)
    l = b.expect(r"PRIVMSG %s :spoofed\?$" % b.nick)
    assert l.startswith(":%s!~%s@127.0.0.1 " % (a.nick, a.nick)), l


def test_leading_spaces_before_command():
    a = srv.client(nick())
    a.send("   PING :spaced")
    a.expect(r"PONG irc\.test :?spaced$")


def test_tags_accepted_and_processed():
    a, b = pair()
    a.send("@a=b;c PRIVMSG %s :tagged" % b.nick)
    l = b.expect(r"PRIVMSG %s :tagged$" % b.nick)
    assert l.startswith(":%s!" % a.nick), l
    a.send("@+draft/reply=x;label=1 :src PING :t2")
    a.expect(r"PONG irc\.test :?t2$")


def test_large_tags_within_limit_accepted():
    a, b = pair()
    a.send("@a=%s PRIVMSG %s :bigtags" % ("v" * 8000, b.nick))
    b.expect(r"PRIVMSG %s :bigtags$" % b.nick)
    no_line(a, r" 417 ")


def test_tags_over_8191_bytes_417():
    a, b = pair()
    # within net.c's read window but over the tag limit
    a.send("@a=%s PRIVMSG %s :toolong" % ("v" * 8300, b.nick))
    l = a.expect(r"^:\S+ \d{3} ")
    assert re.match(r"^:irc\.test 417 %s :" % a.nick, l), l
    # far over it
    a.send("@a=%s PRIVMSG %s :toolong" % ("v" * 12000, b.nick))
    a.expect(r"^:irc\.test 417 %s :" % a.nick)
    no_line(b, r"toolong")
    alive(a)


def test_tagged_line_with_overlong_body_417():
    a, b = pair()
    a.send("@a=b PRIVMSG %s :%s" % (b.nick, "m" * 600))
    a.expect(r"^:irc\.test 417 %s :" % a.nick)
    no_line(b, r"PRIVMSG")


def test_empty_lines_ignored():
    a = srv.client(nick())
    a.send_raw(b"\r\n\r\n\n\n\r\r\n")
    assert not a.sync()


def test_many_lines_in_one_write_in_order():
    a, b = pair()
    data = "".join("PRIVMSG %s :n%03d\r\n" % (b.nick, i) for i in range(200))
    a.send_raw(data.encode())
    got = []
    while len(got) < 200:
        l = b.expect(r"PRIVMSG %s :n\d{3}$" % b.nick)
        got.append(int(l[-3:]))
    assert got == list(range(200)), got


def test_pipelined_registration_and_commands():
    c = srv.client()
    n = nick("pipe")
    ch = "#" + n
    c.send_raw(("NICK %s\r\nUSER %s 0 * :x\r\nJOIN %s\r\n"
                "PRIVMSG %s :hi\r\nPING :done\r\n" % (n, n, ch, ch))
               .encode())
    c.expect(r"^:irc\.test 001 ")
    c.expect(r"^:%s!\S+ JOIN :?%s$" % (n, ch))
    c.expect(r"PONG irc\.test :?done$")


def test_wrong_param_counts_461():
    a = srv.client(nick())
    # INVITE alone lists your invites (test_conformance_chan.py)
    for cmd in ("JOIN", "PART", "KICK #x", "KICK", "INVITE x",
                "TOPIC", "MODE", "WHOIS", "WHOWAS", "OPER x", "OPER",
                "USERHOST", "ISON", "CAP", "PASS", "USER a b c"):
        a.send(cmd)
        l = a.expect(r"^:\S+ \d{3} ")
        want = cmd.split()[0]
        assert re.match(r"^:irc\.test 461 %s %s :" % (a.nick, want), l), \
            (cmd, l)
