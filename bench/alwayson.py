#!/usr/bin/env python3
"""Always-on users for ergo: N always-on users (no connection) restored
from the database at start, against N connected idle clients, in the
same run: start time (spawn to its `ready` log line) and VmRSS per user.
Run on demand (never part of make test), after `make ergo bench/load`:

    python3 bench/alwayson.py [N] [channels-per-user]

N defaults to 10000; each always-on user is in channels-per-user
(default 0, as the idle clients are in none) of 100 channels. The idle
clients come from bench/load (scenario idle). Loopback only; prints the
figures, asserts nothing."""

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests"))
from ergotest import ALLOW_ROOT, ERGO_BIN, free_port  # noqa: E402

LOAD = os.path.join(ROOT, "bench", "load")


def write_conf(d, port, n):
    path = os.path.join(d, "ergo.conf")
    with open(path, "w") as f:
        f.write("""server {
	name ergo.bench
	listen 127.0.0.1:%d
	max-clients 0
	connection-limits { max-per-ip 0  throttle no }
	timeouts { registration 300s  idle 600s  ping 600s }
	ip-cloaking { enabled no }
}
datastore { path %s/ircd.db }
logging { method stderr  level info }
accounts { multiclient { max-always-on %d } }
channels { max-per-user 100 }
""" % (port, d, max(n, 1)))
    return path


def make_db(d, conf, n, per):
    p = subprocess.run([ERGO_BIN, "initdb", "--config", conf],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("ergo initdb failed: " + p.stderr)
    if n == 0:
        return
    db = sqlite3.connect(os.path.join(d, "ircd.db"))
    z = b"\0" * 32
    db.executemany(
        "INSERT INTO accounts (id, name, display, salt, iterations, "
        "stored_key, server_key, registered, always_on) "
        "VALUES (?, ?, ?, ?, 4096, ?, ?, 0, 1)",
        ((i + 1, "a%05d" % i, "a%05d" % i, z[:16], z, z)
         for i in range(n)))
    db.executemany(
        "INSERT INTO always_on (account, nick, username, host, realname, "
        "umodes, away, channels, last_seen) VALUES (?, ?, '~u', "
        "'127.0.0.1', 'always on', 0, NULL, ?, 0)",
        ((i + 1, "a%05d" % i,
          " ".join(",#c%d" % ((i + k) % 100) for k in range(per)))
         for i in range(n)))
    db.commit()
    db.close()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def start(d, conf, port):
    """Spawns ergo; seconds until it logs that it is ready (the listener
    is bound before the users are restored, so a connect says less),
    and the process."""
    path = os.path.join(d, "ergo.log")
    log = open(path, "wb")
    t0 = time.monotonic()
    proc = subprocess.Popen([ERGO_BIN, "run", "--config", conf] +
                            ALLOW_ROOT, cwd=d, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT)
    while True:
        if proc.poll() is not None:
            sys.exit("ergo exited; see %s" % path)
        with open(path) as f:
            if " ready: " in f.read():
                return time.monotonic() - t0, proc
        if time.monotonic() - t0 > 600:
            sys.exit("ergo not ready within 600 s")
        time.sleep(0.005)


def stop(proc):
    proc.terminate()
    proc.wait(60)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if not os.access(LOAD, os.X_OK):
        sys.exit("bench/load missing: make ergo bench/load")
    top = tempfile.mkdtemp(prefix="ergo-bench-ao-")
    try:
        res = {}
        for name, users in (("empty", 0), ("alwayson", n)):
            d = os.path.join(top, name)
            os.mkdir(d)
            port = free_port()
            conf = write_conf(d, port, users)
            make_db(d, conf, users, per)
            secs, proc = start(d, conf, port)
            time.sleep(1)       # the first tick's frees, then measure
            res[name] = (secs, rss_kib(proc.pid))
            if name == "empty":
                out = subprocess.run([LOAD, "-p", str(port), "-P",
                                      str(proc.pid), "-s", "idle", "-n",
                                      str(n)], capture_output=True,
                                     text=True, timeout=900).stdout
                m = re.search(r"base_kib=(\d+) .*rss_%d_kib=(\d+)" % n, out)
                if m is None:
                    sys.exit("bench/load idle said: " + out)
                res["idle"] = (int(m.group(1)), int(m.group(2)))
            else:
                with open(os.path.join(d, "ergo.log")) as f:
                    log = f.read()
                if ("%d always-on users restored" % n) not in log:
                    sys.exit("not every user restored:\n" + log[-2000:])
            stop(proc)
        (t0, r0), (t1, r1) = res["empty"], res["alwayson"]
        ib, ir = res["idle"]
        ao = (r1 - r0) * 1024.0 / n
        idle = (ir - ib) * 1024.0 / n
        print("always-on users: %d, in %d channel(s) each" % (n, per))
        print("start, empty database:     %.3f s, VmRSS %d KiB" % (t0, r0))
        print("start, %d always-on:    %.3f s, VmRSS %d KiB" % (n, t1, r1))
        print("per always-on user:        %.0f bytes of RSS, %.1f us of "
              "start" % (ao, (t1 - t0) * 1e6 / n))
        print("per connected idle client: %.0f bytes of RSS (bench/load "
              "idle, same run)" % idle)
        print("ratio always-on / idle client: %.2f" % (ao / idle))
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
