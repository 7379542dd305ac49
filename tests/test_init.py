"""ergo under real service managers: the files in distrib/ and ergo.rc,
driven by the real tools (logrotate, runit, s6, dpkg's start-stop-daemon,
OpenRC, busybox syslogd, systemd-analyze, shellcheck), plus the sd_notify
protocol ergo speaks itself.

Each test copies the shipped file it tests, changes only paths and the
user (ergo runs as `nobody`, so no account is created on the machine), and
runs it. Supervisors run as children of the test or inside a private
mount + PID namespace (OpenRC, syslogd), so nothing of the host's state is
touched and whatever a test started dies with it: cleanup kills each
process by its own PID (or the namespace's init), never by name.

These tests need root (they switch to an unprivileged user, mount
namespaces); `scripts/deps.sh test` installs the tools. A test skips only
when its tool is not installed, and says which.
"""

import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

from ergotest import (Client, ErgoTestError, Server, Skip, ERGO_BIN,
                      free_port, sanitizer_report, wait_for)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DISTRIB = os.path.join(ROOT, "distrib")
RUN_TIMEOUT = 30                # for one command of a tool

READY_RE = r"info server \S+ ready: irc\.test"
REHASH_RE = r"info rehash configuration reloaded from "


# ------------------------------------------------------------- helpers

def need(*tools):
    """Skips (saying why) unless every tool is on PATH."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = ("%s not installed (sh scripts/deps.sh test installs it)"
               % ", ".join(missing))
        print("SKIP reason: " + msg)
        raise Skip(msg)


def need_root(why):
    if os.geteuid() != 0:
        msg = "needs root: " + why
        print("SKIP reason: " + msg)
        raise Skip(msg)


def run(argv, check=True, timeout=RUN_TIMEOUT, env=None, **kw):
    """Runs argv to completion; returns the CompletedProcess (text, stderr
    merged into stdout). With check, a non-zero status raises."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors="replace", timeout=timeout, env=e,
                       **kw)
    if check and p.returncode != 0:
        raise ErgoTestError("%s exited %d:\n%s"
                            % (" ".join(argv), p.returncode, p.stdout))
    return p


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def wait_file_match(path, pattern, timeout=10, start=0):
    """Polls until the file's text from offset start has a line that
    re.search()es pattern; returns that line."""
    rx = re.compile(pattern)

    def found():
        for line in read(path)[start:].splitlines():
            if rx.search(line):
                return line
        return None
    try:
        return wait_for(found, timeout, "%r in %s" % (pattern, path))
    except ErgoTestError as e:
        raise ErgoTestError("%s; it holds:\n%s" % (e, read(path)[-3000:]))


def assert_no_sanitizer_report(*paths):
    """Fails if a log the supervised ergo wrote holds an ASan/UBSan/LSan
    report (make asan runs these tests against ./ergo-asan)."""
    for path in paths:
        rep = sanitizer_report(read(path))
        assert not rep, "sanitizer report in %s:\n%s" % (path, rep)


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_accepts(port, timeout=10):
    wait_for(lambda: accepts(port), timeout, "port %d to accept" % port)


def wait_refuses(port, timeout=10):
    try:
        wait_for(lambda: not accepts(port), timeout,
                 "port %d to stop accepting" % port)
    except ErgoTestError as e:
        who = ""
        if shutil.which("ss"):
            who = run(["ss", "-ltnp", "sport = :%d" % port],
                      check=False).stdout
        raise ErgoTestError("%s; listening there:\n%s" % (e, who))


def chat(port, nick="alice"):
    """Registers a client and checks the server answers a PING."""
    c = Client(port)
    try:
        c.register(nick)
        c.sync()
    finally:
        c.close()


def proc_state(pid):
    """The state letter of a process (R, S, Z, ...), or None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def alive(pid):
    """Running: exists and is not a zombie (a stopped daemon stays a
    zombie until whoever adopted it reaps it)."""
    return proc_state(pid) not in (None, "Z", "X")


def wait_dead(pid, timeout=10):
    wait_for(lambda: not alive(pid), timeout, "pid %d to end" % pid)


def children(pid):
    """The PIDs of a process's children (Linux /proc)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def descendants(pid):
    """PIDs of the children of pid, their children, and so on."""
    out, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        out += kids
        todo += kids
    return out


def proc_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def kill_pid(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def nobody():
    """(user, group, uid) of the unprivileged account the tests use."""
    pw = pwd.getpwnam("nobody")
    return pw.pw_name, grp.getgrgid(pw.pw_gid).gr_name, pw.pw_uid


def config_text(port, logging="logging { method stderr  level info }",
                extra=""):
    return ("network { name TestNet }\n"
            "server {\n"
            " name irc.test\n"
            " listen 127.0.0.1:%d\n"
            " fakelag { enabled no }\n"
            "%s"
            "}\n"
            "datastore { path ircd.db }\n"
            "%s\n" % (port, extra, logging))


BROKEN_CONFIG_RE = r"ergo\.conf:\d+:\d+"


class Sandbox:
    """A 0755 temporary directory (so the unprivileged user can reach its
    files) holding a copy of the binary under test, and the processes a
    test started there. close() kills them by PID and removes the tree."""

    def __init__(self, name):
        # in /tmp itself, not $TMPDIR: the runner's is 0700, and the
        # unprivileged user must reach the binary and the config
        if not os.access(ERGO_BIN, os.X_OK):
            raise ErgoTestError("ERGO_BIN %s is not an executable file "
                                "(run make first)" % ERGO_BIN)
        self.dir = tempfile.mkdtemp(prefix="ergotest-%s-" % name,
                                    dir="/tmp")
        try:
            os.chmod(self.dir, 0o755)
            self.bin = os.path.join(self.dir, "bin", "ergo")
            os.mkdir(os.path.dirname(self.bin))
            os.chmod(os.path.dirname(self.bin), 0o755)
            shutil.copy2(ERGO_BIN, self.bin)
            os.chmod(self.bin, 0o755)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self.procs = []         # Popen objects started here
        self.pids = set()       # other PIDs to kill at the end
        self.port = free_port()
        self.user, self.group, self.uid = nobody()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write(self, rel, text, mode=0o644):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def copy_tree(self, src, rel):
        dst = self.path(rel)
        shutil.copytree(src, dst)
        os.chmod(dst, 0o755)
        return dst

    def popen(self, argv, log, **kw):
        f = open(self.path(log), "ab")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f,
                                 stderr=subprocess.STDOUT, **kw)
        finally:
            f.close()
        self.procs.append(p)
        return p

    def close(self):
        # Every process this test started and all their descendants
        # (supervisors' children), collected before any is killed, since
        # orphans are adopted by init and lose their place in the tree.
        pids = set(self.pids)
        for p in self.procs:
            if p.poll() is None:
                pids.update(descendants(p.pid))
        for pid in pids:
            kill_pid(pid)
        for p in reversed(self.procs):
            if p.poll() is None:
                p.kill()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class Namespace:
    """A private mount + PID namespace: `unshare --mount --pid --fork
    --mount-proc --kill-child` running a small init (in Python) that does
    the setup commands, says so, and reaps orphans. run()/popen() enter it
    with nsenter. close() SIGKILLs unshare: its child, the namespace's
    init, gets SIGKILL too (--kill-child), and with it every process in
    the namespace; the mounts go away with the namespace."""

    INIT = r"""
import os, subprocess, sys, time
r = subprocess.run(["sh", "-ec", sys.argv[1]])
if r.returncode != 0:
    print("ns-setup-failed %d" % r.returncode, flush=True)
    sys.exit(1)
print("ns-ready", flush=True)
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.05)
"""

    def __init__(self, box, setup):
        need("unshare", "nsenter")
        self.box = box
        self.logname = "ns-init.log"
        self.proc = box.popen(["unshare", "--mount", "--pid", "--fork",
                               "--mount-proc", "--kill-child",
                               sys.executable, "-c", self.INIT,
                               "set -x\nmount --make-rprivate /\n" + setup],
                              self.logname)
        log = box.path(self.logname)
        try:
            wait_for(lambda: "ns-ready" in read(log) or
                     "ns-setup-failed" in read(log) or
                     self.proc.poll() is not None,
                     15, "the namespace's setup")
        except ErgoTestError as e:
            raise ErgoTestError("%s:\n%s" % (e, read(log)))
        if "ns-ready" not in read(log):
            raise ErgoTestError("namespace setup failed:\n%s" % read(log))
        self.pid = self.init_pid()

    def init_pid(self):
        """The host PID of unshare's child (the namespace's init)."""
        return wait_for(lambda: children(self.proc.pid), 5,
                        "unshare's child")[0]

    def argv(self, cmd):
        # --wd: nsenter would otherwise run cmd in the target's root
        # directory, and relative paths (ircd.db) would land in the
        # host's / (mount namespaces share the filesystem)
        return ["nsenter", "--target", str(self.pid), "--mount", "--pid",
                "--wd=" + self.box.dir, "--"] + cmd

    def run(self, cmd, check=True, timeout=RUN_TIMEOUT, **kw):
        return run(self.argv(cmd), check=check, timeout=timeout, **kw)

    def popen(self, cmd, log):
        return self.box.popen(self.argv(cmd), log)

    def log(self):
        return read(self.box.path(self.logname))

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


# ------------------------------------------------------------ sd_notify

def test_sd_notify_ready_reloading_ready_stopping():
    """ergo speaks systemd's notify protocol itself (Type=notify in
    distrib/systemd/ergo.service): READY=1 once listening, RELOADING=1
    with MONOTONIC_USEC then READY=1 around a SIGHUP rehash, STOPPING=1
    at SIGTERM. The test is the notify socket's other end."""
    d = tempfile.mkdtemp(prefix="ergotest-notify-")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        path = os.path.join(d, "notify")
        sock.bind(path)
        sock.settimeout(10)

        def recv():
            try:
                return sock.recv(4096).decode()
            except socket.timeout:
                raise ErgoTestError("no sd_notify message within 10 s")

        srv = Server(env={"NOTIFY_SOCKET": path})
        msgs = [recv()]
        assert "READY=1" in msgs[0].split("\n"), msgs
        chat(srv.port)

        srv.signal(signal.SIGHUP)
        reload_msg = recv()
        fields = reload_msg.split("\n")
        assert "RELOADING=1" in fields, reload_msg
        mono = [f for f in fields if f.startswith("MONOTONIC_USEC=")]
        assert mono, "RELOADING=1 without MONOTONIC_USEC: %r" % reload_msg
        usec = int(mono[0].split("=", 1)[1])
        now = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
        assert 0 < now - usec < 10e6, (usec, now)
        ready = recv()
        assert "READY=1" in ready.split("\n"), ready
        srv.wait_ready()
        wait_file_match(srv.log_path, REHASH_RE)

        assert srv.stop() == 0
        stopping = recv()
        assert "STOPPING=1" in stopping.split("\n"), stopping
    finally:
        sock.close()
        shutil.rmtree(d, ignore_errors=True)


def test_sd_notify_socket_gone_is_said_once_then_left_alone():
    """start-stop-daemon --notify-await removes its socket once READY=1
    came: ergo must not warn about it at every later rehash."""
    d = tempfile.mkdtemp(prefix="ergotest-notify-")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        path = os.path.join(d, "notify")
        sock.bind(path)
        sock.settimeout(10)
        srv = Server(env={"NOTIFY_SOCKET": path})
        assert "READY=1" in sock.recv(4096).decode()
        sock.close()
        os.unlink(path)
        for n in (1, 2, 3):
            srv.signal(signal.SIGHUP)
            wait_for(lambda: srv.logtext().count(
                "configuration reloaded") >= n, 10, "rehash %d" % n)
        log = srv.logtext()
        assert log.count("NOTIFY_SOCKET %s is gone" % path) == 1, log
        assert "warn server NOTIFY_SOCKET" not in log, log
        assert srv.stop() == 0
    finally:
        sock.close()
        shutil.rmtree(d, ignore_errors=True)


# ------------------------------------------------------------ logrotate

def logrotate_conf(logdir, pid):
    """distrib/logrotate/ergo with the test's log directory and a
    postrotate that signals the test's own server."""
    text = read(os.path.join(DISTRIB, "logrotate", "ergo"))
    assert "/var/log/ergo/ergo.log {" in text
    text = text.replace("/var/log/ergo/", logdir + "/")
    text, n = re.subn(r"(?s)postrotate\n.*?endscript",
                      "postrotate\n\t\tkill -HUP %d\n\tendscript" % pid,
                      text)
    assert n == 1, "no postrotate ... endscript in distrib/logrotate/ergo"
    return text


def test_logrotate_rotates_the_live_log_and_hup_reopens_it():
    """The shipped logrotate config (paths and postrotate swapped for the
    test's): logrotate -f renames the running server's log, postrotate's
    HUP makes ergo create a new ergo.log (0640) and write there, while
    ergo.log.1 keeps the old lines; a second rotation compresses."""
    need("logrotate")
    srv = Server(start=False)
    logdir = os.path.join(srv.dir, "log")
    os.mkdir(logdir)
    os.chmod(logdir, 0o750)     # logrotate refuses insecure directories
    log = os.path.join(logdir, "ergo.log")
    srv.extra_conf = "logging { method file  path %s  level info }" % log
    srv.write_config()
    srv.start()
    wait_file_match(log, READY_RE)
    chat(srv.port)

    conf = os.path.join(srv.dir, "logrotate.conf")
    with open(conf, "w") as f:
        f.write(logrotate_conf(logdir, srv.pid))
    os.chmod(conf, 0o644)       # 0664 or not root's: silently ignored
    state = os.path.join(srv.dir, "logrotate.state")

    p = run(["logrotate", "-v", "-f", "-s", state, conf], check=False)
    assert p.returncode == 0, p.stdout
    old = log + ".1"
    assert os.path.exists(old), ("logrotate made no %s:\n%s"
                                 % (old, p.stdout))
    wait_file_match(log, REHASH_RE)     # the new file, after the HUP
    st = os.stat(log)
    assert stat.S_IMODE(st.st_mode) == 0o640, oct(st.st_mode)
    old_text = read(old)
    assert re.search(READY_RE, old_text), old_text
    assert not re.search(REHASH_RE, old_text), old_text
    assert not re.search(READY_RE, read(log)), read(log)
    chat(srv.port, "bob")
    assert srv.running()

    # again: .1 becomes .2.gz (delaycompress), a fresh .1 appears
    before = len(read(log))
    p = run(["logrotate", "-v", "-f", "-s", state, conf], check=False)
    assert p.returncode == 0, p.stdout
    assert os.path.exists(log + ".2.gz"), (os.listdir(logdir), p.stdout)
    assert os.path.exists(old), (os.listdir(logdir), p.stdout)
    wait_file_match(log, REHASH_RE)
    assert len(read(old)) >= before
    assert srv.stop() == 0


# ---------------------------------------------------------------- runit

def service_conf(box, logdir, extra=""):
    return ("ERGO_BIN=%s\nERGO_CONFIG=%s\nERGO_USER=%s\nERGO_GROUP=%s\n"
            "ERGO_HOME=%s\nERGO_LOGDIR=%s\n%s"
            % (box.bin, box.path("ergo.conf"), box.user, box.group,
               box.path("home"), logdir, extra))


def check_home(box):
    st = os.stat(box.path("home"))
    assert st.st_uid == box.uid, st
    assert stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
    db = os.path.join(box.path("home"), "ircd.db")
    wait_for(lambda: os.path.exists(db), 5, "ircd.db in the home")
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600


def test_runit_runsv_supervises_ergo_with_svlogd():
    """distrib/runit/ergo under a standalone `runsv DIR`: ergo runs as the
    unprivileged user and serves a client, svlogd (log/run) writes the
    log, `sv hup` rehashes, a kill -9 is followed by a restart on a new
    PID, `sv down` stops it and `sv exit` ends runsv."""
    need("runsv", "sv", "svlogd", "chpst")
    need_root("runsv's run script switches to the user nobody")
    with Sandbox("runit") as box:
        svc = box.copy_tree(os.path.join(DISTRIB, "runit", "ergo"), "ergo")
        logdir = box.path("log")
        box.write("ergo.conf", config_text(box.port))
        box.write("ergo/conf", service_conf(box, logdir))
        current = os.path.join(logdir, "current")
        runsv = box.popen(["runsv", svc], "runsv.out")

        def sv(*args, check=True):
            return run(["sv"] + list(args) + [svc], check=check)

        def pid():
            m = re.match(r"run: \S+ \(pid (\d+)\)",
                         sv("status", check=False).stdout)
            return int(m.group(1)) if m else None

        try:
            first = wait_for(pid, 10, "sv status to say run")
            box.pids.add(first)
            wait_accepts(box.port)
            chat(box.port)
            wait_file_match(current, READY_RE)
            assert proc_uid(first) == box.uid
            check_home(box)
            st = os.stat(logdir)
            assert stat.S_IMODE(st.st_mode) == 0o750 and \
                st.st_uid == box.uid, st

            mark = len(read(current))
            sv("hup")
            wait_file_match(current, REHASH_RE, start=mark)
            assert pid() == first

            os.kill(first, signal.SIGKILL)
            second = wait_for(lambda: (pid() or first) != first and pid(),
                              10, "runsv to restart ergo")
            box.pids.add(second)
            wait_accepts(box.port)
            chat(box.port, "bob")

            sv("down")
            wait_dead(second)
            wait_refuses(box.port)
            wait_for(lambda: sv("status").stdout.startswith("down: "), 10,
                     "sv status to say down")
            sv("exit")
            runsv.wait(10)
            assert runsv.returncode == 0, read(box.path("runsv.out"))
            assert_no_sanitizer_report(current)
        except Exception:
            print("runsv output:\n%s\nlog:\n%s"
                  % (read(box.path("runsv.out")), read(current)[-3000:]))
            raise
        finally:
            for rel in ("supervise/pid", "log/supervise/pid"):
                txt = read(os.path.join(svc, rel)).strip()
                if txt.isdigit():
                    box.pids.add(int(txt))


# ------------------------------------------------------------------- s6

def test_s6_supervises_ergo_with_readiness_and_s6_log():
    """distrib/s6/ergo in an s6-svscan directory (s6-supervise for it and
    for log/, s6-log): `s6-svwait -U` returns once data/check sees ergo
    listening (so the port accepts at once), `s6-svc -h` rehashes, kill -9
    brings a restart, `s6-svc -d` stops ergo, `s6-svc -x` ends the
    supervisor, `s6-svscanctl -t` the rest."""
    need("s6-svscan", "s6-supervise", "s6-svc", "s6-svstat", "s6-svwait",
         "s6-svscanctl", "s6-notifyoncheck", "s6-setuidgid", "s6-log")
    need_root("the run script switches to the user nobody")
    with Sandbox("s6") as box:
        scan = box.path("scan")
        os.mkdir(scan)
        svc = box.copy_tree(os.path.join(DISTRIB, "s6", "ergo"),
                            "scan/ergo")
        logdir = box.path("log")
        box.write("ergo.conf", config_text(box.port))
        box.write("scan/ergo/conf", service_conf(
            box, logdir, "ERGO_LOG_USER=%s\nERGO_CHECK_PORT=%d\n"
            % (box.user, box.port)))
        current = os.path.join(logdir, "current")
        svscan = box.popen(["s6-svscan", scan], "s6-svscan.out")

        def pid():
            p = run(["s6-svstat", "-o", "up,ready,pid", svc], check=False)
            f = p.stdout.split()
            if p.returncode == 0 and len(f) == 3 and f[0] == "true":
                return int(f[2])
            return None

        try:
            wait_for(lambda: run(["s6-svstat", svc],
                                 check=False).returncode == 0,
                     10, "s6-supervise to run")
            run(["s6-svwait", "-U", "-t", "15000", svc])
            # ready means listening: no waiting for the port here
            assert accepts(box.port), "s6 says ready, port refuses"
            first = pid()
            box.pids.add(first)
            chat(box.port)
            assert proc_uid(first) == box.uid
            assert "true" in run(["s6-svstat", "-o", "ready",
                                  svc]).stdout
            wait_file_match(current, READY_RE)
            check_home(box)

            mark = len(read(current))
            run(["s6-svc", "-h", svc])
            wait_file_match(current, REHASH_RE, start=mark)
            assert pid() == first

            os.kill(first, signal.SIGKILL)
            second = wait_for(lambda: (pid() or first) != first and pid(),
                              10, "s6-supervise to restart ergo")
            box.pids.add(second)
            run(["s6-svwait", "-U", "-t", "15000", svc])
            assert accepts(box.port)
            chat(box.port, "bob")

            run(["s6-svc", "-d", svc])
            run(["s6-svwait", "-d", "-t", "10000", svc])
            wait_dead(second)
            wait_refuses(box.port)
            assert run(["s6-svstat", "-o", "up", svc]).stdout.strip() \
                == "false"

            run(["s6-svc", "-x", svc])
            wait_for(lambda: run(["s6-svstat", svc],
                                 check=False).returncode != 0,
                     10, "s6-supervise ergo to exit")
            run(["s6-svscanctl", "-t", scan])
            svscan.wait(10)
            assert_no_sanitizer_report(current)
        except Exception:
            print("s6-svscan output:\n%s\nlog:\n%s"
                  % (read(box.path("s6-svscan.out")),
                     read(current)[-3000:]))
            raise


# ------------------------------------------------------------- sysvinit

def test_sysvinit_script_start_status_reload_stop():
    """distrib/sysvinit/ergo with dpkg's start-stop-daemon (settings from
    ERGO_DEFAULTS instead of /etc/default/ergo): start waits for ergo's
    READY=1 (--notify-await) so the port accepts at once; status; reload
    HUPs (rehash line); a broken config fails reload (and restart) with
    FILE:LINE:COL and keeps the server; restart gives a new PID; stop
    removes the pidfile and the process; a broken config fails start the
    same way."""
    need("start-stop-daemon")
    need_root("start-stop-daemon --chuid nobody")
    version = run(["start-stop-daemon", "--version"], check=False).stdout
    if "Debian" not in version:
        # Alpine's is OpenRC's: no --notify-await, --status, --output
        msg = ("start-stop-daemon here is not dpkg's (%s); the script is "
               "for Debian-style systems" % version.strip()[:60])
        print("SKIP reason: " + msg)
        raise Skip(msg)
    with Sandbox("sysv") as box:
        script = box.path("ergo.init")
        shutil.copy2(os.path.join(DISTRIB, "sysvinit", "ergo"), script)
        logdir = box.path("log")
        log = os.path.join(logdir, "ergo.log")
        good = config_text(box.port, "logging { method file  path %s  "
                           "level info }" % log)
        box.write("ergo.conf", good)
        pidfile = box.path("ergo.pid")
        defaults = box.write("default", service_conf(
            box, logdir, "ERGO_PIDFILE=%s\nERGO_NOTIFY_TIMEOUT=10\n"
            "ERGO_NOTIFY_SOCKET=%s\n" % (pidfile, box.path("notify.sock"))))
        env = {"ERGO_DEFAULTS": defaults}

        def init(cmd, check=True):
            return run(["sh", script, cmd], env=env, check=check)

        def daemon_pid():
            txt = read(pidfile).strip()
            return int(txt) if txt.isdigit() else None

        try:
            assert init("status", check=False).returncode == 3
            p = init("start")
            pid = daemon_pid()
            assert pid, "no pidfile after start: %s" % p.stdout
            box.pids.add(pid)
            assert accepts(box.port), "started but not listening"
            assert proc_uid(pid) == box.uid
            chat(box.port)
            check_home(box)
            wait_file_match(log, READY_RE)
            p = init("status")
            assert "running (pid %d)" % pid in p.stdout, p.stdout

            p = init("start")           # a second start: no second server
            assert "already running" in p.stdout, p.stdout
            assert daemon_pid() == pid

            mark = len(read(log))
            init("reload")
            wait_file_match(log, REHASH_RE, start=mark)

            box.write("ergo.conf", good + "bogus-key yes\n")
            p = init("reload", check=False)
            assert p.returncode != 0, p.stdout
            assert re.search(BROKEN_CONFIG_RE, p.stdout), p.stdout
            assert alive(pid) and accepts(box.port)
            p = init("restart", check=False)   # checks before stopping
            assert p.returncode != 0 and daemon_pid() == pid, p.stdout
            box.write("ergo.conf", good)

            init("restart")
            wait_dead(pid)
            new = daemon_pid()
            assert new and new != pid, read(pidfile)
            box.pids.add(new)
            pid = new
            wait_for(lambda: accepts(box.port), 10,
                     "the restarted server to listen")
            chat(box.port, "bob")

            p = init("stop")
            assert not os.path.exists(pidfile), p.stdout
            wait_dead(pid)      # a zombie until its parent reaps it
            wait_refuses(box.port)
            assert init("status", check=False).returncode == 3
            assert "not running" in init("stop").stdout

            box.write("ergo.conf", good + "bogus-key yes\n")
            p = init("start", check=False)
            assert p.returncode != 0, p.stdout
            assert re.search(BROKEN_CONFIG_RE, p.stdout), p.stdout
            assert not os.path.exists(pidfile)
            assert not accepts(box.port)
            assert_no_sanitizer_report(log, box.path("stderr.log"))
        finally:
            pid = daemon_pid()
            if pid:
                box.pids.add(pid)


# --------------------------------------------------------------- OpenRC

def openrc_sandbox(box, config):
    """ergo.rc as /etc/init.d/ergo and a conf.d made from
    distrib/openrc/ergo.confd, in a mount + PID namespace: an overlay on
    /etc (Debian has no /etc/conf.d to mount on), bind mounts over
    /etc/init.d and /etc/conf.d, a tmpfs over /run (OpenRC's compiled-in
    state directory is /run/openrc), then `rc-update -u` and a
    softlevel."""
    need("openrc-run", "rc-service", "supervise-daemon", "rc-update")
    need_root("mount namespaces, supervise-daemon --user nobody")
    initd = box.path("init.d")
    confd = box.path("conf.d")
    os.mkdir(initd)
    os.mkdir(confd)
    for d in (initd, confd):
        os.chmod(d, 0o755)
    shutil.copy2(os.path.join(ROOT, "ergo.rc"), os.path.join(initd, "ergo"))
    os.chmod(os.path.join(initd, "ergo"), 0o755)
    box.write("ergo.conf", config)
    confd_text = read(os.path.join(DISTRIB, "openrc", "ergo.confd"))
    settings = {
        "ERGO_BIN": box.bin, "ERGO_CONFIG": box.path("ergo.conf"),
        "ERGO_USER": box.user, "ERGO_GROUP": box.group,
        "ERGO_HOME": box.path("home"), "ERGO_LOGDIR": box.path("log"),
        "ERGO_RESPAWN_DELAY": "1",
    }
    for k, v in settings.items():
        confd_text, n = re.subn(r"(?m)^#%s=.*$" % k, '%s="%s"' % (k, v),
                                confd_text)
        assert n == 1, "no #%s= line in distrib/openrc/ergo.confd" % k
    box.write("conf.d/ergo", confd_text)
    for d in ("upper", "work"):
        os.mkdir(box.path(d))
    etc = ""
    if not os.path.isdir("/etc/conf.d"):
        etc = ("mount -t overlay overlay -o lowerdir=/etc,upperdir=%s,"
               "workdir=%s /etc\nmkdir /etc/conf.d\n"
               % (box.path("upper"), box.path("work")))
    # a tmpfs over all of /run: OpenRC's state and supervise-daemon's
    # pidfile (/run/supervise-ergo.pid) stay in the namespace, and the
    # host's /run/ergo.pid (logrotate's postrotate looks there first) is
    # out of sight
    setup = (etc +
             "mount --bind %s /etc/init.d\n"
             "mount --bind %s /etc/conf.d\n"
             "mount -t tmpfs -o mode=0755 tmpfs /run\n"
             "mkdir /run/openrc /run/lock\n"
             "rc-update -u\n"
             "touch /run/openrc/softlevel\n" % (initd, confd))
    return Namespace(box, setup)


def test_openrc_script_start_status_reload_respawn_stop():
    """The real ergo.rc under OpenRC (openrc-run + supervise-daemon, in a
    private namespace): start runs checkconfig and creates the 0700 home
    and the 0750 log directory, ergo runs as the unprivileged user and
    serves; status says started; reload rehashes (log line); logrotate
    with the shipped file (only its path changed) rotates and its
    postrotate reloads; reload with a broken config prints FILE:LINE:COL,
    fails, and keeps the server (so does restart), and a rotation then
    still makes ergo reopen its log; kill -9 of ergo makes supervise-daemon respawn it;
    stop ends it."""
    with Sandbox("openrc") as box:
        logdir = box.path("log")
        log = os.path.join(logdir, "ergo.log")
        good = config_text(box.port, "logging { method file  path %s  "
                           "level info }" % log)
        ns = openrc_sandbox(box, good)
        try:
            def rc(cmd, check=True):
                return ns.run(["rc-service", "ergo", cmd], check=check)

            def child_pid():
                p = ns.run(["cat", "/run/openrc/options/ergo/child_pid"],
                           check=False)
                txt = p.stdout.strip()
                return int(txt) if p.returncode == 0 and txt.isdigit() \
                    else None

            p = rc("start")
            assert "Checking" in p.stdout, p.stdout
            wait_accepts(box.port)
            chat(box.port)
            wait_file_match(log, READY_RE)
            check_home(box)
            st = os.stat(logdir)
            assert st.st_uid == box.uid and \
                stat.S_IMODE(st.st_mode) == 0o750, st
            p = rc("status")
            assert "started" in p.stdout, p.stdout
            first = wait_for(child_pid, 5, "child_pid")

            mark = len(read(log))
            rc("reload")
            wait_file_match(log, REHASH_RE, start=mark)
            assert child_pid() == first

            # the shipped logrotate file, only its path changed: its
            # postrotate's `rc-service ergo reload` HUPs ergo
            need("logrotate")
            lr = box.write("logrotate.conf", read(os.path.join(
                DISTRIB, "logrotate", "ergo")).replace("/var/log/ergo",
                                                       logdir))
            lr_state = box.path("logrotate.state")
            ns.run(["logrotate", "-f", "-s", lr_state, lr])
            assert os.path.exists(log + ".1"), os.listdir(logdir)
            wait_file_match(log, REHASH_RE)
            assert re.search(READY_RE, read(log + ".1"))

            box.write("ergo.conf", good + "bogus-key yes\n")
            p = rc("reload", check=False)
            assert p.returncode != 0, p.stdout
            assert re.search(BROKEN_CONFIG_RE, p.stdout), p.stdout
            assert accepts(box.port) and child_pid() == first
            # restart checks first too: the running server is not stopped
            p = rc("restart", check=False)
            assert p.returncode != 0, p.stdout
            assert re.search(BROKEN_CONFIG_RE, p.stdout), p.stdout
            assert accepts(box.port) and child_pid() == first
            assert "started" in rc("status").stdout
            # a rotation now: reload refuses, postrotate HUPs anyway, so
            # ergo moves to the new file (and keeps its config)
            ns.run(["logrotate", "-f", "-s", lr_state, lr])
            assert os.path.exists(log + ".2.gz"), os.listdir(logdir)
            wait_file_match(log, BROKEN_CONFIG_RE)
            assert "SIGHUP: reopening" in read(log + ".1")
            assert not re.search(REHASH_RE, read(log)), read(log)
            chat(box.port, "carol")
            box.write("ergo.conf", good)

            ns.run(["kill", "-KILL", str(first)])
            wait_for(lambda: (child_pid() or first) != first, 15,
                     "supervise-daemon to respawn ergo")
            wait_accepts(box.port)
            chat(box.port, "bob")

            second = child_pid()
            rc("stop")
            wait_for(lambda: ns.run(["kill", "-0", str(second)],
                                    check=False).returncode != 0,
                     10, "ergo (pid %d in the namespace) to end" % second)
            wait_refuses(box.port)
            p = rc("status", check=False)
            assert p.returncode == 3 and "stopped" in p.stdout, p.stdout
            assert "ergo" not in ns.run(["ps", "-eo", "comm"]).stdout
            assert_no_sanitizer_report(log, os.path.join(logdir,
                                                         "stderr.log"))
        except Exception:
            print("namespace:\n%s\nergo's log:\n%s\nstderr log:\n%s"
                  % (ns.log()[-3000:], read(log)[-3000:],
                     read(os.path.join(logdir, "stderr.log"))[-2000:]))
            print("processes in the namespace:\n" + ns.run(
                ["ps", "-eo", "pid,ppid,stat,user,args"], check=False).stdout)
            raise
        finally:
            ns.close()


def test_openrc_start_with_a_broken_config_shows_the_error():
    """rc-service ergo start with a config error: start_pre's checkconfig
    prints FILE:LINE:COL on the terminal and the start fails (OpenRC says
    [ ok ] for a daemon that dies at once, so this check is what tells);
    `rc-service ergo checkconfig` says the same."""
    with Sandbox("openrc-bad") as box:
        bad = config_text(box.port) + "server { nosuchkey 1 }\n"
        ns = openrc_sandbox(box, bad)
        try:
            p = ns.run(["rc-service", "ergo", "start"], check=False)
            assert p.returncode != 0, p.stdout
            assert re.search(BROKEN_CONFIG_RE, p.stdout), p.stdout
            assert "nosuchkey" in p.stdout, p.stdout
            assert not accepts(box.port)
            p = ns.run(["rc-service", "ergo", "status"], check=False)
            assert "started" not in p.stdout, p.stdout
            p = ns.run(["rc-service", "ergo", "checkconfig"], check=False)
            assert p.returncode != 0 and "nosuchkey" in p.stdout, p.stdout
        finally:
            ns.close()


# ------------------------------------------------------ busybox syslogd

def test_syslog_lines_reach_busybox_syslogd_as_daemon_facility():
    """logging { method syslog }: ergo's lines reach a busybox syslogd
    listening on a private /dev/log (a mount namespace with its own /dev)
    under facility daemon, tagged ergo[PID]; a rehash line follows."""
    need("busybox")
    need_root("mount namespaces")
    p = run(["busybox", "--list"], check=False)
    if "syslogd" not in p.stdout.split():
        print("SKIP reason: this busybox has no syslogd applet")
        raise Skip("busybox without syslogd")
    host_dev_log = os.path.lexists("/dev/log")
    with Sandbox("syslog") as box:
        dev = box.path("dev")
        os.mkdir(dev)
        open(os.path.join(dev, "null"), "w").close()
        messages = box.path("messages")
        box.write("ergo.conf", config_text(
            box.port, "logging { method syslog  level info }"))
        ns = Namespace(box, "mount --bind /dev/null %s/null\n"
                            "mount --bind %s /dev\n" % (dev, dev))
        try:
            ns.popen(["busybox", "syslogd", "-n", "-O", messages],
                     "syslogd.out")
            wait_for(lambda: ns.run(["test", "-S", "/dev/log"],
                                    check=False).returncode == 0,
                     10, "busybox syslogd's /dev/log")
            ergo = ns.popen([box.bin, "run", "--config",
                             box.path("ergo.conf"), "--allow-root"],
                            "ergo.out")
            wait_accepts(box.port)
            chat(box.port)
            line = wait_file_match(messages,
                                   r"ergo\[\d+\]: .*ready: irc\.test")
            assert re.search(r"\bdaemon\.info\b", line), line
            # nsenter's child is ergo (host PID)
            pid = wait_for(lambda: children(ergo.pid), 5, "ergo's pid")[0]
            os.kill(pid, signal.SIGHUP)
            wait_file_match(messages, r"daemon\.info ergo\[\d+\]: .*"
                            r"configuration reloaded from ")
            # the socket is in the test's /dev, not the host's
            assert stat.S_ISSOCK(os.stat(os.path.join(dev, "log")).st_mode)
            assert os.path.lexists("/dev/log") == host_dev_log
            os.kill(pid, signal.SIGTERM)
            assert ergo.wait(10) == 0, read(box.path("ergo.out"))
            assert_no_sanitizer_report(box.path("ergo.out"))
        except Exception:
            print("syslogd:\n%s\nergo:\n%s\nmessages:\n%s"
                  % (read(box.path("syslogd.out")),
                     read(box.path("ergo.out")), read(messages)[-3000:]))
            raise
        finally:
            ns.close()


# ------------------------------------------------- static checks of files

def test_systemd_unit_passes_systemd_analyze_verify():
    """distrib/systemd/ergo.service (binary path pointed at the build) is
    accepted by `systemd-analyze verify` without a warning, is Type=notify
    and reloads with a checkconfig then a HUP of $MAINPID."""
    need("systemd-analyze")
    text = read(os.path.join(DISTRIB, "systemd", "ergo.service"))
    for want in ("Type=notify", "User=ergo", "WorkingDirectory=/var/lib/ergo",
                 "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
                 "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "ProtectHome=yes", "PrivateTmp=yes",
                 "ReadWritePaths=/var/lib/ergo /var/log/ergo",
                 "LimitNOFILE="):
        assert want in text, "%s missing from ergo.service" % want
    start_pre = re.search(r"(?m)^ExecStartPre=(\S+) checkconfig "
                          r"--config (\S+)$", text)
    assert start_pre, "no ExecStartPre=... checkconfig"
    d = tempfile.mkdtemp(prefix="ergotest-systemd-")
    try:
        unit = os.path.join(d, "ergo.service")
        with open(unit, "w") as f:
            f.write(text.replace(start_pre.group(1), ERGO_BIN))
        p = run(["systemd-analyze", "verify", unit], check=False)
        assert p.returncode == 0 and not p.stdout.strip(), p.stdout
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_shell_scripts_pass_shellcheck():
    """ergo.rc (as OpenRC's sh, SC2034 off: openrc-run reads its
    variables) and every shell script in distrib/ lint clean."""
    need("shellcheck")
    p = run(["shellcheck", "-s", "sh", "-e", "SC2034",
             os.path.join(ROOT, "ergo.rc")], check=False)
    assert p.returncode == 0, p.stdout
    scripts = []
    for top, dirs, files in os.walk(DISTRIB):
        for f in files:
            path = os.path.join(top, f)
            with open(path, "rb") as fh:
                if fh.read(10).startswith(b"#!/bin/sh"):
                    scripts.append(path)
    assert len(scripts) >= 6, scripts
    p = run(["shellcheck", "-s", "sh"] + scripts, check=False)
    assert p.returncode == 0, p.stdout
    # logrotate runs postrotate ... endscript with /bin/sh
    m = re.search(r"(?ms)^\tpostrotate\n(.*?)^\tendscript$",
                  read(os.path.join(DISTRIB, "logrotate", "ergo")))
    assert m, "no postrotate in distrib/logrotate/ergo"
    p = subprocess.run(["shellcheck", "-s", "sh", "-"], input=m.group(1),
                       capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr
    for path in scripts:
        assert os.stat(path).st_mode & 0o111, "%s is not executable" % path


# ------------------------------------------------------------ container

def containerfile():
    """distrib/Containerfile as a list of (INSTRUCTION, argument text)."""
    out = []
    for line in read(os.path.join(DISTRIB, "Containerfile")).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_container_image_layout_serves_as_uid_10000():
    """distrib/Containerfile, without a container engine: its COPY, USER,
    WORKDIR and ENTRYPOINT lines are applied to an empty directory (the
    FROM scratch image), and the ENTRYPOINT runs chrooted there as the
    numeric USER, with ERGO__SECTION__KEY overrides for the address and
    the server name: it serves a client, creates ircd.db 0600 in the
    volume, rehashes on SIGHUP and exits 0 on the STOPSIGNAL."""
    need_root("chroot and the switch to the image's numeric USER")
    static = os.path.join(ROOT, "ergo-static")
    if not os.path.exists(static):
        p = run(["sh", "scripts/static.sh"], cwd=ROOT, check=False,
                timeout=600)
        assert p.returncode == 0 and os.path.exists(static), \
            "`make static` (sh scripts/static.sh) failed:\n" + p.stdout
    steps = containerfile()
    assert steps[0] == ("FROM", "scratch"), steps[0]
    root = tempfile.mkdtemp(prefix="ergotest-image-")
    proc = None
    try:
        uid = gid = 0
        workdir, entry, signame, exposed = "/", None, "SIGTERM", []
        for word, arg in steps[1:]:
            if word == "COPY":
                args = arg.split()
                owner = None
                if args[0].startswith("--chown="):
                    owner = tuple(int(x) for x in
                                  args.pop(0)[8:].split(":"))
                src, dst = args
                src = os.path.join(ROOT, src)
                dst = os.path.join(root, dst.lstrip("/"))
                if os.path.isdir(src):
                    shutil.copytree(src, dst, dirs_exist_ok=True)
                    made = [dst] + [os.path.join(t, n)
                                    for t, ds, fs in os.walk(dst)
                                    for n in ds + fs]
                else:
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    shutil.copy2(src, dst)
                    made = [dst]
                for m in made:
                    os.chown(m, *(owner or (0, 0)))
            elif word == "USER":
                uid, gid = (int(x) for x in arg.split(":"))
            elif word == "WORKDIR":
                workdir = arg
                os.makedirs(os.path.join(root, arg.lstrip("/")),
                            exist_ok=True)
            elif word == "ENTRYPOINT":
                entry = json.loads(arg)
            elif word == "STOPSIGNAL":
                signame = arg
            elif word == "EXPOSE":
                exposed = arg.split()
            elif word not in ("VOLUME", "ENV", "LABEL"):
                raise AssertionError("unexpected %s in Containerfile" % word)
        assert uid != 0 and gid != 0, "the image runs as root"
        assert exposed == ["6667", "6697"], exposed
        assert entry and entry[0] == "/ergo" and entry[1] == "run", entry
        conf = entry[entry.index("--config") + 1]
        assert os.path.exists(os.path.join(root, conf.lstrip("/")))
        os.chmod(root, 0o755)

        port = free_port()
        env = {"ERGO__SERVER__LISTEN": "127.0.0.1:%d" % port,
               "ERGO__SERVER__NAME": "irc.container.test"}

        def enter():
            os.chroot(root)
            os.chdir(workdir)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)

        log = os.path.join(os.path.dirname(root),
                           os.path.basename(root) + ".log")
        with open(log, "wb") as f:
            proc = subprocess.Popen(entry, env=env, stdin=subprocess.DEVNULL,
                                    stdout=f, stderr=subprocess.STDOUT,
                                    preexec_fn=enter)
        try:
            wait_accepts(port)
            c = Client(port)
            lines = c.register("alice")
            assert any(l.startswith(":irc.container.test 001 ")
                       for l in lines), lines
            c.close()
            db = os.path.join(root, workdir.lstrip("/"), "ircd.db")
            st = os.stat(db)
            assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (uid, 0o600)
            assert proc_uid(proc.pid) == uid
            proc.send_signal(signal.SIGHUP)
            wait_file_match(log, REHASH_RE + re.escape(conf))
            proc.send_signal(getattr(signal, signame))
            assert proc.wait(10) == 0, read(log)
        finally:
            text = read(log)
            os.unlink(log)
        assert not sanitizer_report(text), text
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)


# ------------------------------------- checkconfig as the service's user

def root_only_key(box):
    """A certificate and a root-owned 0600 key in the sandbox (the key
    `ergo mkcerts` makes as root), and a config line for a TLS listener
    on them; the server's user cannot read the key."""
    run([box.bin, "mkcerts", "--cert", box.path("fullchain.pem"),
         "--key", box.path("privkey.pem"), "--host", "irc.test"])
    os.chmod(box.path("privkey.pem"), 0o600)
    return (" listen 127.0.0.1:%d { tls { cert %s  key %s } }\n"
            % (free_port(), box.path("fullchain.pem"),
               box.path("privkey.pem")))


def root_made_database(box):
    """ircd.db made by `ergo initdb` as root in the service's home, as an
    operator following the docs with sudo would: 0600, root's."""
    home = box.path("home")
    os.makedirs(home, exist_ok=True)
    os.chown(home, box.uid, -1)
    os.chmod(home, 0o700)
    run([box.bin, "initdb", "--config", box.path("ergo.conf")], cwd=home)
    st = os.stat(os.path.join(home, "ircd.db"))
    assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600


def test_checkconfig_checks_files_as_the_servers_user():
    """checkconfig run as root checks what the server will open as the
    user it will run as (server { user }, or --user as the init scripts
    pass it): a root-only key, a log directory and a database directory
    that user cannot write are each named with an absolute path; as root
    (--user root) the same config is fine."""
    need_root("checks as the user nobody")
    with Sandbox("check-user") as box:
        tls = root_only_key(box)
        os.mkdir(box.path("rootonly"))
        os.chmod(box.path("rootonly"), 0o755)
        text = config_text(box.port, "logging { method file  path %s }"
                           % box.path("rootonly", "ergo.log"),
                           extra=tls + " user %s\n" % box.user)
        text = text.replace("path ircd.db", "path rootonly/ircd.db")
        box.write("ergo.conf", text)
        p = run([box.bin, "checkconfig", "--config", "ergo.conf"],
                cwd=box.dir, check=False)
        assert p.returncode == 1, p.stdout
        assert "%s: Permission denied" % box.path("privkey.pem") \
            in p.stdout, p.stdout
        assert "logging path %s: user nobody cannot create files in %s" \
            % (box.path("rootonly", "ergo.log"), box.path("rootonly")) \
            in p.stdout, p.stdout
        assert "datastore.path %s: user nobody cannot create" \
            % box.path("rootonly", "ircd.db") in p.stdout, p.stdout
        p = run([box.bin, "checkconfig", "--config", "ergo.conf", "--user",
                 "root"], cwd=box.dir)
        assert "ok" in p.stdout
        # --user overrides server { user }; a root-made database
        os.chown(box.path("rootonly"), box.uid, -1)
        os.chmod(box.path("privkey.pem"), 0o644)
        run([box.bin, "checkconfig", "--config", "ergo.conf"], cwd=box.dir)
        run([box.bin, "initdb", "--config", "ergo.conf"], cwd=box.dir)
        p = run([box.bin, "checkconfig", "--config", "ergo.conf", "--user",
                 "%s:%s" % (box.user, box.group)], cwd=box.dir, check=False)
        assert p.returncode == 1
        assert "datastore.path %s: user nobody cannot write it" \
            % box.path("rootonly", "ircd.db") in p.stdout, p.stdout
        p = run([box.bin, "checkconfig", "--config", "ergo.conf", "--user",
                 "no-such-user-here"], cwd=box.dir, check=False)
        assert p.returncode == 1 and "no-such-user-here" in p.stdout


def test_openrc_start_refuses_a_key_the_user_cannot_read():
    """The issue's outage: a root-owned 0600 privkey.pem. `rc-service ergo
    start` used to say [ ok ] while ergo crash-looped; now start_pre's
    checkconfig runs as ERGO_USER and fails, naming the key; restart and
    reload of a running server refuse the same way."""
    with Sandbox("openrc-key") as box:
        good = config_text(box.port)
        ns = openrc_sandbox(box, good)
        try:
            tls = root_only_key(box)
            bad = config_text(box.port, extra=tls)
            box.write("ergo.conf", bad)
            p = ns.run(["rc-service", "ergo", "start"], check=False)
            assert p.returncode != 0, p.stdout
            assert box.path("privkey.pem") in p.stdout, p.stdout
            assert "Permission denied" in p.stdout, p.stdout
            assert "started" not in ns.run(["rc-service", "ergo", "status"],
                                           check=False).stdout
            box.write("ergo.conf", good)
            ns.run(["rc-service", "ergo", "start"])
            wait_accepts(box.port)
            box.write("ergo.conf", bad)
            for cmd in ("reload", "restart"):
                p = ns.run(["rc-service", "ergo", cmd], check=False)
                assert p.returncode != 0, (cmd, p.stdout)
                assert box.path("privkey.pem") in p.stdout, p.stdout
                assert accepts(box.port)
            box.write("ergo.conf", good)
            ns.run(["rc-service", "ergo", "stop"])
        finally:
            ns.close()


def test_openrc_start_refuses_a_database_made_by_root():
    """ircd.db made by `ergo initdb` as root: start fails at once, naming
    the database (it used to say [ ok ] until respawn gave up)."""
    with Sandbox("openrc-db") as box:
        ns = openrc_sandbox(box, config_text(box.port))
        try:
            root_made_database(box)
            p = ns.run(["rc-service", "ergo", "start"], check=False)
            assert p.returncode != 0, p.stdout
            assert "%s: user nobody cannot write it" % os.path.join(
                box.path("home"), "ircd.db") in p.stdout, p.stdout
            assert not accepts(box.port)
        finally:
            ns.close()


def sysv(box, extra=""):
    script = box.path("ergo.init")
    shutil.copy2(os.path.join(DISTRIB, "sysvinit", "ergo"), script)
    pidfile = box.path("ergo.pid")
    if "ERGO_NOTIFY_SOCKET" not in extra:   # not the host's /run
        extra += "ERGO_NOTIFY_SOCKET=%s\n" % box.path("notify.sock")
    defaults = box.write("default", service_conf(
        box, box.path("log"), "ERGO_PIDFILE=%s\nERGO_NOTIFY_TIMEOUT=10\n%s"
        % (pidfile, extra)))

    def init(cmd, check=True, timeout=RUN_TIMEOUT):
        return run(["sh", script, cmd], env={"ERGO_DEFAULTS": defaults},
                   check=check, timeout=timeout)
    return init, pidfile


def test_sysvinit_start_refuses_a_database_made_by_root_at_once():
    """The sysvinit script with a root-made ircd.db: start fails at once
    (not after the 30 s notify timeout) and names the database; a
    root-only key fails the same way."""
    need("start-stop-daemon")
    need_root("start-stop-daemon --chuid nobody")
    with Sandbox("sysv-db") as box:
        box.write("ergo.conf", config_text(box.port))
        init, pidfile = sysv(box)
        root_made_database(box)
        t0 = time.monotonic()
        p = init("start", check=False)
        assert p.returncode != 0, p.stdout
        assert time.monotonic() - t0 < 5, "start took the notify timeout"
        assert "%s: user nobody cannot write it" % os.path.join(
            box.path("home"), "ircd.db") in p.stdout, p.stdout
        assert not os.path.exists(pidfile)
        os.unlink(os.path.join(box.path("home"), "ircd.db"))
        box.write("ergo.conf", config_text(box.port,
                                           extra=root_only_key(box)))
        p = init("start", check=False)
        assert p.returncode != 0 and box.path("privkey.pem") in p.stdout, \
            p.stdout
        assert not os.path.exists(pidfile)


def test_runit_and_s6_run_scripts_check_as_the_user_first():
    """distrib/runit and distrib/s6 run scripts run checkconfig as
    ERGO_USER before exec'ing ergo (the README said they did; they did
    not): with a root-only key, the run script exits 1 before ergo starts
    and the reason reaches the service's log (stdout/stderr)."""
    need("chpst", "s6-setuidgid")
    need_root("the run scripts switch to the user nobody")
    for kind in ("runit", "s6"):
        with Sandbox("%s-check" % kind) as box:
            svc = box.copy_tree(os.path.join(DISTRIB, kind, "ergo"), "ergo")
            box.write("ergo.conf", config_text(box.port,
                                               extra=root_only_key(box)))
            box.write("ergo/conf", service_conf(box, box.path("log")))
            p = run(["sh", "./run"], cwd=svc, check=False, timeout=10)
            assert p.returncode != 0, (kind, p.stdout)
            assert box.path("privkey.pem") in p.stdout, (kind, p.stdout)
            assert "Permission denied" in p.stdout, (kind, p.stdout)
            assert not accepts(box.port)


# ------------------------------------------ start fails when ergo does

def taken(port):
    """A listening socket on 127.0.0.1:port, so ergo cannot bind it (a
    failure checkconfig cannot see)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(1)
    return s


def test_sysvinit_start_fails_at_once_when_ergo_exits_and_says_why():
    """A server that exits at start (its port is taken): the sysvinit
    start fails within a few seconds (not after the notify timeout),
    leaves no pidfile, and stderr.log holds the reason at level error."""
    need("start-stop-daemon")
    need_root("start-stop-daemon --chuid nobody")
    with Sandbox("sysv-dies") as box:
        log = box.path("log", "ergo.log")
        box.write("ergo.conf", config_text(
            box.port, "logging { method file  path %s }" % log))
        init, pidfile = sysv(box, "ERGO_NOTIFY_SOCKET=%s\n"
                             % box.path("notify.sock"))
        s = taken(box.port)
        try:
            t0 = time.monotonic()
            p = init("start", check=False)
            took = time.monotonic() - t0
        finally:
            s.close()
        assert p.returncode != 0, p.stdout
        assert took < 5, "start took %.1f s" % took
        assert "exited before it was ready" in p.stdout, p.stdout
        assert not os.path.exists(pidfile)
        err = read(box.path("log", "stderr.log"))
        assert re.search(r" error server not started: could not open "
                         r"every listener", err), err
        # and with the port free, start waits for READY=1 and serves
        init("start")
        box.pids.add(int(read(pidfile)))
        assert accepts(box.port)
        init("stop")


def test_openrc_start_fails_when_ergo_exits_instead_of_saying_ok():
    """OpenRC said [ ok ] for a server that died at once. Now start waits
    for READY=1 (`ergo waitready`): with the port taken, ergo exits,
    start fails at once, the supervisor is stopped (no respawn loop) and
    status is not started; stderr.log says why at level error."""
    with Sandbox("openrc-dies") as box:
        log = box.path("log", "ergo.log")
        ns = openrc_sandbox(box, config_text(
            box.port, "logging { method file  path %s }" % log))
        s = taken(box.port)
        try:
            t0 = time.monotonic()
            p = ns.run(["rc-service", "ergo", "start"], check=False)
            took = time.monotonic() - t0
            assert p.returncode != 0, p.stdout
            assert took < 8, "start took %.1f s" % took
            assert "exited before it was ready" in p.stdout, p.stdout
            assert "started" not in ns.run(["rc-service", "ergo", "status"],
                                           check=False).stdout
            wait_for(lambda: "ergo" not in ns.run(
                ["ps", "-eo", "comm"]).stdout.split(), 10,
                "no ergo or supervisor left")
            err = read(box.path("log", "stderr.log"))
            assert " error server not started: could not open every " \
                "listener" in err, err
        finally:
            s.close()
            ns.close()


# ------------------------------------- the docs' commands, run as written

def doc_block_with(path, needle):
    """The indented code block of a Markdown file holding needle, as
    lines without the indent."""
    block, blocks = [], []
    for line in read(path).splitlines() + [""]:
        if line.startswith("    "):
            block.append(line[4:])
        else:
            if block:
                blocks.append(block)
            block = []
    found = [b for b in blocks if any(needle in l for l in b)]
    assert found, "no code block with %r in %s" % (needle, path)
    return found[0]


SERVICE_DOC = os.path.join(ROOT, "doc", "running-as-a-service.md")


def test_doc_supervise_daemon_hup_by_hand_names_rc_svcname():
    """doc/running-as-a-service.md's by-hand HUP under OpenRC: plain
    `supervise-daemon ergo --signal HUP` fails (supervise-daemon finds
    its service through RC_SVCNAME), the documented line rehashes."""
    cmd = [l for l in doc_block_with(SERVICE_DOC, "--signal HUP")
           if "--signal HUP" in l][0].split("#")[0].strip()
    assert cmd.startswith("RC_SVCNAME=ergo "), cmd
    with Sandbox("openrc-hup") as box:
        log = box.path("log", "ergo.log")
        ns = openrc_sandbox(box, config_text(
            box.port, "logging { method file  path %s }" % log))
        try:
            ns.run(["rc-service", "ergo", "start"])
            wait_file_match(log, READY_RE)
            p = ns.run(["env", "-u", "RC_SVCNAME", "supervise-daemon", "ergo",
                        "--signal", "HUP"], check=False)
            assert p.returncode != 0, p.stdout
            mark = len(read(log))
            ns.run(["sh", "-c", cmd])
            wait_file_match(log, REHASH_RE, start=mark)
            ns.run(["rc-service", "ergo", "stop"])
        finally:
            ns.close()


def test_doc_s6_steps_start_ergo_only_with_svscanctl_a():
    """doc/running-as-a-service.md's s6 steps, in a scan directory that
    s6-svscan already watches: a link alone is not picked up (no periodic
    rescan), `s6-svscanctl -a` as the doc says is, and `s6-svwait -U`
    then returns with ergo serving."""
    need("s6-svscan", "s6-svscanctl", "s6-svwait", "s6-notifyoncheck",
         "s6-setuidgid", "s6-log")
    need_root("the run script switches to the user nobody")
    steps = doc_block_with(SERVICE_DOC, "s6-svscanctl")
    assert any(l.startswith("s6-svscanctl -a /run/service") for l in steps), \
        steps
    with Sandbox("s6-doc") as box:
        scan = box.path("scan")
        os.mkdir(scan)
        sv = box.copy_tree(os.path.join(DISTRIB, "s6", "ergo"), "sv/ergo")
        box.write("ergo.conf", config_text(box.port))
        box.write("sv/ergo/conf", service_conf(
            box, box.path("log"), "ERGO_LOG_USER=%s\nERGO_CHECK_PORT=%d\n"
            % (box.user, box.port)))
        svscan = box.popen(["s6-svscan", scan], "s6-svscan.out")
        try:
            time.sleep(0.5)
            os.symlink(sv, os.path.join(scan, "ergo"))
            time.sleep(2)
            assert run(["s6-svstat", os.path.join(scan, "ergo")],
                       check=False).returncode != 0, "picked up without -a"
            run(["s6-svscanctl", "-a", scan])
            # s6-supervise starts a moment after the rescan
            wait_for(lambda: run(["s6-svstat", os.path.join(scan, "ergo")],
                                 check=False).returncode == 0,
                     10, "s6-supervise for ergo after s6-svscanctl -a")
            run(["s6-svwait", "-U", "-t", "15000", os.path.join(scan, "ergo")])
            assert accepts(box.port)
            run(["s6-svc", "-d", os.path.join(scan, "ergo")])
            run(["s6-svwait", "-d", "-t", "10000", os.path.join(scan, "ergo")])
        finally:
            run(["s6-svscanctl", "-t", scan], check=False)
            svscan.wait(10)


def test_ergo_8_logrotate_example_is_the_shipped_file():
    """ergo.8's logrotate example used `postrotate rc-service ergo reload`
    alone, which never reopens the log while the config is broken; it is
    now the shipped distrib/logrotate/ergo (its comments aside)."""
    page = read(os.path.join(ROOT, "ergo.8"))
    m = re.search(r"(?s)\n(/var/log/ergo/ergo\.log \{\n.*?\n\})\n\.Ed", page)
    assert m, "no logrotate example in ergo.8"
    example = m.group(1).replace("\\e", "\\")
    shipped = "\n".join(l for l in read(os.path.join(
        DISTRIB, "logrotate", "ergo")).splitlines()
        if not l.lstrip().startswith("#") and l.strip())
    assert example == shipped, "ergo.8:\n%s\nshipped:\n%s" % (example,
                                                               shipped)


def test_server_user_already_in_effect_draws_no_warning():
    """The example config says server { user ergo }, and the shipped
    scripts already start ergo as that user: then ergo serves without
    the 'not started as root' warning (kept for another user)."""
    need_root("runs ergo as the user nobody")
    with Sandbox("same-user") as box:
        home = box.path("home")
        os.mkdir(home)
        os.chown(home, box.uid, -1)
        box.write("ergo.conf", config_text(box.port, extra=" user %s\n"
                                           % box.user))
        pw = pwd.getpwnam(box.user)

        def as_user():
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
        p = box.popen([box.bin, "run", "--config", box.path("ergo.conf")],
                      "ergo.out", cwd=home, preexec_fn=as_user)
        wait_accepts(box.port)
        p.terminate()
        assert p.wait(10) == 0
        out = read(box.path("ergo.out"))
        assert "ready" in out and "not started as root" not in out, out


def test_waitready_exits_0_on_ready_1_on_timeout_and_leaves_a_newer_socket():
    """ergo waitready alone: READY=1 on its socket is exit 0 (and the
    socket is gone); nothing within --timeout is exit 1 saying so; a
    socket bound anew at the same path by a later waitready is not
    removed by the earlier one ending."""
    d = tempfile.mkdtemp(prefix="ergotest-waitready-")
    try:
        sock = os.path.join(d, "n.sock")
        p = subprocess.Popen([ERGO_BIN, "waitready", "--socket", sock,
                              "--timeout", "10"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        wait_for(lambda: os.path.exists(sock), 5, "the socket")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(b"STATUS=x\nREADY=1\n", sock)
        s.close()
        assert p.wait(5) == 0, p.stdout.read()
        assert not os.path.exists(sock)

        t0 = time.monotonic()
        first = subprocess.Popen([ERGO_BIN, "waitready", "--socket", sock,
                                  "--timeout", "1"], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
        wait_for(lambda: os.path.exists(sock), 5, "the socket")
        os.unlink(sock)     # as the next start's `rm -f` does
        second = subprocess.Popen([ERGO_BIN, "waitready", "--socket", sock,
                                   "--timeout", "10"])
        wait_for(lambda: os.path.exists(sock), 5, "the second socket")
        assert first.wait(5) == 1
        assert time.monotonic() - t0 < 4
        assert "not ready after 1 s" in first.stdout.read()
        assert os.path.exists(sock), "the first removed the second's socket"
        second.kill()
        second.wait(5)
    finally:
        shutil.rmtree(d, ignore_errors=True)
