"""draft/multiline (ircv3.net/specs/extensions/multiline): the cap's value,
client batches delivered as a batch to clients with the cap and line by
line to the others, the FAIL BATCH codes, echo-message with
labeled-response, history, fakelag. The spec's examples where it has
them (irc_multiline.c)."""

import re
import time

from ergotest import Server
from test_ircv3_tags import capclient, tags_of, body, tsync, joined

ML = ["draft/multiline", "batch", "message-tags"]


def send_batch(c, ref, target, lines, cmd="PRIVMSG"):
    """lines: (text, concat) pairs, sent as one draft/multiline batch."""
    c.send("BATCH +%s draft/multiline %s" % (ref, target))
    for text, concat in lines:
        tag = "batch=%s%s" % (ref, ";draft/multiline-concat" if concat
                              else "")
        c.send("@%s %s %s :%s" % (tag, cmd, target, text))
    c.send("BATCH -%s" % ref)


SPEC = [("hello", False), ("how is ", False), ("everyone?", True)]


def test_cap_value_has_max_bytes_and_max_lines():
    srv = Server(conf="limits { multiline-max-bytes 40000 "
                      "multiline-max-lines 10 }")
    c = srv.client()
    c.send("CAP LS 302")
    ls = " ".join(c.lines_until(r" CAP \* LS :"))
    assert "draft/multiline=max-bytes=40000,max-lines=10" in ls, ls
    d = Server()
    c = d.client()
    c.send("CAP LS 302")
    ls = " ".join(c.lines_until(r" CAP \* LS :"))
    assert "draft/multiline=max-bytes=4096,max-lines=100" in ls, ls


def test_spec_example_batch_to_cap_clients():
    srv = Server()
    a = capclient(srv, "n", ML)
    b = capclient(srv, "bob", ML)
    joined(srv, "#channel", a, b)
    # the spec's "Client sending a multiline batch", lower-case privmsg too
    a.send("BATCH +123 draft/multiline #channel")
    a.send("@batch=123 PRIVMSG #channel hello")
    a.send("@batch=123 privmsg #channel :how is ")
    a.send("@batch=123;draft/multiline-concat PRIVMSG #channel :everyone?")
    a.send("BATCH -123")
    lines = b.lines_until(r" BATCH -")
    assert len(lines) == 5, lines
    m = re.match(r"^(@\S+) :n!~n@127\.0\.0\.1 BATCH \+(\S+) "
                 r"draft/multiline #channel$", lines[0])
    assert m, lines
    assert "msgid" in tags_of(lines[0]), lines[0]
    ref = m.group(2)
    src = ":n!~n@127.0.0.1"
    assert lines[1] == "@batch=%s %s PRIVMSG #channel :hello" % (ref, src)
    assert lines[2] == "@batch=%s %s PRIVMSG #channel :how is " % (ref, src)
    assert lines[3] == ("@batch=%s;draft/multiline-concat %s PRIVMSG "
                        "#channel :everyone?" % (ref, src)), lines[3]
    assert lines[4] == ":irc.test BATCH -%s" % ref, lines[4]
    # the sender (no echo-message) gets nothing back
    assert not [l for l in tsync(a) if "PRIVMSG" in l or "BATCH" in l]


def test_spec_example_fallback_to_clients_without_the_cap():
    srv = Server()
    a = capclient(srv, "n", ML)
    tagged = capclient(srv, "tagged", ["message-tags"])
    plain = srv.client("plain")
    joined(srv, "#channel", a, tagged, plain)
    send_batch(a, "123", "#channel", SPEC)
    got = [tagged.expect(r"PRIVMSG #channel :%s$" % re.escape(t))
           for t, _ in SPEC]
    # the spec: msgid on the first line only, line composition kept
    assert "msgid" in tags_of(got[0]), got
    assert all("msgid" not in tags_of(l) for l in got[1:]), got
    assert [body(l) for l in got] == [
        ":n!~n@127.0.0.1 PRIVMSG #channel :hello",
        ":n!~n@127.0.0.1 PRIVMSG #channel :how is ",
        ":n!~n@127.0.0.1 PRIVMSG #channel :everyone?"], got
    assert not any(" BATCH " in l or "batch=" in l for l in tagged.received)
    p = [plain.expect(r"PRIVMSG #channel :%s$" % re.escape(t))
         for t, _ in SPEC]
    assert p[0] == ":n!~n@127.0.0.1 PRIVMSG #channel :hello", p


def test_blank_lines_kept_in_batch_never_sent_in_fallback():
    srv = Server()
    a = capclient(srv, "alice", ML)
    b = capclient(srv, "bob", ML)
    p = srv.client("plain")
    joined(srv, "#b", a, b, p)
    send_batch(a, "x1", "#b", [("one", False), ("", False), ("two", False)])
    lines = b.lines_until(r" BATCH -")
    assert [l.split(" :", 2)[-1] if " PRIVMSG " in l else None
            for l in lines[1:4]] == ["one", "", "two"], lines
    assert lines[2].endswith("PRIVMSG #b :"), lines
    got = [l for l in p.sync() if "PRIVMSG" in l]
    assert [l.split(" :", 1)[1] for l in got] == ["one", "two"], got


def test_spec_example_invalid_target():
    srv = Server()
    a = capclient(srv, "alice", ML)
    b = capclient(srv, "bob", ML)
    joined(srv, "#foo", a, b)
    joined(srv, "#bar", a, b)
    a.send("BATCH +456 draft/multiline #foo")
    a.send("@batch=456 PRIVMSG #bar hello")
    a.send("BATCH -456")
    l = a.expect(r" FAIL ")
    assert l == (":irc.test FAIL BATCH MULTILINE_INVALID_TARGET #foo #bar "
                 ":Invalid multiline target"), l
    assert not any("FAIL" in x for x in tsync(a)), "FAIL sent twice"
    assert not any("PRIVMSG" in x or "BATCH" in x for x in tsync(b))
    # the target is matched casefolded
    send_batch(a, "457", "#foo", [("hi", False)])
    a.send("BATCH +458 draft/multiline #foo")
    a.send("@batch=458 PRIVMSG #FOO :hi again")
    a.send("BATCH -458")
    b.expect(r"PRIVMSG #foo :hi$")
    b.expect(r"PRIVMSG #foo :hi again$")


def test_spec_example_max_bytes_exceeded():
    srv = Server(conf="limits { multiline-max-bytes 600 }")
    a = capclient(srv, "alice", ML)
    b = capclient(srv, "bob", ML)
    joined(srv, "#channel", a, b)
    a.send("BATCH +abc draft/multiline #channel")
    a.send("@batch=abc PRIVMSG #channel hello")
    a.send("@batch=abc PRIVMSG #channel :%s" % ("x" * 400))
    a.send("@batch=abc PRIVMSG #channel :%s" % ("y" * 400))
    l = a.expect(r" FAIL ")
    assert l == (":irc.test FAIL BATCH MULTILINE_MAX_BYTES 600 "
                 ":Multiline batch max-bytes exceeded"), l
    a.send("@batch=abc PRIVMSG #channel :more")
    a.send("BATCH -abc")
    assert not any("FAIL" in x for x in tsync(a))
    assert not any("PRIVMSG" in x for x in tsync(b))
    # exactly max-bytes, the '\n' joiners counted, is allowed
    send_batch(a, "ok", "#channel", [("a" * 299, False), ("b" * 300, False)])
    assert len(b.lines_until(r" BATCH -")) == 4


def test_spec_example_max_lines_exceeded():
    srv = Server(conf="limits { multiline-max-lines 10 }")
    a = capclient(srv, "alice", ML)
    b = capclient(srv, "bob", ML)
    joined(srv, "#channel", a, b)
    a.send("BATCH +abc draft/multiline #channel")
    a.send("@batch=abc PRIVMSG #channel hello")
    for i in range(10):
        a.send("@batch=abc PRIVMSG #channel :line %d" % i)
    l = a.expect(r" FAIL ")
    assert l == (":irc.test FAIL BATCH MULTILINE_MAX_LINES 10 "
                 ":Multiline batch max-lines exceeded"), l
    a.send("BATCH -abc")
    assert not any("PRIVMSG" in x for x in tsync(b))
    send_batch(a, "ten", "#channel", [("l%d" % i, False) for i in range(10)])
    assert len(b.lines_until(r" BATCH -")) == 12


def test_spec_example_invalid_batches():
    srv = Server()
    a = capclient(srv, "alice", ML)
    b = capclient(srv, "bob", ML)
    joined(srv, "#channel", a, b)
    bad = r"^:irc\.test FAIL BATCH MULTILINE_INVALID :"
    # closing a batch that is not open
    a.send("BATCH -999")
    a.expect(bad)
    # a line claiming a batch that is not open: refused, not relayed
    a.send("@batch=nope PRIVMSG #channel :orphan")
    a.expect(bad)
    # only blank lines
    send_batch(a, "999", "#channel", [("", False), ("", False)])
    a.expect(bad)
    # another command inside the batch
    a.send("BATCH +998 draft/multiline #channel")
    a.send("@batch=998 TOPIC #channel :nope")
    a.expect(bad)
    a.send("BATCH -998")
    # PRIVMSG and NOTICE mixed
    a.send("BATCH +997 draft/multiline #channel")
    a.send("@batch=997 PRIVMSG #channel :one")
    a.send("@batch=997 NOTICE #channel :two")
    a.expect(bad)
    a.send("BATCH -997")
    # a blank line with concat
    send_batch(a, "996", "#channel", [("one", False), ("", True)])
    a.expect(bad)
    # another batch type; a second open batch
    a.send("BATCH +995 chathistory #channel")
    a.expect(bad)
    a.send("BATCH +994 draft/multiline #channel")
    a.send("BATCH +993 draft/multiline #channel")
    a.expect(bad)
    a.send("BATCH -993")
    a.expect(bad)
    assert not any("PRIVMSG" in x or "NOTICE" in x or "TOPIC" in x
                   for x in tsync(b))
    # all of that left nothing behind: a good batch still works
    send_batch(a, "1", "#channel", [("fine", False)])
    b.expect(r"PRIVMSG #channel :fine$")


def test_a_refused_line_fails_the_batch():
    # a line that is not UTF-8 is refused; the batch would lose it, so
    # none of it is delivered
    srv = Server()
    a = capclient(srv, "alice", ML)
    b = capclient(srv, "bob", ML)
    a.send("BATCH +u draft/multiline bob")
    a.send("@batch=u PRIVMSG bob :one")
    a.send_raw(b"@batch=u PRIVMSG bob :caf\xe9\r\n")
    a.expect(r"^:irc\.test FAIL PRIVMSG INVALID_UTF8 :")
    a.expect(r"^:irc\.test FAIL BATCH MULTILINE_INVALID :")
    a.send("@batch=u PRIVMSG bob :three")
    a.send("BATCH -u")
    assert not any("FAIL" in l for l in tsync(a))
    assert not any("PRIVMSG" in l or "BATCH" in l for l in tsync(b))


def test_batch_needs_the_cap():
    srv = Server()
    a = capclient(srv, "alice", ["batch"])
    b = srv.client("bob")
    a.send("BATCH +1 draft/multiline bob")
    a.expect(r"^:irc\.test FAIL BATCH MULTILINE_INVALID :")
    a.send("@batch=1 PRIVMSG bob :hi")
    a.expect(r"^:irc\.test FAIL BATCH MULTILINE_INVALID :")
    assert not any("PRIVMSG" in x for x in b.sync())


def test_echo_message_and_labeled_response():
    srv = Server()
    a = capclient(srv, "alice", ML + ["echo-message", "labeled-response",
                                      "server-time"])
    b = capclient(srv, "bob", ML)
    joined(srv, "#chan", a, b)
    a.send("@label=xyz;+draft/reply=abc BATCH +1 draft/multiline #chan")
    a.send("@batch=1 PRIVMSG #chan :first")
    a.send("@batch=1;draft/multiline-concat PRIVMSG #chan :second")
    a.send("@label=inner;batch=1 PRIVMSG #chan :third")
    a.send("BATCH -1")
    lines = a.lines_until(r" BATCH -")
    # the spec: the label only on the opening BATCH, no other wrapping
    t = tags_of(lines[0])
    assert t.get("label") == "xyz", lines
    assert "msgid" in t and "time" in t and t.get("+draft/reply") == "abc"
    assert body(lines[0]).startswith(":alice!~alice@127.0.0.1 BATCH +"), \
        lines
    assert len(lines) == 5, lines
    assert not any("label" in tags_of(l) for l in lines[1:]), lines
    assert not any(re.search(r" BATCH \+\S+ labeled-response", l)
                   for l in a.received), lines
    assert not any("ACK" in l for l in tsync(a)), a.received
    r = b.lines_until(r" BATCH -")
    assert tags_of(r[0])["msgid"] == t["msgid"], (r, lines)
    assert tags_of(r[0]).get("+draft/reply") == "abc", r


def test_labeled_batch_without_echo_is_acked_once():
    srv = Server()
    a = capclient(srv, "alice", ML + ["labeled-response"])
    b = capclient(srv, "bob", ML)
    a.send("@label=l1 BATCH +q draft/multiline bob")
    a.send("@batch=q PRIVMSG bob :hi")
    assert not any("ACK" in l for l in tsync(a)), "BATCH + was ACKed"
    a.send("BATCH -q")
    assert a.expect(r"ACK") == "@label=l1 :irc.test ACK"
    b.lines_until(r" BATCH -")
    # an error at delivery carries the label
    a.send("@label=l2 BATCH +r draft/multiline nobody")
    a.send("@batch=r PRIVMSG nobody :hi")
    a.send("BATCH -r")
    l = a.expect(r" 401 ")
    assert l.startswith("@label=l2 :irc.test 401 alice nobody :"), l


def test_direct_notice_batch_and_away():
    srv = Server()
    a = capclient(srv, "alice", ML)
    b = capclient(srv, "bob", ML)
    p = srv.client("plain")
    send_batch(a, "n1", "bob", [("a", False), ("b", False)], cmd="NOTICE")
    lines = b.lines_until(r" BATCH -")
    assert [body(l) for l in lines[1:3]] == [
        ":alice!~alice@127.0.0.1 NOTICE bob :a",
        ":alice!~alice@127.0.0.1 NOTICE bob :b"], lines
    p.send("AWAY :gone")
    p.expect(r" 306 ")
    send_batch(a, "n2", "plain", [("x", False), ("y", False)])
    p.expect(r"PRIVMSG plain :x$")
    p.expect(r"PRIVMSG plain :y$")
    a.expect(r" 301 alice plain :gone$")
    # a NOTICE batch to nobody: no automatic reply
    send_batch(a, "n3", "nobody", [("x", False)], cmd="NOTICE")
    assert not tsync(a)


def test_history_keeps_each_line():
    srv = Server()
    a = capclient(srv, "alice", ML)
    b = capclient(srv, "bob", ML)
    joined(srv, "#h", a, b)
    send_batch(a, "h", "#h", [("one", False), ("", False), ("two ", False),
                              ("three", True)])
    mid = tags_of(b.lines_until(r" BATCH -")[0])["msgid"]
    c = capclient(srv, "carol", ["draft/chathistory", "batch",
                                 "message-tags"])
    c.send("JOIN #h")
    c.expect(r" 366 ")
    c.send("CHATHISTORY LATEST #h * 10")
    lines = c.lines_until(r" BATCH -")
    msgs = [l for l in lines if " PRIVMSG " in l]
    assert [l.split(" PRIVMSG #h :", 1)[1] for l in msgs] == ["one", "two ",
                                                   "three"], lines
    assert all(tags_of(l).get("msgid") == mid for l in msgs), lines


def test_batch_lines_skip_fakelag():
    # the spec: clients may send a whole batch at once
    srv = Server(fakelag=True)
    a = capclient(srv, "alice", ML)
    b = capclient(srv, "bob", ML)
    t0 = time.monotonic()
    send_batch(a, "f", "bob", [("line %d" % i, False) for i in range(30)])
    lines = b.lines_until(r" BATCH -", timeout=10)
    assert len(lines) == 32, lines
    assert time.monotonic() - t0 < 3, "batch lines were fakelagged"
    # other commands while a batch is open are not exempt
    a.send("BATCH +g draft/multiline bob")
    t0 = time.monotonic()
    for i in range(12):
        a.send("PING :p%d" % i)
    a.expect(r"PONG irc\.test :?p11$", timeout=15)
    assert time.monotonic() - t0 > 2, "PINGs in an open batch skipped fakelag"
    a.send("BATCH -g")


def test_open_batch_freed_on_quit():
    srv = Server()
    a = capclient(srv, "alice", ML)
    b = srv.client("bob")
    a.send("BATCH +q draft/multiline bob")
    a.send("@batch=q PRIVMSG bob :never sent")
    a.send("QUIT :bye")
    a.closed()
    assert not any("never sent" in l for l in b.sync())
