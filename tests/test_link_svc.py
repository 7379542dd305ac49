"""Accounts and services across linked servers (irc_link_svc.c): one
server runs the services (services { enabled yes }), the others forward
SASL to it (ENCAP SASL), reach its NickServ and ChanServ as remote users
and learn logins by ENCAP SU / SVSLOGIN. A chain of our servers here;
Atheme from Debian as the services server in test_atheme_link.py."""

import base64
import hashlib
import os
import re
import shutil
import socket
import ssl
import tempfile
import time

import test_link
import test_sasl
from test_link import Net
from ergotest import wait_for, run_ergo, free_port, Server

NOSVC = "services { enabled no }\n"


CERTS = []


def setup_module():
    test_link.setup_module()
    d = tempfile.mkdtemp(prefix="ergo-linksvc-")
    CERTS.append(d)
    for name in ("server", "client"):
        p = run_ergo("mkcerts", "--cert", name + ".crt", "--key",
                     name + ".key", "--host", "localhost", cwd=d)
        assert p.returncode == 0, p.stderr
    test_sasl.D = d             # TLSClient's certificates


def teardown_module():
    for d in CERTS:
        shutil.rmtree(d, ignore_errors=True)


def hub_and_leaf():
    """a.test (hub, runs the services) <- b.test (leaf, services off)."""
    net = Net(2, [(1, 0)], top={1: NOSVC})
    net.wait_linked(0, ["a.test", "b.test"])
    net.wait_linked(1, ["a.test", "b.test"])
    return net


def wait_user(srv, nick):
    """Until srv knows nick (WHOIS answers 311)."""
    w = srv.client("whois%d" % (id(srv) % 1000))
    def seen():
        w.send("WHOIS %s" % nick)
        return any(" 311 " in l for l in w.lines_until(r" 318 "))
    wait_for(seen, 10, "%s to be known" % nick)
    w.close()


def b64(s):
    return base64.b64encode(s.encode()).decode()


def sasl_plain(c, account, pw, nick, caps="sasl"):
    """CAP REQ, NICK, USER, AUTHENTICATE PLAIN: returns the reply lines
    up to 903/904, registration left pending (CAP END not sent)."""
    c.send("CAP LS 302")
    c.send("NICK %s" % nick)
    c.send("USER %s 0 * :x" % nick)
    c.expect(r"CAP \* LS")
    c.send("CAP REQ :%s" % caps)
    c.expect(r"CAP \S+ ACK")
    c.send("AUTHENTICATE PLAIN")
    c.expect(r"^AUTHENTICATE \+")
    c.send("AUTHENTICATE %s" % b64("%s\0%s\0%s" % (account, account, pw)))
    return c.lines_until(r" 90[3-7] ", timeout=10)


def ns_register(srv, nick, pw):
    """A user of srv registers nick with NickServ (wherever it runs)."""
    c = srv.client(nick)
    c.send("PRIVMSG NickServ :REGISTER %s" % pw)
    c.expect(r"NickServ!NickServ@\S+ NOTICE %s :Account created" % nick,
             timeout=10)
    return c


def test_leaf_sees_the_hubs_services_as_users():
    net = hub_and_leaf()
    wait_user(net.srv[1], "NickServ")
    c = net.srv[1].client("looker")
    c.send("WHOIS ChanServ")
    lines = c.lines_until(r" 318 ")
    assert any(re.search(r" 312 looker ChanServ a\.test ", l)
               for l in lines), lines
    # the hub's own users still reach them locally, not as users
    h = net.srv[0].client("hubuser")
    h.send("PRIVMSG NickServ :HELP")
    h.expect(r"^:NickServ!NickServ@localhost NOTICE hubuser ")


def test_leaf_offers_the_services_servers_sasl_mechanisms():
    net = hub_and_leaf()
    wait_user(net.srv[1], "NickServ")
    c = net.srv[1].client()
    c.send("CAP LS 302")
    lines = c.lines_until(r"CAP \* LS :")
    assert any(" sasl=PLAIN,SCRAM-SHA-256,EXTERNAL " in l + " "
               for l in lines), lines


def test_nickserv_register_and_identify_from_the_leaf():
    net = hub_and_leaf()
    wait_user(net.srv[1], "NickServ")
    c = ns_register(net.srv[1], "leafy", "leafy-pass-1")
    # the leaf says 900 and +r itself, from the hub's ENCAP SU
    c.expect(r" 900 leafy leafy!\S+ leafy :You are now logged in as leafy",
             timeout=10)
    c.expect(r"MODE leafy :\+r")
    c.expect(r"NickServ!NickServ@localhost NOTICE leafy :You're now "
             r"logged in as leafy")
    # the account is the hub's: a hub user sees it in WHOIS
    h = net.srv[0].client("hubwatch")
    h.send("WHOIS leafy")
    assert any(re.search(r" 330 hubwatch leafy leafy :", l)
               for l in h.lines_until(r" 318 "))
    # and a second leaf user identifies with it
    d = net.srv[1].client("other")
    d.send("NS IDENTIFY leafy wrong-password")
    d.expect(r"NOTICE other :Could not login", timeout=10)
    d.send("NS IDENTIFY leafy leafy-pass-1")
    d.expect(r" 900 other other!\S+ leafy ", timeout=10)
    d.expect(r"NOTICE other :You're now logged in as leafy")


def test_sasl_on_the_leaf_uses_the_hubs_accounts():
    net = hub_and_leaf()
    ns_register(net.srv[0], "acct1", "sasl-pass-1").close()
    wait_user(net.srv[1], "NickServ")
    c = net.srv[1].client()
    lines = sasl_plain(c, "acct1", "wrong", "sasluser")
    assert re.search(r" 904 sasluser :SASL authentication failed",
                     lines[-1]), lines
    c.send("AUTHENTICATE PLAIN")
    c.expect(r"^AUTHENTICATE \+")
    c.send("AUTHENTICATE %s" % b64("acct1\0acct1\0sasl-pass-1"))
    lines = c.lines_until(r" 90[3-7] ", timeout=10)
    assert any(re.search(r" 900 sasluser \S+ acct1 :You are now logged "
                         r"in as acct1", l) for l in lines), lines
    assert " 903 sasluser :SASL authentication successful" in lines[-1]
    c.send("CAP END")
    c.expect(r" 001 sasluser ")
    c.expect(r" 376 | 422 ")
    # both servers show the account
    for i, who in ((0, "w0"), (1, "w1")):
        w = net.srv[i].client(who)
        def shown():
            w.send("WHOIS sasluser")
            return any(re.search(r" 330 %s sasluser acct1 " % who, l)
                       for l in w.lines_until(r" 318 "))
        wait_for(shown, 10, "WHOIS 330 on %s" % net.names[i])


def test_sasl_scram_on_the_leaf_uses_the_hubs_accounts():
    net = hub_and_leaf()
    ns_register(net.srv[0], "scrammer", "scram-pass-1").close()
    wait_user(net.srv[1], "NickServ")
    c = net.srv[1].client()
    test_sasl.sasl_start(c, "scramuser")
    # a wrong password, and an account that does not exist: the hub
    # answers the client-first alike, then the client-final with 904
    assert not test_sasl.scram(c, "scrammer", "wrong-pass")
    assert not test_sasl.scram(c, "nosuchacct", "scram-pass-1")
    # a 256-byte nonce: the client-final (448 bytes of base64) and the
    # hub's server-first cross the link in two 400-byte chunks each
    nonce = (test_sasl.b64(os.urandom(192)).replace("+", "-")
             .replace("/", "_"))
    assert len(nonce) == 256
    assert test_sasl.scram(c, "scrammer", "scram-pass-1", cnonce=nonce)
    test_sasl.finish(c, "scramuser")
    c.send("WHOIS scramuser")
    assert any(re.search(r" 330 scramuser scramuser scrammer ", l)
               for l in c.lines_until(r" 318 ")), "no 330 on the leaf"
    w = net.srv[0].client("w0")
    def shown():
        w.send("WHOIS scramuser")
        return any(re.search(r" 330 w0 scramuser scrammer ", l)
                   for l in w.lines_until(r" 318 "))
    wait_for(shown, 10, "WHOIS 330 on the hub")
    # a short one after login: 907, as for a local login
    c.send("AUTHENTICATE SCRAM-SHA-256")
    c.expect(r" 907 scramuser ")


def test_sasl_on_the_leaf_refuses_a_suspended_account():
    net = hub_and_leaf()
    ns_register(net.srv[0], "susp", "susp-pass-1").close()
    a = net.srv[0].client("adm")
    test_link.oper(a)
    a.send("NS SUSPEND ADD susp")
    a.expect(r"NOTICE adm :Successfully suspended account susp")
    wait_user(net.srv[1], "NickServ")
    c = net.srv[1].client()
    lines = sasl_plain(c, "susp", "susp-pass-1", "suspuser")
    assert " 904 suspuser " in lines[-1], lines
    assert not test_sasl.scram(c, "susp", "susp-pass-1")


def test_account_notify_and_extended_join_across_the_link():
    net = hub_and_leaf()
    wait_user(net.srv[1], "NickServ")
    # a hub user with account-notify and extended-join watches #room
    h = net.srv[0].client("watcher",
                          caps="account-notify extended-join account-tag")
    h.send("JOIN #room")
    h.expect(r" 366 watcher #room ")
    c = net.srv[1].client("mover")
    c.send("JOIN #room")
    h.expect(r":mover!\S+ JOIN #room \* :", timeout=10)
    c.send("PRIVMSG NickServ :REGISTER mover-pass-1")
    c.expect(r" 900 mover ", timeout=10)
    h.expect(r":mover!\S+ ACCOUNT mover$", timeout=10)
    c.send("PRIVMSG #room :hello")
    h.expect(r"^@.*account=mover.* :mover!\S+ PRIVMSG #room :hello",
             timeout=10)
    # a later join shows the account (extended-join)
    c.send("PART #room")
    h.expect(r":mover!\S+ PART #room", timeout=10)
    c.send("JOIN #room")
    h.expect(r":mover!\S+ JOIN #room mover :", timeout=10)


def test_logout_propagates():
    net = hub_and_leaf()
    wait_user(net.srv[1], "NickServ")
    h = net.srv[0].client("watch2", caps="account-notify")
    h.send("JOIN #lo")
    c = ns_register(net.srv[1], "quitter", "quitter-pass-1")
    c.expect(r" 900 quitter ", timeout=10)
    c.send("JOIN #lo")
    h.expect(r":quitter!\S+ JOIN #lo", timeout=10)
    # the hub's NickServ drops the account: logged out everywhere
    c.send("NS DROP quitter-pass-1")
    c.expect(r"NOTICE quitter :Successfully unregistered account quitter",
             timeout=10)
    c.expect(r" 901 quitter \S+ :You are now logged out", timeout=10)
    c.expect(r"MODE quitter :-r")
    h.expect(r":quitter!\S+ ACCOUNT \*$", timeout=10)


def test_hub_login_reaches_the_leaf_and_burst_carries_accounts():
    net = Net(2, [(1, 0)], auto=False, top={1: NOSVC})
    # logged in on the hub before the link: the burst (EUID) says so
    h = ns_register(net.srv[0], "early", "early-pass-1")
    net.srv[1].client().close()
    op = net.srv[1].client("op1")
    test_link.oper(op)
    op.send("CONNECT a.test")
    net.wait_linked(1, ["a.test", "b.test"])
    w = net.srv[1].client("w2")
    def shown():
        w.send("WHOIS early")
        return any(re.search(r" 330 w2 early early ", l)
                   for l in w.lines_until(r" 318 "))
    wait_for(shown, 10, "the burst's account")
    # a login on the hub later: ENCAP SU
    g = net.srv[0].client("late")
    g.send("NS REGISTER late-pass-1")
    g.expect(r" 900 late ", timeout=10)
    def shown2():
        w.send("WHOIS late")
        return any(re.search(r" 330 w2 late late ", l)
                   for l in w.lines_until(r" 318 "))
    wait_for(shown2, 10, "SU from the hub")
    h.close()


def test_leaf_without_services_has_no_local_nickserv():
    net = Net(1, [], top={0: NOSVC})
    c = net.srv[0].client("alone")
    c.send("PRIVMSG NickServ :HELP")
    c.expect(r" 401 alone NickServ :No such nick")
    c.send("NS HELP")
    c.expect(r" 401 alone NickServ :No such nick")
    d = net.srv[0].client()
    d.send("CAP REQ :sasl")
    d.expect(r"CAP \S+ ACK")
    d.send("NICK lone")
    d.send("USER lone 0 * :x")
    d.send("AUTHENTICATE PLAIN")
    d.expect(r" 904 lone :SASL authentication failed")


def test_chanserv_from_the_leaf_after_sasl():
    net = hub_and_leaf()
    ns_register(net.srv[0], "founder", "founder-pass-1").close()
    wait_user(net.srv[1], "ChanServ")
    c = net.srv[1].client()
    lines = sasl_plain(c, "founder", "founder-pass-1", "fnick")
    assert " 903 fnick " in lines[-1], lines
    c.send("CAP END")
    c.expect(r" (376|422) fnick ")
    c.send("JOIN #mine")
    c.expect(r" 366 fnick #mine ")
    # the hub has the account's row for the leaf's user (from the EUID):
    # ChanServ makes it the founder
    def registered():
        c.send("CS REGISTER #mine")
        line = c.expect(r"ChanServ!ChanServ@localhost NOTICE fnick :",
                        timeout=10)
        return "successfully registered" in line
    wait_for(registered, 10, "ChanServ REGISTER from the leaf")
    c.send("PRIVMSG ChanServ :INFO #mine")
    c.expect(r"NOTICE fnick :.*[Ff]ounder.*founder", timeout=10)


def test_sasl_external_on_the_leaf_with_the_hubs_certificate_list():
    d = CERTS[0]
    tls = free_port()
    listen = 'listen 127.0.0.1:%d { tls { cert "%s"  key "%s" } }\n' % (
        tls, os.path.join(d, "server.crt"), os.path.join(d, "server.key"))
    net = Net(2, [(1, 0)], top={1: NOSVC}, extra={1: listen})
    net.wait_linked(1, ["a.test", "b.test"])
    with open(os.path.join(d, "client.crt")) as f:
        fp = hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()
    h = ns_register(net.srv[0], "certy", "certy-pass-1")
    h.send("NS CERT ADD %s" % fp)
    h.expect(r"Certificate fingerprint successfully added")
    wait_user(net.srv[1], "NickServ")
    c = test_sasl.TLSClient(tls, cert="client")
    c.send("CAP REQ :sasl")
    c.expect(r"CAP \S+ ACK")
    c.send("NICK certnick")
    c.send("USER certnick 0 * :x")
    c.send("AUTHENTICATE EXTERNAL")
    c.expect(r"^AUTHENTICATE \+", timeout=10)
    c.send("AUTHENTICATE +")
    lines = c.lines_until(r" 90[3-7] ", timeout=10)
    assert any(re.search(r" 900 certnick \S+ certy :You are now logged in "
                         r"as certy", l) for l in lines), lines
    assert " 903 certnick " in lines[-1], lines
    # without a certificate: 904
    e = test_sasl.TLSClient(tls)
    e.send("CAP REQ :sasl")
    e.expect(r"CAP \S+ ACK")
    e.send("NICK nocert")
    e.send("USER nocert 0 * :x")
    e.send("AUTHENTICATE EXTERNAL")
    if e.expect(r"^AUTHENTICATE \+| 904 ", timeout=10).startswith("AUTH"):
        e.send("AUTHENTICATE +")
        e.expect(r" 904 nocert ", timeout=10)


def names_of(c, chan):
    """The NAMES of chan as c's server shows them (with prefixes)."""
    c.send("NAMES %s" % chan)
    out = []
    for l in c.lines_until(r" 366 "):
        if " 353 " in l:
            out += l.split(" :", 1)[1].split()
    return out


def wait_rank(c, chan, entry):
    """Until c's server shows entry (say ~fonda) in chan's NAMES."""
    wait_for(lambda: entry in names_of(c, chan), 10,
             "%s in %s's NAMES" % (entry, chan))


def test_chanserv_ranks_reach_every_server_without_history():
    """ChanServ's ranks (a founder's +q at REGISTER and at JOIN, an
    AMODE's at JOIN) cross the link as TMODE from ChanServ, for users of
    either server; they are no channel event (history keeps none)."""
    net = hub_and_leaf()
    wait_user(net.srv[1], "ChanServ")
    # the founder is a user of the leaf
    f = ns_register(net.srv[1], "fonda", "fonda-pass-1")
    f.expect(r" 900 fonda ", timeout=10)
    f.send("JOIN #ranked")
    f.expect(r" 366 fonda #ranked ")
    h = net.srv[0].client("hubby")
    test_link.sees(h, "#ranked", "fonda")
    h.send("JOIN #ranked")
    h.expect(r" 366 hubby #ranked ")
    f.expect(r":hubby!\S+ JOIN #ranked", timeout=10)
    f.send("PRIVMSG ChanServ :REGISTER #ranked")
    f.expect(r"NOTICE fonda :Channel #ranked successfully registered",
             timeout=10)
    # the registration's +q, on both servers, from ChanServ
    f.expect(r"^:ChanServ!ChanServ@localhost MODE #ranked \+q fonda$",
             timeout=10)
    h.expect(r"^:ChanServ!ChanServ@localhost MODE #ranked \+q fonda$",
             timeout=10)
    # the founder comes back through the leaf: +q again everywhere
    f.send("PART #ranked")
    h.expect(r":fonda!\S+ PART #ranked", timeout=10)
    f.send("JOIN #ranked")
    h.expect(r":fonda!\S+ JOIN #ranked", timeout=10)
    h.expect(r"^:ChanServ!ChanServ@localhost MODE #ranked \+q fonda$",
             timeout=10)
    f.expect(r"^:ChanServ!ChanServ@localhost MODE #ranked \+q fonda$",
             timeout=10)
    assert "~fonda" in names_of(h, "#ranked")
    wait_rank(f, "#ranked", "~fonda")
    # an AMODE'd account of the leaf joins there: its rank everywhere
    v = ns_register(net.srv[1], "vic", "vic-pass-1")
    v.expect(r" 900 vic ", timeout=10)
    f.send("PRIVMSG ChanServ :AMODE #ranked +o vic")
    f.expect(r"NOTICE fonda :.*vic", timeout=10)
    v.send("JOIN #ranked")
    v.expect(r" 366 vic #ranked ")
    v.expect(r"^:ChanServ!ChanServ@localhost MODE #ranked \+o vic$",
             timeout=10)
    wait_rank(h, "#ranked", "@vic")
    wait_rank(v, "#ranked", "@vic")
    # ChanServ's DEOP and VOICE from the leaf's founder: everywhere too
    f.send("PRIVMSG ChanServ :DEOP #ranked vic")
    h.expect(r"^:ChanServ!ChanServ@localhost MODE #ranked -o vic$",
             timeout=10)
    v.expect(r"^:ChanServ!ChanServ@localhost MODE #ranked -o vic$",
             timeout=10)
    f.send("PRIVMSG ChanServ :VOICE #ranked vic")
    h.expect(r"^:ChanServ!ChanServ@localhost MODE #ranked \+v vic$",
             timeout=10)
    wait_rank(v, "#ranked", "+vic")
    # none of ChanServ's MODEs is in either server's history
    for c in (h, f):
        c.send("CAP REQ :batch draft/chathistory draft/event-playback "
               "server-time message-tags")
        c.expect(r"CAP \S+ ACK")
        c.send("CHATHISTORY LATEST #ranked * 50")
        lines = c.lines_until(r"BATCH -")
        assert any(re.search(r":vic!\S+ JOIN #ranked", l)
                   for l in lines), lines
        assert not any("ChanServ" in l and " MODE " in l
                       for l in lines), lines


class FakePeer:
    """A TS6 peer on a raw socket (a server that is not the services
    server), linked to srv's server port as fake.test, SID 9ZZ."""

    BLOCK = ("link fake.test {\n send-password x\n receive-password "
             "\"%s\"\n}\n")

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.f = self.s.makefile("rwb", buffering=0)
        self.send("PASS %s TS 6 :9ZZ" % test_link.LINKPW)
        self.send("CAPAB :QS EX IE ENCAP TB EUID")
        self.send("SERVER fake.test 1 :not the services")
        self.expect(r"^SVINFO 6 6 0 :\d+$")
        self.send("SVINFO 6 6 0 :%d" % int(time.time()))

    def send(self, line):
        self.f.write(line.encode() + b"\r\n")

    def expect(self, rx, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.f.readline().decode(errors="replace").rstrip("\r\n")
            if not line:
                break
            if re.search(rx, line):
                return line
        raise AssertionError("fake peer: no line matching %r" % rx)

    def close(self):
        self.s.close()


def test_services_commands_only_from_the_services_server():
    """With services.server set, ENCAP SU, SVSLOGIN, RSFNC and MECHLIST
    from another server are refused (logged once) and ignored; the
    services server's still work."""
    fake = FakePeer.BLOCK % test_link.HASHES["link"]
    net = Net(2, [(1, 0)],
              top={0: "services { server a.test }\n",
                   1: "services { enabled no  server a.test }\n" + fake})
    net.wait_linked(1, ["a.test", "b.test"])
    wait_user(net.srv[1], "NickServ")
    v = net.srv[1].client("victim")
    p = FakePeer(net.lports[1])
    # :0AB EUID nick hops ts modes user host ip uid realhost account :gecos
    uid = p.expect(r" EUID victim ").split()[9]
    assert uid.startswith("0AB"), uid
    for _ in range(2):
        p.send(":9ZZ ENCAP * SU %s stolen" % uid)
        p.send(":9ZZ ENCAP b.test SVSLOGIN %s * * * stolen" % uid)
        p.send(":9ZZ ENCAP b.test RSFNC %s renamed %d %d"
               % (uid, int(time.time()), 1))
        p.send(":9ZZ ENCAP * MECHLIST :BOGUS")
    net.srv[1].wait_log(r"ENCAP MECHLIST from fake\.test refused")
    for cmd in ("SU", "SVSLOGIN", "RSFNC", "MECHLIST"):
        assert net.srv[1].logtext().count(
            "ENCAP %s from fake.test refused" % cmd) == 1, cmd
    # the hub refuses the SU the leaf passed on, too
    net.srv[0].wait_log(r"ENCAP SU from fake\.test refused")
    w = net.srv[1].client("w1")
    w.send("WHOIS victim")
    lines = w.lines_until(r" 318 ")
    assert not any(" 330 " in l for l in lines), lines
    assert any(" 311 w1 victim " in l for l in lines), lines
    w.send("CAP LS 302")
    assert not any("BOGUS" in l for l in w.lines_until(r"CAP \S+ LS :"))
    v.send("PING :still-here")
    lines = v.lines_until(r"PONG .*still-here")
    assert not any(" 900 " in l or " NICK " in l for l in lines), lines
    # the services server's SU is taken
    v.send("NS REGISTER victim-pass-1")
    v.expect(r" 900 victim victim!\S+ victim :You are now logged in",
             timeout=10)
    p.close()


def test_services_server_must_be_this_one_when_enabled():
    bad = Server(config="server { name x.test\n listen 127.0.0.1:{port} }\n"
                 "services { server other.test }\n", start=False)
    pr = run_ergo("checkconfig", "--config", bad.conf_path)
    assert pr.returncode != 0
    assert "services.server is other.test but services.enabled is yes" \
        in pr.stdout + pr.stderr, pr.stdout + pr.stderr


def test_nickserv_enforces_reserved_nicks_on_the_leaf_with_rsfnc():
    """The hub's NickServ enforces a reserved nick held by a leaf's user
    (at its introduction and after a NICK): a warning there, then RSFNC
    to the leaf, which renames it to a Guest nick everywhere. GHOST
    ends a leaf's user holding one's nick."""
    net = Net(2, [(1, 0)],
              top={0: "services { server a.test }\n"
                      "accounts { nick-reservation { grace 2s } }\n",
                   1: "services { enabled no  server a.test }\n"})
    net.wait_linked(1, ["a.test", "b.test"])
    wait_user(net.srv[1], "NickServ")
    o = ns_register(net.srv[0], "owner", "owner-pass-1")
    o.send("NS SET ENFORCE timeout")
    o.expect(r"Enforcement method set to timeout")
    o.send("NICK ownerhere")
    o.expect(r"NICK :?ownerhere")
    h = net.srv[0].client("hubwatch")
    h.send("JOIN #enf")
    h.expect(r" 366 ")
    t = net.srv[1].client("owner")
    t.expect(r"^:NickServ!NickServ@\S+ NOTICE owner :This nickname is "
             r"reserved by another account; log in to it or change your "
             r"nick within 2 seconds", timeout=10)
    t.send("JOIN #enf")
    h.expect(r":owner!\S+ JOIN #enf", timeout=10)
    line = t.expect(r"^:owner!\S+ NICK :?Guest\d{5}$", timeout=10)
    guest = line.rsplit(" ", 1)[1].lstrip(":")
    h.expect(r"^:owner!\S+ NICK :?%s$" % guest, timeout=10)
    net.srv[0].wait_log(r"reserved nick, its server is asked to rename "
                        r"it to %s" % guest)
    net.srv[1].wait_log(r"owner renamed to %s by the services" % guest)
    # taking the nick again later (NICK): enforced again
    t.send("NICK owner")
    t.expect(r"NICK :?owner$")
    h.expect(r"^:%s!\S+ NICK :?owner$" % guest, timeout=10)
    line = t.expect(r"^:owner!\S+ NICK :?Guest\d{5}$", timeout=10)
    guest = line.rsplit(" ", 1)[1].lstrip(":")
    h.expect(r"^:owner!\S+ NICK :?%s$" % guest, timeout=10)
    # the owner GHOSTs a leaf's user on its nick: killed everywhere
    # (enforcement off first, so no rename races the GHOST)
    o.send("NS SET ENFORCE none")
    o.expect(r"Enforcement method set to none")
    t.send("NICK owner")
    t.expect(r"NICK :?owner$")
    h.expect(r"^:%s!\S+ NICK :?owner$" % guest, timeout=10)
    o.send("NS GHOST owner")
    o.expect(r"NOTICE ownerhere :Ghosted owner", timeout=10)
    t.expect(r"^ERROR |GHOSTed by ownerhere", timeout=10)
    test_link.gone(net.srv[1].client("w9"), "owner")


def test_strict_nick_reservation_renames_a_leafs_user_at_once():
    net = Net(2, [(1, 0)],
              top={0: "services { server a.test }\n"
                      "accounts { nick-reservation { method strict } }\n",
                   1: "services { enabled no  server a.test }\n"})
    net.wait_linked(1, ["a.test", "b.test"])
    wait_user(net.srv[1], "NickServ")
    o = ns_register(net.srv[0], "strictly", "strictly-pass-1")
    o.send("NICK elsewhere")
    o.expect(r"NICK :?elsewhere")
    t = net.srv[1].client("strictly")
    t.expect(r"NOTICE strictly :This nickname is reserved by another "
             r"account; you are being renamed", timeout=10)
    t.expect(r"^:strictly!\S+ NICK :?Guest\d{5}$", timeout=10)
    # logged in to the account on the leaf, the nick is its own
    t.send("NS IDENTIFY strictly strictly-pass-1")
    t.expect(r" 900 Guest\d{5} ", timeout=10)
    t.send("NICK strictly")
    t.expect(r"NICK :?strictly$")
    # the hub has seen the NICK (its tick would rename at once): none
    wait_user(net.srv[0], "strictly")
    lines = []
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        t.send("PING :again")
        lines += t.lines_until(r"PONG .*again")
    assert not any(re.search(r" NICK :?Guest", l) for l in lines), lines


def test_a_second_services_server_is_refused_with_the_reason():
    # b.test left with the default (services on): two NickServs would
    # split the accounts in two, so neither end takes the link
    net = Net(2, [(1, 0)], top={1: "services { enabled yes }\n"})
    for i, other in ((0, "b"), (1, "a")):
        net.srv[i].wait_log(r"%s\.test runs services too \(it introduced "
                            r"(NickServ|ChanServ)\): a network has one "
                            r"services server; set services \{ enabled no "
                            r"\} on all but one" % other)
    wait_for(lambda: net.links(0) == ["a.test"], 10, "a.test alone")
    assert net.links(1) == ["b.test"]
    # each server's own NickServ still answers its users
    c = net.srv[1].client("carol")
    c.send("PRIVMSG NickServ :HELP")
    c.expect(r"^:NickServ!\S+ NOTICE carol :")
