"""Database faults at runtime (store.c, ergo.c): a full disk (the file
size limit, RLIMIT_FSIZE, which a full filesystem looks like to SQLite)
gets the client a clear NickServ notice, a log line, no crash, and nothing
half-saved; registrations work again once there is room."""

import os
import re
import resource
import signal
import sqlite3
import subprocess

from ergotest import ERGO_BIN, Server


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
