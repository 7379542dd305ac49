"""History memory bounded in bytes (issue 23 item 3): a multiline
batch's client tags kept once, not per line; each ring capped by
history { channel-max-bytes client-max-bytes } and all history by
total-max-bytes, oldest first; batch lines charged to fakelag by their
bytes. Checked with what the server accounts for (oper STATS z: the
bytes history holds), not with RSS."""

import re
import time

from ergotest import Server
from test_ircv3_tags import capclient, tsync, joined
from test_oper import genpasswd

ML = ["draft/multiline", "batch", "message-tags"]
HC = ["draft/chathistory", "batch", "message-tags", "server-time"]
PW = "stats pw"
_hash = []


def oper_conf():
    if not _hash:
        _hash.append(genpasswd(PW))
    return 'oper admin { class server-admin  password "%s" }\n' % _hash[0]


def held(o):
    """(messages, bytes) history holds, from STATS z."""
    o.send("STATS z")
    line = o.expect(r" 249 \S+ z :History: ")
    o.expect(r" 219 \S+ z :End of /STATS report")
    m = re.search(r":History: (\d+) messages, (\d+) bytes held", line)
    assert m, line
    return int(m.group(1)), int(m.group(2))


def oper(srv, nick="opr"):
    o = srv.client(nick)
    o.send("OPER admin :" + PW)
    o.expect_numeric("381")
    return o


def latest(c, target, n=1000):
    c.send("CHATHISTORY LATEST %s * %d" % (target, n))
    lines = c.lines_until(r" BATCH -")
    return [l.rsplit(" :", 1)[1] for l in lines if " PRIVMSG " in l]


def test_stats_z_is_for_opers_and_counts_history():
    srv = Server(conf=oper_conf())
    c = srv.client("plain")
    c.send("STATS z")
    c.expect_numeric("481")
    o = oper(srv)
    assert held(o) == (0, 0)
    joined(srv, "#z", o)
    n0, b0 = held(o)
    assert n0 == 1 and b0 > 0          # the JOIN, for event-playback
    for i in range(10):
        o.send("PRIVMSG #z :hello %d" % i)
    tsync(o)
    n, b = held(o)
    assert n == 11 and 10 * 60 < b - b0 < 10 * 1024, (n, b)


def test_multiline_batch_tags_are_stored_once():
    """100 lines under a 4000-byte client tag: the tag is held once, so
    history grows by far less than 100 copies of it."""
    srv = Server(conf=oper_conf())
    o = oper(srv)
    a = capclient(srv, "alice", ML)
    joined(srv, "#ml", o, a)
    n0, before = held(o)
    tag = "+example=" + "x" * 4000
    a.send("@%s BATCH +b1 draft/multiline #ml" % tag)
    for i in range(100):
        a.send("@batch=b1 PRIVMSG #ml :line %d" % i)
    a.send("BATCH -b1")
    tsync(a)
    n, b = held(o)
    assert n - n0 == 100, n
    grown = b - before
    assert 4000 < grown < 4000 + 100 * 400, grown


def test_channel_history_is_capped_in_bytes_oldest_first():
    conf = oper_conf() + "history { channel-max-bytes 64k }"
    srv = Server(conf=conf)
    o = oper(srv)
    a = capclient(srv, "alice", HC)
    joined(srv, "#cap", o, a)
    text = "y" * 400
    for i in range(400):
        a.send("PRIVMSG #cap :%d %s" % (i, text))
        if i % 50 == 49:
            tsync(a)
    tsync(a)
    n, b = held(o)
    assert b <= 64 * 1024, b
    assert 64 < n < 400, n
    kept = latest(a, "#cap")
    assert 64 < len(kept) <= n, (len(kept), n)
    assert kept[-1].startswith("399 ") and not kept[0].startswith("0 ")


def test_client_history_is_capped_in_bytes():
    conf = oper_conf() + "history { client-max-bytes 32k }"
    srv = Server(conf=conf)
    o = oper(srv)
    a = capclient(srv, "alice", HC)
    b = srv.client("bob")
    for i in range(200):
        b.send("PRIVMSG alice :%d %s" % (i, "z" * 400))
    b.sync()
    tsync(a)
    n, held_b = held(o)
    # one ring for each party, each within its cap
    assert held_b <= 2 * 32 * 1024, held_b
    kept = latest(a, "bob")
    assert 0 < len(kept) < 200 and kept[-1].startswith("199 "), kept[-1:]


def test_total_history_budget_evicts_the_oldest_first():
    conf = oper_conf() + "history { total-max-bytes 96k }"
    srv = Server(conf=conf)
    o = oper(srv)
    a = capclient(srv, "alice", HC)
    joined(srv, "#old", a)
    joined(srv, "#new", a)
    for i in range(100):
        a.send("PRIVMSG #old :%d %s" % (i, "o" * 400))
    tsync(a)
    for i in range(200):
        a.send("PRIVMSG #new :%d %s" % (i, "n" * 400))
    tsync(a)
    n, b = held(o)
    assert b <= 96 * 1024, b
    assert latest(a, "#old") == []
    new = latest(a, "#new")
    assert 0 < len(new) < 200 and new[-1].startswith("199 ")


def test_multiline_batch_bytes_are_charged_to_fakelag():
    """A batch with a 4000-byte tag and 4000 bytes of text costs about
    one fakelag message per 512 bytes, not one for the whole batch."""
    srv = Server(fakelag=True, server="fakelag { window 200ms "
                 "messages-per-window 1  burst-limit 2  cooldown 10s }")
    a = capclient(srv, "alice", ML)
    b = capclient(srv, "bob", ML)
    t0 = time.monotonic()
    a.send("@+example=%s BATCH +f draft/multiline bob" % ("x" * 4000))
    for i in range(10):
        a.send("@batch=f PRIVMSG bob :%d %s" % (i, "w" * 390))
    a.send("BATCH -f")
    a.send("PING :after")
    a.expect(r"PONG \S+ :?after$", timeout=20)
    took = time.monotonic() - t0
    # ~8.4 KB: about 16 charges past the burst, 200 ms each
    assert took > 1.5, "batch bytes were not charged (%.2fs)" % took
    b.expect(r" BATCH -")
