"""IRCv3 SASL 3.2 against the real binary: CAP sasl with its mechanism
list, AUTHENTICATE PLAIN, SCRAM-SHA-256 (a small client here, checking
the server signature), EXTERNAL over TLS with a client certificate,
400-byte chunking, abort, the 90x numerics and the failure throttle."""

import base64
import hashlib
import hmac
import os
import re
import shutil
import socket
import ssl
import tempfile

from ergotest import Server, Client, run_ergo, free_port

D = None


def setup_module():
    global D
    D = tempfile.mkdtemp(prefix="ergo-sasl-")
    for name in ("server", "client"):
        p = run_ergo("mkcerts", "--cert", name + ".crt", "--key",
                     name + ".key", "--host", "localhost", cwd=D)
        assert p.returncode == 0, p.stderr


def teardown_module():
    shutil.rmtree(D, ignore_errors=True)


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def ns_register(srv, nick, pw):
    c = srv.client(nick)
    c.send("PRIVMSG NickServ :REGISTER %s" % pw)
    c.expect(r"NOTICE %s :Account created" % nick)
    c.close()


def sasl_start(c, nick="guest"):
    """CAP LS 302, NICK, USER, CAP REQ sasl: registration now waits."""
    c.send("CAP LS 302")
    c.expect(r" CAP \* LS :")
    c.send("NICK " + nick)
    c.send("USER %s 0 * :SASL user" % nick)
    c.send("CAP REQ :sasl")
    c.expect(r" CAP \S+ ACK :sasl$")


def authenticate(c, payload):
    """Sends a client message as AUTHENTICATE lines of 400 bytes."""
    data = b64(payload) if payload else ""
    for i in range(0, len(data), 400):
        c.send("AUTHENTICATE " + data[i:i + 400])
    if len(data) % 400 == 0:
        c.send("AUTHENTICATE +")


def plain(c, account, pw, authzid=""):
    c.send("AUTHENTICATE PLAIN")
    c.expect(r"^AUTHENTICATE \+$")
    authenticate(c, "%s\0%s\0%s" % (authzid, account, pw))


def server_message(c):
    """One server SASL message (joined chunks), decoded."""
    data = ""
    while True:
        chunk = c.expect(r"^AUTHENTICATE |^:\S+ 90[4-7] ").split(" ", 1)[1]
        if re.match(r"^90[4-7]", chunk):
            raise AssertionError("SASL failed: " + chunk)
        if chunk != "+":
            data += chunk
        if len(chunk) < 400:
            return base64.b64decode(data).decode()


def scram(c, account, pw, tamper_proof=False, cnonce=None):
    """SCRAM-SHA-256 (RFC 5802/7677) as a client; returns True once the
    server's signature was checked and 903 arrived. A long cnonce makes
    the client-final and the server-first longer than one chunk."""
    c.send("AUTHENTICATE SCRAM-SHA-256")
    c.expect(r"^AUTHENTICATE \+$")
    cnonce = cnonce or b64(os.urandom(18))
    first_bare = "n=%s,r=%s" % (account, cnonce)
    authenticate(c, "n,," + first_bare)
    server_first = server_message(c)
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert attrs["r"].startswith(cnonce) and len(attrs["r"]) > len(cnonce)
    salted = hashlib.pbkdf2_hmac("sha256", pw.encode(),
                                 base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_bare = "c=%s,r=%s" % (b64("n,,"), attrs["r"])
    auth_msg = ",".join((first_bare, server_first, final_bare)).encode()
    sig = hmac.new(stored_key, auth_msg, "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    if tamper_proof:
        proof = bytes([proof[0] ^ 1]) + proof[1:]
    authenticate(c, final_bare + ",p=" + b64(proof))
    line = c.expect(r"^AUTHENTICATE |^:\S+ 904 ")
    if " 904 " in line:
        return False
    v = base64.b64decode(line.split(" ", 1)[1]).decode()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    want = hmac.new(server_key, auth_msg, "sha256").digest()
    assert v == "v=" + b64(want), "bad server signature %r" % v
    c.send("AUTHENTICATE +")
    c.expect_numeric(903)
    return True


def finish(c, nick):
    c.send("CAP END")
    lines = c.lines_until(r"^:\S+ (376|422) ")
    assert any(re.match(r"^:\S+ 001 %s " % nick, l) for l in lines), lines
    return lines


def test_cap_ls_302_shows_the_mechanisms():
    with Server() as srv:
        c = srv.client()
        c.send("CAP LS 302")
        c.expect(r" CAP \* LS (\* )?:.*\bsasl=PLAIN,SCRAM-SHA-256,EXTERNAL\b")
        d = srv.client()
        d.send("CAP LS")
        line = " ".join(d.lines_until(r" CAP \* LS :"))
        assert re.search(r"\bsasl( |$)", line) and "sasl=" not in line, line


def test_plain_during_registration_then_welcome_with_r():
    with Server() as srv:
        ns_register(srv, "alice", "pw-alice")
        srv.stop()
        srv.start()
        c = srv.client()
        sasl_start(c, "alice")
        plain(c, "alice", "pw-alice")
        c.expect(r"^:\S+ 900 alice alice!~alice@\S+ alice :You are now "
                 r"logged in as alice$")
        c.expect(r"^:\S+ 903 alice :SASL authentication successful$")
        lines = finish(c, "alice")
        c.expect(r"^:alice MODE alice :\+r")


def test_plain_wrong_password_is_904():
    with Server() as srv:
        ns_register(srv, "bob", "right")
        c = srv.client()
        sasl_start(c, "bob")
        plain(c, "bob", "wrong")
        c.expect(r"^:\S+ 904 bob :SASL authentication failed$")
        plain(c, "nosuchaccount", "x")
        c.expect_numeric(904)
        plain(c, "bob", "right", authzid="someoneelse")
        c.expect_numeric(904)
        plain(c, "bob", "right", authzid="BOB")
        c.expect_numeric(903)
        finish(c, "bob")


def test_scram_sha_256_login_checks_the_server_signature():
    with Server() as srv:
        ns_register(srv, "carol", "pencil")
        srv.stop()
        srv.start()
        c = srv.client()
        sasl_start(c, "carol")
        assert scram(c, "carol", "pencil")
        finish(c, "carol")


def test_scram_wrong_password_and_bad_proof_are_904():
    with Server() as srv:
        ns_register(srv, "dave", "pencil")
        c = srv.client()
        sasl_start(c, "dave")
        assert not scram(c, "dave", "crayon")
        assert not scram(c, "dave", "pencil", tamper_proof=True)
        c.send("AUTHENTICATE SCRAM-SHA-256")
        c.expect(r"^AUTHENTICATE \+$")
        authenticate(c, "p=tls-unique,,n=dave,r=abc")     # channel binding
        c.expect_numeric(904)
        assert scram(c, "dave", "pencil")
        finish(c, "dave")


def test_login_after_registration():
    with Server() as srv:
        ns_register(srv, "erin", "pw")
        c = srv.client("erin")
        plain(c, "erin", "pw")
        c.expect_numeric(900)
        c.expect_numeric(903)       # +r after 903, as SASL 3.2 orders them
        c.expect(r"^:erin MODE erin :\+r$")
        c.send("AUTHENTICATE PLAIN")
        c.expect(r"^:\S+ 907 erin :You have already authenticated")


def test_chunks_of_400_and_an_exact_multiple_ends_with_plus():
    pw = "p" * (300 - len("\0frank\0"))      # exactly 400 base64 chars
    with Server() as srv:
        c = srv.client("frank")
        c.send("PRIVMSG NickServ :REGISTER " + pw)
        c.expect(r"Account created")
        d = srv.client()
        sasl_start(d, "other")
        d.send("AUTHENTICATE PLAIN")
        d.expect(r"^AUTHENTICATE \+$")
        data = b64("\0frank\0" + pw)
        assert len(data) == 400
        d.send("AUTHENTICATE " + data)
        assert not any(" 90" in l for l in d.sync())    # waits for more
        d.send("AUTHENTICATE +")
        d.expect_numeric(903)
        e = srv.client()
        sasl_start(e, "third")
        plain(e, "frank", pw + "xyzxyzxyz")     # 412 chars: two lines
        e.expect_numeric(904)


def test_abort_is_906_and_registration_goes_on():
    with Server() as srv:
        c = srv.client()
        sasl_start(c, "gina")
        c.send("AUTHENTICATE PLAIN")
        c.expect(r"^AUTHENTICATE \+$")
        c.send("AUTHENTICATE *")
        c.expect(r"^:\S+ 906 gina :SASL authentication aborted$")
        assert not any(" 001 " in l for l in c.sync())  # CAP not ended
        c.send("CAP END")
        c.expect(r"^:\S+ 001 gina ")
        # CAP END during an exchange: test_conformance_reg.py's
        # test_registration_completed_during_sasl_aborts_it_with_906


def test_overlong_chunk_is_905():
    with Server() as srv:
        c = srv.client()
        sasl_start(c, "hank")
        c.send("AUTHENTICATE PLAIN")
        c.expect(r"^AUTHENTICATE \+$")
        c.send("AUTHENTICATE " + "A" * 401)
        c.expect(r"^:\S+ 905 hank :SASL message too long$")


def test_unknown_mechanism_is_908_then_904():
    with Server() as srv:
        c = srv.client()
        sasl_start(c, "ivy")
        c.send("AUTHENTICATE DIGEST-MD5")
        c.expect(r"^:\S+ 908 ivy PLAIN,SCRAM-SHA-256,EXTERNAL :are "
                 r"available SASL mechanisms$")
        c.expect_numeric(904)


def test_failed_attempts_are_throttled_per_account():
    with Server() as srv:
        ns_register(srv, "jack", "right")
        for i in range(5):
            c = Client(srv.port)
            sasl_start(c, "t%d" % i)
            plain(c, "jack", "wrong%d" % i)
            c.expect_numeric(904)
            c.close()
        c = srv.client()
        sasl_start(c, "late")
        plain(c, "jack", "right")       # right, but too many failures
        c.expect_numeric(904)
        srv.wait_log(r"failed login for jack")


def test_authentication_disabled():
    # as Ergo: sasl is not offered, and AUTHENTICATE anyway fails
    with Server(conf="accounts { authentication-enabled no }") as srv:
        c = srv.client()
        c.send("CAP LS 302")
        ls = " ".join(c.lines_until(r" CAP \* LS :"))
        assert "sasl" not in ls, ls
        c.send("NICK kate")
        c.send("USER kate 0 * :SASL user")
        c.send("CAP REQ :sasl")
        c.expect(r" CAP \S+ NAK :sasl$")
        c.send("AUTHENTICATE PLAIN")
        c.expect_numeric(904)


# ---- EXTERNAL over TLS ----

class TLSClient(Client):
    """The harness client over TLS with a client certificate."""

    def __init__(self, port, cert=None, ctx=None, session=None):
        if ctx is None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            if cert:
                ctx.load_cert_chain(os.path.join(D, cert + ".crt"),
                                    os.path.join(D, cert + ".key"))
        self.ctx = ctx
        super().__init__(port)
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost",
                                    session=session)
        self.sock.settimeout(10)

    def _buffered(self):
        # a decrypted record's rest, which select() does not see
        return self.sock.pending() > 0

    def _recv(self):
        try:
            return super()._recv()
        except ssl.SSLError:
            return b""


def tls_server():
    port = free_port()
    srv = Server(server='listen 127.0.0.1:%d { tls { cert "%s"  key "%s" '
                 '} }' % (port, os.path.join(D, "server.crt"),
                          os.path.join(D, "server.key")))
    srv.tls_port = port
    return srv


def test_external_with_a_registered_certificate():
    with tls_server() as srv:
        c = TLSClient(srv.tls_port, cert="client")
        c.register("lee")
        c.send("WHOIS lee")
        c.expect_numeric(318)
        c.send("PRIVMSG NickServ :REGISTER pw")
        c.expect("Account created")
        c.send("PRIVMSG NickServ :CERT ADD")
        c.expect("Certificate fingerprint successfully added")
        c.close()
        d = TLSClient(srv.tls_port, cert="client")
        sasl_start(d, "lee")
        d.send("AUTHENTICATE EXTERNAL")
        d.expect(r"^AUTHENTICATE \+$")
        d.send("AUTHENTICATE +")
        d.expect(r"^:\S+ 900 lee \S+ lee :You are now logged in as lee$")
        d.expect_numeric(903)
        finish(d, "lee")
        e = TLSClient(srv.tls_port, cert="client")
        sasl_start(e, "lee2")
        e.send("AUTHENTICATE EXTERNAL")
        e.expect(r"^AUTHENTICATE \+$")
        authenticate(e, "notlee")           # authzid must be the account
        e.expect_numeric(904)


def test_external_after_session_resumption():
    """A resumed TLS session skips the certificate exchange: the
    fingerprint of the full handshake's certificate must still log in,
    and a session begun without a certificate must not gain one."""
    with tls_server() as srv:
        c = TLSClient(srv.tls_port, cert="client")
        c.register("rhea")
        c.send("PRIVMSG NickServ :REGISTER pw")
        c.expect("Account created")
        c.send("PRIVMSG NickServ :CERT ADD")
        c.expect("Certificate fingerprint successfully added")
        sess = c.sock.session
        c.close()
        d = TLSClient(srv.tls_port, ctx=c.ctx, session=sess)
        assert d.sock.session_reused, "the session was not resumed"
        sasl_start(d, "rhea")
        d.send("AUTHENTICATE EXTERNAL")
        d.expect(r"^AUTHENTICATE \+$")
        d.send("AUTHENTICATE +")
        d.expect(r"^:\S+ 900 rhea \S+ rhea :You are now logged in as rhea$")
        d.expect_numeric(903)
        finish(d, "rhea")
        d.send("WHOIS rhea")
        d.expect(r" 276 rhea rhea :has client certificate fingerprint "
                 r"[0-9a-f]{64}$")
        # a session without a certificate, resumed: still none
        e = TLSClient(srv.tls_port)
        sess = e.sock.session
        e.close()
        f = TLSClient(srv.tls_port, ctx=e.ctx, session=sess)
        assert f.sock.session_reused, "the session was not resumed"
        sasl_start(f, "sven")
        f.send("AUTHENTICATE EXTERNAL")
        f.expect(r"^AUTHENTICATE \+$")
        f.send("AUTHENTICATE +")
        f.expect_numeric(904)


def test_external_without_a_certificate_is_904():
    with tls_server() as srv:
        c = TLSClient(srv.tls_port)
        sasl_start(c, "mike")
        c.send("AUTHENTICATE EXTERNAL")
        c.expect(r"^AUTHENTICATE \+$")
        c.send("AUTHENTICATE +")
        c.expect_numeric(904)
        d = srv.client()
        sasl_start(d, "nina")
        d.send("AUTHENTICATE EXTERNAL")
        d.expect(r"^AUTHENTICATE \+$")
        d.send("AUTHENTICATE +")
        d.expect_numeric(904)


def test_scram_for_a_missing_account_looks_like_a_real_one():
    with Server() as srv:
        c = srv.client()
        sasl_start(c, "olga")
        firsts = []
        for _ in range(2):
            c.send("AUTHENTICATE SCRAM-SHA-256")
            c.expect(r"^AUTHENTICATE \+$")
            authenticate(c, "n,,n=nobody,r=abcdef")
            sf = dict(kv.split("=", 1)
                      for kv in server_message(c).split(","))
            firsts.append(sf)
            authenticate(c, "c=biws,r=%s,p=%s" % (sf["r"], b64(b"x" * 32)))
            c.expect_numeric(904)
        assert firsts[0]["s"] == firsts[1]["s"]
        assert firsts[0]["i"] == str(ITER_DEFAULT)
        assert firsts[0]["r"] != firsts[1]["r"]


def test_account_notify_and_extended_join_carry_the_login():
    with Server() as srv:
        ns_register(srv, "pam", "pw")
        w = srv.client("watcher", caps="account-notify extended-join")
        w.send("JOIN #x")
        w.expect(r" 366 ")
        c = srv.client("pam2")
        c.send("JOIN #x")
        w.expect(r"^:pam2!\S+ JOIN #x \* :")
        plain(c, "pam", "pw")
        c.expect_numeric(903)
        w.expect(r"^:pam2!\S+ ACCOUNT pam$")
        c.send("PRIVMSG NickServ :DROP pw")
        c.expect("Successfully unregistered")
        w.expect(r"^:pam2!\S+ ACCOUNT \*$")
        d = srv.client("pam3")
        d.send("PRIVMSG NickServ :REGISTER pw")
        d.expect("Account created")
        d.send("JOIN #x")
        w.expect(r"^:pam3!\S+ JOIN #x pam3 :")


ITER_DEFAULT = 32768


def db_rows(srv, sql):
    import sqlite3
    db = sqlite3.connect(os.path.join(srv.dir, "ircd.db"))
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def scram_first_attrs(c, account):
    """Sends client-first for account, aborts; the server-first's attrs."""
    c.send("AUTHENTICATE SCRAM-SHA-256")
    c.expect(r"^AUTHENTICATE \+$")
    authenticate(c, "n,,n=%s,r=abcdef" % account)
    sf = dict(kv.split("=", 1) for kv in server_message(c).split(","))
    c.send("AUTHENTICATE *")
    c.expect_numeric(906)
    return sf


def test_new_accounts_get_the_raised_default_iterations():
    with Server() as srv:
        ns_register(srv, "iris", "pencil")
        assert db_rows(srv, "SELECT iterations FROM accounts") == \
            [(ITER_DEFAULT,)]
        c = srv.client()
        sasl_start(c, "iris")
        assert scram_first_attrs(c, "iris")["i"] == str(ITER_DEFAULT)
        # an unknown account shows the same count as a new one
        assert scram_first_attrs(c, "nobody")["i"] == str(ITER_DEFAULT)
        assert scram(c, "iris", "pencil")


def test_login_rehashes_credentials_below_the_configured_iterations():
    """Accounts made at 4096 log in (PLAIN, NickServ IDENTIFY) and come
    out at the configured count; SCRAM then works with the new salt."""
    with Server(conf="accounts { password-iterations 4096 }") as srv:
        ns_register(srv, "jo", "pencil")
        ns_register(srv, "kit", "crayon")
        assert db_rows(srv, "SELECT iterations FROM accounts") == \
            [(4096,), (4096,)]
        old = db_rows(srv, "SELECT salt, stored_key FROM accounts "
                      "WHERE name = 'jo'")
        srv.stop()
        srv.extra_conf = ""
        srv.write_config()
        srv.start()
        c = srv.client()
        sasl_start(c, "jo")
        plain(c, "jo", "pencil")
        c.expect_numeric(903)
        finish(c, "jo")
        d = srv.client("kit")
        d.send("PRIVMSG NickServ :IDENTIFY kit crayon")
        d.expect(r"NOTICE kit :You're now logged in as kit")
        d.sync()
        rows = db_rows(srv, "SELECT name, iterations FROM accounts "
                       "ORDER BY name")
        assert rows == [("jo", ITER_DEFAULT), ("kit", ITER_DEFAULT)], rows
        assert db_rows(srv, "SELECT salt, stored_key FROM accounts "
                       "WHERE name = 'jo'") != old
        srv.wait_log(r"accounts.*jo.*re-hashed.*4096.*%d" % ITER_DEFAULT)
        e = srv.client()
        sasl_start(e, "jo2")
        assert scram(e, "jo", "pencil")
        # a wrong password changes nothing
        f = srv.client()
        sasl_start(f, "kit2")
        plain(f, "kit", "wrong")
        f.expect_numeric(904)


def test_fake_scram_salt_survives_a_restart():
    """An unknown account's SCRAM salt comes from a secret kept in the
    database: after a restart it is the same, as a real account's is."""
    with Server() as srv:
        ns_register(srv, "lou", "pencil")
        salts = []
        for _ in range(2):
            c = srv.client()
            sasl_start(c, "probe")
            salts.append((scram_first_attrs(c, "ghost")["s"],
                          scram_first_attrs(c, "lou")["s"]))
            c.close()
            srv.stop()
            srv.start()
        assert salts[0] == salts[1], salts
        assert db_rows(srv, "SELECT count(*) FROM meta WHERE key = "
                       "'scram-fake-secret'") == [(1,)]
