"""`ergo importdb` against the real binary: Ergo's JSON import format
(what anope2json and atheme2json write) and Ergo's own buntdb file go in,
then the imported accounts log in with their old passwords (SASL PLAIN,
NickServ IDENTIFY), are re-hashed, and SCRAM-SHA-256 works for them."""

import base64
import hashlib
import hmac
import json
import os
import re
import sqlite3

from ergotest import Server, run_ergo
from test_sasl import sasl_start, plain, scram, finish, authenticate

# made with libxcrypt's crypt(3) (bcrypt) or taken from Ergo's tests of
# its own importer (irc/migrations/passwords_test.go)
ANOPE_BCRYPT = "bcrypt:$2a$04$abcdefghijklmnopqrstuuipApFfRaYE.D1flzDbOE3Sox1Xg7ITu"
ANOPE_BCRYPT_PW = "anopepass"
ATHEME_PBKDF2V2 = ("$z$65$64000$1kz1I9YJPJ2gkJALbrpL2DoxRDhYPBOg60KNJMK/"
                   "6do=$Cnfg6pYhBNrVXiaXYH46byrC+3HKet/XvYwvI1BvZbs=$"
                   "m0hrT33gcF90n2TU3lm8tdm9V9XC4xEV13KsjuT38iY=")
ATHEME_PBKDF2V2_PW = "password"
CERTFP = "ab" * 32


def importdb(srv, data, name="import.json"):
    path = os.path.join(srv.dir, name)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode) as f:
        f.write(data if isinstance(data, (str, bytes))
                else json.dumps(data))
    return run_ergo("importdb", path, "--config", srv.conf_path,
                    cwd=srv.dir)


def anope_export():
    return {
        "version": 1,
        "source": "anope",
        "users": {
            "Alice": {"name": "Alice", "hash": ANOPE_BCRYPT,
                      "email": "alice@example.org",
                      "registeredAt": 1600134392 * 10**9,
                      "additionalNicks": ["alice_", "Ally"],
                      "certfps": [":".join([CERTFP[i:i + 2] for i in
                                            range(0, 64, 2)]).upper()]},
            "bob": {"name": "bob", "hash": "md5:dbf8be80e8dccdd33915b482e4390426",
                    "registeredAt": 1600134400 * 10**9,
                    "vhost": "bob.example.org"},
            # enc_old: a scheme not supported
            "carol": {"name": "carol", "hash":
                      "oldmd5:ce4bd864f37ffaa1b871aef22eea82ff",
                      "favouriteColour": "blue"},
        },
        "channels": {
            "#Place": {"name": "#Place", "founder": "Alice",
                       "registeredAt": 1600134478 * 10**9,
                       "topic": "welcome to the place",
                       "topicSetBy": "Alice",
                       "topicSetAt": 1600135864 * 10**9,
                       "amode": {"Alice": "q", "bob": "h",
                                 "carol": "a"},
                       "modes": "intC", "key": "sekrit", "limit": 0},
            "#orphan": {"name": "#orphan", "founder": "nobody"},
        },
    }


def test_importdb_anope_json_then_plain_login_then_scram_works():
    srv = Server(start=False)
    p = importdb(srv, anope_export())
    assert p.returncode == 0, p.stderr
    err = p.stderr
    assert "3 accounts" in err and "1 channels" in err, err
    assert re.search(r"users\.carol: unknown field favouriteColour", err), err
    assert re.search(r"account carol: password hash of a scheme", err), err
    assert re.search(r"users\.bob: vhost bob\.example\.org not imported",
                     err), err
    assert re.search(r"channel #orphan: founder nobody is not an account",
                     err), err
    assert re.search(r"channel #Place: modes \+C are not kept", err), err
    assert "kept as" not in err, err	# q a o h v are ranks here too
    srv.start()
    c = srv.client()
    sasl_start(c, "Alice")
    c.send("AUTHENTICATE SCRAM-SHA-256")    # no SCRAM keys yet
    c.expect(r"^AUTHENTICATE \+$")
    authenticate(c, "n,,n=Alice,r=abcdefgh")
    c.expect(r"^:\S+ 904 ")
    plain(c, "alice", ANOPE_BCRYPT_PW)
    c.expect_numeric(903)
    finish(c, "Alice")
    srv.wait_log(r"imported password hash of Alice replaced")
    c.close()
    # the re-hash made SCRAM credentials, and PLAIN still works
    d = srv.client()
    sasl_start(d, "Alice")
    assert scram(d, "Alice", ANOPE_BCRYPT_PW)
    finish(d, "Alice")
    e = srv.client()
    sasl_start(e, "Alice")
    plain(e, "Alice", "wrong")
    e.expect_numeric(904)
    plain(e, "Alice", ANOPE_BCRYPT_PW)
    e.expect_numeric(903)


def test_importdb_nicks_certfps_and_channel_come_along():
    srv = Server(start=False)
    p = importdb(srv, anope_export())
    assert p.returncode == 0, p.stderr
    srv.start()
    c = srv.client()
    sasl_start(c, "Ally")
    plain(c, "bob", "edpassphrase")         # Anope's raw MD5
    c.expect_numeric(903)
    finish(c, "Ally")
    r = srv.client("alice_")                # Alice's nick, not an account
    r.send("PRIVMSG NickServ :REGISTER somepassword")
    r.expect(r"Account already exists")
    a = srv.client("someone")
    a.send("PRIVMSG NickServ :IDENTIFY Alice " + ANOPE_BCRYPT_PW)
    a.expect(r"You're now logged in as Alice")
    a.send("NICKSERV CERT LIST")
    a.expect(CERTFP)
    a.send("JOIN #place sekrit")
    a.expect(r" 332 \S+ #place :welcome to the place|"
             r" 332 \S+ #Place :welcome to the place")
    a.send("MODE #place")
    a.expect(r" 324 \S+ #[Pp]lace \+\S*i\S*n\S*t")
    a.send("PRIVMSG ChanServ :AMODE #place")
    got = " ".join(a.lines_until(r"receives mode") + a.sync())
    assert "Account bob receives mode +h" in got, got
    assert "Account carol receives mode +a" in got, got


def test_importdb_atheme_pbkdf2v2_identify_with_nickserv():
    srv = Server(start=False)
    p = importdb(srv, {"version": 1, "source": "atheme", "users": {
        "dave": {"name": "dave", "hash": ATHEME_PBKDF2V2,
                 "registeredAt": 1600134392 * 10**9,
                 # atheme2json writes it so; Ergo's reader ignores case
                 "additionalnicks": ["davey"]}}, "channels": {}})
    assert p.returncode == 0, p.stderr
    assert "unknown field" not in p.stderr, p.stderr
    srv.start()
    r = srv.client("davey")
    r.send("PRIVMSG NickServ :REGISTER somepassword")
    r.expect(r"Account already exists")
    c = srv.client("dave")
    c.send("PRIVMSG NickServ :IDENTIFY dave passw0rd")
    c.expect(r"Could not login")
    c.send("PRIVMSG NickServ :IDENTIFY dave " + ATHEME_PBKDF2V2_PW)
    c.expect(r"You're now logged in as dave")
    srv.wait_log(r"imported password hash of dave replaced")
    d = srv.client()
    sasl_start(d, "dave")
    assert scram(d, "dave", ATHEME_PBKDF2V2_PW)


def test_importdb_refuses_broken_json_with_line_and_column():
    srv = Server(start=False)
    p = importdb(srv, '{"version": 1,\n "source": "anope",\n "users": {,}}')
    assert p.returncode == 1
    assert re.search(r"line 3, column \d+: expected a member name", p.stderr), \
        p.stderr
    p = importdb(srv, {"version": 2, "source": "anope"})
    assert p.returncode == 1 and "version 1" in p.stderr, p.stderr
    p = importdb(srv, {"version": 1, "source": "ircservices"})
    assert p.returncode == 1 and "source must be" in p.stderr, p.stderr
    p = importdb(srv, b"\x00\x01garbage")
    assert p.returncode == 1 and "neither" in p.stderr, p.stderr
    p = run_ergo("importdb", "--config", srv.conf_path, cwd=srv.dir)
    assert p.returncode == 2 and "needs one FILE" in p.stderr


def test_importdb_existing_account_is_skipped_not_overwritten():
    srv = Server(start=False)
    assert importdb(srv, anope_export()).returncode == 0
    p = importdb(srv, anope_export())
    assert p.returncode == 0, p.stderr
    assert re.search(r"account Alice: the name is already an account", p.stderr)
    assert "0 accounts" in p.stderr, p.stderr


# ---- Ergo's buntdb database ----

ERGO_SHA3_BCRYPT = "$2a$04$abcdefghijklmnopqrstuu6iD6.E8aaD1gtLdKRWfONgzvty9lLPq"
ERGO_SHA3_BCRYPT_PW = "hunter2"     # bcrypt of its SHA3-512 (libxcrypt)


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def scram_creds(pw, salt=b"0123456789abcdef", iters=4096):
    salted = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, iters)
    ck = hmac.new(salted, b"Client Key", "sha256").digest()
    return {"Salt": base64.b64encode(salt).decode(), "Iters": iters,
            "StoredKey": base64.b64encode(hashlib.sha256(ck).digest()).decode(),
            "ServerKey": base64.b64encode(hmac.new(
                salted, b"Server Key", "sha256").digest()).decode()}


def ergo_buntdb():
    def creds(**kw):
        c = {"Version": 1, "PassphraseHash": None, "Certfps": None,
             "Salt": None, "Iters": 0, "StoredKey": None, "ServerKey": None}
        c.update(kw)
        return json.dumps(c)
    sets = [
        ("db.version", "23"),
        ("crypto.cloak_secret", "c0ffee" * 8),
        ("account.exists hunter", "1"), ("account.verified hunter", "1"),
        ("account.name hunter", "Hunter"),
        ("account.registered.time hunter", str(1600134392 * 10**9)),
        ("account.credentials hunter", creds(
            PassphraseHash=base64.b64encode(ERGO_SHA3_BCRYPT.encode()).decode(),
            Certfps=[CERTFP])),
        ("account.settings hunter", json.dumps({"Email": "h@example.org"})),
        ("account.additionalnicks hunter", "hunter_,Hunty"),
        ("account.lastseen hunter", "{}"),
        ("account.exists scrammy", "1"), ("account.verified scrammy", "1"),
        ("account.name scrammy", "scrammy"),
        ("account.credentials scrammy", creds(**scram_creds("scrampw"))),
        ("account.exists pending", "1"), ("account.name pending", "pending"),
        ("account.exists ghost", "1"), ("account.verified ghost", "1"),
        ("channel.exists #old", "1"), ("channel.name #old", "#Old"),
        ("channel.founder #old", "hunter"),
        ("channel.registered.time #old", str(1600134478 * 10**9)),
        ("channel.topic #old", "old topic"),
        ("channel.topic.setby #old", "Hunter"),
        ("channel.topic.settime #old", str(1600135864 * 10**9)),
        ("channel.modes #old", "nt"), ("channel.key #old", ""),
        ("channel.accounttoumode #old", json.dumps({"scrammy": ord("o")})),
        ("channel.banlist #old", json.dumps({"spam!*@*": {
            "TimeCreated": "2023-01-01T00:00:00Z",
            "CreatorNickmask": "Hunter!h@host"}})),
        ("1 2bcd0f1e-5d3a-4a1b-9e55-0123456789ab", json.dumps({
            "Name": "#new", "Founder": "scrammy",
            "RegisteredAt": "2021-03-04T05:06:07.123456789Z",
            "Topic": "new topic", "TopicSetBy": "scrammy",
            "TopicSetTime": "2021-03-04T07:06:07+02:00",
            "Modes": [ord("n"), ord("t"), ord("C")], "Key": "",
            "UserLimit": 5, "AccountToUMode": {"hunter": ord("v")},
            "Bans": {"*!*@bad.example": {}},
            "Excepts": {"*!*@good.example": {
                "TimeCreated": "2024-01-01T00:00:00Z",
                "CreatorNickmask": "scrammy!s@host"}},
            "Invites": {"a:friend": {}}})),
        ("bans.dlinev2 192.0.2.0/24", json.dumps({
            "RequireSASL": False, "reason": "spam", "oper_name": "root",
            "TimeCreated": "2024-01-01T00:00:00Z", "Duration": 0})),
        ("bans.klinev2 *!baduser@*.example.com", json.dumps({
            "Mask": "*!baduser@*.example.com", "Info": {
                "reason": "go away", "oper_name": "root",
                "TimeCreated": "2024-01-01T00:00:00Z", "Duration": 0}})),
    ]
    data = b"".join(resp("set", k, v) for k, v in sets)
    data += resp("del", "account.exists ghost")
    data += resp("set", "account.exists old", "1", "ae", "1000")
    return data


def test_importdb_ergo_buntdb_accounts_channels_bans_cloak_secret():
    srv = Server(start=False)
    p = importdb(srv, ergo_buntdb(), name="ircd.buntdb")
    assert p.returncode == 0, p.stderr
    err = p.stderr
    assert "schema version 23" in err, err
    assert re.search(r"2 accounts .*2 channels, 2 K/D-lines", err), err
    assert "account pending: never verified in Ergo; skipped" in err, err
    assert "ghost" not in err and "account old" not in err, err
    assert re.search(r'1 "account\.lastseen" keys not imported', err), err
    assert "not imported" not in err.replace('"account.lastseen" keys '
                                            'not imported', ""), err
    assert re.search(r"2 K/D-lines, 4 channel list entries imported", err), err
    assert re.search(r"channel #new: modes \+C are not kept", err), err
    assert "cloak secret imported" in err, err
    db = sqlite3.connect(os.path.join(srv.dir, "ircd.db"))
    assert sorted(db.execute("SELECT kind, mask, reason FROM bans")) == [
        ("d", "192.0.2.0/24", "spam"),
        ("k", "baduser@*.example.com", "go away")]
    assert db.execute("SELECT value FROM meta WHERE key = 'cloak-secret'"
                      ).fetchall() == [("c0ffee" * 8,)]
    assert db.execute("SELECT display, email, registered FROM accounts "
                      "WHERE name = 'hunter'").fetchall() == [
        ("Hunter", "h@example.org", 1600134392)]
    assert db.execute("SELECT topic, topic_time, chan_limit, modes FROM "
                      "channels WHERE name = '#new'").fetchall() == [
        ("new topic", 1614834367, 5, "nt")]
    lists = db.execute("SELECT c.name, m.list, m.mask, m.setter, m.set_at "
                       "FROM channel_masks m JOIN channels c "
                       "ON c.id = m.channel ORDER BY c.name, m.list")
    got = [r for r in lists]
    assert [r[:4] for r in got] == [
        ("#new", "I", "a:friend", "ergo-import"),
        ("#new", "b", "*!*@bad.example", "ergo-import"),
        ("#new", "e", "*!*@good.example", "scrammy!s@host"),
        ("#old", "b", "spam!*@*", "Hunter!h@host")], got
    assert got[2][4] == 1704067200 and got[3][4] == 1672531200, got
    db.close()
    srv.start()
    # SCRAM credentials from Ergo are ours as they are: SCRAM at once
    c = srv.client()
    sasl_start(c, "scrammy")
    assert scram(c, "scrammy", "scrampw")
    finish(c, "scrammy")
    # an old Ergo account: bcrypt of SHA3-512, PLAIN once, then SCRAM
    d = srv.client()
    sasl_start(d, "Hunter")
    plain(d, "hunter", ERGO_SHA3_BCRYPT_PW)
    d.expect_numeric(903)
    finish(d, "Hunter")
    srv.wait_log(r"imported password hash of Hunter replaced")
    d.close()
    e = srv.client()
    sasl_start(e, "Hunter")
    assert scram(e, "Hunter", ERGO_SHA3_BCRYPT_PW)
    finish(e, "Hunter")
    e.send("JOIN #old")
    e.expect(r" 332 Hunter #[Oo]ld :old topic")
    e.send("PRIVMSG ChanServ :AMODE #old")
    e.expect(r"scrammy")
    e.send("MODE #old +b")			# the imported ban list
    e.expect(r" 367 Hunter #[Oo]ld spam!\*@\* Hunter!h@host 1672531200$")
    e.expect(r" 368 Hunter #[Oo]ld ")


def test_importdb_buntdb_that_is_not_one_imports_nothing():
    srv = Server(start=False)
    p = importdb(srv, resp("set", "a b", "c") + b"*3\r\n$3\r\nset\r\n$99\r\nx",
                 name="broken.db")
    assert p.returncode == 1 and "record 2" in p.stderr, p.stderr
    # nothing was written: the database was not even created
    assert not os.path.exists(os.path.join(srv.dir, "ircd.db"))
