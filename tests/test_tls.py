"""TLS listeners (net_tls.c on BearSSL): real handshakes from Python's ssl
module and `openssl s_client`, RSA and EC certificates, a chain with an
intermediate, client certificates and CertFP, reload of a renewed
certificate, broken certificates, plaintext and garbage on the TLS port,
stalled and concurrent handshakes."""

import hashlib
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from ergotest import ErgoTestError, Server, free_port, run_ergo, wait_for

D = None            # certificates made once for the module


def openssl(*args, cwd=None):
    p = subprocess.run(["openssl"] + list(args), cwd=cwd or D,
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise ErgoTestError("openssl %s: %s" % (" ".join(args), p.stderr))
    return p.stdout


def selfsigned(name, keyalg, cn="localhost"):
    """name.crt and name.key (PKCS#8), self-signed for localhost."""
    if keyalg == "ec":
        newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    else:
        newkey = ["-newkey", "rsa:2048"]
    openssl("req", "-x509", *newkey, "-nodes", "-keyout", name + ".key",
            "-out", name + ".crt", "-subj", "/CN=" + cn, "-days", "30",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")


def setup_module():
    global D
    D = tempfile.mkdtemp(prefix="ergo-tls-")
    selfsigned("ec", "ec")
    selfsigned("rsa", "rsa")
    selfsigned("ec2", "ec")             # the "renewed" certificate
    selfsigned("client", "ec", cn="tlsuser")
    # the same keys in their traditional encodings
    openssl("pkey", "-in", "rsa.key", "-traditional", "-out", "rsa1.key")
    openssl("ec", "-in", "ec.key", "-out", "ec1.key")
    # root (RSA) -> intermediate (EC) -> leaf (EC); fullchain = leaf + int
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
            "root.key", "-out", "root.crt", "-subj", "/CN=ergo test root",
            "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    with open(os.path.join(D, "ca.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:TRUE,pathlen:0\n"
                "keyUsage=critical,keyCertSign,cRLSign\n")
    with open(os.path.join(D, "leaf.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", "int.key", "-out", "int.csr", "-subj",
            "/CN=ergo test intermediate")
    openssl("x509", "-req", "-in", "int.csr", "-CA", "root.crt", "-CAkey",
            "root.key", "-CAcreateserial", "-out", "int.crt", "-days", "30",
            "-extfile", "ca.ext")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj",
            "/CN=localhost")
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "int.crt", "-CAkey",
            "int.key", "-CAcreateserial", "-out", "leaf.crt", "-days", "30",
            "-extfile", "leaf.ext")
    with open(os.path.join(D, "fullchain.pem"), "w") as f:
        for n in ("leaf.crt", "int.crt"):
            with open(os.path.join(D, n)) as g:
                f.write(g.read())


def teardown_module():
    if D is not None:
        shutil.rmtree(D, ignore_errors=True)


def p(name):
    return os.path.join(D, name)


def fingerprint(pem_path):
    with open(pem_path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def tls_server(cert="ec.crt", key="ec.key", tls_extra="", **kw):
    """A server with a plain listener (port) and a TLS one (tls_port)."""
    tls_port = free_port()
    listen = ('listen 127.0.0.1:%d { tls { cert "%s"  key "%s" %s } }'
              % (tls_port, p(cert) if not os.path.isabs(cert) else cert,
                 p(key) if not os.path.isabs(key) else key, tls_extra))
    s = Server(server=listen + "\n" + kw.pop("server", ""), **kw)
    s.tls_port = tls_port
    return s


def context(cafile="ec.crt", client=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(p(cafile))
    if client:
        ctx.load_cert_chain(p(client + ".crt"), p(client + ".key"))
    return ctx


class TLSClient:
    """A line-based IRC client over TLS (enough for these tests)."""

    def __init__(self, port, ctx, hostname="localhost", timeout=5):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname=hostname)
        self.buf = b""
        self.received = []

    def send(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def expect(self, pattern, timeout=5):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                line = line.rstrip(b"\r").decode("utf-8", "replace")
                self.received.append(line)
                if rx.search(line):
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                raise ErgoTestError("no line matching %r; got:\n%s"
                                    % (pattern,
                                       "\n".join(self.received[-20:])))
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise ErgoTestError("connection closed waiting for %r; "
                                    "got:\n%s" % (pattern, "\n".join(
                                        self.received[-20:])))
            self.buf += data

    def register(self, nick):
        self.send("NICK " + nick)
        self.send("USER %s 0 * :TLS user" % nick)
        self.expect(r" 001 %s " % re.escape(nick))
        self.expect(r" (376|422) ")
        return self

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def served_fingerprint(port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw) as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def closed_soon(sock, timeout=5):
    """True once the server closed sock (EOF or reset) within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not sock.recv(4096):
                return True
        except socket.timeout:
            continue
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True
    return False


# ---- handshakes ----

def test_a_tls_member_that_stops_reading_gets_every_line_in_order_later():
    """A busy channel's TLS member whose socket fills: the records the
    server could not send yet wait (net_tls.c gathers a pass's records
    into one send and keeps what the socket did not take), and every
    line arrives once and in order when the client reads again."""
    s = tls_server(server="max-sendq 16m")
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", s.tls_port))
    r = TLSClient.__new__(TLSClient)
    r.sock = context().wrap_socket(raw, server_hostname="localhost")
    r.buf, r.received = b"", []
    r.register("slowtls")
    r.send("JOIN #big")
    r.expect(r" 366 ")
    w = s.client("writer")
    w.send("JOIN #big")
    w.expect(r" 366 ")
    # ~5 MB: more than the server's socket can hold (its send buffer
    # grows to tcp_wmem's 4 MiB), so some records wait in the server
    n, pad = 10000, "x" * 440
    w.send_raw(b"".join(b"PRIVMSG #big :%d %s\r\n" % (i, pad.encode())
                        for i in range(n)))
    w.send("PING :sent")
    w.expect(r"PONG \S+ :?sent$", timeout=60)   # all taken, r unread
    r.expect(r"PRIVMSG #big :%d " % (n - 1), timeout=60)
    got = [int(l.split(" :", 1)[1].split()[0]) for l in r.received
           if " PRIVMSG #big :" in l]
    assert got == list(range(n)), (len(got), got[:5], got[-5:])
    r.send("PING :after")
    r.expect(r"PONG \S+ :?after$")


def test_a_tls_member_gets_channel_and_private_lines_in_the_order_sent():
    """Channel lines reach a TLS member by reference (one shared copy,
    handed to each member's engine when its output is written) and lines
    to it alone by copy: interleaved in one pass they arrive once each,
    in the order sent, and a plain member of the same channel gets the
    same channel lines."""
    s = tls_server(server="max-sendq 16m")
    r = TLSClient(s.tls_port, context()).register("tlsmix")
    r.send("JOIN #mix")
    r.expect(r" 366 ")
    p = s.client("plainmix")
    p.send("JOIN #mix")
    p.expect(r" 366 ")
    w = s.client("writer")
    w.send("JOIN #mix")
    w.expect(r" 366 ")
    n, pad = 3000, b"y" * 200
    w.send_raw(b"".join(
        b"NOTICE tlsmix :%d\r\n" % i if i % 3 == 1 else
        b"PRIVMSG #mix :%d %s\r\n" % (i, pad) for i in range(n)))
    r.expect(r"^:writer\S* NOTICE tlsmix :%d$" % (n - 2), timeout=60)
    r.expect(r"^:writer\S* PRIVMSG #mix :%d " % (n - 1), timeout=60)
    got = [int(l.split(" :", 1)[1].split()[0]) for l in r.received
           if re.match(r":writer\S* (PRIVMSG #mix|NOTICE tlsmix) :", l)]
    assert got == list(range(n)), (len(got), got[:5], got[-5:])
    p.expect(r"PRIVMSG #mix :%d " % (n - 1), timeout=60)
    got = [int(l.split(" :", 1)[1].split()[0]) for l in p.received
           if " PRIVMSG #mix :" in l]
    assert got == [i for i in range(n) if i % 3 != 1], len(got)
    r.send("PING :after")
    r.expect(r"PONG \S+ :?after$")


def test_python_client_registers_over_tls_with_an_ec_certificate():
    s = tls_server()
    c = TLSClient(s.tls_port, context()).register("ectls")
    assert c.sock.version() == "TLSv1.2", c.sock.version()
    cipher = c.sock.cipher()[0]
    assert cipher.startswith("ECDHE-ECDSA-") and \
        ("GCM" in cipher or "CHACHA20" in cipher), cipher
    c.send("PING :overtls")
    c.expect(r"PONG \S+ :?overtls$")


def test_aes_gcm_is_chosen_on_a_cpu_with_aes_instructions():
    # AES-GCM first where the CPU has AES-NI and PCLMULQDQ (BearSSL's
    # AES-GCM is cheaper there), ChaCha20-Poly1305 first elsewhere; the
    # client offers both, ChaCha20 first, and the server's order wins.
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    s = tls_server()
    ctx = context()
    ctx.set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256")
    c = TLSClient(s.tls_port, ctx).register("aesgcm")
    cipher = c.sock.cipher()[0]
    if {"aes", "pclmulqdq"} <= flags and os.uname().machine == "x86_64":
        assert cipher == "ECDHE-ECDSA-AES128-GCM-SHA256", cipher
    else:
        assert "CHACHA20" in cipher, cipher


def test_rsa_certificate_with_a_pkcs1_key():
    s = tls_server("rsa.crt", "rsa1.key")
    c = TLSClient(s.tls_port, context("rsa.crt")).register("rsatls")
    assert c.sock.cipher()[0].startswith("ECDHE-RSA-"), c.sock.cipher()


def test_ec_certificate_with_a_sec1_key():
    s = tls_server("ec.crt", "ec1.key")
    TLSClient(s.tls_port, context()).register("sec1tls")


def test_chain_with_an_intermediate_verifies_against_the_root():
    s = tls_server("fullchain.pem", "leaf.key")
    TLSClient(s.tls_port, context("root.crt")).register("chaintls")


def test_openssl_s_client_connects_and_registers():
    s = tls_server()
    script = ("NICK sclient\r\nUSER sclient 0 * :s_client\r\n"
              "PING :from-s-client\r\n")
    proc = subprocess.Popen(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.tls_port,
         "-CAfile", p("ec.crt"), "-verify_return_error", "-quiet",
         "-servername", "localhost"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        proc.stdin.write(script.encode())
        proc.stdin.flush()
        out = b""
        deadline = time.monotonic() + 10
        while b"from-s-client" not in out and time.monotonic() < deadline:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
        text = out.decode("utf-8", "replace")
        assert " 001 sclient " in text, text
        assert re.search(r"PONG \S+ :?from-s-client", text), text
    finally:
        proc.kill()
        proc.wait()


def test_a_client_that_negotiated_512_byte_records_gets_a_burst_whole():
    """Channel lines are sealed in records of up to 16 KiB, except for a
    client that negotiated a smaller maximum fragment length (RFC 6066):
    openssl s_client -maxfraglen 512 refuses any longer record, and gets
    every line of a 100 KB burst, in order."""
    s = tls_server(server="max-sendq 16m")
    proc = subprocess.Popen(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.tls_port,
         "-CAfile", p("ec.crt"), "-verify_return_error", "-quiet",
         "-servername", "localhost", "-maxfraglen", "512"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    out = b""

    def until(marker, timeout=30):
        nonlocal out
        deadline = time.monotonic() + timeout
        while marker not in out:
            left = deadline - time.monotonic()
            r, _, _ = select.select([proc.stdout], [], [], max(0, left))
            chunk = os.read(proc.stdout.fileno(), 65536) if r else b""
            if not chunk:
                raise ErgoTestError("s_client: no %r (exit %s); got:\n%s"
                                    "\n%s" % (marker, proc.poll(),
                                               out[-2000:].decode(
                                                   "utf-8", "replace"),
                                               proc.stderr.read1(4096)
                                               if proc.poll() is not None
                                               else b""))
            out += chunk

    try:
        proc.stdin.write(b"NICK fragc\r\nUSER fragc 0 * :s_client\r\n"
                         b"JOIN #frag\r\n")
        proc.stdin.flush()
        until(b" 366 fragc ")
        w = s.client("writer")
        w.send("JOIN #frag")
        w.expect(r" 366 ")
        n, pad = 400, b"z" * 250
        w.send_raw(b"".join(b"PRIVMSG #frag :%d %s\r\n" % (i, pad)
                            for i in range(n)))
        until(b"PRIVMSG #frag :%d " % (n - 1))
        got = [int(m) for m in re.findall(rb"PRIVMSG #frag :(\d+) ", out)]
        assert got == list(range(n)), (len(got), got[:5], got[-5:])
        proc.stdin.write(b"PING :after\r\n")
        proc.stdin.flush()
        until(b"after")
    finally:
        proc.kill()
        proc.wait()


def test_tls_1_1_is_refused_by_default():
    s = tls_server()
    ctx = context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    raw = socket.create_connection(("127.0.0.1", s.tls_port), timeout=5)
    try:
        try:
            ctx.wrap_socket(raw, server_hostname="localhost")
        except (ssl.SSLError, ConnectionResetError, OSError):
            pass
        else:
            raise AssertionError("a TLS 1.1 handshake succeeded")
    finally:
        raw.close()
    # and the server is fine
    TLSClient(s.tls_port, context()).register("after11")


def s_client(port, *flags):
    """openssl s_client with stdin closed: a handshake, then goodbye."""
    return subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
         "-servername", "localhost"] + list(flags),
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=15)


def test_every_failed_handshake_is_logged_once_with_its_reason():
    """TLS 1.3-only and TLS 1.0-only clients, found over by the write
    path (our alert), plaintext and a stalled handshake (read path and
    timeout) each leave one info line naming the reason; a handshake
    that completed leaves none."""
    s = tls_server(server="timeouts { registration 2s }")
    failed = r"info tls handshake with 127\.0\.0\.1 failed: "

    def count(reason=""):
        return len(re.findall(failed + reason, s.logtext()))

    s_client(s.tls_port, "-tls1_3")
    s.wait_log(failed + r"TLS error: no shared cipher suite")
    old = s_client(s.tls_port, "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0")
    tls10 = "no protocols available" not in old.stderr
    if tls10:       # else this OpenSSL cannot even offer TLS 1.0
        s.wait_log(failed + r"TLS error: unsupported protocol version")
    done = s_client(s.tls_port, "-tls1_2")
    assert "Cipher is" in done.stdout, done.stdout + done.stderr
    raw = socket.create_connection(("127.0.0.1", s.tls_port), timeout=5)
    raw.sendall(b"NICK plain\r\nUSER plain 0 * :plain\r\n")
    assert closed_soon(raw)
    raw.close()
    s.wait_log(failed + r"TLS error: not a TLS client")
    raw = socket.create_connection(("127.0.0.1", s.tls_port), timeout=5)
    raw.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    assert closed_soon(raw, timeout=10)
    raw.close()
    s.wait_log(failed + r"Registration timed out$")
    # a client that completes its handshake is not a failure; sync on
    # one more registration, then each attempt was logged exactly once
    TLSClient(s.tls_port, context()).register("afterall")
    assert count("TLS error: no shared cipher suite") == 1
    assert count("TLS error: unsupported protocol version") == int(tls10)
    assert count("TLS error: not a TLS client") == 1
    assert count() == 3 + int(tls10), s.logtail()


def test_throttled_tls_connections_are_not_each_logged_as_failed():
    """A connection refused at accept (the throttle, a D-line) is logged
    where that is decided, once a window: never as one failed handshake
    line per connection, which would undo that."""
    s = tls_server(server="connection-limits { max-connections-per-window "
                          "1 }")
    for i in range(6):
        raw = socket.create_connection(("127.0.0.1", s.tls_port),
                                       timeout=5,
                                       source_address=("127.0.0.11", 0))
        raw.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        if i > 0:
            assert closed_soon(raw)
        raw.close()
    s.wait_log(r"127\.0\.0\.11\S*: connections throttled")
    TLSClient(s.tls_port, context()).register("notthrottled")
    handshakes = re.findall(r"handshake with 127\.0\.0\.11 failed",
                            s.logtext())
    assert len(handshakes) <= 1, s.logtail()


# ---- WHOIS, +Z, CertFP ----

def test_whois_shows_secure_and_certfp_to_the_user_and_opers_only():
    s = tls_server()
    c = TLSClient(s.tls_port, context(client="client")).register("certy")
    fp = fingerprint(p("client.crt"))
    c.send("WHOIS certy")
    l = c.expect(r" 276 certy certy ")
    assert l.endswith(":has client certificate fingerprint " + fp), l
    c.expect(r" 671 certy certy :is using a secure connection")
    c.expect(r" 318 certy certy ")
    plain = s.client("plainuser")
    plain.send("WHOIS certy")
    lines = plain.lines_until(r" 318 plainuser certy ")
    assert any(" 671 plainuser certy " in x for x in lines), lines
    assert not any(" 276 " in x for x in lines), lines


def test_tls_users_get_user_mode_z_and_plain_users_do_not():
    s = tls_server()
    c = TLSClient(s.tls_port, context()).register("zed")
    c.send("MODE zed")
    l = c.expect(r" 221 zed ")
    assert "Z" in l.split()[-1], l
    plain = s.client("notzed")
    plain.send("MODE notzed")
    l = plain.expect(r" 221 notzed ")
    assert "Z" not in l.split()[-1], l
    plain.send("MODE notzed +Z")
    plain.send("MODE notzed")
    l = plain.expect(r" 221 notzed ")
    assert "Z" not in l.split()[-1], l


def test_oper_by_certificate_fingerprint():
    fp = fingerprint(p("client.crt"))
    s = tls_server(conf="oper certop { class server-admin  certfp %s }\n"
                   % fp)
    c = TLSClient(s.tls_port, context(client="client")).register("certop")
    c.send("OPER certop")
    c.expect(r" 381 certop ")
    # without the certificate the same OPER fails
    d = TLSClient(s.tls_port, context()).register("nocert")
    d.send("OPER certop")
    d.expect(r" 464 nocert ")


# ---- certificates at start and at rehash ----

def test_missing_certificate_makes_run_exit_1_naming_the_file():
    s = tls_server("nonexistent.crt", "ec.key", start=False)
    s.start(wait=False)
    assert s.wait_exit(10) == 1
    assert re.search(r"nonexistent\.crt: No such file or directory",
                     s.logtext()), s.logtext()


def test_mismatched_key_makes_run_exit_1():
    s = tls_server("ec.crt", "ec2.key", start=False)
    s.start(wait=False)
    assert s.wait_exit(10) == 1
    assert re.search(r"ec2\.key does not match the certificate in "
                     r"\S*ec\.crt", s.logtext()), s.logtext()


def test_checkconfig_reports_a_bad_certificate():
    s = tls_server("ec.key", "ec.key", start=False)
    r = run_ergo("checkconfig", "--config", s.conf_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no CERTIFICATE in it" in r.stderr, r.stderr


def live_server(tls_extra=""):
    """A running TLS server whose cert and key are copies in its own
    directory (the files a reload test replaces): (server, cert, key)."""
    s = tls_server(start=False)
    cert, key = os.path.join(s.dir, "live.crt"), os.path.join(s.dir,
                                                              "live.key")
    shutil.copy(p("ec.crt"), cert)
    shutil.copy(p("ec.key"), key)
    s.extra_server = ('listen 127.0.0.1:%d { tls { cert "%s"  key "%s" %s '
                      '} }' % (s.tls_port, cert, key, tls_extra))
    s.write_config()
    s.start()
    return s, cert, key


def test_rehash_loads_a_renewed_certificate_and_keeps_live_sessions():
    s, cert, key = live_server()
    old = TLSClient(s.tls_port, context()).register("oldsession")
    assert served_fingerprint(s.tls_port) == fingerprint(p("ec.crt"))
    shutil.copy(p("ec2.crt"), cert)
    shutil.copy(p("ec2.key"), key)
    s.signal(signal.SIGHUP)
    wait_for(lambda: served_fingerprint(s.tls_port) ==
             fingerprint(p("ec2.crt")), 5, "the renewed certificate")
    old.send("PING :still-old")
    old.expect(r"PONG \S+ :?still-old$")


def test_rehash_with_a_broken_certificate_keeps_the_old_one():
    s, cert, key = live_server()
    with open(cert, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64 !!!\n")
    s.signal(signal.SIGHUP)
    s.wait_log(r"error rehash .*live\.crt")
    s.wait_log(r"config not reloaded")
    assert served_fingerprint(s.tls_port) == fingerprint(p("ec.crt"))
    TLSClient(s.tls_port, context()).register("stillok")


def test_rehash_with_a_missing_certificate_names_the_config_line():
    """The certificate removed under a running server: the rehash error
    says FILE:LINE of the listen that names it, as a config error does,
    and the old pair goes on serving."""
    s, cert, key = live_server()
    os.unlink(cert)
    s.signal(signal.SIGHUP)
    line = [n for n, l in enumerate(open(s.conf_path).read().split("\n"),
                                    1) if "live.crt" in l][0]
    s.wait_log(r"error rehash %s:%d: listen 127\.0\.0\.1:%d: \S*live\.crt: "
               r"No such file or directory"
               % (re.escape(s.conf_path), line, s.tls_port))
    s.wait_log(r"config not reloaded")
    TLSClient(s.tls_port, context()).register("stillok")


def test_reload_interval_picks_up_a_renewed_pair_without_a_signal():
    s, cert, key = live_server("reload-interval 1s")
    assert served_fingerprint(s.tls_port) == fingerprint(p("ec.crt"))
    # key first, then cert: a half-renewed pair must not be swapped in
    shutil.copy(p("ec2.key"), key)
    shutil.copy(p("ec2.crt"), cert)
    wait_for(lambda: served_fingerprint(s.tls_port) ==
             fingerprint(p("ec2.crt")), 10, "the renewed certificate")
    s.wait_log(r"info tls \S*live\.crt: reloaded")


# ---- hostile and odd clients ----

def test_plaintext_on_the_tls_port_is_dropped_and_others_are_unharmed():
    s = tls_server()
    good = TLSClient(s.tls_port, context()).register("tlsgood")
    raw = socket.create_connection(("127.0.0.1", s.tls_port), timeout=5)
    raw.sendall(b"NICK plain\r\nUSER plain 0 * :plain\r\n")
    assert closed_soon(raw), "plaintext client not dropped"
    raw.close()
    raw = socket.create_connection(("127.0.0.1", s.tls_port), timeout=5)
    raw.sendall(os.urandom(3000))
    assert closed_soon(raw), "garbage client not dropped"
    raw.close()
    good.send("PING :unharmed")
    good.expect(r"PONG \S+ :?unharmed$")


def test_a_stalled_handshake_is_timed_out():
    s = tls_server(server="timeouts { registration 2s }")
    raw = socket.create_connection(("127.0.0.1", s.tls_port), timeout=5)
    raw.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a start
    good = TLSClient(s.tls_port, context()).register("notstalled")
    assert closed_soon(raw, timeout=10), "stalled handshake never dropped"
    raw.close()
    good.send("PING :fine")
    good.expect(r"PONG \S+ :?fine$")


def test_many_concurrent_handshakes_all_register():
    s = tls_server(server="connection-limits { max-per-ip 100 }")
    errors, done = [], []

    def one(i):
        try:
            c = TLSClient(s.tls_port, context(), timeout=20)
            c.register("many%02d" % i)
            done.append(c)
        except Exception as e:      # reported below
            errors.append("%d: %r" % (i, e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(done) == 40
    for c in done:
        c.close()


def test_close_notify_quits_the_client_cleanly():
    s = tls_server()
    peer = s.client("watcher")
    peer.send("JOIN #tlsq")
    peer.expect(r" 366 watcher #tlsq ")
    c = TLSClient(s.tls_port, context()).register("notifier")
    c.send("JOIN #tlsq")
    c.expect(r" 366 notifier #tlsq ")
    c.sock = c.sock.unwrap()        # sends close_notify
    c.sock.close()
    l = peer.expect(r"^:notifier!\S+ QUIT ")
    assert "Connection closed" in l, l


def test_min_version_1_0_lets_an_old_client_in():
    s = tls_server(tls_extra="min-version 1.0")
    ctx = context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        c = TLSClient(s.tls_port, ctx)
    except ssl.SSLError as e:
        if "NO_PROTOCOLS_AVAILABLE" in str(e) or "no protocols" in str(e):
            return      # this OpenSSL cannot speak TLS 1.1 at all
        raise
    assert c.sock.version() == "TLSv1.1", c.sock.version()
    c.register("oldtls")


def test_checkconfig_rejects_a_malformed_certfp():
    s = Server(start=False,
               conf="oper x { class server-admin  certfp abcd }\n")
    r = run_ergo("checkconfig", "--config", s.conf_path)
    assert r.returncode == 1
    assert re.search(r'ergo\.conf:\d+:1: oper "x": certfp must be 64 hex '
                     r'digits', r.stderr), r.stderr


def cap_ls_302(send, expect):
    send("CAP LS 302")
    return expect(r" CAP \* LS :")


def test_sts_sends_plain_clients_to_the_tls_port_and_tls_clients_a_duration():
    s = tls_server(server="sts { enabled yes  port 6697  duration 30d }")
    plain = s.client()
    l = cap_ls_302(plain.send, plain.expect)
    assert re.search(r"(^| |:)sts=port=6697( |$)", l), l
    assert "duration" not in l, l
    t = TLSClient(s.tls_port, context())
    l = cap_ls_302(t.send, t.expect)
    assert re.search(r"(^| |:)sts=duration=2592000( |$)", l), l
    # a policy is advertised, never negotiated
    plain.send("CAP REQ :sts")
    plain.expect(r" CAP \* NAK :sts$")
    # not for pre-302 clients, and not at all when disabled
    old = s.client()
    old.send("CAP LS")
    assert "sts" not in old.expect(r" CAP \* LS :")
    s2 = tls_server()
    c = s2.client()
    assert "sts" not in cap_ls_302(c.send, c.expect)


def test_several_tls_listeners_serve_their_own_certificates():
    second = free_port()
    s = tls_server(server='listen 127.0.0.1:%d { tls { cert "%s"  key "%s" '
                   '} }' % (second, p("rsa.crt"), p("rsa.key")))
    assert served_fingerprint(s.tls_port) == fingerprint(p("ec.crt"))
    assert served_fingerprint(second) == fingerprint(p("rsa.crt"))


def test_a_half_closed_tls_client_is_quit_and_others_are_unharmed():
    s = tls_server()
    peer = s.client("halfpeer")
    peer.send("JOIN #half")
    peer.expect(r" 366 halfpeer #half ")
    c = TLSClient(s.tls_port, context()).register("halfclosed")
    c.send("JOIN #half")
    c.expect(r" 366 halfclosed #half ")
    c.sock.shutdown(socket.SHUT_WR)     # FIN without close_notify
    l = peer.expect(r"^:halfclosed!\S+ QUIT ")
    assert "Connection closed" in l, l
    other = TLSClient(s.tls_port, context()).register("afterhalf")
    other.send("PING :ok")
    other.expect(r"PONG \S+ :?ok$")


def test_sts_duration_0_withdraws_the_policy_over_tls_after_a_rehash():
    """doc/tls.md: a policy is withdrawn by `duration 0` and a rehash,
    keeping the TLS listener: TLS clients are then told
    sts=duration=0 (drop it); plain ones are still sent to the port."""
    s = tls_server(server="sts { enabled yes  port 6697  duration 30d }")
    t = TLSClient(s.tls_port, context())
    assert "sts=duration=2592000" in cap_ls_302(t.send, t.expect)
    s.extra_server = s.extra_server.replace("duration 30d", "duration 0")
    s.write_config()
    s.signal(signal.SIGHUP)
    s.wait_log(r"configuration reloaded")
    t2 = TLSClient(s.tls_port, context())
    l = cap_ls_302(t2.send, t2.expect)
    assert re.search(r"(^| |:)sts=duration=0( |$)", l), l
    doc = open(os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "doc", "tls.md")).read()
    assert "duration 0" in doc and "sts=duration=0" in doc


# ---- key exchange and session resumption ----

def s_client_temp_key(port, curves):
    """The "Server Temp Key" openssl s_client reports when it offers
    only the given curves (TLS 1.2)."""
    p = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % port, "-tls1_2", "-curves", curves],
                       input=b"", capture_output=True, timeout=20)
    m = re.search(rb"Server Temp Key: ([^\n]+)", p.stdout)
    assert m, p.stdout.decode("utf-8", "replace")[-2000:]
    return m.group(1).decode()


def test_x25519_is_chosen_when_offered_and_p256_otherwise():
    s = tls_server()
    assert s_client_temp_key(s.tls_port, "P-256:X25519").startswith(
        "X25519")
    assert "prime256v1" in s_client_temp_key(s.tls_port, "P-256")


def resumed(port, ctx, session):
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    c = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    r = c.session_reused
    c.close()
    return r


def test_a_returning_client_resumes_its_session_and_registers():
    s = tls_server()
    ctx = context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    a = TLSClient(s.tls_port, ctx).register("first")
    sess = a.sock.session
    assert not a.sock.session_reused
    b = TLSClient.__new__(TLSClient)
    raw = socket.create_connection(("127.0.0.1", s.tls_port), timeout=5)
    b.sock = ctx.wrap_socket(raw, server_hostname="localhost",
                             session=sess)
    b.buf, b.received = b"", []
    assert b.sock.session_reused, "the session was not resumed"
    b.register("again")
    b.send("PING :resumed")
    b.expect(r"PONG \S+ :?resumed$")


def test_session_cache_0_resumes_nothing():
    s = tls_server(tls_extra="session-cache 0")
    ctx = context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    a = TLSClient(s.tls_port, ctx).register("nocache")
    sess = a.sock.session
    assert not resumed(s.tls_port, ctx, sess)
    TLSClient(s.tls_port, ctx).register("nocache2")


def test_a_session_is_not_resumed_after_its_lifetime():
    s = tls_server(tls_extra="session-lifetime 1s")
    ctx = context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    raw = socket.create_connection(("127.0.0.1", s.tls_port), timeout=5)
    c = ctx.wrap_socket(raw, server_hostname="localhost")
    sess = c.session
    c.close()
    assert resumed(s.tls_port, ctx, sess)
    # expires within a second or two (whole seconds of the server clock)
    wait_for(lambda: not resumed(s.tls_port, ctx, sess), timeout=5,
             what="the session to expire")
    TLSClient(s.tls_port, ctx).register("expired")
