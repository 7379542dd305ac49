"""HostServ as Ergo's: opers SET and DEL an account's vhost
(accounts.vhosts: enabled, max-length, valid-chars), its owner turns it
ON and OFF and asks its STATUS; the vhost is shown in WHOIS, WHO and JOIN
lines, with CHGHOST to clients that have the cap."""

import re

from ergotest import account_client as account, oper_client as oper
from ergotest import services_server as server

NS = r"^:NickServ!NickServ@localhost NOTICE %s :"
HS = r"^:HostServ!HostServ@localhost NOTICE %s :"


def hs_expect(c, text):
    return c.expect(HS % re.escape(c.nick) + re.escape(text))


def test_set_needs_an_oper_and_shows_the_vhost_everywhere():
    with server() as srv:
        u = account(srv, "vic")
        u.send("JOIN #v")
        u.expect(r" 366 ")
        plain = srv.client("plain")
        plain.send("JOIN #v")
        plain.expect(r" 366 ")
        ch = srv.client("capped", caps="chghost")
        ch.send("JOIN #v")
        ch.expect(r" 366 ")
        u.send("HS SET vic vic.example")
        hs_expect(u, "Command restricted")
        hp = oper(srv, "hp", "helper")		# no vhosts
        hp.send("HS SET vic vic.example")
        hs_expect(hp, "Command restricted")
        o = oper(srv)
        o.send("HS SET vic bad host")
        hs_expect(o, "Invalid vhost")
        o.send("HS SET vic bad!host")
        hs_expect(o, "Invalid vhost")
        o.send("HS SET nosuch vic.example")
        hs_expect(o, "No such account")
        o.send("HS SET vic users/vic")
        hs_expect(o, "Successfully set vhost")
        ch.expect(r"^:vic!~vic@\S+ CHGHOST ~vic users/vic$")
        plain.expect(r"^:vic!~vic@\S+ QUIT :Changing host$")
        plain.expect(r"^:vic!~vic@users/vic JOIN #v$")
        plain.send("WHOIS vic")
        assert re.search(r" 311 plain vic ~vic users/vic ",
                         plain.expect(r" 311 "))
        plain.send("WHO #v")
        lines = plain.lines_until(r" 315 ")
        assert [l for l in lines if " 352 " in l and " users/vic " in l], \
            lines
        u.send("HS STATUS")
        hs_expect(u, "Account vic has vhost: users/vic")
        u.send("HS STATUS plain")
        hs_expect(u, "Command restricted")
        o.send("HS STATUS vic")
        hs_expect(o, "Account vic has vhost: users/vic")


def test_on_off_and_del_and_login_brings_it_back():
    with server() as srv:
        u = account(srv, "vic")
        u.send("HS ON")
        hs_expect(u, "You do not have an approved vhost")
        o = oper(srv)
        o.send("HS SET vic vic.example")
        hs_expect(o, "Successfully set vhost")
        u.send("HS OFF")
        hs_expect(u, "Successfully disabled your vhost")
        u.send("WHOIS vic")
        assert " vic.example " not in u.expect(r" 311 ")
        u.send("HS STATUS")
        hs_expect(u, "Account vic has vhost: vic.example")
        hs_expect(u, "This vhost is currently disabled, but can be "
                  "enabled with /HS ON")
        u.send("HS ON")
        hs_expect(u, "Successfully enabled your vhost")
        u.send("WHOIS vic")
        assert " vic.example " in u.expect(r" 311 ")
        # a new login shows it; a logout drops it
        two = srv.client("two")
        two.send("NS IDENTIFY vic pw")
        two.expect(NS % "two" + "You're now logged in as vic")
        two.send("WHOIS two")
        assert " vic.example " in two.expect(r" 311 ")
        o.send("HS DEL vic")
        hs_expect(o, "Successfully cleared vhost")
        two.send("WHOIS two")
        assert " vic.example " not in two.expect(r" 311 ")
        u.send("HS STATUS")
        hs_expect(u, "Account vic has no vhost")
        anon = srv.client("anon")
        anon.send("HS ON")
        hs_expect(anon, "You're not logged into an account")


def test_vhost_rules_come_from_the_config():
    conf = ("accounts { vhosts { max-length 8  "
            "valid-chars \"a-z.\" } }\n")
    with server(conf) as srv:
        account(srv, "vic").close()
        o = oper(srv)
        o.send("HS SET vic toolong.example")
        hs_expect(o, "Invalid vhost")
        o.send("HS SET vic a/b")
        hs_expect(o, "Invalid vhost")
        o.send("HS SET vic a.b")
        hs_expect(o, "Successfully set vhost")
    with server("accounts { vhosts { enabled no } }\n") as srv:
        o = oper(srv)
        o.send("HS SET vic a.b")
        hs_expect(o, "This command has been disabled by the server "
                  "administrators")
