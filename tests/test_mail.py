"""E-mail verification and password reset through a sendmail program
(accounts.registration.email-verification, irc_mail.c), on the real
binary. Each test writes a fake sendmail (a shell script) into the
server's directory that saves the message it is given, with its
arguments, to a file; the test reads the code from that file and
completes the registration (REGISTER/VERIFY, NickServ REGISTER/VERIFY)
or the reset (SENDPASS/RESETPASS). A failing program, a missing one and
a hanging one (killed after the timeout, with the process it started)
are reported to the user and logged, and the server keeps serving while
a program runs."""

import base64
import glob
import os
import re
import signal
import stat
import time

from ergotest import Server, oper_client, services_conf, wait_for

CAP = "draft/account-registration"

# Saves "ARGS: ..." and then the message, into mail.<pid> (renamed into
# place whole, so a reader never sees half of one).
FAKE_OK = """#!/bin/sh
d=$(dirname "$0")
{ echo "ARGS: $*"; cat; } > "$d/mail.$$.tmp" && mv "$d/mail.$$.tmp" "$d/mail.$$"
"""
FAKE_FAIL = """#!/bin/sh
cat > /dev/null
echo "fake sendmail: no route to the smarthost" >&2
exit 3
"""
# Starts a process of its own and never reads or ends: both must go.
FAKE_HANG = """#!/bin/sh
d=$(dirname "$0")
sleep 300 &
echo $! > "$d/child.pid"
echo $$ > "$d/sendmail.pid"
wait
"""


def mail_conf(path, reset=True, extra="", timeout="3s"):
    return ("accounts {\n registration {\n  email-verification {\n"
            "   enabled yes\n   sender \"ergo@irc.test\"\n"
            "   sendmail %s\n   timeout %s\n"
            "   password-reset { enabled %s }\n  }\n%s }\n}\n"
            % (path, timeout, "yes" if reset else "no", extra))


def mail_server(script=FAKE_OK, opers=False, **kw):
    """A server whose sendmail is the fake script, in its directory;
    with opers, services_conf()'s "admin" may SUSPEND."""
    srv = Server(start=False)
    path = os.path.join(srv.dir, "sendmail")
    write_script(path, script)
    srv.extra_conf = (services_conf() if opers else "") + mail_conf(path, **kw)
    srv.write_config()
    srv.start()
    return srv


def write_script(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, stat.S_IRWXU)
    os.replace(tmp, path)


def mails(srv):
    out = []
    for p in sorted(glob.glob(os.path.join(srv.dir, "mail.[0-9]*")),
                    key=os.path.getmtime):
        if not p.endswith(".tmp"):
            with open(p) as f:
                out.append(f.read())
    return out


def wait_mail(srv, n):
    """The nth mail (1-based) once the fake sendmail has saved it."""
    wait_for(lambda: len(mails(srv)) >= n, 10, "mail %d" % n)
    return mails(srv)[n - 1]


def code_of(mail, cmd):
    m = re.search(r"^/MSG NickServ %s (\S+) (\S+)" % cmd, mail, re.M)
    assert m, mail
    return m.group(1), m.group(2)


def ls(c):
    c.send("CAP LS 302")
    caps = {}
    for l in c.lines_until(r" CAP \S+ LS :"):
        if " LS " in l:
            for tok in l.split(" :", 1)[1].split():
                k, _, v = tok.partition("=")
                caps[k] = v
    return caps


def b64(s):
    return base64.b64encode(s.encode()).decode()


def sasl(srv, nick, account, pw):
    """A new connection's SASL PLAIN: the numeric it got (903 or 904)."""
    c = srv.client()
    c.send("CAP REQ :sasl")
    c.send("NICK %s" % nick)
    c.send("USER %s 0 * :x" % nick)
    c.expect(r" CAP \S+ ACK :sasl$")
    c.send("AUTHENTICATE PLAIN")
    c.expect(r"^AUTHENTICATE \+$")
    c.send("AUTHENTICATE " + b64("\0%s\0%s" % (account, pw)))
    num = c.expect(r" 90[34] ").split()[1]
    c.close()
    return num


def ns(c, text):
    c.send("PRIVMSG NickServ :%s" % text)


def ns_expect(c, text):
    return c.expect(r"^:NickServ!NickServ@localhost NOTICE %s :%s"
                    % (re.escape(c.nick), text))


# ------------------------------------------------------------ REGISTER

def test_register_with_email_waits_for_the_mailed_code():
    srv = mail_server()
    c = srv.client()
    caps = ls(c)
    assert caps.get(CAP) == "before-connect,email-required", caps
    c.send("CAP END")
    c.register("alice")
    c.send("REGISTER * alice@example.org correct-horse")
    c.expect(r"^:irc\.test REGISTER VERIFICATION_REQUIRED alice :Account "
             r"created, pending verification; verification code has been "
             r"sent to alice@example\.org$")
    mail = wait_mail(srv, 1)
    head, _, body = mail.partition("\n\n")
    assert head.splitlines()[0] == "ARGS: -t", mail
    assert re.search(r"^From: ergo@irc\.test$", head, re.M), mail
    assert re.search(r"^To: alice@example\.org$", head, re.M), mail
    assert re.search(r"^Subject: Verify your account on irc\.test$", head,
                     re.M), mail
    assert re.search(r"^Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d "
                     r"\+0000$", head, re.M), mail
    assert re.search(r"^Message-ID: <\S+@irc\.test>$", head, re.M), mail
    assert "Account: alice" in body
    acct, code = code_of(mail, "VERIFY")
    assert acct == "alice" and re.match(r"^[0-9a-f]{32}$", code)
    # not an account yet: no login, no 900
    assert not any(" 900 " in l for l in c.sync())
    assert sasl(srv, "x1", "alice", "correct-horse") == "904"
    c.send("VERIFY alice 0123456789abcdef0123456789abcdef")
    c.expect(r"^:irc\.test FAIL VERIFY INVALID_CODE alice :")
    c.send("VERIFY alice %s" % code)
    c.expect(r"^:irc\.test VERIFY SUCCESS alice :Account successfully "
             r"registered$")
    c.expect(r" 900 alice \S+ alice :You are now logged in as alice$")
    assert sasl(srv, "x2", "alice", "correct-horse") == "903"
    # the code was used up
    d = srv.client("dora")
    d.send("VERIFY alice %s" % code)
    d.expect(r"^:irc\.test FAIL VERIFY INVALID_CODE alice :Account is "
             r"already verified$")
    srv.wait_log(r"verification mail for account alice sent to "
                 r"alice@example\.org")


def test_register_needs_an_address_when_verifying():
    srv = mail_server()
    c = srv.client("bea")
    c.send("REGISTER * * correct-horse")
    c.expect(r"^:irc\.test FAIL REGISTER INVALID_EMAIL bea :A valid "
             r"e-mail address is required$")
    # two recipients in one To: header would mail someone else the code
    c.send("REGISTER * bea@example.org,eve@example.org correct-horse")
    c.expect(r"^:irc\.test FAIL REGISTER INVALID_EMAIL bea ")
    ns(c, "REGISTER correct-horse")
    ns_expect(c, "Registration requires a valid e-mail address$")
    assert mails(srv) == []


def test_pending_registration_holds_its_name_and_survives_a_restart():
    srv = mail_server()
    c = srv.client("cleo")
    c.send("REGISTER * cleo@example.org correct-horse")
    c.expect(r" REGISTER VERIFICATION_REQUIRED cleo ")
    c.send("NICK cleo2")
    c.expect(r"NICK :?cleo2$")
    d = srv.client("cleo")
    d.send("REGISTER * dave@example.org other-horse")
    d.expect(r"^:irc\.test FAIL REGISTER ACCOUNT_EXISTS cleo :Account "
             r"already exists$")
    _, code = code_of(wait_mail(srv, 1), "VERIFY")
    assert len(mails(srv)) == 1
    srv.stop()
    srv.start()
    e = srv.client("someone")
    e.send("VERIFY cleo %s" % code)
    e.expect(r"^:irc\.test VERIFY SUCCESS cleo ")
    e.expect(r" 900 someone \S+ cleo :")


def test_nickserv_register_and_verify():
    srv = mail_server()
    c = srv.client("dana")
    ns(c, "REGISTER correct-horse dana@example.org")
    ns_expect(c, r"Account created, pending verification; verification "
              r"code has been sent to dana@example\.org$")
    acct, code = code_of(wait_mail(srv, 1), "VERIFY")
    assert acct == "dana"
    ns(c, "IDENTIFY dana correct-horse")
    ns_expect(c, "Could not login")
    ns(c, "VERIFY dana nope")
    ns_expect(c, "Invalid account verification code$")
    ns(c, "VERIFY dana %s" % code)
    ns_expect(c, "Account created$")
    c.expect(r" 900 dana \S+ dana :")
    ns_expect(c, "You're now logged in as dana$")
    ns(c, "VERIFY dana %s" % code)
    ns_expect(c, "You're already logged into an account$")


def test_verify_guesses_are_throttled():
    srv = mail_server()
    c = srv.client("eli")
    c.send("REGISTER * eli@example.org correct-horse")
    c.expect(r" REGISTER VERIFICATION_REQUIRED eli ")
    _, code = code_of(wait_mail(srv, 1), "VERIFY")
    for i in range(5):
        c.send("VERIFY eli %032x" % i)
        c.expect(r"^:irc\.test FAIL VERIFY INVALID_CODE eli ")
    c.send("VERIFY eli %s" % code)
    c.expect(r"^:irc\.test FAIL VERIFY TEMPORARILY_UNAVAILABLE eli :Too "
             r"many failed attempts; try again later$")


def test_unverified_registration_expires():
    srv = mail_server(extra="  verify-timeout 1s\n")
    c = srv.client("fay")
    c.send("REGISTER * fay@example.org correct-horse")
    c.expect(r" REGISTER VERIFICATION_REQUIRED fay ")
    _, code = code_of(wait_mail(srv, 1), "VERIFY")
    time.sleep(2.1)		# the wall clock must pass the code's expiry
    c.send("VERIFY fay %s" % code)
    c.expect(r"^:irc\.test FAIL VERIFY INVALID_CODE fay ")
    # and the name is free again
    c.send("REGISTER * fay@example.org correct-horse")
    c.expect(r" REGISTER VERIFICATION_REQUIRED fay ")


# ------------------------------------------------------------ failures

def test_failing_sendmail_is_reported_logged_and_frees_the_name():
    srv = mail_server(FAKE_FAIL)
    c = srv.client("gus")
    c.send("REGISTER * gus@example.org correct-horse")
    c.expect(r"^:irc\.test FAIL REGISTER TEMPORARILY_UNAVAILABLE gus "
             r":Could not dispatch registration e-mail$")
    srv.wait_log(r"sendmail \S+: exit status 3: the mail to "
                 r"gus@example\.org for account gus was not sent")
    ns(c, "REGISTER correct-horse gus@example.org")
    ns_expect(c, "Could not dispatch registration e-mail$")
    assert len(re.findall(r"exit status 3", srv.logtext())) == 2
    # the program fixed, the same name registers
    write_script(os.path.join(srv.dir, "sendmail"), FAKE_OK)
    c.send("REGISTER * gus@example.org correct-horse")
    c.expect(r" REGISTER VERIFICATION_REQUIRED gus ")


def test_missing_sendmail_is_reported_and_logged():
    srv = Server(start=False)
    srv.extra_conf = mail_conf(os.path.join(srv.dir, "no-such-sendmail"))
    srv.write_config()
    srv.start()
    c = srv.client("hal")
    c.send("REGISTER * hal@example.org correct-horse")
    c.expect(r"^:irc\.test FAIL REGISTER TEMPORARILY_UNAVAILABLE hal "
             r":Could not dispatch registration e-mail$")
    srv.wait_log(r"no-such-sendmail: the mail to hal@example\.org was not "
                 r"sent: No such file")


def test_hanging_sendmail_is_killed_and_the_server_keeps_serving():
    srv = mail_server(FAKE_HANG, timeout="1s")
    c = srv.client("ivy")
    other = srv.client("jon")
    t0 = time.monotonic()
    c.send("REGISTER * ivy@example.org correct-horse")
    pidfile = os.path.join(srv.dir, "child.pid")
    wait_for(lambda: os.path.exists(os.path.join(srv.dir, "sendmail.pid")),
             5, "the fake sendmail to start")
    # while it hangs, everyone is served at once
    other.send("PRIVMSG ivy :still there?")
    c.expect(r"PRIVMSG ivy :still there\?$")
    assert time.monotonic() - t0 < 1.0
    c.expect(r"^:irc\.test FAIL REGISTER TEMPORARILY_UNAVAILABLE ivy "
             r":Could not dispatch registration e-mail$", timeout=10)
    srv.wait_log(r"still running after 1s: killed: the mail to "
                 r"ivy@example\.org")
    # the program and the process it started are gone
    for f in (pidfile, os.path.join(srv.dir, "sendmail.pid")):
        with open(f) as fh:
            pid = int(fh.read())
        wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
                 open("/proc/%d/stat" % pid).read().split()[2] == "Z",
                 5, "process %d to end" % pid)


def test_max_concurrency_refuses_more_programs():
    srv = mail_server(FAKE_HANG, timeout="5s",
                      extra="")
    srv.write_config(srv.config_text().replace(
        "timeout 5s", "timeout 5s\n   max-concurrency 1"))
    srv.signal(signal.SIGHUP)
    srv.wait_log(r"rehash")
    a = srv.client("kim")
    b = srv.client("lou")
    a.send("REGISTER * kim@example.org correct-horse")
    wait_for(lambda: os.path.exists(os.path.join(srv.dir, "sendmail.pid")),
             5, "the fake sendmail to start")
    b.send("REGISTER * lou@example.org correct-horse")
    b.expect(r"^:irc\.test FAIL REGISTER TEMPORARILY_UNAVAILABLE lou "
             r":Could not dispatch registration e-mail; try again later$")
    # a program still running at shutdown goes with the server
    with open(os.path.join(srv.dir, "child.pid")) as fh:
        pid = int(fh.read())
    srv.stop()
    assert re.search(r"the server is shutting down: killed: the mail to "
                     r"kim@example\.org", srv.logtext()), srv.logtail()
    wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
             open("/proc/%d/stat" % pid).read().split()[2] == "Z",
             5, "process %d to end" % pid)


# ------------------------------------------------------------ reset

def registered(srv, nick, pw="correct-horse"):
    c = srv.client(nick)
    c.send("REGISTER * %s@example.org %s" % (nick, pw))
    c.expect(r" REGISTER VERIFICATION_REQUIRED %s " % nick)
    n = len(mails(srv))
    _, code = code_of(wait_mail(srv, n if n else 1), "VERIFY")
    c.send("VERIFY %s %s" % (nick, code))
    c.expect(r" VERIFY SUCCESS %s " % nick)
    return c


def test_sendpass_and_resetpass_recover_an_account():
    srv = mail_server()
    registered(srv, "max").close()
    c = srv.client("stranger")
    ns(c, "SENDPASS nobody")
    ns_expect(c, "Account does not exist$")
    ns(c, "SENDPASS max")
    ns_expect(c, "Successfully sent password reset email$")
    mail = wait_mail(srv, 2)
    assert re.search(r"^To: max@example\.org$", mail, re.M), mail
    assert re.search(r"^Subject: Reset your password on irc\.test$", mail,
                     re.M), mail
    assert "for account: max" in mail
    m = re.search(r"^/MSG NickServ RESETPASS max (\S+) new_password$", mail,
                  re.M)
    assert m, mail
    code = m.group(1)
    # the cooldown: no second mail for now
    ns(c, "SENDPASS max")
    ns_expect(c, "Try again later$")
    ns(c, "RESETPASS max %032x battery-staple" % 7)
    ns_expect(c, "Code did not match$")
    ns(c, "RESETPASS max %s battery-staple" % code)
    ns_expect(c, "Successfully reset account password$")
    assert sasl(srv, "m1", "max", "battery-staple") == "903"
    assert sasl(srv, "m2", "max", "correct-horse") == "904"
    # used up
    ns(c, "RESETPASS max %s other-staple" % code)
    ns_expect(c, "Code did not match$")
    assert len(mails(srv)) == 2


def test_a_suspended_account_gets_no_reset_mail_and_no_reset():
    srv = mail_server(opers=True)
    registered(srv, "sue").close()
    c = srv.client("stranger")
    ns(c, "SENDPASS sue")
    ns_expect(c, "Successfully sent password reset email$")
    m = re.search(r"^/MSG NickServ RESETPASS sue (\S+) new_password$",
                  wait_mail(srv, 2), re.M)
    assert m
    a = oper_client(srv, "adm")
    ns(a, "SUSPEND ADD sue spam")
    ns_expect(a, "Successfully suspended")
    ns(c, "RESETPASS sue %s battery-staple" % m.group(1))
    ns_expect(c, "Account has been suspended$")
    ns(c, "SENDPASS sue")
    ns_expect(c, "Account has been suspended$")
    assert len(mails(srv)) == 2
    assert sasl(srv, "s1", "sue", "battery-staple") == "904"


def test_sendpass_failure_is_reported_and_allows_a_retry():
    srv = mail_server()
    registered(srv, "ned").close()
    write_script(os.path.join(srv.dir, "sendmail"), FAKE_FAIL)
    c = srv.client("x")
    ns(c, "SENDPASS ned")
    ns_expect(c, "Could not dispatch password reset e-mail$")
    srv.wait_log(r"exit status 3: the mail to ned@example\.org for "
                 r"account ned was not sent")
    write_script(os.path.join(srv.dir, "sendmail"), FAKE_OK)
    ns(c, "SENDPASS ned")
    ns_expect(c, "Successfully sent password reset email$")


def test_reset_commands_disabled_without_password_reset():
    srv = mail_server(reset=False)
    c = srv.client("olga")
    for cmd in ("SENDPASS olga", "RESETPASS olga 1234 battery-staple"):
        ns(c, cmd)
        ns_expect(c, "This command has been disabled by the server "
                  "administrators$")
    plain = Server()
    d = plain.client("pia")
    ns(d, "SENDPASS pia")
    ns_expect(d, "This command has been disabled by the server "
              "administrators$")
    # and without email-verification, VERIFY still has nothing to verify
    d.send("VERIFY pia 1234")
    d.expect(r"^:irc\.test FAIL VERIFY INVALID_CODE pia ")


def test_sendpass_is_throttled_per_address():
    srv = mail_server()
    c = srv.client("quinn")
    for i in range(5):
        ns(c, "SENDPASS nobody%d" % i)
        ns_expect(c, "Account does not exist$")
    ns(c, "SENDPASS nobody9")
    ns_expect(c, "Try again later$")


def test_help_lists_the_mail_commands():
    srv = mail_server()
    c = srv.client("rae")
    for sub, syntax in (("VERIFY", "VERIFY <account> <code>"),
                        ("SENDPASS", "SENDPASS <account>"),
                        ("RESETPASS",
                         "RESETPASS <account> <code> <password>")):
        ns(c, "HELP %s" % sub)
        ns_expect(c, re.escape(syntax))


def test_userinput_log_hides_the_mailed_codes():
    srv = Server(start=False)
    path = os.path.join(srv.dir, "sendmail")
    write_script(path, FAKE_OK)
    srv.extra_conf = mail_conf(path) + (
        "logging { method stderr  level debug  types "
        "\"* -useroutput\" }\n")
    srv.write_config()
    srv.start()
    c = srv.client("sam")
    ns(c, "VERIFY sam 0123secretcode")
    ns_expect(c, "Invalid account verification code$")
    ns(c, "RESETPASS sam 0123secretcode newsecretpw")
    ns_expect(c, "Code did not match|Account does not exist")
    srv.wait_log(r"RESETPASS \*{5}")
    log = srv.logtext()
    assert "0123secretcode" not in log and "newsecretpw" not in log, log


def test_config_refuses_a_sender_that_is_no_address():
    from ergotest import run_ergo
    srv = Server(start=False,
                 conf="accounts { registration { email-verification { "
                 "enabled yes  sender nobody } } }")
    p = run_ergo("checkconfig", "--config", srv.conf_path)
    assert p.returncode != 0
    assert re.search(r"ergo\.conf: accounts\.registration\.email-"
                     r"verification\.sender must be an address",
                     p.stdout + p.stderr), p.stdout + p.stderr


def test_labeled_register_is_acked_and_answered_when_mail_is_sent():
    srv = mail_server()
    c = srv.client("tia", caps="labeled-response batch")
    c.send("@label=r1 REGISTER * tia@example.org correct-horse")
    c.expect(r"^@label=r1 :irc\.test ACK$")
    l = c.expect(r" REGISTER VERIFICATION_REQUIRED tia ")
    assert "label=" not in l, l
