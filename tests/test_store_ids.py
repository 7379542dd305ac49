"""Account and channel ids are never handed out twice (schema version 7,
store.c: AUTOINCREMENT), so nothing keyed by a dropped id elsewhere can
pass to the next registration; a database of schema version 6, made by
the SQL the older ergo ran (store.c's migrations, never edited once
released) and holding real rows, upgrades with every row, foreign key
and index intact, by `ergo upgradedb` and by autoupgrade at start."""

import glob
import os
import re
import sqlite3

from ergotest import Server, run_ergo

SCHEMA = 18     # store.c's STORE_VERSION
OLD = 6
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NS = r":NickServ!NickServ@localhost NOTICE %s :"
CS = r":ChanServ!ChanServ@localhost NOTICE %s :"
TABLES = ("meta", "accounts", "account_certfps", "nick_reservations",
          "channels", "channel_amodes", "bans", "history", "read_markers")
# columns later migrations add (7 -> 8: an imported password hash; 8 -> 9
# and later: NickServ SET settings, ChanServ's settings, HostServ's
# vhosts, NickServ SET DM-HISTORY, a registered channel's +f); an upgrade from 6 leaves them NULL, and the rows compare without them
LATER = {"accounts": ("legacy_hash", "multiclient", "always_on",
                      "auto_away", "autoreplay_missed", "autoreplay_lines",
                      "replay_joins", "vhost", "vhost_on", "dm_history"),
         "channels": ("history", "query_cutoff", "forward")}


def migrations():
    """store.c's migrations[]: the SQL of each schema step, in order."""
    src = open(os.path.join(ROOT, "store.c")).read()
    body = src[src.index("migrations[] = {"):]
    body = body[body.index("{") + 1:body.index("\n};")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    steps, cur = [], []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|(,)', body):
        if m.group(2):
            steps.append("".join(cur))
            cur = []
        else:
            cur.append(m.group(1).replace('\\"', '"').replace("\\\\", "\\"))
    if cur:
        steps.append("".join(cur))
    assert len(steps) == SCHEMA, len(steps)
    return steps


def db_of(srv):
    return os.path.join(srv.dir, "ircd.db")


def query(path, sql, args=()):
    h = sqlite3.connect(path)
    try:
        return h.execute(sql, args).fetchall()
    finally:
        h.close()


def columns(path, t):
    return [r[0] for r in query(path, "SELECT name FROM pragma_table_info(?)",
                                (t,)) if r[0] not in LATER.get(t, ())]


def dump(path):
    """Every row of every table, in id/rowid order (without LATER)."""
    return {t: query(path, "SELECT %s FROM %s ORDER BY rowid"
                     % (", ".join(columns(path, t)), t))
            for t in TABLES}


def schema_of(path):
    """The indexes (name -> SQL) and each table's foreign keys."""
    # of the tables there were at version 6: later schema versions
    # add tables (and their indexes) of their own
    idx = dict(query(path, "SELECT name, sql FROM sqlite_master WHERE "
                           "type = 'index' AND tbl_name IN (%s)"
                     % ",".join("'%s'" % t for t in TABLES)))
    fks = {t: query(path, "SELECT * FROM pragma_foreign_key_list(?)", (t,))
           for t in TABLES}
    cols = {t: [c for c in query(path, "SELECT name, type, \"notnull\", "
                                 "dflt_value, pk FROM pragma_table_info(?)",
                                 (t,)) if c[0] not in LATER.get(t, ())]
            for t in TABLES}
    trig = query(path, "SELECT name FROM sqlite_master WHERE "
                       "type = 'trigger'")
    return idx, fks, cols, trig


def client(srv, nick, register=False, identify=None, pw="pw"):
    c = srv.client(nick)
    if register:
        c.send("NS REGISTER " + pw)
        c.expect(NS % nick + "Account created")
    if identify:
        c.send("NS IDENTIFY %s %s" % (identify, pw))
        c.expect(NS % nick + re.escape("You're now logged in as "
                                       + identify))
    return c


def make_old(path):
    """A schema version 6 database with the rows a running server made
    (accounts with their credentials and reserved nicks, a registered
    channel, persistent history) and one of each kind it makes less
    easily (a certificate fingerprint, an AMODE, a K-line, a read
    marker); returns its rows."""
    src = Server(conf="history { persistent yes }")
    a = client(src, "alice", register=True)
    b = client(src, "bob", register=True, pw="bobpw")
    a.send("JOIN #room")
    a.expect(r" 366 alice #room ")
    a.send("CS REGISTER #room")
    a.expect(CS % "alice" + re.escape("Channel #room successfully "
                                      "registered"))
    a.send("PRIVMSG #room :in the room")
    a.send("PRIVMSG bob :hello bob")
    b.expect(r"PRIVMSG bob :hello bob$")
    a.sync()
    src.stop()
    made = db_of(src)
    assert query(made, "SELECT count(*) FROM history")[0][0] >= 2

    h = sqlite3.connect(path)
    h.execute("PRAGMA journal_mode=WAL")
    for step in migrations()[:OLD]:
        h.executescript(step)
    h.execute("PRAGMA user_version=%d" % OLD)
    h.execute("DELETE FROM meta")
    h.execute("ATTACH DATABASE ? AS made", (made,))
    for t in TABLES:
        cols = ", ".join(r[1] for r in h.execute(
            "PRAGMA main.table_info(%s)" % t))
        h.execute("INSERT INTO main.%s (%s) SELECT %s FROM made.%s"
                  % (t, cols, cols, t))
    h.commit()
    h.execute("DETACH DATABASE made")
    (bob,), = h.execute("SELECT id FROM accounts WHERE name = 'bob'")
    (room,), = h.execute("SELECT id FROM channels WHERE name = '#room'")
    h.execute("INSERT INTO account_certfps VALUES (?, ?)", ("f" * 64, bob))
    h.execute("INSERT INTO channel_amodes VALUES (?, ?, 'o')", (room, bob))
    h.execute("INSERT INTO bans VALUES ('k', '*!*@bad.example', 'spam', "
              "'oper', 1767225600, 0)")
    h.execute("INSERT INTO read_markers VALUES (?, '#room', 1767225600000, "
              "1767225600000)", (bob,))
    h.commit()
    h.close()
    os.chmod(path, 0o600)
    rows = dump(path)
    assert all(rows[t] for t in TABLES), rows
    return rows


def check_upgraded(path, before, old_schema):
    assert query(path, "PRAGMA user_version") == [(SCHEMA,)]
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    assert query(path, "PRAGMA foreign_key_check") == []
    assert dump(path) == before
    for t, cols in LATER.items():
        for c in cols:
            assert query(path, "SELECT count(*) FROM %s WHERE %s IS NOT NULL"
                         % (t, c)) == [(0,)]
    for t in ("accounts", "channels"):
        sql = query(path, "SELECT sql FROM sqlite_master WHERE name = ?",
                    (t,))[0][0]
        assert "AUTOINCREMENT" in sql, sql
    # the same indexes, foreign keys, columns and (no) triggers as before
    idx, fks, cols, trig = schema_of(path)
    assert (fks, cols, trig) == old_schema[1:]
    # but history's indexes as 17 -> 18 remade them: partial, none by time
    hist = dict((k, v) for k, v in idx.items() if k.startswith("history_"))
    assert sorted(hist) == ["history_account", "history_channel"], hist
    assert all(" WHERE " in v for v in hist.values()), hist
    assert dict((k, v) for k, v in idx.items() if k not in hist) == \
        dict((k, v) for k, v in old_schema[0].items()
             if not k.startswith("history_"))
    # the ids in use are known to sqlite_sequence: none handed out again
    seq = dict(query(path, "SELECT name, seq FROM sqlite_sequence"))
    assert seq["accounts"] == max(r[0] for r in before["accounts"]), seq
    assert seq["channels"] == max(r[0] for r in before["channels"]), seq


def after_upgrade_serves(srv, before):
    """The old rows work: bob logs in with his password, and once the
    account with the highest id is dropped a new one gets a fresh id."""
    bob_id = [r[0] for r in before["accounts"] if r[1] == "bob"][0]
    top = max(r[0] for r in before["accounts"])
    assert bob_id == top
    b = client(srv, "bob", identify="bob", pw="bobpw")
    b.send("NS DROP bobpw")
    b.expect(NS % "bob" + "Successfully unregistered account bob")
    client(srv, "dave", register=True)
    ids = dict((n, i) for i, n in query(db_of(srv), "SELECT id, name FROM "
                                        "accounts"))
    assert "bob" not in ids and ids["dave"] == top + 1, ids
    # bob's dependants went with him; nothing of them is dave's
    assert query(db_of(srv), "SELECT count(*) FROM read_markers WHERE "
                 "account = ?", (ids["dave"],)) == [(0,)]


def test_upgradedb_from_schema_6_keeps_every_row_and_ids_fresh():
    srv = Server(start=False)
    before = make_old(db_of(srv))
    old_schema = schema_of(db_of(srv))
    p = run_ergo("upgradedb", "--config", srv.conf_path, cwd=srv.dir)
    assert p.returncode == 0, p.stderr
    assert "schema upgraded to version %d" % SCHEMA in p.stderr, p.stderr
    baks = glob.glob(db_of(srv) + ".v%d-*.bak" % OLD)
    assert len(baks) == 1 and dump(baks[0]) == before, os.listdir(srv.dir)
    check_upgraded(db_of(srv), before, old_schema)
    srv.start()
    after_upgrade_serves(srv, before)


def test_autoupgrade_from_schema_6_keeps_every_row_and_ids_fresh():
    srv = Server(start=False)
    srv.write_config(srv.config_text().replace(
        "datastore { path ircd.db }",
        "datastore { path ircd.db  autoupgrade yes }"))
    before = make_old(db_of(srv))
    old_schema = schema_of(db_of(srv))
    srv.start()
    srv.wait_log(r"schema upgraded to version %d" % SCHEMA)
    check_upgraded(db_of(srv), before, old_schema)
    after_upgrade_serves(srv, before)


def test_a_dropped_id_is_not_given_to_the_next_account_or_channel():
    srv = Server()
    a = client(srv, "amy", register=True)
    b = client(srv, "ben", register=True)
    for c, ch in ((a, "#one"), (b, "#two")):
        c.send("JOIN " + ch)
        c.expect(r" 366 %s %s " % (c.nick, ch))
        c.send("CS REGISTER " + ch)
        c.expect(CS % c.nick + "Channel %s successfully registered" % ch)
    db = db_of(srv)
    ids = dict(query(db, "SELECT name, id FROM accounts"))
    chans = dict(query(db, "SELECT name, id FROM channels"))
    b.send("CS DROP #two")
    b.expect(CS % "ben" + r".*#two")
    b.send("NS DROP pw")            # ben: the highest account id
    b.expect(NS % "ben" + "Successfully unregistered account ben")
    c = client(srv, "cat", register=True)
    c.send("JOIN #three")
    c.expect(r" 366 cat #three ")
    c.send("CS REGISTER #three")
    c.expect(CS % "cat" + "Channel #three successfully registered")
    now = dict(query(db, "SELECT name, id FROM accounts"))
    assert now == {"amy": ids["amy"], "cat": ids["ben"] + 1}, (ids, now)
    nowc = dict(query(db, "SELECT name, id FROM channels"))
    assert nowc == {"#one": chans["#one"], "#three": chans["#two"] + 1}, \
        (chans, nowc)
