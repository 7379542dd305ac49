"""Logging (log.c): several targets, levels, types, file modes, reopen on
SIGHUP, escaping of client bytes, write failures that never stop the
server, and log targets at start and at rehash."""

import os
import re
import signal
import stat

from ergotest import (ALLOW_ROOT, ErgoTestError, Server, Skip, run_ergo,
                      wait_for)
from test_store_faults import chattr

STAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def wait_file(path, pattern, timeout=5):
    rx = re.compile(pattern, re.M)
    try:
        return wait_for(lambda: rx.search(read(path)), timeout,
                        "%s to match %r" % (path, pattern))
    except ErgoTestError:
        raise ErgoTestError("%s never matched %r; it holds:\n%s"
                            % (path, pattern, read(path)[-3000:]))


def logging(*blocks):
    return "".join("logging { %s }\n" % b for b in blocks)


def test_log_file_lines_have_utc_millisecond_stamp_level_and_category():
    s = Server(conf=logging("method file  path main.log"))
    path = os.path.join(s.dir, "main.log")
    wait_file(path, r"info server .* ready: irc\.test$")
    for line in read(path).splitlines():
        assert re.match(STAMP + r"(debug|info|warn|error) [a-z]+ ", line), \
            line


def test_log_file_is_created_0640_and_appended_to():
    s = Server(conf=logging("method file  path main.log"), start=False)
    path = os.path.join(s.dir, "main.log")
    with open(path, "w") as f:
        f.write("a line from before\n")
    os.chmod(path, 0o600)
    s.start()
    wait_file(path, r" ready: ")
    assert read(path).startswith("a line from before\n")
    s.stop()
    os.unlink(path)
    old = os.umask(0)
    try:
        s.start()
    finally:
        os.umask(old)
    wait_file(path, r" ready: ")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640, \
        oct(os.stat(path).st_mode)


def test_several_logging_blocks_each_get_their_level_and_types():
    s = Server(conf=logging(
        "method file  path all.log  level info",
        "method file  path connect.log  level debug  types connect",
        "method file  path quiet.log  level warn",
        'method file  path noconnect.log  types "* -connect"'))
    c = s.client("logme")
    c.send("QUIT :bye")
    c.closed()
    d = s.dir
    wait_file(os.path.join(d, "all.log"), r"info connect logme!\S+ quit")
    wait_file(os.path.join(d, "connect.log"), r"info connect logme!\S+ quit")
    conn = read(os.path.join(d, "connect.log"))
    assert " server " not in conn, conn
    # debug lines of the connect category reach the debug target only
    assert re.search(r"debug connect accepted 127\.0\.0\.1", conn), conn
    assert "debug connect" not in read(os.path.join(d, "all.log"))
    quiet = read(os.path.join(d, "quiet.log"))
    assert all(re.match(STAMP + r"(warn|error) ", l)
               for l in quiet.splitlines()), quiet
    assert "logme" not in quiet, quiet
    noconn = read(os.path.join(d, "noconnect.log"))
    assert " ready: " in noconn and " connect " not in noconn, noconn


def test_stderr_is_the_default_target():
    s = Server()
    s.wait_log(STAMP + r"info server .* ready: irc\.test$")


def test_env_override_sets_the_first_logging_block():
    s = Server(conf=logging("method file  path main.log"),
               env={"ERGO__LOGGING__LEVEL": "debug"})
    c = s.client("envlog")
    c.close()
    wait_file(os.path.join(s.dir, "main.log"), r"debug connect accepted ")


def test_client_bytes_are_escaped_in_the_log():
    s = Server(conf=logging("method file  path main.log"))
    c = s.client("esc")
    c.send_raw(b"QUIT :a\x1b[31mred\x7f\x01 2026-01-01T00:00:00.000Z "
               b"error fake\r\n")
    c.closed()
    path = os.path.join(s.dir, "main.log")
    m = wait_file(path, r"esc!\S+ quit: .*$")
    line = m.group(0)
    assert "\\x1b[31mred\\x7f\\x01" in line, line
    assert "\x1b" not in read(path) and "\x01" not in read(path)
    # the fake stamp stayed inside the real line
    assert not re.search(r"^2026-01-01T00:00:00\.000Z", read(path), re.M)


def test_sighup_reopens_a_rotated_log_file():
    s = Server(conf=logging("method file  path main.log"))
    path = os.path.join(s.dir, "main.log")
    wait_file(path, r" ready: ")
    os.rename(path, path + ".1")
    c = s.client("before")          # logged to the moved file
    wait_file(path + ".1", r"registered before!")
    s.signal(signal.SIGHUP)
    wait_file(path, r"info rehash configuration reloaded")
    d = s.client("after")
    wait_file(path, r"registered after!")
    assert "registered after!" not in read(path + ".1")
    assert "registered before!" not in read(path)
    # nobody was disconnected by the reopen
    c.send("PING :still")
    c.expect(r"PONG \S+ :?still$")
    d.close()


def test_reopen_failure_keeps_writing_to_the_old_file():
    s = Server(conf=logging("method file  path main.log"))
    path = os.path.join(s.dir, "main.log")
    wait_file(path, r" ready: ")
    os.rename(path, path + ".1")
    os.mkdir(path)                   # the path can no longer be a file
    s.signal(signal.SIGHUP)
    wait_file(path + ".1", r"warn log reopen .*main\.log, keeping the old "
              r"file: Is a directory")
    # the config names the same file, so the rehash keeps the open one
    wait_file(path + ".1", r"info rehash configuration reloaded")
    c = s.client("stillhere")
    wait_file(path + ".1", r"registered stillhere!")
    c.close()


def test_rehash_adds_and_removes_log_targets():
    s = Server(conf=logging("method file  path one.log"))
    one, two = os.path.join(s.dir, "one.log"), os.path.join(s.dir, "two.log")
    wait_file(one, r" ready: ")
    s.extra_conf = logging("method file  path one.log",
                           "method file  path two.log  types connect")
    s.write_config()
    s.signal(signal.SIGHUP)
    wait_file(one, r"configuration reloaded")
    c = s.client("twice")
    wait_file(two, r"registered twice!")
    wait_file(one, r"registered twice!")
    s.extra_conf = logging("method file  path two.log")
    s.write_config()
    s.signal(signal.SIGHUP)
    wait_file(two, r"configuration reloaded")
    c.send("QUIT")
    c.closed()
    wait_file(two, r"twice!\S+ quit")
    assert "quit" not in read(one), read(one)


def test_rehash_to_an_unopenable_log_file_keeps_the_old_config():
    s = Server(conf=logging("method file  path one.log"),
               server="motd old.motd", start=False)
    with open(os.path.join(s.dir, "old.motd"), "w") as f:
        f.write("old\n")
    with open(os.path.join(s.dir, "new.motd"), "w") as f:
        f.write("new\n")
    s.start()
    one = os.path.join(s.dir, "one.log")
    wait_file(one, r" ready: ")
    s.extra_conf = logging("method file  path nodir/x.log")
    s.extra_server = "motd new.motd"
    s.write_config()
    s.signal(signal.SIGHUP)
    wait_file(one, r"warn log cannot open log file \S*nodir/x\.log: No such "
              r"file or directory")
    wait_file(one, r"error rehash config not reloaded; still running on "
              r"the previous one")
    c = s.client("motdcheck")       # the old MOTD file is still in use
    assert any(" 372 " in l and ":- old" in l for l in c.received), \
        c.received


def test_start_with_an_unopenable_log_file_exits_1():
    s = Server(conf=logging("method file  path nodir/x.log"), start=False)
    s.start(wait=False)
    assert s.wait_exit(10) == 1
    assert re.search(r"cannot open log file \S*nodir/x\.log: No such file",
                     s.logtext()), s.logtext()


def test_full_disk_never_stops_the_server_and_lost_lines_are_counted():
    if not os.access("/dev/full", os.W_OK):
        raise ErgoTestError("/dev/full is not writable here")
    s = Server(conf=logging("method file  path main.log"), start=False)
    path = os.path.join(s.dir, "main.log")
    os.symlink("/dev/full", path)    # every write fails with ENOSPC
    s.start()
    c = s.client("diskfull")
    c.send("PING :alive")
    c.expect(r"PONG \S+ :?alive$")
    # space is back: the next reopen says how much was lost
    os.unlink(path)
    s.signal(signal.SIGHUP)
    m = wait_file(path, r"warn log (\d+) log lines lost \(write errors\)")
    assert int(m.group(1)) >= 2, m.group(0)
    wait_file(path, r"configuration reloaded")
    c.send("PING :alive2")
    c.expect(r"PONG \S+ :?alive2$")


def test_a_log_file_made_unwritable_never_stops_the_server():
    # chattr +i: root ignores modes, and an immutable file refuses writes
    # even through the descriptor the server has open (as a read-only
    # filesystem would)
    s = Server(conf=logging("method file  path main.log"))
    path = os.path.join(s.dir, "main.log")
    wait_file(path, r" ready: ")
    ok, err = chattr("+i", [path])
    if not ok:
        raise Skip("chattr +i not supported here: %s" % err.strip())
    try:
        a, b = s.client("unlogged1"), s.client("unlogged2")
        a.send("JOIN #nolog")
        a.expect(r" 366 unlogged1 #nolog ")
        b.send("JOIN #nolog")
        b.expect(r" 366 unlogged2 #nolog ")
        s.signal(signal.SIGHUP)        # the reopen is refused too
        a.send("PRIVMSG #nolog :still served")
        b.expect(r"PRIVMSG #nolog :still served$")
        assert "unlogged1" not in read(path)
    finally:
        chattr("-i", [path])
    c = s.client("logged")
    m = wait_file(path, r"warn log (\d+) log lines lost \(write errors\)")
    assert int(m.group(1)) >= 3, m.group(0)
    wait_file(path, r"registered logged!")
    for x in (a, b, c):
        x.send("PING :alive")
        x.expect(r"PONG \S+ :?alive$")


def test_userinput_and_useroutput_types_log_client_lines():
    s = Server(conf=logging(
        "method file  path main.log",
        "method file  path io.log  level debug  types userinput "
        "useroutput"))
    c = s.client("talker")
    c.send("PING :hello-io")
    c.expect(r"PONG \S+ :?hello-io$")
    io = os.path.join(s.dir, "io.log")
    wait_file(io, r"debug userinput 127\.0\.0\.1 talker <- PING :hello-io$")
    wait_file(io, r"debug useroutput 127\.0\.0\.1 talker -> :irc\.test PONG "
              r"irc\.test :hello-io$")
    assert "hello-io" not in read(os.path.join(s.dir, "main.log"))


def test_userinput_hides_passwords_and_sasl_payloads():
    s = Server(conf=logging(
        "method file  path io.log  level debug  types userinput"))
    c = s.client()
    c.send("PASS sekret-pass")
    c.send("CAP LS 302")
    c.send("CAP REQ :sasl")
    c.send("AUTHENTICATE PLAIN")
    c.send("AUTHENTICATE AGhpZGRlbgBzZWtyZXQtc2FzbA==")   # \0hidden\0...
    c.send("REGISTER redact0 me@example.org sekret-ircv3")
    c.send("VERIFY redact0 sekret-code")
    c.send("CAP END")
    c.register("redact")
    c.send("REGISTER sekret-alone")
    c.send("OPER admin sekret-oper")
    c.send("PRIVMSG NickServ :REGISTER sekret-reg me@example.org")
    c.send("PRIVMSG NickServ :identify redact sekret-id1")
    c.send("NOTICE bob,nickserv :IDENTIFY sekret-id2")
    c.send("NS PASSWD sekret-old sekret-new")
    c.send("NICKSERV DROP :sekret-drop")
    c.send("@label=x PRIVMSG NickServ :INFO redact")
    c.send("PRIVMSG #chan :PASS sekret-not-really")
    c.sync()
    io = os.path.join(s.dir, "io.log")
    wait_file(io, r"<- PING :sync1$")
    got = read(io)
    # every secret hidden; the command, account and email still shown
    for want in ["<- PASS *****", "<- AUTHENTICATE PLAIN",
                 "<- AUTHENTICATE *****", "<- OPER admin *****",
                 "<- REGISTER redact0 *****", "<- VERIFY redact0 *****",
                 "<- REGISTER *****",
                 "<- PRIVMSG NickServ :REGISTER *****",
                 "<- PRIVMSG NickServ :identify redact *****",
                 "<- NOTICE bob,nickserv :IDENTIFY *****",
                 "<- NS PASSWD *****", "<- NICKSERV DROP *****",
                 "<- @label=x PRIVMSG NickServ :INFO redact",
                 "<- PRIVMSG #chan :PASS sekret-not-really"]:
        assert want + "\n" in got, (want, got)
    assert "sekret-not-really" in got      # only what goes to NickServ
    assert "sekret-" not in got.replace("sekret-not-really", ""), got
    assert "AGhpZGRl" not in got, got


def test_checkconfig_rejects_unknown_log_type_with_position(tmp_path=None):
    s = Server(start=False,
               conf="logging {\n  method stderr\n  types server bogus\n}\n")
    p = run_ergo("checkconfig", "--config", s.conf_path)
    assert p.returncode == 1
    assert re.search(r"ergo\.conf:\d+:9: unknown log type \"bogus\"",
                     p.stderr), p.stderr


def test_checkconfig_rejects_more_than_eight_logging_blocks():
    s = Server(start=False, conf=logging(*["method stderr"] * 9))
    p = run_ergo("checkconfig", "--config", s.conf_path)
    assert p.returncode == 1
    assert re.search(r"ergo\.conf:\d+:1: at most 8 logging blocks",
                     p.stderr), p.stderr


def test_fatal_start_up_errors_go_to_stderr_at_error_with_absolute_paths():
    """A server that cannot start says why at level error, with absolute
    paths, in its log file and on stderr as well, though the config logs
    only to a file (stderr is what init scripts keep: it used to stay
    empty, the reason only in the file, at warn, with a relative path).
    Once it serves, errors go only where the config says."""
    conf = logging("method file  path main.log")
    d = Server(conf=conf, start=False).dir
    with open(os.path.join(d, "ergo.conf")) as f:
        text = f.read().replace("path ircd.db", "path nodir/ircd.db")
    with open(os.path.join(d, "ergo.conf"), "w") as f:
        f.write(text)
    p = run_ergo("run", "--config", os.path.join(d, "ergo.conf"),
                 *ALLOW_ROOT, cwd=d,
                 timeout=20)
    assert p.returncode == 1, (p.returncode, p.stderr)
    db = os.path.join(d, "nodir", "ircd.db")
    want = [r" error store %s: No such file or directory$" % re.escape(db),
            r" error server not started: the database %s cannot be used$"
            % re.escape(db)]
    with open(os.path.join(d, "main.log")) as f:
        logged = f.read()
    for w in want:
        assert re.search(w, p.stderr, re.M), p.stderr
        assert re.search(w, logged, re.M), logged
    # a log file that cannot be opened: named absolutely, at error
    with open(os.path.join(d, "ergo.conf"), "w") as f:
        f.write(text.replace("path main.log", "path nolog/main.log"))
    p = run_ergo("run", "--config", os.path.join(d, "ergo.conf"),
                 *ALLOW_ROOT, cwd=d,
                 timeout=20)
    assert p.returncode == 1
    assert re.search(r" error server not started: cannot open log file "
                     r"%s: No such file" % re.escape(
                         os.path.join(d, "nolog", "main.log")),
                     p.stderr), p.stderr


def test_errors_after_start_go_only_where_the_config_says():
    s = Server(conf=logging("method file  path main.log"))
    s.write_config(s.config_text() + "bogus-key yes\n")
    s.signal(signal.SIGHUP)
    wait_file(os.path.join(s.dir, "main.log"),
              r"error rehash config not reloaded")
    assert " error " not in s.logtext(), s.logtext()
