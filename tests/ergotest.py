"""ergotest: drive the real ergo binary from Python tests (stdlib only).

    from ergotest import Server, Client, ErgoTestError

    def test_privmsg():
        with Server() as srv:
            a = srv.client("alice")
            b = srv.client("bob")
            a.send("PRIVMSG bob :hi")
            b.expect(r"^:alice!\\S+ PRIVMSG bob :hi$")

Every wait polls with a deadline; nothing sleeps to wait for the server.
The runner (tests/run.py) calls cleanup() after each test, which closes
the clients, stops the servers (by their own PIDs) and removes the
temporary directories that test created.

Environment: ERGO_BIN, the binary under test (default: ergo in the
directory above tests/; a relative ERGO_BIN is taken from the current
directory).
"""

import atexit
import base64
import contextlib
import errno
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time

__all__ = ["Server", "Client", "ErgoTestError", "Skip", "ERGO_BIN",
           "ALLOW_ROOT", "run_ergo", "wait_for", "OPER_PASSWORD",
           "oper_hash", "services_conf", "services_server", "oper_client",
           "ACCOUNT_PASSWORD", "account_client", "attach_client"]

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ERGO_BIN = os.path.abspath(os.environ.get("ERGO_BIN") or
                           os.path.join(_ROOT, "ergo"))

# ERGO_SLOW=N multiplies the start and stop deadlines (`make valgrind`).
_SLOW = float(os.environ.get("ERGO_SLOW") or 1)
START_TIMEOUT = 10.0 * _SLOW
STOP_TIMEOUT = 10.0 * _SLOW
POLL = 0.01

# Sanitizer reports (ASan, LSan, UBSan) and valgrind's (memcheck errors and
# leaks, "==PID== ..."). UBSan's has a file:line:col prefix so a client's
# text containing "runtime error:" is not mistaken for one.
SANITIZER_RE = re.compile(
    r"ERROR: (Address|Leak|UndefinedBehavior|Memory|Thread)Sanitizer"
    r"|^\S+:\d+:\d+: runtime error: "
    r"|^SUMMARY: \w+Sanitizer"
    r"|^==\d+== (Invalid (read|write|free)|Conditional jump|Use of "
    r"uninitialised|Syscall param|Mismatched free|Source and destination "
    r"overlap|\d[\d,]* bytes in [\d,]+ blocks are (definitely|indirectly) "
    r"lost)", re.M)


class ErgoTestError(Exception):
    """A harness-level failure: timeout, server died, sanitizer report."""


class Skip(Exception):
    """Raise to skip a test (reported as SKIP, not counted as failed)."""


# Live objects; cleanup() ends those of a scope. Objects made while
# setup_module() runs belong to the module (the runner sets _scope) and
# live until after teardown_module(); the rest end with their test.
_servers = []
_clients = []
_scope = "test"


def split_line(line):
    """(tags dict, source, command, params) of a received line; tag
    values as sent (escaped)."""
    tags = {}
    if line.startswith("@"):
        t, line = line[1:].split(" ", 1)
        for kv in t.split(";"):
            k, _, v = kv.partition("=")
            tags[k] = v
    src = None
    if line.startswith(":"):
        src, line = line[1:].split(" ", 1)
    head, sep, trailing = line.partition(" :")
    words = head.split(" ")
    ps = words[1:]
    if sep:
        ps.append(trailing)
    return tags, src, words[0], ps


def wait_for(cond, timeout=5.0, what="condition"):
    """Polls cond() until it returns something true; returns that value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise ErgoTestError("timed out after %.1fs waiting for %s"
                                % (timeout, what))
        time.sleep(POLL)


@contextlib.contextmanager
def strace(pid, trace, out):
    """strace -e trace=TRACE attached to process pid while the block
    runs, its lines in the file out (Linux; strace is in scripts/deps.sh's
    test set). Skip if it cannot attach here; detached (SIGINT to it, by
    its PID) when the block ends."""
    import sys
    if not sys.platform.startswith("linux") or not shutil.which("strace"):
        raise Skip("strace (Linux) is not installed")
    err = open(out + ".err", "w+")
    st = subprocess.Popen(["strace", "-y", "-e", "trace=" + trace,
                           "-o", out, "-p", str(pid)],
                          stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    try:
        try:
            wait_for(lambda: "attached" in open(err.name).read() or
                     st.poll() is not None, what="strace attached")
        except ErgoTestError:
            raise Skip("strace did not attach")
        if st.poll() is not None:
            raise Skip("strace cannot attach here: %s"
                       % open(err.name).read().strip())
        yield
    finally:
        if st.poll() is None:
            st.send_signal(signal.SIGINT)
        st.wait(10)
        err.close()


def sanitizer_report(text):
    """Returns the sanitizer report in text, or None."""
    m = SANITIZER_RE.search(text)
    if not m:
        return None
    start = text.rfind("\n", 0, m.start()) + 1
    return text[start:start + 6000]


def run_ergo(*args, cwd=None, env=None, input=None, timeout=30):
    """Runs ERGO_BIN with args (e.g. "checkconfig", "--config", path) to
    completion. Returns a subprocess.CompletedProcess with text stdout and
    stderr. A sanitizer report in either raises ErgoTestError."""
    e = dict(os.environ)
    for k, v in (env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = str(v)
    p = subprocess.run([ERGO_BIN] + [str(a) for a in args], cwd=cwd, env=e,
                       input=input, capture_output=True, timeout=timeout,
                       text=True, errors="replace")
    rep = sanitizer_report(p.stdout + p.stderr)
    if rep:
        raise ErgoTestError("sanitizer report from ergo %s:\n%s"
                            % (" ".join(map(str, args)), rep))
    return p


# ergo run refuses root without server { user } unless told: the tests run
# as root in the sandbox, and Server passes this to every `run` (so
# do tests that start `ergo run` themselves, as root).
ALLOW_ROOT = ["--allow-root"] if os.geteuid() == 0 else []


_given_ports = set()
_ipv6_loopback = None


def _loopbacks():
    """The loopback addresses a test may listen on: 127.0.0.1, and ::1
    where the machine has it (asked once)."""
    global _ipv6_loopback
    if _ipv6_loopback is None:
        try:
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            try:
                s.bind(("::1", 0))
                _ipv6_loopback = True
            finally:
                s.close()
        except OSError:
            _ipv6_loopback = False
    return [(socket.AF_INET, "127.0.0.1")] + \
        ([(socket.AF_INET6, "::1")] if _ipv6_loopback else [])


def _bind_all(port):
    """Binds port on every loopback address at once; returns the sockets
    (the caller closes them), or None if one of them is in use. Port 0:
    the kernel's choice on 127.0.0.1, the same on the others."""
    socks = []
    try:
        for family, addr in _loopbacks():
            s = socket.socket(family, socket.SOCK_STREAM)
            socks.append(s)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
            port = s.getsockname()[1]
        return socks
    except OSError as e:
        for s in socks:
            s.close()
        if e.errno == errno.EADDRINUSE:
            return None
        raise


def free_port():
    """A TCP port that was free a moment ago on 127.0.0.1 and, where the
    machine has it, on ::1 too (a test may listen on [::1]), and not one
    this process was given before (the kernel can hand a just-closed
    port out again, and a test that asks twice before binding either,
    as a linked pair of servers does, would get one port twice), nor
    one another worker of the same run took (run.py's ERGOTEST_PORTS:
    a file per port taken)."""
    claims = os.environ.get("ERGOTEST_PORTS")
    for _ in range(100):
        socks = _bind_all(0)
        if socks is None:
            continue            # free on 127.0.0.1, not on ::1
        port = socks[0].getsockname()[1]
        for s in socks:
            s.close()
        if port in _given_ports:
            continue
        _given_ports.add(port)
        if claims:
            try:
                os.close(os.open(os.path.join(claims, str(port)),
                                 os.O_WRONLY | os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                continue
            except OSError:
                pass    # the run's directory is gone: as without it
        return port
    raise ErgoTestError("no fresh free port in 100 tries")


class Server:
    """One ergo process in its own temporary directory.

    conf:    text appended at top level of the generated config
    server:  text inserted inside the generated server { } block
    config:  whole config text used instead of the generated one;
             "{port}" is replaced by the port (if the text contains "{{",
             str.format(port=...) is used instead, for the escaped style)
    env:     extra environment variables (value None removes one)
    args:    the whole argument list instead of
             ["run", "--config", <dir>/ergo.conf]; as root, --allow-root
             is added to a `run` that lacks it
    fakelag: leave fakelag at its defaults (the generated config turns
             it off otherwise)
    cloaking: leave IP cloaking at its default, on (the generated config
             turns it off, so tests see 127.0.0.1)
    start:   start now; wait: also wait until the port accepts
    """

    def __init__(self, conf="", server="", config=None, env=None, args=None,
                 fakelag=False, start=True, wait=True, cloaking=False):
        self.extra_conf = conf
        self.extra_server = server
        self.config_template = config
        self.env = env or {}
        self.args = args
        self.fakelag = fakelag
        self.cloaking = cloaking
        self.dir = tempfile.mkdtemp(prefix="ergotest-")
        self.conf_path = os.path.join(self.dir, "ergo.conf")
        self.log_path = os.path.join(self.dir, "ergo.log")
        self.proc = None
        self.pid = None
        self.returncode = None
        self.port = free_port()
        self._logf = None
        self._scope = _scope
        _servers.append(self)
        self.write_config()
        if start:
            self.start(wait=wait)

    # -- configuration --

    def config_text(self):
        if self.config_template is not None:
            t = self.config_template
            if "{{" in t:
                return t.format(port=self.port)
            return t.replace("{port}", str(self.port))
        fl = "" if self.fakelag else " fakelag { enabled no }\n"
        # tests see real addresses unless they ask for cloaks
        if not self.cloaking:
            fl += " ip-cloaking { enabled no }\n"
        srv = self.extra_server
        if srv and not srv.endswith("\n"):
            srv += "\n"
        text = ("network { name TestNet }\n"
                "server {\n"
                " name irc.test\n"
                " listen 127.0.0.1:%d\n"
                "%s%s"
                "}\n"
                "datastore { path ircd.db }\n" % (self.port, fl, srv))
        return text + self.extra_conf + ("\n" if self.extra_conf else "")

    def write_config(self, text=None):
        """(Re)writes ergo.conf: the generated text, or text given (e.g.
        before srv.signal(signal.SIGHUP) in a rehash test)."""
        if text is None:
            text = self.config_text()
        tmp = self.conf_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.conf_path)

    # -- process --

    def start(self, wait=True):
        """Starts the server (again, after stop(), in the same directory).
        With wait, returns once the port accepts connections; raises
        ErgoTestError with the log if the server exits or is not ready
        within 10 s. A port stolen since it was picked is retried."""
        if not os.access(ERGO_BIN, os.X_OK):
            raise ErgoTestError("ERGO_BIN %s is not an executable file "
                                "(run make first)" % ERGO_BIN)
        if self.running():
            raise ErgoTestError("server already running (pid %d)"
                                % self.pid)
        for attempt in range(5):
            self._spawn()
            if not wait:
                return self
            try:
                self.wait_ready()
                return self
            except ErgoTestError:
                log = self.logtext()
                if (self.proc.poll() is not None and attempt < 4
                        and self.args is None
                        and "in use" in log.lower()
                        and self._port_taken()):
                    # someone took the port between free_port() and bind
                    self.port = free_port()
                    self.write_config()
                    continue
                raise
        return self

    def _port_taken(self):
        try:
            socks = _bind_all(self.port)
        except OSError:
            return False
        for s in socks or ():
            s.close()
        return socks is None

    def _spawn(self):
        env = dict(os.environ)
        for k, v in self.env.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        args = self.args
        if args is None:
            args = ["run", "--config", self.conf_path]
        args = list(args) + ALLOW_ROOT if args[:1] == ["run"] and \
            "--allow-root" not in args else args
        if self._logf is None:
            self._logf = open(self.log_path, "ab")
        self._logf.write(("--- %s %s\n" % (ERGO_BIN, " ".join(
            map(str, args)))).encode())
        self._logf.flush()
        self.returncode = None
        self.proc = subprocess.Popen([ERGO_BIN] + [str(a) for a in args],
                                     cwd=self.dir, env=env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._logf,
                                     stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def wait_ready(self, timeout=START_TIMEOUT):
        """Polls until self.port accepts a TCP connection."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                raise ErgoTestError(
                    "ergo exited with status %d during startup; log:\n%s"
                    % (self.proc.returncode, self.logtext()))
            try:
                s = socket.create_connection(("127.0.0.1", self.port),
                                             timeout=1)
            except OSError:
                s = None
            if s is not None:
                self._probe_done(s, deadline)
                return
            if time.monotonic() >= deadline:
                self.kill()
                raise ErgoTestError(
                    "ergo did not accept on port %d within %.0fs; log:\n%s"
                    % (self.port, timeout, self.logtext()))
            time.sleep(POLL)

    @staticmethod
    def _probe_done(s, deadline):
        """Ends the readiness probe with QUIT and waits for the server to
        close it, so it no longer counts as an unknown connection (in
        LUSERS, per-IP limits) when the test's first client arrives."""
        try:
            s.sendall(b"QUIT\r\n")
            end = min(deadline, time.monotonic() + 2)
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                if not s.recv(4096):
                    break
        except OSError:
            pass
        finally:
            s.close()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        """Sends sig to this server's own PID."""
        if self.running():
            os.kill(self.pid, sig)

    def stop(self, timeout=STOP_TIMEOUT, check=True):
        """SIGTERM, wait for exit (SIGKILL after timeout: an error).
        Returns the exit status (negative: killed by that signal). Raises
        ErgoTestError if the log holds a sanitizer report (unless not
        check)."""
        if self.proc is None:
            return None
        hung = False
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                hung = True
                self.proc.kill()
                self.proc.wait()
        self.returncode = self.proc.returncode
        if check:
            self.check_log()
            if hung:
                raise ErgoTestError("ergo did not exit within %.0fs of "
                                    "SIGTERM; log:\n%s"
                                    % (timeout, self.logtail()))
        return self.returncode

    def kill(self):
        """SIGKILL (as kill -9 would) and reap; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        self.returncode = self.proc.wait()
        return self.returncode

    def wait_exit(self, timeout=5):
        """Waits for the server to exit by itself; returns its status."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise ErgoTestError("ergo still running after %.1fs" % timeout)
        return self.returncode

    # -- log --

    def logtext(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def logtail(self, n=40):
        return "\n".join(self.logtext().splitlines()[-n:])

    def wait_log(self, pattern, timeout=5):
        """Polls the log until a line re.search()es pattern; returns the
        match object."""
        rx = re.compile(pattern, re.M)
        try:
            return wait_for(lambda: rx.search(self.logtext()), timeout,
                            "log line matching %r" % pattern)
        except ErgoTestError:
            raise ErgoTestError("no log line matching %r within %.1fs; "
                                "log:\n%s" % (pattern, timeout,
                                              self.logtail()))

    def check_log(self):
        rep = sanitizer_report(self.logtext())
        if rep:
            raise ErgoTestError("sanitizer report in %s:\n%s"
                                % (self.log_path, rep))

    # -- clients --

    def client(self, nick=None, **kw):
        """A Client connected to this server; registered if nick given
        (extra keywords go to register(): caps= negotiates them first)."""
        c = Client(self.port)
        if nick is not None:
            c.register(nick, **kw)
        return c

    # -- lifetime --

    def cleanup(self):
        """Stops the server (checking its log) and removes its directory."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.stop()
            elif self.proc is not None:
                self.check_log()
        finally:
            if self._logf is not None:
                self._logf.close()
                self._logf = None
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self.dir, ignore_errors=True)
            if self in _servers:
                _servers.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.cleanup()
        # on an exception the runner's cleanup() keeps the log for the
        # failure report, then removes everything
        return False

    def __repr__(self):
        return "<Server pid=%s port=%s dir=%s>" % (self.pid, self.port,
                                                   self.dir)


class Client:
    """A raw IRC connection. Received lines are kept until consumed by
    expect()/lines_until()/sync(); all of them stay in self.received."""

    def __init__(self, port, host="127.0.0.1", timeout=5):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        # sends may block while the server is slow; never forever
        self.sock.settimeout(10)
        self.buf = b""
        self.pending = []       # received, not yet consumed
        self.received = []      # every line received, for error messages
        self.eof = False
        self.nick = None
        self._sync = 0
        self._scope = _scope
        _clients.append(self)

    # -- sending --

    def send(self, line):
        """Sends one line; CRLF is appended. str or bytes."""
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.sock.sendall(line + b"\r\n")

    def send_raw(self, data):
        """Sends data as is (no CRLF added)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    # -- receiving --

    # A subclass with another transport (TLS, WebSocket) overrides
    # _buffered(), _recv() or _feed(): the waiting in _read() and all
    # that reads lines stay the same.

    def _buffered(self):
        """Whether received bytes wait in the transport, where select()
        does not see them."""
        return False

    def _recv(self):
        """The bytes of one recv() from the socket: b"" at the end of the
        connection, None if what came carries nothing yet (part of a
        record)."""
        try:
            return self.sock.recv(65536)
        except (ConnectionResetError, ConnectionAbortedError):
            return b""

    def _feed(self, data):
        """Received bytes into lines."""
        self.buf += data
        while b"\n" in self.buf:
            raw, self.buf = self.buf.split(b"\n", 1)
            self._add(raw.rstrip(b"\r"))

    def _read(self, deadline):
        """Reads what is available, waiting until deadline for something.
        Returns False on timeout or EOF."""
        while not self.eof:
            if not self._buffered():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                r, _, _ = select.select([self.sock], [], [], left)
                if not r:
                    return False
            data = self._recv()
            if data:
                self._feed(data)
                return True
            if data is not None:
                self.eof = True
        if self.buf:            # a last line without CRLF
            self._add(self.buf)
            self.buf = b""
        return False

    def _add(self, raw):
        line = raw.decode("utf-8", "replace")
        self.pending.append(line)
        self.received.append(line)

    def _describe(self):
        tail = self.received[-60:]
        more = len(self.received) - len(tail)
        s = "".join("  <- %s\n" % l for l in tail)
        if more:
            s = "  ... %d earlier lines\n" % more + s
        return s or "  (nothing received)\n"

    def lines_until(self, pattern, timeout=5):
        """Consumes and returns the pending lines up to and including the
        first one that re.search()es pattern."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        scanned = 0
        while True:
            for i in range(scanned, len(self.pending)):
                if rx.search(self.pending[i]):
                    out = self.pending[:i + 1]
                    del self.pending[:i + 1]
                    return out
            scanned = len(self.pending)
            if not self._read(deadline):
                if self.eof:
                    # the server closed: nothing more will come
                    for i in range(scanned, len(self.pending)):
                        if rx.search(self.pending[i]):
                            out = self.pending[:i + 1]
                            del self.pending[:i + 1]
                            return out
                    raise ErgoTestError(
                        "connection closed while waiting for %r; "
                        "received:\n%s" % (rx.pattern, self._describe()))
                if time.monotonic() >= deadline:
                    raise ErgoTestError(
                        "timed out after %.1fs waiting for %r; "
                        "received:\n%s"
                        % (timeout, rx.pattern, self._describe()))

    def expect(self, pattern, timeout=5):
        """Returns the first pending line that re.search()es pattern,
        consuming the lines before it too."""
        return self.lines_until(pattern, timeout)[-1]

    def expect_numeric(self, num, timeout=5):
        if isinstance(num, int):
            num = "%03d" % num
        return self.expect(r"^:\S+ %s " % re.escape(num), timeout)

    def register(self, nick, user=None, realname="Real Name", timeout=5,
                 caps=None, capver=None):
        """NICK + USER; waits for the end of the MOTD (376 or 422).
        Returns the lines received. Raises if the server refuses.
        With caps (names, a str or a sequence; may be empty), CAP
        negotiation comes first: CAP LS (CAP LS capver if given: 302
        implies cap-notify), CAP REQ of caps and their ACK (a NAK
        raises), CAP END."""
        if caps is not None:
            self.negotiate(caps, capver, timeout)
            self.send("CAP END")
        self.send("NICK %s" % nick)
        self.send("USER %s 0 * :%s" % (user or nick, realname))
        lines = self.lines_until(
            r"^(@\S+ )?:\S+ (376|422|43[1-6]|46[1-5]) |^ERROR ", timeout)
        last = lines[-1]
        if not re.match(r"^(@\S+ )?:\S+ (376|422) ", last):
            raise ErgoTestError("registration as %s failed: %s\n"
                                "received:\n%s"
                                % (nick, last, self._describe()))
        self.nick = nick
        return lines

    def negotiate(self, caps, capver=None, timeout=5):
        """CAP LS [capver] (every line of it), then CAP REQ of caps (a str
        or a sequence of names; none: no REQ) and its ACK, which must
        list exactly caps (a NAK raises). Registration waits for CAP END,
        which is the caller's."""
        if isinstance(caps, str):
            caps = caps.split()
        self.send("CAP LS" if capver is None else "CAP LS %s" % capver)
        self.expect(r" CAP \S+ LS :", timeout)
        if not caps:
            return
        self.send("CAP REQ :" + " ".join(caps))
        l = self.expect(r" CAP \S+ (ACK|NAK) :", timeout)
        if split_line(l)[3][1:] != ["ACK", " ".join(caps)]:
            raise ErgoTestError("CAP REQ :%s not acknowledged: %s\n"
                                "received:\n%s"
                                % (" ".join(caps), l, self._describe()))

    def sync(self, timeout=5):
        """PING/PONG round trip: returns the lines received before the
        PONG (consumed), so a test can assert something did not arrive."""
        self._sync += 1
        token = "sync%d" % self._sync
        self.send("PING :%s" % token)
        lines = self.lines_until(r"^(:\S+ )?PONG( \S+)? :?%s$" % token,
                                 timeout)
        return lines[:-1]

    def closed(self, timeout=5):
        """Waits until the server closes the connection; returns the
        pending lines (consumed)."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if not self._read(deadline) and not self.eof:
                if time.monotonic() >= deadline:
                    raise ErgoTestError(
                        "connection still open after %.1fs; received:\n%s"
                        % (timeout, self._describe()))
        out = self.pending
        self.pending = []
        return out

    def close(self):
        try:
            self.sock.close()
        finally:
            if self in _clients:
                _clients.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False


# ---- operators and accounts (the services and oper tests share them) ----

OPER_PASSWORD = "ergotest oper password"
ACCOUNT_PASSWORD = "pw"         # account_client's and attach_client's
# what the "admin" oper of services_server() may do; "helper" only kills
ADMIN_CAPS = "kill ban chanreg vhosts history samode sajoin"
_oper_hash = None


def oper_hash():
    """The `ergo genpasswd` hash of OPER_PASSWORD, made once a process
    (it takes a while: the hash is slow on purpose)."""
    global _oper_hash
    if _oper_hash is None:
        p = run_ergo("genpasswd", input=OPER_PASSWORD + "\n", timeout=60)
        if p.returncode != 0:
            raise ErgoTestError("ergo genpasswd failed: %s" % p.stderr)
        _oper_hash = [l for l in p.stdout.splitlines()
                      if l.strip()][-1].strip()
    return _oper_hash


def services_conf(caps=ADMIN_CAPS):
    """Config text for two opers with OPER_PASSWORD: "admin" (class
    server-admin, capabilities caps) and "helper" (only kill)."""
    h = oper_hash()
    return ('oper-class helper { capabilities "kill" }\n'
            'oper-class server-admin { capabilities "%s" }\n'
            'oper admin { class server-admin  password "%s" }\n'
            'oper helper { class helper  password "%s" }\n'
            % (caps, h, h))


def services_server(extra="", caps=ADMIN_CAPS, **kw):
    """A Server with services_conf(caps) and extra config text."""
    return Server(conf=services_conf(caps) + extra, **kw)


def oper_client(srv, nick="oo", name="admin"):
    """A client registered as nick and opered up as oper block name."""
    c = srv.client(nick)
    c.send("OPER %s :%s" % (name, OPER_PASSWORD))
    c.expect(r" 381 ")
    return c


def account_client(srv, nick, password=ACCOUNT_PASSWORD, caps=None,
                   always_on=False):
    """A client registered as nick (asking for caps first, if any) that
    registered the account nick with NickServ (and so is logged in to
    it); with NickServ SET ALWAYS-ON on if always_on."""
    c = srv.client(nick, caps=caps or None)
    c.send("NS REGISTER " + password)
    c.expect(r"NickServ!NickServ@localhost NOTICE %s :Account created"
             % re.escape(nick))
    if always_on:
        c.send("NS SET ALWAYS-ON on")
        c.expect(r" NOTICE %s :Your setting for always-on is now on"
                 % re.escape(nick))
    return c


def attach_client(srv, nick, password=ACCOUNT_PASSWORD, caps="sasl",
                  account=None, client=None):
    """A connection (client, else a new plain one) that asks for nick,
    logs in with SASL, then ends CAP negotiation: with multiclient, one
    more session of the account's user (a second device). It logs in as
    account (nick if None) with PLAIN and password, or with EXTERNAL (the
    client's TLS certificate) if password is None. Its welcome is left
    for the test to expect."""
    c = client or srv.client()
    c.send("CAP LS 302")
    c.expect(r" CAP \* LS :")
    c.send("NICK " + nick)
    c.send("USER %s 0 * :second device" % nick)
    c.send("CAP REQ :" + caps)
    c.expect(r" CAP \S+ ACK :")
    c.send("AUTHENTICATE " + ("EXTERNAL" if password is None else "PLAIN"))
    c.expect(r"(^| )AUTHENTICATE \+$")     # after tags with server-time
    if password is None:
        c.send("AUTHENTICATE +")
    else:
        plain = "\0%s\0%s" % (account or nick, password)
        c.send("AUTHENTICATE " + base64.b64encode(plain.encode()).decode())
    c.expect(r" 903 ")
    c.send("CAP END")
    return c


def cleanup(failed=False, scope="test"):
    """Called by the runner after each test (scope "test") and after the
    module (scope None: everything): closes clients, stops servers and
    removes their directories. Returns a text to add to a failure report
    (the log tails of all live servers when failed). Raises ErgoTestError
    if a server's log holds a sanitizer report or a server would not
    stop."""
    report = []
    errors = []
    if failed:
        for s in _servers:
            report.append("--- log of %r (last 40 lines):\n%s"
                          % (s, s.logtail()))
    for c in list(_clients):
        if scope is None or c._scope == scope:
            try:
                c.close()
            except OSError:
                pass
    for s in list(_servers):
        if scope is None or s._scope == scope:
            try:
                s.cleanup()
            except ErgoTestError as e:
                errors.append(str(e))
    if errors:
        raise ErgoTestError("\n".join(errors))
    return "\n".join(report)


@atexit.register
def _cleanup_at_exit():
    """Used without tests/run.py (a script, an interactive session): still
    stop the servers and remove their directories."""
    try:
        cleanup(scope=None)
    except ErgoTestError as e:
        print("ergotest: %s" % e)
