"""The database file under the real binary: created 0600 in WAL mode at
the current schema; initdb, upgradedb (with a backup) and autoupgrade
from schema version 1; newer, corrupt and read-only files refused at
start with the path and SQLite's message; backupdb while the server
runs and writes."""

import glob
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading

from ergotest import (ALLOW_ROOT, Server, run_ergo, ERGO_BIN, wait_for,
                      free_port)

SCHEMA = 18     # store.c's STORE_VERSION


def db_of(srv):
    return os.path.join(srv.dir, "ircd.db")


def query(path, sql):
    h = sqlite3.connect(path)
    try:
        return h.execute(sql).fetchall()
    finally:
        h.close()


def make_v1(path):
    """A database as ergo with schema version 1 left it."""
    h = sqlite3.connect(path)
    h.execute("PRAGMA journal_mode=WAL")
    h.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
        "INSERT INTO meta VALUES ('created-at', '2026-01-01T00:00:00.000Z');"
        "PRAGMA user_version=1;")
    h.close()
    os.chmod(path, 0o600)


def start_fails(srv, pattern):
    """srv.start() must exit 1 with pattern in its log."""
    srv.start(wait=False)
    rc = srv.wait_exit(10)
    assert rc == 1, (rc, srv.logtext())
    assert re.search(pattern, srv.logtext()), srv.logtext()


def test_database_created_0600_wal_at_the_current_schema():
    with Server() as srv:
        c = srv.client("alice")
        c.sync()
        db = db_of(srv)
        assert os.stat(db).st_mode & 0o777 == 0o600
        assert query(db, "PRAGMA user_version") == [(SCHEMA,)]
        assert query(db, "PRAGMA journal_mode") == [("wal",)]
        names = {r[0] for r in query(db, "SELECT name FROM sqlite_master "
                                         "WHERE type='table'")}
        assert {"meta", "accounts", "account_certfps",
                "nick_reservations", "channels", "channel_amodes"} <= names, \
            names


def test_initdb_creates_and_refuses_an_existing_file():
    with Server(start=False) as srv:
        p = run_ergo("initdb", "--config", srv.conf_path, cwd=srv.dir)
        assert p.returncode == 0, p.stderr
        assert query(db_of(srv), "PRAGMA user_version") == [(SCHEMA,)]
        assert os.stat(db_of(srv)).st_mode & 0o777 == 0o600
        p = run_ergo("initdb", "--config", srv.conf_path, cwd=srv.dir)
        assert p.returncode == 1
        assert "ircd.db: already exists" in p.stderr, p.stderr
        srv.start()
        srv.client("bob").sync()


def test_run_on_schema_1_says_run_upgradedb():
    with Server(start=False) as srv:
        make_v1(db_of(srv))
        start_fails(srv, r"ircd\.db: schema version 1 is older than this "
                    r"ergo's \(%d\); run `ergo upgradedb`" % SCHEMA)
        assert query(db_of(srv), "PRAGMA user_version") == [(1,)]


def test_upgradedb_from_schema_1_keeps_a_backup():
    with Server(start=False) as srv:
        make_v1(db_of(srv))
        p = run_ergo("upgradedb", "--config", srv.conf_path, cwd=srv.dir)
        assert p.returncode == 0, p.stderr
        assert "schema upgraded to version %d" % SCHEMA in p.stderr, p.stderr
        baks = glob.glob(db_of(srv) + ".v1-*.bak")
        assert len(baks) == 1, os.listdir(srv.dir)
        assert os.stat(baks[0]).st_mode & 0o777 == 0o600
        assert query(baks[0], "PRAGMA user_version") == [(1,)]
        assert query(baks[0], "PRAGMA integrity_check") == [("ok",)]
        db = db_of(srv)
        assert query(db, "PRAGMA user_version") == [(SCHEMA,)]
        # the data of version 1 is kept
        assert query(db, "SELECT value FROM meta") == \
            [("2026-01-01T00:00:00.000Z",)]
        p = run_ergo("upgradedb", "--config", srv.conf_path, cwd=srv.dir)
        assert p.returncode == 0 and "is current" in p.stderr, p.stderr
        srv.start()
        c = srv.client("carol")
        c.send("PRIVMSG NickServ :REGISTER pw")
        c.expect("Account created")


def test_upgradedb_without_a_database_fails():
    with Server(start=False) as srv:
        p = run_ergo("upgradedb", "--config", srv.conf_path, cwd=srv.dir)
        assert p.returncode == 1
        assert "ircd.db: No such file or directory" in p.stderr, p.stderr
        assert not os.path.exists(db_of(srv))


def test_autoupgrade_yes_migrates_at_start():
    with Server(start=False, conf="datastore { autoupgrade yes }") as srv:
        # the generated config has a datastore block; merge them
        srv.write_config(srv.config_text().replace(
            "datastore { path ircd.db }\n", "").replace(
            "datastore { autoupgrade yes }",
            "datastore { path ircd.db  autoupgrade yes }"))
        make_v1(db_of(srv))
        srv.start()
        srv.client("dave").sync()
        assert query(db_of(srv), "PRAGMA user_version") == [(SCHEMA,)]
        assert glob.glob(db_of(srv) + ".v1-*.bak")


def test_newer_schema_is_refused():
    with Server(start=False) as srv:
        h = sqlite3.connect(db_of(srv))
        h.execute("PRAGMA user_version=99")
        h.close()
        start_fails(srv, r"ircd\.db: schema version 99 is newer than this "
                    r"ergo supports")


def test_corrupt_database_exits_1_with_path_and_message():
    with Server(start=False) as srv:
        with open(db_of(srv), "wb") as f:
            f.write(b"garbage, not SQLite " * 400)
        start_fails(srv, r"ircd\.db: file is not a database")


def test_truncated_database_exits_1():
    with Server() as srv:
        c = srv.client("erin")
        c.send("PRIVMSG NickServ :REGISTER pw")
        c.expect("Account created")
        srv.stop()
        db = db_of(srv)
        size = os.path.getsize(db)
        with open(db, "r+b") as f:      # keep the header, ruin the rest
            f.seek(100)
            f.write(b"\xff" * (size - 100))
        for s in ("-wal", "-shm"):
            if os.path.exists(db + s):
                os.unlink(db + s)
        start_fails(srv, r"ircd\.db: .*(malformed|not a database)")


def _as_nobody():
    os.setgid(65534)
    os.setuid(65534)


def test_read_only_database_exits_1():
    # root writes to a 0444 file anyway: then run as nobody, in a
    # directory of its own that nobody can enter
    d = tempfile.mkdtemp(prefix="ergotest-ro-", dir="/tmp")
    try:
        conf = os.path.join(d, "ergo.conf")
        with open(conf, "w") as f:
            f.write("server { name irc.test  listen 127.0.0.1:%d }\n"
                    "datastore { path ircd.db }\n" % free_port())
        p = run_ergo("initdb", "--config", conf, cwd=d)
        assert p.returncode == 0, p.stderr
        os.chmod(os.path.join(d, "ircd.db"), 0o444)
        kw = {}
        if os.geteuid() == 0:
            os.chmod(d, 0o755)
            os.chmod(conf, 0o644)
            kw["preexec_fn"] = _as_nobody
        p = subprocess.run([ERGO_BIN, "run", "--config", conf], cwd=d,
                           capture_output=True, text=True, timeout=20, **kw)
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert re.search(r"ircd\.db: .*read-?only", p.stderr), p.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_backupdb_while_the_server_runs_and_writes():
    with Server() as srv:
        stop = threading.Event()
        made = []

        def writer():
            i = 0
            while not stop.is_set():
                c = srv.client("u%d" % i)
                c.send("PRIVMSG NickServ :REGISTER pw%d" % i)
                c.expect("Account created")
                c.close()
                made.append(i)
                i += 1

        t = threading.Thread(target=writer)
        t.start()
        try:
            wait_for(lambda: len(made) >= 3, 20, "accounts registered")
            copies = []
            for n in range(3):
                dest = os.path.join(srv.dir, "copy%d.db" % n)
                p = run_ergo("backupdb", dest, "--config", srv.conf_path,
                             cwd=srv.dir)
                assert p.returncode == 0, p.stderr
                copies.append(dest)
        finally:
            stop.set()
            t.join(30)
        last = 0
        for dest in copies:
            assert os.stat(dest).st_mode & 0o777 == 0o600
            assert query(dest, "PRAGMA integrity_check") == [("ok",)]
            assert query(dest, "PRAGMA user_version") == [(SCHEMA,)]
            n = query(dest, "SELECT count(*) FROM accounts")[0][0]
            assert n >= last and n >= 3, (n, last)
            last = n
        p = run_ergo("backupdb", copies[0], "--config", srv.conf_path,
                     cwd=srv.dir)
        assert p.returncode == 1 and "File exists" in p.stderr, p.stderr
        p = run_ergo("backupdb", cwd=srv.dir)
        assert p.returncode == 2


def test_unreadable_database_exits_1_with_path():
    d = tempfile.mkdtemp(prefix="ergotest-unread-", dir="/tmp")
    try:
        conf = os.path.join(d, "ergo.conf")
        with open(conf, "w") as f:
            f.write("server { name irc.test  listen 127.0.0.1:%d }\n"
                    "datastore { path ircd.db }\n" % free_port())
        p = run_ergo("initdb", "--config", conf, cwd=d)
        assert p.returncode == 0, p.stderr
        os.chmod(os.path.join(d, "ircd.db"), 0o000)
        kw = {}
        if os.geteuid() == 0:
            os.chmod(d, 0o777)      # nobody may create the -wal file
            os.chmod(conf, 0o644)
            kw["preexec_fn"] = _as_nobody
        p = subprocess.run([ERGO_BIN, "run", "--config", conf], cwd=d,
                           capture_output=True, text=True, timeout=20, **kw)
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert re.search(r"ircd\.db: .*(unable to open|Permission denied)",
                         p.stderr), p.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_accounts_keys_from_rehash_and_environment():
    with Server(env={"ERGO__ACCOUNTS__REGISTRATION": "no"}) as srv:
        c = srv.client("jane")
        c.send("PRIVMSG NickServ :REGISTER pw")
        c.expect("Account registration is disabled")
    with Server() as srv:
        c = srv.client("kim")
        srv.write_config(srv.config_text() +
                         "accounts { registration no }\n")
        srv.signal(signal.SIGHUP)
        srv.wait_log(r"configuration reloaded")
        c.send("PRIVMSG NickServ :REGISTER pw")
        c.expect("Account registration is disabled")


def test_second_server_on_the_same_database_refuses_with_the_pid():
    """Two `ergo run` on one ircd.db (another port each) used to both
    serve: two writers on one database. The second now exits 1 with
    "ircd.db is in use by pid N" (N the first's PID), logged at error,
    while the first serves on; backupdb and upgradedb still work on the
    live database, and once the first stops, a new server starts."""
    with Server() as srv:
        c = srv.client("alice")
        c.send("PRIVMSG NickServ :REGISTER pw1")
        c.expect("Account created")
        conf2 = os.path.join(srv.dir, "second.conf")
        with open(srv.conf_path) as f:
            text = f.read()
        with open(conf2, "w") as f:
            f.write(text.replace(str(srv.port), str(free_port())))
        p = run_ergo("run", "--config", conf2, *ALLOW_ROOT, cwd=srv.dir,
                     timeout=20)
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert re.search(r"error store \S*ircd\.db is in use by pid %d "
                         % srv.pid, p.stderr), p.stderr
        c.send("PING :still")
        c.expect("PONG .*still")
        dest = os.path.join(srv.dir, "live-copy.db")
        p = run_ergo("backupdb", dest, "--config", srv.conf_path,
                     cwd=srv.dir)
        assert p.returncode == 0, p.stderr
        assert query(dest, "SELECT count(*) FROM accounts")[0][0] == 1
        p = run_ergo("upgradedb", "--config", srv.conf_path, cwd=srv.dir)
        assert p.returncode == 0, p.stderr
        assert srv.stop() == 0
        port2 = free_port()
        with open(conf2, "w") as f:
            f.write(text.replace(str(srv.port), str(port2)))
        p = subprocess.Popen([ERGO_BIN, "run", "--config", conf2] + ALLOW_ROOT,
                             cwd=srv.dir, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            def up():
                assert p.poll() is None, "exited %d" % p.returncode
                try:
                    socket.create_connection(("127.0.0.1", port2),
                                             timeout=1).close()
                    return True
                except OSError:
                    return False
            wait_for(up, 10, "a server on the freed database")
        finally:
            p.terminate()
            assert p.wait(10) == 0
