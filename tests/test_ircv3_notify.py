"""IRCv3 away-notify, extended-join, setname, invite-notify,
no-implicit-names, multi-prefix/userhost-in-names and UTF8ONLY."""

import re

from ergotest import Server
from test_ircv3_tags import capclient, tags_of, body, tsync, joined


def test_away_notify_to_cap_peers_and_on_join():
    srv = Server()
    a = srv.client("alice")
    b = capclient(srv, "bob", ["away-notify"])
    c = srv.client("carol")
    joined(srv, "#aw", a, b, c)
    a.send("AWAY :Gone to lunch.  Back in 5")
    a.expect(r" 306 alice ")
    b.expect(r"^:alice!\S+ AWAY :Gone to lunch\.  Back in 5$")
    a.send("AWAY")
    b.expect(r"^:alice!\S+ AWAY$")
    assert not any("AWAY" in l for l in c.sync())
    assert not any(" AWAY" in l for l in a.sync())
    # an away user joining: its AWAY follows the JOIN for away-notify peers
    d = srv.client("dave")
    d.send("AWAY :afk")
    d.send("JOIN #aw")
    lines = b.lines_until(r"^:dave!\S+ AWAY :afk$")
    assert any(re.match(r"^:dave!\S+ JOIN #aw$", l) for l in lines), lines


def test_extended_join_has_account_and_realname():
    srv = Server()
    a = capclient(srv, "alice", ["extended-join"])
    a.send("JOIN #ej")
    a.expect(r"^:alice!\S+ JOIN #ej \* :Real Name$")
    b = srv.client("bob", realname="Bob Smith")
    b.send("PRIVMSG NickServ :REGISTER hunter2")
    b.expect(r" 900 bob ")
    b.send("JOIN #ej")
    a.expect(r"^:bob!\S+ JOIN #ej bob :Bob Smith$")
    b.expect(r"^:bob!\S+ JOIN #ej$")        # no cap: plain JOIN


def test_setname_changes_realname_and_tells_cap_peers():
    srv = Server()
    a = capclient(srv, "alice", ["setname"])
    b = capclient(srv, "bob", ["setname"])
    c = srv.client("carol")
    joined(srv, "#sn", a, b, c)
    a.send("SETNAME :Alice in Wonderland")
    a.expect(r"^:alice!\S+ SETNAME :Alice in Wonderland$")
    b.expect(r"^:alice!\S+ SETNAME :Alice in Wonderland$")
    assert not any("SETNAME" in l for l in c.sync())
    c.send("WHOIS alice")
    c.expect(r" 311 carol alice \S+ \S+ \* :Alice in Wonderland$")
    a.send("SETNAME")
    a.expect(r" 461 alice SETNAME ")
    a.send("SETNAME :%s" % ("x" * 500))
    a.expect(r"^:irc\.test FAIL SETNAME INVALID_REALNAME :")


def test_invite_notify_tells_members_who_could_invite():
    srv = Server()
    op = capclient(srv, "op", ["invite-notify"])
    member = capclient(srv, "member", ["invite-notify"])
    plain = srv.client("plain")
    guest = srv.client("guest")
    joined(srv, "#inv", op, member, plain)
    member.send("INVITE guest #inv")
    guest.expect(r"^:member!\S+ INVITE guest #inv$")
    op.expect(r"^:member!\S+ INVITE guest #inv$")
    assert not any("INVITE" in l for l in member.sync() if " 341 " not in l)
    assert not any("INVITE" in l for l in plain.sync())
    # +i: only ops hear of invites
    op.send("MODE #inv +i")
    member.expect(r"MODE #inv \+i")
    g2 = srv.client("guest2")
    op.send("INVITE guest2 #inv")
    g2.expect(r"INVITE guest2 #inv$")
    assert not any("INVITE" in l for l in member.sync())


def test_no_implicit_names_skips_names_on_join():
    srv = Server()
    a = capclient(srv, "alice", ["no-implicit-names"])
    a.send("JOIN #nn")
    a.expect(r"JOIN #nn$")
    assert not any(" 353 " in l or " 366 " in l for l in a.sync())
    a.send("NAMES #nn")
    a.expect(r" 353 alice = #nn :@alice$")


def test_multi_prefix_and_userhost_in_names():
    srv = Server()
    a = capclient(srv, "alice", ["multi-prefix", "userhost-in-names"])
    a.send("JOIN #mp")
    a.expect(r" 366 ")
    a.send("MODE #mp +v alice")
    a.expect(r"MODE #mp \+v alice")
    a.send("NAMES #mp")
    a.expect(r" 353 alice = #mp :@\+alice!~alice@127\.0\.0\.1$")


def test_utf8only_token_and_invalid_utf8_is_refused():
    srv = Server()
    a = srv.client("alice")
    b = srv.client("bob")
    assert any(re.search(r" UTF8ONLY( |$)", l) for l in a.received
               if " 005 " in l)
    a.send("JOIN #u")
    a.expect(r"JOIN #u")
    # the spec's examples: not relayed, FAIL with the command name
    a.send_raw(b"TOPIC #u :caf\xe9\r\n")
    a.expect(r"^:irc\.test FAIL TOPIC INVALID_UTF8 :")
    a.send_raw(b"\xff\xfe NICK x\r\n")
    a.expect(r"^:irc\.test FAIL \* INVALID_UTF8 :")
    a.send_raw(b"AWAY :\xc3\x28\r\n")
    a.expect(r"^:irc\.test FAIL AWAY INVALID_UTF8 :")
    a.send_raw(b"PRIVMSG bob :ok \xed\xa0\x80 surrogate\r\n")
    # message text too: refused, nothing relayed, nothing repaired
    a.expect(r"^:irc\.test FAIL PRIVMSG INVALID_UTF8 :")
    a.send_raw(b"NOTICE bob :\xc0\xaf\r\n")
    a.expect(r"^:irc\.test FAIL NOTICE INVALID_UTF8 :")
    assert not any("PRIVMSG" in l or "NOTICE" in l for l in b.sync())
    assert "\ufffd" not in "".join(b.received)
    # valid multi-byte text is untouched
    a.send("PRIVMSG bob :caf\u00e9 \u2603 \U0001f600")
    b.expect("PRIVMSG bob :caf\u00e9 \u2603 \U0001f600$")
    assert not any("FAIL" in l or "WARN" in l for l in a.sync())


def test_account_notify_on_login():
    srv = Server()
    a = srv.client("alice")
    b = capclient(srv, "bob", ["account-notify"])
    c = srv.client("carol")
    joined(srv, "#an", a, b, c)
    a.send("PRIVMSG NickServ :REGISTER hunter2")
    b.expect(r"^:alice!\S+ ACCOUNT alice$")
    assert not any("ACCOUNT" in l for l in c.sync())
