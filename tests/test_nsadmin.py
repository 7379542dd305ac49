"""NickServ for operators (irc_nsadmin.c), in Ergo's words, each command
with the right and the wrong privilege: SAREGISTER, SADROP, UNREGISTER
and ERASE with their codes, SASET, SAGET and GET, SUSPEND (and a
suspended account refused by every way of logging in: SASL PLAIN,
SCRAM-SHA-256, EXTERNAL, NickServ IDENTIFY with a password and with a
certificate), RENAME, LIST, INFO's fingerprints, PASSWD by an oper; an
oper recovering a user's account end to end; KILL, SUSPEND and SADROP
of always-on users, which do not come back after a restart."""

import os
import re
import shutil
import sqlite3
import tempfile

from ergotest import Server, run_ergo, free_port
import test_sasl
from test_sasl import TLSClient, sasl_start, plain, scram, authenticate

PASSWORD = "nsadmin oper password"
HASH = None
CERTS = None
NS = r"^:NickServ!NickServ@localhost NOTICE %s :"
ERGO_SUSPENDED = r"SASL authentication failed: Account has been suspended$"


def setup_module():
    global HASH, CERTS
    p = run_ergo("genpasswd", input=PASSWORD + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    HASH = [l for l in p.stdout.splitlines() if l.strip()][-1].strip()
    CERTS = tempfile.mkdtemp(prefix="ergo-nsadmin-")
    for name in ("server", "client"):
        p = run_ergo("mkcerts", "--cert", name + ".crt", "--key",
                     name + ".key", "--host", "localhost", cwd=CERTS)
        assert p.returncode == 0, p.stderr


def teardown_module():
    shutil.rmtree(CERTS, ignore_errors=True)


def server(extra="", tls=False):
    """admin: accreg, ban and kill; helper: kill only."""
    kw = {}
    if tls:
        port = free_port()
        kw["server"] = ('listen 127.0.0.1:%d { tls { cert "%s"  key "%s" '
                        '} }' % (port, os.path.join(CERTS, "server.crt"),
                                 os.path.join(CERTS, "server.key")))
    srv = Server(conf='oper-class helper { capabilities "kill" }\n'
                 'oper-class server-admin { capabilities "kill ban accreg '
                 'snomasks" }\n'
                 'oper admin { class server-admin  password "%s" }\n'
                 'oper helper { class helper  password "%s" }\n'
                 % (HASH, HASH) + extra, **kw)
    if tls:
        srv.tls_port = port
    return srv


def oper(srv, nick="adm", name="admin"):
    c = srv.client(nick)
    c.send("OPER %s :%s" % (name, PASSWORD))
    c.expect(r" 381 ")
    return c


def ns(c, text):
    c.send("NS " + text)


def ns_expect(c, text):
    return c.expect(NS % re.escape(c.nick) + re.escape(text))


def account(srv, nick, pw="pw-secret"):
    c = srv.client(nick)
    ns(c, "REGISTER " + pw)
    ns_expect(c, "Account created")
    return c


def sasl_plain(srv, acct, pw, nick=None):
    """A fresh connection's SASL PLAIN answer: the 90x line."""
    c = srv.client()
    sasl_start(c, nick or acct + "x")
    plain(c, acct, pw)
    line = c.expect(r"^:\S+ 90[34] ")
    c.close()
    return line


def texts_of(lines, target=None):
    """The texts of the PRIVMSGs among lines (to target, if given)."""
    out = []
    for l in lines:
        m = re.search(r" PRIVMSG (\S+) :(.*)$", l)
        if m and (target is None or m.group(1) == target):
            out.append(m.group(2))
    return out


def db_rows(srv, sql):
    db = sqlite3.connect(os.path.join(srv.dir, "ircd.db"))
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def quit_and_wait(c):
    c.send("QUIT :bye")
    c.closed()


def always_on(srv, nick, chan):
    """Account nick, always-on, in chan, its only client gone."""
    c = account(srv, nick)
    ns(c, "SET ALWAYS-ON on")
    ns_expect(c, "Your setting for always-on is now on")
    c.send("JOIN " + chan)
    c.expect(r" 366 %s %s " % (nick, chan))
    quit_and_wait(c)
    return c


def peer(srv, nick, chan):
    c = srv.client(nick)
    c.send("JOIN " + chan)
    c.expect(r" 366 %s %s " % (nick, chan))
    return c


# ---- SAREGISTER, SADROP ----

def test_saregister_needs_accreg_and_the_account_logs_in():
    with server() as srv:
        u = srv.client("plainu")
        ns(u, "SAREGISTER newbie pw-newbie")
        ns_expect(u, "Command restricted")
        h = oper(srv, "hlp", "helper")
        ns(h, "SAREGISTER newbie pw-newbie")
        ns_expect(h, "Command restricted")
        a = oper(srv)
        ns(a, "SAREGISTER newbie pw-newbie")
        ns_expect(a, "Successfully registered account newbie")
        ns(a, "SAREGISTER newbie pw-other")
        ns_expect(a, "Account already exists")
        ns(a, "SAREGISTER NickServ pw-other")
        ns_expect(a, "Erroneous nickname")
        assert " 903 " in sasl_plain(srv, "newbie", "pw-newbie")
        # the HELP index shows them to the admin only
        ns(h, "HELP")
        lines = h.lines_until(r"End of NickServ HELP")
        assert not any("SAREGISTER" in l for l in lines), lines
        ns(a, "HELP")
        lines = a.lines_until(r"End of NickServ HELP")
        assert any("SAREGISTER" in l for l in lines), lines


def test_sadrop_deletes_the_account_and_ends_its_always_on_user():
    with server() as srv:
        always_on(srv, "ghosty", "#sd")
        p = peer(srv, "watcher", "#sd")
        h = oper(srv, "hlp", "helper")
        ns(h, "SADROP ghosty")
        ns_expect(h, "Command restricted")
        a = oper(srv)
        ns(a, "SADROP nosuch")
        ns_expect(a, "Account does not exist")
        ns(a, "SADROP ghosty")
        ns_expect(a, "Successfully unregistered account ghosty")
        p.expect(r"^:ghosty!\S+ QUIT :You are no longer authorized to be "
                 r"on this server$")
        assert db_rows(srv, "SELECT nick FROM always_on") == []
        assert db_rows(srv, "SELECT name FROM accounts WHERE name = "
                       "'ghosty'") == []
        # SADROP frees the name, as DROP does
        account(srv, "ghosty").close()


# ---- UNREGISTER, ERASE ----

def test_unregister_keeps_the_name_and_erase_frees_it():
    with server() as srv:
        u = account(srv, "leaver")
        other = account(srv, "other")
        ns(other, "UNREGISTER leaver")
        ns_expect(other, "Insufficient oper privs")
        ns(u, "UNREGISTER leaver")
        ns_expect(u, "\x02Warning: unregistering this account will remove "
                  "its stored privileges.\x02")
        line = ns_expect(u, "To confirm, run this command: /NS UNREGISTER "
                         "leaver ")
        code = line.split()[-1]
        ns(u, "UNREGISTER leaver wrongcode")
        ns_expect(u, "To confirm, run this command: /NS UNREGISTER leaver "
                  + code)
        ns(u, "UNREGISTER leaver " + code)
        ns_expect(u, "Successfully unregistered account leaver")
        u.expect(r"^ERROR :You are no longer authorized")
        # the name stays reserved
        v = srv.client("leaver")
        ns(v, "REGISTER pw-again")
        ns_expect(v, "Account already exists")
        h = oper(srv, "hlp", "helper")
        ns(h, "ERASE leaver")
        ns_expect(h, "Command restricted")
        a = oper(srv)
        ns(a, "ERASE leaver")
        ns_expect(a, "\x02Warning: erasing this account will allow it to "
                  "be re-registered; consider UNREGISTER instead.\x02")
        code = ns_expect(a, "To confirm, run this command: /NS ERASE "
                         "leaver ").split()[-1]
        ns(a, "ERASE leaver " + code)
        ns_expect(a, "Successfully unregistered account leaver")
        ns(v, "REGISTER pw-again")
        ns_expect(v, "Account created")
        # an oper UNREGISTERs anyone's
        ns(a, "UNREGISTER other")
        code = ns_expect(a, "To confirm, run this command: /NS UNREGISTER "
                         "other ").split()[-1]
        ns(a, "UNREGISTER other " + code)
        ns_expect(a, "Successfully unregistered account other")
        ns(a, "UNREGISTER nosuch")
        ns_expect(a, "Invalid account name")


# ---- SASET, SAGET, GET ----

def test_saset_saget_and_get():
    with server() as srv:
        u = account(srv, "setme")
        ns(u, "GET enforce")
        ns_expect(u, "Your stored nickname enforcement setting is: default")
        ns(u, "GET dm-history")
        ns_expect(u, "Your stored direct message history setting is: "
                  "default")
        ns(u, "GET nosuch")
        ns_expect(u, "No such setting")
        ns(u, "SASET setme ENFORCE strict")
        ns_expect(u, "Command restricted")
        ns(u, "SAGET setme enforce")
        ns_expect(u, "Command restricted")
        h = oper(srv, "hlp", "helper")
        ns(h, "SASET setme ENFORCE strict")
        ns_expect(h, "Command restricted")
        a = oper(srv)
        ns(a, "SASET setme ENFORCE strict")
        ns_expect(a, "Enforcement method set to strict")
        ns(a, "SAGET setme enforce")
        ns_expect(a, "Your stored nickname enforcement setting is: strict")
        ns_expect(a, "Given current server settings, your nickname is "
                  "enforced with: strict")
        ns(a, "SASET setme DM-HISTORY ephemeral")
        ns_expect(a, "Your setting for dm-history is now ephemeral")
        ns(u, "GET dm-history")
        ns_expect(u, "Your stored direct message history setting is: "
                  "ephemeral")
        ns(a, "SASET nosuch ENFORCE strict")
        ns_expect(a, "No such account")
        ns(u, "SET PASSWORD x")
        ns_expect(u, "To change a password, use the PASSWD command. For "
                  "details, /msg NickServ HELP PASSWD")


# ---- PASSWD by an oper; recovering an account ----

def test_oper_recovers_a_forgotten_password_end_to_end():
    with server() as srv:
        account(srv, "forgetful", "pw-forgotten").close()
        # the user cannot log in any more (a guess, then the real one is
        # lost)
        assert " 904 " in sasl_plain(srv, "forgetful", "pw-guess")
        h = oper(srv, "hlp", "helper")
        ns(h, "PASSWD forgetful pw-new-one")
        ns_expect(h, "Insufficient privileges")
        u = srv.client("someone")
        ns(u, "PASSWD forgetful pw-new-one")
        ns_expect(u, "Insufficient privileges")
        a = oper(srv)
        a.send("MODE adm +s o")
        a.expect(r" 008 adm ")
        ns(a, "PASSWD nosuch pw-new-one")
        ns_expect(a, "Account does not exist")
        ns(a, "PASSWD forgetful pw-new-one")
        lines = a.lines_until(NS % "adm" + "Password changed")
        assert any(re.search(r"NOTICE adm :.*OPER.* Operator admin ran NS "
                             r"PASSWD for account forgetful$", l)
                   for l in lines), lines
        assert " 903 " in sasl_plain(srv, "forgetful", "pw-new-one")
        assert " 904 " in sasl_plain(srv, "forgetful", "pw-forgotten")
        # SASET PASSWORD does the same; SCRAM sees the new credentials
        ns(a, "SASET forgetful PASSWORD pw-newer-still")
        ns_expect(a, "Password changed")
        c = srv.client()
        sasl_start(c, "forgetful")
        assert scram(c, "forgetful", "pw-newer-still")
        c.send("CAP END")
        c.expect(r" 001 forgetful ")
        c.nick = "forgetful"
        # the user's own PASSWD: three words must agree
        ns(c, "PASSWD pw-newer-still pw-mine pw-mien")
        ns_expect(c, "Passwords do not match")
        ns(c, "PASSWD pw-newer-still pw-mine pw-mine")
        ns_expect(c, "Password changed")


# ---- SUSPEND and every way of logging in ----

def test_suspension_refuses_every_login_and_ends_the_sessions():
    test_sasl.D = CERTS
    with server(tls=True) as srv:
        t = TLSClient(srv.tls_port, cert="client")
        t.register("susie")
        ns(t, "REGISTER pw-susie")
        ns_expect(t, "Account created")
        ns(t, "CERT ADD")
        ns_expect(t, "Certificate fingerprint successfully added")
        w = peer(srv, "witness", "#sus")
        t.send("JOIN #sus")
        t.expect(r" 366 susie #sus ")
        h = oper(srv, "hlp", "helper")
        ns(h, "SUSPEND ADD susie")
        ns_expect(h, "Command restricted")
        a = oper(srv)
        ns(a, "SUSPEND ADD nosuch")
        ns_expect(a, "No such account")
        ns(a, "SUSPEND ADD susie DURATION 1h spamming the lobby")
        ns_expect(a, "Successfully suspended account susie")
        w.expect(r"^:susie!\S+ QUIT :Account susie suspended at \w{3}, "
                 r"\d\d \w{3} \d{4} [\d:]{8} UTC\. Duration: 1h0m0s\. "
                 r"Reason: spamming the lobby$")
        t.expect(r"^ERROR :Account susie suspended at ")
        # PLAIN, SCRAM, EXTERNAL: 904 with the reason, only once the
        # credentials were right
        line = sasl_plain(srv, "susie", "pw-susie")
        assert re.search(ERGO_SUSPENDED, line), line
        line = sasl_plain(srv, "susie", "wrong")
        assert line.endswith(":SASL authentication failed"), line
        c = srv.client()
        sasl_start(c, "susie")
        assert not scram(c, "susie", "pw-susie")
        c.close()
        e = TLSClient(srv.tls_port, cert="client")
        sasl_start(e, "susie")
        e.send("AUTHENTICATE EXTERNAL")
        e.expect(r"^AUTHENTICATE \+$")
        e.send("AUTHENTICATE +")
        e.expect(ERGO_SUSPENDED)
        e.send("CAP END")
        e.expect(r" 001 susie ")
        e.nick = "susie"
        ns(e, "IDENTIFY")               # the certificate
        ns_expect(e, "Authentication failed: Account has been suspended")
        ns(e, "IDENTIFY susie pw-susie")
        ns_expect(e, "Authentication failed: Account has been suspended")
        e.send("WHOIS susie")
        lines = e.lines_until(r" 318 ")
        assert not any(" 330 " in l for l in lines), lines
        # LIST, INFO
        ns(a, "SUSPEND LIST")
        ns_expect(a, "There are 1 active account suspensions.")
        ns_expect(a, "Account susie suspended at ")
        ns(w, "INFO susie")
        ns_expect(w, "Account: susie")
        w.expect(r"NOTICE witness :Account susie suspended at .*Reason: "
                 r"spamming the lobby$")
        # DEL: logins work again
        ns(h, "SUSPEND DEL susie")
        ns_expect(h, "Command restricted")
        ns(a, "SUSPEND DEL susie")
        ns_expect(a, "Successfully un-suspended account susie")
        ns(a, "SUSPEND DEL susie")
        ns_expect(a, "Account was not suspended")
        ns(e, "IDENTIFY")
        ns_expect(e, "You're now logged in as susie")
        assert " 903 " in sasl_plain(srv, "susie", "pw-susie")
        ns(a, "SUSPEND LIST")
        ns_expect(a, "There are 0 active account suspensions.")


def test_suspension_ends_an_always_on_user_which_does_not_come_back():
    with server() as srv:
        always_on(srv, "sleeper", "#ao")
        p = peer(srv, "watch", "#ao")
        a = oper(srv)
        ns(a, "SUSPEND ADD sleeper")
        ns_expect(a, "Successfully suspended account sleeper")
        p.expect(r"^:sleeper!\S+ QUIT :Account sleeper suspended at .* "
                 r"Duration: indefinite\. No reason given\.$")
        assert db_rows(srv, "SELECT nick FROM always_on") == []
        assert srv.stop() == 0
        srv.start()
        p = peer(srv, "watch", "#ao")
        p.send("WHOIS sleeper")
        p.expect(r" 401 watch sleeper ")
        assert " 904 " in sasl_plain(srv, "sleeper", "pw-secret")


def test_kill_of_an_always_on_user_ends_it_for_good():
    with server() as srv:
        always_on(srv, "killme", "#k")
        p = peer(srv, "watch", "#k")
        h = oper(srv, "hlp", "helper")
        h.send("KILL killme :enough")
        p.expect(r"^:killme!\S+ QUIT :Killed \(hlp \(enough\)\)$")
        assert db_rows(srv, "SELECT nick FROM always_on") == []
        assert srv.stop() == 0
        srv.start()
        p = peer(srv, "watch", "#k")
        p.send("NAMES #k")
        line = p.expect(r" 353 watch \S #k :")
        assert "killme" not in line, line
        # the account itself is untouched
        assert " 903 " in sasl_plain(srv, "killme", "pw-secret")


# ---- RENAME, LIST, INFO ----

def test_rename_list_and_info_with_fingerprints():
    with server() as srv:
        u = account(srv, "bobby")
        ns(u, "CERT ADD " + "ab" * 32)
        ns_expect(u, "Certificate fingerprint successfully added")
        account(srv, "alice").close()
        h = oper(srv, "hlp", "helper")
        for cmd in ("RENAME bobby Bobby", "LIST"):
            ns(h, cmd)
            ns_expect(h, "Command restricted")
        a = oper(srv)
        ns(a, "RENAME bobby robert")
        ns_expect(a, "Couldn't rename account: Account renames can only "
                  "change the casefolding of the account name")
        ns(a, "RENAME nosuch Nosuch")
        ns_expect(a, "Couldn't rename account: Account does not exist")
        ns(a, "RENAME bobby BobBy")
        ns_expect(a, "Successfully renamed account")
        u.send("WHOIS bobby")
        u.expect(r" 330 bobby bobby BobBy ")
        ns(a, "LIST")
        ns_expect(a, "*** \x02NickServ LIST\x02 ***")
        ns_expect(a, "    alice")
        ns_expect(a, "    BobBy")
        ns_expect(a, "*** \x02End of NickServ LIST\x02 ***")
        ns(a, "LIST b*")
        lines = a.lines_until(r"End of NickServ LIST")
        assert [l for l in lines if "    " in l] == \
            [l for l in lines if "    BobBy" in l], lines
        # fingerprints: the owner and accreg opers, nobody else
        for c in (a, u):
            ns(c, "INFO bobby")
            ns_expect(c, "Account: BobBy")
            ns_expect(c, "Certificate fingerprint: " + "ab" * 32)
        ns(h, "INFO bobby")
        ns_expect(h, "Account: BobBy")
        lines = h.sync()
        assert not any("fingerprint" in l for l in lines), lines


# ---- DM-HISTORY ----

def test_dm_history_off_ephemeral_on():
    with server("history { persistent yes }") as srv:
        u = account(srv, "dmu")
        s = srv.client("sender")
        ns(u, "SET DM-HISTORY maybe")
        ns_expect(u, "Invalid parameters")
        ns(u, "GET DM-HISTORY")
        ns_expect(u, "Your stored direct message history setting is: "
                  "default")
        ns_expect(u, "Given current server settings, your direct message "
                  "history setting is: on")
        s.send("PRIVMSG dmu :kept on disk")
        u.expect(r"PRIVMSG dmu :kept on disk")
        ns(u, "SET DM-HISTORY ephemeral")
        ns_expect(u, "Your setting for dm-history is now ephemeral")
        s.send("PRIVMSG dmu :kept in memory")
        u.expect(r"PRIVMSG dmu :kept in memory")
        ns(u, "SET DM-HISTORY off")
        ns_expect(u, "Your setting for dm-history is now off")
        s.send("PRIVMSG dmu :kept nowhere")
        u.expect(r"PRIVMSG dmu :kept nowhere")
        ns(u, "SET DM-HISTORY on")
        ns_expect(u, "Your setting for dm-history is now on")
        # what the database holds for the account: the first only
        srv.stop()
        rows = db_rows(srv, "SELECT text FROM history h JOIN accounts a "
                       "ON a.id = h.account WHERE a.name = 'dmu'")
        assert rows == [("kept on disk",)], rows
        srv.start()
        c = srv.client()
        c.send("CAP REQ :sasl draft/chathistory batch")
        c.send("NICK dmu")
        c.send("USER u 0 * :u")
        plain(c, "dmu", "pw-secret")
        c.expect(r" 903 ")
        c.send("CAP END")
        c.expect(r" 001 dmu ")
        c.send("CHATHISTORY LATEST sender * 10")
        lines = c.lines_until(r"^:\S+ BATCH -")
        assert texts_of(lines) == ["kept on disk"], lines


def test_dm_history_ephemeral_is_read_back_off_is_not():
    with server() as srv:
        u = srv.client("dmv", caps="draft/chathistory batch")
        ns(u, "REGISTER pw-dmv")
        ns_expect(u, "Account created")
        s = srv.client("sender")
        s.send("PRIVMSG dmv :first")
        u.expect(r"PRIVMSG dmv :first")
        ns(u, "SET DM-HISTORY off")
        ns_expect(u, "Your setting for dm-history is now off")
        s.send("PRIVMSG dmv :second")
        u.expect(r"PRIVMSG dmv :second")
        u.send("CHATHISTORY LATEST sender * 10")
        lines = u.lines_until(r"^(@\S+ )?:\S+ BATCH -")
        assert texts_of(lines) == ["first"], lines


# ---- znc.in/playback: LIST, nick targets, PLAY before JOIN ----

def test_playback_list_nick_targets_and_play_before_join():
    with server() as srv:
        u = account(srv, "zed")
        u.send("JOIN #zl")
        u.expect(r" 366 zed #zl ")
        s = peer(srv, "zsend", "#zl")
        s.send("PRIVMSG #zl :in the channel")
        s.send("PRIVMSG zed :to zed")
        u.expect(r"PRIVMSG zed :to zed")
        o = srv.client("zother")
        o.send("PRIVMSG zed :from another")
        u.expect(r"PRIVMSG zed :from another")
        c = srv.client()
        c.send("CAP REQ :sasl znc.in/playback batch")
        c.send("NICK zed")
        c.send("USER u 0 * :u")
        plain(c, "zed", "pw-secret")
        c.expect(r" 903 ")
        c.send("CAP END")
        c.expect(r" 366 zed #zl ")     # attached to zed, in its channel
        c.send("PRIVMSG *playback :LIST")
        lines = c.sync()
        got = sorted(re.sub(r" \d+\.\d{3}$", "", l.split(" :", 1)[1])
                     for l in lines if l.startswith(":*playback!znc@znc.in "
                                                    "PRIVMSG "))
        assert got == ["#zl 0", "zother 0", "zsend 0"], lines
        c.send("PRIVMSG *playback :PLAY zsend 0")
        lines = c.sync()
        assert texts_of(lines) == ["to zed"], lines
        # Textual's order: PLAY, then JOIN, which replays the window
        c.send("PART #zl")
        c.expect(r"PART #zl")
        c.send("PRIVMSG *playback :PLAY #zl 0")
        c.sync()
        c.send("JOIN #zl")
        lines = c.lines_until(r" 366 \S+ #zl ")
        lines += c.sync()
        assert texts_of(lines, "#zl") == ["in the channel"], lines
