"""Persistent history (history { persistent yes }, irc_hist.c + store.c):
the messages of registered channels and the direct messages of accounts
are written to the database in batches and read back at start, so
CHATHISTORY gives the same answers (msgids, timestamps, order) after a
restart; channel-length and expire-time bound what comes back; kill -9
loses at most the last unwritten batch; a failing disk is logged once and
the server goes on; unregistered channels, clients without an account
and persistent no keep nothing in the database."""

import os
import re
import resource
import signal
import sqlite3
import subprocess
import time

from ergotest import Server, split_line, wait_for

CAPS = "batch server-time message-tags echo-message draft/chathistory"
PERSIST = "history { persistent yes }"
NS = r" :NickServ!NickServ@localhost NOTICE %s :"
CS = r" :ChanServ!ChanServ@localhost NOTICE %s :"


def client(srv, nick, register=None, identify=None, pw="pw"):
    """A registered client with CAPS; NickServ REGISTER (a new account)
    or IDENTIFY (an existing one) if asked."""
    c = srv.client(nick, realname=nick, caps=CAPS)
    if register:
        c.send("NS REGISTER " + pw)
        c.expect(NS % nick + "Account created")
    if identify:
        c.send("NS IDENTIFY %s %s" % (identify, pw))
        c.expect(NS % nick + re.escape("You're now logged in as "
                                       + identify))
    return c


def join(c, ch, key=None):
    c.send("JOIN %s%s" % (ch, " " + key if key else ""))
    c.expect(r" 366 \S+ %s " % re.escape(ch))


def register_chan(c, ch):
    join(c, ch)
    c.send("CS REGISTER " + ch)
    c.expect(CS % c.nick + re.escape("Channel %s successfully registered"
                                     % ch))


def say(c, target, texts):
    """Sends each text; returns the echoes as (msgid, time, text)."""
    out = []
    for t in texts:
        c.send("PRIVMSG %s :%s" % (target, t))
        tags, _, _, ps = split_line(c.expect(r" PRIVMSG \S+ :%s$"
                                        % re.escape(t)))
        out.append((tags["msgid"], tags["time"], t))
        time.sleep(0.002)      # distinct millisecond timestamps
    return out


def history(c, cmd):
    """The lines of a CHATHISTORY reply as (msgid, time, source, text)."""
    c.send(cmd)
    first = split_line(c.expect(r" BATCH \+\S+ "))
    ref = first[3][0][1:]
    lines = c.lines_until(r" BATCH -%s$" % re.escape(ref))[:-1]
    out = []
    for l in lines:
        tags, src, cmd_, ps = split_line(l)
        if cmd_ in ("PRIVMSG", "NOTICE"):
            out.append((tags.get("msgid"), tags.get("time"),
                        src.split("!")[0], ps[-1]))
    return out


def db_rows(srv, sql="SELECT count(*) FROM history WHERE source != ''"):
    """Rows of the server's database; by default the count of messages
    (events such as JOIN have no source)."""
    db = sqlite3.connect(os.path.join(srv.dir, "ircd.db"), timeout=5)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def restart(srv):
    assert srv.stop() == 0
    srv.start()


QUERIES = [
    "CHATHISTORY LATEST {t} * 50",
    "CHATHISTORY LATEST {t} * 3",
    "CHATHISTORY BEFORE {t} msgid={m3} 2",
    "CHATHISTORY AFTER {t} msgid={m1} 3",
    "CHATHISTORY AROUND {t} msgid={m3} 3",
    "CHATHISTORY BETWEEN {t} msgid={m0} msgid={m4} 10",
    "CHATHISTORY BETWEEN {t} msgid={m4} msgid={m0} 2",
    "CHATHISTORY AFTER {t} timestamp={t1} 10",
    "CHATHISTORY BEFORE {t} timestamp={t4} 10",
]


def answers(c, target, sent):
    refs = {"t": target}
    for i, (mid, tm, _) in enumerate(sent):
        refs["m%d" % i] = mid
        refs["t%d" % i] = tm
    return [history(c, q.format(**refs)) for q in QUERIES]


def test_channel_and_dm_history_come_back_after_a_restart():
    with Server(conf=PERSIST) as srv:
        alice = client(srv, "alice", register=True)
        bob = client(srv, "bob", register=True)
        register_chan(alice, "#p")
        join(bob, "#p")
        sent = say(alice, "#p", ["one", "two", "three"])
        sent += say(bob, "#p", ["four", "five", "six"])
        dms = say(alice, "bob", ["hi bob", "are you there"])
        dms += say(bob, "alice", ["yes", "here", "bye"])
        before = answers(alice, "#p", sent)
        dm_alice = answers(alice, "bob", dms)
        dm_bob = answers(bob, "alice", dms)
        assert [m[3] for m in before[0]] == [s[2] for s in sent]
        assert [(m[0], m[1]) for m in before[0]] == \
            [(s[0], s[1]) for s in sent]
        assert [m[3] for m in dm_alice[0]] == [s[2] for s in dms]
        alice.send("CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                   "timestamp=2100-01-01T00:00:00.000Z 10")
        alice.expect(r"CHATHISTORY TARGETS bob ")
        restart(srv)
        assert db_rows(srv) == [(len(sent) + 2 * len(dms),)]

        alice = client(srv, "alice", identify="alice")
        bob = client(srv, "bob", identify="bob")
        join(alice, "#p")
        join(bob, "#p")
        assert answers(alice, "#p", sent) == before
        assert answers(bob, "#p", sent) == before
        assert answers(alice, "bob", dms) == dm_alice
        assert answers(bob, "alice", dms) == dm_bob
        # TARGETS knows both, with the times they had
        alice.send("CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                   "timestamp=2100-01-01T00:00:00.000Z 10")
        got = alice.lines_until(r" BATCH -")
        tg = {split_line(l)[3][1]: split_line(l)[3][2] for l in got
              if " CHATHISTORY TARGETS " in l}
        assert tg == {"#p": sent[-1][1], "bob": dms[-1][1]}, got


def test_history_goes_on_in_order_with_limits_across_a_restart():
    with Server(conf="history { persistent yes  channel-length 6 }") as srv:
        a = client(srv, "olga", register=True)
        register_chan(a, "#ord")
        first = say(a, "#ord", ["m%d" % i for i in range(8)])
        restart(srv)
        # only channel-length came back, and only that is kept on disk
        assert db_rows(srv, "SELECT count(*) FROM history") == [(6,)]
        a = client(srv, "olga", identify="olga")
        join(a, "#ord")
        # events count against channel-length too: the JOIN pushed m2 out
        got = history(a, "CHATHISTORY LATEST #ord * 50")
        assert [m[3] for m in got] == ["m%d" % i for i in range(3, 8)], got
        assert [(m[0], m[1]) for m in got] == \
            [(s[0], s[1]) for s in first[3:]]
        more = say(a, "#ord", ["n0", "n1"])
        got = history(a, "CHATHISTORY LATEST #ord * 50")
        assert [m[3] for m in got] == ["m5", "m6", "m7", "n0", "n1"]
        assert [m[0] for m in got] == \
            [s[0] for s in first[5:]] + [s[0] for s in more]
        got = history(a, "CHATHISTORY LATEST #ord * 3")
        assert [m[3] for m in got] == ["m7", "n0", "n1"]
        got = history(a, "CHATHISTORY BEFORE #ord msgid=%s 2" % more[0][0])
        assert [m[3] for m in got] == ["m6", "m7"]
        got = history(a, "CHATHISTORY AFTER #ord msgid=%s 2" % first[6][0])
        assert [m[3] for m in got] == ["m7", "n0"]
        got = history(a, "CHATHISTORY BETWEEN #ord timestamp=%s "
                      "timestamp=%s 10" % (first[5][1], more[1][1]))
        assert [m[3] for m in got] == ["m6", "m7", "n0"]
        restart(srv)
        a = client(srv, "olga", identify="olga")
        join(a, "#ord")
        got = history(a, "CHATHISTORY LATEST #ord * 50")
        assert [m[3] for m in got] == ["m6", "m7", "n0", "n1"]
        # msgids are new after a restart, never reused
        new = say(a, "#ord", ["after"])
        assert new[0][0] not in {m[0] for m in got}


def test_expired_messages_neither_come_back_nor_stay_on_disk():
    with Server(conf=PERSIST) as srv:
        a = client(srv, "exa", register=True)
        register_chan(a, "#exp")
        say(a, "#exp", ["old1", "old2", "new1"])
        assert srv.stop() == 0
        # age two rows past the 7-day expire-time
        db = sqlite3.connect(os.path.join(srv.dir, "ircd.db"))
        db.execute("UPDATE history SET ms = ms - 8 * 86400000 "
                   "WHERE text LIKE 'old%'")
        db.commit()
        db.close()
        srv.start()
        a = client(srv, "exa", identify="exa")
        join(a, "#exp")
        got = history(a, "CHATHISTORY LATEST #exp * 50")
        assert [m[3] for m in got] == ["new1"]
        # and the periodic sweep deletes them from the database
        wait_for(lambda: db_rows(srv, "SELECT text FROM history WHERE "
                                 "text LIKE 'old%'") == [],
                 what="expired rows deleted")


def test_kill_9_loses_at_most_the_last_batch():
    with Server(conf=PERSIST) as srv:
        a = client(srv, "kia", register=True)
        register_chan(a, "#k")
        sent = say(a, "#k", ["k%d" % i for i in range(5)])
        # within about a second the batch is on disk
        wait_for(lambda: db_rows(srv) == [(5,)], what="batch written")
        srv.kill()
        srv.start()
        a = client(srv, "kia", identify="kia")
        join(a, "#k")
        got = history(a, "CHATHISTORY LATEST #k * 50")
        assert [(m[0], m[3]) for m in got] == [(s[0], s[2]) for s in sent]


def test_messages_are_written_in_batches_not_a_transaction_each():
    """200 messages to a registered channel reach the database in a few
    transactions: the write-ahead log (one frame per page a transaction
    writes, each commit at least one) grows by far fewer frames than one
    transaction per message would write."""
    with Server(conf=PERSIST) as srv:
        a = client(srv, "bulk", register=True)
        register_chan(a, "#bulk")
        wal = os.path.join(srv.dir, "ircd.db-wal")
        wait_for(lambda: db_rows(srv) == [(0,)] and os.path.exists(wal),
                 what="the channel registered")
        page = db_rows(srv, "PRAGMA page_size")[0][0]
        before = os.path.getsize(wal)
        n = 200
        a.send_raw("".join("PRIVMSG #bulk :bulk %d\r\n" % i
                           for i in range(n)).encode())
        a.expect(r" PRIVMSG #bulk :bulk %d$" % (n - 1))
        wait_for(lambda: db_rows(srv) == [(n,)], what="the batch written")
        frames = (os.path.getsize(wal) - before) // (page + 24)
        assert 0 < frames < n // 4, (frames, n)


def test_dm_history_stays_between_the_two_accounts():
    with Server(conf=PERSIST) as srv:
        amy = client(srv, "amy", register=True)
        ben = client(srv, "ben", register=True)
        client(srv, "cyd", register=True).close()
        say(amy, "ben", ["secret one", "secret two"])
        restart(srv)
        # the nick without the account, and another account: nothing
        fake = client(srv, "amy")
        assert history(fake, "CHATHISTORY LATEST ben * 50") == []
        assert history(fake, "CHATHISTORY LATEST * * 50") == []
        fake.close()
        cyd = client(srv, "cyd", identify="cyd")
        assert history(cyd, "CHATHISTORY LATEST ben * 50") == []
        assert history(cyd, "CHATHISTORY LATEST amy * 50") == []
        # each party, and every session of its account, reads them
        ben = client(srv, "ben", identify="ben")
        ben2 = client(srv, "ben2", identify="ben")
        for c in (ben, ben2):
            got = history(c, "CHATHISTORY LATEST amy * 50")
            assert [m[3] for m in got] == ["secret one", "secret two"]
        amy = client(srv, "amy", identify="amy")
        got = history(amy, "CHATHISTORY LATEST ben * 50")
        assert [m[3] for m in got] == ["secret one", "secret two"]


def test_unregistered_and_keyed_channels_leak_nothing():
    with Server(conf=PERSIST) as srv:
        own = client(srv, "own", register=True)
        register_chan(own, "#locked")
        own.send("MODE #locked +sk sekrit")
        own.expect(r" MODE #locked \+sk sekrit")
        say(own, "#locked", ["hidden"])
        join(own, "#plain")
        say(own, "#plain", ["not kept"])
        guest = client(srv, "guest")
        guest.send("PRIVMSG own :from a guest")
        own.expect(r"from a guest")
        restart(srv)
        # only the registered channel was written, and own's copy of
        # the DM, which belongs to own's account (the guest has none)
        assert db_rows(srv, "SELECT text, channel IS NOT NULL FROM history "
                       "WHERE source != '' ORDER BY seq") == \
            [("hidden", 1), ("from a guest", 0)]
        spy = client(srv, "spy")
        spy.send("JOIN #locked")
        spy.expect(r" 475 spy #locked ")
        spy.send("CHATHISTORY LATEST #locked * 10")
        spy.expect(r"FAIL CHATHISTORY INVALID_TARGET LATEST #locked ")
        spy.send("CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                 "timestamp=2100-01-01T00:00:00.000Z 10")
        got = spy.lines_until(r" BATCH -")
        assert not any("#locked" in l for l in got), got
        join(spy, "#plain")
        assert history(spy, "CHATHISTORY LATEST #plain * 10") == []
        guest = client(srv, "guest")
        assert history(guest, "CHATHISTORY LATEST own * 10") == []
        # the key lets a member in, who reads it
        join(spy, "#locked", "sekrit")
        got = history(spy, "CHATHISTORY LATEST #locked * 10")
        assert [m[3] for m in got] == ["hidden"]


def test_secret_and_private_channels_leak_nothing_after_a_restart():
    """Registered +s and +p channels (no key, so anyone may join): after
    a restart a non-member reads nothing of them with any subcommand,
    knowing every msgid, and TARGETS does not name them; the founder's
    TARGETS does, and a member reads everything, in order."""
    with Server(conf=PERSIST) as srv:
        own = client(srv, "owner", register=True)
        sent = {}
        for ch, mode in (("#sec", "+s"), ("#priv", "+p")):
            register_chan(own, ch)
            own.send("MODE %s %s" % (ch, mode))
            own.expect(r" MODE %s \%s" % (ch, mode))
            sent[ch] = say(own, ch, ["%s %d" % (ch, i) for i in range(5)])
        restart(srv)
        spy = client(srv, "spy")
        for ch in sent:
            for q in QUERIES:
                cmd = q.format(t=ch, **{"m%d" % i: m[0] for i, m in
                                       enumerate(sent[ch])},
                               **{"t%d" % i: m[1] for i, m in
                                  enumerate(sent[ch])})
                spy.send(cmd)
                l = spy.expect(r" FAIL CHATHISTORY ")
                assert " INVALID_TARGET %s %s " % (cmd.split()[1], ch) in l, \
                    (cmd, l)
        targets = ("CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                   "timestamp=2100-01-01T00:00:00.000Z 10")
        spy.send(targets)
        got = spy.lines_until(r" BATCH -")
        assert not any("#sec" in l or "#priv" in l for l in got), got
        own = client(srv, "owner", identify="owner")
        for ch in sent:
            join(own, ch)
        own.send(targets)
        got = [split_line(l)[3][1] for l in own.lines_until(r" BATCH -")
               if " CHATHISTORY TARGETS " in l]
        assert got == ["#sec", "#priv"], got
        # the restored modes still hide them from a non-member's LIST
        spy.send("LIST")
        assert not any("#sec" in l or "#priv" in l
                       for l in spy.lines_until(r" 323 "))
        for ch in sent:
            assert [h[3] for h in history(
                own, "CHATHISTORY LATEST %s * 10" % ch)] == \
                [t for _, _, t in sent[ch]]


def test_persistent_no_keeps_nothing_in_the_database():
    with Server() as srv:
        a = client(srv, "nop", register=True)
        b = client(srv, "nop2", register=True)
        register_chan(a, "#nop")
        say(a, "#nop", ["x", "y"])
        say(a, "nop2", ["dm"])
        b.expect(r"PRIVMSG nop2 :dm$")
        restart(srv)
        assert db_rows(srv) == [(0,)]
        a = client(srv, "nop", identify="nop")
        join(a, "#nop")
        assert history(a, "CHATHISTORY LATEST #nop * 10") == []
        assert history(a, "CHATHISTORY LATEST nop2 * 10") == []


def test_a_failing_disk_is_logged_once_and_the_server_goes_on():
    srv = Server(conf=PERSIST)
    a = client(srv, "dsk", register=True)
    register_chan(a, "#dsk")
    assert srv.stop() == 0
    size = os.path.getsize(os.path.join(srv.dir, "ircd.db"))
    limit = size + 16384

    def lim():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    real = subprocess.Popen

    def popen(*args, **kw):
        kw["preexec_fn"] = lim
        return real(*args, **kw)
    subprocess.Popen = popen
    try:
        srv.start()
    finally:
        subprocess.Popen = real
    a = client(srv, "dsk", identify="dsk")
    join(a, "#dsk")
    big = "z" * 400
    for batch in range(10):
        say(a, "#dsk", ["%s %d %d" % (big, batch, i) for i in range(40)])
        n = batch + 1
        wait_for(lambda: "messages not saved" in srv.logtext() or
                 db_rows(srv) == [(40 * n,)], what="batch %d" % batch)
        if "messages not saved" in srv.logtext():
            break
    assert "messages not saved" in srv.logtext(), srv.logtail()
    # the history in memory is whole all the same, and the server serves
    say(a, "#dsk", ["%s more %d" % (big, i) for i in range(40)])
    got = history(a, "CHATHISTORY LATEST #dsk * 5")
    assert [m[3] for m in got][-1] == big + " more 39"
    a.send("PING :alive")
    a.expect(r"PONG \S+ :?alive$")
    assert srv.running()
    # the batch at shutdown fails too: still the one line
    assert srv.stop() == 0
    assert srv.logtext().count("messages not saved") == 1, srv.logtail()
    db = sqlite3.connect(os.path.join(srv.dir, "ircd.db"))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_dropping_an_account_forgets_its_history_everywhere():
    with Server(conf=PERSIST) as srv:
        x = client(srv, "xav", register=True)
        x2 = client(srv, "xav2", identify="xav")
        register_chan(x, "#gone")
        say(x, "#gone", ["old secret"])
        say(x, "xav2", ["note to self"])
        wait_for(lambda: db_rows(srv) == [(3,)], what="rows written")
        x.send("NS DROP pw")
        x.expect(NS % "xav" + "Successfully unregistered account xav")
        # every session of the account is logged out
        x2.expect(r" 901 xav2 ")
        assert db_rows(srv) == [(0,)]
        x.send("PART #gone")
        x.expect(r" PART #gone")
        # a new channel that may be given the dropped one's id reads
        # nothing of it, now or after a restart
        y = client(srv, "yan", register=True)
        register_chan(y, "#new")
        y.send("PART #new")
        y.expect(r" PART #new")
        join(y, "#new")
        assert history(y, "CHATHISTORY LATEST #new * 10") == []
        y.send("PART #new")
        y.expect(r" PART #new")
        restart(srv)
        y = client(srv, "yan", identify="yan")
        join(y, "#new")
        assert history(y, "CHATHISTORY LATEST #new * 10") == []
        assert history(y, "CHATHISTORY LATEST xav * 10") == []



def test_a_drop_takes_its_queued_rows_so_a_reused_id_inherits_nothing():
    # SQLite gives a new account or channel the highest free id, which a
    # DROP has just freed: rows still queued for the dropped one must not
    # be written under the next one (the DROP is well inside the batch
    # window, before any write)
    with Server(conf=PERSIST) as srv:
        v = client(srv, "victim", register=True)
        b = client(srv, "bob")
        register_chan(v, "#secret")
        v.send("MODE #secret +s")
        v.expect(r" MODE #secret \+s")
        say(v, "#secret", ["launch codes"])
        say(v, "bob", ["dm for victim only"])
        v.send("CS DROP #secret")
        code = v.expect(CS % "victim" + "To confirm, run this command: "
                        "/CS UNREGISTER #secret ").split()[-1]
        v.send("CS DROP #secret " + code)
        v.expect(CS % "victim" + "Channel #secret is now unregistered")
        v.send("NS DROP pw")
        v.expect(NS % "victim" + "Successfully unregistered account victim")
        m = client(srv, "mallory", register=True)
        register_chan(m, "#public")
        restart(srv)
        assert db_rows(srv, "SELECT count(*) FROM history WHERE text IN "
                       "('launch codes', 'dm for victim only')") == [(0,)]
        m = client(srv, "mallory", identify="mallory")
        join(m, "#public")
        assert history(m, "CHATHISTORY LATEST #public * 50") == []
        assert history(m, "CHATHISTORY LATEST * * 50") == []
        assert history(m, "CHATHISTORY LATEST bob * 50") == []

def rehash_to(srv, conf):
    srv.extra_conf = conf
    srv.write_config()
    n = srv.logtext().count("configuration reloaded")
    srv.signal(signal.SIGHUP)
    wait_for(lambda: srv.logtext().count("configuration reloaded") > n,
             what="rehash")


def test_a_rehash_writes_the_queue_and_persistent_no_stops_the_writes():
    with Server(conf=PERSIST) as srv:
        a = client(srv, "reh", register=True)
        register_chan(a, "#reh")
        say(a, "#reh", ["kept"])
        # what was queued is written by the rehash that turns it off
        rehash_to(srv, "history { persistent no }")
        assert db_rows(srv, "SELECT text FROM history WHERE source != ''") \
            == [("kept",)]
        say(a, "#reh", ["memory only"])
        got = history(a, "CHATHISTORY LATEST #reh * 10")
        assert [m[3] for m in got] == ["kept", "memory only"]
        rehash_to(srv, PERSIST)
        say(a, "#reh", ["kept again"])
        assert srv.stop() == 0
        assert db_rows(srv, "SELECT text FROM history WHERE source != '' "
                       "ORDER BY seq") == [("kept",), ("kept again",)]
        srv.start()
        a = client(srv, "reh", identify="reh")
        join(a, "#reh")
        got = history(a, "CHATHISTORY LATEST #reh * 10")
        assert [m[3] for m in got] == ["kept", "kept again"]


def test_a_redacted_message_stays_gone_after_a_restart():
    with Server(conf=PERSIST) as srv:
        def rclient(nick, **kw):
            c = client(srv, nick, **kw)
            c.send("CAP REQ draft/message-redaction")
            c.expect(r" CAP \S+ ACK :?draft/message-redaction")
            return c
        alice = rclient("alice", register=True)
        bob = rclient("bob", register=True)
        register_chan(alice, "#r")
        join(bob, "#r")
        sent = say(alice, "#r", ["keep", "oops", "keep too"])
        dms = say(alice, "bob", ["dm keep", "dm oops"])
        alice.send("REDACT #r %s :typo" % sent[1][0])
        alice.expect(r" REDACT #r %s :typo$" % re.escape(sent[1][0]))
        bob.expect(r" REDACT #r %s :typo$" % re.escape(sent[1][0]))
        alice.send("REDACT bob %s" % dms[1][0])
        alice.expect(r" REDACT bob %s$" % re.escape(dms[1][0]))
        bob.expect(r" REDACT bob %s$" % re.escape(dms[1][0]))
        assert [m[3] for m in history(alice, "CHATHISTORY LATEST #r * 50")] \
            == ["keep", "keep too"]
        restart(srv)
        # neither the queue nor the saved rows bring it back
        assert db_rows(srv, "SELECT count(*) FROM history WHERE msgid IN "
                       "('%s', '%s')" % (sent[1][0], dms[1][0])) == [(0,)]
        alice = client(srv, "alice", identify="alice")
        bob = client(srv, "bob", identify="bob")
        join(alice, "#r")
        assert [m[3] for m in history(alice, "CHATHISTORY LATEST #r * 50")] \
            == ["keep", "keep too"]
        for c, peer in ((alice, "bob"), (bob, "alice")):
            got = history(c, "CHATHISTORY LATEST %s * 50" % peer)
            assert [m[3] for m in got] == ["dm keep"], (c.nick, got)


def test_a_reaction_comes_back_after_a_restart_and_can_be_redacted():
    """A +draft/react TAGMSG in a registered channel is saved like a
    message (history.tagmsg-storage): after a restart an event-playback
    client gets it back in place, with its msgid and tags, and REDACT
    still finds it; a +typing TAGMSG is never written."""
    with Server(conf=PERSIST) as srv:
        ev = "draft/event-playback draft/message-redaction"
        a = client(srv, "reacter", register=True)
        a.send("CAP REQ :" + ev)
        a.expect(r" CAP \S+ ACK ")
        register_chan(a, "#react")
        first = say(a, "#react", ["react to this"])
        a.send("@+typing=active TAGMSG #react")
        a.expect(r"\+typing=active\S* \S+ TAGMSG #react$")
        a.send("@+draft/reply=%s;+draft/react=yes TAGMSG #react"
               % first[0][0])
        react = split_line(a.expect(r"\+draft/react=yes\S* \S+ TAGMSG #react$"))
        last = say(a, "#react", ["after"])
        restart(srv)
        assert db_rows(srv, "SELECT count(*) FROM history WHERE source != ''"
                       " AND msgid NOT IN ('%s', '%s')"
                       % (first[0][0], last[0][0])) == [(1,)]
        a = client(srv, "reacter", identify="reacter")
        a.send("CAP REQ :" + ev)
        a.expect(r" CAP \S+ ACK ")
        join(a, "#react")
        a.send("CHATHISTORY LATEST #react * 50")
        ref = split_line(a.expect(r" BATCH \+\S+ "))[3][0][1:]
        got = [split_line(l) for l in a.lines_until(r" BATCH -%s$" % ref)[:-1]]
        said = [(m[0]["msgid"], m[2]) for m in got
                if m[2] in ("PRIVMSG", "TAGMSG")]
        assert said == [(first[0][0], "PRIVMSG"), (react[0]["msgid"], "TAGMSG"),
                        (last[0][0], "PRIVMSG")], got
        tag = [m for m in got if m[2] == "TAGMSG"][0]
        assert tag[0]["+draft/react"] == "yes", tag
        assert tag[0]["+draft/reply"] == first[0][0], tag
        a.send("REDACT #react %s" % react[0]["msgid"])
        a.expect(r" REDACT #react %s$" % re.escape(react[0]["msgid"]))
        wait_for(lambda: db_rows(srv, "SELECT count(*) FROM history WHERE "
                                 "msgid = '%s'" % react[0]["msgid"])
                 == [(0,)], what="the reaction deleted")
