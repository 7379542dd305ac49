"""A message to one's own nick, as Ergo sends it (irc/handlers.go,
dispatchMessageToTarget: the target's sessions get the delivered copy,
the originating one the echo too): with echo-message, two copies, the
delivered one unlabeled (it is no reply) and the echo labeled, one
msgid; without it, one copy. PRIVMSG, NOTICE, TAGMSG and draft/multiline
batches alike, each batch complete with its own reference; history keeps
it once (irc.c message, irc_multiline.c ml_close)."""

import re

from ergotest import Server
from test_ircv3_tags import capclient, tags_of, body, tsync

LR = ["labeled-response", "batch", "message-tags", "server-time"]
ML = ["draft/multiline", "batch", "message-tags"]
SPEC = [("hello", False), ("how is ", False), ("everyone?", True)]


def copies(lines, cmd):
    return [l for l in lines if re.search(r"^:alice!\S+ %s alice( :|$)"
                                          % cmd, body(l))]


def test_with_echo_message_the_delivered_copy_and_the_echo():
    srv = Server()
    a = capclient(srv, "alice", LR + ["echo-message"])
    for cmd, rest in (("PRIVMSG", " :pm to me"), ("NOTICE", " :note to me"),
                      ("TAGMSG", "")):
        a.send("@label=%s;+draft/react=x %s alice%s" % (cmd, cmd, rest))
        lines = tsync(a)
        got = copies(lines, cmd)
        assert len(got) == 2, lines
        delivered, echo = got
        assert "label" not in tags_of(delivered), got
        assert tags_of(echo)["label"] == cmd, got
        assert tags_of(delivered)["msgid"] == tags_of(echo)["msgid"], got
        for l in got:
            assert tags_of(l)["+draft/react"] == "x", got
        assert not [l for l in lines if " ACK" in l], lines


def test_without_echo_message_one_copy_and_an_ack():
    srv = Server()
    a = capclient(srv, "alice", LR)
    for cmd, rest in (("PRIVMSG", " :pm to me"), ("NOTICE", " :note to me"),
                      ("TAGMSG", "")):
        a.send("@label=%s %s alice%s" % (cmd, cmd, rest))
        lines = tsync(a)
        got = copies(lines, cmd)
        assert len(got) == 1 and "label" not in tags_of(got[0]), lines
        assert [l for l in lines if body(l) == ":irc.test ACK"
                and tags_of(l).get("label") == cmd], lines
    plain = srv.client("plain")
    plain.send("PRIVMSG plain :to me")
    lines = plain.sync()
    assert [l for l in lines if "PRIVMSG plain" in l] == \
        [":plain!~plain@127.0.0.1 PRIVMSG plain :to me"], lines


def batches(lines):
    """{ref: [lines]} of the draft/multiline batches in lines, checking
    that each is opened once and closed once, in order."""
    open_, done = {}, {}
    for l in lines:
        m = re.search(r" BATCH \+(\S+) draft/multiline alice$", l)
        if m:
            assert m.group(1) not in open_ and m.group(1) not in done, lines
            open_[m.group(1)] = [l]
            continue
        m = re.search(r" BATCH -(\S+)$", l)
        if m and m.group(1) in open_:
            done[m.group(1)] = open_.pop(m.group(1)) + [l]
            continue
        ref = tags_of(l).get("batch")
        if ref in open_:
            open_[ref].append(l)
    assert not open_, lines
    return done


def test_multiline_to_self_two_whole_batches_with_echo_one_without():
    srv = Server()
    a = capclient(srv, "alice", ML + ["echo-message", "labeled-response",
                                      "server-time"])
    a.send("@label=m1 BATCH +x draft/multiline alice")
    for text, concat in SPEC:
        a.send("@batch=x%s PRIVMSG alice :%s"
               % (";draft/multiline-concat" if concat else "", text))
    a.send("BATCH -x")
    lines = tsync(a)
    got = batches(lines)
    assert len(got) == 2, lines
    delivered, echo = list(got.values())
    for b in (delivered, echo):
        assert [body(l).split(" PRIVMSG alice :", 1)[1] for l in b[1:-1]] \
            == [t for t, _ in SPEC], b
    assert "label" not in tags_of(delivered[0]), delivered
    assert tags_of(echo[0])["label"] == "m1", echo
    assert tags_of(delivered[0])["msgid"] == tags_of(echo[0])["msgid"]
    assert not [l for l in lines if " ACK" in l], lines
    # without echo-message: the delivered batch, then the ACK
    b = capclient(srv, "bob", ML + ["labeled-response"])
    b.send("@label=m2 BATCH +y draft/multiline bob")
    b.send("@batch=y PRIVMSG bob :just once")
    b.send("BATCH -y")
    lines = tsync(b)
    opens = [l for l in lines if " BATCH +" in l]
    assert len(opens) == 1 and "label" not in tags_of(opens[0]), lines
    assert len([l for l in lines if "PRIVMSG bob :just once" in l]) == 1
    assert lines[-1] == "@label=m2 :irc.test ACK", lines


def test_history_keeps_a_message_to_self_once():
    srv = Server()
    a = capclient(srv, "alice", ML + ["echo-message", "draft/chathistory"])
    a.send("PRIVMSG alice :single")
    a.send("BATCH +z draft/multiline alice")
    a.send("@batch=z PRIVMSG alice :line one")
    a.send("@batch=z PRIVMSG alice :line two")
    a.send("BATCH -z")
    tsync(a)
    a.send("CHATHISTORY LATEST alice * 10")
    lines = a.lines_until(r"^:irc\.test BATCH -\S+$")
    texts = [body(l).split(" PRIVMSG alice :", 1)[1] for l in lines
             if " PRIVMSG alice :" in l]
    assert texts == ["single", "line one", "line two"], lines
