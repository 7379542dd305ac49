"""kill -9 at random moments while accounts and channels are being
registered: after a restart every registration the server confirmed is
there, and the database passes PRAGMA integrity_check (store.c commits
before it answers; SQLite's WAL does the rest)."""

import os
import random
import sqlite3

from ergotest import Server, wait_for

ROUNDS = 8


def test_kill_9_mid_registration_loses_nothing_confirmed():
    rnd = random.Random(os.environ.get("ERGO_TEST_SEED", "ergo"))
    s = Server()
    confirmed_acc, confirmed_chan = set(), set()
    for r in range(ROUNDS):
        clients = []
        for i in range(4):
            n = "k%dn%d" % (r, i)
            c = s.client(n)
            c.send("NS REGISTER pw-%s" % n)
            c.send("JOIN #k%dc%d" % (r, i))
            c.send("CS REGISTER #k%dc%d" % (r, i))
            clients.append((n, c))
        # the first confirmation, then a random moment later, kill -9
        clients[0][1].expect(r"Account created", timeout=10)
        target = rnd.randrange(1, 40)
        seen = 0
        for n, c in clients:
            for l in c.sync(timeout=10):
                seen += 1
                if "Account created" in l:
                    confirmed_acc.add(n.lower())
                if "successfully registered" in l:
                    confirmed_chan.add(("#" + l.split("#", 1)[1].split()[0]
                                        ).lower())
                if seen >= target:
                    break
            if seen >= target:
                break
        s.kill()
        for _, c in clients:
            c.close()
        db = sqlite3.connect(os.path.join(s.dir, "ircd.db"))
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
        s.start()
        wait_for(s.running, 5, "the restarted server")
    s.stop()
    db = sqlite3.connect(os.path.join(s.dir, "ircd.db"))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    accounts = {r[0].lower() for r in db.execute("SELECT name FROM accounts")}
    chans = {r[0].lower() for r in db.execute("SELECT name FROM channels")}
    db.close()
    assert confirmed_acc and confirmed_chan, "nothing was ever confirmed"
    assert confirmed_acc <= accounts, confirmed_acc - accounts
    assert confirmed_chan <= chans, confirmed_chan - chans
