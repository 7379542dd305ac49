"""Rehash on SIGHUP (ergo.c, DESIGN.md "Rehash"): a valid new config is
swapped in whole (listeners, opers, limits, fakelag, MOTD); a broken one
keeps the old one running; nobody is disconnected; keys that cannot change
while running are reported; environment overrides still win."""

import os
import re
import signal
import socket

from ergotest import ErgoTestError, Server, free_port, run_ergo, wait_for

PASSWORD = "rehash-oper-password"
_hash = None


def oper_hash():
    global _hash
    if _hash is None:
        p = run_ergo("genpasswd", input=PASSWORD + "\n", timeout=60)
        assert p.returncode == 0, p.stderr
        _hash = p.stdout.split()[-1]
    return _hash


def rehash(s, ok=True):
    """SIGHUPs s and waits for the log line that ends the rehash."""
    n = len(re.findall(r"configuration reloaded|config not reloaded",
                       s.logtext()))
    s.signal(signal.SIGHUP)
    want = r"configuration reloaded" if ok else r"config not reloaded"
    wait_for(lambda: len(re.findall(
        r"configuration reloaded|config not reloaded", s.logtext())) > n,
        5, "rehash to finish")
    last = re.findall(r"configuration reloaded|config not reloaded",
                      s.logtext())[-1]
    assert re.match(want, last), s.logtail()


def connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def isupport(c):
    return " ".join(l for l in c.received if " 005 " in l)


def test_sighup_adds_a_listener_and_removes_one_keeping_its_clients():
    s = Server()
    old_port, new_port = s.port, free_port()
    a = s.client("onold")
    a.send("JOIN #stay")
    a.expect(r" 366 onold #stay ")
    s.write_config(s.config_text().replace(
        "listen 127.0.0.1:%d" % old_port, "listen 127.0.0.1:%d" % new_port))
    rehash(s)
    wait_for(lambda: not connects(old_port), 5, "old listener to close")
    s.port = new_port
    b = s.client("onnew")
    b.send("JOIN #stay")
    b.expect(r" 366 onnew #stay ")
    # the client of the removed listener is still here and talks
    a.send("PRIVMSG #stay :still connected")
    b.expect(r"^:onold!\S+ PRIVMSG #stay :still connected$")


def test_sighup_loads_new_opers():
    s = Server()
    c = s.client("newop")
    c.send("OPER admin %s" % PASSWORD)
    c.expect(r" 491 newop ")
    s.extra_conf = ('oper admin { class server-admin  password "%s" }\n'
                    % oper_hash())
    s.write_config()
    rehash(s)
    c.send("OPER admin %s" % PASSWORD)
    c.expect(r" 381 newop ")


def test_sighup_applies_new_limits_to_new_clients_and_keeps_old_nicks():
    s = Server(conf="limits { nicklen 32 }")
    old = s.client("averyveryverylongnickname")
    s.extra_conf = "limits { nicklen 10 }"
    s.write_config()
    rehash(s)
    new = s.client("short")
    assert "NICKLEN=10" in isupport(new), isupport(new)
    new.send("NICK waytoolongfornow")
    new.expect(r" 432 short ")
    old.send("PING :kept")
    old.expect(r"PONG \S+ :?kept$")


def test_sighup_turns_fakelag_off():
    fl = ("fakelag { enabled yes  window 10s  burst-limit 1  "
          "messages-per-window 1  cooldown 10s }")
    s = Server(fakelag=True, server=fl)
    s.extra_server = "fakelag { enabled no }"
    s.write_config()
    rehash(s)
    c = s.client("nolag")
    c.send_raw(b"".join(b"PING :f%02d\r\n" % i for i in range(20)))
    # under the old fakelag this would take over three minutes
    c.expect(r"PONG irc\.test :?f19$", timeout=5)


def test_sighup_rereads_the_motd():
    s = Server(server="motd m.txt", start=False)
    with open(os.path.join(s.dir, "m.txt"), "w") as f:
        f.write("first\n")
    s.start()
    c = s.client("motdr")
    assert any(l.endswith(":- first") for l in c.received), c.received
    with open(os.path.join(s.dir, "m.txt"), "w") as f:
        f.write("second\n")
    rehash(s)
    c.send("MOTD")
    c.expect(r" 372 motdr :- second$")


def test_sighup_with_a_broken_config_keeps_everything_and_logs_position():
    s = Server()
    c = s.client("keeper")
    c.send("JOIN #kept")
    c.expect(r" 366 keeper #kept ")
    c.send("TOPIC #kept :before the broken rehash")
    c.expect(r" TOPIC #kept ")
    good = s.config_text()
    s.write_config(good + "limits {\n nicklen forty\n}\n")
    rehash(s, ok=False)
    assert re.search(r"error rehash \S*ergo\.conf:\d+:10: expected a whole "
                     r"number", s.logtext()), s.logtail()
    d = s.client("second")
    d.send("TOPIC #kept")
    d.expect(r" 332 second #kept :before the broken rehash$")
    c.send("PING :alive")
    c.expect(r"PONG \S+ :?alive$")
    s.write_config(good)
    rehash(s)


def test_sighup_reports_keys_that_cannot_change_while_running():
    s = Server()
    s.write_config(s.config_text().replace(
        "datastore { path ircd.db }", "datastore { path other.db }"))
    rehash(s)
    s.wait_log(r"warn rehash datastore\.path cannot change while running; "
               r"still using ircd\.db")
    s.extra_server = "casemapping rfc1459"
    s.write_config()
    rehash(s)
    s.wait_log(r"warn rehash server\.casemapping cannot change while "
               r"running; restart to apply it")
    c = s.client("cm")
    assert "CASEMAPPING=ascii" in isupport(c), isupport(c)
    assert not os.path.exists(os.path.join(s.dir, "other.db"))


def test_environment_overrides_still_win_after_a_rehash():
    s = Server(conf="limits { nicklen 20 }",
               env={"ERGO__LIMITS__NICKLEN": "12"})
    s.extra_conf = "limits { nicklen 30 }"
    s.write_config()
    rehash(s)
    c = s.client("envwins")
    assert "NICKLEN=12" in isupport(c), isupport(c)


def test_many_sighups_while_clients_chat_drop_nobody():
    s = Server()
    a, b = s.client("chat1"), s.client("chat2")
    a.send("JOIN #busy")
    a.expect(r" 366 chat1 #busy ")
    b.send("JOIN #busy")
    b.expect(r" 366 chat2 #busy ")
    for i in range(50):
        s.signal(signal.SIGHUP)
        a.send("PRIVMSG #busy :line %d" % i)
    b.expect(r"PRIVMSG #busy :line 49$")
    got = [l for l in b.received if "PRIVMSG #busy :line " in l]
    assert len(got) == 50, got
    wait_for(lambda: s.logtext().count("configuration reloaded") >= 1, 5,
             "a rehash")
    assert s.running()
