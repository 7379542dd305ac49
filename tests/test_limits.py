"""Server limits and the loop's protections: max-sendq (SendQ exceeded),
max-per-ip, max-clients, fakelag (lines delayed, never dropped), the
fakelag input cap (Excess Flood), orderly shutdown on SIGTERM, and an
IPv6 listener (net.c, irc.c, ergo.c)."""

import os
import re
import resource
import signal
import socket
import subprocess
import time

from ergotest import Server, Client, ErgoTestError, Skip, run_ergo, wait_for


def join(c, chan):
    c.send("JOIN %s" % chan)
    c.expect(r"^:\S+ 366 \S+ %s " % re.escape(chan))


def refused(port, timeout=5):
    """Connects and returns the lines received before the server closed
    the connection (raises if it stays open)."""
    c = Client(port)
    return c.closed(timeout=timeout)


# ---------------------------------------------------------------- sendq

def test_sendq_exceeded_drops_slow_reader():
    s = Server(server="max-sendq 4k")
    flooder = s.client("flooder")
    join(flooder, "#flood")
    # a reader that never reads, with a small kernel receive buffer so the
    # server's own output buffer fills quickly
    r = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    r.settimeout(10)
    r.connect(("127.0.0.1", s.port))
    try:
        r.sendall(b"NICK reader\r\nUSER r 0 * :r\r\nJOIN #flood\r\n")
        flooder.expect(r"^:reader!\S+ JOIN :?#flood$")
        line = ("PRIVMSG #flood :" + "x" * 400 + "\r\n").encode()
        deadline = time.monotonic() + 30
        quit_line = None
        while quit_line is None:
            assert time.monotonic() < deadline, \
                "reader never dropped; flooder got:\n%s" % flooder.received
            flooder.send_raw(line * 50)
            try:
                quit_line = flooder.expect(r"^:reader!\S+ QUIT ",
                                           timeout=0.01)
            except ErgoTestError:
                if flooder.eof:
                    raise
        assert re.search(r" QUIT :SendQ exceeded$", quit_line), quit_line
    finally:
        r.close()
    # the server keeps serving: the flooder and newcomers are fine
    flooder.send("PING :after")
    flooder.expect(r"PONG irc\.test :?after$", timeout=10)
    n = s.client("newcomer")
    n.send("PRIVMSG flooder :hello")
    flooder.expect(r"^:newcomer!\S+ PRIVMSG flooder :hello$")


def test_sendq_exceeded_sends_error_line_to_the_client():
    # Replies queued in one pass beyond max-sendq: the client is dropped,
    # and what it gets is "ERROR :SendQ exceeded", not a truncated flood.
    s = Server(server="max-sendq 2k")
    peer = s.client("sqpeer")
    c = s.client("sqbig")
    join(peer, "#sq")
    join(c, "#sq")
    token = "t" * 450
    c.send_raw(("PING :%s\r\n" % token).encode() * 12)  # ~5.5 KB of PONGs
    lines = c.closed(timeout=10)
    assert lines and lines[-1] == "ERROR :SendQ exceeded", lines[-3:]
    l = peer.expect(r"^:sqbig!\S+ QUIT ")
    assert l.endswith(" QUIT :SendQ exceeded"), l
    peer.send("PING :still")
    peer.expect(r"PONG irc\.test :?still$")


def test_sendq_default_allows_normal_bursts():
    s = Server(server="max-sendq 4k")
    a = s.client("burst1")
    b = s.client("burst2")
    # many short replies queued in one pass stay under the cap
    b.send_raw(b"PING :p\r\n" * 40)
    for _ in range(40):
        b.expect(r"PONG irc\.test :?p$")
    a.send("PRIVMSG burst2 :ok")
    b.expect(r"PRIVMSG burst2 :ok$")


# ---------------------------------------------------------------- per-ip

def test_max_per_ip():
    s = Server(server="connection-limits { max-per-ip 2 }")
    c1 = s.client()
    c1.send("PING :first")      # known to the server before the third
    c1.expect(r"PONG irc\.test :?first$")
    c2 = s.client("second")
    lines = refused(s.port)     # silent: accepted, then refused
    assert "ERROR :Too many connections from your IP" in lines, lines
    # the first two are unaffected
    c2.send("PING :ok")
    c2.expect(r"PONG irc\.test :?ok$")
    c1.send("NICK first")
    c1.send("USER f 0 * :f")
    c1.expect_numeric("001")
    # once one leaves, a new connection is accepted
    c1.send("QUIT")
    c1.closed()

    def accepted():
        c = Client(s.port)
        c.send("PING :in")
        try:
            c.expect(r"PONG irc\.test :?in$|^ERROR ", timeout=2)
        except ErgoTestError:
            c.close()
            return None
        if c.received and c.received[-1].startswith("ERROR"):
            c.close()
            return None
        return c
    wait_for(accepted, timeout=5, what="a slot freed by the QUIT")


def test_max_clients():
    s = Server(server="max-clients 2")
    a = s.client("mc1")
    b = s.client()
    b.send("PING :second")      # known to the server before the third
    b.expect(r"PONG irc\.test :?second$")
    lines = refused(s.port)
    assert any(re.match(r"^ERROR :Too many connections", l)
               for l in lines), lines
    a.send("PING :ok")
    a.expect(r"PONG irc\.test :?ok$")
    b.send("NICK mc2")
    b.send("USER u 0 * :x")
    b.expect_numeric("001")


# ---------------------------------------------------------------- fakelag

FAKELAG = ("fakelag { enabled yes  window 1s  burst-limit 3  "
           "messages-per-window 10  cooldown 2s }")


def test_fakelag_delays_but_never_drops():
    s = Server(fakelag=True, server=FAKELAG)
    c = s.client("lagged")
    other = s.client("prompt")
    c.send_raw(b"".join(b"PING :lag%02d\r\n" % i for i in range(20)))
    t_first = None
    got = []
    deadline = time.monotonic() + 15
    while len(got) < 20:
        left = deadline - time.monotonic()
        assert left > 0, "only %d PONGs: %r" % (len(got), got)
        l = c.expect(r"PONG irc\.test :?lag\d\d$", timeout=left)
        if t_first is None:
            t_first = time.monotonic()
            # while c is held back, another client is served at once
            t0 = time.monotonic()
            other.send("PING :quick")
            other.expect(r"PONG irc\.test :?quick$")
            assert time.monotonic() - t0 < 0.5, \
                "fakelag of one client delayed another"
        got.append(int(l[-2:]))
    elapsed = time.monotonic() - t_first
    assert got == list(range(20)), got
    # 17 lines beyond the burst at 10 a second: about 1.7 s
    assert elapsed >= 1.0, "20 lines in %.2fs: not throttled" % elapsed
    assert elapsed <= 10.0, "20 lines took %.2fs" % elapsed


def test_fakelag_several_throttled_clients_each_released_in_turn():
    s = Server(fakelag=True, server=FAKELAG)
    cs = [s.client("lag%d" % i) for i in range(5)]
    for i, c in enumerate(cs):
        c.send_raw(b"".join(b"PING :c%d-%02d\r\n" % (i, j)
                            for j in range(12)))
    for i, c in enumerate(cs):
        got = [int(l[-2:]) for l in c.lines_until(
            r"PONG irc\.test :?c%d-11$" % i, timeout=15)
            if re.search(r"PONG irc\.test :?c%d-\d\d$" % i, l)]
        assert got == list(range(12)), (i, got)


def test_fakelag_burst_is_immediate():
    s = Server(fakelag=True, server=FAKELAG)
    c = s.client("burster")
    t0 = time.monotonic()
    c.send_raw(b"PING :b1\r\nPING :b2\r\nPING :b3\r\n")
    c.expect(r"PONG irc\.test :?b3$")
    assert time.monotonic() - t0 < 0.5, "a burst within the limit was delayed"


def test_fakelag_off_by_default_in_harness():
    s = Server()
    c = s.client("nolag")
    t0 = time.monotonic()
    c.send_raw(b"".join(b"PING :f%02d\r\n" % i for i in range(30)))
    c.expect(r"PONG irc\.test :?f29$")
    assert time.monotonic() - t0 < 1.0


SLOWLAG = ("fakelag { enabled yes  window 1s  burst-limit 3  "
           "messages-per-window 1  cooldown 10s }")
OPER_PASSWORD = "flood gate"


def oper_hash():
    p = run_ergo("genpasswd", input=OPER_PASSWORD + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    return [l for l in p.stdout.splitlines() if l.strip()][-1].strip()


def pings(c, tag, n=40):
    c.send_raw(b"".join(b"PING :%s%02d\r\n" % (tag.encode(), i)
                        for i in range(n)))


def lagged(c, tag, n=40):
    """Whether n PINGs sent at once are still being paced after 3 s (at
    one a second past a burst of 3 they need over 30)."""
    pings(c, tag, n)
    try:
        c.expect(r"PONG irc\.test :?%s%02d$" % (tag, n - 1), timeout=3)
        return False
    except ErgoTestError:
        return True


def test_nofakelag_oper_sends_at_full_speed_others_stay_paced():
    h = oper_hash()
    s = Server(fakelag=True, server=SLOWLAG, conf=(
        'oper bot { class relay  password "%s" }\n'
        'oper mod { class chat-moderator  password "%s"  nofakelag no }'
        % (h, h)))
    bot = s.client("relaybot")
    bot.send("OPER bot :" + OPER_PASSWORD)
    bot.expect_numeric("381")
    pings(bot, "b")
    got = [l for l in bot.lines_until(r"PONG irc\.test :?b39$", timeout=5)
           if re.search(r"PONG irc\.test :?b\d\d$", l)]
    assert len(got) == 40, got          # in order, none lost, at once
    # the exemption is the oper's alone: a client beside it is paced
    plain = s.client("plain")
    assert lagged(plain, "p")
    # an oper block with nofakelag no lifts nothing
    mod = s.client("moder")
    mod.send("OPER mod :" + OPER_PASSWORD)
    mod.expect_numeric("381")
    assert lagged(mod, "m")
    s.wait_log(r"relaybot!\S+ is now an operator \(bot, class relay, "
               r"no fakelag\)")
    # giving up +o gives up the exemption
    bot.send("MODE relaybot -o")
    bot.expect(r"MODE relaybot :?-o$")
    assert lagged(bot, "d")


EXCESS = ("fakelag { enabled yes  window 1s  burst-limit 3  "
          "messages-per-window 10  cooldown 2s  max-recvq 2k }")


def test_excess_flood_drops_client():
    s = Server(fakelag=True, server=EXCESS)
    peer = s.client("efpeer")
    c = s.client("flood")
    join(peer, "#ef")
    join(c, "#ef")
    blast = b"PONG :x\r\n" * 1200        # ~10 KB, far over max-recvq 2k
    try:
        c.send_raw(blast)
    except OSError:
        pass
    c.closed(timeout=5)
    l = peer.expect(r"^:flood!\S+ QUIT ", timeout=5)
    assert "Excess Flood" in l, l
    # the server is fine
    peer.send("PING :ok")
    peer.expect(r"PONG irc\.test :?ok$")


def test_excess_flood_sends_error_line():
    s = Server(fakelag=True, server=EXCESS)
    peer = s.client("efpeer2")
    c = s.client("flood2")
    join(peer, "#ef2")
    join(c, "#ef2")
    chunk = b"PONG :x\r\n" * 220         # ~2 KB a write
    deadline = time.monotonic() + 10
    while not c.eof and time.monotonic() < deadline:
        try:
            c.send_raw(chunk)
        except OSError:
            break
        try:
            c.expect(r"^ERROR ", timeout=0.02)
            break
        except ErgoTestError:
            pass
    c.closed(timeout=5)
    l = peer.expect(r"^:flood2!\S+ QUIT ", timeout=5)
    assert "Excess Flood" in l, l
    errors = [x for x in c.received if x.startswith("ERROR")]
    assert errors, "dropped without an ERROR line; got %r" % c.received[-5:]
    assert "Excess Flood" in errors[0], errors


def test_flood_within_recvq_is_processed_not_dropped():
    s = Server(fakelag=True, server=EXCESS)
    c = s.client("gentle")
    c.send_raw(b"".join(b"PING :g%d\r\n" % i for i in range(12)))
    c.expect(r"PONG irc\.test :?g11$", timeout=10)


# ---------------------------------------------------------------- shutdown

def test_sigterm_orderly_shutdown():
    s = Server()
    a = s.client("shut1")
    b = s.client("shut2")
    join(a, "#bye")
    join(b, "#bye")
    u = s.client()          # not registered
    u.send("NICK halfway")
    u.sync()
    s.signal(signal.SIGTERM)
    for c in (a, b, u):
        lines = c.closed(timeout=10)
        assert any(l.startswith("ERROR ") for l in lines), lines
    assert s.wait_exit(10) == 0, s.logtail()


def test_sigint_orderly_shutdown():
    s = Server()
    a = s.client("int1")
    s.signal(signal.SIGINT)
    lines = a.closed(timeout=10)
    assert any(l.startswith("ERROR ") for l in lines), lines
    assert s.wait_exit(10) == 0, s.logtail()


# ---------------------------------------------------------------- IPv6

def _have_ipv6_loopback():
    try:
        t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        t.bind(("::1", 0))
        return True
    except OSError:
        return False
    finally:
        t.close()


def test_ipv6_listener():
    if not _have_ipv6_loopback():
        raise Skip("no IPv6 loopback on this machine")
    s = Server(config="network { name TestNet }\n"
               "server {\n"
               " name irc.test\n"
               " listen 127.0.0.1:{port}\n"
               " listen [::1]:{port}\n"
               " fakelag { enabled no }\n"
               " ip-cloaking { enabled no }\n"
               "}\n"
               "datastore { path ircd.db }\n")
    v6 = Client(s.port, host="::1")
    assert v6.sock.family == socket.AF_INET6
    v6.send("NICK six")
    v6.send("USER six 0 * :v6")
    l = v6.expect_numeric("001")
    # the host part of the prefix never starts with ':'
    m = re.search(r"six!~six@(\S+)$", l)
    assert m, l
    host = m.group(1)
    assert not host.startswith(":"), host
    assert host.endswith("::1"), host
    v6.expect(r"^:\S+ (376|422) ")
    v4 = s.client("four")
    join(v4, "#mixed")
    join(v6, "#mixed")
    v6.send("PRIVMSG #mixed :over v6")
    l = v4.expect(r"PRIVMSG #mixed :over v6$")
    assert l.startswith(":six!~six@%s " % host), l


def test_throttled_backlog_larger_than_a_line_buffer_keeps_working():
    # A throttled client may have far more than one line buffer (8.7 KB)
    # of input held back (max-recvq allows up to 1m). When fakelag lets a
    # line go while more input arrives, that backlog must not be copied
    # into the fixed-size scratch read buffer.
    s = Server(fakelag=True, server="fakelag { enabled yes  window 1s  "
               "burst-limit 1  messages-per-window 1000  cooldown 10s  "
               "max-recvq 256k }")
    c = s.client("backlog")
    c.send_raw(b"".join(b"PING :b%05d\r\n" % i for i in range(4000)))
    # ~56 KB held back; keep trickling lines in while it drains
    for i in range(4000, 4100):
        c.send("PING :b%05d" % i)
        time.sleep(0.005)
    c.expect(r"PONG irc\.test :?b04099$", timeout=60)
    assert s.running(), s.logtail()
    other = s.client("unharmed")
    other.send("PING :fine")
    other.expect(r"PONG irc\.test :?fine$")


# ---------------------------------------------------------------- EMFILE

class LowFdServer(Server):
    """A server whose hard RLIMIT_NOFILE is tiny, so accept() hits EMFILE
    after a handful of clients (ergo raises only the soft limit)."""

    NOFILE = 24

    def __init__(self, soft=None, **kw):
        self.soft = soft or self.NOFILE
        Server.__init__(self, **kw)

    def _spawn(self):
        lim, soft = self.NOFILE, self.soft
        real = subprocess.Popen

        def popen(*a, **kw):
            kw["preexec_fn"] = lambda: resource.setrlimit(
                resource.RLIMIT_NOFILE, (soft, lim))
            return real(*a, **kw)

        subprocess.Popen = popen
        try:
            Server._spawn(self)
        finally:
            subprocess.Popen = real


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_emfile_pauses_accept_instead_of_spinning():
    s = LowFdServer()
    s.wait_log(r"file descriptor limit %d" % LowFdServer.NOFILE)
    clients = []
    # more connections than descriptors: the rest wait in the backlog
    for i in range(LowFdServer.NOFILE + 6):
        clients.append(Client(s.port))
    s.wait_log(r"pausing new connections", timeout=10)
    t0 = time.monotonic()
    c0 = _cpu_seconds(s.pid)
    time.sleep(2.0)         # measuring idle CPU use: nothing to wait for
    used = _cpu_seconds(s.pid) - c0
    wall = time.monotonic() - t0
    assert used < 0.5 * wall, "server used %.2fs CPU in %.2fs while out " \
        "of descriptors: accept is spinning" % (used, wall)
    # logged once, not once per attempt
    assert len(re.findall(r"pausing new connections", s.logtext())) <= 3, \
        s.logtail()
    # free descriptors: a waiting connection is served once accept resumes
    for c in clients[:-1]:
        c.close()
    last = clients[-1]
    last.register("latecomer", timeout=10)
    last.send("PING :served")
    last.expect(r"PONG irc\.test :?served$")


def test_existing_clients_chat_on_while_accept_is_paused():
    s = LowFdServer()
    a, b = s.client("early1"), s.client("early2")
    for c in (a, b):
        c.send("JOIN #fds")
        c.expect(r" 366 %s #fds " % c.nick)
    waiting = [Client(s.port) for _ in range(LowFdServer.NOFILE + 6)]
    s.wait_log(r"pausing new connections", timeout=10)
    # out of descriptors: those already in are served as before
    for i in range(20):
        a.send("PRIVMSG #fds :m%d" % i)
    b.expect(r"PRIVMSG #fds :m19$", timeout=10)
    assert len([l for l in b.received if " PRIVMSG #fds :m" in l]) == 20
    b.send("PING :out-of-fds")
    b.expect(r"PONG irc\.test :?out-of-fds$")
    for c in waiting[:-1]:
        c.close()
    waiting[-1].register("resumed", timeout=10)
    waiting[-1].send("JOIN #fds")
    a.expect(r":resumed!\S+ JOIN #fds", timeout=10)


def test_nofile_soft_limit_raised_to_hard_and_logged():
    s = LowFdServer(soft=16)
    s.wait_log(r"file descriptor limit %d: room for about \d+ clients"
               % LowFdServer.NOFILE)
    with open("/proc/%d/limits" % s.pid) as f:
        row = [l for l in f if l.startswith("Max open files")][0]
    assert row.split()[3] == str(LowFdServer.NOFILE), row


def test_sigpipe_is_ignored():
    # a write to a connection the peer has reset must not kill the server
    s = Server()
    with open("/proc/%d/status" % s.pid) as f:
        ign = [l for l in f if l.startswith("SigIgn:")][0]
    mask = int(ign.split()[1], 16)
    assert mask & (1 << (signal.SIGPIPE - 1)), ign
