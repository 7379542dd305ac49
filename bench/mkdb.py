#!/usr/bin/env python3
"""bench/mkdb.py DB ACCOUNTS HISTORY_ROWS [CHANNELS]: fills a database
made by `ergo initdb` with ACCOUNTS accounts (each reserving its nick,
random credentials that no password matches) and HISTORY_ROWS rows of
channel history spread over CHANNELS (100) registered channels #chanN,
the newest in the last hour; #bench is registered too (no history). For the start-time and history sweeps of
bench/run.sh; one transaction, a few seconds per million rows."""

import os
import sqlite3
import sys
import time


def main():
    db, nacc, nhist = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    nchan = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    now = int(time.time())
    rnd = os.urandom(64)
    with con:
        con.executemany(
            "INSERT INTO accounts (name, display, salt, iterations, "
            "stored_key, server_key, email, registered) "
            "VALUES (?, ?, ?, 4096, ?, ?, NULL, ?)",
            (("acct%d" % i, "Acct%d" % i, rnd[:16], rnd[16:48], rnd[32:64],
              now) for i in range(max(nacc, 1))))
        con.executemany(
            "INSERT INTO nick_reservations (nick, account, reserved) "
            "VALUES (?, ?, ?)",
            (("acct%d" % i, i + 1, now) for i in range(max(nacc, 1))))
        con.executemany(
            "INSERT INTO channels (name, display, founder, registered) "
            "VALUES (?, ?, 1, ?)",
            (("#chan%d" % i, "#chan%d" % i, now) for i in range(nchan)))
        ids = [r[0] for r in con.execute("SELECT id FROM channels "
                                         "ORDER BY id")]
        # the channel bench/load's fanout uses, registered: persisted
        con.execute("INSERT INTO channels (name, display, founder, "
                    "registered) VALUES ('#bench', '#bench', 1, ?)", (now,))
        ms0 = now * 1000 - 3600 * 1000
        step = 3600 * 1000 / max(nhist, 1)

        def rows():
            for i in range(nhist):
                ms = int(ms0 + i * step)
                t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000))
                c = i % nchan
                yield (ids[c], i + 1, ms, "m%015x" % i,
                       "%s.%03dZ" % (t, ms % 1000),
                       "user%d!u@host" % (i % 997), "#chan%d" % c,
                       "message %d of the history benchmark, some words "
                       "to make it a line of a usual length" % i)
        con.executemany(
            "INSERT INTO history (channel, account, seq, ms, kind, bot, "
            "msgid, time, source, target, peer, text, ctags, acct_tag) "
            "VALUES (?, NULL, ?, ?, 0, 0, ?, ?, ?, ?, NULL, ?, NULL, NULL)",
            rows())
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


if __name__ == "__main__":
    main()
