"""ChanServ on the real binary: the CS alias, founder ops and AMODEs at
JOIN, and a registered channel's founder, topic (setter, time), modes,
key, limit, +f target and +b +e +I lists kept in the database across a
restart."""

import re
import sqlite3
import os

from ergotest import Server

NS = r"^:NickServ!NickServ@localhost NOTICE %s :"
CS = r"^:ChanServ!ChanServ@localhost NOTICE %s :"


def ns_expect(c, text):
    return c.expect(NS % re.escape(c.nick) + re.escape(text))


def cs_expect(c, text):
    return c.expect(CS % re.escape(c.nick) + re.escape(text))


def account(srv, nick, pw="pw"):
    """A client registered and logged in to the account nick."""
    c = srv.client(nick)
    c.send("NS REGISTER " + pw)
    ns_expect(c, "Account created")
    return c


def login(srv, nick, acct, pw="pw"):
    c = srv.client(nick)
    c.send("NS IDENTIFY %s %s" % (acct, pw))
    ns_expect(c, "You're now logged in as " + acct)
    return c


def unregister(c, chan, cmd="UNREGISTER"):
    """CS UNREGISTER with the code ChanServ asks for (Ergo's flow)."""
    c.send("CS %s %s" % (cmd, chan))
    code = cs_expect(c, "To confirm, run this command: /CS UNREGISTER "
                     "%s " % chan.lower()).split()[-1]
    c.send("CS %s %s %s" % (cmd, chan, code))
    cs_expect(c, "Channel %s is now unregistered" % chan.lower())


def registered_channel(srv, founder, chan):
    founder.send("JOIN " + chan)
    founder.expect(r" 366 ")
    founder.send("CS REGISTER " + chan)
    cs_expect(founder, "Channel %s successfully registered" % chan)


def test_cs_alias_and_chanserv_command():
    with Server() as srv:
        a = account(srv, "ann")
        a.send("CS HELP")
        cs_expect(a, "*** \x02ChanServ HELP\x02 ***")
        a.send("CHANSERV INFO #none")
        cs_expect(a, "Channel #none is not registered")
        a.send("CS BOGUS")
        cs_expect(a, "Unknown command")


def test_founder_gets_op_on_join():
    with Server() as srv:
        f = account(srv, "fay")
        registered_channel(srv, f, "#ops")
        other = srv.client("watcher")
        other.send("JOIN #ops")
        other.expect(r" 366 ")
        f.send("PART #ops")
        f.expect(r" PART #ops")
        f.send("JOIN #ops")
        f.expect(r" 366 ")
        other.expect(r"^:ChanServ!ChanServ@localhost MODE #ops \+q fay$")
        f.expect(r"^:ChanServ!ChanServ@localhost MODE #ops \+q fay$")


def test_amode_applied_on_join():
    with Server() as srv:
        f = account(srv, "gus")
        registered_channel(srv, f, "#am")
        account(srv, "hal").close()
        account(srv, "ivy").close()
        f.send("CS AMODE #am +o hal")
        cs_expect(f, "Successfully set persistent mode +o on hal")
        f.send("CS AMODE #am +v ivy")
        cs_expect(f, "Successfully set persistent mode +v on ivy")
        h = login(srv, "hal2", "hal")
        h.send("JOIN #am")
        f.expect(r"^:ChanServ!\S+ MODE #am \+o hal2$")
        i = login(srv, "ivy2", "ivy")
        i.send("JOIN #am")
        f.expect(r"^:ChanServ!\S+ MODE #am \+v ivy2$")
        # not logged in: nothing
        n = srv.client("nobody")
        n.send("JOIN #am")
        n.expect(r" 366 ")
        lines = f.sync()
        assert not [l for l in lines if "MODE #am" in l], lines


def test_creator_of_empty_registered_channel_gets_no_ops():
    with Server() as srv:
        f = account(srv, "jan")
        registered_channel(srv, f, "#own")
        f.send("PART #own")
        f.expect(r" PART #own")
        x = srv.client("squatter")
        x.send("JOIN #own")
        lines = x.lines_until(r" 366 ")
        names = [l for l in lines if " 353 " in l]
        assert names and "@squatter" not in names[0], lines
        assert not [l for l in x.sync() if "MODE #own +o" in l]
        x.send("MODE #own +i")
        x.expect(r" 482 ")


def test_channel_state_survives_restart():
    with Server() as srv:
        f = account(srv, "kim")
        registered_channel(srv, f, "#keep")
        f.send("CS OP #keep")
        f.send("TOPIC #keep :saved topic here")
        f.expect(r" TOPIC #keep :saved topic here")
        f.send("MODE #keep +msk-t sekrit")
        f.expect(r" MODE #keep ")
        f.send("MODE #keep +l 25")
        f.expect(r" MODE #keep \+l 25")
        f.send("TOPIC #keep")
        when = f.expect(r" 333 kim #keep ").split()[-1]
        srv.stop()
        srv.start()
        # someone without the key cannot bring it back empty
        x = srv.client("outsider")
        x.send("JOIN #keep")
        x.expect(r" 475 outsider #keep ")
        x.send("JOIN #keep sekrit")
        lines = x.lines_until(r" 366 ")
        text = "\n".join(lines)
        assert re.search(r" 332 outsider #keep :saved topic here$", text,
                         re.M), text
        assert re.search(r" 333 outsider #keep kim!~kim@\S+ %s$" % when,
                         text, re.M), text
        x.send("MODE #keep")
        modes = x.expect(r" 324 outsider #keep ")
        flags = modes.split()[4]
        for ch in "mskl":
            assert ch in flags, modes
        assert "t" not in flags, modes
        assert "25" in modes, modes
        # the founder comes back and gets ops from ChanServ
        f = login(srv, "kim", "kim")
        f.send("JOIN #keep sekrit")
        x.expect(r"^:ChanServ!\S+ MODE #keep \+q kim$")
        x.send("CS INFO #keep")
        cs_expect(x, "Founder: kim")


def test_forward_and_ban_lists_survive_restart_in_order():
    with Server() as srv:
        f = account(srv, "kim")
        registered_channel(srv, f, "#fl")
        f.send("JOIN #spill")
        f.expect(r" 366 kim #spill ")
        f.send("MODE #fl +f #spill")
        f.expect(r" MODE #fl \+f #spill$")
        f.send("MODE #fl +bbeI z!*@* a:spam *!*@trusted.example a:friend")
        f.expect(r" MODE #fl \+bbeI ")
        f.send("MODE #fl +b a!*@*")
        f.expect(r" MODE #fl \+b a!\*@\*$")
        f.send("MODE #fl -b a:spam")
        f.expect(r" MODE #fl -b a:spam$")
        f.send("MODE #fl +b")
        before = [l.split()[4:] for l in f.lines_until(r" 368 kim #fl ")
                  if " 367 " in l]
        assert [b[0] for b in before] == ["z!*@*", "a!*@*"], before
        srv.stop()
        srv.start()
        f = login(srv, "kim", "kim")
        f.send("JOIN #fl")
        f.expect(r" 366 kim #fl ")
        f.send("MODE #fl")
        f.expect(r" 324 kim #fl \+fnt #spill$")
        f.send("MODE #fl +b")
        after = [l.split()[4:] for l in f.lines_until(r" 368 kim #fl ")
                 if " 367 " in l]
        assert after == before, (before, after)	# masks, setters, times
        f.send("MODE #fl +e")
        f.expect(r" 348 kim #fl \*!\*@trusted\.example kim!")
        f.send("MODE #fl +I")
        f.expect(r" 346 kim #fl a:friend kim!")
        # the lists still hold: a banned user is kept out, +f forwards
        z = srv.client("z")
        z.send("JOIN #fl")
        z.expect(r" 474 z #fl :Cannot join channel \(\+b\)$")
        f.send("MODE #fl +l 1")
        f.expect(r" MODE #fl \+l 1$")
        y = srv.client("y")
        y.send("JOIN #fl")
        y.expect(r" 470 y #fl #spill :Forwarding to another channel$")
        y.expect(r"^:y!\S+ JOIN #spill$")
        # CS CLEAR access empties them for good
        f.send("CS CLEAR #fl access")
        cs_expect(f, "Successfully reset channel access")
        srv.stop()
        srv.start()
        f = login(srv, "kim", "kim")
        f.send("JOIN #fl")
        f.expect(r" 366 kim #fl ")
        f.send("MODE #fl +b")
        assert not [l for l in f.lines_until(r" 368 kim #fl ")
                    if " 367 " in l]


def test_founder_recreates_keyed_channel_without_the_key():
    with Server() as srv:
        f = account(srv, "lee")
        registered_channel(srv, f, "#lock")
        f.send("MODE #lock +ik lockkey")
        f.expect(r" MODE #lock \+ik lockkey")
        f.send("PART #lock")
        f.expect(r" PART #lock")
        f.send("JOIN #lock")
        f.expect(r"^:ChanServ!\S+ MODE #lock \+q lee$")
        f.send("MODE #lock")
        assert "ik" in f.expect(r" 324 lee #lock ").split()[4]


def test_unregistered_channels_are_not_kept():
    with Server() as srv:
        a = srv.client("mo")
        a.send("JOIN #tmp")
        a.expect(r" 366 ")
        a.send("TOPIC #tmp :gone after restart")
        a.expect(r" TOPIC #tmp ")
        srv.stop()
        srv.start()
        b = srv.client("mo")
        b.send("JOIN #tmp")
        lines = b.lines_until(r" 366 ")
        assert not [l for l in lines if " 332 " in l], lines
        assert [l for l in lines if "@mo" in l and " 353 " in l], lines


def test_dropped_channel_state_is_gone():
    with Server() as srv:
        f = account(srv, "ned")
        registered_channel(srv, f, "#dr")
        f.send("CS OP #dr")
        f.send("TOPIC #dr :old topic")
        f.expect(r" TOPIC #dr :old topic")
        unregister(f, "#dr", "DROP")
        db = sqlite3.connect(os.path.join(srv.dir, "ircd.db"))
        try:
            rows = db.execute("SELECT count(*) FROM channels").fetchall()
        finally:
            db.close()
        assert rows == [(0,)], rows


CHANLIMIT_REFUSAL = ("You have already registered the maximum number of "
                     "channels; try dropping some with /CS UNREGISTER")


def test_max_channels_per_account_refuses_past_the_limit():
    """channels { registration { max-channels-per-account N } } as in
    Ergo: the N+1st CS REGISTER from one account is refused with Ergo's
    wording; dropping one makes room again."""
    conf = "channels { registration { max-channels-per-account 3 } }"
    with Server(conf=conf) as srv:
        f = account(srv, "pat")
        for i in range(3):
            registered_channel(srv, f, "#lim%d" % i)
        f.send("JOIN #lim3")
        f.expect(r" 366 ")
        f.send("CS REGISTER #lim3")
        cs_expect(f, CHANLIMIT_REFUSAL)
        f.send("CS INFO #lim3")
        cs_expect(f, "Channel #lim3 is not registered")
        unregister(f, "#lim0")
        f.send("CS REGISTER #lim3")
        cs_expect(f, "Channel #lim3 successfully registered")


def test_max_channels_per_account_defaults_to_15():
    with Server() as srv:
        f = account(srv, "quin")
        for i in range(15):
            registered_channel(srv, f, "#d%d" % i)
        f.send("JOIN #d15")
        f.expect(r" 366 ")
        f.send("CS REGISTER #d15")
        cs_expect(f, CHANLIMIT_REFUSAL)


def test_opers_are_exempt_from_max_channels_per_account():
    from test_oper import genpasswd
    pw = "oper pass"
    conf = ("channels { registration { max-channels-per-account 1 } }\n"
            'oper admin { class server-admin  password "%s" }'
            % genpasswd(pw))
    with Server(conf=conf) as srv:
        f = account(srv, "rex")
        f.send("OPER admin :" + pw)
        f.expect_numeric("381")
        for i in range(3):
            registered_channel(srv, f, "#op%d" % i)
