"""Hostile clients on the IRCv3 input surfaces: draft/multiline batches
(never closed, opened over and over, full-size, overlapping references,
left open at a disconnect), REDACT, REGISTER, MARKREAD and CHATHISTORY
floods. Each asserts what test_hostile.py asserts of the core commands:
the flood is bounded (in replies, memory, database rows and CPU), and
another client is served meanwhile."""

import os
import re
import socket
import sqlite3
import time

from ergotest import ErgoTestError, Server, run_ergo, wait_for
from test_hostile import arrivals, connect, cpu_s, nfds, rss_kib
from test_ircv3_tags import capclient, tsync

ML = ["draft/multiline", "batch", "message-tags"]
STORM_LAG = ("fakelag { enabled yes  window 1s  burst-limit 3  "
             "messages-per-window 10  cooldown 2s  max-recvq 64k }\n"
             "connection-limits { max-per-ip 0 }")


def no_quarantine():
    """Under ASan freed memory sits in its quarantine and counts as RSS:
    off for servers whose memory is measured."""
    asan = os.environ.get("ASAN_OPTIONS")
    return {"ASAN_OPTIONS": asan + ":quarantine_size_mb=0"} if asan else None


def served(c, token):
    """Another client's PING answered within a second."""
    t0 = time.monotonic()
    c.send("PING :" + token)
    c.expect(r"PONG \S+ :?%s$" % token, timeout=10)
    took = time.monotonic() - t0
    assert took < 1.0, "a bystander waited %.2fs" % took


def ml_raw(ref, target, texts):
    """One whole draft/multiline batch as bytes."""
    out = [b"BATCH +%s draft/multiline %s\r\n" % (ref, target)]
    out += [b"@batch=%s PRIVMSG %s :%s\r\n" % (ref, target, t) for t in texts]
    out.append(b"BATCH -%s\r\n" % ref)
    return b"".join(out)


# ------------------------------------------------------------ multiline

OPER_PW = "hostile-oper-pw"


def oper_conf():
    p = run_ergo("genpasswd", input=OPER_PW + "\n", timeout=60)
    return ('oper admin { class server-admin  password "%s" }\n'
            % p.stdout.split()[-1])


def ml_held(op):
    """STATS z: the batches open and the bytes the server says they
    hold (its own count, not the allocator's)."""
    op.send("STATS z")
    l = op.expect(r" 249 \S+ z :multiline batches open \d+ holding \d+ "
                  r"bytes$")
    m = re.search(r"open (\d+) holding (\d+) bytes$", l)
    return int(m.group(1)), int(m.group(2))


def test_batches_never_closed_hold_bounded_memory_and_free_it_on_close():
    # the largest batches the config allows, each left open
    # (a max-sendq that lets a batch reach max-bytes in 163 lines: at
    # the default one the line cap is lowered and each batch would fail
    # early, holding nothing)
    s = Server(server="connection-limits { max-per-ip 0 }\nmax-sendq 256k",
               conf="limits { multiline-max-bytes 65536  "
                    "multiline-max-lines 1000 }\n" + oper_conf(),
               env=no_quarantine())
    sink = s.client("sink")
    bystander = s.client("bystander")
    op = s.client("stats")
    op.send("OPER admin %s" % OPER_PW)
    op.expect(r" 381 ")
    text = b"x" * 400
    lines = [text] * (65536 // 401)
    # what one open batch may hold: its text (max-bytes), its line
    # table (max-lines entries), its tags and itself
    per_batch = 65536 + 1000 * 32 + 4096 + 1024

    def round(r):
        cs = [capclient(s, "open%d_%d" % (r, i), ML) for i in range(40)]
        for c in cs:
            # a batch filled to max-bytes, then never closed
            c.send_raw(ml_raw(b"o", b"sink", lines)[:-len(b"BATCH -o\r\n")])
        for c in cs:
            c.sync(timeout=20)
        served(bystander, "open%d" % r)
        n, held = ml_held(op)
        assert n == 40 and 40 * 65536 <= held <= 40 * per_batch, (n, held)
        for c in cs:        # gone without BATCH - or QUIT
            c.close()
        wait_for(lambda: nfds(s.pid) <= base, 10, "the clients gone")
        assert ml_held(op) == (0, 0), "batches outlived their clients"

    base = nfds(s.pid)
    round(0)                # sizes the allocator's pools
    before = rss_kib(s.pid)
    for r in range(1, 5):
        round(r)
    grown = rss_kib(s.pid) - before
    # 160 batches of 64 KiB (10 MiB) held and dropped after the first
    # 40: the server's own count says each was freed; RSS (which moves
    # with the allocator) only has to stay well below a leak of them
    assert grown < 6144, "RSS grew by %d KiB" % grown
    assert not [l for l in sink.sync() if "PRIVMSG" in l]


def test_a_batch_per_client_however_many_are_opened():
    s = Server()
    a = capclient(s, "opener", ML)
    b = s.client("target")
    # 200 BATCH + without a -: each second one drops both, and says so once
    a.send_raw(b"".join(b"BATCH +r%d draft/multiline target\r\n" % i
                        for i in range(200)))
    got = a.sync(timeout=10)
    fails = [l for l in got if " FAIL BATCH MULTILINE_INVALID " in l]
    assert len(fails) == 100, got
    assert all("already open" in l for l in fails), fails
    # none of them open now: a line for the last is refused once
    a.send("@batch=r199 PRIVMSG target :orphan")
    a.expect(r" FAIL BATCH MULTILINE_INVALID :No multiline batch r199 ")
    # and a fresh one still works
    a.send_raw(ml_raw(b"ok", b"target", [b"one", b"two"]))
    b.expect(r"PRIVMSG target :one$")
    b.expect(r"PRIVMSG target :two$")
    assert not [l for l in b.sync() if "orphan" in l]


def test_overlapping_and_nested_batch_references_deliver_nothing():
    s = Server()
    a = capclient(s, "nester", ML)
    b = s.client("target")
    a.send_raw(b"BATCH +a draft/multiline target\r\n"
               b"@batch=a PRIVMSG target :a1\r\n"
               b"BATCH +b draft/multiline target\r\n"   # drops a and b
               b"@batch=b PRIVMSG target :b1\r\n"
               b"@batch=a PRIVMSG target :a2\r\n"
               b"BATCH -a\r\n"
               b"BATCH -b\r\n"
               # a batch inside a batch: the inner + is the second open
               b"BATCH +c draft/multiline target\r\n"
               b"@batch=c BATCH +d draft/multiline target\r\n"
               b"@batch=c PRIVMSG target :c1\r\n"
               b"BATCH -c\r\n")
    got = a.sync(timeout=10)
    fails = [l for l in got if " FAIL BATCH " in l]
    # one FAIL per refused command: +b, the lines of b and of a, -a, -b,
    # and the BATCH inside c, which fails c (its line and - are quiet)
    assert len(fails) == 6, got
    assert "holds PRIVMSG or NOTICE" in fails[-1], fails
    assert not [l for l in b.sync() if "PRIVMSG" in l or "BATCH" in l]


def test_floods_of_oversized_batches_fail_once_each_and_are_throttled():
    # max-lines lines of ~400 bytes each: far past max-bytes (4096)
    s = Server(fakelag=True, server=STORM_LAG)
    a = capclient(s, "oversize", ML)
    b = capclient(s, "target", ML)
    bystander = s.client("bystander")

    def batch(k):
        return ml_raw(b"big%d" % k, b"target",
                      [b"%03d" % i + b"w" * 400 for i in range(100)])
    t0 = time.monotonic()
    for k in range(8):          # one after another, each within max-recvq
        a.send_raw(batch(k))
        got = a.lines_until(r" FAIL BATCH MULTILINE_MAX_BYTES 4096 ",
                            timeout=30)
        served(bystander, "b%d" % k)
    took = time.monotonic() - t0
    # the lines after the FAIL go without a word; the BATCH commands
    # are paced by fakelag
    assert not [l for l in a.sync(timeout=30) if " FAIL " in l]
    assert took >= 1.0, "8 batches in %.2fs: not throttled" % took
    # all at once, 330 KB: past max-recvq, an Excess Flood
    try:
        a.send_raw(b"".join(batch(k) for k in range(8, 16)))
    except OSError:
        pass
    assert "Excess Flood" in "".join(a.closed(timeout=30))
    assert not [l for l in b.sync() if "PRIVMSG" in l or "BATCH" in l]
    served(bystander, "after")


def cap_ml(s):
    """(max-bytes, max-lines) of the server's draft/multiline cap."""
    c = s.client()
    c.send("CAP LS 302")
    ls = " ".join(c.lines_until(r" CAP \* LS :"))
    c.close()
    m = re.search(r"draft/multiline=max-bytes=(\d+),max-lines=(\d+)", ls)
    return int(m.group(1)), int(m.group(2))


def full_batch(s, maxbytes, maxlines):
    """A batch of maxlines lines, maxbytes in all, to a channel of cap
    and plain members and the echoing sender: each gets every line, and
    nobody is dropped."""
    members = [capclient(s, "capm%d" % i, ML) for i in range(3)]
    members += [s.client("plainm%d" % i) for i in range(3)]
    sender = capclient(s, "big", ML + ["echo-message"])
    for c in members + [sender]:
        c.send("JOIN #big")
        c.expect(r" 366 %s #big " % c.nick)
    for c in members:
        c.sync()
    each = min(400, (maxbytes - (maxlines - 1)) // maxlines)
    texts = [(b"%05d" % i + b"y" * each)[:each] for i in range(maxlines)]
    assert sum(map(len, texts)) + maxlines - 1 <= maxbytes
    sender.send_raw(ml_raw(b"full", b"#big", texts))
    for c in members[:3] + [sender]:
        got = c.lines_until(r" BATCH -", timeout=20)
        assert len([l for l in got if " PRIVMSG #big :" in l]) == maxlines
    for c in members[3:]:
        got = c.lines_until(r" PRIVMSG #big :%s$" % texts[-1].decode(),
                            timeout=20)
        assert len([l for l in got if " PRIVMSG #big :" in l]) == maxlines
    for c in members + [sender]:
        assert not [l for l in c.sync() if "ERROR" in l or " QUIT " in l]
    return sender


def test_a_full_size_batch_reaches_every_member_within_max_sendq():
    # a batch of the size the cap's value allows sits whole in each
    # recipient's output at once: with room in max-sendq, all of it
    s = Server(conf="limits { multiline-max-bytes 65536  "
                    "multiline-max-lines 1000 }", server="max-sendq 1m")
    assert cap_ml(s) == (65536, 1000)
    full_batch(s, 65536, 1000)


def test_max_lines_are_lowered_to_what_max_sendq_holds():
    # 1,000 lines would not fit in 96k: the cap says fewer, and a batch
    # of the size it says never costs the recipients their connection
    s = Server(conf="limits { multiline-max-bytes 65536  "
                    "multiline-max-lines 1000 }", server="max-sendq 96k")
    maxbytes, maxlines = cap_ml(s)
    assert maxbytes == 65536 and 10 < maxlines < 1000, (maxbytes, maxlines)
    sender = full_batch(s, maxbytes, maxlines)
    sender.send_raw(ml_raw(b"over", b"#big", [b"z"] * (maxlines + 1)))
    sender.expect(r" FAIL BATCH MULTILINE_MAX_LINES %d " % maxlines)


# ------------------------------------------------------------- REDACT



def test_a_redact_flood_is_throttled_answered_once_each_and_others_served():
    s = Server(fakelag=True, server=STORM_LAG)
    caps = ["draft/message-redaction", "message-tags", "echo-message"]
    watcher = capclient(s, "watcher", caps)
    flood = capclient(s, "redactor", caps)
    bystander = s.client("bystander")
    for c in (watcher, flood):
        c.send("JOIN #r")
        c.expect(r" 366 %s #r " % c.nick)
    flood.send("PRIVMSG #r :mine")
    mine = re.search(r"msgid=([^; ]+)",
                     flood.expect(r"PRIVMSG #r :mine$")).group(1)
    n = 40
    # unknown msgids, someone else's channel, then one real one
    flood.send_raw(b"".join(b"REDACT #r nosuchid%d\r\n" % i
                            for i in range(n)) +
                   b"REDACT #nowhere x\r\n" +
                   b"REDACT #r %s :oops\r\n" % mine.encode())
    served(bystander, "during")
    t0 = time.monotonic()
    got = flood.lines_until(r" REDACT #r %s :oops$" % re.escape(mine),
                            timeout=30)
    took = time.monotonic() - t0
    unknown = [l for l in got if " FAIL REDACT UNKNOWN_MSGID " in l]
    assert len(unknown) == n, got
    assert len([l for l in got if " FAIL REDACT INVALID_TARGET " in l]) == 1
    assert took >= 2.0, "%d REDACTs in %.2fs: not throttled" % (n, took)
    # the one that worked reached the channel once; the rest nobody
    seen = [l for l in watcher.sync(timeout=10) if " REDACT " in l]
    assert len(seen) == 1 and mine in seen[0], seen


# ----------------------------------------------------------- REGISTER

def register_from(s, source, name):
    """REGISTER before the connection completes, from a source address:
    the reply line."""
    c = connect(s.port, source)
    c.sendall(b"CAP LS 302\r\nNICK %s\r\nREGISTER * * pass-%s\r\n"
              % (name.encode(), name.encode()))
    data = b""
    while b" REGISTER " not in data:
        chunk = c.recv(4096)
        assert chunk, data
        data += chunk
    c.close()
    return [l for l in data.decode().split("\r\n") if " REGISTER " in l][0]


def test_a_register_flood_costs_at_most_the_throttle_in_password_hashing():
    # each accepted REGISTER hashes a password (PBKDF2): that CPU per
    # address is bounded by the throttle, and refusals cost none of it
    s = Server(conf="accounts { password-iterations 60000\n"
                    "  registration { throttling { max-attempts 3 "
                    "duration 10m } } }",
               server="connection-limits { max-per-ip 0  throttle no }")
    bystander = s.client("bystander")
    t0 = cpu_s(s.pid)
    assert " REGISTER SUCCESS " in register_from(s, "127.0.0.9", "costs")
    one = cpu_s(s.pid) - t0
    t0 = cpu_s(s.pid)
    replies = [register_from(s, "127.0.0.10", "flood%d" % i)
               for i in range(40)]
    used = cpu_s(s.pid) - t0
    ok = [r for r in replies if " REGISTER SUCCESS " in r]
    refused = [r for r in replies if "FAIL REGISTER TEMPORARILY_UNAVAILABLE"
               in r and "Too many accounts" in r]
    assert len(ok) == 3 and len(refused) == 37, replies
    # three hashes, and the 40 connections' own small costs
    assert used < 3 * one + max(one, 0.3), \
        "40 REGISTERs cost %.2fs of CPU, one %.2fs" % (used, one)
    served(bystander, "after")
    # another address is not held back by this one's flood
    assert " REGISTER SUCCESS " in register_from(s, "127.0.0.11", "other")
    assert s.logtext().count("registration throttled") == 1


# ----------------------------------------------------------- MARKREAD

def test_a_markread_flood_keeps_the_database_bounded():
    s = Server()
    c = s.client("reader", user="r", realname="r", caps="draft/read-marker")
    c.send("NS REGISTER pw")
    c.expect(r"NickServ!\S+ NOTICE reader :Account created")
    bystander = s.client("bystander")
    n = 1500            # each a new target, each a write
    c.send_raw(b"".join(
        b"MARKREAD #m%d timestamp=2019-01-04T14:%02d:%02d.%03dZ\r\n"
        % (i, i // 60000, i // 1000 % 60, i % 1000) for i in range(n)))
    served(bystander, "during")
    got = c.lines_until(r" MARKREAD #m%d " % (n - 1), timeout=60)
    assert len([l for l in got if " MARKREAD " in l]) == n
    assert not [l for l in got if " FAIL " in l], got
    db = sqlite3.connect(os.path.join(s.dir, "ircd.db"), timeout=5)
    try:
        rows = db.execute("SELECT count(*), min(target) FROM read_markers "
                          "WHERE target LIKE '#m%'").fetchone()
    finally:
        db.close()
    assert rows[0] == 1000, rows
    # the last read are kept, the first forgotten
    c.send("MARKREAD #m%d" % (n - 1))
    c.expect(r" MARKREAD #m%d timestamp=2019-01-04T14:00:01\.499Z$"
             % (n - 1))
    c.send("MARKREAD #m0")
    c.expect(r" MARKREAD #m0 \*$")
    c.send("MARKREAD #m500")
    c.expect(r" MARKREAD #m500 timestamp=")
    # what is kept is what was set last, whatever time the client gives
    c.send("MARKREAD #late timestamp=2000-01-01T00:00:00.000Z")
    c.expect(r" MARKREAD #late timestamp=2000-01-01T00:00:00\.000Z$")
    c.send("MARKREAD #late")
    c.expect(r" MARKREAD #late timestamp=2000-01-01T00:00:00\.000Z$")
    c.send("MARKREAD #m500")
    c.expect(r" MARKREAD #m500 \*$")
    c.send("MARKREAD #m501")
    c.expect(r" MARKREAD #m501 timestamp=")


# -------------------------------------------------------- CHATHISTORY

def test_a_chathistory_flood_with_persistent_history_is_bounded():
    s = Server(conf="history { persistent yes }")
    caps = "batch server-time message-tags draft/chathistory"
    c = s.client("keeper", user="k", realname="k", caps=caps)
    c.send("NS REGISTER pw")
    c.expect(r"NickServ!\S+ NOTICE keeper :Account created")
    c.send("JOIN #kept")
    c.expect(r" 366 keeper #kept ")
    c.send("CS REGISTER #kept")
    c.expect(r"ChanServ!\S+ NOTICE keeper :Channel #kept successfully")
    c.send_raw(b"".join(b"PRIVMSG #kept :%04d %s\r\n" % (i, b"h" * 300)
                        for i in range(600)))
    tsync(c)
    assert s.stop() == 0            # the history now comes from disk
    s.start()
    f = s.client("flooder", user="f", realname="f", caps=caps)
    f.send("JOIN #kept")
    f.expect(r" 366 flooder #kept ")
    tsync(f)
    bystander = s.client("bystander")
    n = 300
    f.send_raw(b"CHATHISTORY LATEST #kept * 100\r\n" * n)
    served(bystander, "during")
    f.send("PING :done")
    got = f.lines_until(r"PONG \S+ :?done$", timeout=60)
    batches, open_ = {}, None
    for l in got:
        m = re.search(r" BATCH ([+-])(\S+)", l)
        if m and m.group(1) == "+":
            open_ = batches.setdefault(m.group(2), [])
        elif m:
            open_ = None
        elif " PRIVMSG #kept :" in l:
            assert open_ is not None, l
            open_.append(l.rsplit(" :", 1)[1][:4])
    # one batch per request, none over its limit, the first from disk
    # whole; later ones are cut to what fits in half the sendq, so the
    # flooder's queue never overflows (no "SendQ exceeded")
    assert len(batches) == n, len(batches)
    sizes = [len(v) for v in batches.values()]
    assert max(sizes) == 100 and sizes[0] == 100, sizes
    assert list(batches.values())[0][-1] == "0599"
    assert not [l for l in got if l.startswith("ERROR")]
    served(f, "alive")


# --------------------------------------------------------- client tags

def test_client_tags_with_malformed_keys_are_not_relayed():
    # found by fuzz_parse: a key's raw bytes went to every recipient
    s = Server()
    a = capclient(s, "tagger", ["message-tags"])
    b = capclient(s, "tagged", ["message-tags"])
    a.send_raw(b"@+ok=1;+b\x01d=2;+caf\xc3\xa9=3;+a,b=4;+v.example/k-2=5;"
               b"+x\\y=6 PRIVMSG tagged :hi\r\n")
    line = b.expect(r"PRIVMSG tagged :hi$")
    tags = line[1:].split(" ", 1)[0].split(";")
    assert sorted(t for t in tags if t.startswith("+")) == \
        ["+ok=1", "+v.example/k-2=5"], line
