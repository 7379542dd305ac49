"""`make install` and `make uninstall` (the Makefile), and the man pages
ergo.8 and ergo.conf.5.

Each test runs the real Makefile with DESTDIR set to a fresh temporary
directory, in a copy of the tree's build inputs (sources, objects, the
binary, the pages, ergo.conf, ergo.rc, distrib/) made with their
modification times, so an `ergo` that is up to date in the tree is up to
date in the copy and nothing rebuilds or writes in the tree while other
test modules use ./ergo.

test_bmake_builds_ergo_and_runs_the_unit_tests builds a fresh copy of the
sources with BSD make (bmake), which scripts/deps.sh test installs: the
Makefile is POSIX make, not GNU make.

The render checks use mandoc (`mandoc -T lint -W warning`) and groff
(`groff -mdoc -ww -z`), whichever are installed, and skip with a reason
when neither is.
"""

import glob
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile

from ergotest import ERGO_BIN, ErgoTestError, Skip, free_port, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = {"ergo.8": "man8", "ergo.conf.5": "man5"}
MAKE_TIMEOUT = 300

_dirs = []


def teardown_module():
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)


def _tmpdir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    _dirs.append(d)
    return d


def _copy_tree():
    """A copy of what `make install` reads, mtimes kept."""
    src = _tmpdir("ergo-install-src-")
    for name in os.listdir(ROOT):
        path = os.path.join(ROOT, name)
        if not os.path.isfile(path):
            continue
        if (name in ("Makefile", "ergo", "ergo.conf", "ergo.rc")
                or name in PAGES or name.endswith((".c", ".h", ".o"))):
            shutil.copy2(path, os.path.join(src, name))
    for d in ("distrib", "scripts"):
        if os.path.isdir(os.path.join(ROOT, d)):
            shutil.copytree(os.path.join(ROOT, d), os.path.join(src, d))
    return src


def _env():
    """The test's environment without make's or ergo's settings, which a
    `make test PREFIX=...` or an ERGO__ override would leak in."""
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES")
            and not k.startswith("ERGO__")}


def make(src, *args):
    p = subprocess.run(["make"] + list(args), cwd=src, env=_env(),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=MAKE_TIMEOUT)
    assert p.returncode == 0, "make %s failed (%d):\n%s%s" % (
        " ".join(args), p.returncode, p.stdout, p.stderr)
    return p


def install(src, dest, *extra):
    """make install into dest; INIT=openrc and INSTALL_STRIP=no unless
    extra says otherwise (the host's init is not what these test)."""
    args = ["DESTDIR=" + dest, "PREFIX=/usr"]
    for k, v in (("INIT", "openrc"), ("INSTALL_STRIP", "no")):
        if not any(a.startswith(k + "=") for a in extra):
            args.append("%s=%s" % (k, v))
    return make(src, "install", *(args + list(extra)))


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def installed(dest, sysconfdir="/etc", mandir="/usr/share/man"):
    """Where each installed file should be, by name."""
    return {
        "bin": os.path.join(dest, "usr/bin/ergo"),
        "conf": os.path.join(dest, sysconfdir.lstrip("/"), "ergo/ergo.conf"),
        "rc": os.path.join(dest, sysconfdir.lstrip("/"), "init.d/ergo"),
        "confd": os.path.join(dest, sysconfdir.lstrip("/"), "conf.d/ergo"),
        "ergo.8": os.path.join(dest, mandir.lstrip("/"), "man8/ergo.8"),
        "ergo.conf.5": os.path.join(dest, mandir.lstrip("/"),
                                    "man5/ergo.conf.5"),
    }


def run_installed(binary, *args):
    p = subprocess.run([binary] + list(args), env=_env(),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=30)
    return p


def default_config_text():
    p = run_installed(ERGO_BIN, "defaultconfig")
    assert p.returncode == 0, p.stderr
    return p.stdout


def has_rc(src):
    return os.path.isfile(os.path.join(src, "ergo.rc"))


def has_confd(src):
    return os.path.isfile(os.path.join(src, "distrib/openrc/ergo.confd"))


# ---- make install ----

def test_install_puts_every_file_in_place_with_its_mode():
    src, dest = _copy_tree(), _tmpdir("ergo-destdir-")
    install(src, dest)
    f = installed(dest)
    assert mode(f["bin"]) == 0o755, oct(mode(f["bin"]))
    assert read(f["bin"]) == read(os.path.join(src, "ergo"))
    assert mode(f["conf"]) == 0o644, oct(mode(f["conf"]))
    # the shipped ergo.conf, which test_config.py keeps equal to
    # `ergo defaultconfig`
    assert read(f["conf"]) == read(os.path.join(src, "ergo.conf"))
    for page in PAGES:
        assert mode(f[page]) == 0o644, (page, oct(mode(f[page])))
        assert read(f[page]) == read(os.path.join(src, page)), page
    if has_rc(src):
        assert mode(f["rc"]) == 0o755, oct(mode(f["rc"]))
        assert read(f["rc"]) == read(os.path.join(src, "ergo.rc"))
    else:
        assert not os.path.exists(f["rc"])
    if has_confd(src):
        assert mode(f["confd"]) == 0o644, oct(mode(f["confd"]))
        assert read(f["confd"]) == read(
            os.path.join(src, "distrib/openrc/ergo.confd"))
    else:
        assert not os.path.exists(f["confd"])
    left = [os.path.join(r, n) for r, _, names in os.walk(dest)
            for n in names if n.endswith(".new")]
    assert left == [], left


def test_install_without_ergo_rc_still_succeeds():
    src, dest = _copy_tree(), _tmpdir("ergo-destdir-")
    for p in ("ergo.rc", "distrib"):
        path = os.path.join(src, p)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.unlink(path)
    install(src, dest)
    f = installed(dest)
    assert os.path.isfile(f["bin"]) and os.path.isfile(f["conf"])
    assert not os.path.exists(f["rc"])
    assert not os.path.exists(f["confd"])


def test_install_honours_sysconfdir_and_mandir():
    src, dest = _copy_tree(), _tmpdir("ergo-destdir-")
    install(src, dest, "SYSCONFDIR=/usr/local/etc", "MANDIR=/opt/man")
    f = installed(dest, sysconfdir="/usr/local/etc", mandir="/opt/man")
    for key in ("bin", "conf", "ergo.8", "ergo.conf.5"):
        assert os.path.isfile(f[key]), f[key]
    if has_rc(src):
        assert os.path.isfile(f["rc"]), f["rc"]
    assert not os.path.exists(os.path.join(dest, "etc"))
    assert not os.path.exists(os.path.join(dest, "usr/share/man"))


def test_second_install_keeps_an_edited_config_and_replaces_the_rest():
    src, dest = _copy_tree(), _tmpdir("ergo-destdir-")
    install(src, dest)
    f = installed(dest)
    edited = b"# edited by the operator\nnetwork { name EditedNet }\n"
    with open(f["conf"], "wb") as fp:
        fp.write(edited)
    edited_confd = b"# edited conf.d\nERGO_USER=ircd\n"
    if has_confd(src):
        with open(f["confd"], "wb") as fp:
            fp.write(edited_confd)
    for key in ("bin", "ergo.8", "ergo.conf.5") + (
            ("rc",) if has_rc(src) else ()):
        with open(f[key], "wb") as fp:
            # an older OpenRC script is replaced like the rest
            fp.write(b"#!/sbin/openrc-run\n# stale\n" if key == "rc"
                     else b"stale\n")
    p = install(src, dest)
    assert "keeping existing" in p.stdout, p.stdout
    assert read(f["conf"]) == edited, "make install overwrote ergo.conf"
    if has_confd(src):
        assert read(f["confd"]) == edited_confd, \
            "make install overwrote conf.d/ergo"
    assert read(f["bin"]) == read(os.path.join(src, "ergo"))
    assert mode(f["bin"]) == 0o755
    for page in PAGES:
        assert read(f[page]) == read(os.path.join(src, page)), page
    if has_rc(src):
        assert read(f["rc"]) == read(os.path.join(src, "ergo.rc"))


def test_install_keeps_an_init_script_of_another_init_system():
    src, dest = _copy_tree(), _tmpdir("ergo-destdir-")
    if not has_rc(src):
        return
    f = installed(dest)
    os.makedirs(os.path.dirname(f["rc"]), exist_ok=True)
    sysv = read(os.path.join(ROOT, "distrib", "sysvinit", "ergo"))
    with open(f["rc"], "wb") as fp:
        fp.write(sysv)
    p = install(src, dest)
    assert "not an OpenRC script" in p.stdout, p.stdout
    assert read(f["rc"]) == sysv, "make install replaced the sysvinit script"


def test_installed_binary_runs_and_accepts_the_installed_config():
    src, dest = _copy_tree(), _tmpdir("ergo-destdir-")
    install(src, dest)
    f = installed(dest)
    p = run_installed(f["bin"], "version")
    assert p.returncode == 0, p.stderr
    want = run_installed(os.path.join(src, "ergo"), "version").stdout
    assert p.stdout == want and re.match(r"^\S+\n$", p.stdout), p.stdout
    p = run_installed(f["bin"], "checkconfig", "--config", f["conf"])
    assert p.returncode == 0, p.stderr
    assert p.stdout == "%s: ok\n" % f["conf"], p.stdout


# ---- make uninstall ----

def test_uninstall_removes_binary_pages_and_script_but_keeps_the_config():
    src, dest = _copy_tree(), _tmpdir("ergo-destdir-")
    install(src, dest)
    f = installed(dest)
    with open(f["conf"], "ab") as fp:
        fp.write(b"# edited\n")
    conf = read(f["conf"])
    confd = read(f["confd"]) if has_confd(src) else None
    make(src, "uninstall", "DESTDIR=" + dest, "PREFIX=/usr")
    for key in ("bin", "rc", "ergo.8", "ergo.conf.5"):
        assert not os.path.exists(f[key]), f[key]
    assert read(f["conf"]) == conf, "make uninstall touched ergo.conf"
    if confd is not None:
        assert read(f["confd"]) == confd, "make uninstall touched conf.d"
    # a second uninstall, with nothing left to remove, still succeeds
    make(src, "uninstall", "DESTDIR=" + dest, "PREFIX=/usr")


# ---- BSD make ----

def _bmake():
    """bmake's path. scripts/deps.sh test installs it, so in CI (CI set)
    its absence is a failure; elsewhere the test is skipped."""
    path = shutil.which("bmake")
    if path is None:
        if os.environ.get("CI"):
            raise AssertionError("bmake is missing: scripts/deps.sh test "
                                 "installs it")
        raise Skip("bmake is not installed (Debian, Alpine: bmake; "
                   "sh scripts/deps.sh test installs it)")
    return path


def _copy_sources():
    """The tree's sources and tests, nothing built: a fresh checkout."""
    src = _tmpdir("ergo-bmake-src-")
    for name in os.listdir(ROOT):
        path = os.path.join(ROOT, name)
        if os.path.isfile(path) and (
                name in ("Makefile", "ergo.conf", "ergo.rc")
                or name in PAGES or name.endswith((".c", ".h"))):
            shutil.copy2(path, os.path.join(src, name))

    def built(d, names):
        return [n for n in names
                if n == "__pycache__" or n.startswith("replay_")
                or (n.startswith("unit_") and "." not in n)]
    shutil.copytree(os.path.join(ROOT, "tests"), os.path.join(src, "tests"),
                    ignore=built)
    return src


_bmake_src = []                 # the copy bmake built ergo in
BMAKE_CFLAGS = "CFLAGS=-Wall -Wextra -Wpedantic -O0"


def test_bmake_builds_ergo():
    # The Makefile is POSIX make: BSD make must build the same program
    # (a GNU-only function such as $(filter-out) expands to nothing there
    # and the link fails). Two jobs and no optimiser: what is tested is
    # the Makefile, and a build from scratch must fit the 120 s a test
    # has on a busy machine (the -O2 build is `make`'s, tested everywhere).
    bmake = _bmake()
    src = _copy_sources()
    p = subprocess.run([bmake, "-j", "2", BMAKE_CFLAGS, "ergo"], cwd=src,
                       env=_env(),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=MAKE_TIMEOUT)
    assert p.returncode == 0, "bmake ergo failed (%d):\n%s%s" % (
        p.returncode, p.stdout[-4000:], p.stderr[-4000:])
    built = run_installed(os.path.join(src, "ergo"), "version")
    assert built.returncode == 0, built.stderr
    assert built.stdout == run_installed(ERGO_BIN, "version").stdout
    p = run_installed(os.path.join(src, "ergo"), "defaultconfig")
    assert p.stdout == default_config_text()
    _bmake_src.append(src)


def test_bmake_runs_the_unit_tests():
    # ... and its unit target must pass, in the tree it built.
    if not _bmake_src:
        raise ErgoTestError("test_bmake_builds_ergo did not build a tree")
    p = subprocess.run([_bmake(), "-j", "2", BMAKE_CFLAGS, "unit"],
                       cwd=_bmake_src[0],
                       env=_env(), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=MAKE_TIMEOUT)
    assert p.returncode == 0, "bmake unit failed (%d):\n%s%s" % (
        p.returncode, p.stdout[-4000:], p.stderr[-4000:])
    last = p.stdout.strip().splitlines()[-1]
    assert re.match(r"^[1-9]\d* passed, 0 failed$", last), p.stdout


# ---- the man pages ----

def _renderers():
    have = [t for t in ("mandoc", "groff") if shutil.which(t)]
    if not have:
        raise Skip("neither mandoc nor groff is installed (Debian: "
                   "apt-get install mandoc, or groff-base)")
    return have


def lint(tool, page):
    """Warnings from tool about page, as text; empty when clean."""
    if tool == "mandoc":
        p = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", page],
                           capture_output=True, text=True, timeout=60)
        out = (p.stdout + p.stderr).strip()
        if p.returncode != 0 and not out:
            out = "mandoc exited %d" % p.returncode
        return out
    p = subprocess.run(["groff", "-mdoc", "-Tutf8", "-ww", "-z",
                        "-rCHECKSTYLE=1", page],
                       capture_output=True, text=True, timeout=60)
    out = (p.stdout + p.stderr).strip()
    if p.returncode != 0 and not out:
        out = "groff exited %d" % p.returncode
    return out


def render(page):
    if shutil.which("mandoc"):
        cmd = ["mandoc", "-T", "utf8", page]
    else:
        cmd = ["groff", "-mdoc", "-Tutf8", page]
    p = subprocess.run(cmd, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    # drop overstrike bold/underline, as `col -b` would
    return re.sub(r".\x08", "", p.stdout.decode("utf-8", "replace"))


def test_installed_man_pages_render_without_warnings():
    tools = _renderers()
    src, dest = _copy_tree(), _tmpdir("ergo-destdir-")
    install(src, dest)
    f = installed(dest)
    for page in PAGES:
        for tool in tools:
            out = lint(tool, f[page])
            assert out == "", "%s warns about %s:\n%s" % (tool, page, out)
        text = render(f[page])
        for section in ("NAME", "DESCRIPTION", "SEE ALSO"):
            assert re.search(r"^%s$" % section, text, re.M), (page, section)


def test_make_lint_man_passes():
    _renderers()
    make(_copy_tree(), "lint-man")


def test_ergo_8_synopsis_lists_every_subcommand_of_ergo_help():
    p = run_installed(ERGO_BIN, "help")
    assert p.returncode == 0, p.stderr
    helped = set(re.findall(r"^(?:usage:)?\s+ergo (\w+)", p.stdout, re.M))
    assert "run" in helped and "help" in helped, p.stdout
    page = read(os.path.join(ROOT, "ergo.8")).decode()
    synopsis = page.split(".Sh SYNOPSIS", 1)[1].split(".Sh ", 1)[0]
    documented = set(re.findall(r"^\.Cm (\w+)", synopsis, re.M))
    assert documented == helped, \
        "ergo.8 SYNOPSIS has %s, `ergo help` has %s" % (
            sorted(documented), sorted(helped))
    for cmd in helped:
        assert re.search(r"^\.It Cm %s\b" % cmd, page, re.M), \
            "ergo.8 does not describe %s" % cmd


def test_ergo_conf_5_describes_every_key_of_defaultconfig():
    page = read(os.path.join(ROOT, "ergo.conf.5")).decode()
    described = set(re.findall(r"^\.It Ic ([\w-]+)", page, re.M))
    described |= set(re.findall(r"^\.Ss ([\w-]+)$", page, re.M))
    keys = set()
    for line in default_config_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line == "}":
            continue
        keys.add(line.split()[0])
    assert "server" in keys and "max-sendq" in keys, keys
    missing = sorted(keys - described)
    assert missing == [], "ergo.conf.5 does not describe: %s" % missing


def _conf_table_keys():
    """Every key of the config key table (conf_keys.c's `struct key` arrays,
    each named by its `struct block`, whose name is the block's path:
    "server.listen.tls"), as dotted paths such as server.listen.tls.cert.
    The table is read from the source, the one place that lists the keys
    `ergo defaultconfig` leaves out (group, secret, certfp, tls);
    test_ergo_accepts_every_key_of_the_config_table checks it against
    the binary."""
    text = ""
    for path in sorted(glob.glob(os.path.join(ROOT, "conf*.c"))):
        text += read(path).decode()
    arrays = {}
    for name, body in re.findall(
            r"static const struct key (\w+)\[\] = \{(.*?)\n\};", text, re.S):
        arrays[name] = re.findall(r'\{\s*"([\w-]+)",\s*K_\w+,', body)
    blocks = re.findall(r"(?:static )?const struct block \w+ = \{\s*"
                        r"(?:\"([\w.-]*)\"|NULL),\s*(\w+)\s*\}", text)
    assert "top_keys" in arrays, "no top_keys table in conf*.c"
    assert sorted(a for _, a in blocks) == sorted(arrays), (blocks, arrays)
    keys = set()
    for prefix, array in blocks:
        for name in arrays[array]:
            keys.add(prefix + "." + name if prefix else name)
    return keys


def _conf_5_keys():
    """The keys ergo.conf.5 describes under BLOCKS AND KEYS, as dotted
    paths: a .Ss is a top-level block, an `.It Ic key` an entry of the
    list it is in, and a list inside an entry holds that entry's keys."""
    page = read(os.path.join(ROOT, "ergo.conf.5")).decode()
    section = page.split("\n.Sh BLOCKS AND KEYS\n", 1)[1]
    section = section.split("\n.Sh ", 1)[0]
    keys, parents, item = set(), [], None
    for line in section.splitlines():
        m = re.match(r"^\.Ss ([\w-]+)$", line)
        if m:
            assert parents == [], "unclosed list before .Ss %s" % m.group(1)
            item = m.group(1)
            keys.add(item)
            continue
        if line.startswith(".Bl"):
            parents.append(item)
            item = None
        elif line.startswith(".El"):
            item = parents.pop()
        elif line.startswith(".It"):
            m = re.match(r"^\.It Ic ([\w-]+)", line)
            # an entry that is not a key (the log categories) has no keys
            item = None if m is None or parents[-1] is None else \
                parents[-1] + "." + m.group(1)
            if item:
                keys.add(item)
    assert parents == [], "unclosed .Bl in ergo.conf.5"
    return keys


def _defaultconfig_keys():
    """The statements `ergo defaultconfig` prints (not the commented-out
    examples), as dotted paths."""
    keys, path = set(), []
    for line in default_config_text().splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words == ["}"]:
            path.pop()
            continue
        keys.add(".".join(path + [words[0]]))
        if words[-1] == "{":
            path.append(words[0])
    return keys


def test_ergo_conf_5_documents_exactly_the_keys_of_the_config_table():
    table, page = _conf_table_keys(), _conf_5_keys()
    assert {"server.max-sendq", "server.listen.tls.cert", "oper.certfp",
            "accounts.registration.throttling.max-attempts"} <= table, table
    undocumented = sorted(table - page)
    assert undocumented == [], \
        "keys of conf_keys.c's table that ergo.conf.5 does not describe " \
        "(BLOCKS AND KEYS): %s" % undocumented
    unknown = sorted(page - table)
    assert unknown == [], \
        "keys ergo.conf.5 describes that conf_keys.c's table does not " \
        "have: %s" % unknown
    # what the binary prints is in the table, nested the same way
    printed = _defaultconfig_keys()
    assert "server.connection-limits.max-per-ip" in printed, printed
    assert sorted(printed - table) == [], sorted(printed - table)


def _checkconfig_statement(path):
    """A config that sets the key at path (dotted), with a dummy value."""
    words = path.split(".")
    text = "x"
    for i in range(len(words) - 1, -1, -1):
        key = words[i]
        if i == len(words) - 1:
            text = key + " x"
        else:
            text = key + " { " + text + " }"
        if key == "oper" and i == 0:
            text = text.replace("oper ", "oper admin ", 1)
        if key == "listen" and i == 1:
            text = text.replace("listen ", "listen 127.0.0.1:0 ", 1) \
                if i < len(words) - 1 else "listen 127.0.0.1:0"
    return text + "\n"


def test_ergo_accepts_every_key_of_the_config_table():
    # The table as read from the source is the binary's: checkconfig
    # calls none of its keys unknown (bad dummy values are other errors),
    # and does call a made-up one unknown.
    tmp = _tmpdir("ergo-conf-keys-")
    conf = os.path.join(tmp, "k.conf")

    def unknown(path):
        with open(conf, "w") as f:
            f.write(_checkconfig_statement(path))
        p = run_installed(ERGO_BIN, "checkconfig", "--config", conf)
        return "unknown key" in p.stderr, p.stderr
    bogus, err = unknown("server.fakelag.no-such-key")
    assert bogus, err
    for path in sorted(_conf_table_keys()):
        bad, err = unknown(path)
        assert not bad, "%s: %s" % (path, err)


def test_make_run_serves_on_builtin_defaults_even_as_root():
    """`make run` (the README's first command) runs ./ergo in the
    foreground on the built-in defaults; as root it passes --allow-root,
    since ergo run refuses root without server { user } otherwise. Only
    the address is overridden (ERGO__SERVER__LISTEN), to a free port."""
    src = _copy_tree()          # scripts/ too: make run calls deps.sh
    port = free_port()
    env = _env()
    env["ERGO__SERVER__LISTEN"] = "127.0.0.1:%d" % port
    out = os.path.join(src, "make-run.out")
    with open(out, "wb") as f:
        p = subprocess.Popen(["make", "run"], cwd=src, env=env,
                             stdin=subprocess.DEVNULL, stdout=f,
                             stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        def up():
            assert p.poll() is None, read(out).decode()
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                return True
            except OSError:
                return False
        wait_for(up, 60, "make run to serve")
        text = read(out).decode()
        if os.geteuid() == 0:       # it got past the refusal
            assert "warn server running as root" in text, text
        # created just after the listeners open (and the checkpoint
        # process is forked), so a moment after the port accepts
        wait_for(lambda: os.path.exists(os.path.join(src, "ircd.db")), 10,
                 "ircd.db created")
    finally:
        os.killpg(p.pid, signal.SIGTERM)    # make and its ergo, ours
        p.wait(15)


# ---- packaging: strip, INIT, logrotate, example config, .deb ----

def test_install_strips_the_binary_unless_install_strip_no():
    """make install strips (a package's binary has no symbol table);
    INSTALL_STRIP=no installs the built binary as it is."""
    src, dest = _copy_tree(), _tmpdir("ergo-destdir-")
    install(src, dest, "INSTALL_STRIP=yes")
    b = installed(dest)["bin"]
    built = read(os.path.join(src, "ergo"))
    assert b".symtab" in built, "the build has no symbols to strip"
    assert b".symtab" not in read(b) and len(read(b)) < len(built)
    assert run_installed(b, "version").returncode == 0
    dest2 = _tmpdir("ergo-destdir-")
    install(src, dest2, "INSTALL_STRIP=no")
    assert read(installed(dest2)["bin"]) == built


def test_install_init_names_the_service_files_installed():
    """INIT=openrc|sysvinit|systemd|runit|s6|none installs that init's
    files and no other's (never an OpenRC script for another init); the
    systemd unit names the binary under PREFIX; openrc, sysvinit and
    systemd get the logrotate file; the example config is beside the
    default one."""
    src = _copy_tree()
    etc = lambda d, *p: os.path.join(d, "etc", *p)   # noqa: E731
    want = {
        "openrc": ["etc/init.d/ergo", "etc/conf.d/ergo",
                   "etc/logrotate.d/ergo"],
        "sysvinit": ["etc/init.d/ergo", "etc/logrotate.d/ergo"],
        "systemd": ["usr/lib/systemd/system/ergo.service",
                    "etc/logrotate.d/ergo"],
        "runit": ["etc/sv/ergo/run", "etc/sv/ergo/log/run",
                  "etc/sv/ergo/conf"],
        "s6": ["etc/s6/sv/ergo/run", "etc/s6/sv/ergo/log/run",
               "etc/s6/sv/ergo/data/check", "etc/s6/sv/ergo/type",
               "etc/s6/sv/ergo/notification-fd", "etc/s6/sv/ergo/conf"],
        "none": [],
    }
    common = {"usr/bin/ergo", "etc/ergo/ergo.conf",
              "etc/ergo/ergo.conf.example", "usr/share/man/man8/ergo.8",
              "usr/share/man/man5/ergo.conf.5"}
    for init, files in want.items():
        dest = _tmpdir("ergo-destdir-%s-" % init)
        install(src, dest, "INIT=" + init)
        got = {os.path.relpath(os.path.join(r, n), dest)
               for r, _, names in os.walk(dest) for n in names}
        assert got == common | set(files), (init, sorted(got))
        if init == "sysvinit":
            assert read(etc(dest, "init.d", "ergo")) == read(os.path.join(
                src, "distrib", "sysvinit", "ergo"))
        if init in ("runit", "s6"):
            assert mode(etc(dest, *files[0].split("/")[1:])) == 0o755
        if init == "systemd":
            unit = read(os.path.join(dest, files[0])).decode()
            assert "ExecStart=/usr/bin/ergo run " in unit, unit
            assert "/usr/local" not in unit, unit
    p = subprocess.run(["make", "install", "DESTDIR=" + _tmpdir("x-"),
                        "INIT=upstart"], cwd=src, env=_env(),
                       capture_output=True, text=True, timeout=MAKE_TIMEOUT)
    assert p.returncode != 0 and "INIT=upstart" in p.stderr, p.stderr


def test_install_without_init_detects_the_hosts_init():
    """No INIT: make install says which init it found on this host and
    installs its files; an OpenRC script only where OpenRC is."""
    src, dest = _copy_tree(), _tmpdir("ergo-destdir-")
    p = make(src, "install", "DESTDIR=" + dest, "PREFIX=/usr")
    m = re.search(r"INIT not given: detected (\w+)", p.stdout)
    assert m, p.stdout
    openrc = bool(shutil.which("openrc-run")) or os.access(
        "/sbin/openrc-run", os.X_OK)
    rc = installed(dest)["rc"]
    if m.group(1) != "openrc":
        assert not os.path.exists(rc) or b"openrc-run" not in read(rc)
    else:
        assert openrc and b"openrc-run" in read(rc)


def test_installed_example_config_is_deployable():
    """ergo.conf.example (TLS listener, file log, user): with its paths
    pointed at a scratch directory holding an `ergo mkcerts` pair, it
    passes checkconfig, files included, as the user ergo would run as."""
    src, dest = _copy_tree(), _tmpdir("ergo-destdir-")
    install(src, dest)
    text = read(os.path.join(dest, "etc/ergo/ergo.conf.example")).decode()
    for want in ("listen :6697", "tls {", "method file", "user ergo"):
        assert want in text, want
    d = _tmpdir("ergo-example-")
    r = run_installed(ERGO_BIN, "mkcerts", "--cert", d + "/fullchain.pem",
                      "--key", d + "/privkey.pem", "--host", "irc.test")
    assert r.returncode == 0, r.stderr
    for old in ("/etc/ergo/", "/var/lib/ergo/", "/var/log/ergo/"):
        text = text.replace(old, d + "/")
    me = pwd.getpwuid(os.geteuid()).pw_name
    text = text.replace("user ergo", "user %s" % me)
    conf = os.path.join(d, "ergo.conf")
    with open(conf, "w") as f:
        f.write(text)
    p = run_installed(ERGO_BIN, "checkconfig", "--config", conf, "--user",
                      me)
    assert p.returncode == 0, p.stdout + p.stderr


def test_debian_recipe_builds_a_package_with_the_service_files():
    """distrib/debian/build-deb.sh (dpkg-deb, no debhelper) builds
    ergo-c_VERSION-1_ARCH.deb from the tree: a stripped /usr/bin/ergo,
    the sysvinit script, the systemd unit under /usr, the logrotate file,
    both configs as conffiles, a postinst making the user, and control
    data that dpkg-deb reads back."""
    if shutil.which("dpkg-deb") is None:
        raise Skip("dpkg-deb is not installed (not a Debian system)")
    src = _copy_tree()
    shutil.copy2(os.path.join(ROOT, "README.md"), src)
    out = _tmpdir("ergo-deb-")
    p = subprocess.run(["sh", "distrib/debian/build-deb.sh", "9.8.7"],
                       cwd=src, env=dict(_env(), OUT=out),
                       capture_output=True, text=True, timeout=MAKE_TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr
    deb = p.stdout.strip().splitlines()[-1]
    assert re.search(r"/ergo-c_9\.8\.7-1_\w+\.deb$", deb), deb
    info = subprocess.run(["dpkg-deb", "--info", deb], capture_output=True,
                          text=True).stdout
    for want in ("Package: ergo-c", "Version: 9.8.7-1", "Conflicts: ergo",
                 "libbearssl0", "libsqlite3-0", "postinst", "conffiles"):
        assert want in info, (want, info)
    files = subprocess.run(["dpkg-deb", "--contents", deb],
                           capture_output=True, text=True).stdout
    for want in ("./usr/bin/ergo", "./etc/init.d/ergo",
                 "./usr/lib/systemd/system/ergo.service",
                 "./etc/logrotate.d/ergo", "./etc/ergo/ergo.conf",
                 "./etc/ergo/ergo.conf.example",
                 "./usr/share/man/man8/ergo.8.gz"):
        assert re.search(r" %s$" % re.escape(want), files, re.M), \
            (want, files)
    assert "root/root" in files and "./etc/conf.d/" not in files
    x = _tmpdir("ergo-deb-x-")
    subprocess.run(["dpkg-deb", "-R", deb, x], check=True)
    conffiles = read(os.path.join(x, "DEBIAN", "conffiles")).decode()
    assert "/etc/ergo/ergo.conf\n" in conffiles, conffiles
    assert b".symtab" not in read(os.path.join(x, "usr/bin/ergo"))
    unit = read(os.path.join(x, "usr/lib/systemd/system/ergo.service"))
    assert b"ExecStart=/usr/bin/ergo run" in unit
    postinst = os.path.join(x, "DEBIAN", "postinst")
    assert mode(postinst) == 0o755 and b"adduser --system" in read(postinst)
    if shutil.which("shellcheck"):
        for s in ("postinst", "prerm", "postrm"):
            r = subprocess.run(["shellcheck", "-s", "sh",
                                os.path.join(x, "DEBIAN", s)],
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stdout
