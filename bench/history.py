#!/usr/bin/env python3
"""history: persistent history (history { persistent yes }) at a million
stored rows. Run on demand:

    python3 bench/history.py [-r ROWS] [-c CHANNELS] [-q QUERIES]

Makes a database of ROWS (1,000,000) rows over CHANNELS (500) registered
channels (bench/mkdb.py; 2,000 rows each, within the default
channel-length of 2048), starts ergo on it and prints:

- start: fork to the first client's 001 (wall) and the server's CPU;
- first use of a channel's ring (the JOIN that reads it from the
  datastore), per channel;
- CHATHISTORY LATEST * 100, BEFORE, AROUND (at random points of each
  ring) and TARGETS, each QUERIES times over random channels: p50/p99 of
  the client's wait for the whole batch, and the server's CPU per query;
- writes: four senders, closed loop, in registered #bench with 10 members
  (bench/load fanout) with persistence on against the same run with it
  off: messages/s, server CPU per million messages, the extra CPU per
  million persisted, and the database's growth per million messages;
- the database file size per million stored rows.
Every CHATHISTORY batch is checked for its count and order. Loopback
only; every process it starts is stopped by its PID.

    python3 bench/history.py --writes-only [-m MSGS] [--rounds N]
        [--rate R] [--keep-all] [--strace]

measures the writes alone, without the million rows: N rounds, each a
fresh server and database with persistence on, then off (same load,
bench/load in C: one process, four senders, 10 members, closed loop
with 64 in flight, the first 64 of each sender a warm-up left out;
--rate R paces each sender at R msg/s instead, -A pinned, so the
latency compares the send path with and without the writes, not two
queue lengths). Per run: messages/s, server CPU per million messages
(schedstat), p50/p99/p99.9/max send-to-delivery latency, the server's and the
load generator's share of one core over the run (which side was the
limit), and the rows written: the table's largest id grows by exactly
the rows inserted (rows are only ever deleted from the old end), and
with --keep-all (channel-length above MSGS, so nothing is pruned)
every message must be there once, counted per sender. Medians at the
end, on/off side by side, and the CPU the writes cost per million
messages persisted (on - off). With --strace (Linux, strace with
--seccomp-bpf), the server runs under strace, which stops it only at
fdatasync and fsync: their count, total and longest time over the
message phase, in the server's own process (its loop) and in its
children (the checkpoint process)."""

import argparse
import os
import random
import re
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from ergotest import ERGO_BIN, Server, free_port  # noqa: E402


def cpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


class C:
    def __init__(self, port, nick):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.send("CAP REQ :draft/chathistory batch server-time "
                  "message-tags")
        self.send("NICK %s" % nick)
        self.send("USER %s 0 * :%s" % (nick, nick))
        self.send("CAP END")
        self.until(lambda l: " 001 " in l)

    def send(self, line):
        self.s.sendall(line.encode() + b"\r\n")

    def until(self, done):
        lines = []
        while True:
            while b"\n" in self.buf:
                raw, self.buf = self.buf.split(b"\n", 1)
                line = raw.rstrip(b"\r").decode("utf-8", "replace")
                lines.append(line)
                if done(line):
                    return lines
            d = self.s.recv(1 << 20)
            if not d:
                raise RuntimeError("closed")
            self.buf += d


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


def server_conf(conf, port, db, history):
    with open(conf, "w") as f:
        f.write("server {\n name irc.bench\n listen 127.0.0.1:%d\n"
                " max-clients 0\n connection-limits { max-per-ip 0  "
                "throttle no }\n fakelag { enabled no }\n}\n"
                "datastore { path %s }\nlogging { method stderr  level "
                "warn }\nhistory { %s }\n" % (port, db, history))


def wait_port(port):
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.01)


SYNC_RE = re.compile(r"^(\d+)\s+([\d.]+)\s+(?:<\.\.\. )?f(?:data)?sync"
                     r"(?:\(| resumed).*<([\d.]+)>$")


def syncs(trace, pid, t0, t1):
    """fdatasync/fsync calls in strace's trace between t0 and t1 (wall
    clock): of the server's process pid, and of the others (its
    children): (count, total ms, longest ms) each."""
    mine, others = [], []
    with open(trace) as f:
        for line in f:
            m = SYNC_RE.match(line.strip())
            if m and t0 <= float(m.group(2)) <= t1:
                (mine if int(m.group(1)) == pid else others).append(
                    float(m.group(3)) * 1000)
    return [(len(v), sum(v), max(v, default=0)) for v in (mine, others)]


def write_run(persist, msgs, rate, keep_all, window, trace_syncs=False):
    """One fresh server and database: the write test; a dict."""
    d = tempfile.mkdtemp(prefix="ergo-bench-histw-")
    db = os.path.join(d, "ircd.db")
    conf = os.path.join(d, "ergo.conf")
    port = free_port()
    hist = "persistent %s" % ("yes" if persist else "no")
    if keep_all:
        hist += (" channel-length %d  channel-max-bytes 900m  "
                 "total-max-bytes 900m" % (msgs + 1000))
    server_conf(conf, port, db, hist)
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:	# a deep window: room in every sendq
        f.write(text.replace(" max-clients 0\n", " max-clients 0\n"
                             " max-sendq 4m\n"))
    allow = ["--allow-root"] if os.geteuid() == 0 else []
    subprocess.run([ERGO_BIN, "initdb", "--config", conf], check=True,
                   capture_output=True)
    subprocess.run([sys.executable, os.path.join(HERE, "mkdb.py"), db, "1",
                    "0", "1"], check=True)
    con = sqlite3.connect(db)
    id0 = con.execute("SELECT ifnull(max(id), 0) FROM history").fetchone()[0]
    con.close()
    cmd = [ERGO_BIN, "run", "--config", conf] + allow
    trace = os.path.join(d, "trace")
    if trace_syncs:     # a seccomp filter: only these calls stop
        cmd = ["strace", "-f", "--seccomp-bpf", "-qq", "-ttt", "-T", "-e",
               "trace=fdatasync,fsync", "-o", trace] + cmd
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(d, "log"), "w"))
    spid = p.pid
    wait_port(port)
    if trace_syncs:     # strace's one child by now
        with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
            spid = int(f.read().split()[0])
    load = os.path.join(HERE, "load")
    per = msgs // 4
    args = [load, "-p", str(port), "-P", str(spid), "-T", "300", "-s",
            "fanout", "-c", "10", "-S", "4"]
    if rate > 0:
        args += ["-r", str(rate), "-d", "%.1f" % (per / rate), "-A"]
    else:
        args += ["-m", str(per), "-w", str(window), "-W", str(window)]
    try:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0, w0 = time.monotonic(), time.time()
        out = subprocess.run(args, capture_output=True, text=True).stdout
        wall, w1 = time.monotonic() - t0, time.time()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        try:
            os.kill(spid, 15)   # strace ends with it
        except ProcessLookupError:
            pass
        p.wait()
    m = dict(kv.split("=", 1) for kv in out.split() if "=" in kv)
    res = {"ok": m.get("ok") == "1", "sent": int(m.get("sent", 0))}
    if not res["ok"]:
        print(out, file=sys.stderr)
    # 10 members: a message is 9 deliveries (load sends no echo-message)
    res["msgs_s"] = float(m.get("deliv_per_s", 0)) / 9
    res["cpu_per_M"] = float(m.get("cpu_s_per_M", 0)) * 9
    res["p50"] = float(m.get("p50_ms", 0))
    res["p99"] = float(m.get("p99_ms", 0))
    res["p999"] = float(m.get("p999_ms", 0))
    res["max"] = float(m.get("max_ms", 0))
    res["syncs"] = syncs(trace, spid, w0, w1) if trace_syncs else None
    # shares of one core over the message phase (server) and the whole
    # load run (the load generator: registration and joins included)
    res["srv_busy"] = (float(m.get("cpu_s_per_M", 0)) *
                       int(m.get("measured", 0)) / 1e6 /
                       max(float(m.get("wall_s", 1)), 1e-9))
    res["load_busy"] = ((r1.ru_utime + r1.ru_stime) -
                        (r0.ru_utime + r0.ru_stime)) / wall
    con = sqlite3.connect(db)
    id1 = con.execute("SELECT ifnull(max(id), 0) FROM history").fetchone()[0]
    res["rows"] = id1 - id0
    res["complete"] = True
    if persist:
        # every message sent is a row (events, JOIN and QUIT, besides)
        res["complete"] = res["rows"] >= res["sent"]
        if keep_all:
            got = {}
            for (t,) in con.execute("SELECT text FROM history WHERE "
                                    "text LIKE 'x%'"):
                snd, seq = t.split()[:2]
                got.setdefault(snd, set()).add(int(seq))
            res["complete"] = (sum(len(v) for v in got.values()) ==
                               res["sent"] and all(
                                   v == set(range(len(v)))
                                   for v in got.values()))
    con.close()
    res["db_mb"] = sum(os.path.getsize(db + x) for x in ("", "-wal")
                       if os.path.exists(db + x)) / 1e6
    shutil.rmtree(d, ignore_errors=True)
    return res


def writes_only(a):
    runs = {True: [], False: []}
    print("writes: %d messages, 4 senders to #bench (10 members), %s, %s; "
          "load average %s at %s UTC"
          % (a.m, "paced %d msg/s per sender" % a.rate if a.rate else
             "closed loop, %d in flight and warm-up" % a.w,
             "every row kept" if a.keep_all else "ring of 2048 (pruned)",
             " ".join(open("/proc/loadavg").read().split()[:3]),
             time.strftime("%H:%M:%S", time.gmtime())))
    print("| run | persistent | msgs/s | CPU s per 1M msgs | msgs/s a "
          "core | p50 ms | p99 ms | p99.9 / max ms | server busy | load "
          "busy | rows written | complete |%s" % (
              " server's fdatasyncs: n, ms, longest | its children's: n, "
              "ms |" if a.strace else ""))
    print("|---|---|---|---|---|---|---|---|---|---|---|---|%s"
          % ("---|---|" if a.strace else ""))
    for i in range(a.rounds):
        for persist in (True, False):
            r = write_run(persist, a.m, a.rate, a.keep_all, a.w, a.strace)
            runs[persist].append(r)
            print("| %d | %s | %.0f | %.2f | %.0f | %.2f | %.2f | %.1f / "
                  "%.1f | %.0f%% | %.0f%% | %d | %s |%s"
                  % (i + 1, "yes" if persist else "no",
                     r["msgs_s"], r["cpu_per_M"],
                     1e6 / max(r["cpu_per_M"], 1e-9), r["p50"],
                     r["p99"], r["p999"], r["max"], r["srv_busy"] * 100,
                     r["load_busy"] * 100, r["rows"],
                     "yes" if r["ok"] and r["complete"] else "NO",
                     " %d, %.0f, %.1f | %d, %.0f |" % (r["syncs"][0] +
                                                     r["syncs"][1][:2])
                     if r["syncs"] else ""), flush=True)

    def med(persist, k):
        return statistics.median(r[k] for r in runs[persist])
    ok = all(r["ok"] and r["complete"] for v in runs.values() for r in v)
    print("medians: persistent %.0f msg/s, %.2f s CPU per 1M (%.0f msg/s "
          "for a core's worth), p50 %.2f / "
          "p99 %.2f ms; in memory only %.0f msg/s, %.2f s, p50 %.2f / p99 "
          "%.2f ms; the writes cost %.2f s CPU per 1M persisted; %s; "
          "every run delivered and wrote every message: %s"
          % (med(True, "msgs_s"), med(True, "cpu_per_M"),
             1e6 / max(med(True, "cpu_per_M"), 1e-9), med(True, "p50"),
             med(True, "p99"), med(False, "msgs_s"), med(False, "cpu_per_M"),
             med(False, "p50"), med(False, "p99"),
             med(True, "cpu_per_M") - med(False, "cpu_per_M"),
             "the database (with its WAL) %.0f MB per 1M rows kept"
             % statistics.median(r["db_mb"] / max(r["rows"], 1) * 1e6
                                 for r in runs[True]) if a.keep_all else
             "rows pruned to the ring as they go",
             "yes" if ok else "NO"))
    print("RESULT scenario=historywrites msgs=%d rate=%d keep_all=%d "
          "msgs_per_s=%.0f cpu_s_per_M=%.2f p50_ms=%.2f p99_ms=%.2f "
          "off_msgs_per_s=%.0f off_cpu_s_per_M=%.2f off_p50_ms=%.2f "
          "off_p99_ms=%.2f persist_cpu_s_per_M=%.2f ok=%d"
          % (a.m, a.rate, int(a.keep_all), med(True, "msgs_s"),
             med(True, "cpu_per_M"), med(True, "p50"), med(True, "p99"),
             med(False, "msgs_s"), med(False, "cpu_per_M"),
             med(False, "p50"), med(False, "p99"),
             med(True, "cpu_per_M") - med(False, "cpu_per_M"), int(ok)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-r", type=int, default=1000000)
    ap.add_argument("-c", type=int, default=500)
    ap.add_argument("-q", type=int, default=300)
    ap.add_argument("-m", type=int, default=100000,
                    help="messages written in the write test")
    ap.add_argument("--from-db", help="copy this database (made by an "
                    "earlier run with the same -r and -c) instead")
    ap.add_argument("--writes-only", action="store_true",
                    help="the write test alone, on against off, --rounds")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-w", type=int, default=64, help="writes-only: "
                    "messages in flight per sender (closed loop)")
    ap.add_argument("--rate", type=int, default=0,
                    help="writes-only: pace each sender at this msg/s")
    ap.add_argument("--strace", action="store_true",
                    help="writes-only: count the fdatasync/fsync calls of "
                    "the server's process and of its children over the "
                    "message phase (strace, Linux)")
    ap.add_argument("--keep-all", action="store_true",
                    help="writes-only: channel-length above -m, so every "
                    "row stays and is counted")
    a = ap.parse_args()
    if a.writes_only:
        writes_only(a)
        return
    d = tempfile.mkdtemp(prefix="ergo-bench-hist-")
    db = os.path.join(d, "ircd.db")
    conf = os.path.join(d, "ergo.conf")
    port = free_port()
    with open(conf, "w") as f:
        f.write("server {\n name irc.bench\n listen 127.0.0.1:%d\n"
                " max-clients 0\n connection-limits { max-per-ip 0  "
                "throttle no }\n fakelag { enabled no }\n}\n"
                "datastore { path %s }\nlogging { method stderr  level "
                "warn }\nhistory { persistent yes  total-max-bytes 900m }\n"
                "channels { max-per-user 1000 }\n" % (port, db))
    subprocess.run([ERGO_BIN, "initdb", "--config", conf], check=True,
                   capture_output=True)
    t0 = time.monotonic()
    if a.from_db:
        shutil.copyfile(a.from_db, db)
    else:
        subprocess.run([sys.executable, os.path.join(HERE, "mkdb.py"), db,
                        "1000", str(a.r), str(a.c)], check=True)
    print("made %d rows in %.0f s" % (a.r, time.monotonic() - t0),
          file=sys.stderr)
    size = os.path.getsize(db)
    load = os.path.join(HERE, "load")
    allow = ["--allow-root"] if os.geteuid() == 0 else []
    r = subprocess.run([load, "-p", str(port), "-s", "startup", "--",
                        ERGO_BIN, "run", "--config", conf] + allow,
                       capture_output=True, text=True)
    m = re.search(r"ready_ms=([\d.]+) ready_cpu_ms=([\d.]+)", r.stdout)
    start = (float(m.group(1)), float(m.group(2))) if m else (-1, -1)

    srv = subprocess.Popen([ERGO_BIN, "run", "--config", conf] + allow,
                           stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL,
                           stderr=open(os.path.join(d, "log"), "w"))
    try:
        for _ in range(500):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.01)
        c = C(port, "reader")
        chans = ["#chan%d" % i for i in range(a.c)]
        # first use of each ring: the JOIN reads it from the datastore
        joins = []
        cpu0 = cpu_ns(srv.pid)
        for ch in chans:
            t = time.monotonic()
            c.send("JOIN " + ch)
            c.until(lambda l: " 366 " in l)
            joins.append(time.monotonic() - t)
        join_cpu = (cpu_ns(srv.pid) - cpu0) / 1e6 / len(chans)
        rnd = random.Random(7)
        res = {}
        ok = True
        for kind in ("LATEST", "BEFORE", "AROUND", "TARGETS"):
            lat = []
            cpu0 = cpu_ns(srv.pid)
            for i in range(a.q):
                ch = rnd.choice(chans)
                k = int(ch[5:])
                if kind == "LATEST":
                    cmd = "CHATHISTORY LATEST %s * 100" % ch
                elif kind == "TARGETS":
                    cmd = ("CHATHISTORY TARGETS timestamp=2000-01-01T00:00:"
                           "00.000Z timestamp=2100-01-01T00:00:00.000Z 100")
                else:
                    # a message of this channel's ring (row i % c == k)
                    j = a.r - a.c * rnd.randint(1, 1900) + k
                    cmd = "CHATHISTORY %s %s msgid=m%015x 100" % (kind, ch,
                                                                  j)
                t = time.monotonic()
                c.send(cmd)
                lines = c.until(lambda l: " BATCH -" in l)
                lat.append(time.monotonic() - t)
                n = sum(1 for l in lines if " PRIVMSG " in l or
                        " CHATHISTORY TARGETS " in l)
                want = {"LATEST": 100, "BEFORE": 100, "AROUND": 100,
                        "TARGETS": min(a.c, 100)}[kind]
                if n < want - 1:
                    ok = False
                    print("short %s: %d lines: %s" % (kind, n, cmd),
                          file=sys.stderr)
                nums = [int(x, 16) for x in re.findall(r"msgid=m([0-9a-f]+)",
                                                        "\n".join(lines))]
                if nums != sorted(nums):
                    ok = False
            res[kind] = (pct(lat, 50) * 1000, pct(lat, 99) * 1000,
                         (cpu_ns(srv.pid) - cpu0) / 1e3 / a.q)
    finally:
        srv.terminate()
        srv.wait()

    # writes: persistent on, then off, same load
    def writes(persist):
        with open(conf, "w") as f:
            f.write("server {\n name irc.bench\n listen 127.0.0.1:%d\n"
                    " max-clients 0\n connection-limits { max-per-ip 0  "
                    "throttle no }\n fakelag { enabled no }\n}\n"
                    "datastore { path %s }\nlogging { method stderr  level "
                    "warn }\nhistory { persistent %s }\n"
                    % (port, db, "yes" if persist else "no"))
        s0 = os.path.getsize(db) + (os.path.getsize(db + "-wal") if
                                    os.path.exists(db + "-wal") else 0)
        p = subprocess.Popen([ERGO_BIN, "run", "--config", conf] + allow,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            for _ in range(500):
                try:
                    socket.create_connection(("127.0.0.1", port), 1).close()
                    break
                except OSError:
                    time.sleep(0.01)
            out = subprocess.run([load, "-p", str(port), "-P", str(p.pid),
                                  "-T", "120", "-s", "fanout", "-c", "10",
                                  "-S", "4", "-m", str(a.m // 4), "-w", "64"],
                                 capture_output=True, text=True).stdout
        finally:
            p.terminate()
            p.wait()
        s1 = os.path.getsize(db) + (os.path.getsize(db + "-wal") if
                                    os.path.exists(db + "-wal") else 0)
        m = re.search(r"deliv_per_s=([\d.]+).*?cpu_s_per_M=([\d.]+).*ok=(\d)",
                      out)
        if not m:
            print(out, file=sys.stderr)
            return (0, 0, 0, 0)
        dps, cpm, okk = float(m.group(1)), float(m.group(2)), m.group(3)
        # 10 members: each message is 10 deliveries (the sender's echo
        # included only with echo-message, which load does not ask for)
        return (dps / 9, cpm * 9, okk == "1", s1 - s0)
    won = writes(True)
    woff = writes(False)
    shutil.rmtree(d, ignore_errors=True)
    print("history: %d rows over %d registered channels, database %.0f MB "
          "(%.0f MB per million rows)" % (a.r, a.c, size / 1e6,
                                           size / 1e6 / (a.r / 1e6)))
    print("start to first 001: %.0f ms wall, %.1f ms server CPU"
          % start)
    print("first JOIN of a channel (its ring read from disk): p50 %.2f ms,"
          " p99 %.2f ms wall, %.2f ms server CPU each"
          % (pct(joins, 50) * 1000, pct(joins, 99) * 1000, join_cpu))
    print("| %-28s | %8s | %8s | %12s |" % ("query", "p50 ms", "p99 ms",
                                            "CPU us/query"))
    print("|%s|%s|%s|%s|" % ("-" * 30, "-" * 10, "-" * 10, "-" * 14))
    for k, lab in (("LATEST", "LATEST #chan * 100"),
                   ("BEFORE", "BEFORE #chan msgid= 100"),
                   ("AROUND", "AROUND #chan msgid= 100"),
                   ("TARGETS", "TARGETS (500 channels) 100")):
        print("| %-28s | %8.2f | %8.2f | %12.0f |" % ((lab,) + res[k]))
    print("writes, 4 senders to #bench (10 members), %d messages: "
          "persistent %.0f msg/s, %.2f s CPU per 1M messages; "
          "in memory only %.0f msg/s, %.2f s; persisting costs %.2f s "
          "CPU per 1M; database grew %.0f MB per 1M messages; all "
          "delivered in order: %s"
          % (a.m, won[0], won[1], woff[0], woff[1], won[1] - woff[1],
             won[3] / 1e6 / (a.m / 1e6), "yes" if won[2] and woff[2]
             else "NO"))
    print("RESULT scenario=history rows=%d db_mb_per_M=%.0f start_ms=%.0f "
          "start_cpu_ms=%.1f join_p99_ms=%.2f latest_p99_ms=%.2f "
          "before_p99_ms=%.2f around_p99_ms=%.2f targets_p99_ms=%.2f "
          "write_msgs_per_s=%.0f write_cpu_s_per_M=%.2f "
          "persist_cpu_s_per_M=%.2f ok=%d"
          % (a.r, size / 1e6 / (a.r / 1e6), start[0], start[1],
             pct(joins, 99) * 1000, res["LATEST"][1], res["BEFORE"][1],
             res["AROUND"][1], res["TARGETS"][1], won[0], won[1],
             won[1] - woff[1], int(ok and won[2] and woff[2])))


if __name__ == "__main__":
    main()
