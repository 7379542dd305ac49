"""The config file and the command line: checkconfig, defaultconfig,
genpasswd, ERGO__ environment overrides, and how `ergo run` reports a bad
config (conf.c, conf_passwd.c, ergo.c)."""

import errno
import os
import re
import shutil
import socket
import subprocess
import tempfile

from ergotest import Server, Skip, run_ergo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = os.path.join(ROOT, "ergo.conf")
HASH_RE = r"^\$pbkdf2-sha256\$32768\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$"
PASSWORD = "tr0ub4dor&3"

tmp = None


def setup_module():
    global tmp
    tmp = tempfile.mkdtemp(prefix="ergo-config-")


def teardown_module():
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def checkconfig(text, name="ergo.conf", env=None):
    """Writes text to a file in tmp and runs checkconfig on it; returns
    the CompletedProcess. Runs in tmp, so messages name the file as given
    (a relative name)."""
    write(name, text)
    return run_ergo("checkconfig", "--config", name, cwd=tmp, env=env)


def assert_errors(text, *lines):
    """checkconfig must fail with exactly these stderr lines."""
    p = checkconfig(text)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    got = p.stderr.splitlines()
    assert got == list(lines), "stderr:\n%s\nwanted:\n%s" % (
        p.stderr, "\n".join(lines))


def genpasswd(password):
    p = run_ergo("genpasswd", input=password + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip().splitlines()[-1]


# ---- checkconfig ----

def test_checkconfig_valid_file():
    # checkconfig loads TLS certificates too: give it a real pair
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    os.path.join(tmp, "privkey.pem"), "-out",
                    os.path.join(tmp, "fullchain.pem"), "-subj",
                    "/CN=irc.example.org", "-days", "2"],
                   check=True, capture_output=True, timeout=60)
    p = checkconfig("network { name Net }\n"
                    "server {\n"
                    "    name irc.example.org\n"
                    "    listen 127.0.0.1:6667\n"
                    "    listen [::1]:6667\n"
                    "    listen :6697 { tls { cert fullchain.pem  "
                    "key privkey.pem } }\n"
                    "    max-sendq 128k\n"
                    "    timeouts { registration 30s  idle 2m  ping 1m }\n"
                    "}\n"
                    "logging { method file  path ergo.log  level debug }\n")
    assert p.returncode == 0, p.stderr
    assert p.stderr == "", p.stderr


def test_checkconfig_shipped_ergo_conf():
    p = run_ergo("checkconfig", "--config", SHIPPED)
    assert p.returncode == 0, p.stderr


def test_checkconfig_without_config_checks_defaults():
    p = run_ergo("checkconfig", cwd=tmp)
    assert p.returncode == 0, p.stderr


def test_checkconfig_missing_file():
    p = run_ergo("checkconfig", "--config", "nonexistent.conf", cwd=tmp)
    assert p.returncode == 1
    assert "nonexistent.conf: cannot open: No such file or directory" \
        in p.stderr, p.stderr


def test_checkconfig_unknown_key():
    assert_errors("server {\n    name irc.example.org\n    foo bar\n}\n",
                  'ergo.conf:3:5: unknown key "foo" in block server')


def test_checkconfig_unknown_key_suggests():
    assert_errors("server {\n    max-sednq 1m\n}\n",
                  'ergo.conf:2:5: unknown key "max-sednq" in block server;'
                  ' did you mean "max-sendq"?')


def test_checkconfig_bad_size():
    assert_errors("server {\n    max-sendq 96kb\n}\n",
                  'ergo.conf:2:15: expected a size like 96k')
    assert_errors("server { max-sendq 1g }\n",
                  'ergo.conf:1:20: max-sendq must be between 1k and 64m')


def test_checkconfig_bad_duration():
    assert_errors("server {\n  timeouts {\n    ping soon\n  }\n}\n",
                  'ergo.conf:3:10: expected a duration like 30s, 2m or '
                  '1h30m')


def test_checkconfig_bad_tagmsg_storage():
    want = ("expected client-only tag names separated by spaces, each a "
            "'+' then letters, digits and -./ like \"+draft/react +react\"")
    assert_errors('history { tagmsg-storage "+draft/react react" }\n',
                  "ergo.conf:1:26: " + want)
    assert_errors('history { tagmsg-storage "+ok +" }\n',
                  "ergo.conf:1:26: " + want)
    assert_errors("history { tagmsg-storage +draft/react +react }\n",
                  'ergo.conf:1:39: unexpected "+react" after the value of '
                  'tagmsg-storage; quote a value that contains spaces')
    for ok in ('""', "+react", '"+a  +b/c.d-e"'):
        p = checkconfig("history { tagmsg-storage %s }\n" % ok)
        assert p.returncode == 0, (ok, p.stderr)


def test_checkconfig_bad_bool():
    assert_errors("server { fakelag { enabled sometimes } }\n",
                  'ergo.conf:1:28: expected yes or no')


def test_checkconfig_unterminated_string():
    assert_errors('admin {\n  location1 "Somewhere\n}\n',
                  "ergo.conf:2:13: unterminated string: the closing '\"' "
                  "must be on the same line")


def test_checkconfig_missing_brace():
    """The cause first, without the cascade of "unknown key" lines that
    reading the rest of the file as part of the block used to give; the
    first top-level block name inside it is named as the likely place."""
    assert_errors("server {\n  name irc.example.org\n"
                  "limits { nicklen 20 }\n"
                  "datastore { path x.db }\nlogging { method stderr }\n",
                  "ergo.conf:1:1: unterminated block \"server\" opened "
                  "here: missing '}' (line 3 starts block \"limits\" "
                  "inside it: is the '}' missing before it?)")


def test_checkconfig_unterminated_block_is_said_in_file_order():
    """The unterminated block's error comes where the block opens, before
    the errors found after it (it used to come last); errors before it
    are kept, and a misplaced block inside a block that is closed is
    still an error and starts no cascade."""
    assert_errors("server {\n  name irc.example.org\n  max-sendq 1x\n"
                  "  logging { }\n}\nlimits {\n  nicklen 9999\n",
                  "ergo.conf:3:13: expected a size like 96k",
                  "ergo.conf:4:3: unknown key \"logging\" in block server",
                  "ergo.conf:6:1: unterminated block \"limits\" opened "
                  "here: missing '}'",
                  "ergo.conf:7:11: nicklen must be between 1 and 64")


def test_checkconfig_duplicate_listen():
    assert_errors("server {\n  listen 127.0.0.1:7000\n"
                  "  listen 127.0.0.1:7000\n}\n",
                  "ergo.conf:3:10: duplicate listen address "
                  "127.0.0.1:7000 (first at line 2)")


def test_checkconfig_bad_listen_address():
    assert_errors("server {\n  listen localhost:6667\n  listen 1.2.3.4\n"
                  "  listen 127.0.0.1:70000\n}\n",
                  "ergo.conf:2:10: expected a numeric address, not a "
                  "hostname: localhost",
                  "ergo.conf:3:10: expected host:port, like "
                  "127.0.0.1:6667 or :6667",
                  "ergo.conf:4:10: expected a port number (0-65535) after "
                  "':' in 127.0.0.1:70000")


def test_checkconfig_bad_casemapping():
    assert_errors("server { casemapping strict-rfc1459 }\n",
                  "ergo.conf:1:22: expected one of: ascii, rfc1459, precis")


def test_checkconfig_oper_without_password():
    assert_errors("oper admin {\n  class server-admin\n}\n",
                  'ergo.conf:1:1: oper "admin" needs a password (a hash '
                  'from `ergo genpasswd`) or a certfp')


def test_checkconfig_oper_plaintext_password():
    assert_errors('oper admin { class server-admin  password "hunter2" }\n',
                  'ergo.conf:1:43: expected a password hash from `ergo '
                  'genpasswd`, like "$pbkdf2-sha256$32768$..."')


def test_checkconfig_tls_needs_cert_and_key():
    assert_errors("server { listen :6697 { tls { key k.pem } } }\n",
                  "ergo.conf:1:25: tls needs both cert and key, like: tls "
                  "{ cert fullchain.pem  key privkey.pem }")


def test_checkconfig_server_name_needs_a_dot():
    assert_errors("server { name localhost }\n",
                  "ergo.conf:1:15: expected a hostname with a dot, like "
                  "irc.example.org (letters, digits, '-' and '.'; at most "
                  "63 characters)")


def test_checkconfig_collects_every_error():
    p = checkconfig("server {\n"
                    "  name x\n"
                    "  max-sendq lots\n"
                    "  bogus 1\n"
                    "}\n"
                    "limits { nicklen 9999 }\n"
                    "logging { method file }\n")
    assert p.returncode == 1
    locs = [l.split(" ", 1)[0] for l in p.stderr.splitlines()]
    assert locs == ["ergo.conf:2:8:", "ergo.conf:3:13:", "ergo.conf:4:3:",
                    "ergo.conf:6:18:", "ergo.conf:7:18:"], p.stderr


def test_checkconfig_env_override_error():
    p = checkconfig("server { name irc.example.org }\n",
                    env={"ERGO__SERVER__MAX_SENDQ": "big"})
    assert p.returncode == 1
    assert p.stderr.strip() == \
        "ERGO__SERVER__MAX_SENDQ: expected a size like 96k", p.stderr


# ---- defaultconfig ----

def test_defaultconfig_equals_shipped_ergo_conf():
    p = run_ergo("defaultconfig")
    assert p.returncode == 0, p.stderr
    with open(SHIPPED) as f:
        shipped = f.read()
    assert p.stdout == shipped, \
        "ergo.conf differs from `ergo defaultconfig`: regenerate it with " \
        "./ergo defaultconfig > ergo.conf"


def test_defaultconfig_passes_checkconfig():
    p = run_ergo("defaultconfig")
    assert p.returncode == 0
    c = checkconfig(p.stdout, name="default.conf")
    assert c.returncode == 0, c.stderr


def test_defaultconfig_documents_keys():
    out = run_ergo("defaultconfig").stdout
    for needle in ("max-sendq 96k", "listen 127.0.0.1:6667",
                   "listen [::1]:6667", "# listen :6697 { tls {",
                   "# oper admin {", "# logging { method file",
                   "casemapping ascii", "enabled yes", "nicklen 32"):
        assert needle in out, needle
    # every statement has a comment right above it (or above the run of
    # statements with the same key, like the two default listens)
    lines = [l.strip() for l in out.splitlines()]
    for i, s in enumerate(lines):
        if s and not s.startswith("#") and s != "}":
            key, j = s.split()[0], i - 1
            while lines[j].split()[:1] == [key]:
                j -= 1
            assert lines[j].startswith("#"), "undocumented: %r" % s


# ---- genpasswd and OPER ----

def test_genpasswd_prints_hash():
    h = genpasswd(PASSWORD)
    assert re.match(HASH_RE, h), h
    assert genpasswd(PASSWORD) != h     # salted


def test_genpasswd_empty_password_fails():
    p = run_ergo("genpasswd", input="\n")
    assert p.returncode != 0
    assert p.stdout.strip() == ""


def test_genpasswd_hash_works_for_oper():
    h = genpasswd(PASSWORD)
    conf = 'oper admin { class server-admin  password "%s" }\n' % h
    with Server(conf=conf) as srv:
        with srv.client("opgood") as c:
            c.send("OPER admin :" + PASSWORD)
            c.expect_numeric("381")
        with srv.client("opbad") as c:
            c.send("OPER admin :wrong " + PASSWORD)
            c.expect_numeric("464")


# ---- environment overrides on a running server ----

def test_env_override_changes_server_name():
    with Server(env={"ERGO__SERVER__NAME": "env.example"}) as srv:
        with srv.client() as c:
            c.send("NICK envnick")
            c.send("USER u 0 * :Real")
            c.expect(r"^:env\.example 001 envnick ")


def test_env_override_bad_value_makes_run_exit_1():
    path = write("run-env.conf", "server { name irc.example.org  listen "
                 "127.0.0.1:0 }\ndatastore { path run-env.db }\n")
    p = run_ergo("run", "--config", path, cwd=tmp, timeout=20,
                 env={"ERGO__SERVER__FAKELAG__ENABLED": "perhaps"})
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "ERGO__SERVER__FAKELAG__ENABLED: expected yes or no" \
        in p.stderr, p.stderr


def test_run_bad_config_exits_1_with_position():
    write("run-bad.conf", "server {\n  name irc.example.org\n"
          "  max-sendq 1x\n}\n")
    p = run_ergo("run", "--config", "run-bad.conf", cwd=tmp, timeout=20)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "run-bad.conf:3:13: expected a size like 96k" in p.stderr, \
        p.stderr


def _can_bind(family, addr, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        return True
    except OSError as e:
        if e.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL,
                           errno.EAFNOSUPPORT, errno.EACCES):
            raise
        return False
    finally:
        s.close()


def test_run_without_config_uses_builtin_defaults():
    # The defaults listen on 127.0.0.1:6667 and [::1]:6667; only run this
    # when both are free here, rather than fail on a busy machine.
    if not (_can_bind(socket.AF_INET, "127.0.0.1", 6667) and
            _can_bind(socket.AF_INET6, "::1", 6667)):
        print("skipped: 127.0.0.1:6667 or [::1]:6667 is not free")
        raise Skip("127.0.0.1:6667 or [::1]:6667 is not free")
    srv = Server(args=["run"], start=False)
    os.remove(srv.conf_path)        # an empty directory but for the log
    srv.port = 6667
    srv.start()
    try:
        with srv.client("deflt") as c:
            c.send("PING :x")
            c.expect(r"PONG")
        # the datastore lands in the working directory
        assert os.path.exists(os.path.join(srv.dir, "ircd.db"))
    finally:
        assert srv.stop() == 0


# ---- the command line ----

def test_version():
    p = run_ergo("version")
    assert p.returncode == 0
    assert p.stdout.strip() != ""


def test_help():
    p = run_ergo("help")
    assert p.returncode == 0
    assert "checkconfig" in p.stdout and "genpasswd" in p.stdout


def test_unknown_subcommand_exits_2_with_usage():
    p = run_ergo("frobnicate")
    assert p.returncode == 2
    assert "usage" in p.stderr.lower()
    assert p.stdout == ""


def test_unknown_flag_exits_2_with_usage():
    p = run_ergo("checkconfig", "--frob")
    assert p.returncode == 2
    assert "usage" in p.stderr.lower()


def test_no_arguments_exits_2_with_usage():
    p = run_ergo()
    assert p.returncode == 2
    assert "usage" in p.stderr.lower()


def test_ergo_channels_registration_enabled_no_refuses_chanserv_register():
    with Server(conf="channels { registration { enabled no } }") as srv:
        c = srv.client("founder")
        c.send("NS REGISTER pw12345678")
        c.expect(r" 900 ")
        c.send("JOIN #mine")
        c.expect(r" 366 ")
        c.send("CS REGISTER #mine")
        c.expect(r"NOTICE founder :Channel registration is not enabled$")


def test_ergo_server_suppress_lusers_shows_counts_to_opers_only():
    with Server(server="suppress-lusers yes") as srv:
        lines = srv.client().register("plain")
        assert not any(re.match(r"^:\S+ (251|255|265|266) ", l)
                       for l in lines), lines
        c = srv.client("asker")
        c.send("LUSERS")
        assert not any(re.match(r"^:\S+ 25\d ", l) for l in c.sync())


def test_ergo_accounts_default_user_modes_plus_i_makes_users_invisible():
    with Server(conf="accounts { default-user-modes +i }") as srv:
        a = srv.client("alice")
        a.send("MODE alice")
        a.expect(r" 221 alice \+i")
        a.send("LUSERS")
        a.expect(r" 251 alice :There are 0 users and 1 invisible ")
        b = srv.client("bob")
        b.send("WHO al*")            # invisible to masks, as +i is
        assert not any(" 352 " in l for l in b.lines_until(r" 315 "))
        a.send("QUIT")
        a.closed()
        b.send("LUSERS")
        b.expect(r" 251 bob :There are 0 users and 1 invisible ")


def test_ergo_accounts_login_throttling_sets_the_failed_login_limit():
    conf = ("accounts { login-throttling { enabled yes  duration 1h\n"
            " max-attempts 2 } }")
    with Server(conf=conf) as srv:
        a = srv.client("victim")
        a.send("NS REGISTER pw12345678")
        a.expect(r" 900 ")
        c = srv.client("guess")
        for _ in range(2):
            c.send("NS IDENTIFY victim wrong")
            c.expect(r"NOTICE guess :")
        c.send("NS IDENTIFY victim pw12345678")   # right, but throttled
        line = c.expect(r"NOTICE guess :")
        assert "now logged in" not in line.lower(), line
    with Server(conf="accounts { login-throttling { enabled no } }") as srv:
        a = srv.client("victim")
        a.send("NS REGISTER pw12345678")
        a.expect(r" 900 ")
        c = srv.client("guess")
        for _ in range(8):
            c.send("NS IDENTIFY victim wrong")
            c.expect(r"NOTICE guess :")
        c.send("NS IDENTIFY victim pw12345678")
        c.expect(r" 900 guess ")


def test_ergo_server_lookup_hostnames_only_no():
    with Server(server="lookup-hostnames no") as srv:
        srv.client("fine")
    d = tempfile.mkdtemp(prefix="ergo-lookup-")
    try:
        path = os.path.join(d, "ergo.conf")
        with open(path, "w") as f:
            f.write("server { name irc.test  lookup-hostnames yes }\n")
        p = run_ergo("checkconfig", "--config", path)
        assert p.returncode != 0
        # line 1, column 42: the value of lookup-hostnames
        assert "ergo.conf:1:42: expected one of: no, false" in p.stderr, \
            p.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_ergo_names_max_channels_per_client_and_chan_list_modes():
    conf = ("channels { max-channels-per-client 7 }\n"
            "limits { chan-list-modes 9 }")
    with Server(conf=conf) as srv:
        lines = " ".join(srv.client().register("alice"))
        assert "CHANLIMIT=#&:7" in lines and "MAXLIST=beI:9" in lines, lines
