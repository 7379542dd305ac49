"""IRCv3 labeled-response and batch (ircv3.net/specs/extensions/labeled-
response): one reply carries the label, several come in a labeled-response
batch, none get an ACK; echo-message with labels; standard replies."""

import re

from ergotest import Server
from test_ircv3_tags import capclient, tags_of, body, tsync

LR = ["labeled-response", "batch", "message-tags"]


def test_single_reply_carries_the_label():
    srv = Server()
    a = capclient(srv, "alice", LR)
    # the spec's example: a failed PRIVMSG with 401
    a.send("@label=dc11f13f11 PRIVMSG nick :Hello")
    l = a.expect(r" 401 ")
    assert l == ("@label=dc11f13f11 :irc.test 401 alice nick :No such "
                 "nick/channel"), l


def test_multi_line_reply_is_a_labeled_response_batch():
    srv = Server()
    a = capclient(srv, "alice", LR)
    srv.client("nick")
    # the spec's example: WHOIS in a batch
    a.send("@label=mGhe5V7RTV WHOIS nick")
    lines = a.lines_until(r"BATCH -")
    m = re.match(r"^@label=mGhe5V7RTV :irc\.test BATCH \+(\S+) "
                 r"labeled-response$", lines[0])
    assert m, lines
    ref = m.group(1)
    assert lines[-1] == ":irc.test BATCH -%s" % ref, lines
    inner = lines[1:-1]
    assert any(" 311 alice nick " in l for l in inner), inner
    assert " 318 alice nick " in inner[-1], inner
    for l in inner:
        assert tags_of(l) == {"batch": ref}, l


def test_no_reply_gets_an_ack():
    srv = Server()
    a = capclient(srv, "alice", LR)
    # the spec's example: PONG needs no reply
    a.send("@label=abc PONG :foobar")
    assert a.expect(r"ACK") == "@label=abc :irc.test ACK"
    a.send("@label=m2 MODE alice +i")       # one reply: the MODE line
    assert a.expect(r"MODE") == "@label=m2 :alice MODE alice :+i"
    a.send("@label=m3 MODE alice +i")       # nothing changes: ACK
    assert a.expect(r"ACK") == "@label=m3 :irc.test ACK"


def test_echo_message_with_label_and_message_to_self():
    srv = Server()
    a = capclient(srv, "alice", LR + ["echo-message"])
    b = capclient(srv, "bob", ["message-tags"])
    a.send("@label=pQraCjj82e PRIVMSG bob :Hello!")
    e = a.expect(r"PRIVMSG bob :Hello!$")
    t = tags_of(e)
    assert t["label"] == "pQraCjj82e" and "msgid" in t, e
    assert "label" not in tags_of(b.expect(r"PRIVMSG bob :Hello!$"))
    # the spec's TAGMSG example: label and msgid to the sender only
    a.send("@label=123;+example-client-tag=example-value TAGMSG bob")
    e = a.expect(r"TAGMSG bob$")
    r = b.expect(r"TAGMSG bob$")
    te, tr = tags_of(e), tags_of(r)
    assert te["label"] == "123" and te["msgid"] == tr["msgid"], (e, r)
    assert tr["+example-client-tag"] == "example-value" and "label" not in tr
    # to oneself: the echo is labeled, the delivered copy is not
    a.send("@label=self PRIVMSG alice :me")
    lines = tsync(a)
    got = [l for l in lines if "PRIVMSG alice :me" in l or "BATCH" in l]
    labeled = [l for l in got if "label=self" in l]
    assert len(labeled) == 1, got
    plain = [l for l in got if "PRIVMSG" in l and "label=" not in l and
             "batch=" not in l]
    assert len(plain) == 1, got


def test_label_needs_the_cap_and_is_bounded():
    srv = Server()
    a = capclient(srv, "alice", ["batch"])
    a.send("@label=x PING :p")
    assert "label" not in a.expect(r"PONG")
    b = capclient(srv, "bob", LR)
    b.send("@label=%s PING :q" % ("a" * 65))   # over 64 bytes: no label
    assert "label" not in b.expect(r"PONG")
    b.send("@label=%s PING :r" % ("a" * 64))
    assert tags_of(b.expect(r"PONG"))["label"] == "a" * 64


def test_labeled_without_batch_labels_the_first_line_only():
    srv = Server()
    a = capclient(srv, "alice", ["labeled-response"])
    srv.client("nick")
    a.send("@label=nb WHOIS nick")
    lines = a.lines_until(r" 318 ")
    assert lines[0].startswith("@label=nb :irc.test 311 "), lines
    assert not any("label" in l or "BATCH" in l for l in lines[1:]), lines


def test_join_reply_batch_with_server_time():
    srv = Server()
    a = capclient(srv, "alice", LR + ["server-time"])
    a.send("@label=j1 JOIN #lab")
    lines = a.lines_until(r"BATCH -")
    assert re.match(r"^@label=j1;time=\S+ :irc\.test BATCH \+\S+ "
                    r"labeled-response$", lines[0]), lines
    assert any(" JOIN #lab" in l for l in lines), lines
    assert any(" 366 " in l for l in lines), lines
    assert re.match(r"^@time=\S+ :irc\.test BATCH -", lines[-1]), lines


def test_setname_fail_is_a_standard_reply():
    srv = Server()
    a = capclient(srv, "alice", LR + ["setname", "standard-replies"])
    a.send("@label=s1 SETNAME :%s" % ("r" * 400))
    l = a.expect(r"FAIL")
    assert l == ("@label=s1 :irc.test FAIL SETNAME INVALID_REALNAME "
                 ":Realname is not valid"), l


def test_label_not_utf8_is_never_echoed():
    # fuzz_dispatch: a label in invalid UTF-8 came back on the FAIL (and,
    # before tags were checked at all, on every reply): a label that is
    # not UTF-8 is no label; the line still gets its FAIL, unlabeled
    srv = Server()
    a = capclient(srv, "alice", LR)
    a.send_raw(b"@label=\xd0\xd0x PRIVMSG alice :hi\r\n")
    l = a.expect(r" FAIL ")
    assert l.startswith(":irc.test FAIL PRIVMSG INVALID_UTF8 :"), l
    assert not any("\ufffd" in x for x in a.sync()), a.received


def test_invalid_utf8_fail_carries_the_label():
    # irctest's Ergo case: a labeled non-UTF-8 PRIVMSG is refused with a
    # labeled FAIL, and neither echoed nor relayed
    srv = Server()
    a = capclient(srv, "alice", LR + ["echo-message"])
    b = capclient(srv, "bob", ["message-tags"])
    a.send("JOIN #qux")
    a.expect(r"JOIN #qux")
    b.send("JOIN #qux")
    b.expect(r" 366 ")
    a.send_raw(b"@label=xyz PRIVMSG #qux hi\xaa\r\n")
    l = a.expect(r" FAIL ")
    assert l.startswith("@label=xyz :irc.test FAIL PRIVMSG INVALID_UTF8 :"), l
    assert not any("PRIVMSG" in x for x in a.sync()), a.received
    assert not any("PRIVMSG" in x for x in b.sync()), b.received


def test_labeled_event_to_a_large_channel_labels_only_its_sender():
    # A channel of 40 takes fan-out's prefetching walk, which asks
    # whether a member's session is labeled without reading its label
    # (irc_out.c, label_owner): the sender's TOPIC comes back labeled,
    # every other member's copy is the plain shared line, and the next
    # event, unlabeled, reaches the sender plain too.
    srv = Server(server="connection-limits { max-per-ip 64  throttle no }")
    a = capclient(srv, "alice", ["labeled-response"])
    a.send("JOIN #big")
    a.expect(r" 366 alice #big ")
    others = []
    for i in range(39):
        c = capclient(srv, "m%d" % i, ["labeled-response"])
        c.send("JOIN #big")
        c.expect(r" 366 m%d #big " % i)
        others.append(c)
    a.send("@label=t1 TOPIC #big :labeled topic")
    l = a.expect(r" TOPIC #big ")
    assert l.startswith("@label=t1 :alice!") and l.endswith(
        " TOPIC #big :labeled topic"), l
    for c in others:
        l = c.expect(r" TOPIC #big ")
        assert l.startswith(":alice!"), l  # no tags at all
    a.send("TOPIC #big :plain topic")
    l = a.expect(r" TOPIC #big :plain topic")
    assert l.startswith(":alice!"), l
    for c in others:
        c.expect(r" TOPIC #big :plain topic")
