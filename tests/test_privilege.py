"""Privilege and secrets: root is dropped once the listeners are bound
(server { user group }), running as root without it is said loudly, a
chroot (server { chroot }) confines the server and its rehashes, and
a world-readable TLS key draws a warning (ergo_priv.c, net.c)."""

import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile

from ergotest import ERGO_BIN, Server, Skip, free_port, run_ergo, wait_for


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
    """With --allow-root (which the harness passes as root), it runs and
    says loudly that it runs as root."""
    need_root()
    s = Server()
    assert "--allow-root" in open(s.log_path).read().split("\n")[0]
    s.wait_log(r"warn server running as root: set server \{ user NAME \}")


def test_running_as_root_without_a_user_is_refused_without_allow_root():
    """A root run without server { user } left root-owned files (ircd.db,
    log files) that a later start as the service user could not open:
    ergo run now refuses it, before it opens a listener or the database,
    unless --allow-root says so; with server { user } it needs no flag."""
    need_root()
    s = Server(start=False)
    p = subprocess.run([ERGO_BIN, "run", "--config", s.conf_path],
                       cwd=s.dir, capture_output=True, text=True,
                       timeout=20)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert re.search(r" error server not started: running as root without "
                     r"server \{ user NAME \}.*--allow-root", p.stderr), \
        p.stderr
    assert not os.path.exists(os.path.join(s.dir, "ircd.db"))
    # with server { user }, no flag: it gets past the check and drops
    # root (the test's directory is the runner's 0700 one, so nobody
    # then cannot create ircd.db there: that exit is not the refusal)
    s.extra_server = "user nobody"
    s.write_config()
    p = subprocess.run([ERGO_BIN, "run", "--config", s.conf_path],
                       cwd=s.dir, capture_output=True, text=True,
                       timeout=20)
    assert "running as root without" not in p.stderr, p.stderr
    assert "running as nobody" in p.stderr, p.stderr


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
    assert "outside" not in text and "cannot be reached" not in text, text
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
        assert re.search(r"warn server tls cert %s lies outside "
                         r"server\.chroot .*: a rehash cannot read it"
                         % re.escape(cert), s.logtext()), s.logtail()
        assert re.search(r"error rehash tls cert %s cannot be reached "
                         r"inside server\.chroot \S+, so it cannot be "
                         r"opened now" % re.escape(cert), s.logtext()), \
            s.logtail()
        c = s.client("stillserved")
        c.send("PING :x")
        c.expect(r"PONG \S+ :?x$")
    finally:
        shutil.rmtree(outside)


def served_tls(port):
    """A TLS handshake with the listener on port succeeds."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw) as t:
            return t.version() is not None


def test_chroot_through_a_symlink_finds_every_path_inside():
    """server { chroot LINK } with LINK -> the real directory, and every
    path written with LINK (or another link into it) as its prefix, the
    config's too: the database, log, MOTD (relative to the config) and
    certificate are all found inside, at start and at rehash; the
    database is made inside on first launch."""
    s = chrooted()
    links = tempfile.mkdtemp(prefix="ergo-links-")
    try:
        link = os.path.join(links, "ergo-link")
        os.symlink(s.dir, link)
        os.mkdir(os.path.join(s.dir, "certs"))
        certs = os.path.join(links, "certs-link")      # another link in
        os.symlink(os.path.join(s.dir, "certs"), certs)
        r = run_ergo("mkcerts", "--cert", os.path.join(certs, "c.pem"),
                     "--key", os.path.join(certs, "k.pem"), "--host",
                     "localhost")
        assert r.returncode == 0, r.stderr
        nobody = pwd.getpwnam("nobody")
        for f in ("c.pem", "k.pem"):      # read again by nobody at rehash
            os.chown(os.path.join(s.dir, "certs", f), nobody.pw_uid,
                     nobody.pw_gid)
        with open(os.path.join(s.dir, "ergo.motd"), "w") as f:
            f.write("motd-before\n")
        tls = free_port()
        log = os.path.join(link, "main.log")
        s.write_config(
            "server {\n name irc.test\n listen 127.0.0.1:%d\n"
            ' listen 127.0.0.1:%d { tls { cert "%s/c.pem"  key "%s/k.pem" }'
            ' }\n ip-cloaking { enabled no }\n user nobody\n'
            ' chroot "%s"\n motd ergo.motd\n}\n'
            'datastore { path "%s/ircd.db" }\n'
            'logging { method file  path "%s" }\n'
            % (s.port, tls, certs, certs, link, link, log))
        # the config by the link too: its relative MOTD is under the link
        s.args = ["run", "--config", os.path.join(link, "ergo.conf")]
        s.start()
        real_log = os.path.join(s.dir, "main.log")
        wait_for(lambda: os.path.exists(real_log) and
                 "running as nobody" in open(real_log).read(), 5,
                 "the chroot")
        assert os.readlink("/proc/%d/root" % s.pid) == \
            os.path.realpath(s.dir)
        assert "lies outside" not in open(real_log).read()
        assert "motd-before" in motd_of(s, "link1")
        c = s.client("link2")
        c.send("PRIVMSG NickServ :REGISTER pw-link")
        c.expect(r"NOTICE link2 :Account created")
        st = os.stat(os.path.join(s.dir, "ircd.db"))
        assert st.st_uid == pwd.getpwnam("nobody").pw_uid
        assert served_tls(tls)
        # rehash and log reopen: the same names, read from inside
        with open(os.path.join(s.dir, "ergo.motd"), "w") as f:
            f.write("motd-after\n")
        os.rename(real_log, real_log + ".1")
        s.signal(signal.SIGHUP)
        wait_for(lambda: os.path.exists(real_log) and
                 "configuration reloaded" in open(real_log).read(), 5,
                 "the log reopened inside the chroot")
        text = open(real_log + ".1").read() + open(real_log).read()
        assert "not reloaded" not in text and "outside" not in text, text
        assert "motd-after" in motd_of(s, "link3")
        assert served_tls(tls)
    finally:
        shutil.rmtree(links)


def test_a_database_outside_the_chroot_is_refused_by_name():
    s = chrooted()
    outside = tempfile.mkdtemp(prefix="ergo-outside-")
    try:
        db = os.path.join(outside, "ircd.db")
        s.write_config(s.config_text().replace(
            "datastore { path ircd.db }", 'datastore { path "%s" }' % db))
        s.start(wait=False)
        assert s.wait_exit(10) == 1, s.logtext()
        assert "error server datastore.path %s lies outside server.chroot " \
            "%s, where the database is opened" \
            % (db, os.path.realpath(s.dir)) in s.logtext(), s.logtext()
        assert not os.path.exists(db)
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
