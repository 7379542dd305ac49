"""`ergo importdb` against the real binary: Ergo's JSON import format
(what anope2json and atheme2json write) and Ergo's own buntdb file go in,
then the imported accounts log in with their old passwords (SASL PLAIN,
NickServ IDENTIFY), are re-hashed, and SCRAM-SHA-256 works for them."""

import json
import os
import re

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
            "carol": {"name": "carol", "hash":
                      "sha256:ff337943c8c4219cd330a3075a699492e0f8b1a823bb76"
                      "af0129f1f117ba0630:60250c3053f7b34e35576fc5063b8b39"
                      "6fe7b9ab416842117991a8e027aa72f6", "favouriteColour":
                      "blue"},
        },
        "channels": {
            "#Place": {"name": "#Place", "founder": "Alice",
                       "registeredAt": 1600134478 * 10**9,
                       "topic": "welcome to the place",
                       "topicSetBy": "Alice",
                       "topicSetAt": 1600135864 * 10**9,
                       "amode": {"Alice": "q", "bob": "h"},
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
    assert re.search(r"AMODE \+h of bob kept as \+v", err), err
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
    a.expect(r"bob.*\+?v|v.*bob")


def test_importdb_atheme_pbkdf2v2_identify_with_nickserv():
    srv = Server(start=False)
    p = importdb(srv, {"version": 1, "source": "atheme", "users": {
        "dave": {"name": "dave", "hash": ATHEME_PBKDF2V2,
                 "registeredAt": 1600134392 * 10**9}}, "channels": {}})
    assert p.returncode == 0, p.stderr
    srv.start()
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
