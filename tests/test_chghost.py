"""CHGHOST <nick> <user> <host>, the oper command (as in InspIRCd and
UnrealIRCd): 481 for non-opers, user and host checked, and the change
told as the chghost spec says (ircv3.net/specs/extensions/chghost):
CHGHOST to the client itself and to peers with the cap, QUIT + JOIN (+
MODE for its channel status) to peers without (irc_chghost.c)."""

import re

from ergotest import Server
from test_ircv3_tags import capclient, tsync, joined, body
from test_oper import genpasswd, PASSWORD

srv = None


def setup_module():
    global srv
    srv = Server(conf='oper admin { class server-admin  password "%s" }'
                 % genpasswd(PASSWORD))


def oper(nick):
    o = srv.client(nick)
    o.send("OPER admin :" + PASSWORD)
    o.expect_numeric("381")
    return o


def test_not_an_oper_481():
    c = srv.client("nooper")
    c.send("CHGHOST nooper u h.example")
    c.expect(r"^:irc\.test 481 nooper :")
    c.send("WHOIS nooper")
    c.expect(r" 311 nooper nooper ~nooper 127\.0\.0\.1 ")


def test_spec_example_and_fallback():
    o = oper("op1")
    t = capclient(srv, "nick", ["chghost"])
    withcap = capclient(srv, "seer", ["chghost"])
    plain = srv.client("plainpeer")
    ext = capclient(srv, "extj", ["extended-join"])
    joined(srv, "#cg", t, withcap, plain, ext)
    t.send("MODE #cg +v plainpeer")     # t is op: MODE emulation shows +o
    t.expect(r"MODE #cg \+v plainpeer")
    for c in (withcap, plain, ext):
        tsync(c)
    o.send("CHGHOST nick newuser new.host.goes.here")
    o.expect(r"NOTICE op1 :Changed the host of nick to "
             r"newuser@new\.host\.goes\.here$")
    # the spec's example line, to the client itself and to capable peers
    want = ":nick!~nick@127.0.0.1 CHGHOST newuser new.host.goes.here"
    assert t.expect(r" CHGHOST ") == want
    assert withcap.expect(r" CHGHOST ") == want
    assert not any(re.search(r" (QUIT|JOIN|MODE) ", l) for l in tsync(withcap))
    # the others: a QUIT, a JOIN with the new mask, its channel status
    got = tsync(plain)
    assert got[0] == ":nick!~nick@127.0.0.1 QUIT :Changing host", got
    assert got[1] == ":nick!newuser@new.host.goes.here JOIN #cg", got
    assert got[2] == ":irc.test MODE #cg +o nick", got
    assert len(got) == 3, got
    got = tsync(ext)
    assert got[1] == (":nick!newuser@new.host.goes.here JOIN #cg * "
                      ":Real Name"), got
    # a target without the cap is told by 396
    p = srv.client("nocap")
    o.send("CHGHOST nocap nu nh.example")
    p.expect(r"^:irc\.test 396 nocap nu@nh\.example :is now your "
             r"displayed host$")
    # the new mask sticks
    plain.send("WHOIS nick")
    plain.expect(r" 311 plainpeer nick newuser new\.host\.goes\.here ")
    t.send("PRIVMSG plainpeer :hi")
    l = plain.expect(r"PRIVMSG plainpeer :hi$")
    assert l.startswith(":nick!newuser@new.host.goes.here "), l


def test_peer_in_two_channels_told_once():
    o = oper("op2")
    t = srv.client("twice")
    p = srv.client("peer2")
    joined(srv, "#c1", t, p)
    joined(srv, "#c2", t, p)
    o.send("CHGHOST twice u2 h2.example")
    # done before p's sync: p's PING could otherwise be read first
    o.expect(r"NOTICE op2 :Changed the host of twice to u2@h2\.example$")
    srv.wait_log(r"opers op2!\S+ changed the host of "
                 r"twice!~twice@127\.0\.0\.1 to u2@h2\.example")
    got = tsync(p)
    assert [l for l in got if " QUIT " in l] == [
        ":twice!~twice@127.0.0.1 QUIT :Changing host"], got
    assert sorted(l for l in got if " JOIN " in l) == [
        ":twice!u2@h2.example JOIN #c1", ":twice!u2@h2.example JOIN #c2"]


def test_bad_user_host_and_nick_refused():
    o = oper("op3")
    t = srv.client("victim")
    for user, host, code in (("bad@user", "h.example", "INVALID_USERNAME"),
                             ("u" * 30, "h.example", "INVALID_USERNAME"),
                             ("user", "bad!host", "INVALID_HOSTNAME"),
                             ("user", "::colon", "INVALID_HOSTNAME"),  # trailing ":colon"
                             ("user", "h" * 80, "INVALID_HOSTNAME"),
                             ("user", "sp*ce", "INVALID_HOSTNAME")):
        o.send("CHGHOST victim %s %s" % (user, host))
        o.expect(r"^:irc\.test FAIL CHGHOST %s " % code)
    o.send("CHGHOST nobody u h.example")
    o.expect(r" 401 op3 nobody :")
    o.send("CHGHOST victim u")
    o.expect(r" 461 op3 CHGHOST :")
    assert not any("CHGHOST" in l or "QUIT" in l for l in t.sync())
    t.send("WHOIS victim")
    t.expect(r" 311 victim victim ~victim 127\.0\.0\.1 ")
