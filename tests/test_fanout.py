"""Fan-out in a large channel: a channel of 32 members or more delivers
through its delivery array (each session's connection and caps, made
from the members once and marked stale by any change), so these tests
use channels of 34 and more and check that every change reaches the
next message at once: caps asked for after joining, a session attached
or gone, a part, a kick, a join, a connection that drops, an always-on
user with no session. (The ASan build uses the array for every channel
and checks it against a fresh build at each message.)"""

from ergotest import Server, account_client, attach_client

CROWD = 32              # bystanders: with two more, above the threshold
SRV = None
BY = []


def setup_module():
    global SRV
    SRV = Server(server="connection-limits { max-per-ip 0  throttle no }",
                 conf="accounts { multiclient { max-sessions 3 } }")
    for i in range(CROWD):
        BY.append(SRV.client("by%d" % i))


def teardown_module():
    if SRV is not None:
        SRV.cleanup()


def crowd(ch):
    for c in BY:
        c.send("JOIN " + ch)
    for i, c in enumerate(BY):
        c.expect(r" 366 by%d %s " % (i, ch))


def join(c, nick, ch):
    c.send("JOIN " + ch)
    c.expect(r" 366 %s %s " % (nick, ch))


def member(nick, ch, caps=None):
    c = SRV.client(nick, caps=caps)
    join(c, nick, ch)
    return c


def say(c, ch, text):
    """c says text in ch; returns once the server has handled it (and
    so delivered it), with what c received meanwhile."""
    c.send("PRIVMSG %s :%s" % (ch, text))
    return c.sync()


def said(c, text):
    """The lines ending in text that c received (consumed), after a PING
    round trip: call it once the sender's line was handled (say)."""
    return [l for l in c.sync() if l.endswith(" :" + text)]


def test_caps_asked_for_after_joining_change_the_next_line():
    crowd("#ftags")
    w = member("fw", "#ftags")
    s = member("fs", "#ftags", caps="message-tags")
    s.send("PRIVMSG #ftags :one")
    line = w.expect(r"PRIVMSG #ftags :one$")
    assert line.startswith(":fs!"), line
    w.send("CAP REQ :message-tags server-time")
    w.expect(r" CAP fw ACK :")
    s.send("PRIVMSG #ftags :two")
    line = w.expect(r"PRIVMSG #ftags :two$")
    assert line.startswith("@") and "time=" in line and "msgid=" in line, \
        line
    # a TAGMSG reaches only message-tags sessions: now w too
    s.send("@+typing=active TAGMSG #ftags")
    line = w.expect(r" TAGMSG #ftags$")
    assert "+typing=active" in line, line
    w.send("CAP REQ :-message-tags -server-time")
    w.expect(r" CAP fw ACK :")
    s.send("PRIVMSG #ftags :three")
    line = w.expect(r"PRIVMSG #ftags :three$")
    assert line.startswith(":fs!"), line
    s.send("@+typing=done TAGMSG #ftags")
    s.send("PRIVMSG #ftags :four")
    lines = w.lines_until(r"PRIVMSG #ftags :four$")
    assert not any(" TAGMSG " in l for l in lines), lines
    for c in (w, s):
        c.close()


def test_parted_kicked_and_joining_members():
    s = member("fs2", "#fpart")         # made it: its operator
    crowd("#fpart")
    w = member("fw2", "#fpart")
    s.send("PRIVMSG #fpart :one")
    w.expect(r"PRIVMSG #fpart :one$")
    w.send("PART #fpart")
    w.expect(r" PART #fpart")
    say(s, "#fpart", "two")
    assert said(BY[5], "two"), "a bystander missed it"
    assert not said(w, "two")
    # a member joining a channel that has had a message gets the next
    x = member("fx2", "#fpart")
    say(s, "#fpart", "three")
    x.expect(r"PRIVMSG #fpart :three$")
    assert not said(w, "three")
    join(w, "fw2", "#fpart")
    s.send("PRIVMSG #fpart :four")
    w.expect(r"PRIVMSG #fpart :four$")
    x.expect(r"PRIVMSG #fpart :four$")
    # kicked, x hears nothing more
    s.send("KICK #fpart fx2 :out")
    x.expect(r" KICK #fpart fx2 :out")
    say(s, "#fpart", "five")
    w.expect(r"PRIVMSG #fpart :five$")
    assert not said(x, "five")
    for c in (s, w, x):
        c.close()


def test_sessions_attached_and_detached_between_messages():
    a1 = account_client(SRV, "falice")
    join(a1, "falice", "#fmulti")
    crowd("#fmulti")
    s = member("fs3", "#fmulti")
    s.send("PRIVMSG #fmulti :one")
    a1.expect(r"PRIVMSG #fmulti :one$")
    a2 = attach_client(SRV, "falice")
    a2.expect(r" 366 falice #fmulti ")
    s.send("PRIVMSG #fmulti :two")
    a1.expect(r"PRIVMSG #fmulti :two$")
    a2.expect(r"PRIVMSG #fmulti :two$")
    assert not any(l.endswith(":one") for l in a2.received), a2.received
    # what one session says reaches the other once, and the sender not
    assert not [l for l in say(a1, "#fmulti", "from-a1") if "from-a1" in l]
    assert len(said(a2, "from-a1")) == 1
    assert len(said(BY[3], "from-a1")) == 1
    a2.send("QUIT :bye")
    a2.closed()
    s.send("PRIVMSG #fmulti :three")
    a1.expect(r"PRIVMSG #fmulti :three$")
    assert len(said(BY[7], "three")) == 1
    for c in (a1, s):
        c.close()


def test_a_dropped_connection_and_an_always_on_user_without_sessions():
    ao = account_client(SRV, "fbob", always_on=True)
    join(ao, "fbob", "#fao")
    crowd("#fao")
    s = member("fs4", "#fao")
    d = member("fdrop", "#fao")
    s.send("PRIVMSG #fao :one")
    ao.expect(r"PRIVMSG #fao :one$")
    d.expect(r"PRIVMSG #fao :one$")
    # gone without a word, and the always-on user's only session too
    d.close()
    ao.send("QUIT :later")
    ao.closed()
    for i in range(20):
        s.send("PRIVMSG #fao :while-away-%d" % i)
    s.sync()
    assert len(said(BY[9], "while-away-19")) == 1
    s.send("NAMES #fao")
    names = [n.lstrip("~&@%+") for n in
             s.expect(r" 353 fs4 \S #fao :").split(":", 2)[2].split()]
    assert "fbob" in names and "fdrop" not in names, names
    b = attach_client(SRV, "fbob")
    b.expect(r" 366 fbob #fao ")
    s.send("PRIVMSG #fao :back")
    lines = b.lines_until(r"PRIVMSG #fao :back$")
    live = [l for l in lines if "while-away" in l and "batch=" not in l]
    assert not live, live           # what it missed is history, if any
    for c in (b, s):
        c.close()


def test_echo_and_labels_in_a_large_channel():
    op = member("fop5", "#flabel", caps="labeled-response batch")
    crowd("#flabel")
    caps = "echo-message labeled-response batch message-tags"
    e = SRV.client("fecho", caps=caps)
    e.send("@label=j1 JOIN #flabel")
    lines = e.lines_until(r" 366 fecho #flabel ")
    joins = [l for l in lines if " JOIN #flabel" in l]
    assert len(joins) == 1, lines
    assert any("label=j1" in l for l in lines[:2]), lines
    e.lines_until(r"^(@\S+ )?:\S+ BATCH -")
    e.send("@label=m1 PRIVMSG #flabel :hello")
    line = e.expect(r"PRIVMSG #flabel :hello$")
    assert "label=m1" in line, line
    assert not said(e, "hello")
    line = BY[11].expect(r"PRIVMSG #flabel :hello$")
    assert "label=" not in line, line
    # another's labeled command does not tag what the others hear
    op.send("@label=x9 TOPIC #flabel :new topic")
    line = op.expect(r" TOPIC #flabel :new topic$")
    assert "label=x9" in line, line
    line = e.expect(r" TOPIC #flabel :new topic$")
    assert "label=" not in line, line
    line = BY[12].expect(r" TOPIC #flabel :new topic$")
    assert line.startswith(":fop5!"), line
    for c in (e, op):
        c.close()


def test_lines_sent_together_arrive_in_the_order_they_were_sent():
    """A large channel's messages of one read are fanned out together:
    whatever else reaches a member meanwhile (a private message, another
    channel's line, a TAGMSG, a KICK) must still arrive in order."""
    s = member("fs6", "#forder1", caps="message-tags")
    join(s, "fs6", "#forder2")
    crowd("#forder1")
    crowd("#forder2")
    w = member("fw6", "#forder1")
    w.send("CAP REQ :message-tags")
    w.expect(r" CAP fw6 ACK :")
    join(w, "fw6", "#forder2")
    lines = ["PRIVMSG #forder1 :a", "PRIVMSG fw6 :b", "PRIVMSG #forder2 :c",
             "PRIVMSG #forder1 :d", "NOTICE #forder1 :e",
             "@+typing=active TAGMSG #forder1", "PRIVMSG #forder1 :f",
             "KICK #forder1 fw6 :out", "PRIVMSG #forder1 :g",
             "PRIVMSG #forder2 :h"]
    s.send_raw("".join(l + "\r\n" for l in lines))
    got = w.lines_until(r"PRIVMSG #forder2 :h$")
    seen = []
    for l in got:
        for word in (" :a", " :b", " :c", " :d", " :e", " TAGMSG ", " :f",
                     " KICK ", " :g", " :h"):
            if l.endswith(word) or (word.strip() in ("TAGMSG", "KICK") and
                                    word in l):
                seen.append(word.strip(" :"))
    assert seen == ["a", "b", "c", "d", "e", "TAGMSG", "f", "KICK", "h"], got
    # every bystander of both: its lines in order, once each
    got = BY[20].lines_until(r"PRIVMSG #forder2 :h$")
    mine = [l.rsplit(" :", 1)[-1] for l in got if l.startswith(":fs6!") and
            (" PRIVMSG " in l or " NOTICE " in l)]
    assert mine == ["a", "c", "d", "e", "f", "g", "h"], got
    for c in (s, w):
        c.close()
