"""TS6 interoperability with a real peer: ircd-hybrid 8.2 from Debian
(the ircd-hybrid package, scripts/deps.sh's test set), run here on free
loopback ports with its own config and files, never as the system
service, linked to one of ours: users on both sides talk, a channel's TS
merge, a netsplit and its relink."""

import hashlib
import os
import pwd
import re
import shutil
import signal
import ssl
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
%(serverinfo)s};
admin { name = "test"; description = "test"; email = "<t@localhost>"; };
class { name = "users"; ping_time = 90 seconds; number_per_ip_local = 100;
	number_per_ip_global = 100; max_number = 100; sendq = 100 kbytes;
	recvq = 2560 bytes; };
class { name = "server"; ping_time = 90 seconds; connectfreq = 5 minutes;
	max_number = 5; sendq = 2 megabytes; };
listen { host = "127.0.0.1"; port = %(cport)d; };
listen { flags = server; host = "127.0.0.1"; port = %(sport)d; };
%(listen)s
auth { user = "*@*"; class = "users"; flags = exceed_limit, can_flood; };
connect {
	name = "a.test"; host = "127.0.0.1"; port = %(aport)d;
	send_password = "%(to_us)s"; accept_password = "%(to_hy)s";
	encrypted = no; hub_mask = "*"; class = "server";
%(connect)s};
%(blocks)s
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
%(listen)s}
datastore { path ircd.db }
logging { method stderr  level info }
oper admin { class server-admin  password "%(oper)s" }
link hybrid.test {
 host 127.0.0.1  port %(sport)d
 send-password "%(to_hy)s"
 receive-password "%(hash)s"
 hub yes
%(link)s}
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

    def __init__(self, serverinfo="", listen="", connect="", blocks="",
                 files=(), aport=1):
        """The strings go into its config (serverinfo {} and connect {}
        for a.test, more listen and blocks), with {dir} and {tport} (a
        free port for a TLS server listener) filled in; files are copied
        into its directory first."""
        # in /tmp itself: the user nobody cannot enter run.py's TMPDIR
        self.dir = tempfile.mkdtemp(prefix="ergo-hybrid-", dir="/tmp"
                                    if os.geteuid() == 0 else None)
        self.cport, self.sport = free_port(), free_port()
        self.tport = free_port()
        # aport: where it connects to a.test (1: it does not)
        for f in files:
            shutil.copy(f, self.dir)
        def fill(t):
            return t.replace("{dir}", self.dir).replace(
                "{tport}", str(self.tport))
        path = os.path.join(self.dir, "ircd.conf")
        with open(path, "w") as f:
            f.write(HYCONF % {"cport": self.cport, "sport": self.sport,
                              "to_us": TO_US, "to_hy": TO_HY,
                              "aport": aport, "serverinfo": fill(serverinfo),
                              "listen": fill(listen),
                              "connect": fill(connect),
                              "blocks": fill(blocks)})
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


def ours_conf(port, listen="", link=""):
    return OURS % {"sport": port, "to_hy": TO_HY, "hash": HASHES["link"],
                   "oper": HASHES["oper"], "listen": listen, "link": link}


def mkcert(d, name):
    """ergo mkcerts' self-signed certificate: paths and SHA-256."""
    cert, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    p = run_ergo("mkcerts", "--cert", cert, "--key", key, "--host", name)
    assert p.returncode == 0, p.stdout + p.stderr
    with open(cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return cert, key, hashlib.sha256(der).hexdigest()


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
    return any(re.search(r" 364 \S+ hybrid\.test ", l)
               for l in c.lines_until(r" 365 "))


def test_ours_and_ircd_hybrid_chat_merge_and_split():
    hy = Hybrid()
    try:
        ours = Server(config=ours_conf(hy.sport))
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
        # our services are users of ours there too (hybrid's UID form)
        hyu.send("WHOIS NickServ")
        assert any(re.search(r" 312 hyuser NickServ a\.test ", l)
                   for l in hyu.lines_until(r" 318 ")), "no NickServ"
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


# ---- TLS, with each end pinning the other's certificate ----

HYOPER = "hybrid oper secret"
HYOPER_BLOCK = """operator { name = "hyop"; user = "*@127.0.0.1"; password = "%s";
	encrypted = no; class = "users";
	flags = kline, unkline, remoteban, connect; };
""" % HYOPER


def tls_pair(tmp, pin=None, hypin=None):
    """hybrid with a TLS server listener pinning our certificate (or
    hypin), and ours connecting to it over TLS pinning hybrid's (or
    pin)."""
    hcert, hkey, hfp = mkcert(tmp, "hybrid.test")
    ocert, okey, ofp = mkcert(tmp, "a.test")
    otport = free_port()        # our TLS server listener, for hybrid
    hy = Hybrid(aport=otport, blocks=HYOPER_BLOCK,serverinfo='\trsa_private_key_file = "{dir}/hybrid.test.key";'
                '\n\ttls_certificate_file = "{dir}/hybrid.test.crt";\n',
                listen='listen { flags = server, tls; host = "127.0.0.1"; '
                'port = {tport}; };\n',
                connect='\ttls_certificate_fingerprint = "%s";\n\tflags = tls;\n'
                % (hypin or ofp.upper()), files=(hcert, hkey))
    listen = (' listen 127.0.0.1:%d { server yes  tls { cert "%s"  key "%s"'
              ' } }\n' % (otport, ocert, okey))
    link = " tls yes  certfp %s\n" % (pin or hfp)
    try:
        ours = Server(config=ours_conf(hy.tport, listen, link))
    except Exception:
        hy.stop()
        raise
    return hy, ours


def test_tls_link_with_ircd_hybrid_pinned_both_ways():
    tmp = tempfile.mkdtemp(prefix="ergo-hytls-")
    hy = None
    try:
        hy, ours = tls_pair(tmp)
        op = ours.client("op")
        oper(op)
        op.send("CONNECT hybrid.test")
        wait_for(lambda: linked(op), 15, "the TLS link with ircd-hybrid")
        ours.wait_log(r"connecting to hybrid\.test \(127\.0\.0\.1 port "
                      r"\d+, TLS\)")
        ours.wait_log(r"link with hybrid\.test \(9HY, 127\.0\.0\.1\) "
                      r"established")
        eru = ours.client("eruser")
        hyu = hy.client("hyuser")
        joined(eru, "#tls")
        joined(hyu, "#tls")
        eru.expect(r"^:hyuser!\S+ JOIN #tls", timeout=10)
        # hyuser's JOIN reaching us does not mean hybrid has read our
        # SJOIN of eruser yet: until it has, hybrid's #tls has no member
        # across the link and a message there stays on hybrid
        wait_for(lambda: "eruser" in names(hyu, "#tls").replace("@", "")
                 .split(), 10, "hybrid to see eruser in #tls")
        hyu.send("PRIVMSG #tls :over tls from hybrid")
        eru.expect(r"^:hyuser!\S+ PRIVMSG #tls :over tls from hybrid$")
        eru.send("PRIVMSG hyuser :over tls from ergo")
        hyu.expect(r"^:eruser!\S+ PRIVMSG hyuser :over tls from ergo$")
        # the other way, hybrid connecting to our TLS server listener
        # (its connect {} says flags = tls), it shows no client
        # certificate (GnuTLS, with this P-256 one and with an RSA one
        # alike): our pin cannot be checked and the link is refused
        op.send("SQUIT hybrid.test :the other way")
        eru.expect(r"^:hyuser!\S+ QUIT :\*\.net \*\.split$")
        hop = hy.client("hop")
        hop.send("OPER hyop :%s" % HYOPER)
        hop.expect(r" 381 ")
        hop.send("CONNECT a.test")
        ours.wait_log(r"hybrid\.test \(127\.0\.0\.1\): certificate "
                      r"fingerprint \(none\), not the link block's", timeout=15)
        ours.wait_log(r"ended: Certificate fingerprint mismatch")
        assert not linked(op)
    except Exception as e:
        raise ErgoTestError("%s\n--- ircd-hybrid's log:\n%s"
                            % (e, hy.log() if hy else ""))
    finally:
        if hy:
            hy.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_tls_link_with_ircd_hybrid_refuses_a_wrong_fingerprint():
    tmp = tempfile.mkdtemp(prefix="ergo-hytls-")
    hy = None
    try:
        hy, ours = tls_pair(tmp, pin="ab" * 32)
        op = ours.client("op")
        oper(op)
        op.send("CONNECT hybrid.test")
        ours.wait_log(r"hybrid\.test \(127\.0\.0\.1\): certificate "
                      r"fingerprint [0-9a-f]{64}, not the link block's "
                      r"(ab){32}", timeout=15)
        ours.wait_log(r"link with hybrid\.test .* ended: Certificate "
                      r"fingerprint mismatch")
        assert not linked(op)
        hy.stop()
        # hybrid pins another certificate for us: it refuses our SERVER
        os.mkdir(os.path.join(tmp, "2"))
        hy, ours = tls_pair(os.path.join(tmp, "2"), hypin="CD" * 32)
        op = ours.client("op")
        oper(op)
        op.send("CONNECT hybrid.test")
        ours.wait_log(r"ERROR from hybrid\.test: .*\(Invalid certificate "
                      r"fingerprint\)", timeout=15)
        assert not linked(op)
    except Exception as e:
        raise ErgoTestError("%s\n--- ircd-hybrid's log:\n%s"
                            % (e, hy.log() if hy else ""))
    finally:
        if hy:
            hy.stop()
        shutil.rmtree(tmp, ignore_errors=True)


# ---- K-lines both ways ----

# hybrid sends its opers' K-lines to a.test (cluster) and takes a.test's
# opers' (shared)
KLINE_BLOCKS = """cluster { name = "a.test"; type = kline, unkline; };
shared { name = "a.test"; user = "*@*"; type = kline, unkline; };
""" + HYOPER_BLOCK


def refused_by(port, nick):
    """Whether a new client is refused at registration (465 or ERROR)."""
    try:
        c = Client(port)
    except OSError:
        return True
    try:
        c.register(nick)
    except ErgoTestError as e:
        return " 465 " in str(e) or "ERROR" in str(e)
    c.close()
    return False


def test_klines_cross_between_ours_and_ircd_hybrid():
    hy = Hybrid(blocks=KLINE_BLOCKS)
    try:
        ours = Server(config=ours_conf(hy.sport))
        op = ours.client("op")
        oper(op)
        op.send("CONNECT hybrid.test")
        wait_for(lambda: linked(op), 15, "the link with ircd-hybrid")
        # ours to hybrid: its user is ended and a new one refused
        hyvictim = hy.client("hyvictim")
        op.send("KLINE 1h *hyvictim@127.0.0.1 :go away from hybrid")
        op.expect(r"NOTICE op :Added temporary \(1h\) K-Line")
        hyvictim.expect(r"^ERROR :.*", timeout=10)
        assert refused_by(hy.cport, "hyvictim")
        op.send("UNKLINE *hyvictim@127.0.0.1")
        op.expect(r"Removed K-Line")
        wait_for(lambda: not refused_by(hy.cport, "hyvictim"), 10,
                 "hybrid to lift the K-line")
        # hybrid to ours
        ervictim = ours.client("ervictim")
        hop = hy.client("hop")
        hop.send("OPER hyop :%s" % HYOPER)
        hop.expect(r" 381 ")
        hop.send("KLINE 60 *ervictim@127.0.0.1 :go away from ergo")
        ervictim.expect(r"^ERROR :.*go away from ergo", timeout=10)
        ours.wait_log(r"added temporary K-Line for \*ervictim@127\.0\.0\.1: "
                      r"go away from ergo")
        assert refused_by(ours.port, "ervictim")
        hop.send("UNKLINE *ervictim@127.0.0.1")
        ours.wait_log(r"removed K-Line for \*ervictim@127\.0\.0\.1",
                      timeout=10)
        assert not refused_by(ours.port, "ervictim")
    except Exception as e:
        raise ErgoTestError("%s\n--- ircd-hybrid's log:\n%s" % (e, hy.log()))
    finally:
        hy.stop()
