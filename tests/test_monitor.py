"""IRCv3 MONITOR (irc_monitor.c): + - C L S, 730-734, MONITOR= in 005,
the per-client limit, casemapping, and the online/offline transitions
on registration, nick change and quit."""

import itertools
import re

from ergotest import Server

srv = None
_ids = itertools.count(1)


def setup_module():
    global srv
    srv = Server(conf="limits { monitor-entries 5 }")


def nick(base="mon"):
    return "%s%d" % (base, next(_ids))


def params(line):
    """The parameters of a server line, trailing one included."""
    head, sep, trailing = line.partition(" :")
    out = head.split(" ")[2:]
    if sep:
        out.append(trailing)
    return out


def no_line(c, pattern):
    lines = c.sync()
    bad = [l for l in lines if re.search(pattern, l)]
    assert not bad, "unexpected: %r" % bad
    return lines


def names_of(lines, num):
    """Every name listed by the lines with numeric num, in order."""
    out = []
    for l in lines:
        if re.match(r"^:\S+ %s " % num, l):
            out.extend(params(l)[-1].split(","))
    return out


def test_monitor_in_isupport():
    with srv.client() as c:
        lines = c.register(nick())
        assert any(re.search(r" MONITOR=5 ", l) for l in lines), lines


def test_monitor_add_online_and_offline():
    on, off = nick("on"), nick("off")
    with srv.client(nick()) as w, srv.client(on, user="uon"):
        w.send("MONITOR + %s,%s" % (on, off))
        l730 = w.expect_numeric(730)
        assert re.match(r"^:irc\.test 730 %s :%s!~uon@\S+$" % (w.nick, on),
                        l730), l730
        l731 = w.expect_numeric(731)
        assert params(l731) == [w.nick, off], l731


def test_monitor_online_offline_transitions():
    target = nick("t")
    with srv.client(nick()) as w:
        w.send("MONITOR + %s" % target)
        assert params(w.expect_numeric(731)) == [w.nick, target]
        t = srv.client(target, user="tt")
        line = w.expect_numeric(730)
        assert re.search(r" :%s!~tt@" % target, line), line
        t.send("QUIT :bye")
        t.closed()
        assert params(w.expect_numeric(731)) == [w.nick, target]
        t.close()


def test_monitor_nick_change():
    old, new = nick("old"), nick("new")
    with srv.client(nick()) as w, srv.client(old) as t:
        w.send("MONITOR + %s,%s" % (old, new))
        w.expect_numeric(730)
        w.expect_numeric(731)
        w.sync()
        t.send("NICK %s" % new)
        lines = w.lines_until(r" 730 ")
        assert names_of(lines, "731") == [old], lines
        assert re.search(r" 730 %s :%s!" % (w.nick, new), lines[-1])
        # a change of case only is no transition
        t.send("NICK %s" % new.upper())
        t.expect(r"NICK :%s" % new.upper())
        no_line(w, r" 73[01] ")


def test_monitor_casemapping():
    target = nick("Case")
    with srv.client(nick()) as w, srv.client(target):
        w.send("MONITOR + %s" % target.upper())
        assert re.search(r" 730 \S+ :%s!" % target, w.expect_numeric(730))
        w.send("MONITOR - %s" % target.lower())
        w.send("MONITOR L")
        lines = w.lines_until(r" 733 ")
        assert names_of(lines, "732") == [], lines
        assert params(lines[-1]) == [w.nick, "End of MONITOR list"]


def test_monitor_rfc1459_casemapping():
    s = Server(server="casemapping rfc1459")
    with s.client("watcher") as w:
        w.send("MONITOR + nick[a]")
        w.expect_numeric(731)
        with s.client("NICK{A}"):
            assert re.search(r" 730 watcher :NICK\{A\}!",
                             w.expect_numeric(730))
    s.cleanup()


def test_monitor_list_clear_status():
    a, b, gone = nick("la"), nick("lb"), nick("lg")
    with srv.client(nick()) as w, srv.client(a), srv.client(b):
        w.send("MONITOR + %s,%s,%s" % (a, b, gone))
        w.sync()
        w.send("MONITOR L")
        lines = w.lines_until(r" 733 ")
        assert sorted(names_of(lines, "732")) == sorted([a, b, gone])
        w.send("MONITOR S")
        lines = w.sync()
        online = [n.split("!")[0] for n in names_of(lines, "730")]
        assert sorted(online) == sorted([a, b]), lines
        assert names_of(lines, "731") == [gone], lines
        w.send("MONITOR C")
        w.send("MONITOR L")
        lines = w.lines_until(r" 733 ")
        assert names_of(lines, "732") == [], lines
        w.send("MONITOR S")
        no_line(w, r" 73[01] ")


def test_monitor_remove_stops_notifications():
    target = nick("rm")
    with srv.client(nick()) as w:
        w.send("MONITOR + %s" % target)
        w.expect_numeric(731)
        w.send("MONITOR - %s" % target)
        with srv.client(target):
            no_line(w, r" 730 ")


def test_monitor_list_full():
    with srv.client(nick()) as w:
        names = ["full%d" % i for i in range(7)]
        w.send("MONITOR + %s" % ",".join(names[:3]))
        w.sync()
        w.send("MONITOR + %s" % ",".join(names[3:]))
        lines = w.lines_until(r" 734 ")
        # two fit (limit 5); the rest is named in 734
        assert names_of(lines, "731") == names[3:5], lines
        assert params(lines[-1])[:3] == [w.nick, "5", "full5,full6"], \
            lines[-1]
        w.send("MONITOR L")
        lines = w.lines_until(r" 733 ")
        assert names_of(lines, "732") == names[:5]
        # already on the list: its status again, no 734
        w.send("MONITOR + %s" % names[0])
        assert names_of(w.sync(), "731") == [names[0]]


def test_monitor_invalid_nicks_skipped():
    with srv.client(nick()) as w:
        w.send("MONITOR + #chan,bad!nick,ok%d" % next(_ids))
        lines = w.sync()
        assert len(names_of(lines, "731")) == 1, lines


def test_monitor_bad_subcommand_and_params():
    with srv.client(nick()) as w:
        w.send("MONITOR X")
        w.expect(r" 400 %s MONITOR X :" % w.nick)
        w.send("MONITOR +")
        w.expect_numeric(461)
        w.send("MONITOR")
        w.expect_numeric(461)


def test_monitor_self_not_notified():
    me = nick("self")
    with srv.client() as w:
        w.register(me)
        w.send("MONITOR + %s" % me)
        assert re.search(r" 730 %s :%s!" % (me, me), w.expect_numeric(730))
        w.send("NICK %s" % nick("self"))
        no_line(w, r" 73[01] ")


def test_monitor_many_targets_split_lines():
    s = Server(conf="limits { monitor-entries 200 }")
    with s.client(nick()) as w:
        names = ["n%030d" % i for i in range(60)]
        for i in range(0, len(names), 14):   # 14 fit in one line
            w.send("MONITOR + %s" % ",".join(names[i:i + 14]))
        w.sync()
        w.send("MONITOR L")
        lines = w.lines_until(r" 733 ")
        assert names_of(lines, "732") == names     # in the order added
        assert all(len(l) <= 510 for l in lines)
        assert len([l for l in lines if " 732 " in l]) > 1
    s.cleanup()


def test_monitor_watchers_freed_on_quit():
    """A watcher that quits is no longer told anything (and, under
    ASan, leaks nothing)."""
    target = nick("fq")
    w = srv.client(nick())
    w.send("MONITOR + %s" % target)
    w.expect_numeric(731)
    w.send("QUIT")
    w.closed()
    w.close()
    with srv.client(target) as t, srv.client(nick()) as w2:
        w2.send("MONITOR + %s" % target)
        w2.expect_numeric(730)
        t.send("QUIT")
        assert params(w2.expect_numeric(731))[-1] == target


# ---- extended-monitor ----

def capped(name, caps):
    """A client that negotiated caps (none of them tag lines)."""
    return srv.client(name, caps=caps, capver=302)


def test_extended_monitor_in_cap_ls():
    with srv.client() as c:
        c.send("CAP LS 302")
        lines = c.lines_until(r" CAP \* LS :")
        assert any(re.search(r"\bextended-monitor\b", l) for l in lines)


def event_sent_to_peers(t, cmd, trigger, cap):
    """Whether the server tells a channel peer with cap about t's cmd at
    all (away-notify, setname, ...); if not, there is nothing to extend."""
    with capped(nick(), cap) as peer:
        ch = "#xpeer%d" % next(_ids)
        for c in (peer, t):
            c.send("JOIN %s" % ch)
            c.expect(r" 366 \S+ %s " % ch)
        t.send(trigger)
        t.sync()        # t's line is processed before the peer's PING
        got = any((" %s" % cmd) in l for l in peer.sync())
        t.send("PART %s" % ch)
        t.expect(r" PART %s" % ch)
        return got


def test_extended_monitor_away_and_setname():
    t_n = nick("xa")
    with capped(nick(), "extended-monitor away-notify setname") as w, \
            capped(nick(), "away-notify") as plain, \
            srv.client(t_n) as t:
        if not event_sent_to_peers(t, "AWAY", "AWAY :x", "away-notify"):
            raise AssertionError("AWAY did not reach an away-notify peer")
        t.send("AWAY")
        t.expect_numeric(305)
        w.send("MONITOR + %s" % t_n)
        w.expect_numeric(730)
        plain.send("MONITOR + %s" % t_n)
        plain.expect_numeric(730)
        t.send("AWAY :lunch")
        t.expect_numeric(306)
        assert re.match(r"^:%s!\S+ AWAY :lunch$" % t_n, w.expect(r" AWAY "))
        t.send("AWAY")
        t.expect_numeric(305)
        assert re.match(r"^:%s!\S+ AWAY$" % t_n, w.expect(r" AWAY"))
        t.send("SETNAME :New Name")
        assert re.match(r"^:%s!\S+ SETNAME :New Name$" % t_n,
                        w.expect(r" SETNAME "))
        # without extended-monitor: nothing, as there is no shared channel
        no_line(plain, r" (AWAY|SETNAME)")


def test_extended_monitor_needs_the_event_cap():
    t_n = nick("xn")
    with capped(nick(), "extended-monitor") as w, srv.client(t_n) as t:
        w.send("MONITOR + %s" % t_n)
        w.expect_numeric(730)
        t.send("AWAY :gone")
        t.expect_numeric(306)
        no_line(w, r" AWAY ")


def test_extended_monitor_shared_channel_once():
    t_n = nick("xs")
    with capped(nick(), "extended-monitor away-notify") as w, \
            srv.client(t_n) as t:
        if not event_sent_to_peers(t, "AWAY", "AWAY :x", "away-notify"):
            raise AssertionError("AWAY did not reach an away-notify peer")
        for c in (w, t):
            c.send("JOIN #xmon")
            c.expect(r" 366 ")
        w.send("MONITOR + %s" % t_n)
        w.expect_numeric(730)
        t.send("AWAY :brb")
        t.expect_numeric(306)
        lines = w.sync()
        assert len([l for l in lines if " AWAY " in l]) == 1, lines


def test_extended_monitor_account():
    t_n = nick("xacc")
    with capped(nick(), "extended-monitor account-notify") as w, \
            srv.client(t_n) as t:
        with srv.client(nick("probe")) as probe:
            if not event_sent_to_peers(probe, "ACCOUNT", "NICKSERV "
                                       "REGISTER sesame-%s" % probe.nick,
                                       "account-notify"):
                raise AssertionError("REGISTER sent no ACCOUNT to an "
                                     "account-notify peer")
        w.send("MONITOR + %s" % t_n)
        w.expect_numeric(730)
        t.send("NICKSERV REGISTER sesame-%s" % t_n)
        line = w.expect(r" ACCOUNT ", timeout=15)
        assert re.match(r"^:%s!\S+ ACCOUNT %s$" % (t_n, t_n), line), line
