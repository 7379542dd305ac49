"""draft/pre-away (ircv3.net/specs/extensions/pre-away): with the cap,
AWAY is accepted before registration completes, "AWAY *" marks the user
not present without a reason, and nobody is told before it is online
(irc_query.c h_away)."""

from ergotest import Server
from test_ircv3_tags import capclient, tsync


def prereg(srv, caps):
    c = srv.client()
    c.send("CAP LS 302")
    c.expect(r" CAP \* LS :")
    c.send("CAP REQ :%s" % " ".join(caps))
    c.expect(r" CAP \* ACK ")
    return c


def finish(c, nick):
    c.send("NICK %s" % nick)
    c.send("USER %s 0 * :Real" % nick)
    c.send("CAP END")
    c.expect(r" (376|422) %s " % nick)
    c.nick = nick


def test_cap_advertised():
    srv = Server()
    c = srv.client()
    c.send("CAP LS 302")
    ls = " ".join(c.lines_until(r" CAP \* LS :"))
    assert " draft/pre-away" in ls or ":draft/pre-away" in ls, ls


def test_away_before_registration_with_the_cap():
    srv = Server()
    w = capclient(srv, "watcher", ["extended-monitor", "away-notify"])
    w.send("MONITOR + lunchy")
    w.expect(r" 731 watcher :lunchy")
    c = prereg(srv, ["draft/pre-away"])
    c.send("AWAY :Gone to lunch.  Back in 5")
    c.expect(r"^:irc\.test 306 \* :You have been marked as being away$")
    # not online yet: MONITOR learns nothing of it
    assert not any("lunchy" in l for l in tsync(w))
    finish(c, "lunchy")
    w.expect(r" 730 watcher :lunchy!")
    w.send("WHOIS lunchy")
    w.expect(r" 301 watcher lunchy :Gone to lunch\.  Back in 5$")
    o = srv.client("other")
    o.send("PRIVMSG lunchy :hi")
    o.expect(r" 301 other lunchy :Gone to lunch\.  Back in 5$")


def test_away_star_means_not_present():
    srv = Server()
    c = prereg(srv, ["draft/pre-away"])
    c.send("NICK bouncer")
    c.send("AWAY *")
    c.expect(r"^:irc\.test 306 bouncer :")
    finish(c, "bouncer")
    o = srv.client("other")
    o.send("WHOIS bouncer")
    o.expect(r" 301 other bouncer :\*$")
    # and AWAY with no parameter, before registration, means present
    d = prereg(srv, ["draft/pre-away"])
    d.send("AWAY :x")
    d.expect(r" 306 ")
    d.send("AWAY")
    d.expect(r"^:irc\.test 305 \* :You are no longer marked as being away$")
    finish(d, "present")
    o.send("WHOIS present")
    lines = o.lines_until(r" 318 ")
    assert not any(" 301 " in l for l in lines), lines


def test_without_the_cap_away_before_registration_is_451():
    srv = Server()
    c = prereg(srv, ["away-notify"])
    c.send("AWAY :too early")
    c.expect(r"^:irc\.test 451 \* :You have not registered$")
    finish(c, "early")
    o = srv.client("other")
    o.send("WHOIS early")
    lines = o.lines_until(r" 318 ")
    assert not any(" 301 " in l for l in lines), lines
