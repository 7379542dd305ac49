"""IRCv3 capability negotiation (ircv3.net/specs/extensions/capability-
negotiation, cap-notify): 302 values and multi-line LS, REQ NAK'd whole,
LIST, and CAP NEW/DEL when a rehash changes what is offered (sts, sasl
with accounts.authentication-enabled, draft/multiline's limits)."""

import re
import signal

from ergotest import Server, wait_for

ALL = ["account-notify", "account-tag", "away-notify", "batch", "cap-notify",
       "chghost", "echo-message", "extended-join", "invite-notify",
       "labeled-response", "message-tags", "multi-prefix",
       "no-implicit-names", "sasl", "server-time", "setname",
       "standard-replies", "userhost-in-names"]


def ls_lines(c, version="302"):
    """CAP LS [version]; returns the LS lines, the last without '*'."""
    c.send("CAP LS %s" % version if version else "CAP LS")
    lines = c.lines_until(r" CAP \* LS :")
    return [l for l in lines if " CAP * LS " in l]


def offered(lines):
    caps = {}
    for l in lines:
        for tok in l.split(" :", 1)[1].split():
            k, _, v = tok.partition("=")
            caps[k] = v
    return caps


def test_ls_302_is_multiline_with_values():
    srv = Server()
    c = srv.client()
    lines = ls_lines(c)
    assert len(lines) >= 2, lines
    for l in lines[:-1]:
        assert re.match(r"^:irc\.test CAP \* LS \* :\S", l), l
    assert re.match(r"^:irc\.test CAP \* LS :\S", lines[-1]), lines
    for l in lines:
        assert len(l.encode()) + 2 <= 512, l
    caps = offered(lines)
    for name in ALL:
        assert name in caps, (name, lines)
    assert caps["sasl"] == "PLAIN,SCRAM-SHA-256,EXTERNAL", caps


def test_ls_301_is_one_line_without_values():
    srv = Server()
    c = srv.client()
    lines = ls_lines(c, version=None)
    assert len(lines) == 1, lines
    assert "=" not in lines[0], lines
    assert " LS * " not in lines[0]
    caps = offered(lines)
    assert "sasl" in caps and "server-time" in caps, caps
    # a 301 client may turn cap-notify off, a 302 client may not
    c.send("CAP REQ :cap-notify")
    c.expect(r" CAP \* ACK :cap-notify$")
    c.send("CAP REQ :-cap-notify")
    c.expect(r" CAP \* ACK :-cap-notify$")


def test_req_with_one_unknown_cap_is_naked_whole():
    srv = Server()
    c = srv.client()
    ls_lines(c)
    c.send("CAP REQ :server-time bogus-cap message-tags")
    c.expect(r"^:irc\.test CAP \* NAK :server-time bogus-cap message-tags$")
    c.send("CAP LIST")
    l = c.expect(r" CAP \* LIST :")
    assert "server-time" not in l and "message-tags" not in l, l
    # the spec's example: a 302 client cannot disable cap-notify
    c.send("CAP REQ :-cap-notify")
    c.expect(r" CAP \* NAK :-cap-notify$")


def test_req_ack_list_and_removal():
    srv = Server()
    c = srv.client()
    ls_lines(c)
    c.send("CAP REQ :multi-prefix server-time echo-message")
    # server-time applies from the ACK on
    c.expect(r"^@time=\S+ :irc\.test CAP \* ACK :multi-prefix "
             r"server-time echo-message$")
    c.send("CAP REQ :-echo-message")
    c.expect(r" CAP \* ACK :-echo-message$")
    c.send("CAP LIST")
    l = c.expect(r" CAP \* LIST :")
    got = set(re.search(r" LIST :(.*)$", l).group(1).split())
    assert got == {"cap-notify", "multi-prefix", "server-time"}, l
    c.send("CAP END")
    c.send("NICK capper")
    c.send("USER u 0 * :r")
    c.expect(r" 001 capper ")
    # after registration too, with the nick as target
    c.send("CAP LIST")
    c.expect(r"^@time=\S+ :irc\.test CAP capper LIST :")


def test_cap_list_names_every_enabled_cap():
    srv = Server()
    c = srv.client()
    ls_lines(c)
    c.send("CAP REQ :%s" % " ".join(ALL[:9]))
    c.expect(r" CAP \* ACK ")
    c.send("CAP REQ :%s" % " ".join(ALL[9:]))
    c.expect(r" CAP \* ACK ")
    c.send("CAP LIST")
    lines = [l for l in c.lines_until(r" CAP \* LIST :")
             if " CAP * LIST " in l]
    for l in lines[:-1]:
        assert " LIST * :" in l, lines
    got = set()
    for l in lines:
        assert len(l.encode()) + 2 <= 512, l
        got |= set(re.search(r" LIST (?:\* )?:(.*)$", l).group(1).split())
    assert got == set(ALL), got


def test_cap_end_waits_and_unknown_subcommand_410():
    srv = Server()
    c = srv.client()
    c.send("CAP LS 302")
    c.send("NICK waiter")
    c.send("USER u 0 * :r")
    c.expect(r" CAP \* LS :")
    c.send("CAP FOO")
    c.expect(r" 410 \S+ FOO :")
    assert not any(" 001 " in l for l in c.sync())
    c.send("CAP END")
    c.expect(r" 001 waiter ")


def rehash(srv):
    n = srv.logtext().count("configuration reloaded")
    srv.signal(signal.SIGHUP)
    wait_for(lambda: srv.logtext().count("configuration reloaded") > n, 5,
             "rehash")


def test_cap_notify_new_and_del_when_a_rehash_changes_sts():
    srv = Server()
    c = srv.client()
    ls_lines(c)                      # 302: cap-notify implied
    c.send("CAP END")
    c.register("notified")
    old = srv.client()
    ls_lines(old, version=None)      # 301 without cap-notify
    old.send("CAP END")
    old.register("oldie")
    srv.extra_server = "sts { enabled yes  port 6697  duration 1d }"
    srv.write_config()
    rehash(srv)
    c.expect(r"^:irc\.test CAP notified NEW :sts=port=6697$")
    # a changed value is a NEW with the new value
    srv.extra_server = "sts { enabled yes  port 7000  duration 1d }"
    srv.write_config()
    rehash(srv)
    c.expect(r"^:irc\.test CAP notified NEW :sts=port=7000$")
    srv.extra_server = ""
    srv.write_config()
    rehash(srv)
    c.expect(r"^:irc\.test CAP notified DEL :sts$")
    # an unchanged rehash says nothing
    rehash(srv)
    assert not any(" CAP " in l for l in c.sync())
    assert not any(" CAP " in l for l in old.sync())


def test_cap_notify_when_a_rehash_changes_sasl_and_multiline():
    srv = Server()
    c = srv.client()
    ls_lines(c)                      # 302: cap-notify implied
    c.send("CAP REQ :sasl draft/multiline batch")
    c.expect(r" CAP \S+ ACK ")
    c.send("CAP END")
    c.register("notified")
    # a 301 client that asked for cap-notify: told too, without values
    old = srv.client()
    ls_lines(old, version=None)
    old.send("CAP REQ :cap-notify")
    old.expect(r" CAP \S+ ACK ")
    old.send("CAP END")
    old.register("oldie")
    # a 301 client without cap-notify: never told
    quiet = srv.client("quiet")
    srv.extra_conf = "accounts { authentication-enabled no }"
    srv.write_config()
    rehash(srv)
    c.expect(r"^:irc\.test CAP notified DEL :sasl$")
    old.expect(r"^:irc\.test CAP oldie DEL :sasl$")
    # a deleted cap is disabled, and no longer offered or accepted
    c.send("CAP LIST")
    l = c.expect(r" CAP notified LIST ")
    assert "sasl" not in l and "draft/multiline" in l, l
    c.send("CAP LS 302")
    ls = [l for l in c.lines_until(r" CAP notified LS :")
          if " CAP notified LS " in l]
    assert "sasl" not in offered(ls), ls
    c.send("CAP REQ sasl")
    c.expect(r" CAP notified NAK :sasl$")
    srv.extra_conf = ("limits { multiline-max-bytes 8192 "
                      "multiline-max-lines 50 }")
    srv.write_config()
    rehash(srv)
    l = c.expect(r" CAP notified NEW ")
    assert sorted(l.split(" :", 1)[1].split()) == [
        "draft/multiline=max-bytes=8192,max-lines=50",
        "sasl=PLAIN,SCRAM-SHA-256,EXTERNAL"], l
    # 301: only what is newly offered, no values, no changed values
    assert old.expect(r" CAP oldie NEW ") == ":irc.test CAP oldie NEW :sasl"
    assert not any(" CAP " in l for l in old.sync())
    assert not any(" CAP " in l for l in quiet.sync())
    # the new limits hold
    c.send("BATCH +b draft/multiline notified")
    for i in range(51):
        c.send("@batch=b PRIVMSG notified :%d" % i)
    c.expect(r"FAIL BATCH MULTILINE_MAX_LINES 50 ")
    c.send("BATCH -b")


def test_cap_notify_when_a_rehash_turns_history_off_and_on():
    """history { enabled no } takes draft/chathistory,
    draft/event-playback and znc.in/playback away (CAP DEL, disabled for
    who had them) and enabled yes gives them back (CAP NEW)."""
    srv = Server()
    c = srv.client()
    ls_lines(c)
    c.send("CAP REQ :batch draft/chathistory draft/event-playback")
    c.expect(r" CAP \S+ ACK ")
    c.send("CAP END")
    c.register("histcap")
    srv.extra_conf = "history { enabled no }"
    srv.write_config()
    rehash(srv)
    l = c.expect(r" CAP histcap DEL ")
    assert sorted(l.split(" :", 1)[1].split()) == [
        "draft/chathistory", "draft/event-playback", "znc.in/playback"], l
    c.send("CAP LIST")
    l = c.expect(r" CAP histcap LIST ")
    assert l.split(" :", 1)[1].split() == ["batch", "cap-notify"], l
    c.send("CAP REQ draft/chathistory")
    c.expect(r" CAP histcap NAK :draft/chathistory$")
    c.send("VERSION")
    isupport = [l for l in c.sync() if " 005 " in l]
    assert isupport and not any("CHATHISTORY=" in l for l in isupport), \
        isupport
    srv.extra_conf = ""
    srv.write_config()
    rehash(srv)
    l = c.expect(r" CAP histcap NEW ")
    assert sorted(l.split(" :", 1)[1].split()) == [
        "draft/chathistory", "draft/event-playback", "znc.in/playback"], l
    c.send("CAP REQ draft/chathistory")
    c.expect(r" CAP histcap ACK :draft/chathistory$")
