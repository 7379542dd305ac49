"""`ergo mkcerts [--cert FILE] [--key FILE] [--host NAME]` (net_mkcert.c):
a self-signed P-256 certificate and its PKCS#8 key for first setups.

Everything is checked with real tools: the openssl CLI parses, verifies
and fingerprints the files, and Python's ssl module (OpenSSL underneath)
loads them into a server context and completes a TLS handshake with a
client over loopback, both ends in this process. Each test works in a
fresh temporary directory, removed at the end of the module.
"""

import datetime
import hashlib
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import tempfile
import threading

from ergotest import (ERGO_BIN, ErgoTestError, Server, Skip, free_port,
                      run_ergo, sanitizer_report)

FP_RE = re.compile(r"^SHA-256 fingerprint \(certfp\): ([0-9a-f]{64})$", re.M)
HOST = "irc.example.test"

_dirs = []


def setup_module():
    if shutil.which("openssl") is None:
        raise Skip("the openssl CLI is not installed (Debian: openssl)")


def teardown_module():
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)


def _tmpdir():
    d = tempfile.mkdtemp(prefix="ergo-mkcerts-")
    _dirs.append(d)
    return d


def _mkcerts(d, *args, host=HOST):
    """Runs mkcerts writing d/cert.pem and d/key.pem; returns (proc,
    cert, key)."""
    cert = os.path.join(d, "cert.pem")
    key = os.path.join(d, "key.pem")
    extra = ["--host", host] if host is not None else []
    p = run_ergo("mkcerts", "--cert", cert, "--key", key, *extra, *args,
                 cwd=d)
    return p, cert, key


def _made(host=HOST):
    """A fresh pair that mkcerts must have written; returns (proc, cert,
    key)."""
    p, cert, key = _mkcerts(_tmpdir(), host=host)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    return p, cert, key


def _openssl(*args, check=True):
    p = subprocess.run(["openssl"] + list(args), capture_output=True,
                       text=True, timeout=30)
    if check:
        assert p.returncode == 0, ("openssl " + " ".join(args), p.stdout,
                                   p.stderr)
    return p


def _text(cert):
    return _openssl("x509", "-in", cert, "-noout", "-text").stdout


def _date(cert, which):
    """notBefore (-startdate) or notAfter (-enddate) as an aware UTC
    datetime."""
    out = _openssl("x509", "-in", cert, "-noout", which).stdout.strip()
    when = out.split("=", 1)[1]
    return datetime.datetime.strptime(
        when, "%b %d %H:%M:%S %Y GMT").replace(tzinfo=datetime.timezone.utc)


def _der(cert):
    return ssl.PEM_cert_to_DER_cert(open(cert).read())


def _serial(cert):
    out = _openssl("x509", "-in", cert, "-noout", "-serial").stdout
    return out.strip().split("=", 1)[1]


def _handshake(cert, key, server_hostname, cafile):
    """A TLS server on 127.0.0.1 (a thread) with cert/key and a client
    that trusts cafile and checks server_hostname. Returns (the server's
    certificate as the client saw it, DER; the server's reply)."""
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.load_verify_locations(cafile=cafile)
    assert cctx.check_hostname and cctx.verify_mode == ssl.CERT_REQUIRED

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    lsock.settimeout(10)
    errors = []

    def serve():
        try:
            conn, _ = lsock.accept()
            conn.settimeout(10)
            with sctx.wrap_socket(conn, server_side=True) as tls:
                line = tls.recv(64)
                tls.sendall(b"PONG " + line)
        except Exception as e:      # reported by the main thread
            errors.append(e)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        with socket.create_connection(lsock.getsockname(), timeout=10) as s:
            with cctx.wrap_socket(s, server_hostname=server_hostname) as tls:
                peer = tls.getpeercert(binary_form=True)
                tls.sendall(b"hello")
                reply = b""
                while not reply.endswith(b"hello"):
                    chunk = tls.recv(64)
                    if not chunk:
                        break
                    reply += chunk
    finally:
        t.join(10)
        lsock.close()
    assert not errors, errors
    return peer, reply


# -- what it writes --

def test_mkcerts_writes_both_files_prints_paths_and_exits_0():
    p, cert, key = _made()
    assert p.stderr == "", p.stderr
    assert "wrote certificate %s\n" % cert in p.stdout, p.stdout
    assert "wrote private key %s\n" % key in p.stdout, p.stdout
    assert FP_RE.search(p.stdout), p.stdout
    assert open(cert).read().startswith("-----BEGIN CERTIFICATE-----\n")
    assert open(key).read().startswith("-----BEGIN PRIVATE KEY-----\n")


def test_default_paths_are_fullchain_and_privkey_in_cwd():
    d = _tmpdir()
    p = run_ergo("mkcerts", "--host", HOST, cwd=d)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert sorted(os.listdir(d)) == ["fullchain.pem", "privkey.pem"]
    assert "wrote certificate fullchain.pem\n" in p.stdout, p.stdout
    assert "wrote private key privkey.pem\n" in p.stdout, p.stdout


def test_options_also_take_name_equals_value():
    d = _tmpdir()
    p = run_ergo("mkcerts", "--cert=c.pem", "--key=k.pem",
                 "--host=eq.example.test", cwd=d)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert sorted(os.listdir(d)) == ["c.pem", "k.pem"]
    assert "CN = eq.example.test" in _text(os.path.join(d, "c.pem"))


def test_pem_base64_lines_are_64_columns():
    _, cert, key = _made()
    for path in (cert, key):
        lines = open(path).read().splitlines()
        body = [l for l in lines if not l.startswith("-----")]
        assert body, path
        assert all(len(l) == 64 for l in body[:-1]), (path, lines)
        assert 0 < len(body[-1]) <= 64, (path, lines)
        assert lines[-1].startswith("-----END "), (path, lines)


def test_key_file_mode_is_0600():
    _, cert, key = _made()
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600, \
        oct(os.stat(key).st_mode)
    # The certificate is public, but nobody else may rewrite it.
    assert stat.S_IMODE(os.stat(cert).st_mode) & 0o022 == 0


# -- the certificate, as openssl reads it --

def test_cert_is_v3_ecdsa_sha256_p256_with_cn_and_san():
    _, cert, _ = _made()
    text = _text(cert)
    assert "Version: 3 (0x2)" in text, text
    assert text.count("Signature Algorithm: ecdsa-with-SHA256") == 2, text
    assert "Public Key Algorithm: id-ecPublicKey" in text, text
    assert "ASN1 OID: prime256v1" in text, text
    assert re.search(r"Subject: O = ergo, CN = irc\.example\.test$", text,
                     re.M), text
    assert re.search(r"Issuer: O = ergo, CN = irc\.example\.test$", text,
                     re.M), text
    assert re.search(r"Subject Alternative Name: *\n *DNS:irc\.example\.test$",
                     text, re.M), text


def test_cert_extensions_say_leaf_for_server_and_client_auth():
    _, cert, _ = _made()
    text = _text(cert)
    assert re.search(r"Basic Constraints: critical\n *CA:FALSE$", text,
                     re.M), text
    assert re.search(r"Key Usage: critical\n *Digital Signature$", text,
                     re.M), text
    assert re.search(r"Extended Key Usage: *\n *TLS Web Server "
                     r"Authentication, TLS Web Client Authentication$",
                     text, re.M), text
    assert re.search(r"Subject Key Identifier: *\n *([0-9A-F]{2}:){19}"
                     r"[0-9A-F]{2}$", text, re.M), text
    _openssl("verify", "-purpose", "sslserver", "-CAfile", cert, cert)
    _openssl("verify", "-purpose", "sslclient", "-CAfile", cert, cert)


def test_validity_from_an_hour_ago_for_ten_years():
    now = datetime.datetime.now(datetime.timezone.utc)
    _, cert, _ = _made()
    nb = _date(cert, "-startdate")
    na = _date(cert, "-enddate")
    ago = now - nb
    assert datetime.timedelta(minutes=55) <= ago <= \
        datetime.timedelta(minutes=65), (now, nb)
    assert na.year - now.year in (10, 11), (now, na)
    assert datetime.timedelta(days=3650) <= na - now <= \
        datetime.timedelta(days=3654), (now, na)


def test_self_signature_verifies_strictly():
    _, cert, _ = _made()
    p = _openssl("verify", "-x509_strict", "-check_ss_sig", "-partial_chain",
                 "-CAfile", cert, cert)
    assert p.stdout.strip() == cert + ": OK", (p.stdout, p.stderr)


def test_tampered_cert_fails_verification():
    # The check above is worth something only if a bad signature fails it.
    _, cert, _ = _made()
    # A serial byte: still self-issued, so only the signature can tell.
    der = bytearray(_der(cert))
    i = der.find(b"\x02\x10" + bytes.fromhex(_serial(cert)))
    assert i > 0
    der[i + 10] ^= 0x01
    bad = os.path.join(os.path.dirname(cert), "bad.pem")
    with open(bad, "w") as f:
        f.write(ssl.DER_cert_to_PEM_cert(bytes(der)))
    p = _openssl("verify", "-x509_strict", "-check_ss_sig", "-partial_chain",
                 "-CAfile", bad, bad, check=False)
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert "signature failure" in p.stdout + p.stderr, (p.stdout, p.stderr)


def test_serial_is_positive_and_16_bytes():
    _, cert, _ = _made()
    s = _serial(cert)
    assert re.fullmatch(r"[0-9A-F]{32}", s), s
    assert int(s[0], 16) < 8, s


def test_host_sets_cn_and_san():
    _, cert, _ = _made(host="chat.other.example")
    text = _text(cert)
    assert "CN = chat.other.example" in text, text
    assert "DNS:chat.other.example" in text, text
    assert HOST not in text


def test_ip_literal_host_gets_ip_san_too():
    _, cert, _ = _made(host="127.0.0.1")
    text = _text(cert)
    assert re.search(r"DNS:127\.0\.0\.1, IP Address:127\.0\.0\.1$", text,
                     re.M), text
    _, cert6, _ = _made(host="::1")
    text = _text(cert6)
    assert re.search(r"IP Address:0:0:0:0:0:0:0:1$", text, re.M), text


def test_default_host_is_the_system_hostname():
    name = socket.gethostname()
    if not name or not re.fullmatch(r"[A-Za-z0-9._*-]{1,64}", name):
        raise Skip("this host's name %r is not a plain DNS name" % name)
    _, cert, _ = _made(host=None)
    text = _text(cert)
    assert "CN = %s\n" % name in text, text
    assert "DNS:%s\n" % name in text, text


def test_printed_fingerprint_equals_openssl_sha256():
    p, cert, _ = _made()
    fp = FP_RE.search(p.stdout).group(1)
    out = _openssl("x509", "-in", cert, "-noout", "-fingerprint",
                   "-sha256").stdout
    theirs = out.strip().split("=", 1)[1].replace(":", "").lower()
    assert fp == theirs, (fp, out)
    assert fp == hashlib.sha256(_der(cert)).hexdigest()


def test_two_runs_make_different_keys_and_serials():
    _, cert1, key1 = _made()
    _, cert2, key2 = _made()
    assert _serial(cert1) != _serial(cert2)
    pub1 = _openssl("pkey", "-in", key1, "-pubout").stdout
    pub2 = _openssl("pkey", "-in", key2, "-pubout").stdout
    assert pub1 != pub2
    assert open(key1).read() != open(key2).read()


# -- the key --

def test_key_is_valid_pkcs8_p256():
    _, _, key = _made()
    _openssl("pkey", "-in", key, "-check", "-noout")
    text = _openssl("pkey", "-in", key, "-noout", "-text").stdout
    assert "ASN1 OID: prime256v1" in text, text
    assert "Private-Key: (256 bit)" in text, text


def test_key_matches_cert():
    _, cert, key = _made()
    from_key = _openssl("pkey", "-in", key, "-pubout").stdout
    from_cert = _openssl("x509", "-in", cert, "-noout", "-pubkey").stdout
    assert from_key == from_cert, (from_key, from_cert)
    assert "-----BEGIN PUBLIC KEY-----" in from_key


# -- used for TLS --

def test_python_ssl_loads_the_pair():
    _, cert, key = _made()
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)


def test_python_ssl_rejects_another_runs_key():
    # load_cert_chain checks that key and cert belong together.
    _, cert1, _ = _made()
    _, _, key2 = _made()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(cert1, key2)
    except ssl.SSLError:
        return
    raise AssertionError("a mismatched key was accepted")


def test_loopback_tls_handshake_verifies_host_and_fingerprint():
    p, cert, key = _made()
    peer, reply = _handshake(cert, key, HOST, cert)
    assert reply == b"PONG hello", reply
    assert hashlib.sha256(peer).hexdigest() == \
        FP_RE.search(p.stdout).group(1)


def test_loopback_tls_handshake_to_ip_literal_host():
    _, cert, key = _made(host="127.0.0.1")
    _, reply = _handshake(cert, key, "127.0.0.1", cert)
    assert reply == b"PONG hello", reply


def test_loopback_tls_client_refuses_wrong_host():
    _, cert, key = _made()
    try:
        _handshake(cert, key, "wrong.example.test", cert)
    except ssl.SSLCertVerificationError:
        return
    raise AssertionError("a certificate for %s passed as another name"
                         % HOST)


# -- refusing --

def test_second_run_refuses_to_overwrite_and_exits_1():
    _, cert, key = _made()
    before = (open(cert).read(), open(key).read())
    p = run_ergo("mkcerts", "--cert", cert, "--key", key, "--host", HOST)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert key in p.stderr and "exists" in p.stderr, p.stderr
    assert p.stdout == "", p.stdout
    assert (open(cert).read(), open(key).read()) == before


def test_existing_cert_alone_keeps_the_key_unwritten():
    d = _tmpdir()
    cert = os.path.join(d, "cert.pem")
    with open(cert, "w") as f:
        f.write("operator's certificate\n")
    p, _, key = _mkcerts(d)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert cert in p.stderr and "exists" in p.stderr, p.stderr
    assert not os.path.exists(key)
    assert open(cert).read() == "operator's certificate\n"


def test_existing_key_alone_keeps_the_cert_unwritten():
    d = _tmpdir()
    key = os.path.join(d, "key.pem")
    with open(key, "w") as f:
        f.write("operator's key\n")
    p, cert, _ = _mkcerts(d)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert key in p.stderr and "exists" in p.stderr, p.stderr
    assert not os.path.exists(cert)
    assert open(key).read() == "operator's key\n"


def test_unwritable_cert_path_names_it_and_leaves_no_key():
    d = _tmpdir()
    cert = os.path.join(d, "missing-dir", "cert.pem")
    key = os.path.join(d, "key.pem")
    p = run_ergo("mkcerts", "--cert", cert, "--key", key, "--host", HOST)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert cert in p.stderr and "No such file" in p.stderr, p.stderr
    assert os.listdir(d) == []


def test_failed_write_removes_both_files_and_exits_1():
    # RLIMIT_FSIZE 0 makes the first write() fail with EFBIG (SIGXFSZ
    # ignored, which exec keeps) after both files were created.
    def no_file_growth():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

    d = _tmpdir()
    p = subprocess.run([ERGO_BIN, "mkcerts", "--host", HOST], cwd=d,
                       preexec_fn=no_file_growth, capture_output=True,
                       text=True, timeout=30)
    assert not sanitizer_report(p.stdout + p.stderr), p.stderr
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "privkey.pem: File too large" in p.stderr, p.stderr
    assert p.stdout == "", p.stdout
    assert os.listdir(d) == []


def test_same_file_for_cert_and_key_is_refused():
    d = _tmpdir()
    both = os.path.join(d, "both.pem")
    p = run_ergo("mkcerts", "--cert", both, "--key", both, "--host", HOST)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert both in p.stderr, p.stderr
    assert os.listdir(d) == []


def test_bad_host_exits_1_and_writes_nothing():
    for host in ("two words", "a/b", "", "x" * 254):
        d = _tmpdir()
        p, _, _ = _mkcerts(d, host=host)
        assert p.returncode == 1, (host, p.stdout, p.stderr)
        assert "not a host name" in p.stderr, (host, p.stderr)
        assert os.listdir(d) == [], host


def test_unknown_flag_exits_2_with_usage():
    d = _tmpdir()
    p = run_ergo("mkcerts", "--bogus", cwd=d)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "--bogus" in p.stderr and "usage:" in p.stderr, p.stderr
    assert os.listdir(d) == []


def test_flag_without_value_exits_2():
    for flag in ("--cert", "--key", "--host"):
        d = _tmpdir()
        p = run_ergo("mkcerts", flag, cwd=d)
        assert p.returncode == 2, (flag, p.stdout, p.stderr)
        assert "usage:" in p.stderr, p.stderr
        assert os.listdir(d) == [], flag


def test_config_flag_is_not_a_mkcerts_option():
    d = _tmpdir()
    p = run_ergo("mkcerts", "--config", "ergo.conf", cwd=d)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert os.listdir(d) == []


def test_help_lists_mkcerts():
    p = run_ergo("help")
    assert p.returncode == 0
    assert "ergo mkcerts [--cert FILE] [--key FILE] [--host NAME]" in \
        p.stdout, p.stdout


def test_ergo_serves_tls_with_the_pair():
    # The point of the command: its files work in a tls block as written.
    d = _tmpdir()
    p, cert, key = _mkcerts(d, host="localhost")
    assert p.returncode == 0, (p.stdout, p.stderr)
    port = free_port()
    listen = 'listen 127.0.0.1:%d { tls { cert "%s"  key "%s" } }' % (
        port, cert, key)
    try:
        Server(server=listen)
    except ErgoTestError as e:
        if "not supported by this build" in str(e):
            raise Skip("this build has no TLS listeners")
        raise
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=cert)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as tls:
            assert hashlib.sha256(tls.getpeercert(binary_form=True)) \
                .hexdigest() == FP_RE.search(p.stdout).group(1)
            tls.sendall(b"NICK tlsnick\r\nUSER u 0 * :r\r\n")
            got = b""
            while b" 001 tlsnick " not in got:
                chunk = tls.recv(4096)
                assert chunk, got
                got += chunk
