"""Atheme from Debian (atheme-services, its TS6 module protocol/charybdis)
as the services server of a network of ours: a hub a.test with Atheme
linked to it and a leaf b.test, both with services { enabled no }. A user
registers with Atheme's NickServ; SASL on the leaf logs in against
Atheme's accounts (ENCAP SASL routed through the hub). Atheme runs in its
own temp dir with its own config and database, never as the system
service; skipped only if the package is not installed (scripts/deps.sh
installs it)."""

import base64
import os
import re
import shutil
import subprocess
import tempfile

import test_link
from test_link import Net
from ergotest import Skip, wait_for

ATHEME = shutil.which("atheme-services")
SENDPW = "atheme-to-us"      # Atheme's send_password
RECVPW = "us-to-atheme"      # what we send it
STATE = {}

ATHEME_CONF = """loadmodule "modules/protocol/charybdis";
loadmodule "modules/backend/opensex";
loadmodule "modules/crypto/pbkdf2v2";
loadmodule "modules/nickserv/main";
loadmodule "modules/nickserv/register";
loadmodule "modules/nickserv/identify";
loadmodule "modules/nickserv/logout";
loadmodule "modules/nickserv/info";
loadmodule "modules/nickserv/help";
loadmodule "modules/nickserv/enforce";
loadmodule "modules/chanserv/main";
loadmodule "modules/saslserv/main";
loadmodule "modules/saslserv/plain";

serverinfo {
	name = "services.test";
	desc = "Atheme IRC Services";
	numeric = "0SS";
	recontime = 1;
	netname = "TestNet";
	hidehostsuffix = "users.test";
	adminname = "Test Admin";
	adminemail = "root@localhost";
	mta = "/bin/true";
	loglevel = { all; };
	maxlogins = 5;
	maxusers = 5;
	maxnicks = 5;
	maxchans = 5;
	mdlimit = 30;
	emaillimit = 10;
	emailtime = 300;
	auth = none;
	casemapping = rfc1459;
};

uplink "a.test" {
	host = "127.0.0.1";
	port = %(port)d;
	send_password = "%(send)s";
	receive_password = "%(recv)s";
};

nickserv {
	nick = "NickServ";
	user = "NickServ";
	host = "services.test";
	real = "Nickname Services";
};
chanserv {
	nick = "ChanServ";
	user = "ChanServ";
	host = "services.test";
	real = "Channel Services";
};
saslserv {
	nick = "SaslServ";
	user = "SaslServ";
	host = "services.test";
	real = "SASL Authentication Agent";
};

general {
	permissive_mode = no;
	join_chans = no;
	leave_chans = yes;
	uflags = { hidemail; };
	cflags = { verbose; guard; };
	raw = no;
	secure = no;
	flood_msgs = 1000;
	flood_time = 10;
	ratelimit_uses = 1000;
	ratelimit_period = 1;
	kline_time = 7;
	commit_interval = 5;
	default_clone_allowed = 50;
	default_clone_warn = 40;
	uplink_sendq_limit = 1048576;
	language = "en";
};

logfile "%(dir)s/atheme.log" { all; };
"""

OURS = """services { enabled no  server services.test }
link services.test {
 send-password "%s"
 receive-password "%s"
}
"""


def setup_module():
    if ATHEME is None:
        raise Skip("atheme-services is not installed (scripts/deps.sh "
                   "test installs it)")
    test_link.setup_module()
    STATE["hash"] = test_link.genpasswd(SENDPW)


class Atheme:
    """atheme-services in the foreground (-n) in its own temp dir."""

    def __init__(self, port):
        self.dir = tempfile.mkdtemp(prefix="ergotest-atheme-")
        self.conf = os.path.join(self.dir, "atheme.conf")
        with open(self.conf, "w") as f:
            f.write(ATHEME_CONF % {"port": port, "send": SENDPW,
                                   "recv": RECVPW, "dir": self.dir})
        self.out = open(os.path.join(self.dir, "out.txt"), "w")
        self.proc = subprocess.Popen(
            [ATHEME, "-n", "-c", self.conf, "-D", self.dir,
             "-l", os.path.join(self.dir, "atheme.log"),
             "-p", os.path.join(self.dir, "atheme.pid")],
            stdin=subprocess.DEVNULL, stdout=self.out,
            stderr=subprocess.STDOUT, cwd=self.dir)

    def log(self):
        try:
            with open(os.path.join(self.dir, "out.txt")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def network():
    """a.test (hub, Atheme linked to it) <- b.test (leaf)."""
    ours = OURS % (RECVPW, STATE["hash"])
    net = Net(2, [(1, 0)], top={0: ours, 1: "services { enabled no  "
                                        "server services.test }\n"})
    net.wait_linked(1, ["a.test", "b.test"])
    ath = Atheme(net.lports[0])
    try:
        net.srv[0].wait_log(r"end of burst from services\.test", timeout=30)
        net.wait_linked(1, ["a.test", "b.test", "services.test"])
    except Exception:
        print(ath.log()[-4000:])
        ath.stop()
        raise
    return net, ath


def b64(s):
    return base64.b64encode(s.encode()).decode()


def test_register_with_atheme_and_sasl_on_the_leaf():
    net, ath = network()
    try:
        # a user of the hub registers with Atheme's NickServ
        c = net.srv[0].client("alice")
        c.send("PRIVMSG NickServ :REGISTER alice-pass-1 alice@example.org")
        lines = c.lines_until(r"^:NickServ!NickServ@services\.test NOTICE "
                              r"alice :.*alice.* is now registered to",
                              timeout=15)
        # Atheme's ENCAP * SU (before its notice): 900 and +r from us
        assert any(re.search(r" 900 alice alice!\S+ alice :You are now "
                             r"logged in as alice", l) for l in lines), lines
        assert any(re.search(r"MODE alice :\+r", l) for l in lines), lines
        # SASL on the leaf: a wrong password fails, the right one works
        d = net.srv[1].client()
        d.send("CAP LS 302")
        d.send("NICK bob")
        d.send("USER bob 0 * :x")
        lines = d.lines_until(r"CAP \* LS :")
        # what Atheme announced (ENCAP * MECHLIST), not ours
        assert any(re.search(r" sasl=PLAIN( |$)", l) for l in lines), lines
        d.send("CAP REQ :sasl")
        d.expect(r"CAP \S+ ACK")
        d.send("AUTHENTICATE PLAIN")
        d.expect(r"^AUTHENTICATE \+", timeout=10)
        d.send("AUTHENTICATE %s" % b64("alice\0alice\0wrong-pass"))
        d.expect(r" 904 bob :SASL authentication failed", timeout=15)
        d.send("AUTHENTICATE PLAIN")
        d.expect(r"^AUTHENTICATE \+", timeout=10)
        d.send("AUTHENTICATE %s" % b64("alice\0alice\0alice-pass-1"))
        lines = d.lines_until(r" 90[3-7] ", timeout=15)
        assert any(re.search(r" 900 bob bob!\S+ alice :You are now logged "
                             r"in as alice", l) for l in lines), lines
        assert " 903 bob :SASL authentication successful" in lines[-1]
        d.send("CAP END")
        d.expect(r" 001 bob ")
        d.expect(r" (376|422) bob ")
        # both of our servers show the account
        for i, who in ((0, "w0"), (1, "w1")):
            w = net.srv[i].client(who)

            def shown():
                w.send("WHOIS bob")
                return any(re.search(r" 330 %s bob alice " % who, l)
                           for l in w.lines_until(r" 318 "))
            wait_for(shown, 10, "WHOIS 330 on %s" % net.names[i])
        # Atheme has the login too (from our EUID): its LOGOUT logs bob
        # out on the leaf (ENCAP * SU with no account)
        d.send("PRIVMSG NickServ :LOGOUT")
        d.expect(r" 901 bob \S+ :You are now logged out", timeout=15)
        d.expect(r"MODE bob :-r")
        # and IDENTIFY from the leaf through the hub works
        d.send("NS IDENTIFY alice alice-pass-1")
        d.expect(r" 900 bob bob!\S+ alice ", timeout=15)
    except Exception:
        print(ath.log()[-6000:])
        raise
    finally:
        ath.stop()


def test_atheme_regain_renames_users_on_our_servers():
    net, ath = network()
    try:
        a = net.srv[0].client("owner")
        a.send("PRIVMSG NickServ :REGISTER owner-pass-1 o@example.org")
        a.expect(r" 900 owner ", timeout=15)
        a.send("NICK owner2")
        a.expect(r"NICK :?owner2")
        # a user of the leaf takes the account's nick
        m = net.srv[1].client("owner")
        # Atheme has seen it once it answers it
        m.send("PRIVMSG NickServ :HELP")
        m.expect(r"NickServ!\S+ NOTICE owner :", timeout=15)
        a.send("PRIVMSG NickServ :REGAIN owner")
        # Atheme's RSFNC: the leaf renames its user, the hub ours; the
        # hub may get its own before the leaf's NICK: then, as charybdis
        # does, the holder is killed
        m.expect(r"^:owner!\S+ NICK :?Guest\d+|^ERROR ", timeout=15)
        a.expect(r"^:owner2!\S+ NICK :?owner$", timeout=15)
        w = net.srv[1].client("w3")

        def known():
            w.send("WHOIS owner")
            return any(re.search(r" 312 w3 owner a\.test ", l)
                       for l in w.lines_until(r" 318 "))
        wait_for(known, 10, "the leaf to see owner on a.test")
    except Exception:
        print(ath.log()[-6000:])
        raise
    finally:
        ath.stop()
