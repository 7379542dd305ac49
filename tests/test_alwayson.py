"""Always-on users (Ergo's `accounts { multiclient { always-on } }`,
NickServ SET ALWAYS-ON and AUTO-AWAY): an account's user stays online, in
its channels, with no connection at all and across restarts (kill -TERM
and kill -9: it comes back in the channels of the last change the server
confirmed). Its peers see no QUIT; with auto-away they see it go away
(away-notify) when its last connection leaves and come back when one
attaches. Connections attach by SASL PLAIN or EXTERNAL, two and three at
once. One server serves the module; the restart, expiration and limit
tests start their own."""

import os
import shutil
import signal
import sqlite3
import tempfile

from ergotest import (ACCOUNT_PASSWORD, Server, account_client,
                      attach_client, run_ergo, wait_for)
from test_sasl import TLSClient
import test_sasl

SRV = None
CERTS = None


def setup_module():
    global SRV, CERTS
    CERTS = tempfile.mkdtemp(prefix="ergo-ao-")
    for name in ("server", "client"):
        p = run_ergo("mkcerts", "--cert", name + ".crt", "--key",
                     name + ".key", "--host", "localhost", cwd=CERTS)
        assert p.returncode == 0, p.stderr
    test_sasl.D = CERTS         # TLSClient's certificates
    SRV = tls_server("accounts { multiclient { max-sessions 3 } }")


def teardown_module():
    if SRV is not None:
        SRV.cleanup()
    shutil.rmtree(CERTS, ignore_errors=True)


def tls_server(conf=""):
    from ergotest import free_port
    port = free_port()
    srv = Server(conf=conf, server='listen 127.0.0.1:%d { tls { cert "%s" '
                 ' key "%s" } }' % (port, os.path.join(CERTS, "server.crt"),
                                    os.path.join(CERTS, "server.key")))
    srv.tls_port = port
    return srv


def account(srv, nick, always_on=True, caps=None):
    """Registers account nick; its first client, always-on unless asked
    not to."""
    return account_client(srv, nick, caps=caps, always_on=always_on)


def peer(srv, nick, chans):
    c = srv.client(nick, caps="away-notify")
    for ch in chans:
        c.send("JOIN " + ch)
        c.expect(r" 366 %s %s " % (nick, ch))
    return c


def join(c, nick, ch):
    c.send("JOIN " + ch)
    c.expect(r" 366 %s %s " % (nick, ch))


def quit_and_wait(c):
    c.send("QUIT :bye")
    c.closed()


def names(c, nick, ch):
    c.send("NAMES " + ch)
    line = c.expect(r" 353 %s \S %s :" % (nick, ch))
    c.expect(r" 366 %s %s " % (nick, ch))
    return line.split(":", 2)[2].split()


_tok = [0]


def sync(c):
    """PING/PONG round trip (lines may carry tags): the lines before."""
    _tok[0] += 1
    c.send("PING :t%d" % _tok[0])
    return c.lines_until(r"PONG \S+ :t%d$" % _tok[0])[:-1]


def db_rows(srv, sql):
    db = sqlite3.connect(os.path.join(srv.dir, "ircd.db"))
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


# ---- with no connection ----

def test_always_on_user_stays_in_its_channels_and_goes_auto_away():
    a = account(SRV, "ann")
    join(a, "ann", "#ao1")
    bob = peer(SRV, "bob1", ["#ao1"])
    quit_and_wait(a)
    # no QUIT: auto-away (Ergo's default opt-out) through away-notify
    line = bob.expect(r"^:ann!\S+ (AWAY|QUIT)")
    assert " AWAY :User is currently disconnected" in line, line
    assert "@ann" in names(bob, "bob1", "#ao1")
    bob.send("WHOIS ann")
    lines = bob.lines_until(r" 318 ")
    assert any(" 301 bob1 ann :User is currently disconnected" in l
               for l in lines), lines
    assert any(" 319 bob1 ann :@#ao1" in l for l in lines), lines
    # a message to it is accepted (RPL_AWAY), not 401
    bob.send("PRIVMSG ann :are you there")
    bob.expect(r" 301 bob1 ann :User is currently disconnected")


def test_attach_by_account_gets_the_channels_and_clears_auto_away():
    a = account(SRV, "cid")
    join(a, "cid", "#ao2")
    bob = peer(SRV, "bob2", ["#ao2"])
    quit_and_wait(a)
    bob.expect(r"^:cid!\S+ AWAY :")
    # asks for another nick: SASL to an always-on account attaches anyway
    b = attach_client(SRV, "cid_phone", account="cid")
    b.expect(r"^:\S+ 001 cid :Welcome")
    b.expect(r"^:cid!\S+ JOIN #ao2$")
    b.expect(r" 366 cid #ao2 ")
    bob.expect(r"^:cid!\S+ AWAY$")          # back
    bob.send("WHOIS cid")
    lines = bob.lines_until(r" 318 ")
    assert not any(" 301 " in l for l in lines), lines
    b.send("PRIVMSG #ao2 :back again")
    bob.expect(r"^:cid!\S+ PRIVMSG #ao2 :back again")


def test_an_away_set_by_the_user_stays_when_it_leaves_and_returns():
    a = account(SRV, "dee")
    join(a, "dee", "#ao3")
    bob = peer(SRV, "bob3", ["#ao3"])
    a.send("AWAY :at lunch")
    a.expect(r" 306 ")
    bob.expect(r"^:dee!\S+ AWAY :at lunch")
    quit_and_wait(a)
    b = attach_client(SRV, "dee")
    b.expect(r" 366 dee #ao3 ")
    bob.send("WHOIS dee")
    lines = bob.lines_until(r" 318 ")
    assert any(" 301 bob3 dee :at lunch" in l for l in lines), lines


def test_auto_away_off_keeps_it_present():
    a = account(SRV, "eve")
    a.send("PRIVMSG NickServ :SET AUTO-AWAY off")
    a.expect(r"Your setting for auto-away is now off")
    join(a, "eve", "#ao4")
    bob = peer(SRV, "bob4", ["#ao4"])
    quit_and_wait(a)
    bob.send("WHOIS eve")
    lines = bob.lines_until(r" 318 ")
    assert not any(" 301 " in l for l in lines), lines
    assert not any("eve!" in l for l in bob.received), bob.received


def test_two_and_three_connections_plain_and_external_one_quit_at_the_end():
    a = TLSClient(SRV.tls_port, cert="client")
    a.register("fay")
    a.send("PRIVMSG NickServ :REGISTER %s" % ACCOUNT_PASSWORD)
    a.expect(r"Account created")
    a.send("PRIVMSG NickServ :CERT ADD")
    a.expect(r"Certificate fingerprint successfully added")
    join(a, "fay", "#ao5")
    bob = peer(SRV, "bob5", ["#ao5"])
    b = attach_client(SRV, "fay", caps="sasl echo-message")
    b.expect(r" 366 fay #ao5 ")
    c = attach_client(SRV, "fay", password=None,
                      client=TLSClient(SRV.tls_port, cert="client"))
    c.expect(r" 366 fay #ao5 ")
    a.send("PRIVMSG NickServ :CLIENTS LIST")
    a.expect(r"has 3 attached clients")
    b.send("PRIVMSG #ao5 :from b")
    for x in (a, c, b, bob):        # b by echo-message
        x.expect(r"^:fay!\S+ PRIVMSG #ao5 :from b")
    # a fourth is over max-sessions 3
    d = attach_client(SRV, "fay")
    d.expect(r"FAIL NICK TOO_MANY_SESSIONS ")
    d.closed()
    # not always-on: sessions leave unseen; the last one is the QUIT
    quit_and_wait(a)
    quit_and_wait(c)
    bob.send("PING :x")
    bob.expect(r"PONG \S+ :x")
    assert not any("fay!" in l and "QUIT" in l for l in bob.received)
    quit_and_wait(b)
    bob.expect(r"^:fay!\S+ QUIT :Quit: bye")


def test_always_on_off_then_the_last_quit_is_seen():
    a = account(SRV, "gil")
    join(a, "gil", "#ao6")
    bob = peer(SRV, "bob6", ["#ao6"])
    a.send("PRIVMSG NickServ :SET ALWAYS-ON off")
    a.expect(r"Your setting for always-on is now off")
    assert db_rows(SRV, "SELECT nick FROM always_on WHERE nick = 'gil'") \
        == []
    quit_and_wait(a)
    bob.expect(r"^:gil!\S+ QUIT :Quit: bye")


def test_drop_ends_the_always_on_user():
    a = account(SRV, "hal")
    join(a, "hal", "#ao7")
    bob = peer(SRV, "bob7", ["#ao7"])
    assert db_rows(SRV, "SELECT nick, channels FROM always_on "
                   "WHERE nick = 'hal'") == [("hal", "o,#ao7")]
    a.send("PRIVMSG NickServ :DROP %s" % ACCOUNT_PASSWORD)
    a.expect(r"Successfully unregistered account hal")
    assert db_rows(SRV, "SELECT nick FROM always_on WHERE nick = 'hal'") \
        == []
    quit_and_wait(a)
    bob.expect(r"^:hal!\S+ QUIT :Quit: bye")


def test_nickserv_set_always_on_syntax():
    a = account(SRV, "ivo", always_on=False)
    a.send("PRIVMSG NickServ :SET ALWAYS-ON maybe")
    a.expect(r"NOTICE ivo :Invalid parameters")
    a.send("PRIVMSG NickServ :SET ALWAYS-ON default")
    a.expect(r"Your setting for always-on is now default")
    quit_and_wait(a)


# ---- across restarts ----

def test_restart_with_sigterm_brings_it_back_in_its_channels():
    with Server() as srv:
        a = account(srv, "jon")
        join(a, "jon", "#r1")
        join(a, "jon", "#r2")
        a.send("MODE jon +i")
        a.expect(r"MODE jon :?\+i")
        quit_and_wait(a)
        assert srv.stop() == 0
        srv.start()
        srv.wait_log(r"1 always-on users restored")
        bob = peer(srv, "bob", [])
        for ch in ("#r1", "#r2"):
            join(bob, "bob", ch)
            assert "@jon" in names(bob, "bob", ch)
        bob.send("WHOIS jon")
        lines = bob.lines_until(r" 318 ")
        assert any(" 301 bob jon :User is currently disconnected" in l
                   for l in lines), lines
        assert any(" 330 bob jon jon " in l for l in lines), lines
        b = attach_client(srv, "jon")
        b.expect(r"^:\S+ 001 jon ")
        b.expect(r"^:jon!\S+ JOIN #r")
        b.expect(r" 366 jon #r")
        b.expect(r"^:jon!\S+ JOIN #r")
        b.expect(r" 366 jon #r")
        b.send("MODE jon")
        b.expect(r" 221 jon \+\S*i")
        bob.expect(r"^:jon!\S+ AWAY$")


def test_restart_after_kill_9_keeps_the_last_confirmed_change():
    with Server() as srv:
        a = account(srv, "kim")
        join(a, "kim", "#k1")
        join(a, "kim", "#k2")
        join(a, "kim", "#k3")
        join(a, "kim", "&k4")
        a.send("MODE &k4 +v kim")
        a.expect(r"MODE &k4 \+v kim")
        a.send("PART #k2")
        a.expect(r"^:kim!\S+ PART #k2")     # confirmed: it is written
        srv.kill()
        srv.start()
        bob = srv.client("bob")
        assert "@kim" in names(bob, "bob", "#k1")
        assert "@kim" in names(bob, "bob", "#k3")
        join(bob, "bob", "&k4")
        bob.send("NAMES &k4")
        line = bob.expect(r" 353 bob \S &k4 :")
        assert "@+kim" in line or "@kim" in line, line
        b0 = srv.client("bob0", caps="multi-prefix")
        b0.send("NAMES &k4")
        line = b0.expect(r" 353 bob0 \S &k4 :")
        assert "@+kim" in line, line
        bob.send("NAMES #k2")
        line = bob.expect(r" 366 bob #k2 ")
        assert not any(" 353 bob = #k2 " in l and "kim" in l
                       for l in bob.received), bob.received
        # a session still attached when killed: back with none
        b = attach_client(srv, "kim")
        b.expect(r" 366 kim #k3 |366 kim #k1 ")
        b.send("NICK kim2")
        b.expect(r"^:kim!\S+ NICK :kim2")
        srv.kill()
        srv.start()
        bob = srv.client("bob")
        bob.send("WHOIS kim2")
        bob.expect(r" 311 bob kim2 ")


def test_always_on_expiration_ends_a_user_nobody_uses():
    with Server(conf="accounts { multiclient { always-on-expiration 2s } }"
                ) as srv:
        a = account(srv, "lou")
        join(a, "lou", "#e1")
        bob = peer(srv, "bob", ["#e1"])
        quit_and_wait(a)
        bob.expect(r"^:lou!\S+ QUIT :Always-on expired", timeout=10)
        wait_for(lambda: db_rows(srv, "SELECT * FROM always_on") == [],
                 what="its row gone")


def test_max_always_on_and_disabled_refuse_the_setting():
    with Server(conf="accounts { multiclient { max-always-on 1 } }") as srv:
        account(srv, "max")
        b = account(srv, "moe", always_on=False)
        b.send("PRIVMSG NickServ :SET ALWAYS-ON on")
        b.expect(r"NOTICE moe :This server has as many always-on users as "
                 r"it allows \(max-always-on 1\)")
    with Server(conf="accounts { multiclient { always-on disabled } }") \
            as srv:
        a = account(srv, "ned", always_on=False)
        a.send("PRIVMSG NickServ :SET ALWAYS-ON on")
        a.expect(r"NOTICE ned :The server administrator has disabled this "
                 r"setting")
    with Server(conf="accounts { multiclient { always-on mandatory } }") \
            as srv:
        a = account(srv, "ole", always_on=False)
        join(a, "ole", "#m1")
        bob = peer(srv, "bob", ["#m1"])
        quit_and_wait(a)
        bob.expect(r"^:ole!\S+ AWAY :")
        assert "@ole" in names(bob, "bob", "#m1")


# ---- missed messages ----

def away_user(srv, nick, chan, settings=()):
    """An always-on user with AUTOREPLAY-MISSED on (and settings) in chan,
    its connection gone; a peer with server-time in chan."""
    a = account(srv, nick)
    for s in ("AUTOREPLAY-MISSED on",) + tuple(settings):
        a.send("PRIVMSG NickServ :SET " + s)
        a.expect(r"NOTICE %s :Your setting for " % nick)
    join(a, nick, chan)
    p = srv.client("p" + nick)
    p.send("CAP REQ :server-time message-tags")
    p.expect(r" CAP \S+ ACK :")
    join(p, "p" + nick, chan)
    quit_and_wait(a)
    return p


def test_missed_channel_and_direct_messages_replayed_with_their_time():
    p = away_user(SRV, "nia", "#mm1")
    sent = []
    for text in ("first while away", "second while away"):
        p.send("PRIVMSG #mm1 :" + text)
    p.send("PRIVMSG nia :a direct one")
    p.expect(r" 301 pnia nia ")
    sync(p)
    b = attach_client(SRV, "nia",
                      caps="sasl server-time batch message-tags")
    b.expect(r" 366 nia #mm1 ")
    start = b.expect(r"^(@\S+ )?:\S+ BATCH \+(\S+) chathistory #mm1$")
    ref = start.split("BATCH +")[1].split()[0]
    for text in ("first while away", "second while away"):
        line = b.expect(r"PRIVMSG #mm1 :" + text)
        assert line.startswith("@batch=%s;time=" % ref), line
        assert ";msgid=" in line, line
        sent.append(line)
    b.expect(r"BATCH -" + ref)
    b.expect(r"BATCH \+\S+ chathistory nia$")
    dm = b.expect(r"PRIVMSG nia :a direct one")
    assert ";time=" in dm, dm
    # the original time: earlier than the attach, as the peer saw it
    t1 = sent[0].split("time=")[1].split(";")[0].split(" ")[0]
    b.send("PING :x")
    pong = b.expect(r"PONG")
    assert pong.startswith("@time="), pong
    assert t1 <= pong[6:30], (t1, pong)


def test_a_client_with_chathistory_is_not_flooded():
    p = away_user(SRV, "oli", "#mm2")
    p.send("PRIVMSG #mm2 :you missed this")
    sync(p)
    b = attach_client(SRV, "oli", caps="sasl batch draft/chathistory")
    b.expect(r" 366 oli #mm2 ")
    lines = sync(b)
    assert not any("you missed this" in l for l in lines), lines
    b.send("CHATHISTORY LATEST #mm2 * 10")
    b.expect(r"PRIVMSG #mm2 :you missed this")


def test_autoreplay_missed_off_replays_nothing_and_lines_caps_it():
    p = away_user(SRV, "pam", "#mm3", ("AUTOREPLAY-MISSED off",))
    p.send("PRIVMSG #mm3 :not replayed")
    sync(p)
    b = attach_client(SRV, "pam")
    b.expect(r" 366 pam #mm3 ")
    assert not any("not replayed" in l for l in sync(b))
    b.send("PRIVMSG NickServ :SET AUTOREPLAY-MISSED on")
    b.expect(r"autoreplay-missed is now on")
    b.send("PRIVMSG NickServ :SET AUTOREPLAY-LINES 1")
    b.expect(r"autoreplay-lines is now 1")
    b.send("PRIVMSG NickServ :SET AUTOREPLAY-LINES lots")
    b.expect(r"NOTICE pam :Invalid parameters")
    quit_and_wait(b)
    p.send("PRIVMSG #mm3 :older")
    p.send("PRIVMSG #mm3 :newest")
    sync(p)
    c = attach_client(SRV, "pam")
    c.expect(r" 366 pam #mm3 ")
    got = [l for l in sync(c) if "PRIVMSG #mm3" in l]
    assert len(got) == 1 and got[0].endswith(":newest"), got


def test_replay_joins_always_includes_who_came_and_went():
    p = away_user(SRV, "quin", "#mm4", ("REPLAY-JOINS always",))
    q = SRV.client("qvisitor")
    join(q, "qvisitor", "#mm4")
    q.send("PART #mm4 :bye")
    q.expect(r"PART #mm4")
    p.send("PRIVMSG #mm4 :hello")
    sync(p)
    b = attach_client(SRV, "quin", caps="sasl batch")
    b.expect(r" 366 quin #mm4 ")
    lines = sync(b)
    assert any(":qvisitor!" in l and " JOIN #mm4" in l for l in lines), lines
    assert any(":qvisitor!" in l and " PART #mm4" in l for l in lines), lines
    assert any("PRIVMSG #mm4 :hello" in l for l in lines), lines


# ---- draft/persistence, znc.in/playback, znc.in/self-message ----

def test_persistence_get_and_set_reach_every_session_with_the_cap():
    a = account(SRV, "rex", always_on=False)
    a.send("PERSISTENCE GET")
    a.expect(r"FAIL PERSISTENCE|PERSISTENCE STATUS DEFAULT OFF$")
    b = attach_client(SRV, "rex", caps="sasl draft/persistence")
    b.expect(r" 001 rex ")
    b.send("PERSISTENCE GET")
    b.expect(r"^:\S+ PERSISTENCE STATUS DEFAULT OFF$")
    c = attach_client(SRV, "rex", caps="sasl draft/persistence")
    c.expect(r" 001 rex ")
    b.send("PERSISTENCE SET ON")
    b.expect(r"^:\S+ PERSISTENCE STATUS ON ON$")
    c.expect(r"^:\S+ PERSISTENCE STATUS ON ON$")     # told too
    wait_for(lambda: db_rows(SRV, "SELECT nick FROM always_on WHERE "
                             "nick = 'rex'") == [("rex",)],
             what="the always-on row")
    b.send("PERSISTENCE SET maybe")
    b.expect(r"FAIL PERSISTENCE INVALID_PARAMS :Invalid parameters")
    b.send("PERSISTENCE SET DEFAULT")
    b.expect(r"PERSISTENCE STATUS DEFAULT OFF$")
    n = SRV.client("nobody")
    n.send("PERSISTENCE GET")
    n.expect(r"FAIL PERSISTENCE ACCOUNT_REQUIRED ")
    for x in (a, b, c):
        quit_and_wait(x)


def test_znc_playback_plays_channels_and_direct_messages_after_a_time():
    p = away_user(SRV, "sid", "#zp1", ("AUTOREPLAY-MISSED off",))
    p.send("PRIVMSG #zp1 :before the mark")
    sync(p)
    import time
    mark = time.time()
    # the mark must be later than "before" by the server's clock
    wait_for(lambda: time.time() > mark + 0.05, what="a moment")
    p.send("PRIVMSG #zp1 :after the mark")
    p.send("PRIVMSG sid :a direct one after")
    sync(p)
    b = attach_client(
        SRV, "sid",
        caps="sasl znc.in/playback znc.in/self-message server-time")
    b.expect(r" 366 sid #zp1 ")
    b.send("PRIVMSG *playback :PLAY * %.3f" % (mark + 0.01))
    lines = sync(b)
    texts = [l.split(" PRIVMSG ", 1)[1].split(" :", 1)[1] for l in lines if " PRIVMSG " in l]
    assert texts == ["after the mark", "a direct one after"], lines
    assert all(l.startswith("@time=") for l in lines if " PRIVMSG " in l)
    b.send("PRIVMSG *playback :PLAY #zp1 0")
    texts = [l.split(" PRIVMSG ", 1)[1].split(" :", 1)[1] for l in sync(b) if " PRIVMSG " in l]
    assert texts == ["before the mark", "after the mark"], texts
    b.send("PRIVMSG *playback :PLAY #zp1 0 %.3f" % mark)
    texts = [l.split(" PRIVMSG ", 1)[1].split(" :", 1)[1] for l in sync(b) if " PRIVMSG " in l]
    assert texts == ["before the mark"], texts


def test_cap_ls_offers_the_bouncer_caps():
    c = SRV.client()
    c.send("CAP LS 302")
    lines = c.lines_until(r" CAP \* LS :")
    text = " ".join(lines)
    for cap in ("draft/persistence", "znc.in/playback",
                "znc.in/self-message"):
        assert cap in text, text


# ---- multiline across sessions ----

def test_a_multiline_message_reaches_the_users_other_sessions():
    a = account(SRV, "tim", always_on=False)
    join(a, "tim", "#ml1")
    bob = SRV.client("bobml")
    join(bob, "bobml", "#ml1")
    b = attach_client(SRV, "tim", caps="sasl batch draft/multiline")
    b.expect(r" 366 tim #ml1 ")
    d = attach_client(SRV, "tim",
                      caps="sasl batch draft/multiline echo-message")
    d.expect(r" 366 tim #ml1 ")
    d.send("BATCH +m1 draft/multiline #ml1")
    d.send("@batch=m1 PRIVMSG #ml1 :line one")
    d.send("@batch=m1 PRIVMSG #ml1 :line two")
    d.send("BATCH -m1")
    # b (the caps) gets the batch, a (none) two lines, d its echo
    for x in (b, d):
        start = x.expect(r"^(@\S+ )?:tim!\S+ BATCH \+(\S+) draft/multiline "
                         r"#ml1$")
        ref = start.split("BATCH +")[1].split()[0]
        x.expect(r"^@batch=%s :tim!\S+ PRIVMSG #ml1 :line one$" % ref)
        x.expect(r"^@batch=%s :tim!\S+ PRIVMSG #ml1 :line two$" % ref)
        x.expect(r":\S+ BATCH -%s$" % ref)
    a.expect(r"^:tim!\S+ PRIVMSG #ml1 :line one$")
    a.expect(r"^:tim!\S+ PRIVMSG #ml1 :line two$")
    bob.expect(r"^:tim!\S+ PRIVMSG #ml1 :line two$")
    for x in (a, b, d):
        quit_and_wait(x)


def test_cap_notify_at_a_rehash_goes_to_each_session_as_it_negotiated():
    """cap-notify is per session: a rehash that turns history off tells
    each session of one user what it loses, by its own caps."""
    with Server() as srv:
        a = account(srv, "una", always_on=False)
        b = attach_client(srv, "una",
                          caps="sasl cap-notify draft/chathistory")
        b.expect(r" 001 una ")
        c = attach_client(srv, "una", caps="sasl cap-notify")
        c.expect(r" 001 una ")
        n = srv.logtext().count("configuration reloaded")
        srv.extra_conf = "history { enabled no }"
        srv.write_config()
        srv.signal(signal.SIGHUP)
        wait_for(lambda: srv.logtext().count("configuration reloaded") > n,
                 what="the rehash")
        l = b.expect(r" CAP una DEL :")
        assert "draft/chathistory" in l, l
        l = c.expect(r" CAP una DEL :")
        assert "draft/chathistory" in l, l
        b.send("CAP LIST")
        l = b.expect(r" CAP una LIST ")
        assert "draft/chathistory" not in l, l
        # a, which never asked for cap-notify (a 301 client), hears nothing
        assert not any(" CAP " in x for x in sync(a)), a.received
