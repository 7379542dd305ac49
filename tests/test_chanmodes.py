"""Ergo's channel ranks and modes: +q +a +h next to +o +v (PREFIX,
multi-prefix, STATUSMSG), what each rank may do (MODE, KICK, TOPIC,
INVITE), the channel modes +R +M +C +u +U +f, the user modes +R (with
ACCEPT) and +T, and the extbans m: and a:."""

import re

from ergotest import Server

NS = r"^:NickServ!NickServ@localhost NOTICE %s :"
CS = r"^:ChanServ!ChanServ@localhost NOTICE %s :"
RANKS = ("ad", "op", "ha", "vo", "pl")	# below the founder "fo"


def E(s):
    return re.escape(s)


def join(c, chan, key=None):
    c.send("JOIN %s%s" % (chan, " " + key if key else ""))
    return c.lines_until(r" 366 %s %s :" % (E(c.nick), E(chan)))


def account(srv, nick, pw="pw"):
    c = srv.client(nick)
    c.send("NS REGISTER " + pw)
    c.expect(NS % E(nick) + E("Account created"))
    return c


def mode(c, chan, change, echo=None):
    c.send("MODE %s %s" % (chan, change))
    return c.expect(r"^:%s!\S+ MODE %s %s$" % (E(c.nick), E(chan),
                                               E(echo or change)))


def ranked(srv, chan="#r"):
    """The founder fo (an account, +q by ChanServ) and one member of
    each rank below: ad (+a), op (+o), ha (+h), vo (+v), pl (none)."""
    fo = account(srv, "fo")
    join(fo, chan)
    fo.send("CS REGISTER " + chan)
    fo.expect(r"^:ChanServ!\S+ MODE %s \+q fo$" % E(chan))
    cs = {"fo": fo}
    for n in RANKS:
        cs[n] = srv.client(n)
        join(cs[n], chan)
    mode(fo, chan, "-o fo")
    for n, m in (("ad", "a"), ("op", "o"), ("ha", "h"), ("vo", "v")):
        mode(fo, chan, "+%s %s" % (m, n))
    for c in cs.values():
        c.sync()
    return cs


def names(c, chan):
    c.send("NAMES " + chan)
    lines = c.lines_until(r" 366 ")
    return " ".join(l.split(" :", 1)[1] for l in lines if " 353 " in l)


# ---- prefixes ----

def test_prefixes_in_names_highest_only_and_multi_prefix():
    with Server() as srv:
        cs = ranked(srv)
        got = names(cs["pl"], "#r").split()
        for want in ("~fo", "&ad", "@op", "%ha", "+vo", "pl"):
            assert want in got, got
        mode(cs["fo"], "#r", "+ov ad ad")
        assert "&ad" in names(cs["pl"], "#r").split()
        m = srv.client("mp", caps="multi-prefix")
        assert "~&@+ad" not in names(m, "#r").split()
        assert "&@+ad" in names(m, "#r").split(), names(m, "#r")


def test_whois_and_who_show_the_highest_rank():
    with Server() as srv:
        cs = ranked(srv)
        pl = cs["pl"]
        pl.send("WHOIS ha")
        assert re.search(r" 319 pl ha :.*%#r", pl.expect(r" 319 "))
        pl.send("WHO #r")
        lines = pl.lines_until(r" 315 ")
        who = [l for l in lines if " 352 " in l and " ad " in l]
        assert who and re.search(r" H&", who[0]), lines


def test_statusmsg_reaches_the_rank_and_above():
    with Server() as srv:
        cs = ranked(srv)
        for target, reach in (("~#r", {"fo"}), ("&#r", {"fo", "ad"}),
                              ("@#r", {"fo", "ad", "op"}),
                              ("%#r", {"fo", "ad", "op", "ha"}),
                              ("+#r", {"fo", "ad", "op", "ha", "vo"})):
            cs["pl"].send("PRIVMSG %s :to %s" % (target, target))
            cs["pl"].sync()
            for n, c in cs.items():
                if n == "pl":
                    continue
                got = [l for l in c.sync() if "to %s" % target in l]
                assert bool(got) == (n in reach), (target, n, got)


# ---- what each rank may do ----

def test_prefix_modes_each_rank_may_give():
    """Ergo: founders give anything; admins and ops give o h v; halfops
    give v; voices and plain members nothing (482)."""
    may = {"ad": "ohv", "op": "ohv", "ha": "v", "vo": "", "pl": ""}
    with Server() as srv:
        cs = ranked(srv)
        x = srv.client("x")
        join(x, "#r")
        for n, letters in may.items():
            c = cs[n]
            for m in "qaohv":
                c.send("MODE #r +%s x" % m)
                if m in letters:
                    c.expect(r"^:%s!\S+ MODE #r \+%s x$" % (n, m))
                    mode(c, "#r", "-%s x" % m)
                else:
                    c.expect(r" 482 %s #r :You're not a channel "
                             r"operator$" % n)
        mode(cs["fo"], "#r", "+q x")
        mode(cs["fo"], "#r", "+a x")
        mode(cs["fo"], "#r", "-qa x x")


def test_anyone_may_take_a_mode_off_themselves():
    with Server() as srv:
        cs = ranked(srv)
        for n, m in (("ad", "a"), ("op", "o"), ("ha", "h"), ("vo", "v")):
            mode(cs[n], "#r", "-%s %s" % (m, n))
        assert names(cs["pl"], "#r").split().count("ad") == 1


def test_kick_by_rank_as_ergo():
    """Founders kick anyone, admins and ops anyone below admin (ops kick
    ops), halfops only voices and plain members; nobody kicks the
    founder's account."""
    may = {"ad": {"op2", "ha", "vo", "pl"}, "op": {"op2", "ha", "vo", "pl"},
           "ha": {"vo", "pl"}, "vo": set(), "pl": set()}
    for kicker, victims in may.items():
        with Server() as srv:
            cs = ranked(srv)
            op2 = srv.client("op2")
            join(op2, "#r")
            mode(cs["fo"], "#r", "+o op2")
            cs["op2"] = op2
            k = cs[kicker]
            for v in ("fo", "ad", "op2", "ha", "vo", "pl"):
                if v == kicker:
                    continue
                k.send("KICK #r %s :bye" % v)
                if v in victims:
                    k.expect(r"^:%s!\S+ KICK #r %s :bye$" % (kicker, v))
                    join(cs[v], "#r")
                    if v != "pl":
                        letter = {"op2": "o", "ad": "a", "ha": "h",
                                  "vo": "v"}[v]
                        mode(cs["fo"], "#r", "+%s %s" % (letter, v))
                        k.sync()
                else:
                    k.expect(r" 482 %s #r :You don't have enough "
                             r"channel privileges$" % kicker)


def test_founder_account_kicks_without_q_and_cannot_be_kicked():
    with Server() as srv:
        cs = ranked(srv)
        mode(cs["fo"], "#r", "-q fo")
        cs["op"].send("KICK #r fo")
        cs["op"].expect(r" 482 op #r :You don't have enough channel "
                        r"privileges$")
        cs["fo"].send("KICK #r ad :out")
        cs["fo"].expect(r"^:fo!\S+ KICK #r ad :out$")


def test_topic_under_t_needs_halfop():
    with Server() as srv:
        cs = ranked(srv)
        for n in ("vo", "pl"):
            cs[n].send("TOPIC #r :mine")
            cs[n].expect(r" 482 %s #r :You're not a channel operator$" % n)
        cs["ha"].send("TOPIC #r :halfop topic")
        cs["ha"].expect(r"^:ha!\S+ TOPIC #r :halfop topic$")


def test_channel_modes_and_invite_need_op():
    with Server() as srv:
        cs = ranked(srv)
        for n in ("ha", "vo", "pl"):
            cs[n].send("MODE #r +m")
            cs[n].expect(r" 482 %s #r :You're not a channel operator$" % n)
        mode(cs["op"], "#r", "+i")
        out = srv.client("out")
        for n in ("ha", "vo"):
            cs[n].send("INVITE out #r")
            cs[n].expect(r" 482 %s #r " % n)
        cs["ad"].send("INVITE out #r")
        cs["ad"].expect(r" 341 ad out #r")
        join(out, "#r")


# ---- +R +M +C ----

def test_plus_R_channel_only_logged_in_users_join_477():
    with Server() as srv:
        cs = ranked(srv)
        mode(cs["op"], "#r", "+R")
        u = srv.client("anon")
        u.send("JOIN #r")
        u.expect(r" 477 anon #r :You must be registered to join that "
                 r"channel$")
        a = account(srv, "acct")
        join(a, "#r")
        cs["op"].send("INVITE anon #r")
        cs["op"].expect(r" 341 ")
        join(u, "#r")


def test_plus_M_only_logged_in_or_ranked_speak():
    with Server() as srv:
        cs = ranked(srv)
        mode(cs["op"], "#r", "+M")
        cs["pl"].send("PRIVMSG #r :plain")
        cs["pl"].expect(r" 404 pl #r :Cannot send to channel \(\+M\)$")
        cs["vo"].send("PRIVMSG #r :voiced")
        cs["op"].expect(r"^:vo!\S+ PRIVMSG #r :voiced$")
        a = account(srv, "acct")
        join(a, "#r")
        a.send("PRIVMSG #r :logged in")
        cs["op"].expect(r"^:acct!\S+ PRIVMSG #r :logged in$")


def test_plus_C_refuses_ctcp_but_action():
    with Server() as srv:
        cs = ranked(srv)
        mode(cs["op"], "#r", "+C")
        for n in ("pl", "op"):
            cs[n].send("PRIVMSG #r :\x01VERSION\x01")
            cs[n].expect(r" 404 %s #r :Cannot send to channel \(\+C\)$" % n)
        cs["pl"].send("NOTICE #r :\x01PING 1\x01")
        cs["pl"].send("PRIVMSG #r :\x01ACTION waves\x01")
        got = cs["vo"].expect(r"^:pl!\S+ PRIVMSG #r :")
        assert "ACTION waves" in got, got
        assert not [l for l in cs["pl"].sync() if " 404 " in l]


# ---- +u +U ----

def test_plus_u_plain_joins_and_parts_reach_the_ranks_only():
    with Server() as srv:
        cs = ranked(srv)
        mode(cs["op"], "#r", "+u")
        new = srv.client("new")
        join(new, "#r")
        cs["vo"].expect(r"^:new!\S+ JOIN #r$")
        assert not [l for l in cs["pl"].sync() if "JOIN" in l]
        got = names(new, "#r").split()
        assert "pl" not in got and "new" not in got, got
        assert "~fo" in got and "+vo" in got, got
        assert "pl" in names(cs["ha"], "#r").split()
        new.send("PART #r :gone")
        new.expect(r"^:new!\S+ PART #r :gone$")
        cs["ha"].expect(r"^:new!\S+ PART #r :gone$")
        assert not [l for l in cs["pl"].sync() if "PART" in l]
        # a voiced member's JOIN and PART reach everyone
        cs["vo"].send("PART #r")
        cs["pl"].expect(r"^:vo!\S+ PART #r$")


def test_plus_u_plain_quit_and_nick_reach_the_ranks_only():
    with Server() as srv:
        cs = ranked(srv)
        mode(cs["op"], "#r", "+u")
        p2 = srv.client("p2")			# a second plain member
        join(p2, "#r")
        cs["pl"].send("NICK plain")
        cs["pl"].expect(r"^:pl!\S+ NICK :plain$")
        for n in ("fo", "ad", "op", "ha", "vo"):
            cs[n].expect(r"^:pl!\S+ NICK :plain$")
        assert not [l for l in p2.sync() if " NICK " in l]
        cs["pl"].send("QUIT :bye")
        for n in ("fo", "ad", "op", "ha", "vo"):
            cs[n].expect(r"^:plain!\S+ QUIT :Quit: bye$")
        assert not [l for l in p2.sync() if " QUIT " in l]
        # a plain member who shares another channel (not +u) hears it
        join(p2, "#open")
        o2 = srv.client("o2")
        join(o2, "#r")
        join(o2, "#open")
        p2.sync()
        o2.send("QUIT :seen")
        p2.expect(r"^:o2!\S+ QUIT :Quit: seen$")
        # the ranks' QUIT and NICK reach everyone
        cs["vo"].send("NICK voiced")
        p2.expect(r"^:vo!\S+ NICK :voiced$")
        cs["ha"].send("QUIT :off")
        p2.expect(r"^:ha!\S+ QUIT :Quit: off$")


def test_plus_U_plain_messages_reach_halfops_and_up():
    with Server() as srv:
        cs = ranked(srv)
        mode(cs["op"], "#r", "+U")
        cs["pl"].send("PRIVMSG #r :moderate me")
        for n in ("fo", "ad", "op", "ha"):
            cs[n].expect(r"^:pl!\S+ PRIVMSG #r :moderate me$")
        for n in ("vo",):
            assert not [l for l in cs[n].sync() if "moderate me" in l]
        cs["vo"].send("PRIVMSG #r :voiced speaks")
        cs["pl"].expect(r"^:vo!\S+ PRIVMSG #r :voiced speaks$")


# ---- +f ----

def test_plus_f_checks_its_target():
    with Server() as srv:
        cs = ranked(srv)
        op = cs["op"]
        op.send("MODE #r +f #nowhere")
        op.expect(r" 696 op #r f #nowhere :No such channel$")
        op.send("MODE #r +f #r")
        op.expect(r" 696 op #r f #r :You can't forward a channel to itself$")
        other = srv.client("other")
        join(other, "#over")
        op.send("MODE #r +f #over")
        op.expect(r" 482 op #over :You must be a channel operator in the "
                  r"channel you are forwarding to$")
        join(op, "#mine")
        mode(op, "#r", "+f #mine")
        op.send("MODE #r")
        assert re.search(r" 324 op #r \+f\S* #mine", op.expect(r" 324 "))
        mode(op, "#r", "-f")


def test_plus_f_forwards_a_refused_join_with_470_but_not_a_ban():
    with Server() as srv:
        cs = ranked(srv)
        op = cs["op"]
        join(op, "#overflow")
        mode(op, "#r", "+if #overflow")
        u = srv.client("u")
        u.send("JOIN #r")
        u.expect(r" 470 u #r #overflow :Forwarding to another channel$")
        u.expect(r"^:u!\S+ JOIN #overflow$")
        mode(op, "#r", "-i+b u!*@*")
        u.send("JOIN #r")
        lines = u.lines_until(r" 474 u #r :Cannot join channel \(\+b\)$")
        assert not [l for l in lines if " 470 " in l], lines


# ---- user modes +R +T, ACCEPT ----

def test_user_plus_R_wants_an_account_or_accept():
    with Server() as srv:
        r = account(srv, "picky")
        r.send("MODE picky +R")
        r.expect(r"^:picky MODE picky :\+R$")
        anon = srv.client("anon")
        anon.send("PRIVMSG picky :hi")
        anon.expect(r" 477 anon picky :You must be registered to send a "
                    r"direct message to this user$")
        a = account(srv, "acct")
        a.send("PRIVMSG picky :logged in")
        r.expect(r"^:acct!\S+ PRIVMSG picky :logged in$")
        r.send("ACCEPT anon")
        r.sync()
        anon.send("PRIVMSG picky :accepted")
        r.expect(r"^:anon!\S+ PRIVMSG picky :accepted$")
        r.send("ACCEPT -anon")
        r.sync()
        anon.send("PRIVMSG picky :again")
        anon.expect(r" 477 anon picky ")
        r.send("ACCEPT nobody")
        r.expect(r"FAIL ACCEPT INVALID_USER nobody :No such user$")
        # a +R user's own message accepts the reply (Ergo #1688)
        r.send("PRIVMSG anon :write back")
        anon.expect(r"PRIVMSG anon :write back$")
        r.sync()
        anon.send("PRIVMSG picky :thanks")
        r.expect(r"^:anon!\S+ PRIVMSG picky :thanks$")
        r.send("MODE picky")
        r.expect(r" 221 picky \+R")


def test_user_plus_T_drops_ctcp_but_action():
    with Server() as srv:
        t = srv.client("quiet")
        t.send("MODE quiet +T")
        t.expect(r"MODE quiet :\+T$")
        s = srv.client("sender")
        s.send("PRIVMSG quiet :\x01VERSION\x01")
        s.send("PRIVMSG quiet :\x01ACTION nods\x01")
        got = t.expect(r"^:sender!\S+ PRIVMSG quiet :")
        assert "ACTION nods" in got, got
        assert not [l for l in s.sync() if " 4" in l.split(" ")[1][:1]]


# ---- extbans ----

def test_extban_m_mutes_without_banning():
    with Server() as srv:
        cs = ranked(srv)
        mode(cs["op"], "#r", "+b m:pl", echo="+b m:pl!*@*")
        cs["op"].send("MODE #r b")
        assert re.search(r" 367 op #r m:pl!\*@\* ",
                         cs["op"].expect(r" 367 "))
        cs["pl"].send("PRIVMSG #r :muted?")
        cs["pl"].expect(r" 404 pl #r :Cannot send to channel \(\+b\)$")
        cs["pl"].send("PART #r")
        join(cs["pl"], "#r")		# a mute does not ban
        mode(cs["op"], "#r", "+e m:a:nobody")
        mode(cs["op"], "#r", "+e m:PL!*@*")
        cs["pl"].send("PRIVMSG #r :excepted")
        cs["vo"].expect(r"^:pl!\S+ PRIVMSG #r :excepted$")
        mode(cs["op"], "#r", "-e m:pl!*@*", echo="-e m:PL!*@*")
        mode(cs["op"], "#r", "+v pl")
        cs["pl"].send("PRIVMSG #r :voiced")
        cs["vo"].expect(r"^:pl!\S+ PRIVMSG #r :voiced$")


def test_extban_a_bans_and_excepts_by_account_any_case():
    with Server() as srv:
        cs = ranked(srv)
        bob = account(srv, "bob")
        mode(cs["op"], "#r", "+b a:BOB")
        bob.send("JOIN #r")
        bob.expect(r" 474 bob #r :Cannot join channel \(\+b\)$")
        other = srv.client("bob2")		# not logged in: not banned
        join(other, "#r")
        mode(cs["op"], "#r", "+e a:b*")
        join(bob, "#r")
        bob.send("PART #r")
        mode(cs["op"], "#r", "-be+iI a:BOB a:b* a:bob")
        join(bob, "#r")


def test_registered_channel_keeps_the_new_modes_across_restart():
    with Server() as srv:
        cs = ranked(srv)
        mode(cs["fo"], "#r", "+CMRUu")
        srv.stop()
        srv.start()
        fo = srv.client("fo2")
        fo.send("NS IDENTIFY fo pw")
        fo.expect(NS % "fo2" + E("You're now logged in as fo"))
        join(fo, "#r")
        fo.send("MODE #r")
        flags = fo.expect(r" 324 fo2 #r ").split()[4]
        for m in "CMRUu":
            assert m in flags, flags
