"""SQLite's WAL checkpoints in a process of their own (store_ckpt.c,
datastore { checkpoint-process }): with persistent history the server
forks one child at start that checkpoints the WAL when asked, so the
loop does not wait for the syncs; the WAL still restarts from its start
(its file stays small) and the database file grows; every row is kept;
a killed child is said once and the server checkpoints itself from then
on; a stopped (stuck) one past the ceiling too; an orderly stop leaves
neither a child nor a -wal file; `checkpoint-process no` forks none; a
rehash cannot change it; the server's own process syncs nothing while
history alone is written (strace): the child restarts the WAL too."""

import os
import re
import signal
import sys
import time

from ergotest import Server, strace, wait_for
from test_history_persist import client, register_chan, db_rows, history

CONF = ("history { persistent yes  channel-length 100000  "
        "channel-max-bytes 64m }\n"
        "logging { method stderr  level debug  types store server rehash }")
PAD = "x" * 380         # rows of ~400 bytes: ~8,000 of them a checkpoint
STARTED = r"info store checkpoint process pid (\d+) started"
DONE = r"debug store checkpoint process pid %d: (-?\d+) of (-?\d+) WAL pages"
INLINE = "checkpointing in the server"
# sustained history traffic: more than a batch while the child
# checkpoints would be written anyway (a burst past the hold, irc_hist.c);
# the hold is 2,048 rows, 400 ms of this: a checkpoint of these ~1,000
# pages took 36-110 ms, more on a machine at load 4-5, where 20,000 and
# then 10,000 a second (100 and 200 ms) were each once too little: the
# server wrote through the checkpoint and started the WAL over itself
RATE = 5000


def child_pid(srv):
    pid = int(srv.wait_log(STARTED).group(1))
    assert pid != srv.pid
    return pid


def gone(pid):
    """The process is no more (not even a zombie: its parent reaped it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def children(pid):
    """The PIDs of pid's children (Linux only: None elsewhere)."""
    path = "/proc/%d/task/%d/children" % (pid, pid)
    if not sys.platform.startswith("linux") or not os.path.exists(path):
        return None
    with open(path) as f:
        return [int(x) for x in f.read().split()]


def sender(srv):
    """A client of an account that registered #f, joined to it, with no
    echo-message (a flood of its own lines would fill its sendq)."""
    a = client(srv, "flo", register=True)
    register_chan(a, "#f")
    s = srv.client("plain")
    s.send("NS IDENTIFY flo pw")
    s.expect("You're now logged in")
    s.send("JOIN #f")
    s.expect(r" 366 ")
    return s


def flood(s, first, n, rate=None):
    """Messages first .. first+n-1 to #f, a thousand at a time, or at
    most rate a second in hundreds (a sustained rate, not a burst)."""
    step = 1000 if rate is None else 100
    t0 = time.monotonic()
    for k in range(first, first + n, step):
        if rate is not None:
            # pacing the sender, not waiting for the server
            ahead = t0 + (k - first) / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        s.send_raw("".join("PRIVMSG #f :%d %s\r\n" % (i, PAD)
                           for i in range(k, min(first + n, k + step))))
        if rate is None or (k - first) % 1000 == 0:
            s.sync(timeout=30)
    s.sync(timeout=30)


def checkpointed_by(srv, pid):
    """sender(srv), once its first 10,000 rows had the child pid run a
    checkpoint."""
    s = sender(srv)
    flood(s, 0, 10000)
    srv.wait_log(DONE % pid)
    return s


def files(srv):
    db = os.path.join(srv.dir, "ircd.db")
    wal = db + "-wal"
    return (os.path.getsize(db),
            os.path.getsize(wal) if os.path.exists(wal) else None)


def checkpointed(srv, n, pages=4000):
    """n rows are more than the WAL holds (pages of 4 KiB and their
    frame headers): they went on into the database file, and the WAL
    started over (it stayed smaller)."""
    size, wal = files(srv)
    assert n * len(PAD) > pages * 4200
    assert size + wal > n * len(PAD), (size, wal)
    assert wal < pages * 4200, (size, wal)


def all_written(srv, n):
    wait_for(lambda: db_rows(srv) == [(n,)], timeout=30,
             what="%d rows in the database" % n)


def test_the_child_checkpoints_the_wal_and_every_row_is_kept():
    with Server(conf=CONF) as srv:
        pid = child_pid(srv)
        kids = children(srv.pid)
        assert kids is None or kids == [pid], kids
        s = sender(srv)
        n = 60000
        flood(s, 0, n)
        all_written(srv, n)
        done = [(int(a), int(b)) for a, b in
                re.findall(DONE % pid, srv.logtext())]
        # the child did them, and the WAL started over after them (a
        # flood writes on during one, up to 2,048 rows, so that may take
        # a few; on a busy machine the server may join in at the ceiling,
        # and a checkpoint of the child then finds it busy: -1)
        assert len([d for d, _ in done if d >= 1000]) >= 3, done
        assert any(b[1] < a[1] for a, b in zip(done, done[1:])), done
        checkpointed(srv, n, 5000)
        # and CHATHISTORY finds the first and the last after a restart
        # (read back from the database)
        assert srv.stop() == 0
        srv.start()
        a = client(srv, "flo", identify="flo")
        a.send("JOIN #f")
        a.expect(r" 366 ")
        got = history(a, "CHATHISTORY LATEST #f * 3")
        assert [m[3] for m in got] == ["%d %s" % (i, PAD) for i in
                                       range(n - 3, n)], got
        got = history(a, "CHATHISTORY AFTER #f "
                      "timestamp=2000-01-01T00:00:00.000Z 3")
        assert [m[3] for m in got] == ["%d %s" % (i, PAD) for i in
                                       range(3)], got


def test_a_killed_child_is_said_once_and_the_server_checkpoints_itself():
    with Server(conf=CONF) as srv:
        pid = child_pid(srv)
        s = checkpointed_by(srv, pid)
        os.kill(pid, signal.SIGKILL)
        srv.wait_log(r"warn store checkpoint process pid %d ended \(killed "
                     r"by signal %d\); checkpointing in the server from now "
                     r"on" % (pid, signal.SIGKILL))
        wait_for(lambda: gone(pid), what="the child reaped")
        assert children(srv.pid) in (None, [])
        before = len(re.findall(DONE % pid, srv.logtext()))
        flood(s, 10000, 40000)
        all_written(srv, 50000)
        log = srv.logtext()
        assert log.count("checkpoint process pid %d ended" % pid) == 1
        assert len(re.findall(DONE % pid, log)) == before
        checkpointed(srv, 50000, 2000)         # by the server
        assert srv.stop() == 0
        assert not os.path.exists(os.path.join(srv.dir, "ircd.db-wal"))
        assert db_rows(srv) == [(50000,)]


def test_a_stuck_child_past_the_ceiling_has_the_server_checkpoint_too():
    with Server(conf=CONF) as srv:
        pid = child_pid(srv)
        s = sender(srv)
        os.kill(pid, signal.SIGSTOP)
        try:
            # batches wait for the child (up to 2,048 rows), then go on;
            # the WAL grows to the ceiling (4,000 pages), where the
            # server checkpoints too
            flood(s, 0, 30000)
            srv.wait_log(r"info store the WAL has \d+ pages while "
                         r"checkpoint process pid %d is busy; %s too"
                         % (pid, INLINE), timeout=30)
        finally:
            os.kill(pid, signal.SIGCONT)
        all_written(srv, 30000)
        srv.wait_log(DONE % pid)
        size, wal = files(srv)
        assert wal <= 16 * 1024 * 1024 + 4200 * 600, (size, wal)
        assert srv.stop() == 0
        assert gone(pid)


def test_an_orderly_stop_leaves_neither_child_nor_wal():
    with Server(conf=CONF) as srv:
        pid = child_pid(srv)
        s = checkpointed_by(srv, pid)
        s.send("PRIVMSG #f :the last one")
        s.sync()
        assert srv.stop() == 0
        assert gone(pid)
        assert not os.path.exists(os.path.join(srv.dir, "ircd.db-wal"))
        assert db_rows(srv) == [(10001,)]


def no_child_conf(srv):
    return srv.config_text().replace(
        "datastore { path ircd.db }",
        "datastore { path ircd.db  checkpoint-process no }")


def test_checkpoint_process_no_forks_none_and_checkpoints_in_the_server():
    srv = Server(conf=CONF, start=False)
    srv.write_config(no_child_conf(srv))
    with srv.start():
        assert children(srv.pid) in (None, [])
        s = sender(srv)
        flood(s, 0, 50000)
        all_written(srv, 50000)
        assert "checkpoint process" not in srv.logtext()
        checkpointed(srv, 50000, 2000)
        assert children(srv.pid) in (None, [])
        assert srv.stop() == 0
        assert not os.path.exists(os.path.join(srv.dir, "ircd.db-wal"))


def test_a_rehash_does_not_change_it():
    with Server(conf=CONF) as srv:
        pid = child_pid(srv)
        srv.write_config(no_child_conf(srv))
        srv.signal(signal.SIGHUP)
        srv.wait_log(r"warn rehash datastore.checkpoint-process cannot "
                     r"change while running; restart to apply it")
        srv.wait_log(r"info rehash configuration reloaded")
        assert not gone(pid)
        checkpointed_by(srv, pid)
        # and the other way: started without one, none comes
        assert srv.stop() == 0
        assert gone(pid)
        srv.start()
        assert children(srv.pid) in (None, [])
        srv.write_config(srv.config_text())
        srv.signal(signal.SIGHUP)
        wait_for(lambda: srv.logtext().count("checkpoint-process cannot "
                                             "change") == 2,
                 what="the second rehash refused")
        assert len(re.findall(STARTED, srv.logtext())) == 1
        assert children(srv.pid) in (None, [])


def server_syncs(srv, first, n, until=None):
    """The files the server's own process (not its children) fdatasyncs
    or fsyncs while n messages from first on are written (the sender's
    account and channel registered before) and until until() holds,
    under strace attached to it (Linux; from scripts/deps.sh's test set).
    The rows are counted in the database only after: a reader of its own
    may hold the WAL from starting over at the end of a checkpoint."""
    # registered first: an account or channel change is a FULL commit,
    # synced by the server itself, as it must be
    s = sender(srv)
    out = os.path.join(srv.dir, "strace.out")
    with strace(srv.pid, "fdatasync,fsync", out):
        flood(s, first, n, rate=RATE)
        if until is not None:
            wait_for(until, timeout=30, what="checkpoints")
    all_written(srv, first + n)
    with open(out) as f:
        return re.findall(r"f(?:data)?sync\(\d+<([^>]*)>\)", f.read())


def test_the_server_itself_syncs_nothing_while_history_is_written():
    """With the checkpoint process, the server's own process syncs no
    file while history alone is written: the database file, which
    checkpoints write, and the WAL's new header when it starts over are
    synced by the child. Without it, the server syncs both."""
    with Server(conf=CONF) as srv:
        pid = child_pid(srv)
        files_synced = server_syncs(
            srv, 0, 20000,
            until=lambda: len(re.findall(DONE % pid, srv.logtext())) >= 2)
        assert files_synced == [], files_synced
    srv = Server(conf=CONF, start=False)
    srv.write_config(no_child_conf(srv))
    with srv.start():
        files_synced = server_syncs(srv, 0, 20000)
        assert [f for f in files_synced if f.endswith("ircd.db")], \
            files_synced
