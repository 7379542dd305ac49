"""TS6 server links between our own servers (irc_link.c, irc_link_user.c):
config, handshake, LINKS, CONNECT/SQUIT, burst and live traffic."""

import base64
import hashlib
import os
import re
import shutil
import socket
import ssl
import tempfile
import time

import ergotest
from ergotest import Client, Server, run_ergo, wait_for, ErgoTestError
from ergotest import free_port

LINKPW = "link-secret"
OPERPW = "oper secret"
HASHES = {}


def genpasswd(password):
    p = run_ergo("genpasswd", input=password + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    return [l for l in p.stdout.splitlines() if l.strip()][-1].strip()


def setup_module():
    HASHES["link"] = genpasswd(LINKPW)
    HASHES["oper"] = genpasswd(OPERPW)


CONF = """network { name TestNet }
server {
 name %(name)s
 sid %(sid)s
 listen 127.0.0.1:{port}
 listen 127.0.0.1:%(lport)d { server yes }
 fakelag { enabled no }
 ip-cloaking { enabled no }
 link-retry 1s
 link-ping %(ping)s
%(extra)s}
datastore { path ircd.db }
logging { method stderr  level %(level)s }
oper admin { class server-admin  password "%(oper)s" }
%(links)s
"""

LINK = """link %(name)s {
 host 127.0.0.1  port %(lport)d
 send-password "%(pw)s"
 receive-password "%(hash)s"
 autoconnect %(auto)s  hub yes
}
"""


class Net:
    seq = 0
    """Servers named a.test, b.test, ... with SIDs 0AA, 0AB, ...; edges
    (x, y) link x to y, x connecting (autoconnect) unless told not to.
    a.test runs the services; the others have them off unless top[i]
    has a services block of its own."""

    def __init__(self, n, edges, auto=True, pw=None, extra=None,
                 ping="60s", level="info", top=None):
        self.names = ["%s.test" % chr(ord("a") + i) for i in range(n)]
        self.lports = [free_port() for _ in range(n)]
        self.srv = []
        for i, name in enumerate(self.names):
            links = ""
            for (x, y) in edges:
                if i not in (x, y):
                    continue
                o = y if i == x else x
                links += LINK % {
                    "name": self.names[o], "lport": self.lports[o],
                    "pw": pw.get(i, LINKPW) if pw else LINKPW,
                    "hash": HASHES["link"],
                    "auto": "yes" if auto and i == x else "no"}
            links += (top or {}).get(i, "")
            # one services server a network: a.test's, unless told
            if i > 0 and "services" not in (top or {}).get(i, ""):
                links += "services { enabled no }\n"
            text = CONF % {"name": name, "sid": "0A%s" % chr(65 + i),
                           "lport": self.lports[i], "oper": HASHES["oper"],
                           "links": links, "ping": ping, "level": level,
                           "extra": (extra or {}).get(i, "")}
            self.srv.append(Server(config=text))

    def links(self, i):
        Net.seq += 1
        c = self.srv[i].client("links%d" % Net.seq)
        c.send("LINKS")
        lines = c.lines_until(r" 365 ")
        c.close()
        return sorted(l.split()[3] for l in lines if " 364 " in l)

    def wait_linked(self, i, names, timeout=10):
        want = sorted(names)
        wait_for(lambda: self.links(i) == want, timeout,
                 "%s to see %s" % (self.names[i], want))


def oper(c):
    c.send("OPER admin :%s" % OPERPW)
    c.expect(r" 381 ")


# ---- config ----

def test_link_config_errors_name_the_line():
    bad = Server(config="server { name x.test\n listen 127.0.0.1:{port}\n"
                 " sid 0ab }\n", start=False)
    p = run_ergo("checkconfig", "--config", bad.conf_path)
    assert p.returncode != 0
    assert re.search(r"ergo.conf:3:\d+: expected a server id",
                     p.stdout + p.stderr), p.stdout + p.stderr
    nosid = Server(config="server { name x.test\n listen 127.0.0.1:{port} }"
                   "\nlink y.test { send-password a\n receive-password "
                   "\"%s\" }\n" % HASHES["link"], start=False)
    p = run_ergo("checkconfig", "--config", nosid.conf_path)
    assert p.returncode != 0
    assert "link blocks need server.sid" in p.stdout + p.stderr


# ---- handshake ----

def test_two_servers_link_and_list_each_other():
    net = Net(2, [(0, 1)])
    net.wait_linked(0, ["a.test", "b.test"])
    net.wait_linked(1, ["a.test", "b.test"])
    net.srv[0].wait_log(r"link with b\.test \(0AB, 127\.0\.0\.1\) "
                        r"established")
    net.srv[1].wait_log(r"end of burst from a\.test")


def test_wrong_link_password_is_refused():
    net = Net(2, [(0, 1)], pw={0: "not-the-password"})
    net.srv[1].wait_log(r"server a\.test from 127\.0\.0\.1: wrong password")
    assert net.links(1) == ["b.test"]
    assert net.links(0) == ["a.test"]


def test_not_ts6_gets_error_and_is_closed():
    net = Net(1, [])
    s = socket.create_connection(("127.0.0.1", net.lports[0]), timeout=5)
    s.sendall(b"NICK foo\r\nUSER a 0 * :b\r\n")
    data = b""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        d = s.recv(4096)
        if not d:
            break
        data += d
    s.close()
    assert b"ERROR :Command before the handshake ended" in data, data


def test_three_servers_in_a_chain():
    net = Net(3, [(1, 0), (1, 2)])     # b is the hub
    all3 = ["a.test", "b.test", "c.test"]
    for i in range(3):
        net.wait_linked(i, all3)
    c = net.srv[0].client("viewer")
    c.send("LINKS")
    lines = c.lines_until(r" 365 ")
    assert any(re.search(r" 364 viewer c\.test b\.test :2 ", l)
               for l in lines), lines


def test_squit_splits_and_autoconnect_relinks():
    net = Net(2, [(0, 1)])
    net.wait_linked(0, ["a.test", "b.test"])
    c = net.srv[0].client("op")
    oper(c)
    c.send("SQUIT b.test :maintenance")
    net.srv[1].wait_log(r"ERROR from a\.test: maintenance|"
                        r"link with a\.test .* ended")
    # autoconnect brings it back after link-retry
    net.srv[0].wait_log(r"connecting to b\.test", timeout=10)
    net.wait_linked(0, ["a.test", "b.test"])
    net.wait_linked(1, ["a.test", "b.test"])


def test_connect_by_oper():
    net = Net(2, [(0, 1)], auto=False)
    assert net.links(0) == ["a.test"]
    c = net.srv[0].client("op")
    c.send("CONNECT b.test")
    c.expect(r" 481 ")
    oper(c)
    c.send("CONNECT nowhere.test")
    c.expect(r" 402 op nowhere\.test ")
    c.send("CONNECT b.test")
    c.expect(r"NOTICE op :\*\*\* Connecting to b\.test port \d+")
    net.wait_linked(0, ["a.test", "b.test"])
    c.send("CONNECT b.test")
    c.expect(r"NOTICE op :\*\*\* Connect: b\.test is already linked")


def test_link_lost_is_noticed_by_ping_timeout():
    net = Net(2, [(0, 1)], ping="5s")
    net.wait_linked(0, ["a.test", "b.test"])
    net.srv[1].signal(19)   # SIGSTOP: b stops answering
    try:
        net.srv[0].wait_log(r"link with b\.test .* ended: Ping timeout",
                            timeout=20)
    finally:
        net.srv[1].signal(18)   # SIGCONT
    net.wait_linked(0, ["a.test", "b.test"], timeout=20)


# ---- users and channels ----

def joined(c, chan):
    c.send("JOIN %s" % chan)
    c.expect(r" 366 ")


def sees(c, chan, nick):
    """Waits until c's server has nick in chan (the other server's JOIN
    arrived), so what c does next is not a race with it."""
    def check():
        c.send("NAMES %s" % chan)
        lines = c.lines_until(r" 366 ")
        return any(re.search(r" 353 .*[:~&@%%+ ]%s( |$)" % nick, l)
                   for l in lines)
    wait_for(check, 10, "%s in %s" % (nick, chan))


def gone(c, nick):
    """Waits until c's server no longer knows nick."""
    def check():
        c.send("WHOIS %s" % nick)
        return " 401 " in "\n".join(c.lines_until(r" 318 "))
    wait_for(check, 10, "%s to be gone" % nick)


def test_users_chat_in_a_channel_and_in_private():
    net = Net(2, [(0, 1)])
    net.wait_linked(0, ["a.test", "b.test"])
    alice = net.srv[0].client("alice")
    bob = net.srv[1].client("bob")
    joined(alice, "#net")
    sees(bob, "#net", "alice")
    joined(bob, "#net")
    alice.expect(r"^:bob!~bob@127\.0\.0\.1 JOIN #net$")
    alice.send("PRIVMSG #net :hello from a")
    bob.expect(r"^:alice!~alice@127\.0\.0\.1 PRIVMSG #net :hello from a$")
    bob.send("PRIVMSG alice :hi alice, from b")
    alice.expect(r"^:bob!~bob@127\.0\.0\.1 PRIVMSG alice :hi alice, "
                 r"from b$")
    bob.send("NAMES #net")
    names = bob.expect(r" 353 ")
    assert "@alice" in names and "bob" in names, names
    alice.send("NICK alicia")
    bob.expect(r"^:alice!\S+ NICK :?alicia$")
    bob.send("PRIVMSG alicia :renamed?")
    alice.expect(r"PRIVMSG alicia :renamed\?$")
    alice.send("PART #net :bye")
    bob.expect(r"^:alicia!\S+ PART #net :bye$")
    alice.send("QUIT :gone home")
    gone(bob, "alicia")


def test_burst_brings_users_channels_modes_and_topic():
    net = Net(2, [(0, 1)], auto=False)
    alice = net.srv[0].client("alice")
    joined(alice, "#burst")
    alice.send("TOPIC #burst :before the link")
    alice.send("MODE #burst +sb spam!*@*")
    alice.expect(r"MODE #burst \+sb spam!\*@\*")
    op = net.srv[0].client("op")
    oper(op)
    op.send("CONNECT b.test")
    net.wait_linked(1, ["a.test", "b.test"])
    net.srv[1].wait_log(r"end of burst from a\.test")
    bob = net.srv[1].client("bob")
    bob.send("JOIN #burst")
    lines = bob.lines_until(r" 366 ")
    text = "\n".join(lines)
    assert re.search(r" 332 bob #burst :before the link", text), text
    assert re.search(r" 353 bob @ #burst :.*@alice", text), text
    bob.send("MODE #burst")
    bob.expect(r" 324 bob #burst \+\S*s")
    bob.send("MODE #burst b")
    bob.expect(r" 367 bob #burst spam!\*@\* ")
    alice.expect(r"^:bob!\S+ JOIN #burst")


def test_three_servers_chat_through_the_hub():
    net = Net(3, [(1, 0), (1, 2)])
    for i in range(3):
        net.wait_linked(i, ["a.test", "b.test", "c.test"])
    a = net.srv[0].client("usera")
    c = net.srv[2].client("userc")
    joined(a, "#chain")
    sees(c, "#chain", "usera")
    joined(c, "#chain")
    a.expect(r"^:userc!\S+ JOIN #chain")
    a.send("PRIVMSG #chain :one")
    c.expect(r"^:usera!\S+ PRIVMSG #chain :one$")
    c.send("PRIVMSG usera :two")
    a.expect(r"^:userc!\S+ PRIVMSG usera :two$")
    # one copy each: a message that arrived twice would show here
    a.send("PRIVMSG #chain :three")
    c.expect(r"PRIVMSG #chain :three$")
    assert not any("three" in l for l in c.sync())


def test_ops_and_modes_converge():
    net = Net(2, [(0, 1)])
    net.wait_linked(0, ["a.test", "b.test"])
    alice = net.srv[0].client("alice")
    bob = net.srv[1].client("bob")
    joined(alice, "#ops")
    sees(bob, "#ops", "alice")
    joined(bob, "#ops")
    alice.expect(r"^:bob!\S+ JOIN #ops")
    alice.send("MODE #ops +o bob")
    bob.expect(r"^:alice!\S+ MODE #ops \+o bob$")
    bob.send("MODE #ops +m-o alice")
    alice.expect(r"^:bob!\S+ MODE #ops \+m-o alice$")
    for c, who in ((alice, "alice"), (bob, "bob")):
        c.send("NAMES #ops")
        names = c.expect(r" 353 ")
        assert re.search(r":(.* )?@bob( |$)", names), names
        assert re.search(r"[: ]alice( |$)", names), names
    bob.send("TOPIC #ops :set on b")
    alice.expect(r"^:bob!\S+ TOPIC #ops :set on b$")
    bob.send("KICK #ops alice :out")
    alice.expect(r"^:bob!\S+ KICK #ops alice :out$")


def next_second():
    t = time.time()
    time.sleep(1.05 - (t - int(t)))  # a new TS second, not a server wait


def test_nick_collision_keeps_the_older():
    net = Net(2, [(0, 1)], auto=False)
    old = net.srv[0].client("dup")
    next_second()
    new = net.srv[1].client("dup")
    op = net.srv[0].client("op")
    oper(op)
    op.send("CONNECT b.test")
    new.expect(r"^ERROR :.*Nick collision")
    net.wait_linked(1, ["a.test", "b.test"])
    old.send("PING :still")
    old.expect(r"PONG .*still")
    watcher = net.srv[1].client("watcher")
    watcher.send("WHOIS dup")
    watcher.expect(r" 311 watcher dup ")


def test_channel_ts_older_wins_when_linking():
    net = Net(2, [(0, 1)], auto=False)
    alice = net.srv[0].client("alice")
    joined(alice, "#ts")
    next_second()
    bob = net.srv[1].client("bob")
    joined(bob, "#ts")
    bob.send("MODE #ts +i")
    bob.expect(r"MODE #ts \+i")
    op = net.srv[0].client("op")
    oper(op)
    op.send("CONNECT b.test")
    # b's channel is newer: bob loses his op and +i, alice keeps hers
    bob.expect(r"^:a\.test MODE #ts -\S*i\S*o bob$")
    alice.expect(r"^:bob!\S+ JOIN #ts")
    for c in (alice, bob):
        c.send("NAMES #ts")
        names = c.expect(r" 353 ")
        assert "@alice" in names and "@bob" not in names, names


def test_squit_splits_users_and_relink_rebursts():
    net = Net(2, [(0, 1)])
    net.wait_linked(0, ["a.test", "b.test"])
    alice = net.srv[0].client("alice")
    bob = net.srv[1].client("bob")
    joined(alice, "#split")
    sees(bob, "#split", "alice")
    joined(bob, "#split")
    alice.expect(r"^:bob!\S+ JOIN #split")
    op = net.srv[0].client("op")
    oper(op)
    op.send("SQUIT b.test :testing splits")
    alice.expect(r"^:bob!\S+ QUIT :\*\.net \*\.split$")
    bob.expect(r"^:alice!\S+ QUIT :\*\.net \*\.split$")
    # autoconnect links again; each side sees the other come back
    alice.expect(r"^:bob!\S+ JOIN #split", timeout=15)
    bob.expect(r"^:alice!\S+ JOIN #split", timeout=15)
    alice.send("PRIVMSG #split :after")
    bob.expect(r"PRIVMSG #split :after$")


def test_oper_kills_a_user_on_another_server():
    net = Net(2, [(0, 1)])
    net.wait_linked(0, ["a.test", "b.test"])
    bob = net.srv[1].client("bob")
    watcher = net.srv[1].client("watcher")
    joined(bob, "#k")
    joined(watcher, "#k")
    op = net.srv[0].client("op")
    oper(op)
    sees(op, "#k", "bob")
    op.send("KILL bob :spamming")
    bob.expect(r"^ERROR :.*Killed .*spamming")
    watcher.expect(r"^:bob!\S+ QUIT :Killed .*spamming")
    gone(op, "bob")


def test_away_crosses_the_link():
    net = Net(2, [(0, 1)])
    net.wait_linked(0, ["a.test", "b.test"])
    bob = net.srv[1].client("bob")
    alice = net.srv[0].client("alice")
    bob.send("AWAY :at lunch")
    bob.expect(r" 306 ")

    def away():
        alice.send("WHOIS bob")
        return any(re.search(r" 301 alice bob :at lunch", l)
                   for l in alice.lines_until(r" 318 "))
    wait_for(away, 10, "bob's away message on a.test")
    alice.send("WHOIS bob")
    alice.expect(r" 312 alice bob b\.test :")
    alice.send("PRIVMSG bob :there?")
    alice.expect(r" 301 alice bob :at lunch")
    bob.expect(r"PRIVMSG bob :there\?")


def test_hostile_peer_cannot_crash_or_desync():
    """A peer that speaks TS6 and then sends junk: ignored line by line,
    an unknown command logged once; a leaf that introduces a server ends
    the link, and its users split off."""
    fake = ("link fake.test {\n send-password x\n receive-password "
            "\"%s\"\n}\n" % HASHES["link"])
    net = Net(1, [], top={0: fake})
    s = socket.create_connection(("127.0.0.1", net.lports[0]), timeout=5)
    f = s.makefile("rwb", buffering=0)

    def send(line):
        f.write(line.encode() + b"\r\n")

    def expect(rx, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = f.readline().decode(errors="replace").rstrip("\r\n")
            if not line:
                break
            if re.search(rx, line):
                return line
        raise ErgoTestError("fake peer: no line matching %r" % rx)

    send("PASS %s TS 6 :9ZZ" % LINKPW)
    send("CAPAB :QS EX IE ENCAP TB EUID")
    send("SERVER fake.test 1 :a fake peer")
    expect(r"^SVINFO 6 6 0 :\d+$")
    send("SVINFO 6 6 0 :%d" % int(time.time()))
    send(":9ZZ EUID visitor 1 %d +i v host.example 192.0.2.9 9ZZAAAAAA "
         "* * :a visitor" % int(time.time()))
    for junk in (":9ZZ UID", ":9ZZ SJOIN 123 #c +nt :@9ZZNOSUCH",
                 ":9ZZ KILL 9ZZNOBODY :x", ":9ZZ FROBNICATE a b c",
                 ":9ZZ FROBNICATE again", ":9ZZAAAAAA PRIVMSG #nowhere :x",
                 ":9ZZ TMODE 1 #nochan +o x", ":9ZZBBBBBB QUIT :who?",
                 ":9ZZ EUID visitor 1 1 +i v h 0 9ZZAAAAAA * * :dup",
                 ":9ZZ SJOIN notanumber #x + :9ZZAAAAAA",
                 ":9ZZ BMASK 1 #x q :a!b@c", ":9ZZ TB #x"):
        send(junk)
    c = net.srv[0].client("local")

    def visitor_known():	# the peer's lines and ours arrive apart
        c.send("WHOIS visitor")
        return re.search(r" 312 local visitor fake\.test :a fake peer",
                         "\n".join(c.lines_until(r" 318 ")))
    wait_for(visitor_known, 10, "the fake peer's visitor")
    text = net.srv[0].logtext()
    assert text.count("sent FROBNICATE, which is not implemented") <= 1
    send(":9ZZ SID loop.test 2 0AA :our own SID")
    expect(r"^ERROR :Not a hub")
    c.send("WHOIS visitor")
    c.expect(r" 401 local visitor ")
    s.close()
    net.srv[0].wait_log(r"sent FROBNICATE, which is not implemented")
    assert net.srv[0].logtext().count("sent FROBNICATE") == 1


# ---- Ergo's ranks and modes between our servers ----

def founder(srv, nick, chan):
    """nick registers an account and chan: ChanServ makes it +q."""
    c = srv.client(nick)
    c.send("NS REGISTER pw-%s" % nick)
    c.expect(r"NOTICE %s :Account created" % nick)
    joined(c, chan)
    c.send("CS REGISTER " + chan)
    c.expect(r"^:ChanServ!\S+ MODE %s \+q %s$" % (chan, nick))
    return c


def names_of(c, chan):
    c.send("NAMES " + chan)
    lines = c.lines_until(r" 366 ")
    return " ".join(l.split(" :", 1)[1] for l in lines if " 353 " in l)


def test_ranks_modes_and_extbans_converge_on_a_chain():
    net = Net(3, [(1, 0), (1, 2)])
    for i in range(3):
        net.wait_linked(i, ["a.test", "b.test", "c.test"])
    fo = founder(net.srv[0], "fo", "#r")
    users = {}
    for n in ("ad", "ha", "vo"):
        users[n] = net.srv[2].client(n)
        sees(users[n], "#r", "fo")
        joined(users[n], "#r")
        fo.expect(r"^:%s!\S+ JOIN #r" % n)
    fo.send("MODE #r +ahv ad ha vo")
    for c in users.values():
        c.expect(r"^:fo!\S+ MODE #r \+ahv ad ha vo$")
    fo.send("JOIN #elsewhere")
    fo.expect(r" 366 ")
    fo.send("MODE #r +CMRUuf #elsewhere")
    users["ha"].expect(r"^:fo!\S+ MODE #r \+CMRUuf #elsewhere$")
    fo.send("MODE #r +b m:muted!*@*")
    users["vo"].expect(r"^:fo!\S+ MODE #r \+b m:muted!\*@\*$")
    # every server has the same picture
    for i in range(3):
        w = net.srv[i].client("w%d" % i)
        names = names_of(w, "#r")
        for want in ("&ad", "%ha", "+vo"):
            assert want in names.split(), (i, names)
        w.send("MODE #r")
        mline = w.expect(r" 324 ")
        assert re.search(r" \+CMRU?\S*f\S* #elsewhere", mline) or \
            all(x in mline.split()[4] for x in "CMRUuf"), (i, mline)
        w.send("MODE #r b")
        w.expect(r" 367 w%d #r m:muted!\*@\* " % i)
    # ranks set on the far leaf come back to the founder's server
    users["ad"].send("MODE #r +o ha")
    fo.expect(r"^:ad!\S+ MODE #r \+o ha$")
    users["ad"].send("MODE #r -h ha")
    fo.expect(r"^:ad!\S+ MODE #r -h ha$")
    assert "@ha" in names_of(fo, "#r").split()


def test_burst_carries_ranks_and_ergo_modes():
    net = Net(2, [(0, 1)], auto=False)
    fo = founder(net.srv[0], "fo", "#rb")
    ad = net.srv[0].client("ad")
    joined(ad, "#rb")
    fo.send("MODE #rb +aR ad")
    fo.expect(r"MODE #rb \+aR ad")
    fo.send("MODE #rb +b a:spammer")
    fo.expect(r"MODE #rb \+b a:spammer")
    op = net.srv[0].client("op")
    oper(op)
    op.send("CONNECT b.test")
    net.wait_linked(1, ["a.test", "b.test"])
    net.srv[1].wait_log(r"end of burst from a\.test")
    w = net.srv[1].client("w")
    names = names_of(w, "#rb").split()
    assert "~fo" in names and "&ad" in names, names
    w.send("MODE #rb")
    w.expect(r" 324 w #rb \+\S*R")
    w.send("MODE #rb b")
    w.expect(r" 367 w #rb a:spammer ")


# ---- IRCv3 tags across links ----

def capped(srv, nick, caps, account=None):
    """A client with caps, logged in with SASL PLAIN first if account."""
    c = srv.client()
    c.send("CAP LS 302")
    c.expect(r" CAP \* LS ")
    c.send("NICK %s" % nick)
    c.send("USER %s 0 * :tags" % nick)
    want = caps + (" sasl" if account else "")
    c.send("CAP REQ :%s" % want)
    c.expect(r" CAP \S+ ACK ")
    if account:
        c.send("AUTHENTICATE PLAIN")
        c.expect(r"AUTHENTICATE \+$")
        c.send("AUTHENTICATE " + base64.b64encode(
            ("\0%s\0pw-%s" % (account, account)).encode()).decode())
        c.expect(r" 903 ")
    c.send("CAP END")
    c.expect(r" (376|422) ")
    c.nick = nick
    return c


def tag(line, key):
    m = re.match(r"^@(\S+) ", line)
    assert m, line
    for kv in m.group(1).split(";"):
        k, _, v = kv.partition("=")
        if k == key:
            return v
    return None


def test_msgid_time_account_and_client_tags_cross_a_chain():
    net = Net(3, [(1, 0), (1, 2)])
    for i in range(3):
        net.wait_linked(i, ["a.test", "b.test", "c.test"])
    reg = net.srv[0].client("acct")
    reg.send("NS REGISTER pw-acct")
    reg.expect(r"Account created")
    reg.send("QUIT")
    caps = "message-tags server-time account-tag echo-message"
    s = capped(net.srv[0], "sender", caps, account="acct")
    near = capped(net.srv[0], "near", caps)
    mid = capped(net.srv[1], "mid", caps)
    far = capped(net.srv[2], "far", caps)
    plain = net.srv[2].client("plain")
    for c in (s, near, mid, far, plain):
        joined(c, "#tags")
    for c in (mid, far, plain):
        sees(c, "#tags", "sender")
    for c in (near, mid):
        sees(c, "#tags", "far")
    s.send("@+example.com/x=1 PRIVMSG #tags :hello everyone")
    got = [c.expect(r"PRIVMSG #tags :hello everyone$")
           for c in (s, near, mid, far)]
    ids = set(tag(l, "msgid") for l in got)
    times = set(tag(l, "time") for l in got)
    assert len(ids) == 1 and None not in ids, got
    assert len(times) == 1 and None not in times, got
    for l in got[1:]:
        assert tag(l, "+example.com/x") == "1", l
        assert tag(l, "account") == "acct", l
    assert plain.expect(r"PRIVMSG #tags :hello everyone$").startswith(":")
    # a TAGMSG crosses with its client-only tags
    s.send("@+typing=active TAGMSG #tags")
    l = far.expect(r" TAGMSG #tags$")
    assert tag(l, "+typing") == "active", l
    # private, two hops away: the echo and the delivery share the msgid
    s.send("PRIVMSG far :just you")
    echo = s.expect(r"PRIVMSG far :just you$")
    l = far.expect(r"PRIVMSG far :just you$")
    assert tag(l, "msgid") == tag(echo, "msgid"), (echo, l)
    assert tag(l, "account") == "acct", l
    # and back the other way
    far.send("PRIVMSG #tags :from the far leaf")
    got = [c.expect(r"PRIVMSG #tags :from the far leaf$")
           for c in (far, mid, near, s)]
    assert len(set(tag(l, "msgid") for l in got)) == 1, got


# ---- TLS links with certificate pinning ----

def mkcert(d, name):
    cert, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    p = run_ergo("mkcerts", "--cert", cert, "--key", key, "--host", name)
    assert p.returncode == 0, p.stdout + p.stderr
    with open(cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return cert, key, hashlib.sha256(der).hexdigest()


def tls_net(tmp, pins=None, more="", level="info"):
    """a.test connects to b.test over TLS; each pins the other's
    certificate (or pins[i] instead); more: in both server blocks."""
    certs = [mkcert(tmp, n) for n in ("a.test", "b.test")]
    tports = [free_port(), free_port()]
    extra, top = {}, {}
    for i in range(2):
        o = 1 - i
        extra[i] = (' listen 127.0.0.1:%d { server yes  tls { cert "%s"  '
                    'key "%s" } }\n' % (tports[i], certs[i][0], certs[i][1])
                    + more)
        top[i] = ('link %s.test {\n host 127.0.0.1  port %d\n tls yes  '
                  'certfp %s\n send-password "%s"\n receive-password '
                  '"%s"\n autoconnect %s\n}\n'
                  % ("ab"[o], tports[o], (pins or {}).get(i, certs[o][2]),
                     LINKPW, HASHES["link"], "yes" if i == 0 else "no"))
    return Net(2, [], extra=extra, top=top, level=level)


def test_tls_link_with_pinned_certificates():
    tmp = tempfile.mkdtemp(prefix="ergo-linktls-")
    try:
        net = tls_net(tmp)
        net.wait_linked(0, ["a.test", "b.test"])
        net.wait_linked(1, ["a.test", "b.test"])
        net.srv[0].wait_log(r"connecting to b\.test \(127\.0\.0\.1 port "
                            r"\d+, TLS\)")
        alice = net.srv[0].client("alice")
        bob = net.srv[1].client("bob")
        joined(alice, "#tls")
        sees(bob, "#tls", "alice")
        bob.send("PRIVMSG #tls :over tls")
        joined(bob, "#tls")
        bob.send("PRIVMSG #tls :over tls")
        alice.expect(r"^:bob!\S+ PRIVMSG #tls :over tls$")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_tls_link_idle_past_tls_buffers_still_carries_everything():
    """Both ends' engines (a.test's a client engine, b.test's a server
    one) give their record buffers back while the link is quiet
    (net_tls.c); what crosses it afterwards arrives whole and in order."""
    tmp = tempfile.mkdtemp(prefix="ergo-linktls-")
    gave = r"debug tls gave back \d+ pages of the record buffers"
    try:
        net = tls_net(tmp, more=" timeouts { tls-buffers 1s }\n",
                      level="debug")
        net.wait_linked(0, ["a.test", "b.test"])
        alice = net.srv[0].client("alice")
        bob = net.srv[1].client("bob")
        joined(alice, "#quiet")
        joined(bob, "#quiet")
        sees(bob, "#quiet", "alice")
        # counted at once: the link's last bytes (bob's JOIN) crossed
        # just now, and a release needs a second of silence
        ns = [len(re.findall(gave, s.logtext())) for s in net.srv]
        for s, n in zip(net.srv, ns):
            wait_for(lambda: len(re.findall(gave, s.logtext())) > n, 10,
                     "%s to give back its link's buffers" % s)
        pad = "q" * 400
        bob.send_raw("".join("PRIVMSG #quiet :%d %s\r\n" % (i, pad)
                             for i in range(300)))
        alice.expect(r"PRIVMSG #quiet :299 ", timeout=30)
        got = [int(l.split(" :", 1)[1].split()[0]) for l in alice.received
               if re.search(r" PRIVMSG #quiet :\d+ q{400}$", l)]
        assert got == list(range(300)), (len(got), got[:5], got[-5:])
        alice.send("PRIVMSG #quiet :and back")
        bob.expect(r"PRIVMSG #quiet :and back$")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_tls_link_with_a_wrong_fingerprint_is_ended():
    tmp = tempfile.mkdtemp(prefix="ergo-linktls-")
    try:
        # a pins the wrong certificate for b: a ends it before PASS
        net = tls_net(tmp, pins={0: "ab" * 32})
        net.srv[0].wait_log(r"b\.test \(127\.0\.0\.1\): certificate "
                            r"fingerprint [0-9a-f]{64}, not the link "
                            r"block's (ab){32}")
        net.srv[0].wait_log(r"link with b\.test .* ended: Certificate "
                            r"fingerprint mismatch")
        assert net.links(1) == ["b.test"]
        assert LINKPW not in net.srv[1].logtext()
        # b pins the wrong one for a: b refuses a's SERVER
        os.mkdir(os.path.join(tmp, "2"))
        net = tls_net(os.path.join(tmp, "2"), pins={1: "cd" * 32})
        net.srv[1].wait_log(r"a\.test \(127\.0\.0\.1\): certificate "
                            r"fingerprint [0-9a-f]{64}, not the link "
                            r"block's (cd){32}")
        net.srv[0].wait_log(r"ERROR from b\.test: Certificate fingerprint "
                            r"mismatch")
        assert net.links(0) == ["a.test"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_tls_link_refuses_a_plain_connection():
    tmp = tempfile.mkdtemp(prefix="ergo-linktls-")
    try:
        net = tls_net(tmp)
        net.wait_linked(1, ["a.test", "b.test"])
        # a plain-text connection to b's plain server port naming a.test
        s = socket.create_connection(("127.0.0.1", net.lports[1]),
                                     timeout=5)
        s.sendall(("PASS %s TS 6 :9ZZ\r\nCAPAB :QS EX IE ENCAP TB EUID\r\n"
                   "SERVER a.test 1 :fake\r\n" % LINKPW).encode())
        data = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and b"ERROR" not in data:
            d = s.recv(4096)
            if not d:
                break
            data += d
        s.close()
        assert b"ERROR :TLS required" in data, data
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- K-lines and D-lines across the network ----

def client_from(srv, src, nick):
    """A client of srv connected from the source address src."""
    orig = socket.create_connection

    def cc(addr, timeout=None, source_address=None):
        return orig(addr, timeout=timeout, source_address=(src, 0))
    ergotest.socket.create_connection = cc
    try:
        c = Client(srv.port)
    finally:
        ergotest.socket.create_connection = orig
    c.register(nick)
    return c


def refused(srv, nick, src="127.0.0.1"):
    """Whether a new client from src is refused as banned (465)."""
    try:
        client_from(srv, src, nick).close()
        return False
    except ErgoTestError as e:
        return " 465 " in str(e) or "ERROR" in str(e)
    except OSError:     # a D-line: refused before a line is read
        return True


def test_klines_and_dlines_propagate_on_a_chain():
    net = Net(3, [(1, 0), (1, 2)])
    for i in range(3):
        net.wait_linked(i, ["a.test", "b.test", "c.test"])
    op = net.srv[0].client("op")
    oper(op)
    victim = net.srv[2].client("victim")
    op.send("KLINE 1h *victim@127.0.0.1 :go away")
    op.expect(r"NOTICE op :Added temporary \(1h0m0s\) K-Line for "
              r"\*victim@127\.0\.0\.1|NOTICE op :Added .*K-Line")
    victim.expect(r"^ERROR :.*go away")
    for i in (1, 2):
        net.srv[i].wait_log(r"added temporary K-Line for "
                            r"\*victim@127\.0\.0\.1: go away")
    wait_for(lambda: refused(net.srv[1], "victim"), 10,
             "the K-line on b.test")
    op.send("UNKLINE *victim@127.0.0.1")
    op.expect(r"Removed K-Line")
    net.srv[2].wait_log(r"removed K-Line for \*victim@127\.0\.0\.1")
    net.srv[2].client("victim").close()
    # a D-line of one address, set on the hub
    hubop = net.srv[1].client("hubop")
    oper(hubop)
    far = client_from(net.srv[2], "127.0.0.2", "faraway")
    hubop.send("DLINE 127.0.0.2 :no more")
    hubop.expect(r"Added D-Line for 127\.0\.0\.2")
    far.expect(r"^ERROR :.*no more")
    for i in (0, 2):
        net.srv[i].wait_log(r"added D-Line for 127\.0\.0\.2: no more")
    assert refused(net.srv[0], "again", "127.0.0.2")
    hubop.send("UNDLINE 127.0.0.2")
    hubop.expect(r"Removed D-Line")
    net.srv[0].wait_log(r"removed D-Line for 127\.0\.0\.2")
    client_from(net.srv[0], "127.0.0.2", "back").close()
    # UBAN's address bans are D-lines and go the same way
    op.send("UBAN ADD 127.0.0.3 no thanks")
    op.expect(r"Successfully added UBAN for 127\.0\.0\.3")
    net.srv[2].wait_log(r"added D-Line for 127\.0\.0\.3: no thanks")
    op.send("UBAN DEL 127.0.0.3")
    op.expect(r"Successfully removed ban on 127\.0\.0\.3")
    net.srv[2].wait_log(r"removed D-Line for 127\.0\.0\.3")


def test_statusmsg_reaches_the_ranks_on_every_server():
    """PRIVMSG @#chan / +#chan cross the link (as TS6 sends them) to the
    members of that rank and up there, not to lower ranks; so does a
    plain member's message in a +U channel (to halfops and up)."""
    net = Net(2, [(0, 1)])
    net.wait_linked(0, ["a.test", "b.test"])
    net.wait_linked(1, ["a.test", "b.test"])
    op = net.srv[0].client("opa")
    joined(op, "#st")
    far = {}
    for n in ("opb", "vob", "plb"):
        far[n] = net.srv[1].client(n)
        sees(far[n], "#st", "opa")
        joined(far[n], "#st")
        op.expect(r"^:%s!\S+ JOIN #st" % n)
    op.send("MODE #st +ov opb vob")
    for c in far.values():
        c.expect(r"^:opa!\S+ MODE #st \+ov opb vob$")

    def marker(text):
        """A plain message to everyone: what came before it is all."""
        op.send("PRIVMSG #st :%s" % text)
        return {n: c.lines_until(r"PRIVMSG #st :%s$" % text, timeout=10)
                for n, c in far.items()}

    op.send("PRIVMSG @#st :for ops")
    far["opb"].expect(r"^:opa!\S+ PRIVMSG @#st :for ops$", timeout=10)
    got = marker("m1")
    assert not any("for ops" in l for l in got["vob"] + got["plb"]), got
    op.send("NOTICE +#st :for voices")
    far["opb"].expect(r"^:opa!\S+ NOTICE \+#st :for voices$", timeout=10)
    far["vob"].expect(r"^:opa!\S+ NOTICE \+#st :for voices$", timeout=10)
    got = marker("m2")
    assert not any("for voices" in l for l in got["plb"]), got
    # the other way: from the leaf's op to the hub's op, not its plain
    pla = net.srv[0].client("pla")
    joined(pla, "#st")
    far["opb"].expect(r"^:pla!\S+ JOIN #st", timeout=10)
    far["opb"].send("PRIVMSG @#st :back to ops")
    op.expect(r"^:opb!\S+ PRIVMSG @#st :back to ops$", timeout=10)
    far["opb"].send("PRIVMSG #st :m3")
    lines = pla.lines_until(r"PRIVMSG #st :m3$", timeout=10)
    assert not any("back to ops" in l for l in lines), lines
    # +U: the leaf's plain member reaches the hub's op, not its plain one
    op.send("MODE #st +U")
    far["plb"].expect(r"^:opa!\S+ MODE #st \+U$", timeout=10)
    far["plb"].send("PRIVMSG #st :moderated words")
    op.expect(r"^:plb!\S+ PRIVMSG #st :moderated words$", timeout=10)
    far["opb"].expect(r"^:plb!\S+ PRIVMSG #st :moderated words$")
    far["opb"].send("PRIVMSG #st :m4")
    lines = pla.lines_until(r"PRIVMSG #st :m4$", timeout=10)
    assert not any("moderated words" in l for l in lines), lines


def test_monitor_sees_remote_users_come_rename_and_go():
    """MONITOR on one server: another server's user coming (UID live and
    in a burst), renaming, quitting and split off gives 730/731, and
    MONITOR + and S answer for it."""
    net = Net(2, [(0, 1)])
    net.wait_linked(0, ["a.test", "b.test"])
    net.wait_linked(1, ["a.test", "b.test"])
    w = net.srv[0].client("watcher")
    w.send("MONITOR + farnick,newnick,early")
    w.expect(r" 731 watcher :farnick,newnick,early$|"
             r" 731 watcher :\S*farnick")
    f = net.srv[1].client("farnick")
    w.expect(r"^:a\.test 730 watcher :farnick!~farnick@127\.0\.0\.1$",
             timeout=10)
    w.send("MONITOR S")
    w.expect(r" 730 watcher :farnick!~farnick@127\.0\.0\.1$")
    w.expect(r" 731 watcher :newnick,early$")
    f.send("NICK newnick")
    w.expect(r" 731 watcher :farnick$", timeout=10)
    w.expect(r" 730 watcher :newnick!~farnick@127\.0\.0\.1$", timeout=10)
    f.send("QUIT :bye")
    w.expect(r" 731 watcher :newnick$", timeout=10)
    # a new watcher's MONITOR + answers online for a remote user
    e = net.srv[1].client("early")
    w.expect(r" 730 watcher :early!", timeout=10)
    w2 = net.srv[0].client("watcher2")
    w2.send("CAP REQ :extended-monitor away-notify")
    w2.expect(r"CAP \S+ ACK")
    w2.send("MONITOR + early")
    w2.expect(r" 730 watcher2 :early!~early@127\.0\.0\.1$")
    # extended-monitor: the remote user's AWAY, with no shared channel
    e.send("AWAY :out for lunch")
    w2.expect(r"^:early!~early@127\.0\.0\.1 AWAY :out for lunch$",
              timeout=10)
    # a netsplit: offline; the relink's burst: online again
    op = net.srv[0].client("op")
    oper(op)
    op.send("SQUIT b.test :split test")
    w.expect(r" 731 watcher :early$", timeout=10)
    w2.expect(r" 731 watcher2 :early$", timeout=10)
    op.send("CONNECT b.test")
    w.expect(r" 730 watcher :early!~early@127\.0\.0\.1$", timeout=15)
    e.close()
