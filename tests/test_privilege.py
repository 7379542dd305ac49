"""Privilege and secrets: root is dropped once the listeners are bound
(server { user group }), running as root without it is said loudly, and
a world-readable TLS key draws a warning (ergo_priv.c, net.c)."""

import os
import pwd
import re
import subprocess

from ergotest import Server, Skip, run_ergo, wait_for


def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root to test dropping it")


def proc_ids(pid):
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid", "Groups"):
                ids[k] = v.split()
    return ids


def test_root_is_dropped_to_the_configured_user_after_binding():
    need_root()
    nobody = pwd.getpwnam("nobody")
    s = Server(server="user nobody", start=False)
    os.chown(s.dir, nobody.pw_uid, nobody.pw_gid)   # its database dir
    # SQLite opens the database by its absolute path: the user must be
    # able to reach it (the runner's own temp dirs are 0700)
    parent = os.path.dirname(s.dir)
    mode = os.stat(parent).st_mode & 0o777
    os.chmod(parent, mode | 0o711)
    try:
        s.start()
    finally:
        os.chmod(parent, mode)
    s.wait_log(r"info server running as nobody \(uid %d, gid %d\)"
               % (nobody.pw_uid, nobody.pw_gid))
    ids = proc_ids(s.pid)
    assert ids["Uid"] == [str(nobody.pw_uid)] * 4, ids
    assert ids["Gid"] == [str(nobody.pw_gid)] * 4, ids
    assert ids["Groups"] in ([], [str(nobody.pw_gid)]), ids
    c = s.client("unprivileged")
    c.send("PING :x")
    c.expect(r"PONG \S+ :?x$")
    st = os.stat(os.path.join(s.dir, "ircd.db"))
    assert st.st_uid == nobody.pw_uid, "database not created by the user"


def test_unknown_user_makes_run_exit_1():
    need_root()
    s = Server(server="user no-such-user-here", start=False)
    s.start(wait=False)
    assert s.wait_exit(10) == 1
    assert re.search(r"server\.user no-such-user-here: no such user",
                     s.logtext()), s.logtext()


def test_root_user_is_refused():
    need_root()
    s = Server(server="user root", start=False)
    s.start(wait=False)
    assert s.wait_exit(10) == 1
    assert "server.user root is root" in s.logtext(), s.logtext()


def test_running_as_root_without_a_user_is_warned_about():
    need_root()
    s = Server()
    s.wait_log(r"warn server running as root: set server \{ user NAME \}")


def test_a_world_readable_tls_key_is_warned_about_at_start_and_rehash():
    s = Server(start=False)
    cert, key = os.path.join(s.dir, "c.pem"), os.path.join(s.dir, "k.pem")
    r = run_ergo("mkcerts", "--cert", cert, "--key", key, "--host",
                 "localhost")
    assert r.returncode == 0, r.stderr
    os.chmod(key, 0o644)
    s.extra_server = ('listen 127.0.0.1:0 { tls { cert "%s"  key "%s" } }'
                      % (cert, key))
    s.write_config()
    s.start()
    s.wait_log(r"warn tls \S*k\.pem is readable by every user \(mode 644\)")
    os.chmod(key, 0o600)
    n = s.logtext().count("readable by every user")
    s.signal(__import__("signal").SIGHUP)
    s.wait_log(r"configuration reloaded")
    assert s.logtext().count("readable by every user") == n
