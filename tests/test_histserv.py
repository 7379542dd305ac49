"""HistServ as Ergo's: PLAY a channel's or one's direct messages as
notices; opers DELETE a message by msgid and FORGET an account's
messages (kept in memory and in the datastore); each with the right and
the wrong privilege."""

import re

from ergotest import oper_client as oper, services_server as server

NS = r"^:NickServ!NickServ@localhost NOTICE %s :"
HIST = r"^:HistServ!HistServ@localhost NOTICE %s :"


def hist_expect(c, text):
    return c.expect(HIST % re.escape(c.nick) + re.escape(text))


def play(c, target, limit=""):
    c.send("HISTSERV PLAY %s %s" % (target, limit))
    lines = c.lines_until(HIST % re.escape(c.nick) +
                          "(End of history playback|Could not retrieve)")
    return [l.split(" :", 1)[1] for l in lines
            if re.match(HIST % re.escape(c.nick), l)]


def joined(c, chan):
    c.send("JOIN " + chan)
    c.lines_until(r" 366 ")


def say(c, target, text):
    c.send("PRIVMSG %s :%s" % (target, text))


def test_play_a_channel_to_members_and_direct_messages():
    with server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        joined(a, "#h")
        joined(b, "#h")
        for i in range(3):
            say(a, "#h", "line %d" % i)
        b.expect(r"PRIVMSG #h :line 2$")
        say(b, "alice", "private hello")
        a.expect(r"PRIVMSG alice :private hello")
        got = play(b, "#h")
        assert len(got) == 4, got
        assert re.match(r"\d\d:\d\d:\d\d <alice> line 0$", got[0]), got
        assert got[-1] == "End of history playback", got
        assert play(b, "#h", "2")[:-1] == [got[1], got[2]]
        out = srv.client("outsider")
        assert play(out, "#h") == ["Could not retrieve history"]
        dm = play(a, "bob")
        assert len(dm) == 2 and dm[0].endswith("<bob> private hello"), dm
        b.send("PRIVMSG HistServ :PLAY #h 1")
        hist_expect(b, "End of history playback")


def test_delete_is_for_opers():
    with server() as srv:
        a = srv.client("alice")
        a.send("CAP REQ :echo-message message-tags")
        a.expect(r" ACK ")
        joined(a, "#d")
        say(a, "#d", "regret this")
        msgid = re.search(r"msgid=([^;\s]+)",
                          a.expect(r"PRIVMSG #d :regret this")).group(1)
        say(a, "#d", "keep this")
        a.expect(r"PRIVMSG #d :keep this")
        a.send("HISTSERV DELETE #d " + msgid)
        hist_expect(a, "Insufficient privileges")
        o = oper(srv)
        o.send("HISTSERV DELETE #d " + msgid)
        hist_expect(o, "Successfully deleted message")
        o.send("HISTSERV DELETE #d " + msgid)
        hist_expect(o, "Error deleting message: no such message")
        got = play(o, "#d")
        assert [l for l in got if "keep this" in l], got
        assert not [l for l in got if "regret" in l], got


PERSIST = "history { persistent yes }\n"


def test_forget_drops_an_accounts_messages_kept_and_saved():
    with server(PERSIST) as srv:
        s = srv.client("spam")
        s.send("NS REGISTER pw")
        s.expect(NS % "spam" + "Account created")
        f = srv.client("fo")
        f.send("NS REGISTER pw")
        f.expect(NS % "fo" + "Account created")
        joined(f, "#f")
        f.send("CS REGISTER #f")
        f.expect(r"successfully registered")
        joined(s, "#f")
        say(s, "#f", "buy now")
        say(f, "#f", "founder speaks")
        f.expect(r"PRIVMSG #f :buy now")
        s.send("HISTSERV FORGET spam")
        hist_expect(s, "Command restricted")
        hp = oper(srv, "hp", "helper")		# no history
        hp.send("HISTSERV FORGET spam")
        hist_expect(hp, "Command restricted")
        o = oper(srv)
        o.send("HISTSERV FORGET Spam")
        hist_expect(o, "Enqueued account spam for message deletion")
        got = play(f, "#f")
        assert not [l for l in got if "buy now" in l], got
        assert [l for l in got if "founder speaks" in l], got
        srv.stop()
        srv.start()
        f = srv.client("fo")
        f.send("NS IDENTIFY fo pw")
        f.expect(NS % "fo" + "You're now logged in as fo")
        joined(f, "#f")
        got = play(f, "#f")
        assert not [l for l in got if "buy now" in l], got
        assert [l for l in got if "founder speaks" in l], got
        o = oper(srv)
        o.send("HISTSERV FORGET nosuch")
        hist_expect(o, "Could not look up account name, proceeding anyway")
