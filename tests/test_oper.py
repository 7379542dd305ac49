"""Operator commands: OPER, KILL, WALLOPS, REHASH, DIE (irc_query.c)."""

import base64
import hashlib
import os
import re
import shutil
import socket
import tempfile

from ergotest import Client, Server, run_ergo

PASSWORD = "correct horse battery staple"

HASH = None
tmp = None


def genpasswd(password):
    """The hash an operator pastes into an oper block."""
    p = run_ergo("genpasswd", input=password + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    return [l for l in out.splitlines() if l.strip()][-1].strip()


def oper_conf():
    return 'oper admin { class server-admin  password "%s" }\n' % HASH


def setup_module():
    global HASH, tmp
    HASH = genpasswd(PASSWORD)
    tmp = tempfile.mkdtemp(prefix="ergo-oper-")


def teardown_module():
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


def oper_up(c):
    c.send("OPER admin :" + PASSWORD)
    c.expect_numeric("381")


def motd_text(c):
    c.send("MOTD")
    lines = c.lines_until(r" (376|422) ")
    return [l.split(" :", 1)[1] for l in lines if re.search(r" 372 ", l)]


def test_genpasswd_prints_a_hash():
    assert HASH.startswith("$pbkdf2-sha256$"), HASH


def test_genpasswd_uses_the_raised_default_iterations():
    assert HASH.split("$")[2] == "32768", HASH


def test_oper_hash_of_4096_iterations_still_verifies():
    """A hash made by an older genpasswd (4096 iterations) keeps working."""
    import base64
    import hashlib
    salt = os.urandom(16)
    dk = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, 4096)
    b = lambda x: base64.b64encode(x).decode().rstrip("=")
    old = "$pbkdf2-sha256$4096$%s$%s" % (b(salt), b(dk))
    conf = 'oper admin { class server-admin  password "%s" }\n' % old
    with Server(conf=conf) as s, s.client("opOld") as c:
        oper_up(c)


def test_oper_with_right_password_gives_mode_and_381():
    with Server(conf=oper_conf()) as s, s.client("opRight") as c:
        c.send("OPER admin :" + PASSWORD)
        c.expect(r"^:opRight(!\S+)? MODE opRight :?\+o$")
        c.expect(r" 381 opRight :You are now an IRC operator$")
        c.send("WHOIS opRight")
        c.expect(r" 313 opRight opRight :is an IRC operator")
        c.send("LUSERS")
        c.expect(r" 252 opRight 1 :operator\(s\) online")
        log = s.logtext()
        assert "opRight" in log and PASSWORD not in log


def test_oper_with_wrong_password_gives_464():
    with Server(conf=oper_conf()) as s, s.client("opWrong") as c:
        c.send("OPER admin not-the-password")
        c.expect(r" 464 opWrong :Password incorrect$")
        lines = c.sync()
        assert not any(" 381 " in l for l in lines)
        c.send("WHOIS opWrong")
        lines = c.lines_until(r" 318 ")
        assert not any(" 313 " in l for l in lines)
        assert "not-the-password" not in s.logtext()


def test_oper_with_unknown_name_gives_464():
    with Server(conf=oper_conf()) as s, s.client("opUnknown") as c:
        c.send("OPER nobody :" + PASSWORD)
        c.expect(r" 464 opUnknown :Password incorrect$")


def test_oper_name_is_case_sensitive():
    with Server(conf=oper_conf()) as s, s.client("opCase") as c:
        c.send("OPER ADMIN :" + PASSWORD)
        c.expect_numeric("464")


def client_from(s, ip, nick):
    """A registered client connecting from ip (127.0.0.0/8 is all ours)."""
    c = Client(s.port)
    c.sock.close()
    c.sock = socket.create_connection(("127.0.0.1", s.port), timeout=5,
                                      source_address=(ip, 0))
    c.sock.settimeout(10)
    c.register(nick)
    return c


def oper_try(c, name, pw):
    c.send("OPER %s :%s" % (name, pw))
    return c.expect(r" (381|464) ").split()[1]


def test_oper_failures_are_throttled_per_address_and_per_name():
    """Like SASL: 5 failures a minute by address and by oper name, then
    even the right password gets 464; each failure is logged at warn
    with the real address."""
    conf = oper_conf() + ('oper other { class server-admin  password '
                          '"%s" }\n' % HASH)
    with Server(conf=conf) as s:
        a = client_from(s, "127.0.0.2", "guesser")
        for i in range(5):
            assert oper_try(a, "admin", "wrong%d" % i) == "464"
        assert oper_try(a, "admin", PASSWORD) == "464", "not throttled"
        s.wait_log(r" warn opers failed OPER as admin by guesser!\S+ from "
                   r"127\.0\.0\.2: wrong password$")
        s.wait_log(r" warn opers failed OPER as admin by guesser!\S+ from "
                   r"127\.0\.0\.2: too many failures, throttled$")
        # the name is throttled from anywhere; another name is not
        b = client_from(s, "127.0.0.3", "elsewhere")
        assert oper_try(b, "admin", PASSWORD) == "464"
        assert oper_try(b, "other", PASSWORD) == "381"
        # the address is throttled whatever names it tries
        c = client_from(s, "127.0.0.4", "sprayer")
        for i in range(5):
            assert oper_try(c, "nosuch%d" % i, "x") == "464"
        assert oper_try(c, "other", PASSWORD) == "464"
        assert len(re.findall(r" warn opers failed OPER as nosuch",
                              s.logtext())) == 5


def slow_hash(password, iterations):
    """An oper hash with many PBKDF2 iterations, made here (the format
    genpasswd prints), so checking it costs measurable CPU."""
    for n in range(1000):
        salt = hashlib.sha256(b"salt%d" % n).digest()[:16]
        dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt,
                                 iterations)
        b = [base64.b64encode(x).decode().rstrip("=") for x in (salt, dk)]
        if not any(ch in "".join(b) for ch in "+/"):
            return "$pbkdf2-sha256$%d$%s$%s" % (iterations, b[0], b[1])
    raise AssertionError("no plain base64 salt")


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_an_unknown_oper_name_costs_the_hash_a_known_one_does():
    """An unknown name used to skip PBKDF2, so timing told which oper
    names exist: now it runs the same hash (server CPU per try)."""
    conf = ('oper slow { class server-admin  password "%s" }\n'
            % slow_hash(PASSWORD, 200000))
    with Server(conf=conf) as s:
        assert oper_try(s.client("warmup"), "slow", PASSWORD) == "381"
        k = client_from(s, "127.0.0.5", "known")
        t0 = cpu_s(s.pid)
        for i in range(4):
            assert oper_try(k, "slow", "wrong%d" % i) == "464"
        known = cpu_s(s.pid) - t0
        u = client_from(s, "127.0.0.6", "unknown")
        t0 = cpu_s(s.pid)
        for i in range(4):
            assert oper_try(u, "nosuch%d" % i, "wrong") == "464"
        unknown = cpu_s(s.pid) - t0
        assert known >= 0.1, "the slow hash cost only %.2fs" % known
        assert unknown >= known / 2, (known, unknown)


def test_oper_hosts_and_certfp_must_all_match():
    """hosts: masks of the real address (and ident) the oper may come
    from; with a password and a certfp, every one must match, and a
    refusal reads like a wrong password."""
    conf = ('oper local { class server-admin  password "%s"  '
            'hosts "*@10.9.9.9 ~oops@127.0.0.7 *@127.0.0.8" }\n'
            'oper cert { class server-admin  password "%s"  certfp %s }\n'
            % (HASH, HASH, "ab" * 32))
    with Server(conf=conf) as s:
        assert oper_try(client_from(s, "127.0.0.7", "wrongident"), "local",
                        PASSWORD) == "464"
        s.wait_log(r"failed OPER as local by wrongident!\S+ from "
                   r"127\.0\.0\.7: host not in the block's hosts$")
        assert oper_try(client_from(s, "127.0.0.8", "rightip"), "local",
                        PASSWORD) == "381"
        c = client_from(s, "127.0.0.9", "nocert")
        assert oper_try(c, "cert", PASSWORD) == "464"
        s.wait_log(r"failed OPER as cert by nocert!\S+ from 127\.0\.0\.9: "
                   r"certfp missing")


def test_oper_without_any_oper_block_gives_491():
    with Server() as s, s.client("opNone") as c:
        c.send("OPER admin :" + PASSWORD)
        c.expect(r" 491 opNone :")


def test_oper_needs_two_parameters():
    with Server(conf=oper_conf()) as s, s.client("opShort") as c:
        c.send("OPER admin")
        c.expect_numeric("461")


def test_non_oper_gets_481_for_oper_commands():
    with Server(conf=oper_conf()) as s, s.client("plainP") as c, \
            s.client("victimV") as v:
        for cmd in ("KILL victimV :no", "WALLOPS :hello", "REHASH", "DIE"):
            c.send(cmd)
            c.expect(r" 481 plainP :")
        lines = v.sync()
        assert not any("KILL" in l for l in lines)
        assert s.proc.poll() is None


def test_oper_commands_need_parameters_461():
    with Server(conf=oper_conf()) as s, s.client("opParams") as c:
        oper_up(c)
        for cmd in ("KILL", "WALLOPS"):
            c.send(cmd)
            c.expect(r"^:irc\.test 461 opParams %s :" % cmd.split()[0])
        assert s.proc.poll() is None


def test_kill_disconnects_victim_and_peers_see_quit():
    with Server(conf=oper_conf()) as s, s.client("killer") as k, \
            s.client("victim") as v, s.client("witness") as w:
        oper_up(k)
        v.send("JOIN #killroom")
        v.expect(r"366 victim")
        w.send("JOIN #killroom")
        w.expect(r"366 witness")
        k.send("KILL victim :spamming")
        v.expect(r"^:killer!\S+ KILL victim :spamming$")
        rest = v.closed()
        assert any(l.startswith("ERROR") and "Killed (killer (spamming))" in l
                   for l in rest), rest
        w.expect(r"^:victim!\S+ QUIT :Killed \(killer \(spamming\)\)$")
        k.send("WHOIS victim")
        k.expect_numeric("401")
        assert "victim" in s.logtext() and "spamming" in s.logtext()


def _killed_raw(s, k, victim, reason):
    """Registers victim on a raw socket, has k KILL it; returns every
    byte the victim got after its MOTD."""
    import socket
    v = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    v.sendall(b"NICK %s\r\nUSER v 0 * :v\r\n" % victim.encode())
    data = b""
    while b" 376 " not in data and b" 422 " not in data:
        chunk = v.recv(65536)
        assert chunk, data
        data += chunk
    k.send("KILL %s :%s" % (victim, reason))
    data = b""
    while True:
        chunk = v.recv(65536)
        if not chunk:
            break
        data += chunk
    v.close()
    return data


def test_kill_with_long_reason_error_line_is_terminated_and_fits():
    with Server(conf=oper_conf()) as s, s.client("killer2") as k:
        oper_up(k)
        # 510-byte KILL lines; the ERROR built from them is longer
        for victim, reason in (("longvictim", "r" * 493),
                               ("utfvictim", "\u00e9" * 246)):
            data = _killed_raw(s, k, victim, reason)
            assert data.endswith(b"\r\n"), data[-80:]
            lines = data.split(b"\r\n")[:-1]
            assert lines[-1].startswith(b"ERROR :Killed (killer2 ("), \
                lines[-1]
            lines[-1].decode("utf-8")       # not cut inside a character
            for l in lines:
                assert len(l) + 2 <= 512, (len(l), l[:60])


def test_kill_unknown_nick_gives_401():
    with Server(conf=oper_conf()) as s, s.client("killer2") as k:
        oper_up(k)
        k.send("KILL ghost :bye")
        k.expect(r" 401 killer2 ghost :No such nick")


def test_kill_server_gives_483():
    with Server(conf=oper_conf()) as s, s.client("killer3") as k:
        oper_up(k)
        k.send("KILL irc.test :bye")
        k.expect(r" 483 killer3 :")
        assert s.proc.poll() is None


def test_wallops_reaches_only_plus_w_users():
    with Server(conf=oper_conf()) as s, s.client("wallOp") as o, \
            s.client("wallW") as w, s.client("wallQuiet") as q:
        oper_up(o)
        w.send("MODE wallW +w")
        w.expect(r"MODE wallW :?\+w")
        o.send("WALLOPS :network maintenance at noon")
        w.expect(r"^:wallOp!\S+ WALLOPS :network maintenance at noon$")
        lines = q.sync()
        assert not any("WALLOPS" in l for l in lines), lines
        lines = o.sync()
        assert not any("WALLOPS" in l for l in lines), lines


def test_rehash_gives_382_and_picks_up_a_changed_motd():
    path = os.path.join(tmp, "rehash-motd.txt")
    with open(path, "w") as f:
        f.write("before rehash\n")
    with Server(conf=oper_conf(), server="motd %s\n" % path) as s, \
            s.client("rehasher") as c:
        assert motd_text(c) == ["- before rehash"]
        oper_up(c)
        with open(path, "w") as f:
            f.write("after rehash\n")
        c.send("REHASH")
        line = c.expect_numeric("382")
        assert re.search(r" 382 rehasher \S*ergo\.conf :Rehashing$", line)
        assert motd_text(c) == ["- after rehash"]
        # connected clients stay connected and opered
        c.send("WHOIS rehasher")
        c.expect(r" 313 rehasher rehasher ")


def test_rehash_with_broken_config_reports_notice_and_keeps_running():
    path = os.path.join(tmp, "broken-motd.txt")
    with open(path, "w") as f:
        f.write("old config motd\n")
    with Server(conf=oper_conf(), server="motd %s\n" % path) as s, \
            s.client("brokenOp") as c:
        oper_up(c)
        cfg = os.path.join(s.dir, "ergo.conf")
        with open(cfg) as f:
            good = f.read()
        with open(path, "w") as f:
            f.write("would be the new motd\n")
        with open(cfg, "w") as f:
            f.write(good + "\nthis-key-does-not-exist yes\n")
        c.send("REHASH")
        line = c.expect(r"^:irc\.test NOTICE brokenOp :Rehash failed: ")
        assert re.search(r"ergo\.conf:\d+:\d+: ", line), line
        lines = c.sync()
        assert not any(" 382 " in l for l in lines), lines
        # still on the old config: the MOTD was not re-read
        assert motd_text(c) == ["- old config motd"]
        assert s.proc.poll() is None
        with s.client("afterBroken") as d:
            d.send("WHOIS brokenOp")
            d.expect(r" 313 afterBroken brokenOp ")
        # fixing the file makes the next REHASH work
        with open(cfg, "w") as f:
            f.write(good)
        c.send("REHASH")
        c.expect_numeric("382")
        assert motd_text(c) == ["- would be the new motd"]


def test_die_stops_the_server_with_exit_code_0():
    s = Server(conf=oper_conf())
    try:
        with s.client("dieOp") as c:
            oper_up(c)
            c.send("DIE")
            c.closed(timeout=10)
        assert s.wait_exit(10) == 0, s.logtext()
        assert "DIE" in s.logtext() and "dieOp" in s.logtext()
    finally:
        if s.proc.poll() is None:
            s.stop()
