"""History: TOPIC changes (and other channel events) are recorded and
played back with draft/event-playback, in order with the messages, by
every CHATHISTORY subcommand, in memory and from the database after a
restart (a registered channel with history { persistent yes })."""

import re

from ergotest import Server

CAPS = "batch draft/chathistory draft/event-playback message-tags"
T0 = "timestamp=2020-01-01T00:00:00.000Z"
T1 = "timestamp=2099-01-01T00:00:00.000Z"


def client(srv, nick="alice", caps=CAPS):
    return srv.client(nick, realname=nick, caps=caps)


def history(c, query):
    c.send("CHATHISTORY " + query)
    lines = c.lines_until(r"BATCH -")
    return [l for l in lines if l.startswith("@batch=")]


def body(line):
    return line.split(" ", 2)[2]


def topics_and_messages(c):
    for i in range(10):
        c.send("TOPIC #c :t%d" % i)
        c.send("PRIVMSG #c :m%d" % i)
    c.sync()


def check_all_subcommands(c):
    want = []
    for i in range(10):
        want += ["TOPIC #c :t%d" % i, "PRIVMSG #c :m%d" % i]
    for q in ("LATEST #c * 50", "BEFORE #c %s 50" % T1,
              "AFTER #c %s 50" % T0, "AROUND #c %s 50" % T1,
              "BETWEEN #c %s %s 50" % (T0, T1)):
        got = [body(l) for l in history(c, q)
               if " TOPIC " in l or " PRIVMSG " in l]
        assert got == want, (q, got)
    # msgid references work on an event too
    lines = history(c, "LATEST #c * 50")
    t5 = [l for l in lines if l.endswith("TOPIC #c :t5")][0]
    mid = re.search(r"msgid=([^; ]+)", t5).group(1)
    got = [body(l) for l in history(c, "BEFORE #c msgid=%s 2" % mid)]
    assert got == ["TOPIC #c :t4", "PRIVMSG #c :m4"], got
    got = [body(l) for l in history(c, "AFTER #c msgid=%s 2" % mid)]
    assert got == ["PRIVMSG #c :m5", "TOPIC #c :t6"], got


def test_topics_played_back_in_order_with_messages_by_every_subcommand():
    with Server() as srv:
        a = client(srv)
        a.send("JOIN #c")
        a.sync()
        topics_and_messages(a)
        check_all_subcommands(a)
        # without draft/event-playback: the messages only
        b = client(srv, "bob", "batch draft/chathistory message-tags")
        b.send("JOIN #c")
        b.sync()
        got = [body(l) for l in history(b, "LATEST #c * 50")]
        assert got == ["PRIVMSG #c :m%d" % i for i in range(10)], got


def test_topics_played_back_in_order_after_a_restart():
    with Server(conf="history { persistent yes }") as srv:
        a = client(srv)
        a.send("NS REGISTER pw12345678")
        a.expect(r" 900 ")
        a.send("JOIN #c")
        a.sync()
        a.send("CS REGISTER #c")
        a.expect(r"NOTICE alice :")
        topics_and_messages(a)
        srv.stop()
        srv.start()
        a = client(srv)
        a.send("NS IDENTIFY pw12345678")
        a.expect(r" 900 ")
        a.send("JOIN #c")
        a.sync()
        check_all_subcommands(a)
