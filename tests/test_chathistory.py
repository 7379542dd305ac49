"""History in memory and CHATHISTORY (irc_hist.c): LATEST BEFORE AFTER
AROUND BETWEEN TARGETS with msgid= and timestamp= references, limits,
the chathistory batch with server-time and msgid tags, FAIL replies,
who may read what (members, the two parties of a direct message),
channel-length, expire-time and autoreplay-on-join. Ordering follows
the examples of the IRCv3 spec and of irctest's chathistory module."""

import itertools
import re
import time

from ergotest import Server, Skip, split_line

srv = None
_ids = itertools.count(1)
FULL = ["batch", "server-time", "message-tags", "echo-message",
        "draft/chathistory"]


def setup_module():
    global srv
    srv = Server(conf="history { chathistory-maxmessages 50 }")


def nick(base="ch"):
    return "%s%d" % (base, next(_ids))


def chan():
    return "#hist%d" % next(_ids)


def sync(c):
    """PING round trip that tolerates tags; returns the lines before."""
    c.send("PING :hsync")
    return c.lines_until(r"PONG \S+ :?hsync$")[:-1]


def connect(name, want=FULL, required=()):
    """A registered client with as many of want as the server offers."""
    c = srv_client_raw()
    c.send("CAP LS 302")
    offered = set()
    while True:
        line = c.expect(r" CAP \* LS ")
        _, _, _, ps = split_line(line)
        offered |= {w.split("=")[0] for w in ps[-1].split()}
        if ps[2] != "*":
            break
    have = [w for w in want if w in offered]
    missing = [w for w in required if w not in offered]
    if missing:
        c.close()
        raise Skip("server offers no %s" % " ".join(missing))
    if have:
        c.send("CAP REQ :%s" % " ".join(have))
        c.expect(r" CAP \S+ ACK ")
    c.send("NICK %s" % name)
    c.send("USER %s 0 * :%s" % (name, name))
    c.send("CAP END")
    c.expect(r" (376|422) ")
    c.nick = name
    c.caps = set(have)
    return c


_server_for_client = [None]


def srv_client_raw():
    return (_server_for_client[0] or srv).client()


def join(c, ch):
    c.send("JOIN %s" % ch)
    c.expect(r" 366 \S+ %s " % re.escape(ch))


def history(c, cmd):
    """Sends a CHATHISTORY command; returns (batch params, messages) where
    messages are (tags, source, command, params) of the lines inside."""
    c.send(cmd)
    if "batch" in c.caps:
        first = split_line(c.expect(r" BATCH \+\S+ "))
        ref = first[3][0][1:]
        lines = c.lines_until(r" BATCH -%s$" % re.escape(ref))[:-1]
        msgs = [split_line(l) for l in lines]
        for m in msgs:
            assert m[0].get("batch") == ref, m
        return first[3][1:], msgs
    return None, [split_line(l) for l in sync(c)]


def texts(msgs):
    return [m[3][-1] for m in msgs if m[2] in ("PRIVMSG", "NOTICE")]


def say(c, target, n, prefix="message"):
    """n messages from c to target, a few ms apart; returns the echoes
    (tags, source, command, params) when c has echo-message."""
    echoes = []
    for i in range(n):
        c.send("PRIVMSG %s :%s %d" % (target, prefix, i))
        if "echo-message" in c.caps:
            echoes.append(split_line(c.expect(r" PRIVMSG \S+ :%s %d$"
                                         % (prefix, i))))
        time.sleep(0.003)
    sync(c)
    return echoes


def full_client(name=None):
    return connect(name or nick(), FULL, required=FULL)


def fail_of(c):
    line = c.expect(r" FAIL CHATHISTORY ")
    return split_line(line)[3]


# ---- advertising ----

def test_chathistory_isupport_and_cap():
    with srv.client() as c:
        c.send("CAP LS 302")
        ls = c.lines_until(r" CAP \* LS :")
        assert any("draft/chathistory" in l for l in ls), ls
        c.send("CAP END")
        lines = c.register(nick())
        assert any(" CHATHISTORY=50 " in l for l in lines), lines
        assert any(" MSGREFTYPES=msgid,timestamp " in l for l in lines)


# ---- the subcommands (irctest's expectations) ----

def setup_channel():
    c = full_client()
    ch = chan()
    join(c, ch)
    echoes = say(c, ch, 10)
    assert len({e[0]["msgid"] for e in echoes}) == 10
    return c, ch, echoes


def ids(msgs):
    return [m[0]["msgid"] for m in msgs]


def test_chathistory_latest():
    c, ch, e = setup_channel()
    with c:
        batch, got = history(c, "CHATHISTORY LATEST %s * 100" % ch)
        assert batch == ["chathistory", ch], batch
        assert ids(got) == ids(e)
        assert texts(got) == ["message %d" % i for i in range(10)]
        assert ids(history(c, "CHATHISTORY LATEST %s * 5" % ch)[1]) == \
            ids(e[-5:])
        assert ids(history(c, "CHATHISTORY LATEST %s * 1" % ch)[1]) == \
            ids(e[-1:])
        got = history(c, "CHATHISTORY LATEST %s msgid=%s 100"
                      % (ch, e[4][0]["msgid"]))[1]
        assert ids(got) == ids(e[5:])
        got = history(c, "CHATHISTORY LATEST %s timestamp=%s 100"
                      % (ch, e[4][0]["time"]))[1]
        assert ids(got) == ids(e[5:])


def test_chathistory_lines_carry_time_msgid_source():
    c, ch, e = setup_channel()
    with c:
        got = history(c, "CHATHISTORY LATEST %s * 3" % ch)[1]
        for g, want in zip(got, e[-3:]):
            assert g[0]["time"] == want[0]["time"]
            assert g[0]["msgid"] == want[0]["msgid"]
            assert g[1] == want[1] and g[1].startswith(c.nick + "!")
            assert g[2] == "PRIVMSG" and g[3][0] == ch
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$",
                        got[0][0]["time"])


def test_chathistory_replay_has_its_own_time_only():
    """A replayed line carries the message's time, once: not the time of
    the replay in front of it."""
    c, ch, e = setup_channel()
    with c:
        c.send("CHATHISTORY LATEST %s * 2" % ch)
        lines = c.lines_until(r" BATCH -")
        msgs = [l for l in lines if " PRIVMSG " in l]
        assert len(msgs) == 2, lines
        for l, want in zip(msgs, e[-2:]):
            tags = l.split(" ", 1)[0]
            assert tags.count("time=") == 1, l
            assert "time=%s" % want[0]["time"] in tags, l
            assert tags.count("batch=") == 1, l


def test_chathistory_in_labeled_response():
    """Inside a labeled-response batch the chathistory batch nests: its
    BATCH + line is in the label's batch, its lines only in its own."""
    c = connect(nick(), FULL + ["labeled-response"],
                required=FULL + ["labeled-response"])
    ch = chan()
    with c:
        join(c, ch)
        say(c, ch, 2)
        c.send("@label=abc CHATHISTORY LATEST %s * 10" % ch)
        lines = c.lines_until(r" BATCH -\S+$")
        outer = split_line(lines[0])
        assert outer[0].get("label") == "abc" and \
            outer[3][1] == "labeled-response", lines
        oref = outer[3][0][1:]
        inner = split_line(lines[1])
        assert inner[0].get("batch") == oref and \
            inner[3][1:] == ["chathistory", ch], lines
        iref = inner[3][0][1:]
        rest = c.lines_until(r" BATCH -%s$" % oref)
        body = [split_line(l) for l in lines[2:] + rest]
        msgs = [b for b in body if b[2] == "PRIVMSG"]
        assert texts(msgs) == ["message 0", "message 1"], body
        assert all(m[0].get("batch") == iref for m in msgs), body


def test_chathistory_before():
    c, ch, e = setup_channel()
    with c:
        got = history(c, "CHATHISTORY BEFORE %s msgid=%s 100"
                      % (ch, e[6][0]["msgid"]))[1]
        assert ids(got) == ids(e[:6])
        got = history(c, "CHATHISTORY BEFORE %s timestamp=%s 100"
                      % (ch, e[6][0]["time"]))[1]
        assert ids(got) == ids(e[:6])
        got = history(c, "CHATHISTORY BEFORE %s timestamp=%s 2"
                      % (ch, e[6][0]["time"]))[1]
        assert ids(got) == ids(e[4:6])


def test_chathistory_after():
    c, ch, e = setup_channel()
    with c:
        got = history(c, "CHATHISTORY AFTER %s msgid=%s 100"
                      % (ch, e[3][0]["msgid"]))[1]
        assert ids(got) == ids(e[4:])
        got = history(c, "CHATHISTORY AFTER %s timestamp=%s 100"
                      % (ch, e[3][0]["time"]))[1]
        assert ids(got) == ids(e[4:])
        got = history(c, "CHATHISTORY AFTER %s timestamp=%s 3"
                      % (ch, e[3][0]["time"]))[1]
        assert ids(got) == ids(e[4:7])


def test_chathistory_between():
    c, ch, e = setup_channel()
    with c:
        for kind in ("msgid", "time"):
            ref = "msgid" if kind == "msgid" else "timestamp"
            first, last = e[0][0][kind], e[-1][0][kind]
            got = history(c, "CHATHISTORY BETWEEN %s %s=%s %s=%s 100"
                          % (ch, ref, first, ref, last))[1]
            assert ids(got) == ids(e[1:-1]), kind
            got = history(c, "CHATHISTORY BETWEEN %s %s=%s %s=%s 100"
                          % (ch, ref, last, ref, first))[1]
            assert ids(got) == ids(e[1:-1]), kind
            # with a limit: the end nearest the first reference
            got = history(c, "CHATHISTORY BETWEEN %s %s=%s %s=%s 3"
                          % (ch, ref, first, ref, last))[1]
            assert ids(got) == ids(e[1:4]), kind
            got = history(c, "CHATHISTORY BETWEEN %s %s=%s %s=%s 3"
                          % (ch, ref, last, ref, first))[1]
            assert ids(got) == ids(e[-4:-1]), kind


def test_chathistory_around():
    c, ch, e = setup_channel()
    with c:
        got = history(c, "CHATHISTORY AROUND %s msgid=%s 1"
                      % (ch, e[7][0]["msgid"]))[1]
        assert ids(got) == ids(e[7:8])
        got = history(c, "CHATHISTORY AROUND %s msgid=%s 3"
                      % (ch, e[7][0]["msgid"]))[1]
        assert ids(got) == ids(e[6:9])
        got = history(c, "CHATHISTORY AROUND %s timestamp=%s 3"
                      % (ch, e[7][0]["time"]))[1]
        assert e[7][0]["msgid"] in ids(got) and len(got) == 3
        # near the start there is less before: the rest comes after
        got = history(c, "CHATHISTORY AROUND %s msgid=%s 4"
                      % (ch, e[0][0]["msgid"]))[1]
        assert ids(got) == ids(e[0:4])


def test_chathistory_unknown_msgid_empty_batch():
    c, ch, e = setup_channel()
    with c:
        for sub in ("BEFORE", "AFTER", "AROUND", "LATEST"):
            batch, got = history(c, "CHATHISTORY %s %s msgid=nosuchid 10"
                                 % (sub, ch))
            assert batch == ["chathistory", ch] and got == [], sub


def test_chathistory_limit_clamped_to_isupport():
    c = full_client()
    ch = chan()
    with c:
        join(c, ch)
        say(c, ch, 55)
        got = history(c, "CHATHISTORY LATEST %s * 1000" % ch)[1]
        assert len(got) == 50
        assert texts(got)[-1] == "message 54"
        assert texts(got)[0] == "message 5"


def test_chathistory_notice_kept_as_notice():
    c = full_client()
    ch = chan()
    with c:
        join(c, ch)
        c.send("NOTICE %s :a notice" % ch)
        sync(c)
        got = history(c, "CHATHISTORY LATEST %s * 10" % ch)[1]
        assert [(m[2], m[3][-1]) for m in got] == [("NOTICE", "a notice")]


def test_chathistory_statusmsg_not_kept():
    c = full_client()
    ch = chan()
    with c:
        join(c, ch)
        c.send("PRIVMSG @%s :ops only" % ch)
        c.send("PRIVMSG %s :everyone" % ch)
        sync(c)
        got = history(c, "CHATHISTORY LATEST %s * 10" % ch)[1]
        assert texts(got) == ["everyone"]


# ---- direct messages ----

def test_chathistory_direct_messages_both_parties():
    a, b = full_client(), full_client()
    with a, b:
        echoes = []
        for i in range(6):
            s, t = (a, b) if i % 2 == 0 else (b, a)
            s.send("PRIVMSG %s :dm %d" % (t.nick, i))
            echoes.append(split_line(s.expect(r" PRIVMSG \S+ :dm %d$" % i)))
            t.expect(r" PRIVMSG \S+ :dm %d$" % i)
            time.sleep(0.003)
        for who, other in ((a, b), (b, a)):
            batch, got = history(who, "CHATHISTORY LATEST %s * 10"
                                 % other.nick)
            assert batch == ["chathistory", other.nick]
            assert ids(got) == ids(echoes), who.nick
            assert texts(got) == ["dm %d" % i for i in range(6)]
        # the target is casemapped, and echoed as given
        batch, got = history(a, "CHATHISTORY LATEST %s * 10"
                             % b.nick.upper())
        assert batch == ["chathistory", b.nick.upper()]
        assert ids(got) == ids(echoes)
        got = history(a, "CHATHISTORY BEFORE %s msgid=%s 2"
                      % (b.nick, echoes[4][0]["msgid"]))[1]
        assert ids(got) == ids(echoes[2:4])


def test_chathistory_direct_messages_other_conversation_apart():
    a, b, c = full_client(), full_client(), full_client()
    with a, b, c:
        a.send("PRIVMSG %s :to b" % b.nick)
        a.send("PRIVMSG %s :to c" % c.nick)
        c.expect(r":to c$")     # else c's line may be read first
        c.send("PRIVMSG %s :c to a" % a.nick)
        b.expect(r":to b$")
        a.expect(r":c to a$")
        sync(a)
        assert texts(history(a, "CHATHISTORY LATEST %s * 10"
                             % b.nick)[1]) == ["to b"]
        assert texts(history(a, "CHATHISTORY LATEST %s * 10"
                             % c.nick)[1]) == ["to c", "c to a"]
        # b knows nothing of a's talk with c
        assert history(b, "CHATHISTORY LATEST %s * 10" % c.nick)[1] == []
        # "*": every direct message of the asker
        assert texts(history(a, "CHATHISTORY LATEST * * 10")[1]) == \
            ["to b", "to c", "c to a"]


def test_chathistory_message_to_self_kept_once():
    a = full_client()
    with a:
        a.send("PRIVMSG %s :note to self" % a.nick)
        sync(a)
        got = history(a, "CHATHISTORY LATEST %s * 10" % a.nick)[1]
        assert texts(got) == ["note to self"]


def test_chathistory_new_user_of_a_nick_reads_nothing():
    a, b = full_client(), full_client()
    name = b.nick
    with a:
        a.send("PRIVMSG %s :secret for the first %s" % (name, name))
        b.expect(r":secret for the first")
        b.send("QUIT")
        b.closed()
        b.close()
        with full_client(name) as b2:
            assert history(b2, "CHATHISTORY LATEST %s * 10"
                           % a.nick)[1] == []
            assert history(b2, "CHATHISTORY LATEST * * 10")[1] == []


# ---- who may read ----

def test_chathistory_invalid_target_nonexistent_and_not_member():
    a, b = full_client(), full_client()
    ch = chan()
    with a, b:
        a.send("CHATHISTORY LATEST #nosuchchannel%d * 10" % next(_ids))
        f = fail_of(a)
        assert f[:3] == ["CHATHISTORY", "INVALID_TARGET", "LATEST"], f
        join(b, ch)
        say(b, ch, 3)
        a.send("CHATHISTORY LATEST %s * 10" % ch)
        f = fail_of(a)
        assert f[:4] == ["CHATHISTORY", "INVALID_TARGET", "LATEST", ch], f
        # after leaving, no longer
        join(a, ch)
        assert len(history(a, "CHATHISTORY LATEST %s * 10" % ch)[1]) == 3
        a.send("PART %s" % ch)
        a.expect(r" PART %s" % ch)
        a.send("CHATHISTORY BEFORE %s timestamp=2100-01-01T00:00:00.000Z 10"
               % ch)
        assert fail_of(a)[1] == "INVALID_TARGET"


def test_chathistory_secret_channel_never_leaks():
    """+s, +p and both: a non-member gets INVALID_TARGET from every
    subcommand, even with the right msgids, and TARGETS never names the
    channel; a member who leaves can no longer read it."""
    for modes in ("+s", "+p", "+sp"):
        a, b = full_client(), full_client()
        ch = chan()
        with a, b:
            join(a, ch)
            a.send("MODE %s %s" % (ch, modes))
            a.expect(r" MODE %s \%s" % (ch, modes))
            e = say(a, ch, 3, "hush")
            m0, m2 = e[0][0]["msgid"], e[2][0]["msgid"]
            for sub in ("LATEST %s * 10", "LATEST %s msgid=" + m0 + " 10",
                        "BEFORE %s msgid=" + m2 + " 10",
                        "AFTER %s msgid=" + m0 + " 10",
                        "AROUND %s msgid=" + m0 + " 10",
                        "BETWEEN %s msgid=" + m0 + " msgid=" + m2 + " 10",
                        "BEFORE %s timestamp=2100-01-01T00:00:00.000Z 10",
                        "AROUND %s timestamp=2000-01-01T00:00:00.000Z 10"):
                b.send("CHATHISTORY " + sub % ch)
                f = fail_of(b)
                assert f[1:3] == ["INVALID_TARGET", sub.split()[0]], (sub, f)
            b.send("CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                   "timestamp=2100-01-01T00:00:00.000Z 100")
            lines = b.lines_until(r" BATCH -")
            assert not any(ch.lower() in l.lower() for l in lines), lines
            assert texts(history(a, "CHATHISTORY LATEST %s * 10" % ch)[1]) \
                == ["hush 0", "hush 1", "hush 2"]
            join(b, ch)
            assert texts(history(b, "CHATHISTORY LATEST %s * 10" % ch)[1]) \
                == ["hush 0", "hush 1", "hush 2"]
            b.send("PART %s" % ch)
            b.expect(r" PART %s" % ch)
            b.send("CHATHISTORY LATEST %s * 10" % ch)
            assert fail_of(b)[1] == "INVALID_TARGET"


def test_chathistory_channel_history_ends_with_the_channel():
    a = full_client()
    ch = chan()
    with a:
        join(a, ch)
        say(a, ch, 3)
        a.send("PART %s" % ch)
        a.expect(r" PART %s" % ch)
        with full_client() as b:
            join(b, ch)     # a new channel of the same name
            assert history(b, "CHATHISTORY LATEST %s * 10" % ch)[1] == []


# ---- TARGETS ----

def test_chathistory_targets():
    a, b, c = full_client(), full_client(), full_client()
    ch1, ch2, quiet = chan(), chan(), chan()
    with a, b, c:
        for x in (ch1, ch2, quiet):
            join(a, x)
        t0 = time.time()
        a.send("PRIVMSG %s :one" % ch1)
        # handled before b's line: both read in one pass could go b first
        a.expect(r"PRIVMSG %s :one$" % re.escape(ch1))
        time.sleep(0.01)
        b.send("PRIVMSG %s :from b" % a.nick)
        a.expect(r":from b$")
        time.sleep(0.01)
        a.send("PRIVMSG %s :two" % ch2)
        time.sleep(0.01)
        a.send("PRIVMSG %s :to c" % c.nick)
        c.expect(r":to c$")
        sync(a)
        lo = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t0 - 5))
        hi = "2100-01-01T00:00:00.000Z"
        a.send("CHATHISTORY TARGETS timestamp=%s timestamp=%s 10" % (lo, hi))
        first = split_line(a.expect(r" BATCH \+"))
        assert first[3][1:] == ["draft/chathistory-targets"], first
        lines = a.lines_until(r" BATCH -")[:-1]
        got = [split_line(l)[3] for l in lines]
        assert [g[0] for g in got] == ["TARGETS"] * 4, got
        assert [g[1] for g in got] == [ch1, b.nick, ch2, c.nick], got
        times = [g[2] for g in got]
        assert times == sorted(times)
        # a limit keeps the earliest going forwards, the latest backwards
        a.send("CHATHISTORY TARGETS timestamp=%s timestamp=%s 2" % (lo, hi))
        a.expect(r" BATCH \+")
        got = [split_line(l)[3][1] for l in a.lines_until(r" BATCH -")[:-1]]
        assert got == [ch1, b.nick], got
        a.send("CHATHISTORY TARGETS timestamp=%s timestamp=%s 2" % (hi, lo))
        a.expect(r" BATCH \+")
        got = [split_line(l)[3][1] for l in a.lines_until(r" BATCH -")[:-1]]
        assert got == [ch2, c.nick], got


# ---- bad commands ----

def test_chathistory_fail_replies():
    a = full_client()
    ch = chan()
    with a:
        join(a, ch)
        a.send("CHATHISTORY FOO %s * 10" % ch)
        assert fail_of(a)[:3] == ["CHATHISTORY", "UNKNOWN_COMMAND", "FOO"]
        a.send("CHATHISTORY LATEST %s *" % ch)
        assert fail_of(a)[:3] == ["CHATHISTORY", "NEED_MORE_PARAMS",
                                  "LATEST"]
        a.send("CHATHISTORY")
        assert fail_of(a)[1] == "NEED_MORE_PARAMS"
        for bad in ("LATEST %s * ten", "LATEST %s * -1", "BEFORE %s * 10",
                    "BEFORE %s timestamp=yesterday 10",
                    "AFTER %s msgid= 10", "AROUND %s foo=bar 10",
                    "BETWEEN %s * * 10"):
            a.send("CHATHISTORY " + bad % ch)
            f = fail_of(a)
            assert f[1] == "INVALID_PARAMS", (bad, f)
        a.send("CHATHISTORY TARGETS * * 10")
        assert fail_of(a)[1] == "INVALID_PARAMS"
        a.send("CHATHISTORY LATEST bad!nick * 10")
        assert fail_of(a)[1] == "INVALID_TARGET"


# ---- capabilities of the asker ----

def test_chathistory_without_tags_plain_lines():
    c = connect(nick(), ["draft/chathistory"])
    ch = chan()
    with c:
        join(c, ch)
        say(c, ch, 3)
        c.send("CHATHISTORY LATEST %s * 10" % ch)
        lines = sync(c)
        assert [l for l in lines if not l.startswith(":")] == [], lines
        assert [split_line(l)[3][-1] for l in lines] == \
            ["message 0", "message 1", "message 2"], lines


def test_chathistory_batch_only():
    c = connect(nick(), ["batch", "draft/chathistory"], required=["batch"])
    ch = chan()
    with c:
        join(c, ch)
        say(c, ch, 2)
        batch, got = history(c, "CHATHISTORY LATEST %s * 10" % ch)
        assert [sorted(m[0]) for m in got] == [["batch"], ["batch"]], got


# ---- configuration ----

def test_chathistory_channel_length_drops_oldest():
    global srv
    old = srv
    srv = Server(conf="history { channel-length 4 }")
    try:
        c = full_client()
        ch = chan()
        with c:
            join(c, ch)
            say(c, ch, 7)
            got = history(c, "CHATHISTORY LATEST %s * 100" % ch)[1]
            assert texts(got) == ["message %d" % i for i in range(3, 7)]
    finally:
        srv.cleanup()
        srv = old


def test_chathistory_client_length_drops_oldest():
    """history { client-length 3 }: a client keeps its last 3 direct
    messages, sent and received, whoever they were with."""
    global srv
    old = srv
    srv = Server(conf="history { client-length 3 }")
    try:
        a, b, c = full_client(), full_client(), full_client()
        with a, b, c:
            say(a, b.nick, 3, "to b")
            say(c, a.nick, 2, "from c")
            assert texts(history(a, "CHATHISTORY LATEST %s * 100"
                                 % b.nick)[1]) == ["to b 2"]
            assert texts(history(a, "CHATHISTORY LATEST %s * 100"
                                 % c.nick)[1]) == ["from c 0", "from c 1"]
            # b's own ring kept all three: they are b's last three
            assert texts(history(b, "CHATHISTORY LATEST %s * 100"
                                 % a.nick)[1]) == ["to b %d" % i
                                                   for i in range(3)]
    finally:
        srv.cleanup()
        srv = old


def test_chathistory_expire_time():
    global srv
    old = srv
    srv = Server(conf="history { expire-time 1s }")
    try:
        c = full_client()
        ch = chan()
        with c:
            join(c, ch)
            say(c, ch, 2, "old")
            time.sleep(1.3)
            say(c, ch, 1, "new")
            got = history(c, "CHATHISTORY LATEST %s * 100" % ch)[1]
            assert texts(got) == ["new 0"]
    finally:
        srv.cleanup()
        srv = old


def test_chathistory_disabled():
    """history { enabled no }: draft/chathistory and draft/event-playback
    are not offered (as in Ergo: a client that sees the cap would send
    CHATHISTORY and wait for history that never comes), nor are
    CHATHISTORY= and MSGREFTYPES= in 005; a CHATHISTORY sent anyway
    finds nothing."""
    global srv
    old = srv
    srv = Server(conf="history { enabled no }")
    try:
        with srv.client() as c:
            c.send("CAP LS 302")
            ls = " ".join(l.split(" :", 1)[1] for l in
                          c.lines_until(r" CAP \* LS :") if " LS " in l)
            offered = {w.split("=")[0] for w in ls.split()}
            assert "draft/chathistory" not in offered, ls
            assert "draft/event-playback" not in offered, ls
            assert "batch" in offered and "server-time" in offered, ls
            c.send("CAP REQ :batch draft/chathistory")
            c.expect(r"^:irc\.test CAP \* NAK :batch draft/chathistory$")
            c.send("CAP REQ :draft/event-playback")
            c.expect(r"^:irc\.test CAP \* NAK :draft/event-playback$")
            c.send("CAP END")
            lines = c.register(nick())
            isupport = " ".join(l for l in lines if " 005 " in l)
            assert "CHATHISTORY=" not in isupport, isupport
            assert "MSGREFTYPES=" not in isupport, isupport
        c = connect(nick(), FULL)
        ch = chan()
        with c:
            assert "draft/chathistory" not in c.caps, c.caps
            join(c, ch)
            say(c, ch, 2)
            assert history(c, "CHATHISTORY LATEST %s * 100" % ch)[1] == []
    finally:
        srv.cleanup()
        srv = old


def test_autoreplay_on_join():
    global srv
    # the default is 0: nothing replayed, even without draft/chathistory
    a = full_client()
    ch = chan()
    with a:
        join(a, ch)
        say(a, ch, 3)
        with connect(nick(), ["batch", "server-time", "message-tags"]) as b:
            b.send("JOIN %s" % ch)
            lines = b.lines_until(r" 366 ") + sync(b)
            assert not any(" PRIVMSG " in l or " BATCH " in l
                           for l in lines), lines
    old = srv
    srv = Server(conf="history { autoreplay-on-join 2 }")
    try:
        a = full_client()
        ch = chan()
        with a:
            join(a, ch)
            say(a, ch, 3)
            # without draft/chathistory: the latest 2, after the names
            b = connect(nick(), ["batch", "server-time", "message-tags"])
            with b:
                b.send("JOIN %s" % ch)
                lines = b.lines_until(r" 366 ")
                lines += sync(b)
                got = [split_line(l) for l in lines]
                replay = [g for g in got if g[2] == "PRIVMSG"]
                assert texts(replay) == ["message 1", "message 2"], lines
                if "batch" in b.caps:
                    assert any(g[2] == "BATCH" and g[3][1:] ==
                               ["chathistory", ch] for g in got), lines
            # with draft/chathistory: none
            c = full_client()
            with c:
                c.send("JOIN %s" % ch)
                c.expect(r" 366 ")
                assert not any(" PRIVMSG " in l for l in sync(c))
    finally:
        srv.cleanup()
        srv = old


# ---- draft/event-playback ----

def test_event_playback_topic_and_messages():
    """irctest's testChathistoryEventPlayback: with event-playback the
    TOPICs come back between the messages, in order; without, only the
    PRIVMSGs (the spec's MUST NOT)."""
    ev = connect(nick(), FULL + ["draft/event-playback"],
                 required=FULL + ["draft/event-playback"])
    plain = full_client()
    ch = chan()
    with ev, plain:
        join(ev, ch)
        join(plain, ch)
        sync(ev)
        for i in range(3):
            ev.send("TOPIC %s :topic %d" % (ch, i))
            ev.expect(r" TOPIC %s :topic %d$" % (ch, i))
            ev.send("PRIVMSG %s :message %d" % (ch, i))
            ev.expect(r" PRIVMSG %s :message %d$" % (ch, i))
        sync(plain)
        got = history(ev, "CHATHISTORY LATEST %s * 100" % ch)[1]
        kinds = [(m[2], m[3][-1]) for m in got if m[2] in ("TOPIC",
                                                         "PRIVMSG")]
        assert kinds == [("TOPIC", "topic 0"), ("PRIVMSG", "message 0"),
                         ("TOPIC", "topic 1"), ("PRIVMSG", "message 1"),
                         ("TOPIC", "topic 2"), ("PRIVMSG", "message 2")]
        assert any(m[2] == "JOIN" and m[1].startswith(plain.nick + "!")
                   for m in got), got
        assert all("msgid" in m[0] and "time" in m[0] for m in got)
        # limits count what the asker gets
        got = history(ev, "CHATHISTORY LATEST %s * 2" % ch)[1]
        assert [m[2] for m in got] == ["TOPIC", "PRIVMSG"], got
        got = history(plain, "CHATHISTORY LATEST %s * 100" % ch)[1]
        assert {m[2] for m in got} == {"PRIVMSG"}, got
        got = history(plain, "CHATHISTORY LATEST %s * 2" % ch)[1]
        assert texts(got) == ["message 1", "message 2"]


def test_event_playback_part_kick_quit_nick_mode():
    ev = connect(nick(), FULL + ["draft/event-playback"],
                 required=FULL + ["draft/event-playback"])
    b, d = full_client(), full_client()
    ch = chan()
    with ev, b, d:
        for x in (ev, b, d):
            join(x, ch)
        newnick = nick("renamed")
        b.send("NICK %s" % newnick)
        b.expect(r" NICK :?%s" % newnick)
        ev.send("MODE %s +m" % ch)
        ev.expect(r" MODE %s \+m" % ch)
        ev.send("KICK %s %s :out" % (ch, d.nick))
        ev.expect(r" KICK %s %s" % (ch, d.nick))
        b.send("QUIT :gone now")
        b.closed()
        sync(ev)
        got = history(ev, "CHATHISTORY LATEST %s * 100" % ch)[1]
        cmds = [m[2] for m in got]
        for want in ("NICK", "MODE", "KICK", "QUIT"):
            assert want in cmds, (want, got)
        assert cmds.index("NICK") < cmds.index("MODE") < \
            cmds.index("KICK") < cmds.index("QUIT")
        quit = [m for m in got if m[2] == "QUIT"][0]
        assert quit[1].startswith(newnick + "!") and \
            quit[3][-1] == "Quit: gone now", quit


def test_event_playback_tagmsg_only_with_a_stored_tag():
    """+typing is not in history.tagmsg-storage, +draft/persist is."""
    ev = connect(nick(), FULL + ["draft/event-playback"],
                 required=FULL + ["draft/event-playback"])
    plain = full_client()
    ch = chan()
    with ev, plain:
        join(ev, ch)
        join(plain, ch)
        ev.send("@+typing=active TAGMSG %s" % ch)
        ev.send("@+draft/persist;+client-only-tag-test=success TAGMSG %s"
                % ch)
        echo = split_line(ev.expect(r"client-only-tag-test.* TAGMSG "))
        sync(ev)
        got = history(ev, "CHATHISTORY LATEST %s * 10" % ch)[1]
        tag = [m for m in got if m[2] == "TAGMSG"]
        assert len(tag) == 1, got
        assert tag[0][0].get("+client-only-tag-test") == "success"
        assert tag[0][0]["msgid"] == echo[0]["msgid"]
        assert not any(m[2] == "TAGMSG"
                       for m in history(plain, "CHATHISTORY LATEST %s * 10"
                                        % ch)[1])
        # and in a direct conversation
        ev.send("@+draft/persist;+client-only-tag-test=dm TAGMSG %s"
                % plain.nick)
        sync(ev)
        got = history(ev, "CHATHISTORY LATEST %s * 10" % plain.nick)[1]
        assert [m[0].get("+client-only-tag-test") for m in got
                if m[2] == "TAGMSG"] == ["dm"], got
        assert not any(m[2] == "TAGMSG" for m in history(
            plain, "CHATHISTORY LATEST %s * 10" % ev.nick)[1])


def test_autoreplay_skips_events():
    global srv
    old = srv
    srv = Server(conf="history { autoreplay-on-join 3 }")
    try:
        a = full_client()
        ch = chan()
        with a:
            join(a, ch)
            a.send("PRIVMSG %s :only message" % ch)
            a.send("TOPIC %s :a topic" % ch)
            sync(a)
            b = connect(nick(), ["batch"])
            with b:
                b.send("JOIN %s" % ch)
                lines = b.lines_until(r" 366 ") + sync(b)
                assert [split_line(l)[3][-1] for l in lines
                        if " PRIVMSG " in l] == ["only message"], lines
                assert not any(" TOPIC %s" % ch in l for l in lines), lines
    finally:
        srv.cleanup()
        srv = old


def test_chathistory_account_tag_as_sent():
    """account-tag clients see the sender's account of the time."""
    a = connect(nick(), FULL + ["account-tag"],
                required=FULL + ["account-tag"])
    ch = chan()
    with a:
        a.send("NICKSERV REGISTER sesame-%s" % a.nick)
        a.expect(r" 900 ", timeout=15)
        join(a, ch)
        echo = say(a, ch, 1)[0]
        got = history(a, "CHATHISTORY LATEST %s * 1" % ch)[1]
        assert got[0][0].get("account") == a.nick, got
        assert echo[0].get("account") == a.nick, echo
        with full_client() as b:     # no account-tag: no account=
            join(b, ch)
            got = history(b, "CHATHISTORY LATEST %s * 1" % ch)[1]
            assert "account" not in got[0][0], got
