"""draft/read-marker (irc_markread.c): the spec's examples, MARKREAD get
and set, a marker that only moves forward, MARKREAD after JOIN (before
366), every session of an account kept in step, markers of an account
kept in the database across a restart, per-connection markers for
clients without an account, standard-replies errors, and nobody else
ever told."""

import re

from ergotest import Server

CAP = "draft/read-marker"
NS = r"(^| ):NickServ!NickServ@localhost NOTICE %s :"
T1 = "2019-01-04T14:33:26.123Z"
T2 = "2019-01-05T08:00:00.000Z"
T0 = "2018-12-31T23:59:59.999Z"


def client(srv, nick, caps=(CAP,), register=False, identify=None):
    c = srv.client(nick, realname=nick, caps=caps or None)
    if register:
        c.send("NS REGISTER pw")
        c.expect(NS % nick + "Account created")
    if identify:
        c.send("NS IDENTIFY %s pw" % identify)
        c.expect(NS % nick + re.escape("You're now logged in as "
                                       + identify))
    return c


def mr(target, value):
    return r"^:irc\.test MARKREAD %s %s$" % (re.escape(target),
                                             re.escape(value))


def no_markread(c):
    lines = c.sync()
    assert not any(" MARKREAD " in l for l in lines), lines


def test_the_cap_is_offered():
    with Server() as srv:
        c = srv.client()
        c.send("CAP LS 302")
        line = c.expect(r" CAP \* LS ")
        assert CAP in line.split(":", 2)[-1].split(), line


def test_spec_examples_join_set_and_get():
    with Server() as srv:
        a = client(srv, "amark", register=True)
        # a channel without any set timestamp: '*', before 366
        a.send("JOIN #channel")
        lines = a.lines_until(r" 366 amark #channel ")
        i = [n for n, l in enumerate(lines) if " MARKREAD " in l]
        j = [n for n, l in enumerate(lines) if " JOIN " in l]
        assert len(i) == 1 and j and j[0] < i[0], lines
        assert re.match(mr("#channel", "*"), lines[i[0]]), lines
        # updating after reading a message
        a.send("MARKREAD #channel timestamp=" + T1)
        a.expect(mr("#channel", "timestamp=" + T1))
        # joining again gives the stored one
        a.send("PART #channel")
        a.expect(r" PART #channel")
        a.send("JOIN #channel")
        a.expect(mr("#channel", "timestamp=" + T1))
        # asking about a user target
        a.send("MARKREAD target")
        a.expect(mr("target", "*"))
        a.send("MARKREAD target timestamp=" + T1)
        a.expect(mr("target", "timestamp=" + T1))
        a.send("MARKREAD target")
        a.expect(mr("target", "timestamp=" + T1))
        # targets are casefolded: #CHANNEL is #channel
        a.send("MARKREAD #CHANNEL")
        a.expect(mr("#channel", "timestamp=" + T1))


def test_the_marker_only_moves_forward():
    with Server() as srv:
        a = client(srv, "fwd", register=True)
        a.send("MARKREAD #c timestamp=" + T1)
        a.expect(mr("#c", "timestamp=" + T1))
        # older or equal: the stored value comes back, nothing changes
        a.send("MARKREAD #c timestamp=" + T0)
        a.expect(mr("#c", "timestamp=" + T1))
        a.send("MARKREAD #c timestamp=" + T1)
        a.expect(mr("#c", "timestamp=" + T1))
        a.send("MARKREAD #c timestamp=" + T2)
        a.expect(mr("#c", "timestamp=" + T2))
        a.send("MARKREAD #c")
        a.expect(mr("#c", "timestamp=" + T2))


def test_two_sessions_of_one_account_stay_in_step():
    with Server() as srv:
        one = client(srv, "sess1", register=True)
        two = client(srv, "sess2", identify="sess1")
        nocap = client(srv, "sess3", caps=(), identify="sess1")
        other = client(srv, "stranger", register=True)
        one.send("MARKREAD #room timestamp=" + T1)
        one.expect(mr("#room", "timestamp=" + T1))
        two.expect(mr("#room", "timestamp=" + T1))
        # the other session moves it on; the first follows
        two.send("MARKREAD #room timestamp=" + T2)
        two.expect(mr("#room", "timestamp=" + T2))
        one.expect(mr("#room", "timestamp=" + T2))
        # a step back tells only the one who sent it
        one.send("MARKREAD #room timestamp=" + T0)
        one.expect(mr("#room", "timestamp=" + T2))
        no_markread(two)
        # a session without the cap is not told; another user never
        no_markread(nocap)
        no_markread(other)
        other.send("MARKREAD #room")
        other.expect(mr("#room", "*"))
        # a session with the cap that joins learns the marker
        two.send("JOIN #room")
        two.expect(mr("#room", "timestamp=" + T2))


def test_markers_of_an_account_survive_a_restart():
    with Server() as srv:
        a = client(srv, "keep", register=True)
        a.send("MARKREAD #kept timestamp=" + T1)
        a.expect(mr("#kept", "timestamp=" + T1))
        a.send("MARKREAD buddy timestamp=" + T2)
        a.expect(mr("buddy", "timestamp=" + T2))
        assert srv.stop() == 0
        srv.start()
        a = client(srv, "keep", identify="keep")
        a.send("JOIN #kept")
        a.expect(mr("#kept", "timestamp=" + T1))
        a.send("MARKREAD buddy")
        a.expect(mr("buddy", "timestamp=" + T2))
        # and it still only moves forward
        a.send("MARKREAD buddy timestamp=" + T1)
        a.expect(mr("buddy", "timestamp=" + T2))


def test_without_an_account_markers_live_with_the_connection():
    with Server() as srv:
        g = client(srv, "guest1")
        g.send("MARKREAD #g timestamp=" + T1)
        g.expect(mr("#g", "timestamp=" + T1))
        g.send("MARKREAD #g timestamp=" + T0)
        g.expect(mr("#g", "timestamp=" + T1))
        g.send("JOIN #g")
        g.expect(mr("#g", "timestamp=" + T1))
        # another connection, even one taking the nick later, has none
        g.send("QUIT")
        g.closed()
        h = client(srv, "guest1")
        h.send("MARKREAD #g")
        h.expect(mr("#g", "*"))


def test_a_client_without_the_cap_gets_nothing_on_join():
    with Server() as srv:
        c = client(srv, "plain", caps=(), register=True)
        c.send("MARKREAD #p timestamp=" + T1)
        c.expect(mr("#p", "timestamp=" + T1))     # it asked: it is told
        c.send("JOIN #p")
        lines = c.lines_until(r" 366 plain #p ")
        assert not any(" MARKREAD " in l for l in lines), lines


def test_bad_markread_gets_standard_replies():
    with Server() as srv:
        c = client(srv, "bad", register=True)
        c.send("MARKREAD")
        c.expect(r"^:irc\.test FAIL MARKREAD NEED_MORE_PARAMS "
                 r":Missing parameters$")
        c.send("MARKREAD #c *")
        c.expect(r"^:irc\.test FAIL MARKREAD INVALID_PARAMS \* :")
        c.send("MARKREAD #c 2019-01-04T14:33:26.123Z")
        c.expect(r"^:irc\.test FAIL MARKREAD INVALID_PARAMS \S+ :")
        c.send("MARKREAD #c timestamp=yesterday")
        c.expect(r"^:irc\.test FAIL MARKREAD INVALID_PARAMS "
                 r"timestamp=yesterday :")
        c.send("MARKREAD #c timestamp=2999-01-01T00:00:00.000Z")
        c.expect(r"^:irc\.test FAIL MARKREAD INVALID_PARAMS \S+ "
                 r":Timestamp is in the future$")
        c.send("MARKREAD bad,nick")
        c.expect(r"^:irc\.test FAIL MARKREAD INVALID_PARAMS bad,nick :")
        # nothing was stored by any of that
        c.send("MARKREAD #c")
        c.expect(mr("#c", "*"))
