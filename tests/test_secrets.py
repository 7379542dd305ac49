"""Secrets are never logged or shown (doc/security.md): the TLS private
key, the oper password hashes, the credentials and cloak secret in the
database, and the passwords clients send. One server logs everything
(every category at debug, userinput and useroutput included) while
clients oper up, fail to, log in, register, run STATS and REHASH, and
the key is broken under it at rehash (garbage, a truncated copy of the
real key, a key that does not match the certificate); then the log,
checkconfig's output and every line any client received are searched
for each secret and each piece of it."""

import base64
import os
import re
import signal
import sqlite3

from ergotest import Server, run_ergo, wait_for
from test_oper import genpasswd
from test_hostile_ircv3 import connect

OPER_PW = "oper-pass-never-shown"
ACCT_PW = "acct-pass-never-shown"
REG_PW = "reg-pass-never-shown"
CLOAK = "cloak-secret-never-shown-0123456789"


def pem_body(path):
    """The base64 lines of a PEM file."""
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and
                not l.startswith("-----")]


def pieces(secret, n=12):
    """Overlapping n-character pieces of a secret string: a secret
    printed in part is found too."""
    if len(secret) <= n:
        return [secret]
    return [secret[i:i + n] for i in range(0, len(secret) - n + 1, n // 2)]


def blob_forms(b):
    return [b.hex(), b.hex().upper(), base64.b64encode(b).decode()]


def test_keys_hashes_and_credentials_never_reach_a_log_or_a_client():
    oper_hash = genpasswd(OPER_PW)
    s = Server(start=False, cloaking=True,
               conf='logging { method file  path all.log  level debug  '
                    'types * }\n'
                    'oper admin { class server-admin  password "%s" }\n'
                    % oper_hash)
    cert, key = os.path.join(s.dir, "c.pem"), os.path.join(s.dir, "k.pem")
    r = run_ergo("mkcerts", "--cert", cert, "--key", key, "--host",
                 "localhost")
    assert r.returncode == 0, r.stderr
    with open(key) as f:
        good_key = f.read()
    s.extra_server = ('ip-cloaking { enabled yes  netname irc  '
                      'secret "%s" }\n'
                      'listen 127.0.0.1:0 { tls { cert "%s"  key "%s" } }'
                      % (CLOAK, cert, key))
    s.write_config()
    s.start()
    clients = []

    def client(nick):
        c = s.client(nick)
        clients.append(c)
        return c

    op = client("op")
    op.send("OPER admin wrong-" + OPER_PW)
    op.expect(r" 464 ")
    op.send("OPER admin " + OPER_PW)
    op.expect(r" 381 ")
    for letter in "kdulmoc":
        op.send("STATS " + letter)
        op.expect(r" 219 ")
    u = client("user1")
    u.send("NS REGISTER " + ACCT_PW)
    u.expect(r"Account created")
    u.send("NS IDENTIFY user1 wrong-" + ACCT_PW)
    u.send("NS INFO user1")
    u.sync()
    raw = connect(s.port)           # REGISTER before the connection ends
    raw.sendall(b"CAP LS 302\r\nNICK user2\r\nREGISTER * * %s\r\n"
                % REG_PW.encode())
    got = b""
    while b" REGISTER " not in got:
        chunk = raw.recv(4096)
        assert chunk, got
        got += chunk
    raw.close()
    op.send("REHASH")
    op.expect(r" 382 ")
    # the key broken three ways under the running server, each refused
    with open(key, "w") as f:
        f.write("this is not a key\n")
    op.send("REHASH")
    op.expect(r"NOTICE op :Rehash failed: ")
    with open(key, "w") as f:
        f.write(good_key[:len(good_key) // 2])
    op.send("REHASH")
    op.expect(r"NOTICE op :Rehash failed: ")
    log = os.path.join(s.dir, "all.log")

    def logged():
        with open(log, errors="replace") as f:
            return f.read()
    n = logged().count("error rehash")
    s.signal(signal.SIGHUP)
    wait_for(lambda: logged().count("error rehash") > n, 5,
             "the SIGHUP's rehash to fail")
    other = os.path.join(s.dir, "other")
    r = run_ergo("mkcerts", "--cert", other + ".crt", "--key",
                 other + ".key", "--host", "localhost")
    assert r.returncode == 0, r.stderr
    os.replace(other + ".key", key)
    op.send("REHASH")
    op.expect(r"NOTICE op :Rehash failed: ")
    check = run_ergo("checkconfig", "--config", s.conf_path)
    assert check.returncode != 0
    for c in clients:
        c.sync()

    db = sqlite3.connect(os.path.join(s.dir, "ircd.db"), timeout=5)
    try:
        creds = db.execute("SELECT salt, stored_key, server_key "
                           "FROM accounts").fetchall()
        meta = [v for (v,) in db.execute("SELECT value FROM meta")]
    finally:
        db.close()
    assert len(creds) == 2, creds
    secrets = [OPER_PW, ACCT_PW, REG_PW, CLOAK]
    secrets += pieces(oper_hash.rsplit("$", 2)[-1])    # salt and key
    secrets += pieces(oper_hash.rsplit("$", 2)[-2])
    for line in pem_body(key) + [l for l in good_key.splitlines()
                                 if l and not l.startswith("-----")]:
        secrets += pieces(line, 16)
    for row in creds:
        for b in row:
            for form in blob_forms(b):
                secrets += pieces(form, 16)
    secrets += [v for v in meta if len(v) >= 16]
    shown = {
        "the log": s.logtext() + logged(),
        "checkconfig": check.stdout + check.stderr,
        "the clients": "\n".join(l for c in clients for l in c.received)
                       + got.decode(errors="replace"),
    }
    assert "Rehash failed" in shown["the clients"]
    assert "<- OPER admin *****" in shown["the log"]    # it is all there
    assert len(secrets) > 40 and len(shown["the log"]) > 10000, \
        (len(secrets), len(shown["the log"]))
    for where, text in shown.items():
        for secret in secrets:
            assert secret not in text, "%r in %s" % (secret, where)
