"""PRIVMSG and NOTICE to nicks and channels, several targets, STATUSMSG,
their error numerics (401 403 404 407 411 412), away replies, PING/PONG
and how long or multi-byte text is relayed (irc.c)."""

import itertools
import re
import select
import time

from ergotest import Server, ErgoTestError

srv = None
_ids = itertools.count(1)


def setup_module():
    global srv
    srv = Server()


def nick(base="m"):
    return "%s%d" % (base, next(_ids))


def join(c, chan):
    c.send("JOIN %s" % chan)
    c.expect(r"^:\S+ 366 \S+ %s " % re.escape(chan))


def no_line(c, pattern):
    """Asserts nothing matching pattern arrived (up to a PING round trip)."""
    lines = c.sync()
    bad = [l for l in lines if re.search(pattern, l)]
    assert not bad, "unexpected: %r" % bad
    return lines


def raw_line(c, pattern, timeout=5):
    """Reads c's socket directly (bytes, CRLF kept) until a full line
    matching the bytes pattern arrives; returns it. Call c.sync() before
    the line is caused, so the harness holds no buffered lines."""
    assert not c.pending, c.pending
    buf = c.buf
    c.buf = b""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while True:
        while b"\n" in buf:
            i = buf.index(b"\n") + 1
            line, buf = buf[:i], buf[i:]
            if rx.search(line):
                c.buf = buf
                return line
        left = deadline - time.monotonic()
        if left <= 0:
            raise ErgoTestError("no raw line matching %r" % pattern)
        r, _, _ = select.select([c.sock], [], [], left)
        if r:
            data = c.sock.recv(65536)
            if not data:
                raise ErgoTestError("closed while waiting for %r" % pattern)
            buf += data


def three():
    """Three registered clients (sender, receiver, third)."""
    return (srv.client(nick("a")), srv.client(nick("b")),
            srv.client(nick("c")))


# ---------------------------------------------------------------- to nicks

def test_privmsg_to_nick():
    a, b, c = three()
    a.send("PRIVMSG %s :hello there, friend: ok" % b.nick)
    b.expect(r"^:%s!~%s@127\.0\.0\.1 PRIVMSG %s :hello there, friend: ok$"
             % (a.nick, a.nick, b.nick))
    no_line(a, r"PRIVMSG")
    no_line(c, r"PRIVMSG")


def test_notice_to_nick():
    a, b, c = three()
    a.send("NOTICE %s :psst" % b.nick)
    b.expect(r"^:%s!~%s@127\.0\.0\.1 NOTICE %s :psst$"
             % (a.nick, a.nick, b.nick))
    no_line(a, r"NOTICE")
    no_line(c, r"NOTICE")


def test_privmsg_nick_case_insensitive():
    a, b, _ = three()
    a.send("PRIVMSG %s :upper" % b.nick.upper())
    b.expect(r"PRIVMSG %s :upper$" % b.nick)


def test_privmsg_single_word_without_colon():
    a, b, _ = three()
    a.send("PRIVMSG %s word" % b.nick)
    b.expect(r"PRIVMSG %s :word$" % b.nick)


def test_privmsg_to_self():
    a = srv.client(nick())
    a.send("PRIVMSG %s :me" % a.nick)
    a.expect(r"^:%s!\S+ PRIVMSG %s :me$" % (a.nick, a.nick))


# ---------------------------------------------------------------- channels

def test_privmsg_to_channel():
    a, b, c = three()
    d = srv.client(nick("d"))
    ch = "#" + a.nick
    for x in (a, b, c):
        join(x, ch)
    a.send("PRIVMSG %s :hi all" % ch)
    want = r"^:%s!~%s@127\.0\.0\.1 PRIVMSG %s :hi all$" % (a.nick, a.nick,
                                                             ch)
    b.expect(want)
    c.expect(want)
    no_line(a, r"PRIVMSG")      # the sender does not get its own message
    no_line(d, r"PRIVMSG")      # a non-member does not either


def test_notice_to_channel():
    a, b, c = three()
    ch = "#" + a.nick
    for x in (a, b):
        join(x, ch)
    a.send("NOTICE %s :note" % ch)
    b.expect(r"^:%s!\S+ NOTICE %s :note$" % (a.nick, ch))
    no_line(a, r"NOTICE")
    no_line(c, r"NOTICE")


def test_privmsg_channel_case_insensitive():
    a, b, _ = three()
    ch = "#Mixed" + a.nick
    join(a, ch)
    join(b, ch)
    a.send("PRIVMSG %s :case" % ch.lower())
    b.expect(r"PRIVMSG %s :case$" % re.escape(ch.lower()))


def test_several_targets():
    a, b, c = three()
    d = srv.client(nick("d"))
    ch = "#" + a.nick
    join(a, ch)
    join(c, ch)
    a.send("PRIVMSG %s,%s :multi" % (b.nick, ch))
    b.expect(r"^:%s!\S+ PRIVMSG %s :multi$" % (a.nick, b.nick))
    c.expect(r"^:%s!\S+ PRIVMSG %s :multi$" % (a.nick, ch))
    no_line(a, r"PRIVMSG")
    no_line(d, r"PRIVMSG")


def test_several_targets_up_to_targmax():
    a = srv.client(nick("a"))
    others = [srv.client(nick("t")) for _ in range(4)]
    a.send("PRIVMSG %s :four" % ",".join(o.nick for o in others))
    for o in others:
        o.expect(r"PRIVMSG %s :four$" % o.nick)
    no_line(a, r" 407 ")


def test_too_many_targets_407_nothing_delivered():
    a = srv.client(nick("a"))
    others = [srv.client(nick("t")) for _ in range(5)]
    a.send("PRIVMSG %s :five" % ",".join(o.nick for o in others))
    l = a.expect(r"^:\S+ \d{3} ")
    assert re.match(r"^:irc\.test 407 %s " % a.nick, l), l
    for o in others:
        no_line(o, r"PRIVMSG")
    a.send("NOTICE %s :five" % ",".join(o.nick for o in others))
    a.expect(r"^:irc\.test 407 %s " % a.nick)
    for o in others:
        no_line(o, r"NOTICE")


def test_targmax_from_config():
    s = Server(conf="limits { targmax 2 }")
    a = s.client("tma")
    b = s.client("tmb")
    c = s.client("tmc")
    a.send("PRIVMSG tmb,tmc :two")
    b.expect(r"PRIVMSG tmb :two$")
    c.expect(r"PRIVMSG tmc :two$")
    a.send("PRIVMSG tmb,tmc,tma :three")
    a.expect(r"^:irc\.test 407 tma ")
    no_line(b, r"three")


# ---------------------------------------------------------------- errors

def test_no_such_nick_401():
    a = srv.client(nick())
    a.send("PRIVMSG nobody-here :x")
    l = a.expect(r"^:\S+ \d{3} ")
    assert re.match(r"^:irc\.test 401 %s nobody-here :" % a.nick, l), l


def test_notice_never_gets_a_target_error():
    # RFC 2812 3.3.2: no automatic reply to a NOTICE, from servers either
    # (as Ergo and charybdis do): no 401, 403 or 404, while the other
    # targets of the same NOTICE still get it
    a, b, _ = three()
    ch = "#n" + a.nick
    join(b, ch)             # +n: a is outside
    a.send("NOTICE nobody-here,#no-such-chan-here,%s,%s :quiet"
           % (ch, b.nick))
    b.expect(r"NOTICE %s :quiet$" % b.nick)
    no_line(a, r" 40[134] ")
    no_line(b, r"NOTICE %s " % re.escape(ch))


def test_unregistered_nick_is_401():
    a = srv.client(nick())
    n = nick("u")
    u = srv.client()
    u.send("NICK %s" % n)
    u.sync()
    a.send("PRIVMSG %s :x" % n)
    a.expect(r"^:irc\.test 401 %s %s :" % (a.nick, n))
    no_line(u, r"PRIVMSG")


def test_no_such_channel_403():
    a = srv.client(nick())
    a.send("PRIVMSG #no-such-chan-here :x")
    l = a.expect(r"^:\S+ \d{3} ")
    assert re.match(r"^:irc\.test 403 %s #no-such-chan-here :" % a.nick,
                    l), l


def test_error_for_one_target_others_delivered():
    a, b, _ = three()
    a.send("PRIVMSG nobody-xyz,%s :partial" % b.nick)
    a.expect(r"^:irc\.test 401 %s nobody-xyz " % a.nick)
    b.expect(r"PRIVMSG %s :partial$" % b.nick)


def test_cannot_send_to_channel_404():
    a, b, _ = three()
    ch = "#" + a.nick
    join(a, ch)             # default modes +nt: no external messages
    b.send("PRIVMSG %s :from outside" % ch)
    l = b.expect(r"^:\S+ \d{3} ")
    assert re.match(r"^:irc\.test 404 %s %s :" % (b.nick, re.escape(ch)),
                    l), l
    no_line(a, r"from outside")


def test_no_recipient_411():
    a = srv.client(nick())
    a.send("PRIVMSG")
    l = a.expect(r"^:\S+ \d{3} ")
    assert re.match(r"^:irc\.test 411 %s :" % a.nick, l), l
    a.send("NOTICE")
    a.expect(r"^:irc\.test 411 %s :" % a.nick)


def test_no_text_412():
    a, b, _ = three()
    a.send("PRIVMSG %s" % b.nick)
    l = a.expect(r"^:\S+ \d{3} ")
    assert re.match(r"^:irc\.test 412 %s :" % a.nick, l), l
    a.send("PRIVMSG %s :" % b.nick)
    a.expect(r"^:irc\.test 412 %s :" % a.nick)
    no_line(b, r"PRIVMSG")


# ---------------------------------------------------------------- STATUSMSG

def test_statusmsg_ops_and_voiced():
    op = srv.client(nick("op"))
    ch = "#" + op.nick
    join(op, ch)
    voiced = srv.client(nick("vo"))
    plain = srv.client(nick("pl"))
    sender = srv.client(nick("se"))
    for x in (voiced, plain, sender):
        join(x, ch)
    op.send("MODE %s +v %s" % (ch, voiced.nick))
    for x in (op, voiced, plain, sender):
        x.expect(r" MODE %s \+v %s$" % (re.escape(ch), voiced.nick))

    sender.send("PRIVMSG @%s :ops only" % ch)
    op.expect(r"^:%s!\S+ PRIVMSG @%s :ops only$" % (sender.nick,
                                                     re.escape(ch)))
    no_line(voiced, r"ops only")
    no_line(plain, r"ops only")
    no_line(sender, r"ops only")

    sender.send("PRIVMSG +%s :voice and up" % ch)
    op.expect(r"^:%s!\S+ PRIVMSG \+%s :voice and up$"
              % (sender.nick, re.escape(ch)))
    voiced.expect(r"^:%s!\S+ PRIVMSG \+%s :voice and up$"
                  % (sender.nick, re.escape(ch)))
    no_line(plain, r"voice and up")
    no_line(sender, r"voice and up")

    sender.send("NOTICE @%s :op notice" % ch)
    op.expect(r"NOTICE @%s :op notice$" % re.escape(ch))
    no_line(plain, r"op notice")


# ---------------------------------------------------------------- away

def test_away_reply_for_privmsg_not_notice():
    a, b, _ = three()
    b.send("AWAY :gone fishing")
    b.expect_numeric("306")
    a.send("PRIVMSG %s :are you there" % b.nick)
    l = a.expect_numeric("301")
    assert re.match(r"^:irc\.test 301 %s %s :gone fishing$"
                    % (a.nick, b.nick), l), l
    b.expect(r"PRIVMSG %s :are you there$" % b.nick)
    a.send("NOTICE %s :no auto reply" % b.nick)
    b.expect(r"NOTICE %s :no auto reply$" % b.nick)
    no_line(a, r" 301 ")
    b.send("AWAY")
    b.expect_numeric("305")
    a.send("PRIVMSG %s :back?" % b.nick)
    b.expect(r"back\?$")
    no_line(a, r" 301 ")


# ---------------------------------------------------------------- PING

def test_ping_pong_token():
    a = srv.client(nick())
    a.send("PING token123")
    a.expect(r"^:irc\.test PONG irc\.test :?token123$")
    a.send("PING :with spaces in it")
    a.expect(r"^:irc\.test PONG irc\.test :with spaces in it$")


def test_ping_no_origin_409():
    a = srv.client(nick())
    a.send("PING")
    l = a.expect(r"^:\S+ \d{3} ")
    assert re.match(r"^:irc\.test 409 %s :" % a.nick, l), l
    a.send("PING :")
    a.expect(r"^:irc\.test 409 %s :" % a.nick)


def test_pong_from_client_is_silent():
    a = srv.client(nick())
    a.send("PONG :irc.test")
    a.send("PONG")
    lines = a.sync()
    assert not lines, lines


# ---------------------------------------------------------------- text

# A 510-byte line relayed with the sender's prefix is longer than 512:
# relayed whole, never cut (issue 20, as Ergo does).
def test_long_message_relayed_whole_past_512():
    a, b, _ = three()
    head = "PRIVMSG %s :" % b.nick
    text = ("0123456789" * 60)[:510 - len(head)]
    b.sync()                # nothing buffered: read the socket raw
    a.send(head + text)     # exactly 510 bytes + CRLF: accepted
    line = raw_line(b, rb"PRIVMSG")
    assert line.endswith(b"\r\n"), line[-10:]
    assert len(line) > 512, len(line)
    assert b"\r" not in line[:-2] and b"\n" not in line[:-2]
    full = (":%s!~%s@127.0.0.1 PRIVMSG %s :%s"
            % (a.nick, a.nick, b.nick, text)).encode()
    assert full == line[:-2], line
    no_line(a, r" 417 ")


def test_long_channel_message_relayed_whole_past_512():
    a, b, _ = three()
    ch = "#" + a.nick
    join(a, ch)
    join(b, ch)
    head = "PRIVMSG %s :" % ch
    text = ("abcdefghij" * 60)[:510 - len(head)]
    b.sync()
    a.send(head + text)
    line = raw_line(b, rb"PRIVMSG")
    assert line.endswith(b"\r\n") and len(line) > 512, len(line)
    full = (":%s!~%s@127.0.0.1 PRIVMSG %s :%s"
            % (a.nick, a.nick, ch, text)).encode()
    assert full == line[:-2], line


def test_utf8_text_relayed_intact():
    a, b, _ = three()
    text = "h\u00e9llo w\u00f6rld \u20ac \U0001d11e \u65e5\u672c\u8a9e \u2014 ok"
    a.send("PRIVMSG %s :%s" % (b.nick, text))
    l = b.expect(r"PRIVMSG %s :" % b.nick)
    assert l.split(" :", 1)[1] == text, l


def test_long_utf8_message_relayed_whole():
    a, b, _ = three()
    head = "PRIVMSG %s :" % b.nick
    # three-byte characters up to the 510-byte input limit
    n = (510 - len(head)) // 3
    text = "\u20ac" * n
    b.sync()
    a.send(head + text)
    line = raw_line(b, rb"PRIVMSG")
    assert len(line) > 512 and line.endswith(b"\r\n"), len(line)
    body = line[:-2]
    assert body.decode("utf-8").endswith(" :" + text), body


def test_channel_lines_and_replies_keep_their_order():
    # A channel message is queued on each member by reference to one
    # shared copy, a reply by copy; a member that gets both in one pass
    # gets them in the order they were made.
    srv = Server()
    a = srv.client(nick("ord"), user="o", realname="o", caps="echo-message")
    b = srv.client(nick("ord"))
    join(a, "#order")
    join(b, "#order")
    burst = "".join("PRIVMSG #order :m%d\r\nPING :p%d\r\n" % (i, i)
                    for i in range(40))
    a.send_raw(burst.encode())
    a.expect(r" PONG \S+ :?p39$")
    order = []
    for l in a.received:
        m = re.search(r" (?:PRIVMSG #order :m|PONG \S+ :?p)(\d+)$", l)
        if m:
            order.append(l.split(" :")[-1] if " PRIVMSG " in l else
                         "p" + m.group(1))
    want = [x for i in range(40) for x in ("m%d" % i, "p%d" % i)]
    assert order == want, order
    for i in range(40):
        b.expect(r" PRIVMSG #order :m%d$" % i)
