"""A server holding more than 1,024 descriptors polls only its busy ones
(listeners, its own, new connections, those ready in the last few polls
or waiting to write) in most passes while it is busy, and every one of
them at least ~1 us a descriptor after the last poll over all (net.c's
hot part). What clients see does not change: a quiet client's line is
heard while others keep the server busy and reaches its peer in order;
a client that closes and at once reconnects gets its nick back though
its old connection was quiet; a client that reads slowly gets all its
output in order; a rehash by SIGHUP is seen; and under strace the
server is seen to poll fewer descriptors than it holds in some passes
and all of them in others."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from ergotest import Client, ErgoTestError, Server, Skip, wait_for

FILL = 1100             # idle connections: past net.c's HOT_MIN (1,024)
CONF = ("connection-limits { max-per-ip 0 }\n"
        "timeouts { registration 5m }\n"
        "max-sendq 4m")

# Holds FILL connections open in a process of its own (so this one's
# sockets stay below select()'s 1,024) until its stdin closes.
HOLDER = r"""
import resource, socket, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
print("ready", flush=True)
sys.stdin.read()
"""


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Filled:
    """A server with FILL idle connections from a holder process."""

    def __init__(self):
        self.srv = Server(server=CONF)
        self.holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(self.srv.port), str(FILL)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.holder.stdout.readline()
        if line.strip() != b"ready":
            self.close()
            raise ErgoTestError("the holder did not connect: %r" % line)
        if sys.platform.startswith("linux"):
            wait_for(lambda: nfds(self.srv.pid) > FILL, 10,
                     "the server holds every connection")

    def close(self):
        self.holder.stdin.close()       # ours, by its pipe
        self.holder.wait(10)
        self.holder.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        self.srv.stop()


class Busy(threading.Thread):
    """A client of its own that sends PINGs and reads the PONGs back
    without a pause, so the server's passes keep finding work."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(b"NICK busy\r\nUSER b 0 * :b\r\n")
        self.stop = threading.Event()
        self.pongs = 0
        self.error = None

    def run(self):
        buf = b""
        n = 0
        try:
            while not self.stop.is_set():
                self.sock.sendall(b"".join(b"PING :p%d\r\n" % (n + i)
                                           for i in range(20)))
                n += 20
                while buf.count(b" PONG ") < 20:
                    data = self.sock.recv(65536)
                    if not data:
                        raise ErgoTestError("busy: connection closed")
                    buf += data
                got = [int(x) for x in re.findall(rb" PONG \S+ :?p(\d+)",
                                                  buf)]
                if got != list(range(self.pongs, self.pongs + len(got))):
                    raise ErgoTestError("busy: PONGs out of order")
                self.pongs += len(got)
                buf = buf[buf.rfind(b"\n") + 1:]
        except Exception as e:          # reported by finish()
            self.error = e

    def finish(self):
        self.stop.set()
        self.join(30)
        self.sock.close()
        assert self.error is None, self.error
        assert self.pongs > 0


def test_quiet_client_is_heard_in_order_while_others_keep_it_busy():
    with Filled() as f:
        quiet = f.srv.client("quiet")
        peer = f.srv.client("peer")
        busy = Busy(f.srv.port)
        busy.start()
        try:
            for i in range(200):
                quiet.send("PRIVMSG peer :q%d" % i)
                # busy's PINGs meanwhile: quiet leaves the busy part
                peer.expect(r"PRIVMSG peer :q%d$" % i, timeout=5)
            got = [l for l in peer.received if " PRIVMSG peer :q" in l]
            assert [l.rsplit(":q", 1)[1] for l in got] == \
                [str(i) for i in range(200)]
        finally:
            busy.finish()


def test_reconnect_at_once_gets_its_nick_back_while_busy():
    """A bouncer's connection, quiet while others keep the server busy,
    closes; it reconnects at once with NICK in its first bytes: the old
    connection's end is seen before the new NICK is answered."""
    with Filled() as f:
        busy = Busy(f.srv.port)
        busy.start()
        try:
            for i in range(30):
                n = "back%d" % i
                f.srv.client(n).close()
                s = socket.create_connection(("127.0.0.1", f.srv.port),
                                             timeout=5)
                try:
                    s.sendall(("NICK %s\r\nUSER u 0 * :r\r\n" % n).encode())
                    got = b""
                    deadline = time.monotonic() + 5
                    while not re.search(rb" (001|433) ", got):
                        assert time.monotonic() < deadline, got
                        data = s.recv(4096)
                        assert data, got
                        got += data
                    assert re.search(rb"^:irc\.test 001 %s " % n.encode(),
                                     got, re.M), got
                finally:
                    s.close()
        finally:
            busy.finish()


def test_slow_reader_gets_all_its_output_in_order():
    with Filled() as f:
        slow = Client(f.srv.port)
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        slow.register("slow")
        slow.send("JOIN #big")
        slow.expect(r" 366 slow #big ")
        talker = f.srv.client("talker")
        talker.send("JOIN #big")
        talker.expect(r" 366 talker #big ")
        pad = "y" * 300
        for i in range(1000):
            talker.send("PRIVMSG #big :%d %s" % (i, pad))
        talker.sync()
        slow.expect(r"PRIVMSG #big :999 ", timeout=30)
        got = [int(l.split(":", 2)[2].split()[0]) for l in slow.received
               if " PRIVMSG #big :" in l]
        assert got == list(range(1000))


def test_sighup_rehash_is_seen():
    with Filled() as f:
        busy = Busy(f.srv.port)
        busy.start()
        try:
            f.srv.signal(signal.SIGHUP)
            wait_for(lambda: "configuration reloaded" in f.srv.logtext(),
                     10, "the rehash")
        finally:
            busy.finish()


def test_strace_sees_polls_of_the_busy_part_and_of_all():
    if not sys.platform.startswith("linux") or not shutil.which("strace"):
        raise Skip("strace (Linux) is not installed")
    with Filled() as f:
        busy = Busy(f.srv.port)
        busy.start()
        out = os.path.join(f.srv.dir, "strace.out")
        err = open(os.path.join(f.srv.dir, "strace.err"), "w+")
        st = subprocess.Popen(["strace", "-e", "trace=poll", "-o", out,
                               "-p", str(f.srv.pid)],
                              stdin=subprocess.DEVNULL, stdout=err,
                              stderr=err)
        try:
            try:
                wait_for(lambda: "attached" in open(err.name).read() or
                         st.poll() is not None, what="strace attached")
            except ErgoTestError:
                raise Skip("strace did not attach")
            if st.poll() is not None:
                raise Skip("strace cannot attach here: %s"
                           % open(err.name).read().strip())
            start = busy.pongs
            wait_for(lambda: busy.pongs > start + 2000, 30,
                     "PONGs under strace")
        finally:
            if st.poll() is None:
                st.send_signal(signal.SIGINT)     # detaches; ours, by PID
            st.wait(10)
            err.close()
            busy.finish()
        with open(out) as fo:
            counts = [int(n) for n in
                      re.findall(r"^poll\(.*\], (\d+), -?\d+\)", fo.read(),
                                 re.M)]
        assert counts, "no poll seen"
        assert max(counts) > FILL, max(counts)          # every descriptor
        assert min(counts) < FILL // 10, min(counts)    # the busy part
