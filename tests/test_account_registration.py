"""IRCv3 draft/account-registration (ircv3.net/specs/extensions/account-
registration) on the real binary: the cap and its value, REGISTER after
and before the connection completes, each FAIL code, VERIFY, the account
then working for SASL on a new connection and across a restart, the
per-IP throttle shared with NickServ REGISTER, a full disk, and the
config switching it all off."""

import base64
import os
import re
import resource
import signal
import socket
import sqlite3
import subprocess

import ergotest
from ergotest import Server, Client, run_ergo, wait_for

CAP = "draft/account-registration"


def b64(s):
    return base64.b64encode(s.encode()).decode()


def ls(c):
    """CAP LS 302; returns {cap: value} of what is offered."""
    c.send("CAP LS 302")
    caps = {}
    for l in c.lines_until(r" CAP \S+ LS :"):
        if " LS " in l:
            for tok in l.split(" :", 1)[1].split():
                k, _, v = tok.partition("=")
                caps[k] = v
    return caps


def fail(c, cmd, code, ctx=None):
    """The next FAIL of cmd; checks its code (and context parameter)."""
    l = c.expect(r"^:irc\.test FAIL %s " % cmd)
    m = re.match(r"^:irc\.test FAIL %s (\S+) (?:(\S+) )?:\S" % cmd, l)
    assert m and m.group(1) == code, (code, l)
    if ctx is not None:
        assert m.group(2) == ctx, (ctx, l)
    return l


def register_ok(c, account, email="*", pw="correct-horse", arg=None):
    c.send("REGISTER %s %s %s" % (arg or account, email, pw))
    c.expect(r"^:irc\.test REGISTER SUCCESS %s :\S" % re.escape(account))
    c.expect(r"^:irc\.test 900 \S+ \S+ %s :You are now logged in as %s$"
             % (re.escape(account), re.escape(account)))


def whois_account(c, who):
    c.send("WHOIS %s" % who)
    lines = c.lines_until(r" 318 ")
    acct = [l.split()[4] for l in lines if " 330 " in l]
    return acct[0] if acct else None


def prereg(c, nick):
    """CAP LS 302 (suspends registration), NICK, USER."""
    caps = ls(c)
    c.send("NICK %s" % nick)
    c.send("USER %s 0 * :Reg" % nick)
    return caps


def sasl_plain_login(srv, nick, account, pw):
    """A new connection that logs in with SASL PLAIN before registering;
    returns it registered, or raises if the login failed."""
    c = srv.client()
    prereg(c, nick)
    c.send("CAP REQ :sasl")
    c.expect(r" CAP \S+ ACK :sasl$")
    c.send("AUTHENTICATE PLAIN")
    c.expect(r"^AUTHENTICATE \+$")
    c.send("AUTHENTICATE " + b64("\0%s\0%s" % (account, pw)))
    l = c.expect(r" 90[34] ")
    assert " 903 " in l, l
    c.send("CAP END")
    c.expect_numeric("001")
    c.nick = nick
    return c


def client_from(srv, src):
    """A Client connected from the source address src (127.0.0.x)."""
    orig = socket.create_connection

    def cc(addr, timeout=None, source_address=None):
        return orig(addr, timeout=timeout, source_address=(src, 0))
    ergotest.socket.create_connection = cc
    try:
        return Client(srv.port)
    finally:
        ergotest.socket.create_connection = orig


# ------------------------------------------------------------ the cap

def test_cap_is_offered_with_before_connect():
    srv = Server()
    c = srv.client()
    caps = ls(c)
    # nick reservation is on by default: the account is the nick, so
    # custom-account-name is not offered; no mail: no email-required
    assert caps.get(CAP) == "before-connect", caps
    c.send("CAP REQ :%s" % CAP)
    c.expect(r" CAP \* ACK :%s$" % CAP)
    c.send("CAP LIST")
    c.expect(r" CAP \* LIST :.*%s" % CAP)


def test_cap_value_follows_the_config():
    srv = Server(conf="accounts {\n nick-reservation { enabled no }\n"
                 " registration { allow-before-connect no }\n}")
    caps = ls(srv.client())
    assert caps.get(CAP) == "custom-account-name", caps


def test_cap_not_offered_and_commands_fail_when_registration_is_off():
    for conf, env in (("accounts { registration no }", None),
                      ("accounts { registration { enabled no } }", None),
                      ("", {"ERGO__ACCOUNTS__REGISTRATION__ENABLED": "no"})):
        srv = Server(conf=conf, env=env)
        c = srv.client()
        caps = ls(c)
        assert CAP not in caps and "sasl" in caps, (conf, caps)
        c.send("CAP REQ :%s" % CAP)
        c.expect(r" CAP \* NAK :%s$" % CAP)
        c.send("CAP END")
        c.register("nora")
        c.send("REGISTER * * correct-horse")
        fail(c, "REGISTER", "TEMPORARILY_UNAVAILABLE", "*")
        c.send("VERIFY nora 12345")
        fail(c, "VERIFY", "TEMPORARILY_UNAVAILABLE", "nora")
        assert whois_account(c, "nora") is None
        # NickServ agrees
        c.send("PRIVMSG NickServ :REGISTER correct-horse")
        c.expect("Account registration is disabled")
        srv.stop()


def test_rehash_turning_registration_off_and_on_says_cap_del_and_new():
    srv = Server()
    c = srv.client("rhea", caps=CAP, capver=302)
    base = srv.config_text()
    srv.write_config(base + "accounts { registration no }\n")
    srv.signal(signal.SIGHUP)
    c.expect(r"^:irc\.test CAP rhea DEL :%s$" % CAP)
    c.send("CAP LIST")
    l = c.expect(r" CAP rhea LIST ")
    assert CAP not in l, l
    srv.write_config(base)
    srv.signal(signal.SIGHUP)
    c.expect(r"^:irc\.test CAP rhea NEW :%s=before-connect$" % CAP)
    register_ok(c, "rhea")


# ------------------------------------------------------------ REGISTER

def test_register_after_connecting_logs_in_like_sasl():
    srv = Server()
    peer = srv.client("pete", caps="account-notify account-tag "
                      "extended-join", capver=302)
    c = srv.client("alice")
    c.send("JOIN #reg")
    peer.send("JOIN #reg")
    peer.expect(r" 366 pete #reg ")
    # the spec's form: REGISTER <account> <email> <password>
    register_ok(c, "alice", email="alice@example.org", arg="*")
    c.expect(r"^:alice MODE alice :\+r$")
    peer.expect(r"^(@\S+ )?:alice!\S+ ACCOUNT alice$")
    c.send("PRIVMSG #reg :hello")
    l = peer.expect(r"PRIVMSG #reg :hello$")
    assert re.match(r"^@(\S+;)?account=alice[; ]", l), l
    assert whois_account(peer, "alice") == "alice"
    c.send("PRIVMSG NickServ :INFO")
    c.expect(r"NOTICE alice :Email address: alice@example\.org$")


def test_register_naming_the_nick_and_any_case():
    srv = Server()
    c = srv.client("Bruno")
    register_ok(c, "Bruno", arg="bruno")
    assert whois_account(c, "Bruno") == "Bruno"


def test_register_before_cap_end_then_the_connection_completes():
    srv = Server()
    c = srv.client()
    caps = prereg(c, "early")
    assert caps[CAP] == "before-connect", caps
    c.send("CAP REQ :%s" % CAP)
    c.expect(r" ACK :%s$" % CAP)
    register_ok(c, "early")
    # still waiting for CAP END: nothing of the welcome yet
    assert not any(" 001 " in l for l in c.sync())
    c.send("CAP END")
    c.expect_numeric("001")
    c.expect(r"^:early MODE early :\+r$")
    assert whois_account(c, "early") == "early"
    # and the account logs in anew on another connection
    d = sasl_plain_login(srv, "early2", "early", "correct-horse")
    assert whois_account(d, "early2") == "early"


def test_register_before_nick_needs_nick():
    srv = Server()
    c = srv.client()
    ls(c)
    c.send("REGISTER * * correct-horse")
    fail(c, "REGISTER", "NEED_NICK", "*")
    c.send("REGISTER someone * correct-horse")
    fail(c, "REGISTER", "NEED_NICK", "*")
    # nothing was lost: with a nick it works
    c.send("NICK later")
    register_ok(c, "later")


def test_before_connect_off_says_complete_connection_required():
    srv = Server(conf="accounts { registration { allow-before-connect no } }")
    c = srv.client()
    caps = prereg(c, "patient")
    assert caps.get(CAP) == "", caps     # offered, without before-connect
    c.send("REGISTER * * correct-horse")
    l = c.expect(r" FAIL REGISTER ")
    assert re.match(r"^:irc\.test FAIL REGISTER COMPLETE_CONNECTION_REQUIRED"
                    r" :\S", l), l
    c.send("VERIFY patient 1234")
    c.expect(r"^:irc\.test FAIL VERIFY COMPLETE_CONNECTION_REQUIRED :\S")
    c.send("CAP END")
    c.expect_numeric("001")
    register_ok(c, "patient")


def test_a_server_password_rules_out_before_connect():
    p = run_ergo("genpasswd", input="letmein\n", timeout=60)
    assert p.returncode == 0, p.stderr
    h = [l for l in p.stdout.splitlines() if l.strip()][-1].strip()
    srv = Server(server='password "%s"' % h)
    c = srv.client()
    caps = prereg(c, "sneaky")
    assert caps.get(CAP) == "", caps
    c.send("REGISTER * * correct-horse")
    c.expect(r"^:irc\.test FAIL REGISTER COMPLETE_CONNECTION_REQUIRED :")
    c.send("CAP END")
    c.expect_numeric("464")
    c.closed()
    d = srv.client()
    d.send("PASS letmein")
    d.register("honest")
    register_ok(d, "honest")


def test_account_exists():
    srv = Server()
    c = srv.client("taken")
    register_ok(c, "taken")
    c.send("QUIT")
    c.closed()
    # a registered nick may still be used (enforcement is optional) ...
    d = srv.client("taken")
    d.send("REGISTER * * other-horse")
    fail(d, "REGISTER", "ACCOUNT_EXISTS", "taken")
    # ... and one NickServ made is just as taken, before connecting too
    e = srv.client("nsmade")
    e.send("PRIVMSG NickServ :REGISTER pw-ns")
    e.expect("Account created")
    e.send("QUIT")
    e.closed()
    f = srv.client()
    prereg(f, "nsmade")
    f.send("REGISTER nsmade * other-horse")
    fail(f, "REGISTER", "ACCOUNT_EXISTS", "nsmade")
    f.send("CAP END")
    f.expect_numeric("001")
    assert whois_account(f, "nsmade") is None


def test_bad_account_names():
    srv = Server()
    c = srv.client("goodnick")
    for name in ("NickServ", "chanserv", "Guest12345", "9lives", "a" * 40,
                 "#chan"):
        c.send("REGISTER %s * correct-horse" % name)
        fail(c, "REGISTER", "BAD_ACCOUNT_NAME", name)
    # valid, but not the nick: with nick reservation it must be
    c.send("REGISTER othername * correct-horse")
    fail(c, "REGISTER", "ACCOUNT_NAME_MUST_BE_NICK", "othername")
    assert whois_account(c, "goodnick") is None
    register_ok(c, "goodnick")
    # NickServ keeps the same names back; Guest alone is a fine name
    g = srv.client("guest00042")
    g.send("PRIVMSG NickServ :REGISTER correct-horse")
    g.expect(r"NOTICE guest00042 :guest00042 cannot be registered")
    register_ok(srv.client("Guest"), "Guest")


def test_custom_account_name_without_nick_reservation():
    srv = Server(conf="accounts { nick-reservation { enabled no } }")
    c = srv.client("nick1")
    register_ok(c, "myaccount")
    assert whois_account(c, "nick1") == "myaccount"
    d = sasl_plain_login(srv, "nick2", "myaccount", "correct-horse")
    assert whois_account(d, "nick2") == "myaccount"


def test_weak_and_unacceptable_passwords():
    srv = Server(conf="accounts { registration { min-password-length 8 } }")
    c = srv.client("wendy")
    for pw, code in (("short", "WEAK_PASSWORD"),
                     ("WENDY", "WEAK_PASSWORD"),
                     ("*", "UNACCEPTABLE_PASSWORD"),
                     (":two words here", "UNACCEPTABLE_PASSWORD"),
                     ("x" * 301, "UNACCEPTABLE_PASSWORD")):
        c.send("REGISTER * * %s" % pw)
        fail(c, "REGISTER", code, "wendy")
    assert whois_account(c, "wendy") is None
    # NickServ REGISTER and PASSWD keep the same rules
    c.send("PRIVMSG NickServ :REGISTER short")
    c.expect(r"NOTICE wendy :Invalid password: Passwords must be at least 8")
    register_ok(c, "wendy", pw="x" * 300)
    c.send("PRIVMSG NickServ :PASSWD %s wendy" % ("x" * 300))
    c.expect(r"NOTICE wendy :Invalid password: The password may not be the "
             r"account name")


def test_invalid_email():
    srv = Server()
    c = srv.client("emil")
    for email in ("not-an-address", "@example.org", "emil@"):
        c.send("REGISTER * %s correct-horse" % email)
        fail(c, "REGISTER", "INVALID_EMAIL", "emil")
    register_ok(c, "emil", email="emil+irc@example.org")


def test_already_authenticated():
    srv = Server()
    c = srv.client("ann")
    register_ok(c, "ann")
    c.send("REGISTER * * correct-horse")
    fail(c, "REGISTER", "ALREADY_AUTHENTICATED", "ann")
    c.send("VERIFY ann 12345")
    fail(c, "VERIFY", "ALREADY_AUTHENTICATED", "ann")
    # logged in with SASL under another nick: same answer
    d = sasl_plain_login(srv, "annie", "ann", "correct-horse")
    d.send("REGISTER * * correct-horse")
    fail(d, "REGISTER", "ALREADY_AUTHENTICATED", "ann")


def test_verify_has_no_code_to_match():
    srv = Server()
    c = srv.client("vera")
    c.send("VERIFY vera 0000")
    fail(c, "VERIFY", "INVALID_CODE", "vera")
    c.send("REGISTER * *")
    c.expect(r"^:irc\.test 461 vera REGISTER :")
    c.send("VERIFY vera")
    c.expect(r"^:irc\.test 461 vera VERIFY :")


def test_the_account_works_for_sasl_and_survives_a_restart():
    srv = Server()
    c = srv.client("durable")
    register_ok(c, "durable", pw="kept-across")
    c.close()
    srv.stop()
    srv.start()
    d = sasl_plain_login(srv, "durable", "durable", "kept-across")
    assert whois_account(d, "durable") == "durable"
    d.send("PRIVMSG NickServ :INFO durable")
    d.expect(r"NOTICE durable :Account: durable$")
    # the wrong password still fails
    e = srv.client()
    prereg(e, "guess")
    e.send("CAP REQ :sasl")
    e.expect(" ACK ")
    e.send("AUTHENTICATE PLAIN")
    e.expect(r"^AUTHENTICATE \+$")
    e.send("AUTHENTICATE " + b64("\0durable\0wrong"))
    e.expect_numeric("904")


def test_registrations_are_throttled_per_ip():
    srv = Server(conf="accounts { registration { throttling { "
                 "max-attempts 2  duration 1h } } }")
    a = srv.client("one")
    register_ok(a, "one")
    a.send("QUIT")
    a.closed()
    # a failure that costs nothing (a taken name) is not counted
    b = srv.client("one")
    b.send("REGISTER * * correct-horse")
    fail(b, "REGISTER", "ACCOUNT_EXISTS", "one")
    register_ok(srv.client("two"), "two")
    c = srv.client("three")
    c.send("REGISTER * * correct-horse")
    fail(c, "REGISTER", "TEMPORARILY_UNAVAILABLE", "three")
    c.send("PRIVMSG NickServ :REGISTER correct-horse")
    c.expect(r"NOTICE three :Too many accounts were registered from your "
             r"address")
    assert whois_account(c, "three") is None
    srv.wait_log(r"127\.0\.0\.1: registration throttled: 2 accounts")
    # another address has its own allowance
    d = client_from(srv, "127.0.0.2")
    d.register("four")
    register_ok(d, "four")


def test_throttle_window_ends():
    srv = Server(conf="accounts { registration { throttling { "
                 "max-attempts 1  duration 1s } } }")
    register_ok(srv.client("first"), "first")
    c = srv.client("second")

    def attempt():
        c.send("REGISTER * * correct-horse")
        l = c.expect(r" REGISTER ")
        return " SUCCESS " in l
    assert not attempt()
    wait_for(attempt, 5, "the throttle window to end")
    assert whois_account(c, "second") == "second"


def test_a_k_lined_client_creates_no_account_before_connecting():
    p = run_ergo("genpasswd", input="ban hammer\n", timeout=60)
    assert p.returncode == 0, p.stderr
    h = [l for l in p.stdout.splitlines() if l.strip()][-1].strip()
    srv = Server(conf='oper admin { class server-admin  password "%s" }' % h)
    op = srv.client("opal")
    op.send("OPER admin :ban hammer")
    op.expect_numeric("381")
    op.send("KLINE evil@127.0.0.1 no thanks")
    op.expect(r"NOTICE opal :")
    c = srv.client()
    ls(c)
    c.send("NICK baddie")
    c.send("USER evil 0 * :Evil")     # the K-line matches ~evil
    c.send("REGISTER * * correct-horse")
    lines = c.closed()
    assert any(" 465 " in l for l in lines), lines
    assert not any("SUCCESS" in l for l in lines), lines
    op.send("PRIVMSG NickServ :INFO baddie")
    op.expect(r"NOTICE opal :No such account$")


def test_registration_config_errors_name_the_place():
    for text, err in (("accounts { registration maybe }\n",
                       r":1:25: expected yes or no"),
                      ("accounts {\n registration no\n registration { "
                       "enabled yes }\n}\n", r":3:2: duplicate block "
                       r"\"registration\""),
                      ("accounts { registration { throttling { "
                       "max-attempts 0 } } }\n", r":1:\d+: ")):
        srv = Server(start=False)
        srv.write_config(text)
        p = run_ergo("checkconfig", "--config", srv.conf_path)
        assert p.returncode == 1, (text, p.stdout, p.stderr)
        assert re.search(err, p.stderr), (text, p.stderr)


def test_a_full_disk_fails_register_cleanly():
    s = Server(start=False, conf="accounts { registration { throttling { "
               "enabled no } } }")
    s.start()                      # create the database at full size
    s.stop()
    limit = os.path.getsize(os.path.join(s.dir, "ircd.db")) + 8192
    real = subprocess.Popen

    def popen(*a, **kw):
        kw["preexec_fn"] = lambda: resource.setrlimit(
            resource.RLIMIT_FSIZE, (limit, limit))
        return real(*a, **kw)
    subprocess.Popen = popen
    try:
        s.start()
    finally:
        subprocess.Popen = real
    got, failed = [], None
    for i in range(200):
        c = s.client("disk%d" % i)
        c.send("REGISTER * * correct-horse")
        l = c.expect(r" REGISTER ")
        c.close()
        if " SUCCESS " not in l:
            failed = l
            break
        got.append("disk%d" % i)
    assert failed is not None, "200 accounts fit in %d bytes" % limit
    assert re.match(r"^:irc\.test FAIL REGISTER TEMPORARILY_UNAVAILABLE "
                    r"disk\d+ :The account database failed .*nothing was "
                    r"saved$", failed), failed
    assert s.running(), s.logtail()
    s.stop()
    db = sqlite3.connect(os.path.join(s.dir, "ircd.db"))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    names = {r[0] for r in db.execute("SELECT name FROM accounts")}
    db.close()
    assert set(got) <= names and failed.split()[4] not in names, (got, names)
