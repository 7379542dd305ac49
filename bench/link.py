#!/usr/bin/env python3
"""TS6 links (issue 24), on demand (never part of make test):

    python3 bench/link.py [fanout|burst|all] [users] [channels]

fanout: bench/load's fanout scenario (200 clients in one channel, 4
senders x 2000 messages, closed loop) run twice in the same run: once on
one server, once across a link, the 4 senders on server a and the 196
other members on server b. Prints the server CPU per million deliveries
(schedstat) of a and of b, their sum, and each against the one-server
run.

burst: users (10,000) registered clients on a, each in 2 of channels
(1,000) channels (bench/load's channels scenario holds them), then b is
linked (CONNECT): prints the burst's time as b logs it (from the
handshake to the PONG after a's whole burst) and the CPU a and b spent
on it.

Loopback only; needs `make bench/load` and ./ergo; prints figures,
asserts nothing."""

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from ergotest import Server, run_ergo, free_port, wait_for  # noqa: E402

LOAD = os.path.join(HERE, "load")
OPERPW = "bench-oper"


def genpasswd(password):
    p = run_ergo("genpasswd", input=password + "\n", timeout=60)
    return [l for l in p.stdout.splitlines() if l.strip()][-1].strip()


def cpu_s(pid):
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
            total += int(f.read().split()[0])
    return total / 1e9


SERVER = """name %(name)s
 sid %(sid)s
 listen 127.0.0.1:{port}
 listen 127.0.0.1:%(lport)d { server yes }
 max-clients 0
 max-sendq 1m
 connection-limits { max-per-ip 0  throttle no }
 timeouts { registration 300s  idle 600s  ping 600s }
 link-ping 600s
"""
CONF = """datastore { path ircd.db }
logging { method stderr  level info }
oper bench { class server-admin  password "%(oper)s"  nofakelag yes }
link %(peer)s {
 host 127.0.0.1  port %(plport)d
 send-password "bench-link"
 receive-password "%(link)s"
 hub yes
}
"""


def servers(hashes, linked=True):
    """a.bench and b.bench; b connects to a (autoconnect) if linked."""
    lports = [free_port(), free_port()]
    out = []
    for i, (name, sid) in enumerate((("a.bench", "0BA"),
                                     ("b.bench", "0BB"))):
        o = 1 - i
        conf = CONF % {"oper": hashes["oper"], "link": hashes["link"],
                       "peer": ("a.bench", "b.bench")[o],
                       "plport": lports[o]}
        if i == 1 and linked:
            conf = conf.replace("hub yes", "hub yes  autoconnect yes")
        srv = Server(config="server {\n " + SERVER % {
            "name": name, "sid": sid, "lport": lports[i]} + "}\n" + conf)
        out.append(srv)
    return out


def load(args, timeout=600):
    p = subprocess.run([LOAD] + args, capture_output=True, text=True,
                       timeout=timeout)
    m = re.search(r"^RESULT .*$", p.stdout, re.M)
    if m is None:
        raise RuntimeError("bench/load: %s %s" % (p.stdout, p.stderr))
    return dict(kv.split("=", 1) for kv in m.group(0).split()[1:])


def linked(srv, peer):
    c = srv.client("lk%d" % int(time.monotonic() * 1000 % 100000))
    c.send("LINKS")
    ok = peer in "\n".join(c.lines_until(r" 365 "))
    c.close()
    return ok


def fanout(hashes):
    common = ["-s", "fanout", "-c", "200", "-S", "4", "-m", "2000",
              "-O", "bench:" + OPERPW, "-T", "300"]
    one = Server(server="max-clients 0\n max-sendq 1m\n connection-limits "
                 "{ max-per-ip 0  throttle no }\n timeouts { registration "
                 "300s  idle 600s  ping 600s }",
                 conf='oper bench { class server-admin  password "%s"  '
                 'nofakelag yes }' % hashes["oper"])
    r1 = load(common + ["-p", str(one.port), "-P", str(one.pid)])
    one.stop()
    a, b = servers(hashes)
    wait_for(lambda: linked(a, "b.bench"), 30, "the link")
    # receivers on b, senders on a; the hook lets the last JOINs cross
    r2 = load(common + ["-p", str(b.port), "-P", str(b.pid),
                        "-q", str(a.port), "-Q", str(a.pid),
                        "-H", "sleep 2"])
    for s in (a, b):
        s.stop()
    single = float(r1["cpu_s_per_M"])
    on_b, on_a = float(r2["cpu_s_per_M"]), float(r2["cpu2_s_per_M"])
    print("fanout, 200 members, 4 senders x 2000 (deliveries %s, %s); "
          "ok=%s,%s" % (r1["deliveries"], r2["deliveries"], r1["ok"],
                        r2["ok"]))
    print("  one server:            %.3f CPU s per M deliveries" % single)
    print("  linked, a (senders):   %.3f  (%.2fx one server)"
          % (on_a, on_a / single))
    print("  linked, b (receivers): %.3f  (%.2fx one server)"
          % (on_b, on_b / single))
    print("  linked, a + b:         %.3f  (%.2fx one server)"
          % (on_a + on_b, (on_a + on_b) / single))
    print("RESULT scenario=linkfanout single_cpu_s_per_M=%.3f "
          "a_cpu_s_per_M=%.3f b_cpu_s_per_M=%.3f ratio_a=%.2f ratio_b=%.2f "
          "ratio_sum=%.2f ok=%d" % (single, on_a, on_b, on_a / single,
                                   on_b / single, (on_a + on_b) / single,
                                   r1["ok"] == "1" and r2["ok"] == "1"))


def burst(hashes, users, chans):
    a, b = servers(hashes, linked=False)
    op = b.client("burstop")
    op.send("OPER bench %s" % OPERPW)
    op.expect(r" 381 ")
    hook = os.path.join(a.dir, "hook.py")
    # the clients stay while the hook runs: it signals us and waits
    ready, done = (os.path.join(a.dir, n) for n in ("ready", "done"))
    with open(hook, "w") as f:
        f.write("import os, time\nopen(%r, 'w').close()\n"
                "while not os.path.exists(%r):\n    time.sleep(0.05)\n"
                % (ready, done))
    p = subprocess.Popen([LOAD, "-s", "channels", "-c", str(users), "-C",
                          str(chans), "-k", "2", "-S", "1", "-m", "1",
                          "-T", "900", "-p", str(a.port), "-P", str(a.pid),
                          "-H", "%s %s" % (sys.executable, hook)],
                         stdout=subprocess.PIPE, text=True)
    wait_for(lambda: os.path.exists(ready), 900, "the users to join")
    ca, cb = cpu_s(a.pid), cpu_s(b.pid)
    t0 = time.monotonic()
    op.send("CONNECT a.bench")
    wait_for(lambda: re.search(r"end of burst from a\.bench \((\d+) ms\)",
                               b.logtext()), 600, "the end of a's burst")
    wall = time.monotonic() - t0
    ms = int(re.search(r"end of burst from a\.bench \((\d+) ms\)",
                       b.logtext()).group(1))
    da, db = cpu_s(a.pid) - ca, cpu_s(b.pid) - cb
    w = b.client("burstw")
    w.send("LUSERS")
    lus = [l for l in w.lines_until(r" 266 | 250 ") if " 251 " in l]
    open(done, "w").close()
    p.communicate(timeout=300)
    for s in (a, b):
        s.stop()
    print("burst, %d users in %d channels (2 each): b logged %d ms from "
          "its handshake to the PONG after a's burst (%.2f s from CONNECT); "
          "CPU a %.3f s, b %.3f s; b's LUSERS: %s"
          % (users, chans, ms, wall, da, db, lus[0] if lus else "?"))
    print("RESULT scenario=linkburst users=%d channels=%d burst_ms=%d "
          "connect_to_eob_s=%.3f a_cpu_s=%.3f b_cpu_s=%.3f"
          % (users, chans, ms, wall, da, db))


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    users = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    chans = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    if not os.access(LOAD, os.X_OK):
        sys.exit("bench/link.py: build bench/load first (make bench/load)")
    hashes = {"oper": genpasswd(OPERPW), "link": genpasswd("bench-link")}
    if what in ("fanout", "all"):
        fanout(hashes)
    if what in ("burst", "all"):
        burst(hashes, users, chans)


if __name__ == "__main__":
    main()
