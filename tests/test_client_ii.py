"""A real client: suckless ii (Debian package ii) talks to ergo through
its FIFOs while a harness Client watches from the other side."""

import errno
import os
import shutil
import subprocess
import tempfile
import time

from ergotest import Server, ErgoTestError, Skip, wait_for

II_BIN = shutil.which("ii")


class II:
    """One ii process; its tree is prefix/127.0.0.1/{in,out,#chan/...}."""

    def __init__(self, port, nick="iinick"):
        if II_BIN is None:
            if shutil.which("apt-get"):
                raise ErgoTestError("ii is not installed: run "
                                    "`sh scripts/deps.sh test` as root "
                                    "(apt-get install ii)")
            raise Skip("ii is not installed and not packaged here")
        self.fifos = {}         # path -> our write end, kept open
        self.prefix = tempfile.mkdtemp(prefix="ergotest-ii-")
        self.srvdir = os.path.join(self.prefix, "127.0.0.1")
        self.stderr = open(os.path.join(self.prefix, "ii.stderr"), "wb")
        self.proc = subprocess.Popen(
            [II_BIN, "-s", "127.0.0.1", "-p", str(port), "-n", nick,
             "-i", self.prefix, "-f", "ii user"],
            stdin=subprocess.DEVNULL, stdout=self.stderr,
            stderr=subprocess.STDOUT)

    def path(self, *parts):
        return os.path.join(self.srvdir, *parts)

    def alive(self):
        if self.proc.poll() is not None:
            raise ErgoTestError("ii exited with status %s; its output:\n%s"
                                % (self.proc.returncode,
                                   self.read(os.path.join(
                                       self.prefix, "ii.stderr"))))

    @staticmethod
    def read(path):
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def write(self, line, *where):
        """Writes line to the in FIFO of the server (no where) or of a
        channel/query directory; waits until ii has it open. The FIFO
        stays open for writing until close(): ii reopens a FIFO at EOF,
        and a line written between its EOF and its close was lost (the
        second JOIN of test_ii_channel_chat_part_quit, once in CI)."""
        fifo = self.path(*(where + ("in",)))
        data = (line + "\n").encode()

        def attempt():
            self.alive()
            if fifo not in self.fifos:
                try:
                    self.fifos[fifo] = os.open(fifo,
                                               os.O_WRONLY | os.O_NONBLOCK)
                except OSError as e:
                    # ENOENT: not made yet; ENXIO: ii is not reading yet
                    if e.errno in (errno.ENOENT, errno.ENXIO):
                        return False
                    raise
            os.write(self.fifos[fifo], data)   # < PIPE_BUF: atomic
            return True
        wait_for(attempt, 5, "ii's FIFO %s" % fifo)

    def wait_out(self, text, *where, timeout=5):
        """Polls an out file until it contains text; returns the file."""
        out = self.path(*(where + ("out",)))

        def has():
            self.alive()
            return text in self.read(out)
        try:
            wait_for(has, timeout, "%r in %s" % (text, out))
        except ErgoTestError:
            raise ErgoTestError("%r not in %s within %ss; it holds:\n%s"
                                % (text, out, timeout, self.read(out)))
        return self.read(out)

    def close(self):
        for fd in self.fifos.values():
            os.close(fd)
        self.fifos.clear()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
        shutil.rmtree(self.prefix, ignore_errors=True)


def _registered(ii):
    # ii logs every numeric's text in the server out file; 001 says
    # "Welcome"; wait for the end of the MOTD to be sure registration
    # finished
    def done():
        ii.alive()
        text = ii.read(ii.path("out"))
        return "Welcome" in text and ("MOTD" in text or "motd" in text)
    try:
        wait_for(done, 10, "ii to register")
    except ErgoTestError:
        raise ErgoTestError("ii did not register within 10s; its server "
                            "out file:\n%s" % ii.read(ii.path("out")))


def test_ii_channel_chat_part_quit():
    srv = Server()
    watcher = srv.client("watcher")
    watcher.send("JOIN #iitest")
    watcher.expect(r"^:\S+ 366 watcher #iitest ")
    watcher.send("JOIN #iitest2")
    watcher.expect(r"^:\S+ 366 watcher #iitest2 ")

    ii = II(srv.port)
    try:
        _registered(ii)
        ii.write("/j #iitest")
        watcher.expect(r"^:iinick!\S+ JOIN :?#iitest$")
        ii.write("/j #iitest2")
        watcher.expect(r"^:iinick!\S+ JOIN :?#iitest2$")

        # harness -> ii
        watcher.send("PRIVMSG #iitest :hello from the harness")
        ii.wait_out("<watcher> hello from the harness", "#iitest")

        # ii -> harness
        ii.write("hello from ii", "#iitest")
        watcher.expect(r"^:iinick!\S+ PRIVMSG #iitest :hello from ii$")

        # /l parts the channel whose FIFO it was written to
        ii.write("/l see you", "#iitest")
        watcher.expect(r"^:iinick!\S+ PART #iitest( :.*)?$")

        # /q quits; the watcher still shares #iitest2 with ii
        ii.write("/q bye now")
        watcher.expect(r"^:iinick!\S+ QUIT :.*bye now")
        lines = watcher.sync()
        assert not any("iinick" in l for l in lines), lines
    finally:
        ii.close()


def test_ii_private_message():
    srv = Server()
    watcher = srv.client("watcher")
    ii = II(srv.port)
    try:
        _registered(ii)
        watcher.send("PRIVMSG iinick :psst, a private word")
        # ii opens a query directory named after the sender
        ii.wait_out("<watcher> psst, a private word", "watcher")
        ii.write("a private answer", "watcher")
        watcher.expect(r"^:iinick!\S+ PRIVMSG watcher :a private answer$")
    finally:
        ii.close()
