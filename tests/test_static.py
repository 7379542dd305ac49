"""The static musl binary (./ergo-static, from `make static`): it has no
program interpreter, is stripped, is under 1 MiB, and serves clients from
a directory that holds nothing but itself, its config and its data: an
empty chroot when the test runs as root (as in a scratch container), the
same directory as working directory otherwise.

./ergo-static is built by scripts/static.sh when it is missing or older
than a source file (a cached rebuild takes a second or two; the first one
downloads and compiles BearSSL and SQLite, about half a minute).
"""

import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from ergotest import ALLOW_ROOT, Client, ErgoTestError, free_port, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATIC_BIN = os.path.join(ROOT, "ergo-static")
MAX_SIZE = 1024 * 1024          # the target: under 1 MiB stripped
BUILD_TIMEOUT = 600

PT_INTERP = 3
PT_DYNAMIC = 2
SHT_SYMTAB = 2

_procs = []                     # (Popen, log file) started here
_dirs = []


def _sources():
    """Paths whose change makes ./ergo-static stale."""
    names = ["Makefile", "scripts/static.sh"]
    names += [f for f in os.listdir(ROOT) if f.endswith((".c", ".h"))]
    return [os.path.join(ROOT, n) for n in names]


def _stale():
    if not os.path.exists(STATIC_BIN):
        return "missing"
    t = os.path.getmtime(STATIC_BIN)
    newer = [os.path.basename(p) for p in _sources()
             if os.path.exists(p) and os.path.getmtime(p) > t]
    return "older than " + " ".join(sorted(newer)) if newer else None


def setup_module():
    why = _stale()
    if why is None:
        return
    print("ergo-static %s: running sh scripts/static.sh" % why)
    t0 = time.monotonic()
    p = subprocess.run(["sh", "scripts/static.sh"], cwd=ROOT,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT,
                       text=True, errors="replace")
    if p.returncode != 0 or not os.path.exists(STATIC_BIN):
        raise ErgoTestError("sh scripts/static.sh failed (status %d); "
                            "`make static` builds ./ergo-static. Output:\n%s"
                            % (p.returncode, p.stdout[-6000:]))
    print("static.sh took %.1f s; last lines:\n%s"
          % (time.monotonic() - t0,
             "\n".join(p.stdout.rstrip().splitlines()[-2:])))


def teardown_module():
    for proc, logf in _procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        logf.close()
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- ELF

def elf_info(path):
    """Reads an ELF file's program and section headers with struct:
    returns (set of segment types, set of section types)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\x7fELF", "%s is not an ELF file" % path
    cls, enc = data[4], data[5]
    assert cls in (1, 2), "bad ELF class %d" % cls
    end = "<" if enc == 1 else ">"
    if cls == 2:        # ELF64
        phoff, shoff = struct.unpack_from(end + "QQ", data, 0x20)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(
            end + "HHHH", data, 0x36)
    else:               # ELF32
        phoff, shoff = struct.unpack_from(end + "II", data, 0x1c)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(
            end + "HHHH", data, 0x2a)
    segs = set()
    for i in range(phnum):
        segs.add(struct.unpack_from(end + "I", data,
                                    phoff + i * phentsize)[0])
    secs = set()
    for i in range(shnum if shoff else 0):
        secs.add(struct.unpack_from(end + "I", data,
                                    shoff + i * shentsize + 4)[0])
    return segs, secs


def test_static_elf_and_size():
    segs, secs = elf_info(STATIC_BIN)
    assert PT_INTERP not in segs, \
        "ergo-static has a PT_INTERP segment: it is dynamically linked"
    assert SHT_SYMTAB not in secs, "ergo-static is not stripped"
    size = os.path.getsize(STATIC_BIN)
    print("ergo-static: static (no PT_INTERP%s), stripped, %d bytes "
          "(%.1f KiB, %.1f%% of 1 MiB)"
          % ("" if PT_DYNAMIC not in segs else "; static-pie",
             size, size / 1024, 100.0 * size / MAX_SIZE))
    assert size < MAX_SIZE, \
        "ergo-static is %d bytes, over the 1 MiB target" % size


# ---------------------------------------------------------------- run

CONFIG = """network { name TestNet }
server {
 name irc.test
 listen 127.0.0.1:%d
 fakelag { enabled no }
}
datastore { path ircd.db }
"""


class Jail:
    """A directory holding nothing but ergo-static and ergo.conf (and
    then the database ergo makes), where ergo-static runs: chrooted into
    it as root, with it as working directory otherwise. The log goes to
    a file outside it."""

    def __init__(self, extra_server=""):
        self.dir = tempfile.mkdtemp(prefix="ergotest-static-")
        self.logdir = tempfile.mkdtemp(prefix="ergotest-static-log-")
        _dirs.extend([self.dir, self.logdir])
        os.chmod(self.dir, 0o755)
        shutil.copy2(STATIC_BIN, os.path.join(self.dir, "ergo-static"))
        self.port = free_port()
        self.tls_port = free_port()
        with open(os.path.join(self.dir, "ergo.conf"), "w") as f:
            f.write((CONFIG % self.port).replace(
                " name irc.test\n", " name irc.test\n" +
                (extra_server % self.tls_port) + "\n", 1)
                if extra_server else CONFIG % self.port)
        self.log_path = os.path.join(self.logdir, "ergo.log")
        self.chroot = os.geteuid() == 0 and shutil.which("chroot")
        self.proc = None

    def run(self, *args):
        """ergo-static ARGS to completion, in the jail like start()."""
        if self.chroot:
            argv = [self.chroot, self.dir, "/ergo-static"] + list(args)
        else:
            argv = [os.path.join(self.dir, "ergo-static")] + list(args)
        return subprocess.run(argv, cwd=self.dir, env={},
                              capture_output=True, text=True, timeout=60)

    def start(self):
        if self.chroot:
            argv = [self.chroot, self.dir, "/ergo-static", "run",
                    "--config", "/ergo.conf", "--allow-root"]
        else:
            argv = [os.path.join(self.dir, "ergo-static"), "run",
                    "--config", "ergo.conf"] + ALLOW_ROOT
        logf = open(self.log_path, "ab")
        logf.write(("--- %s\n" % " ".join(argv)).encode())
        logf.flush()
        # An empty environment too: nothing from this machine leaks in.
        self.proc = subprocess.Popen(argv, cwd=self.dir, env={},
                                     stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=subprocess.STDOUT)
        _procs.append((self.proc, logf))
        self.wait_ready()

    def logtext(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise ErgoTestError("ergo-static exited with status %d "
                                    "during startup; log:\n%s"
                                    % (self.proc.returncode,
                                       self.logtext()))
            try:
                s = socket.create_connection(("127.0.0.1", self.port),
                                             timeout=1)
            except OSError:
                s = None
            if s is not None:
                # end the probe cleanly, as the harness does
                try:
                    s.sendall(b"QUIT\r\n")
                    s.settimeout(2)
                    while s.recv(4096):
                        pass
                except OSError:
                    pass
                s.close()
                return
            if time.monotonic() >= deadline:
                raise ErgoTestError("ergo-static did not accept on port %d "
                                    "within %ds; log:\n%s"
                                    % (self.port, timeout, self.logtext()))
            time.sleep(0.01)

    def stop(self):
        """SIGTERM to the PID this test started; returns the status."""
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise ErgoTestError("ergo-static did not exit within 10 s of "
                                "SIGTERM; log:\n%s" % self.logtext())

    def listing(self):
        return sorted(os.listdir(self.dir))


def test_static_serves_from_empty_dir():
    jail = Jail()
    how = "chroot" if jail.chroot else "working directory (not root)"
    print("running ergo-static in %s: %s" % (how, jail.dir))
    jail.start()
    with Client(jail.port) as a, Client(jail.port) as b:
        a.register("alice")
        b.register("bob")
        a.send("JOIN #static")
        a.expect(r"^:alice!\S+ JOIN :?#static$")
        b.send("JOIN #static")
        b.expect(r"^:bob!\S+ JOIN :?#static$")
        a.expect(r"^:bob!\S+ JOIN :?#static$")
        a.send("PRIVMSG #static :hello from a static binary")
        b.expect(r"^:alice!\S+ PRIVMSG #static :hello from a static binary$")
        b.send("PRIVMSG alice :and back")
        a.expect(r"^:bob!\S+ PRIVMSG alice :and back$")
        a.send("QUIT :bye")
        b.expect(r"^:alice!\S+ QUIT :")
    rc = jail.stop()
    log = jail.logtext()
    print("log:\n" + log.rstrip())
    assert rc == 0, "ergo-static exited with %d on SIGTERM; log:\n%s" \
        % (rc, log)
    files = jail.listing()
    print("directory after the run: %s" % " ".join(files))
    assert "ircd.db" in files, "no ircd.db in %s: %s" % (jail.dir, files)
    extra = [f for f in files if f not in ("ergo-static", "ergo.conf")
             and not f.startswith("ircd.db")]
    assert not extra, "unexpected files in the directory: %s" % extra

    # Again on the database it made: schema found, not recreated.
    jail.start()
    with Client(jail.port) as c:
        c.register("carol")
    assert jail.stop() == 0, "second run: log:\n%s" % jail.logtext()


def test_static_makes_a_certificate_and_serves_tls_in_an_empty_chroot():
    # No /dev in the jail: key generation (mkcerts) and every TLS engine
    # must be seeded by getrandom(), never run unseeded.
    import ssl
    jail = Jail(' listen 127.0.0.1:%d { tls { cert /c.pem  key /k.pem } }')
    if not jail.chroot:
        jail = Jail(' listen 127.0.0.1:%d { tls { cert c.pem  key k.pem } }')
    r = jail.run("mkcerts", "--cert", "/c.pem" if jail.chroot else "c.pem",
                 "--key", "/k.pem" if jail.chroot else "k.pem",
                 "--host", "localhost")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not os.path.exists(os.path.join(jail.dir, "dev"))
    jail.start()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(jail.dir, "c.pem"))
    with socket.create_connection(("127.0.0.1", jail.tls_port),
                                  timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as t:
            t.sendall(b"NICK tlsstatic\r\nUSER t 0 * :t\r\n")
            buf = b""
            deadline = time.monotonic() + 5
            while b" 001 tlsstatic " not in buf and \
                    time.monotonic() < deadline:
                buf += t.recv(65536)
            assert b" 001 tlsstatic " in buf, buf
    assert jail.stop() == 0, jail.logtext()


def test_static_says_it_has_no_importers():
    """ergo-static leaves Ergo's importers out (doc/static.md): asked for
    one, it says so and where to run it, and fails."""
    for cmd in ("importconf", "importdb"):
        p = subprocess.run([STATIC_BIN, cmd, "/nonexistent/ircd.yaml"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 1, (cmd, p.returncode, p.stderr)
        assert ("ergo: %s is not in this build" % cmd) in p.stderr, p.stderr
        assert ("run `ergo %s` from a regular build" % cmd) in p.stderr


def test_static_sqlite_keeps_what_the_store_uses():
    """scripts/static.sh builds SQLite without much of its grammar and
    library; what the store needs (ALTER TABLE in migrations, foreign-key
    cascades when an account or channel is dropped, upserts, history and
    metadata rows) must still be there. The store's own test modules run
    against ./ergo-static, as a child test run, and must all pass."""
    mods = ["tests/test_store.py", "tests/test_store_ids.py",
            "tests/test_history_persist.py", "tests/test_metadata.py"]
    env = dict(os.environ, ERGO_BIN=STATIC_BIN)
    p = subprocess.run([sys.executable, "tests/run.py"] + mods, cwd=ROOT,
                       env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=110, text=True, errors="replace")
    last = p.stdout.rstrip().splitlines()[-1] if p.stdout.strip() else ""
    print("store tests against ergo-static: %s" % last)
    assert p.returncode == 0 and last.endswith(" 0 failed"), \
        "the store's tests fail against ergo-static:\n%s" % p.stdout[-8000:]
