"""draft/message-redaction (ircv3.net/specs/extensions/message-redaction):
REDACT <target> <msgid> [:reason], who may (the sender within
limits.redact-window, channel ops, opers), the FAIL REDACT codes, the
relay to clients with the cap only, and the message gone from
CHATHISTORY (irc_redact.c, irc_hist_redact). The spec's examples."""

import re

from ergotest import Server
from test_ircv3_tags import capclient, tags_of, body, tsync, joined
from test_ircv3_multiline import send_batch, ML
from test_oper import genpasswd, PASSWORD

RC = ["draft/message-redaction", "message-tags", "echo-message"]
HIST = ["draft/chathistory", "batch", "message-tags"]


def sent(c, line):
    """c sends line; returns the msgid of its echo."""
    c.send(line)
    return tags_of(c.expect(r"PRIVMSG|TAGMSG"))["msgid"]


def history(c, target):
    tsync(c)        # what came live before is not history
    c.send("CHATHISTORY LATEST %s * 50" % target)
    return [l for l in c.lines_until(r" BATCH -")
            if " PRIVMSG " in l or " TAGMSG " in l or " NOTICE " in l]


def test_spec_example_deleting_a_privmsg():
    srv = Server()
    a = capclient(srv, "nick", RC + HIST)
    b = capclient(srv, "bob", RC)
    plain = capclient(srv, "plain", ["message-tags"])
    joined(srv, "#channel", a, b, plain)
    mid = sent(a, "PRIVMSG #channel :an example")
    assert len(history(a, "#channel")) == 1
    a.send("REDACT #channel %s :bad example" % mid)
    for c in (a, b):
        l = c.expect(r" REDACT ")
        assert body(l) == ("<src> REDACT #channel %s :bad example" %
                           mid).replace("<src>", ":nick!~nick@127.0.0.1"), l
        assert tags_of(l)["msgid"] != mid, l
    # not forwarded to clients without the cap
    assert not any("REDACT" in l for l in tsync(plain))
    # and gone from history
    assert history(a, "#channel") == []


def test_spec_example_deleting_a_tagmsg():
    """A reaction is a TAGMSG kept in history by default (+draft/react
    and +react are in history.tagmsg-storage, as in Ergo), so it can be
    redacted: the spec's example, with no other tag asking for it."""
    srv = Server()
    a = capclient(srv, "nick", RC + HIST)
    b = capclient(srv, "bob", RC)
    joined(srv, "#channel", a, b)
    a.send("@+draft/react=\U0001f91e TAGMSG #channel")
    mid = tags_of(a.expect(r"TAGMSG"))["msgid"]
    assert tags_of(b.expect(r"TAGMSG"))["msgid"] == mid
    a.send("REDACT #channel %s" % mid)
    for c in (a, b):
        l = c.expect(r" REDACT ")
        assert body(l) == ":nick!~nick@127.0.0.1 REDACT #channel %s" % mid, l


def test_reactions_kept_for_event_playback_and_redacted_from_it():
    """+draft/react and +react TAGMSGs come back with CHATHISTORY to
    clients with draft/event-playback, in order among the messages, and
    not once redacted; a +typing TAGMSG is never kept."""
    srv = Server()
    ev = capclient(srv, "evp", RC + HIST + ["draft/event-playback"])
    b = capclient(srv, "bob", RC)
    joined(srv, "#r", ev, b)
    def said(c, line):
        for o in (ev, b):
            tsync(o)     # what o was relayed before is not its echo
        return sent(c, line)
    first = said(b, "PRIVMSG #r :react to me")
    ev.send("@+typing=active TAGMSG #r")
    ev.expect(r"\+typing=active.* TAGMSG #r")
    r1 = said(ev, "@+draft/reply=%s;+draft/react=\U0001f44d TAGMSG #r"
              % first)
    r2 = said(b, "@+react=ok TAGMSG #r")
    last = said(b, "PRIVMSG #r :after")
    got = history(ev, "#r")
    assert [tags_of(l)["msgid"] for l in got] == [first, r1, r2, last], got
    assert tags_of(got[1])["+draft/react"] == "\U0001f44d", got[1]
    assert tags_of(got[1])["+draft/reply"] == first, got[1]
    assert tags_of(got[2])["+react"] == "ok", got[2]
    assert not any("+typing" in l for l in got), got
    ev.send("REDACT #r %s" % r1)
    ev.expect(r" REDACT #r %s$" % re.escape(r1))
    assert [tags_of(l)["msgid"] for l in history(ev, "#r")] == [
        first, r2, last]
    # without draft/event-playback: the messages only
    noev = capclient(srv, "noev", HIST)
    joined(srv, "#r", noev)
    assert [tags_of(l)["msgid"] for l in history(noev, "#r")] == [
        first, last]


def test_tagmsg_storage_chooses_which_tagmsgs_are_kept():
    """history { tagmsg-storage "+custom" }: only TAGMSGs with +custom are
    kept (a reaction is not, so it cannot be redacted); "" keeps none."""
    srv = Server(conf='history { tagmsg-storage "+custom" }')
    a = capclient(srv, "a", RC + HIST + ["draft/event-playback"])
    joined(srv, "#t", a)
    react = sent(a, "@+draft/react=x TAGMSG #t")
    kept = sent(a, "@+custom=1 TAGMSG #t")
    assert [tags_of(l)["msgid"] for l in history(a, "#t")] == [kept]
    a.send("REDACT #t %s" % react)
    l = a.expect(r" FAIL ")
    assert " FAIL REDACT UNKNOWN_MSGID #t %s " % react in l, l
    srv2 = Server(conf='history { tagmsg-storage "" }')
    c = capclient(srv2, "c", RC + HIST + ["draft/event-playback"])
    joined(srv2, "#t", c)
    sent(c, "@+draft/react=x TAGMSG #t")
    sent(c, "@+draft/persist TAGMSG #t")
    assert history(c, "#t") == []


def test_spec_example_deleting_someone_elses_privmsg():
    srv = Server()
    op = capclient(srv, "chanop", RC + HIST)
    u = capclient(srv, "nick", RC)
    other = capclient(srv, "other", RC)
    joined(srv, "#channel", op, u, other)
    mid = sent(u, "PRIVMSG #channel :join my network for cold hard chats")
    # a member who is neither the sender nor an op may not
    other.send("REDACT #channel %s spam" % mid)
    l = other.expect(r" FAIL ")
    assert l == (":irc.test FAIL REDACT REDACT_FORBIDDEN #channel %s :You "
                 "are not authorised to delete this message" % mid), l
    op.send("REDACT #channel %s spam" % mid)
    for c in (op, u, other):
        l = c.expect(r" REDACT ")
        assert body(l) == (":chanop!~chanop@127.0.0.1 REDACT #channel %s "
                           ":spam" % mid), l
    assert history(op, "#channel") == []


def test_window_expired_for_the_sender_not_for_ops():
    srv = Server(conf="limits { redact-window 0 }")
    op = capclient(srv, "op", RC)
    u = capclient(srv, "nick", RC)
    joined(srv, "#w", op, u)
    mid = sent(u, "PRIVMSG #w :oops")
    u.send("REDACT #w %s" % mid)
    l = u.expect(r" FAIL ")
    assert l == (":irc.test FAIL REDACT REDACT_WINDOW_EXPIRED #w %s 0 :You "
                 "can no longer edit this message" % mid), l
    op.send("REDACT #w %s" % mid)
    u.expect(r":op!\S+ REDACT #w %s$" % mid)


def test_unknown_msgid_and_invalid_target():
    srv = Server()
    a = capclient(srv, "alice", RC)
    b = capclient(srv, "bob", RC)
    joined(srv, "#t", a)
    a.send("REDACT #t nosuchid")
    assert a.expect(r" FAIL ") == (":irc.test FAIL REDACT UNKNOWN_MSGID #t "
                                   "nosuchid :This message does not exist "
                                   "or is too old")
    # a msgid that cannot be a middle parameter is answered as "*"
    # (found by fuzz_dispatch: "#t  :x" had an empty parameter)
    for bad in (":", ": :x", ":a b"):
        a.send("REDACT #t %s" % bad)
        assert a.expect(r" FAIL ") == (":irc.test FAIL REDACT UNKNOWN_MSGID "
                                       "#t * :This message does not exist "
                                       "or is too old"), bad
    a.send("REDACT #nowhere x")
    assert a.expect(r" FAIL ") == (":irc.test FAIL REDACT INVALID_TARGET "
                                   "#nowhere :You cannot delete messages "
                                   "from #nowhere")
    # a non-member learns nothing about a channel's messages
    mid = sent(a, "PRIVMSG #t :members only")
    b.send("REDACT #t %s" % mid)
    b.expect(r"^:irc\.test FAIL REDACT INVALID_TARGET #t :")
    b.send("REDACT nobody x")
    b.expect(r"^:irc\.test FAIL REDACT INVALID_TARGET nobody :")
    b.send("REDACT #t")
    b.expect(r" 461 bob REDACT ")
    assert not any("REDACT" in l for l in tsync(a))


def test_direct_message_redacted_for_both():
    srv = Server()
    a = capclient(srv, "alice", RC + HIST)
    b = capclient(srv, "bob", RC + HIST)
    mid = sent(a, "PRIVMSG bob :psst")
    b.expect(r"PRIVMSG bob :psst")
    # the recipient may not redact what it was sent
    b.send("REDACT alice %s" % mid)
    b.expect(r"^:irc\.test FAIL REDACT (UNKNOWN_MSGID|REDACT_FORBIDDEN) ")
    a.send("REDACT bob %s :typo" % mid)
    l = b.expect(r" REDACT ")
    assert body(l) == ":alice!~alice@127.0.0.1 REDACT bob %s :typo" % mid
    a.expect(r" REDACT bob %s :typo$" % mid)
    assert history(a, "bob") == []
    assert history(b, "alice") == []
    # a logged-in sender under a new nick still removes bob's copy
    a.send("PRIVMSG NickServ :REGISTER hunter2")
    a.expect(r"NickServ!\S+ NOTICE alice :Account created")
    mid = sent(a, "PRIVMSG bob :again")
    b.expect(r"PRIVMSG bob :again")
    assert len(history(b, "alice")) == 1
    a.send("NICK alice2")
    a.expect(r"NICK :?alice2")
    a.send("REDACT bob %s" % mid)
    b.expect(r":alice2!\S+ REDACT bob %s$" % mid)
    assert history(b, "alice") == []


def test_oper_redacts_anywhere():
    hash_ = genpasswd(PASSWORD)
    srv = Server(conf='oper admin { class server-admin  password "%s" }'
                 % hash_)
    u = capclient(srv, "nick", RC)
    o = capclient(srv, "oper", RC)
    joined(srv, "#o", u)
    mid = sent(u, "PRIVMSG #o :hello")
    o.send("REDACT #o %s" % mid)
    o.expect(r"^:irc\.test FAIL REDACT INVALID_TARGET #o :")
    o.send("OPER admin :" + PASSWORD)
    o.expect_numeric("381")
    o.send("REDACT #o %s :moderated" % mid)
    u.expect(r"^@\S+ :oper!\S+ REDACT #o %s :moderated$" % mid)


def test_multiline_message_redacted_whole():
    srv = Server()
    a = capclient(srv, "alice", ML + RC + HIST)
    b = capclient(srv, "bob", RC + HIST)
    joined(srv, "#m", a, b)
    send_batch(a, "1", "#m", [("one", False), ("two", False)])
    mid = tags_of(a.lines_until(r" BATCH -")[0])["msgid"]
    sent(a, "PRIVMSG #m :kept")
    assert len(history(b, "#m")) == 3
    a.send("REDACT #m %s" % mid)
    b.expect(r" REDACT #m %s$" % mid)
    h = history(b, "#m")
    assert [l.split(" PRIVMSG #m :", 1)[1] for l in h] == ["kept"], h


def test_sender_known_by_account_across_nick_change():
    srv = Server()
    a = capclient(srv, "alice", RC)
    a.send("PRIVMSG NickServ :REGISTER hunter2")
    a.expect(r"NickServ!\S+ NOTICE alice :Account created")
    b = capclient(srv, "bob", RC)
    joined(srv, "#acct", a, b)
    mid = sent(a, "PRIVMSG #acct :mine")
    a.send("NICK alice2")
    a.expect(r"NICK :?alice2")
    a.send("REDACT #acct %s" % mid)
    b.expect(r":alice2!\S+ REDACT #acct %s$" % mid)
    # without an account the mask must match: a new nick is someone else
    mid = sent(b, "PRIVMSG #acct :bob's")
    b.send("NICK bob2")
    b.expect(r"NICK :?bob2")
    b.send("REDACT #acct %s" % mid)
    b.expect(r"^:irc\.test FAIL REDACT REDACT_FORBIDDEN #acct ")
