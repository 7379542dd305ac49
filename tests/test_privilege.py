"""Privilege and secrets: root is dropped once the listeners are bound
(server { user group }), running as root without it is said loudly, a
chroot (server { chroot }) confines the server and its rehashes, and
a world-readable TLS key draws a warning (ergo_priv.c, net.c)."""

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile

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


# ---------------------------------------------------------------- chroot

def chrooted(extra="", conf=""):
    """A server chrooted into its own directory as nobody: the directory
    is nobody's (the database is made inside it after the drop)."""
    need_root()
    nobody = pwd.getpwnam("nobody")
    s = Server(start=False, conf=conf)
    s.extra_server = 'user nobody\nchroot "%s"\n%s' % (s.dir, extra)
    s.write_config()
    os.chown(s.dir, nobody.pw_uid, nobody.pw_gid)
    return s


def motd_of(s, nick):
    c = s.client(nick)
    lines = [l for l in c.received if " 372 " in l]
    c.close()
    return " ".join(lines)


def test_chroot_confines_the_server_and_rehash_reads_inside_it():
    s = chrooted("motd ergo.motd")
    log = os.path.join(s.dir, "main.log")
    s.extra_conf = 'logging { method file  path "%s" }' % log
    s.write_config()
    with open(os.path.join(s.dir, "ergo.motd"), "w") as f:
        f.write("motd-before\n")
    s.start()
    real = os.path.realpath(s.dir)
    wait_for(lambda: re.search(r"info server chrooted to %s\n.*running as "
                               r"nobody" % re.escape(real),
                               open(log).read(), re.S), 5, "the chroot")
    assert os.readlink("/proc/%d/root" % s.pid) == real
    assert "motd-before" in motd_of(s, "inside1")
    # the database, opened after the chroot, is the one in the directory
    c = s.client("inside2")
    c.send("PRIVMSG NickServ :REGISTER pw-inside")
    c.expect(r"NOTICE inside2 :Account created")
    st = os.stat(os.path.join(s.dir, "ircd.db"))
    assert st.st_uid == pwd.getpwnam("nobody").pw_uid
    # the config (by its absolute path, made relative to the chroot) and
    # the MOTD are read anew from inside at rehash
    with open(os.path.join(s.dir, "ergo.motd"), "w") as f:
        f.write("motd-after\n")
    os.rename(log, log + ".1")              # logrotate, then HUP
    s.signal(signal.SIGHUP)
    wait_for(lambda: os.path.exists(log) and
             "configuration reloaded" in open(log).read(), 5,
             "the log reopened inside the chroot")
    text = open(log + ".1").read() + open(log).read()
    assert "not reloaded" not in text and "cannot open" not in text, text
    assert "motd-after" in motd_of(s, "inside3")


def test_rehash_in_a_chroot_cannot_reach_a_certificate_outside_it():
    outside = tempfile.mkdtemp(prefix="ergo-outside-")
    try:
        cert = os.path.join(outside, "c.pem")
        key = os.path.join(outside, "k.pem")
        r = run_ergo("mkcerts", "--cert", cert, "--key", key, "--host",
                     "localhost")
        assert r.returncode == 0, r.stderr
        s = chrooted('listen 127.0.0.1:0 { tls { cert "%s"  key "%s" } }'
                     % (cert, key))
        s.start()                # read before the chroot: TLS is served
        s.wait_log(r"info server chrooted to ")
        s.signal(signal.SIGHUP)
        s.wait_log(r"config not reloaded; still running on the previous")
        assert re.search(r"error rehash .*c\.pem", s.logtext()), s.logtail()
        c = s.client("stillserved")
        c.send("PING :x")
        c.expect(r"PONG \S+ :?x$")
    finally:
        shutil.rmtree(outside)


def test_chroot_into_a_missing_directory_makes_run_exit_1():
    need_root()
    s = Server(server="user nobody\nchroot /nonexistent-ergo-chroot",
               start=False)
    s.start(wait=False)
    assert s.wait_exit(10) == 1
    assert "server.chroot /nonexistent-ergo-chroot: No such file or " \
        "directory" in s.logtext(), s.logtext()


def test_chroot_when_not_root_makes_run_exit_1_and_says_why():
    need_root()
    nobody = pwd.getpwnam("nobody")
    s = Server(server="chroot /", start=False)
    os.chown(s.dir, nobody.pw_uid, nobody.pw_gid)   # its config, as nobody
    os.chown(s.conf_path, nobody.pw_uid, nobody.pw_gid)

    def become_nobody():
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
    real = subprocess.Popen

    def popen(*a, **kw):
        kw["preexec_fn"] = become_nobody
        return real(*a, **kw)
    subprocess.Popen = popen
    parent = os.path.dirname(s.dir)         # the runner's, 0700
    mode = os.stat(parent).st_mode & 0o777
    os.chmod(parent, mode | 0o711)
    try:
        s.start(wait=False)
        assert s.wait_exit(10) == 1
    finally:
        subprocess.Popen = real
        os.chmod(parent, mode)
    assert "server.chroot /: only root can chroot" in s.logtext(), \
        s.logtext()
