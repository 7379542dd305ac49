#!/usr/bin/env python3
"""Runs ergo's tests and prints one closing line: "N passed, N failed".

    python3 tests/run.py                     every tests/test_*.py
    python3 tests/run.py tests/test_x.py     just those files
    python3 tests/run.py -k nick             only tests whose name has "nick"
    python3 tests/run.py --unit tests/unit_conf tests/unit_log [files]
                                             C unit binaries too
    python3 tests/run.py --unit-only --unit tests/unit_conf
                                             C unit binaries only

A test module is a file of plain functions named test_* (run in the
order they are defined), with optional setup_module()/teardown_module().
A test fails by raising. Modules run in separate worker processes, two
at a time (-j N to change); each module's output is printed as one block
when it ends. Each test has 120 s. After each test the servers and
clients it started are stopped and its temporary directories removed;
a sanitizer report in a server's log fails the test.

C unit binaries print "ok NAME" or "FAIL NAME: why" per case; a binary
that exits non-zero without a FAIL line, or prints a sanitizer report,
counts as one more failure.
"""

import glob
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
TEST_TIMEOUT = int(os.environ.get("ERGO_TEST_TIMEOUT", 120))  # per test
CLEANUP_TIMEOUT = 30        # seconds for stopping a test's servers
UNIT_TIMEOUT = 120          # seconds per unit binary
STALL_TIMEOUT = TEST_TIMEOUT + CLEANUP_TIMEOUT + 30  # worker silent: hung
RESULT_TAG = "@@ergotest-result"
START_TAG = "@@ergotest-start"


class TestTimeout(Exception):
    pass


def _indent(text, prefix="    "):
    return "".join(prefix + l + "\n" for l in text.rstrip("\n").split("\n"))


# ---------------------------------------------------------------- worker

def _on_alarm(signum, frame):
    raise TestTimeout("test took longer than %d s" % TEST_TIMEOUT)


def _on_term(signum, frame):
    raise SystemExit(128 + signum)


def run_module(path, name_filter):
    """Worker: runs one module's tests, prints PASS/FAIL lines and a
    final RESULT_TAG line for the parent. Returns (passed, failed,
    skipped)."""
    sys.path.insert(0, TESTS_DIR)
    import ergotest

    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_term)
    rel = os.path.relpath(path)
    passed = failed = skipped = 0

    def fail(name, secs, text):
        nonlocal failed
        failed += 1
        print("FAIL %s::%s (%.2fs)" % (rel, name, secs))
        print(_indent(text), end="", flush=True)

    def call(name, fn, timeout):
        """Runs fn with a deadline; returns (ok, skipreason, text, secs)."""
        t0 = time.monotonic()
        ok, skip, text = True, None, ""
        signal.alarm(timeout)
        try:
            fn()
        except ergotest.Skip as e:
            skip = str(e) or "skipped"
        except Exception:
            ok, text = False, traceback.format_exc()
        finally:
            signal.alarm(0)
        return ok, skip, text, time.monotonic() - t0

    def cleanup(failed_already, scope="test"):
        """ergotest.cleanup() under its own deadline: (ok, text)."""
        signal.alarm(CLEANUP_TIMEOUT)
        try:
            return True, ergotest.cleanup(failed=failed_already, scope=scope)
        except Exception:
            return False, traceback.format_exc()
        finally:
            signal.alarm(0)

    modname = os.path.splitext(os.path.basename(path))[0]
    try:
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        spec.loader.exec_module(mod)
    except Exception:
        fail("<import>", 0, traceback.format_exc())
        return passed, failed, skipped

    tests = [(n, f) for n, f in vars(mod).items()
             if n.startswith("test_") and callable(f)
             and getattr(f, "__module__", None) == modname]
    tests.sort(key=lambda t: getattr(getattr(t[1], "__code__", None),
                                     "co_firstlineno", 0))
    if name_filter:
        tests = [t for t in tests if name_filter in t[0]]

    try:
        setup = getattr(mod, "setup_module", None)
        if setup is not None and tests:
            ergotest._scope = "module"
            try:
                ok, skip, text, secs = call("setup_module", setup,
                                            TEST_TIMEOUT)
            finally:
                ergotest._scope = "test"
            if skip is not None:
                for n, _ in tests:
                    print("SKIP %s::%s: %s" % (rel, n, skip), flush=True)
                return passed, failed, len(tests)
            if not ok:
                cok, ctext = cleanup(True, None)
                fail("setup_module", secs, text + "\n" + ctext)
                return passed, failed, skipped

        for name, fn in tests:
            print("%s %s" % (START_TAG, name), flush=True)
            ok, skip, text, secs = call(name, fn, TEST_TIMEOUT)
            cok, ctext = cleanup(not ok)
            if not cok:
                text += ("\n" if text else "") + ctext
                ok, skip = False, None
            elif not ok and ctext:
                text += "\n" + ctext
            if skip is not None:
                skipped += 1
                print("SKIP %s::%s: %s" % (rel, name, skip), flush=True)
            elif ok:
                passed += 1
                print("PASS %s::%s (%.2fs)" % (rel, name, secs), flush=True)
            else:
                fail(name, secs, text)

        teardown = getattr(mod, "teardown_module", None)
        if teardown is not None and tests:
            ok, skip, text, secs = call("teardown_module", teardown,
                                        TEST_TIMEOUT)
        else:
            ok, text, secs = True, "", 0
        # the module's own servers: a sanitizer report fails teardown
        cok, ctext = cleanup(not ok, None)
        if tests and (not ok or not cok):
            fail("teardown_module", secs, text + ctext)
    finally:
        # interrupted (SIGTERM from the parent): still stop our servers
        try:
            ergotest.cleanup(scope=None)
        except Exception:
            pass
    return passed, failed, skipped


def worker_main(path, name_filter):
    try:
        p, f, s = run_module(path, name_filter)
    except SystemExit:
        p, f, s = 0, 1, 0
        print("FAIL %s: interrupted" % os.path.relpath(path))
    sys.stdout.flush()
    print("%s %d %d %d" % (RESULT_TAG, p, f, s), flush=True)
    return 0


# ---------------------------------------------------------------- units

def run_unit(binary):
    """Runs one C unit binary; prints its block; returns (passed,
    failed)."""
    sys.path.insert(0, TESTS_DIR)
    from ergotest import sanitizer_report

    rel = os.path.relpath(binary)
    passed = failed = 0
    out = []
    t0 = time.monotonic()
    try:
        p = subprocess.run([os.path.abspath(binary)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=UNIT_TIMEOUT)
        text = p.stdout.decode("utf-8", "replace")
        status = p.returncode
    except subprocess.TimeoutExpired as e:
        text = (e.stdout or b"").decode("utf-8", "replace")
        status = "timeout after %d s" % UNIT_TIMEOUT
    except OSError as e:
        text, status = "", "cannot run: %s" % e
    secs = time.monotonic() - t0

    for line in text.splitlines():
        if line.startswith("ok "):
            passed += 1
            out.append("PASS %s::%s" % (rel, line[3:].strip()))
        elif line.startswith("FAIL "):
            failed += 1
            out.append("FAIL %s::%s" % (rel, line[5:].strip()))
    rep = sanitizer_report(text)
    if rep:
        failed += 1
        out.append("FAIL %s: sanitizer report" % rel)
        out.append(_indent(rep).rstrip("\n"))
    elif status != 0 and (failed == 0 or not isinstance(status, int)):
        failed += 1
        out.append("FAIL %s: exit status %s" % (rel, status))
        out.append(_indent("\n".join(text.splitlines()[-30:])).rstrip("\n"))
    elif passed + failed == 0:
        failed += 1
        out.append("FAIL %s: printed no ok/FAIL line" % rel)
        out.append(_indent(text[-3000:] or "(no output)").rstrip("\n"))
    elif failed:
        out.append("   output of %s (last 60 lines):" % rel)
        out.append(_indent("\n".join(text.splitlines()[-60:])).rstrip("\n"))
    print("\n".join(out))
    print("-- %s: %d passed, %d failed (%.2fs)" % (rel, passed, failed, secs),
          flush=True)
    return passed, failed


# ---------------------------------------------------------------- parent

def run_modules(files, jobs, name_filter):
    """Runs each file in a worker process, at most jobs at a time;
    prints each module's block when it ends. Returns (passed, failed,
    skipped)."""
    passed = failed = skipped = 0
    queue = list(files)
    running = []        # (proc, path, outfile, last_size, last_change)
    # ports the workers' tests have taken, one file each (ergotest's
    # free_port): two workers asking the kernel for a free port at the
    # same moment can both be given the same one
    ports = tempfile.mkdtemp(prefix="ergotest-ports-")

    def start(path):
        out = tempfile.TemporaryFile()
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", path]
        if name_filter:
            cmd += ["-k", name_filter]
        # everything the worker's tests put in TMPDIR goes here, removed
        # when the worker ends, even if it had to be killed
        tmp = tempfile.mkdtemp(prefix="ergotest-run-")
        env = dict(os.environ, TMPDIR=tmp, ERGOTEST_PORTS=ports)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        running.append([proc, path, out, 0, time.monotonic(), tmp])

    def kill_group(proc):
        # the worker and the servers it started share its process group
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                pass

    def finish(entry, note=None):
        nonlocal passed, failed, skipped
        proc, path, out, _, _, tmp = entry
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        out.close()
        shutil.rmtree(tmp, ignore_errors=True)
        lines = []
        got = None
        current = "<module>"
        for line in text.splitlines():
            if line.startswith(RESULT_TAG + " "):
                got = [int(x) for x in line.split()[1:4]]
            elif line.startswith(START_TAG + " "):
                current = line.split(" ", 1)[1]
            else:
                lines.append(line)
        if got is None:
            got = [0, 1, 0]
            lines.append("FAIL %s::%s: worker ended without a result (%s)"
                         % (os.path.relpath(path), current,
                            note or "exit status %s" % proc.returncode))
        passed += got[0]
        failed += got[1]
        skipped += got[2]
        if lines:
            print("\n".join(lines), flush=True)

    try:
        while queue or running:
            while queue and len(running) < jobs:
                start(queue.pop(0))
            time.sleep(0.05)
            now = time.monotonic()
            for entry in list(running):
                proc, path, out, size, changed, _ = entry
                if proc.poll() is not None:
                    running.remove(entry)
                    finish(entry)
                    continue
                cur = os.fstat(out.fileno()).st_size
                if cur != size:
                    entry[3], entry[4] = cur, now
                elif now - changed > STALL_TIMEOUT:
                    kill_group(proc)
                    running.remove(entry)
                    finish(entry, "no output for %d s: killed" % STALL_TIMEOUT)
    except KeyboardInterrupt:
        for entry in running:
            kill_group(entry[0])
            shutil.rmtree(entry[5], ignore_errors=True)
        raise
    finally:
        shutil.rmtree(ports, ignore_errors=True)
    return passed, failed, skipped


def main(argv):
    files, units = [], []
    unit_only = False
    jobs = 2
    name_filter = None
    worker = None
    i = 0
    in_units = False
    while i < len(argv):
        a = argv[i]
        if a == "--worker":
            worker = argv[i + 1]
            i += 1
        elif a == "--unit":
            in_units = True
        elif a == "--unit-only":
            unit_only = True
        elif a == "-j":
            jobs = max(1, int(argv[i + 1]))
            i += 1
        elif a == "-k":
            name_filter = argv[i + 1]
            i += 1
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        elif a.endswith(".py"):
            files.append(a)
            in_units = False
        elif in_units:
            units.append(a)
        else:
            print("run.py: unexpected argument %r (see --help)" % a,
                  file=sys.stderr)
            return 2
        i += 1

    if worker is not None:
        return worker_main(worker, name_filter)

    if not files and not unit_only:
        files = sorted(glob.glob(os.path.join(TESTS_DIR, "test_*.py")))
        files = [os.path.relpath(f) for f in files]
    if unit_only:
        files = []

    t0 = time.monotonic()
    passed = failed = skipped = 0
    for u in units:
        p, f = run_unit(u)
        passed += p
        failed += f
    p, f, s = run_modules(files, jobs, name_filter)
    passed += p
    failed += f
    skipped += s

    print("-- %d unit binaries, %d test files, %.1fs"
          % (len(units), len(files), time.monotonic() - t0))
    tail = ", %d skipped" % skipped if skipped else ""
    print("%d passed, %d failed%s" % (passed, failed, tail), flush=True)
    if passed + failed == 0:
        return 1        # running nothing is not a success
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
