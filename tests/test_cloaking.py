"""IP cloaking (irc_cloak.c), on by default as in Ergo: others see an
HMAC of a client's address, the client and opers see the real one
(WHOIS 378), the secret is made on first launch and kept in the database,
and bans on addresses still match cloaked clients."""

import re
import sqlite3
import os
import signal

from ergotest import Server, run_ergo, wait_for

PASSWORD = "cloak-oper-pw"
CLOAK_RE = r"[a-z2-7]{16}\.irc"


def host_of(c, nick):
    c.send("WHOIS %s" % nick)
    return c.expect(r" 311 \S+ %s " % nick).split()[5]


def oper_conf():
    p = run_ergo("genpasswd", input=PASSWORD + "\n", timeout=60)
    return ('oper admin { class server-admin  password "%s" }\n'
            % p.stdout.split()[-1])


def test_others_see_a_cloak_and_never_the_address():
    s = Server(cloaking=True)
    a, b = s.client("cloaka"), s.client("cloakb")
    h = host_of(b, "cloaka")
    assert re.fullmatch(CLOAK_RE, h), h
    a.send("JOIN #c")
    a.expect(r" 366 ")
    b.send("JOIN #c")
    l = a.expect(r"^:cloakb!\S+ JOIN")
    assert "127.0.0.1" not in l, l
    b.send("WHOIS cloaka")
    lines = b.lines_until(r" 318 ")
    assert not any("127.0.0.1" in x for x in lines), lines


def test_the_user_and_opers_see_the_real_address_in_whois_378():
    s = Server(cloaking=True, conf=oper_conf())
    a, op = s.client("selfsee"), s.client("opsee")
    a.send("WHOIS selfsee")
    l = a.expect(r" 378 selfsee selfsee ")
    assert l.endswith(":is connecting from *@127.0.0.1 127.0.0.1"), l
    op.send("OPER admin %s" % PASSWORD)
    op.expect(r" 381 ")
    op.send("WHOIS selfsee")
    op.expect(r" 378 opsee selfsee :is connecting from \*@127\.0\.0\.1 ")


def test_the_secret_is_made_once_and_kept_across_restarts():
    s = Server(cloaking=True)
    first = host_of(s.client("keep1"), "keep1")
    s.wait_log(r"made a new IP cloaking secret")
    s.stop()
    db = sqlite3.connect(os.path.join(s.dir, "ircd.db"))
    row = db.execute("SELECT value FROM meta WHERE key = 'cloak-secret'"
                     ).fetchone()
    db.close()
    assert row and re.fullmatch(r"[0-9a-f]{64}", row[0]), row
    s.start()
    assert host_of(s.client("keep2"), "keep2") == first


def test_a_configured_secret_sets_the_cloak():
    one = Server(cloaking=True, server='ip-cloaking { secret "%s" }'
                 % ("a" * 32))
    two = Server(cloaking=True, server='ip-cloaking { secret "%s" }'
                 % ("b" * 32))
    h1 = host_of(one.client("sec1"), "sec1")
    h2 = host_of(two.client("sec2"), "sec2")
    assert h1 != h2 and re.fullmatch(CLOAK_RE, h1), (h1, h2)
    again = Server(cloaking=True, server='ip-cloaking { secret "%s"  '
                   'netname example }' % ("a" * 32))
    h3 = host_of(again.client("sec3"), "sec3")
    assert h3 == h1.replace(".irc", ".example"), (h1, h3)


def test_a_channel_ban_on_the_real_address_still_matches():
    s = Server(cloaking=True)
    op, u = s.client("banop"), s.client("banned")
    op.send("JOIN #b")
    op.expect(r" 366 ")
    op.send("MODE #b +b *!*@127.0.0.1")
    op.expect(r" MODE #b \+b ")
    u.send("JOIN #b")
    u.expect(r" 474 banned #b ")


def whox_nicks(c, args):
    c.send("WHO %s" % args)
    lines = c.lines_until(r" 315 ")
    return [x.split()[3] for x in lines if " 354 " in x]


def test_whox_ip_selector_never_matches_a_cloaked_address_for_others():
    s = Server(cloaking=True, conf=oper_conf())
    a, b, op = s.client("hidden1"), s.client("prober"), s.client("ipop")
    cloak = host_of(b, "hidden1")
    for mask in ("127.0.0.1", "127.*", "127.0.0.?", "1*"):
        got = whox_nicks(b, "%s i%%n" % mask)
        assert "hidden1" not in got, (mask, got)
    # others match the address they are shown: the cloak
    assert "hidden1" in whox_nicks(b, "%s i%%n" % cloak)
    # the user and opers match the real address
    assert "hidden1" in whox_nicks(a, "127.0.0.1 i%n")
    op.send("OPER admin %s" % PASSWORD)
    op.expect(r" 381 ")
    assert "hidden1" in whox_nicks(op, "127.0.0.* i%n")
    assert "hidden1" not in whox_nicks(op, "10.* i%n")


def fault_meta(s, sql):
    """Starts and stops s once without cloaking (to create its database),
    then runs sql on the database to make the cloak secret's row fail."""
    s.start()
    s.stop()
    db = sqlite3.connect(os.path.join(s.dir, "ircd.db"))
    db.executescript(sql)
    db.commit()
    db.close()
    s.cloaking = True
    s.write_config()
    s.start()


def assert_cloaked_all_run(s, nicks):
    """Others see a cloak, never the address, and the same one all run
    (also after a rehash that still cannot reach the secret)."""
    a, b = s.client(nicks[0]), s.client(nicks[1])
    h = host_of(b, nicks[0])
    assert re.fullmatch(CLOAK_RE, h), h
    assert host_of(a, nicks[1]) == h
    n = s.logtext().count(" error server ")
    s.signal(signal.SIGHUP)
    wait_for(lambda: s.logtext().count(" error server ") > n, 5,
             "the rehash's error line")
    c = s.client(nicks[2])
    assert host_of(c, nicks[2]) == h, "the cloak changed within a run"
    assert s.running()


def test_cloaking_stays_on_with_a_random_secret_when_it_cannot_be_saved():
    s = Server(start=False)
    fault_meta(s, "CREATE TRIGGER full BEFORE INSERT ON meta "
               "WHEN NEW.key = 'cloak-secret' BEGIN "
               "SELECT RAISE(ABORT, 'database or disk is full'); END;")
    s.wait_log(r" error server .*cloak secret not saved.*random secret "
               r"for this run")
    assert_cloaked_all_run(s, ["nosave1", "nosave2", "nosave3"])
    assert "IP cloaking is off" not in s.logtext()


def test_cloaking_stays_on_with_a_random_secret_when_it_cannot_be_read():
    s = Server(start=False)
    # a read error (as from a bad sector) on every read of meta; writes
    # go through, and must not replace a secret that could not be read
    fault_meta(s, "INSERT INTO meta (key, value) VALUES "
               "('cloak-secret', '%s');"
               "ALTER TABLE meta RENAME TO meta_real;"
               "CREATE VIEW meta (key, value) AS SELECT key, value "
               "FROM meta_real WHERE abs(-9223372036854775807 - 1) >= 0;"
               "CREATE TRIGGER meta_w INSTEAD OF INSERT ON meta BEGIN "
               "INSERT OR REPLACE INTO meta_real VALUES "
               "(NEW.key, NEW.value); END;" % ("5e" * 32))
    s.wait_log(r" error server .*cloak secret not read.*random secret "
               r"for this run")
    assert_cloaked_all_run(s, ["noread1", "noread2", "noread3"])
    s.stop()
    db = sqlite3.connect(os.path.join(s.dir, "ircd.db"))
    row = db.execute("SELECT value FROM meta_real WHERE key = "
                     "'cloak-secret'").fetchone()
    db.close()
    assert row == ("5e" * 32,), "the unreadable secret was replaced"
