"""A TLS connection silent for `timeouts { tls-buffers }` gives back the
pages of its record buffers (net_tls.c: only those past any bytes still
live in them); its next records land in fresh pages. Nothing sent or
received across such a release is lost or changed: full 16 KiB records
both ways, a record cut in two with the release between its halves (in
its header, and 10,000 bytes into its body), records waiting for a slow
reader, and a TLS link between servers (tests/test_link.py).

The client speaks TLS through ssl.MemoryBIO, so a test decides which
bytes of which record reach the server when. The release is seen in the
debug log ("gave back N pages ..."): its page count shows how much of
the buffers was live."""

import os
import re
import shutil
import socket
import ssl
import tempfile

import ergotest
from ergotest import Client, ErgoTestError, Server, free_port, run_ergo

D = None
GAVE = re.compile(r"gave back (\d+) pages of the record buffers of (\d+) "
                  r"idle connections")
OBUF = 2048 + 85        # net_tls.c TLS_OBUF: obuf, then ibuf, in 5 pages
PAGES = 5


def setup_module():
    global D
    D = tempfile.mkdtemp(prefix="ergo-tlsidle-")
    r = run_ergo("mkcerts", "--cert", "s.crt", "--key", "s.key", "--host",
                 "localhost", cwd=D)
    assert r.returncode == 0, r.stdout + r.stderr


def teardown_module():
    if D is not None:
        shutil.rmtree(D, ignore_errors=True)


def server():
    tls_port = free_port()
    s = Server(server='listen 127.0.0.1:%d { tls { cert "%s"  key "%s" } }\n'
               ' timeouts { tls-buffers 1s }\n max-sendq 16m'
               % (tls_port, os.path.join(D, "s.crt"),
                  os.path.join(D, "s.key")),
               conf="logging { method stderr  level debug }")
    s.tls_port = tls_port
    return s


def releases(s):
    return [(int(m.group(1)), int(m.group(2)))
            for m in GAVE.finditer(s.logtext())]


def next_release(s, before, timeout=10):
    """The first release logged after the before-th: (pages, conns)."""
    try:
        ergotest.wait_for(lambda: len(releases(s)) > before, timeout,
                          "a release of idle TLS buffers")
    except ErgoTestError:
        raise ErgoTestError("no release within %.0fs; log:\n%s"
                            % (timeout, s.logtail()))
    return releases(s)[before]


class BioClient(Client):
    """An IRC client over TLS whose records it makes itself: record(data)
    is the bytes of one record carrying data, sent when the test says."""

    def __init__(self, port, rcvbuf=None):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw.settimeout(10)
        raw.connect(("127.0.0.1", port))
        self.sock = raw
        self.buf, self.pending, self.received = b"", [], []
        self.eof, self.nick, self._sync = False, None, 0
        self._scope = ergotest._scope
        ergotest._clients.append(self)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out,
                                server_hostname="localhost")
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.sock.sendall(self.out.read())
                data = self.sock.recv(65536)
                if not data:
                    raise ErgoTestError("closed during the handshake")
                self.inc.write(data)
        self.sock.sendall(self.out.read())

    def record(self, data):
        assert len(data) <= 16384
        self.obj.write(data)
        rec = self.out.read()
        assert len(rec) == 5 + int.from_bytes(rec[3:5], "big"), "one record"
        return rec

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        for i in range(0, len(data), 16384):
            self.sock.sendall(self.record(data[i:i + 16384]))

    def send(self, line):
        self.send_raw((line.encode() if isinstance(line, str) else line) +
                      b"\r\n")

    def _plain(self):
        out = b""
        while True:
            try:
                out += self.obj.read(65536)
            except ssl.SSLWantReadError:
                return out
            except ssl.SSLZeroReturnError:
                self.eof = True
                return out

    def _recv(self):
        raw = super()._recv()
        if not raw:
            return b""
        self.inc.write(raw)
        return self._plain() or None    # None: the record is not whole


def lines_16k(chan, first):
    """64 PRIVMSG lines of 256 bytes each: 16,384 bytes, a full record."""
    out = b""
    for i in range(first, first + 64):
        head = b"PRIVMSG %s :%06d " % (chan.encode(), i)
        out += head + b"z" * (254 - len(head)) + b"\r\n"
    assert len(out) == 16384
    return out


def got_numbers(c, chan, n, first=0, timeout=30):
    c.expect(r"PRIVMSG %s :%06d " % (re.escape(chan), first + n - 1),
             timeout=timeout)
    got = []
    for l in c.received:
        m = re.search(r" PRIVMSG %s :(\d{6}) (z*)$" % re.escape(chan), l)
        if m and first <= int(m.group(1)) < first + n:
            assert len(l.split(" :", 1)[1]) == 254 - len(
                "PRIVMSG %s :" % chan), ("changed", l)
            got.append(int(m.group(1)))
    assert got == list(range(first, first + n)), (len(got), got[:5],
                                                  got[-5:])


def pair(s, nick, chan, **kw):
    t = BioClient(s.tls_port, **kw)
    t.register(nick)
    t.send("JOIN " + chan)
    t.expect(r" 366 ")
    w = s.client(nick + "w")
    w.send("JOIN " + chan)
    w.expect(r" 366 ")
    t.expect(r"JOIN %s" % re.escape(chan))
    return t, w


def test_full_records_both_ways_after_the_buffers_were_given_back():
    s = server()
    n0 = len(releases(s))
    t, w = pair(s, "idle1", "#r")
    # idle: all five pages of its buffers go
    assert next_release(s, n0) == (PAGES, 1)
    # a full 16 KiB record (its body spans every page) into fresh pages
    t.sock.sendall(t.record(lines_16k("#r", 0)))
    got_numbers(w, "#r", 64)
    t.sync()
    n1 = len(releases(s))
    assert next_release(s, n1) == (PAGES, 1)
    # a burst the other way: 3,000 lines in 2 KiB records
    pad = b"y" * 200
    w.send_raw(b"".join(b"PRIVMSG #r :%06d %s\r\n" % (i, pad)
                        for i in range(3000)))
    t.expect(r"PRIVMSG #r :002999 ", timeout=60)
    got = [int(l.split(" :", 1)[1].split()[0]) for l in t.received
           if re.search(r" PRIVMSG #r :\d{6} y{200}$", l)]
    assert got == list(range(3000)), (len(got), got[:5], got[-5:])
    # and once more after another release, both ways
    n2 = len(releases(s))
    assert next_release(s, n2) == (PAGES, 1)
    t.send("PRIVMSG #r :after")
    w.expect(r"PRIVMSG #r :after$")
    w.send("PRIVMSG #r :back")
    t.expect(r"PRIVMSG #r :back$")


def test_a_release_between_the_halves_of_a_record_loses_nothing():
    s = server()
    n0 = len(releases(s))
    t, w = pair(s, "idle2", "#h")
    assert next_release(s, n0) == (PAGES, 1)
    # 3 bytes of a record's header, then silence: the page holding them
    # stays, the four after it go
    rec = t.record(b"PRIVMSG #h :first half of a header\r\n")
    n1 = len(releases(s))
    t.sock.sendall(rec[:3])
    assert next_release(s, n1) == (PAGES - 1, 1)
    t.sock.sendall(rec[3:])
    w.expect(r"PRIVMSG #h :first half of a header$")
    t.sync()
    # 10,000 bytes of a 16 KiB record: its first three pages stay
    rec = t.record(lines_16k("#h", 100))
    n2 = len(releases(s))
    t.sock.sendall(rec[:10000])
    kept = (OBUF + 10000 + 4095) // 4096
    assert next_release(s, n2) == (PAGES - kept, 1)
    t.sock.sendall(rec[10000:])
    got_numbers(w, "#h", 64, first=100)
    # a record in many small writes, the engine reading each part
    rec = t.record(lines_16k("#h", 200))
    for i in range(0, len(rec), 1500):
        t.sock.sendall(rec[i:i + 1500])
    got_numbers(w, "#h", 64, first=200)
    t.send("PRIVMSG #h :still fine")
    w.expect(r"PRIVMSG #h :still fine$")


def test_records_waiting_for_a_slow_reader_survive_a_release():
    """The records a full socket did not take wait apart from the
    engine's buffers, which are given back meanwhile."""
    s = server()
    t, w = pair(s, "slow", "#big", rcvbuf=4096)
    n, pad = 8000, b"x" * 440
    w.send_raw(b"".join(b"PRIVMSG #big :%d %s\r\n" % (i, pad)
                        for i in range(n)))
    w.send("PING :sent")
    w.expect(r"PONG \S+ :?sent$", timeout=60)   # all taken, t unread
    n0 = len(releases(s))
    # all five pages, or four if a record was left in the output buffer
    # when the socket filled
    assert next_release(s, n0)[0] >= PAGES - 1
    t.expect(r"PRIVMSG #big :%d " % (n - 1), timeout=60)
    got = [int(l.split(" :", 1)[1].split()[0]) for l in t.received
           if re.search(r" PRIVMSG #big :\d+ x{440}$", l)]
    assert got == list(range(n)), (len(got), got[:5], got[-5:])
    t.send("PING :after")
    t.expect(r"PONG \S+ :?after$")
