"""bench/load, the load generator of `make bench`, against the real
binary at small counts: it builds warning-free, and each scenario it
drives ends with a RESULT line saying every client registered and every
message arrived in order (no figure is asserted: timing lives in
`make bench`, not here). -A pins the server and itself to two CPUs; -t
speaks TLS (bench/load_tls.c, BearSSL's client engine)."""

import atexit
import os
import re
import shutil
import subprocess
import tempfile

from ergotest import Server, Skip, free_port, run_ergo

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = [os.path.join(TOP, "bench", "load.c"),
       os.path.join(TOP, "bench", "load_tls.c")]
_load = []


def load_bin():
    if not _load:
        d = tempfile.mkdtemp(prefix="ergo-load-")
        atexit.register(shutil.rmtree, d, True)
        out = os.path.join(d, "load")
        p = subprocess.run(
            [os.environ.get("CC", "cc"), "-std=c11",
             "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-Wpedantic",
             "-Werror", "-O2", "-o", out] + SRC + ["-lbearssl"],
            capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        _load.append(out)
    return _load[0]


def bench_server():
    # the limits bench/run.sh lifts for its clients
    return Server(server="max-clients 0\nconnection-limits { max-per-ip 0 "
                         "throttle no }")


def run_load(s, *args, port=None):
    p = subprocess.run([load_bin(), "-p", str(port or s.port),
                        "-P", str(s.pid),
                        "-T", "60", "-a", "4"] + list(args),
                       capture_output=True, text=True, timeout=90)
    lines = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
    assert p.returncode == 0 and len(lines) == 1, (p.stdout, p.stderr)
    return dict(kv.split("=", 1) for kv in lines[0].split()[1:])


def test_connect_scenario_registers_everyone():
    s = bench_server()
    r = run_load(s, "-s", "connect", "-n", "200", "-f", "50")
    assert r["ok"] == "1" and r["registered"] == "200", r
    assert r["failed"] == "0", r


def test_fanout_and_channels_deliver_every_line_in_order():
    s = bench_server()
    r = run_load(s, "-s", "fanout", "-c", "30", "-S", "4", "-m", "200")
    assert r["ok"] == "1", r
    assert r["deliveries"] == r["expected"] == str(4 * 200 * 29), r
    assert r["lost"] == r["reordered"] == r["unexpected"] == "0", r
    s2 = bench_server()
    r = run_load(s2, "-s", "channels", "-c", "60", "-C", "10", "-k", "3",
                 "-S", "4", "-m", "100")
    assert r["ok"] == "1" and r["lost"] == "0" and r["reordered"] == "0", r


def test_pinning_puts_server_and_load_on_two_cpus():
    if len(os.sched_getaffinity(0)) < 2:
        raise Skip("one CPU: nothing to pin apart")
    s = bench_server()
    r = run_load(s, "-A", "-s", "fanout", "-c", "10", "-r", "50", "-d",
                 "0.2")
    assert r["ok"] == "1" and r["pinned"] == "1", r
    # every thread of the server is on one CPU, not the load's
    cpus = set()
    for tid in os.listdir("/proc/%d/task" % s.pid):
        with open("/proc/%d/task/%s/status" % (s.pid, tid)) as f:
            m = re.search(r"^Cpus_allowed_list:\s*(\S+)$", f.read(), re.M)
        cpus.add(m.group(1))
    assert len(cpus) == 1 and re.fullmatch(r"\d+", cpus.pop()), cpus


def test_tls_fanout_delivers_every_line_in_order():
    """load -t: the same fan-out to members on ergo's TLS listener (the
    key `ergo mkcerts` makes), every line checked as over plain TCP, and
    then over the plain listener of the same server."""
    d = tempfile.mkdtemp(prefix="ergo-load-tls-")
    atexit.register(shutil.rmtree, d, True)
    cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
    r = run_ergo("mkcerts", "--cert", cert, "--key", key)
    assert r.returncode == 0, r.stderr
    tls_port = free_port()
    s = Server(server='max-clients 0\nconnection-limits { max-per-ip 0 '
                      'throttle no }\nlisten 127.0.0.1:%d { tls { cert "%s"  '
                      'key "%s" } }' % (tls_port, cert, key))
    r = run_load(s, "-t", "-s", "fanout", "-c", "30", "-S", "4", "-m", "200",
                 port=tls_port)
    assert r["ok"] == "1" and r["tls"] == "1", r
    assert r["deliveries"] == r["expected"] == str(4 * 200 * 29), r
    assert r["lost"] == r["reordered"] == r["unexpected"] == "0", r
    r = run_load(s, "-s", "fanout", "-c", "30", "-S", "4", "-m", "200")
    assert r["ok"] == "1" and r["tls"] == "0", r
