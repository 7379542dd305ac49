"""TS6 interoperability with a real peer: ircd-hybrid 8.2 from Debian
(the ircd-hybrid package, scripts/deps.sh's test set), run here on free
loopback ports with its own config and files, never as the system
service, linked to one of ours: users on both sides talk, a channel's TS
merge, a netsplit and its relink."""

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

from ergotest import Client, Server, run_ergo, wait_for, free_port
from ergotest import ErgoTestError, Skip

HYBRID = "/usr/sbin/ircd-hybrid"
OPERPW = "oper secret"
TO_HY, TO_US = "ergo-to-hybrid", "hybrid-to-ergo"
HASHES = {}

HYCONF = """serverinfo {
	name = "hybrid.test";
	sid = "9HY";
	description = "ircd-hybrid peer";
	network_name = "TestNet";
	hub = yes;
	default_max_clients = 100;
};
admin { name = "test"; description = "test"; email = "<t@localhost>"; };
class { name = "users"; ping_time = 90 seconds; number_per_ip_local = 100;
	number_per_ip_global = 100; max_number = 100; sendq = 100 kbytes;
	recvq = 2560 bytes; };
class { name = "server"; ping_time = 90 seconds; connectfreq = 5 minutes;
	max_number = 5; sendq = 2 megabytes; };
listen { host = "127.0.0.1"; port = %(cport)d; };
listen { flags = server; host = "127.0.0.1"; port = %(sport)d; };
auth { user = "*@*"; class = "users"; flags = exceed_limit, can_flood; };
connect {
	name = "a.test"; host = "127.0.0.1"; port = 1;
	send_password = "%(to_us)s"; accept_password = "%(to_hy)s";
	encrypted = no; hub_mask = "*"; class = "server";
};
general { disable_auth = yes; throttle_count = 1000; throttle_time = 1 second;
	ts_max_delta = 5 minutes; };
"""

OURS = """network { name TestNet }
server {
 name a.test
 sid 0AA
 listen 127.0.0.1:{port}
 fakelag { enabled no }
 ip-cloaking { enabled no }
 link-retry 1s
}
datastore { path ircd.db }
logging { method stderr  level info }
oper admin { class server-admin  password "%(oper)s" }
link hybrid.test {
 host 127.0.0.1  port %(sport)d
 send-password "%(to_hy)s"
 receive-password "%(hash)s"
 hub yes
}
"""


def genpasswd(password):
    p = run_ergo("genpasswd", input=password + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    return [l for l in p.stdout.splitlines() if l.strip()][-1].strip()


def setup_module():
    if not os.access(HYBRID, os.X_OK):
        if shutil.which("apt-get"):
            raise ErgoTestError("ircd-hybrid is not installed: run `sh "
                                "scripts/deps.sh test` as root (apt-get "
                                "install ircd-hybrid)")
        raise Skip("ircd-hybrid is not installed and not packaged here")
    HASHES["link"] = genpasswd(TO_US)
    HASHES["oper"] = genpasswd(OPERPW)


class Hybrid:
    """ircd-hybrid on free loopback ports, in a directory of its own; as
    the user nobody when we are root (it refuses to run as root)."""

    def __init__(self):
        # in /tmp itself: the user nobody cannot enter run.py's TMPDIR
        self.dir = tempfile.mkdtemp(prefix="ergo-hybrid-", dir="/tmp"
                                    if os.geteuid() == 0 else None)
        self.cport, self.sport = free_port(), free_port()
        path = os.path.join(self.dir, "ircd.conf")
        with open(path, "w") as f:
            f.write(HYCONF % {"cport": self.cport, "sport": self.sport,
                              "to_us": TO_US, "to_hy": TO_HY})
        argv = [HYBRID, "-foreground", "-configfile", path]
        for opt, name in (("-logfile", "ircd.log"), ("-pidfile", "ircd.pid"),
                          ("-klinefile", "kline.db"),
                          ("-dlinefile", "dline.db"),
                          ("-xlinefile", "xline.db"),
                          ("-resvfile", "resv.db")):
            argv += [opt, os.path.join(self.dir, name)]
        pre = None
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chmod(self.dir, 0o755)
            for root, dirs, files in os.walk(self.dir):
                for n in dirs + files:
                    os.chown(os.path.join(root, n), nobody.pw_uid,
                             nobody.pw_gid)
            os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)

            def pre():
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
        self.out = open(os.path.join(self.dir, "out.log"), "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.out,
                                     stderr=subprocess.STDOUT,
                                     preexec_fn=pre, cwd=self.dir)
        wait_for(self.ready, 20, "ircd-hybrid to listen")

    def ready(self):
        if self.proc.poll() is not None:
            raise ErgoTestError("ircd-hybrid exited (%s): %s"
                                % (self.proc.returncode, self.log()))
        try:
            Client(self.cport).close()
            return True
        except OSError:
            return False

    def log(self):
        text = ""
        for n in ("out.log", "ircd.log"):
            try:
                with open(os.path.join(self.dir, n)) as f:
                    text += f.read()[-3000:]
            except OSError:
                pass
        return text

    def client(self, nick):
        c = Client(self.cport)
        c.register(nick)
        return c

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def oper(c):
    c.send("OPER admin :%s" % OPERPW)
    c.expect(r" 381 ")


def joined(c, chan):
    c.send("JOIN %s" % chan)
    c.expect(r" 366 ")


def names(c, chan):
    c.send("NAMES %s" % chan)
    lines = c.lines_until(r" 366 ")
    return " ".join(l.split(" :", 1)[1] for l in lines if " 353 " in l)


def next_second():
    t = time.time()
    time.sleep(1.05 - (t - int(t)))  # a new TS second, not a server wait


def linked(c):
    c.send("LINKS")
    return "hybrid.test" in "\n".join(c.lines_until(r" 365 "))


def test_ours_and_ircd_hybrid_chat_merge_and_split():
    hy = Hybrid()
    try:
        ours = Server(config=OURS % {"sport": hy.sport, "to_hy": TO_HY,
                                     "hash": HASHES["link"],
                                     "oper": HASHES["oper"]})
        # a channel made on ours first is older than hybrid's
        eru = ours.client("eruser")
        joined(eru, "#merge")
        eru.send("MODE #merge +s")
        eru.expect(r"MODE #merge \+s")
        next_second()
        hyu = hy.client("hyuser")
        joined(hyu, "#merge")
        hyu.send("MODE #merge +i")
        hyu.expect(r"MODE #merge \+i")
        op = ours.client("op")
        oper(op)
        op.send("CONNECT hybrid.test")
        wait_for(lambda: linked(op), 15, "the link with ircd-hybrid")
        ours.wait_log(r"link with hybrid\.test \(9HY, 127\.0\.0\.1\) "
                      r"established")
        # TS merge: ours is older: hyuser loses its op and +i there
        hyu.expect(r"MODE #merge [-+\w]*-\w*i", timeout=10)
        eru.expect(r"^:hyuser!\S+ JOIN #merge", timeout=10)
        wait_for(lambda: "@eruser" in names(hyu, "#merge").split(), 10,
                 "hybrid to see eruser's op")
        for c in (eru, hyu):
            n = names(c, "#merge").split()
            assert "@eruser" in n and "hyuser" in n, n
        # users on both sides talk, in the channel and in private
        hyu.send("PRIVMSG #merge :hello from hybrid")
        eru.expect(r"^:hyuser!~?hyuser@\S+ PRIVMSG #merge :hello from "
                   r"hybrid$")
        eru.send("PRIVMSG #merge :hello from ergo")
        hyu.expect(r"^:eruser!~eruser@\S+ PRIVMSG #merge :hello from ergo$")
        eru.send("PRIVMSG hyuser :just you")
        hyu.expect(r"^:eruser!\S+ PRIVMSG hyuser :just you$")
        hyu.send("PRIVMSG eruser :and back")
        eru.expect(r"^:hyuser!\S+ PRIVMSG eruser :and back$")
        eru.send("TOPIC #merge :set on ergo")
        hyu.expect(r"^:eruser!\S+ TOPIC #merge :set on ergo$")
        # STATUSMSG: @#merge is for ops (none on hybrid's side), +#merge
        # reaches hybrid's voiced user
        eru.send("PRIVMSG @#merge :ops only")
        eru.send("MODE #merge +v hyuser")
        hyu.expect(r"^:eruser!\S+ MODE #merge \+v hyuser$")
        eru.send("PRIVMSG +#merge :voices too")
        lines = hyu.lines_until(r"PRIVMSG \+#merge :voices too$",
                                timeout=10)
        assert not any("ops only" in l for l in lines), lines
        hyu.send("PRIVMSG @#merge :to the ops")
        eru.expect(r"^:hyuser!\S+ PRIVMSG @#merge :to the ops$",
                   timeout=10)
        # netsplit: each side's users quit on the other
        op.send("SQUIT hybrid.test :splitting")
        eru.expect(r"^:hyuser!\S+ QUIT :\*\.net \*\.split$")
        hyu.expect(r"^:eruser!\S+ QUIT :")
        # and a relink brings them back
        op.send("CONNECT hybrid.test")
        eru.expect(r"^:hyuser!\S+ JOIN #merge", timeout=15)
        hyu.expect(r"^:eruser!\S+ JOIN :?#merge", timeout=15)
        hyu.send("PRIVMSG #merge :after the split")
        eru.expect(r"PRIVMSG #merge :after the split$")
    except Exception as e:
        raise ErgoTestError("%s\n--- ircd-hybrid's log:\n%s" % (e, hy.log()))
    finally:
        hy.stop()
