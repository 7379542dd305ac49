"""Database faults at runtime (store.c, ergo.c): a full disk (the file
size limit, RLIMIT_FSIZE, which a full filesystem looks like to SQLite)
gets the client a clear NickServ notice, a log line, no crash, and nothing
half-saved; registrations work again once there is room. The same for
database files that turn read-only under a running server."""

import os
import re
import resource
import signal
import sqlite3
import subprocess

from ergotest import ERGO_BIN, Server, Skip, wait_for


def start_with_fsize_limit(s, limit):
    """Starts s with RLIMIT_FSIZE (bytes) set for the server only."""
    def lim():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    real = subprocess.Popen

    def popen(*a, **kw):
        kw["preexec_fn"] = lim
        return real(*a, **kw)
    subprocess.Popen = popen
    try:
        s.start()
    finally:
        subprocess.Popen = real


def register(s, nick):
    c = s.client(nick)
    c.send("PRIVMSG NickServ :REGISTER pw-%s" % nick)
    line = c.expect(r"NOTICE %s :" % nick)
    c.close()
    return line


def test_a_full_disk_is_told_to_the_client_and_nothing_is_half_saved():
    s = Server(start=False)
    s.start()                      # create the database at full size
    s.stop()
    size = os.path.getsize(os.path.join(s.dir, "ircd.db"))
    # room for the log and the WAL header, not for many pages
    start_with_fsize_limit(s, size + 8192)
    got, failed = [], None
    for i in range(200):
        line = register(s, "full%d" % i)
        if "Account created" in line:
            got.append("full%d" % i)
        else:
            failed = line
            break
    assert failed is not None, "200 accounts fit in %d bytes" % (size + 8192)
    assert re.search(r"nothing was saved|could not|failed", failed), failed
    assert s.running(), "the server died on a full disk:\n" + s.logtail()
    c = s.client("stillserved")
    c.send("PING :x")
    c.expect(r"PONG \S+ :?x$")
    s.stop()
    # every account the server confirmed is there, the file is sound
    db = sqlite3.connect(os.path.join(s.dir, "ircd.db"))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    names = {r[0].lower() for r in db.execute(
        "SELECT name FROM accounts")}
    db.close()
    assert {n.lower() for n in got} <= names, (got, names)
    # with room again, registrations work
    s.start()
    assert "Account created" in register(s, "roomagain")


def chattr(flag, paths):
    """chattr +i / -i: an immutable file refuses writes even to root and
    even through descriptors already open, as a read-only filesystem
    does (a read-only remount is refused while files are open for
    writing, and root ignores file modes)."""
    r = subprocess.run(["chattr", flag] + paths, capture_output=True,
                       text=True)
    return r.returncode == 0, r.stderr


def store_warnings(s):
    return [l for l in s.logtext().split("\n") if " warn store " in l]


def test_a_read_only_database_at_runtime_fails_writes_clearly_and_recovers():
    s = Server()
    assert "Account created" in register(s, "before")
    db = os.path.join(s.dir, "ircd.db")
    # the database and its WAL; not the -shm index, which SQLite writes
    # through a shared mapping (a fault there is SIGBUS, not an error)
    files = [db, db + "-wal"]
    ok, err = chattr("+i", files)
    if not ok:
        raise Skip("chattr +i not supported here: %s" % err.strip())
    try:
        line = register(s, "during")
        assert re.search(r"Registration: the account database failed "
                         r"\(disk I/O error: Operation not permitted\); "
                         r"nothing was saved$", line), line
        assert s.running(), "the server died:\n" + s.logtail()
        # one log line, naming the file and the error
        warned = wait_for(lambda: store_warnings(s), 5, "a log line")
        assert len(warned) == 1 and "ircd.db" in warned[0], warned
        # reads still work: the account from before logs in
        c = s.client("reader")
        c.send("PRIVMSG NickServ :IDENTIFY before pw-before")
        c.expect(r" 900 reader ")
        c.close()
    finally:
        chattr("-i", files)
    # writable again: writes resume, and what was refused is not there
    assert "Account created" in register(s, "after")
    assert len(store_warnings(s)) == 1, store_warnings(s)
    s.stop()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    names = {r[0].lower() for r in con.execute("SELECT name FROM accounts")}
    con.close()
    assert names >= {"before", "after"} and "during" not in names, names
