"""NickServ accounts on the real binary and a real SQLite file: REGISTER
(Ergo's wording), IDENTIFY, PASSWD, DROP, INFO, GHOST, CERT, SET ENFORCE,
persistence across restarts and kill -9, and what the file holds."""

import os
import re
import signal
import sqlite3

from ergotest import Server, ErgoTestError

NS = r"^:NickServ!NickServ@localhost NOTICE %s :"


def ns(c, text):
    c.send("PRIVMSG NickServ :" + text)


def ns_expect(c, text, timeout=5):
    return c.expect(NS % re.escape(c.nick) + re.escape(text), timeout)


def register(srv, nick, pw="hunter2", email=None):
    c = srv.client(nick)
    ns(c, "REGISTER %s%s" % (pw, " " + email if email else ""))
    ns_expect(c, "Account created")
    return c


def test_register_replies_account_created_and_logs_in():
    with Server() as srv:
        c = srv.client("alice")
        ns(c, "REGISTER hunter2 alice@example.org")
        lines = c.lines_until(NS % "alice" + "You're now logged in as alice")
        text = "\n".join(lines)
        assert "NOTICE alice :Account created" in text, text
        assert re.search(r"^:irc\.test 900 alice alice!~alice@\S+ alice "
                         r":You are now logged in as alice$", text, re.M), text
        assert re.search(r"^:alice MODE alice :\+r$", text, re.M), text


def test_ns_alias_and_nickserv_command():
    with Server() as srv:
        c = srv.client("bob")
        c.send("NS REGISTER pw1")
        ns_expect(c, "Account created")
        d = srv.client("carol")
        d.send("NICKSERV IDENTIFY bob pw1")
        ns_expect(d, "You're now logged in as bob")


def test_register_existing_account_is_refused():
    with Server() as srv:
        a = register(srv, "dave")
        a.send("NICK dave2")
        a.expect(r"NICK :dave2")
        b = srv.client("Dave")
        ns(b, "REGISTER other")
        ns_expect(b, "Account already exists")


def test_register_while_logged_in_is_refused():
    with Server() as srv:
        a = register(srv, "erin")
        ns(a, "REGISTER again")
        ns_expect(a, "You're already logged into an account")


def test_account_survives_restart_and_identify():
    with Server() as srv:
        register(srv, "frank", "s3cret")
        srv.stop()
        srv.start()
        c = srv.client("frank")
        ns(c, "IDENTIFY s3cret")
        c.expect(r"^:frank MODE frank :\+r$")
        ns_expect(c, "You're now logged in as frank")


def test_identify_wrong_password():
    with Server() as srv:
        register(srv, "gina", "right")
        c = srv.client("other")
        ns(c, "IDENTIFY gina wrong")
        ns_expect(c, "Could not login with your TLS certificate or supplied "
                  "username/password")
        ns(c, "IDENTIFY nosuch whatever")
        ns_expect(c, "Could not login with your TLS certificate or supplied "
                  "username/password")


def test_identify_failures_are_throttled():
    with Server() as srv:
        register(srv, "hank", "right")
        c = srv.client("x1")
        for _ in range(5):
            ns(c, "IDENTIFY hank wrong")
            ns_expect(c, "Could not login")
        ns(c, "IDENTIFY hank right")
        ns_expect(c, "Too many failed login attempts; try again later")


def test_passwd_changes_the_password():
    with Server() as srv:
        c = register(srv, "ivy", "old")
        ns(c, "PASSWD wrong new")
        ns_expect(c, "Password incorrect")
        ns(c, "PASSWD old new")
        ns_expect(c, "Password changed")
        d = srv.client("z")
        ns(d, "IDENTIFY ivy old")
        ns_expect(d, "Could not login")
        ns(d, "IDENTIFY ivy new")
        ns_expect(d, "You're now logged in as ivy")


def test_drop_deletes_the_account():
    with Server() as srv:
        c = register(srv, "jack", "pw")
        ns(c, "DROP nope")
        ns_expect(c, "Password incorrect")
        ns(c, "DROP pw")
        ns_expect(c, "Successfully unregistered account jack")
        c.expect(r"^:irc\.test 901 jack \S+ :You are now logged out$")
        c.expect(r"^:jack MODE jack :-r$")
        ns(c, "INFO jack")
        ns_expect(c, "No such account")
        ns(c, "REGISTER again")
        ns_expect(c, "Account created")


def test_info_shows_email_to_the_owner_only():
    with Server() as srv:
        c = register(srv, "kate", "pw", "kate@example.org")
        ns(c, "INFO")
        ns_expect(c, "Account: kate")
        assert re.search(r"Registered at: \d{4}-\d\d-\d\dT",
                         ns_expect(c, "Registered at: "))
        ns_expect(c, "Email address: kate@example.org")
        d = srv.client("lee")
        ns(d, "INFO kate")
        ns_expect(d, "Account: kate")
        ns_expect(d, "Registered at: ")
        lines = d.sync()
        assert not any("Email" in l for l in lines), lines


def test_ghost_disconnects_a_session_on_ones_nick():
    with Server() as srv:
        register(srv, "mike", "pw").close()
        squatter = srv.client("mike")
        me = srv.client("mike_")
        ns(me, "GHOST mike")
        ns_expect(me, "You're not logged into an account")
        ns(me, "IDENTIFY mike pw")
        ns_expect(me, "You're now logged in as mike")
        ns(me, "GHOST mike")
        ns_expect(me, "Ghosted mike")
        lines = squatter.closed()
        assert any("GHOSTed by mike_" in l for l in lines), lines
        other = srv.client("nina")
        ns(me, "GHOST nina")
        ns_expect(me, "You don't own that nick")
        ns(me, "GHOST mike_")
        ns_expect(me, "You can't GHOST yourself (try /QUIT instead)")
        other.sync()


def test_cert_add_list_del():
    fp = "AB:" * 31 + "CD"
    norm = ("ab" * 31 + "cd")
    with Server() as srv:
        c = register(srv, "olga", "pw")
        ns(c, "CERT LIST")
        ns_expect(c, "There are no certificate fingerprints for this account")
        ns(c, "CERT ADD " + fp)
        ns_expect(c, "Certificate fingerprint successfully added")
        ns(c, "CERT ADD " + norm)
        ns_expect(c, "That certificate fingerprint is already associated "
                  "with an account")
        ns(c, "CERT ADD nothex")
        ns_expect(c, "Invalid certificate fingerprint")
        ns(c, "CERT LIST")
        ns_expect(c, norm)
        ns(c, "CERT DEL " + norm)
        ns_expect(c, "Certificate fingerprint successfully removed")
        ns(c, "CERT DEL " + norm)
        ns_expect(c, "That certificate fingerprint was not associated with "
                  "your account")


def test_set_enforce_is_saved():
    with Server() as srv:
        c = register(srv, "pete", "pw")
        ns(c, "SET ENFORCE strict")
        ns_expect(c, "Enforcement method set to strict")
        ns(c, "SET ENFORCE sideways")
        ns_expect(c, "Invalid parameters")
        srv.stop()
        srv.start()
        c = srv.client("notpete")
        ns(c, "IDENTIFY pete pw")
        ns_expect(c, "You're now logged in as pete")
        ns(c, "INFO")
        ns_expect(c, "Enforcement: strict")


def test_registration_disabled():
    with Server(conf="accounts { registration no }") as srv:
        c = srv.client("quinn")
        ns(c, "REGISTER pw")
        ns_expect(c, "Account registration is disabled")


def test_unknown_command_and_help():
    with Server() as srv:
        c = srv.client("rob")
        ns(c, "FROB")
        ns_expect(c, "Unknown command. To see the available commands, run: "
                  "/NS HELP")
        c.send("NS")
        ns_expect(c, "*** \x02NickServ HELP\x02 ***")
        ns_expect(c, "    \x02SET\x02    ")
        ns_expect(c, "*** \x02End of NickServ HELP\x02 ***")
        c.send("NOTICE NickServ :HELP")     # a NOTICE draws no reply
        assert not any("NickServ" in l for l in c.sync())


def test_kill_9_right_after_account_created_keeps_the_account():
    with Server() as srv:
        c = srv.client("sam")
        ns(c, "REGISTER durable")
        ns_expect(c, "Account created")
        os.kill(srv.pid, signal.SIGKILL)
        srv.wait_exit()
        db = os.path.join(srv.dir, "ircd.db")
        h = sqlite3.connect(db)
        try:
            assert h.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert h.execute("SELECT display FROM accounts WHERE name='sam'"
                             ).fetchone() == ("sam",)
        finally:
            h.close()
        srv.start()
        d = srv.client("x")
        ns(d, "IDENTIFY sam durable")
        ns_expect(d, "You're now logged in as sam")


def test_database_holds_scram_credentials_not_the_password():
    with Server() as srv:
        register(srv, "tina", "PlainTextSecret", "t@example.org")
        srv.stop()
        db = os.path.join(srv.dir, "ircd.db")
        raw = b""
        for suffix in ("", "-wal"):
            if os.path.exists(db + suffix):
                with open(db + suffix, "rb") as f:
                    raw += f.read()
        assert b"PlainTextSecret" not in raw
        h = sqlite3.connect(db)
        try:
            row = h.execute("SELECT length(salt), iterations, "
                            "length(stored_key), length(server_key) "
                            "FROM accounts WHERE name='tina'").fetchone()
        finally:
            h.close()
        assert row == (16, 32768, 32, 32), row


def test_password_iterations_config():
    with Server(conf="accounts { password-iterations 5000 }") as srv:
        register(srv, "uma", "pw")
        srv.stop()
        h = sqlite3.connect(os.path.join(srv.dir, "ircd.db"))
        try:
            assert h.execute("SELECT iterations FROM accounts").fetchone() \
                == (5000,)
        finally:
            h.close()


def test_runtime_database_failure_is_told_and_server_keeps_serving():
    with Server() as srv:
        c = srv.client("vera")
        h = sqlite3.connect(os.path.join(srv.dir, "ircd.db"),
                            isolation_level=None)
        try:
            h.execute("BEGIN EXCLUSIVE")    # every writer waits, then fails
            ns(c, "REGISTER pw")
            line = c.expect(NS % "vera" + "Registration: ", timeout=15)
            assert "nothing was saved" in line and "locked" in line, line
        finally:
            h.execute("ROLLBACK")
            h.close()
        d = srv.client("walt")
        d.sync()
        ns(c, "INFO vera")
        ns_expect(c, "No such account")
        ns(c, "REGISTER pw")
        ns_expect(c, "Account created")
        srv.wait_log(r"store .*database is locked")


def test_nick_reservation_optional_by_default_no_rename():
    with Server() as srv:
        register(srv, "xena", "pw").close()
        c = srv.client("xena")
        assert not any("reserved" in l for l in c.sync())
        c.sync()


def test_set_enforce_strict_renames_at_once():
    with Server() as srv:
        a = register(srv, "yuri", "pw")
        ns(a, "SET ENFORCE strict")
        ns_expect(a, "Enforcement method set to strict")
        a.close()
        c = srv.client("yuri")
        c.expect(r"NOTICE yuri :This nickname is reserved by another "
                 r"account; you are being renamed")
        line = c.expect(r"^:yuri!\S+ NICK :Guest\d{5}$")
        srv.wait_log(r"reserved nick, renamed to Guest\d{5}")
        # the owner logs in and takes the nick
        d = srv.client("yuri2")
        ns(d, "IDENTIFY yuri pw")
        d.expect(r"You're now logged in as yuri")
        d.send("NICK yuri")
        d.expect(r"^:yuri2!\S+ NICK :yuri$")
        lines = d.sync() + d.sync()
        assert not any(" NICK " in l for l in lines), lines


def test_set_enforce_timeout_renames_after_the_grace_period():
    conf = "accounts { nick-reservation { grace 2s } }"
    with Server(conf=conf) as srv:
        a = register(srv, "zack", "pw")
        ns(a, "SET ENFORCE timeout")
        ns_expect(a, "Enforcement method set to timeout")
        a.close()
        c = srv.client("zack")
        c.expect(r"NOTICE zack :This nickname is reserved by another "
                 r"account; log in to it or change your nick within 2 "
                 r"seconds")
        assert not any(" NICK " in l for l in c.sync())
        c.expect(r"^:zack!\S+ NICK :Guest\d{5}$", timeout=6)
        # logging in within the grace period keeps the nick
        d = srv.client("zack")
        d.expect(r"within 2 seconds")
        ns(d, "IDENTIFY pw")
        d.expect(r"You're now logged in as zack")
        import time
        time.sleep(2.5)
        assert not any(" NICK " in l for l in d.sync())


def test_method_strict_renames_without_opt_in():
    conf = "accounts { nick-reservation { method strict } }"
    with Server(conf=conf) as srv:
        register(srv, "abby", "pw").close()
        c = srv.client("other")
        c.send("NICK Abby")
        c.expect(r"^:other!\S+ NICK :Abby$")
        c.expect(r"^:Abby!\S+ NICK :Guest\d{5}$")


def test_nick_reservation_disabled():
    conf = ("accounts { nick-reservation { enabled no  method strict } }")
    with Server(conf=conf) as srv:
        register(srv, "bert", "pw").close()
        c = srv.client("bert")
        c.sync()
        assert not any(" NICK " in l or "reserved" in l for l in c.sync())


SERVICE_NICKS = ["NickServ", "ChanServ", "nickserv", "CHANSERV", "HostServ",
                 "HistServ", "MemoServ", "BotServ", "OperServ", "Global"]


def test_nobody_may_be_called_nickserv():
    """A service's nick (and the ones Ergo keeps for services it does not
    run) is refused with 432 before and after registration, so nobody
    can hold it even for a moment and send as :NickServ!..."""
    conf = "accounts { nick-reservation { enabled no } }"
    with Server(conf=conf) as srv:
        u = srv.client()
        for n in SERVICE_NICKS:
            u.send("NICK %s" % n)
            u.expect(r"^:irc\.test 432 \* %s :Erroneous nickname$" % n)
        u.send("USER u 0 * :u")
        u.send("NICK early")
        u.expect(r" 001 early ")
        c = srv.client("mallory")
        for n in SERVICE_NICKS:
            c.send("NICK %s" % n)
            c.expect(r"^:irc\.test 432 mallory %s :Erroneous nickname$" % n)
        d = srv.client("victim")
        assert not any(" NICK " in l for l in c.sync() + d.sync())
        ns(d, "HELP")
        ns_expect(d, "*** \x02NickServ HELP\x02 ***")
        d.send("WHOIS NickServ")
        d.expect(r" 401 victim NickServ ")


# ---- ChanServ ----

CS = r"^:ChanServ!ChanServ@localhost NOTICE %s :"


def cs(c, text):
    c.send("PRIVMSG ChanServ :" + text)


def cs_expect(c, text, timeout=5):
    return c.expect(CS % re.escape(c.nick) + re.escape(text), timeout)


def test_chanserv_register_info_survives_restart():
    with Server() as srv:
        a = register(srv, "fred", "pw")
        cs(a, "REGISTER #room")
        cs_expect(a, "You must be an operator in #room to register it")
        a.send("JOIN #room")
        a.expect(r" 366 ")
        cs(a, "REGISTER #room")
        cs_expect(a, "Channel #room successfully registered")
        cs(a, "REGISTER #Room")
        cs_expect(a, "Channel #room is already registered")
        b = srv.client("nobody")
        cs(b, "REGISTER #other")
        cs_expect(b, "You must be logged in to register a channel")
        srv.stop()
        srv.start()
        c = srv.client("x")
        cs(c, "INFO #ROOM")
        cs_expect(c, "Channel: #room")
        cs_expect(c, "Founder: fred")
        cs_expect(c, "Registered at: ")
        cs(c, "INFO #nope")
        cs_expect(c, "Channel #nope is not registered")


def test_chanserv_op_amode_transfer_drop():
    with Server() as srv:
        f = register(srv, "gail", "pw")
        f.send("JOIN #c")
        f.expect(r" 366 ")
        cs(f, "REGISTER #c")
        cs_expect(f, "Channel #c successfully registered")
        register(srv, "hugh", "pw2").close()
        h = srv.client("hugh2")
        ns(h, "IDENTIFY hugh pw2")
        ns_expect(h, "You're now logged in as hugh")
        h.send("JOIN #c")
        h.expect(r" 366 ")
        cs(h, "OP #c")
        cs_expect(h, "Insufficient privileges")
        cs(h, "AMODE #c +o hugh")
        cs_expect(h, "Only the channel founder can do that")
        cs(f, "AMODE #c +o hugh")
        cs_expect(f, "Successfully set persistent mode +o on hugh in #c")
        h.expect(r"^:ChanServ!ChanServ@localhost MODE #c \+o hugh2$")
        cs(f, "AMODE #c")
        cs_expect(f, "+o hugh")
        cs(f, "DEOP #c hugh2")
        h.expect(r"^:ChanServ!\S+ MODE #c -o hugh2$")
        cs(h, "OP #c")                      # own AMODE
        h.expect(r"^:ChanServ!\S+ MODE #c \+o hugh2$")
        cs(h, "DEOP #c gail")
        cs_expect(h, "Insufficient privileges")
        cs(f, "TRANSFER #c hugh")
        cs_expect(f, "Transferred channel #c to hugh")
        cs(f, "DROP #c")
        cs_expect(f, "Only the channel founder can do that")
        cs(h, "DROP #c")
        cs_expect(h, "Channel #c is now unregistered")
        cs(h, "INFO #c")
        cs_expect(h, "Channel #c is not registered")


def test_dropping_the_founders_account_drops_the_channel():
    with Server() as srv:
        f = register(srv, "iris", "pw")
        f.send("JOIN #d")
        f.expect(r" 366 ")
        cs(f, "REGISTER #d")
        cs_expect(f, "Channel #d successfully registered")
        ns(f, "DROP pw")
        ns_expect(f, "Successfully unregistered account iris")
        cs(f, "INFO #d")
        cs_expect(f, "Channel #d is not registered")


def test_whois_shows_the_account_of_logged_in_users():
    with Server() as srv:
        a = register(srv, "wendy")
        a.send("NICK wendy_away")
        a.expect(r"NICK :wendy_away")
        b = srv.client("asker")
        b.send("WHOIS wendy_away")
        lines = b.lines_until(r" 318 ")
        assert [l for l in lines if re.search(
            r"^:irc\.test 330 asker wendy_away wendy :is logged in as$",
            l)], lines
        b.send("WHOIS asker")
        lines = b.lines_until(r" 318 ")
        assert not [l for l in lines if " 330 " in l], lines
