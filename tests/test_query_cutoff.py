"""Ergo's query-cutoff applied (irc_hist.c): what of a channel's history
a member reads through CHATHISTORY, the replay on JOIN and HistServ
PLAY. ChanServ SET query-cutoff on a registered channel, else the
server's history.query-cutoff: none, registration-time (not before the
reader's account was registered, or it connected; less grace-period),
join-time (not before it joined; the founder and ops read all)."""

import re
import time

from ergotest import account_client, services_server, wait_for

CS = r"^(@\S+ )?:ChanServ!ChanServ@localhost NOTICE %s :"
HIST = r"^(@\S+ )?:HistServ!HistServ@localhost NOTICE %s :"
CAPS = "batch draft/chathistory server-time"


def server(hist=""):
    return services_server("history { autoreplay-on-join 10 "
                           "grace-period 0s %s }\n" % hist)


def join(c, chan):
    c.send("JOIN " + chan)
    return c.lines_until(r" 366 %s %s " % (re.escape(c.nick),
                                          re.escape(chan)))


def hist_client(srv, nick):
    return srv.client(nick, realname=nick, caps=CAPS)


def untagged(line):
    return line.split(" ", 1)[1] if line.startswith("@") else line


def texts(lines):
    return [untagged(l).split(" :", 1)[1] for l in lines
            if " PRIVMSG " in l or " NOTICE " in l]


def chathistory(c, chan):
    c.send("CHATHISTORY LATEST %s * 50" % chan)
    return texts(l for l in c.lines_until(r" BATCH -")
                 if " PRIVMSG " in l)


def play(c, chan):
    c.send("HISTSERV PLAY %s" % chan)
    lines = c.lines_until(HIST % re.escape(c.nick) +
                          "(End of history playback|Could not retrieve)")
    return [untagged(l).split(" :", 1)[1] for l in lines[:-1]
            if "HistServ!" in l]


def registered(srv, chan, cutoff=None):
    f = account_client(srv, "fo")
    join(f, chan)
    f.send("CS REGISTER " + chan)
    f.expect(r"MODE %s \+q fo$" % re.escape(chan))
    if cutoff:
        f.send("CS SET %s query-cutoff %s" % (chan, cutoff))
        f.expect(CS % "fo" + "The stored channel history query cutoff "
                 "setting is: " + cutoff)
    return f


def say(c, chan, text, *readers):
    c.send("PRIVMSG %s :%s" % (chan, text))
    for r in readers:
        r.expect(r"PRIVMSG %s :%s$" % (re.escape(chan), re.escape(text)))


def next_ms():
    """Polls the wall clock into the next millisecond: history and JOIN
    times are kept in milliseconds, and what is said in the millisecond
    of a JOIN counts as after it."""
    t = int(time.time() * 1000)
    wait_for(lambda: int(time.time() * 1000) > t + 1, 2, "the next ms")


def next_second():
    """Polls the wall clock (not the server) into the next second:
    account registration and connection times are kept in seconds, read
    from time(), which may lag the precise clock by a few ms."""
    t = int(time.time())
    wait_for(lambda: int(time.time() - 0.05) > t, 3, "the next second")


def test_join_time_hides_what_was_said_before_one_joined():
    with server() as srv:
        f = registered(srv, "#jt", "join-time")
        early = hist_client(srv, "early")
        join(early, "#jt")
        say(f, "#jt", "before", early)
        next_ms()
        late = hist_client(srv, "late")
        join(late, "#jt")
        say(f, "#jt", "after", early, late)
        assert chathistory(late, "#jt") == ["after"]
        got = chathistory(early, "#jt")
        assert got == ["before", "after"], got
        assert [t for t in play(late, "#jt") if "before" in t] == []
        assert [t for t in play(late, "#jt") if "after" in t]
        # ops and the founder read everything
        f.send("MODE #jt +o late")
        late.expect(r"MODE #jt \+o late$")
        assert chathistory(late, "#jt") == ["before", "after"]


def test_join_time_replays_nothing_from_before_the_join():
    with server() as srv:
        f = registered(srv, "#jr", "join-time")
        say(f, "#jr", "old news")
        f.sync()
        next_ms()
        r = srv.client("replayed")		# no chathistory: replay on JOIN
        lines = join(r, "#jr") + r.sync()
        assert [l for l in lines if "old news" in l] == [], lines
        f.send("CS SET #jr query-cutoff none")
        f.expect(CS % "fo" + "The stored channel history query cutoff "
                 "setting is: none")
        r2 = srv.client("replayed2")
        lines = join(r2, "#jr") + r2.sync()
        assert [l for l in lines if "old news" in l], lines


def test_registration_time_hides_what_was_said_before_the_account():
    with server() as srv:
        f = registered(srv, "#rt", "registration-time")
        anon_early = hist_client(srv, "anonearly")
        join(anon_early, "#rt")
        say(f, "#rt", "first", anon_early)
        next_second()
        late = hist_client(srv, "late")		# connected after "first"
        join(late, "#rt")
        assert chathistory(late, "#rt") == []
        assert [t for t in play(late, "#rt") if "first" in t] == []
        # an account registered now: still nothing from before it
        late.send("NS REGISTER pw")
        late.expect(r"Account created")
        assert chathistory(late, "#rt") == []
        # connected before it was said, not logged in: reads it
        assert chathistory(anon_early, "#rt") == ["first"]
        # logged in to an account older than the message: reads it
        old = hist_client(srv, "old2")
        old.send("NS IDENTIFY fo pw")
        old.expect(r"You're now logged in as fo")
        join(old, "#rt")
        assert chathistory(old, "#rt") == ["first"]


def test_registration_time_grace_period_shows_the_hour_before():
    with services_server("history { grace-period 1h }\n") as srv:
        f = registered(srv, "#gp", "registration-time")
        say(f, "#gp", "within the hour")
        next_second()
        late = hist_client(srv, "late")
        join(late, "#gp")
        assert chathistory(late, "#gp") == ["within the hour"]


def test_server_default_query_cutoff_and_chanserv_get():
    with server("query-cutoff join-time") as srv:
        a = hist_client(srv, "aa")
        join(a, "#plain")			# not registered: the default
        b = hist_client(srv, "bb")
        join(b, "#plain")
        a.send("MODE #plain -o aa")
        a.expect(r"MODE #plain -o aa$")
        say(b, "#plain", "early", a)
        next_ms()
        c = hist_client(srv, "cc")
        join(c, "#plain")
        assert chathistory(c, "#plain") == []
        assert chathistory(a, "#plain") == ["early"]
        f = registered(srv, "#reg")
        f.send("CS GET #reg query-cutoff")
        f.expect(CS % "fo" + "The stored channel history query cutoff "
                 "setting is: default")
        f.expect(CS % "fo" + "Given current server settings, the channel "
                 "history query cutoff setting is: join-time")
        f.send("CS SET #reg query-cutoff none")
        f.expect(CS % "fo" + "Successfully changed")
        say(f, "#reg", "open to all")
        d = hist_client(srv, "dd")
        join(d, "#reg")
        assert chathistory(d, "#reg") == ["open to all"]


def test_query_cutoff_setting_survives_a_restart():
    with server() as srv:
        f = registered(srv, "#keep", "join-time")
        f.close()
        srv.stop()
        srv.start()
        f = srv.client("fo2")
        f.send("NS IDENTIFY fo pw")
        f.expect(r"You're now logged in as fo")
        join(f, "#keep")
        say(f, "#keep", "said before")
        f.sync()
        next_ms()
        u = hist_client(srv, "uu")
        join(u, "#keep")
        say(f, "#keep", "said after", u)
        got = chathistory(u, "#keep")
        assert got == ["said after"], got
