"""Operators over channels and ChanServ's ranks at JOIN: SAJOIN and
SAMODE (capabilities sajoin and samode, Ergo's syntax and snomask
notices), and accounts with an AMODE getting past +i +k +l +b +R as in
Ergo's Channel.Join (irc_chan.c, irc_chan_mode.c)."""

import re

from ergotest import account_client, oper_client, services_server

CAPS = "kill samode sajoin snomasks"
SNO = r"NOTICE %s :\x0314-\x0fOPER\x0314-\x03 "


def E(s):
    return re.escape(s)


def server(extra=""):
    return services_server(extra, caps=CAPS)


def join(c, chan, key=None):
    c.send("JOIN %s%s" % (chan, " " + key if key else ""))
    return c.lines_until(r" 366 %s %s :" % (E(c.nick), E(chan)))


def watcher(srv, nick="wa"):
    """An oper (admin) with snomask +o: it hears of SAJOIN and SAMODE."""
    w = oper_client(srv, nick)
    w.send("MODE %s +s +o" % nick)
    w.expect(r" 008 %s \+o " % nick)
    return w


def locked(srv, chan="#lk"):
    """op made chan +iklR (limit 1, key sekrit) and banned *!*@*."""
    op = srv.client("op")
    join(op, chan)
    op.send("MODE %s +iklR sekrit 1" % chan)
    op.expect(r"MODE %s \+iklR sekrit 1$" % E(chan))
    op.send("MODE %s +b *!*@*" % chan)
    op.expect(r"MODE %s \+b \*!\*@\*$" % E(chan))
    return op


# ---- SAJOIN ----

def test_sajoin_needs_an_oper_with_sajoin_481():
    with server() as srv:
        u = srv.client("plainu")
        u.send("SAJOIN #x")
        u.expect(r" 481 plainu :Permission Denied- You're not an IRC "
                 r"operator$")
        h = oper_client(srv, "hel", "helper")	# kill only
        h.send("SAJOIN #x")
        h.expect(r" 481 hel :Permission Denied$")
        h.send("SAJOIN plainu #x")
        h.expect(r" 481 hel :Permission Denied$")
        u.send("SAMODE plainu +i")
        u.expect(r" 481 plainu :Permission Denied- ")
        h.send("SAMODE #x +m")
        h.expect(r" 481 hel :Permission Denied$")
        assert not [l for l in h.sync() + u.sync() if " JOIN " in l]


def test_sajoin_puts_a_user_past_every_mode_and_ban():
    with server() as srv:
        op = locked(srv)
        w = watcher(srv)
        v = srv.client("vic")
        v.send("JOIN #lk")
        v.expect(r" 471 vic #lk :Cannot join channel \(\+l\)$")
        o = oper_client(srv, "oo")
        o.send("SAJOIN vic #lk")
        v.expect(r"^:vic!\S+ JOIN #lk$")
        v.expect(r" 366 vic #lk :")
        op.expect(r"^:vic!\S+ JOIN #lk$")
        w.expect(SNO % "wa" + E("Operator admin ran SAJOIN vic #lk") + "$")
        assert not [l for l in o.sync() if " JOIN " in l]
        # the operator itself, and a list of channels
        o.send("SAJOIN #lk,#new")
        o.expect(r"^:oo!\S+ JOIN #lk$")
        o.expect(r"^:oo!\S+ JOIN #new$")
        w.expect(SNO % "wa" + E("Operator admin ran SAJOIN #lk,#new"))
        o.send("NAMES #new")
        o.expect(r" 353 oo = #new :@oo$")


def test_sajoin_errors_go_to_the_operator():
    with server() as srv:
        o = oper_client(srv, "oo")
        v = srv.client("vic")
        o.send("SAJOIN nosuch #a")
        o.expect(r" 401 oo nosuch :No such nick")
        o.send("SAJOIN vic")
        o.expect(r" 461 oo SAJOIN :Not enough parameters$")
        o.send("SAJOIN vic #ok,bad")
        v.expect(r"^:vic!\S+ JOIN #ok$")
        o.expect(r" 403 oo bad :No such channel$")
        assert not [l for l in v.sync() if " 403 " in l]


def test_sajoin_works_on_a_registered_channel_and_chanserv_ranks():
    with server() as srv:
        f = account_client(srv, "fo")
        join(f, "#reg")
        f.send("CS REGISTER #reg")
        f.expect(r"MODE #reg \+q fo$")
        f.send("MODE #reg +i")
        f.expect(r"MODE #reg \+i$")
        a = account_client(srv, "hop")
        f.send("CS AMODE #reg +h hop")
        f.expect(r"Successfully set persistent mode \+h on hop")
        f.send("PART #reg")
        f.expect(r"PART #reg")
        o = oper_client(srv, "oo")
        o.send("SAJOIN hop #reg")
        a.expect(r"^:hop!\S+ JOIN #reg$")
        a.expect(r"MODE #reg \+h hop$")


# ---- SAMODE ----

def ranked(srv, chan="#r"):
    """fo (founder, +q), ad (+a), op (+o), ha (+h), vo (+v), pl."""
    fo = account_client(srv, "fo")
    join(fo, chan)
    fo.send("CS REGISTER " + chan)
    fo.expect(r"MODE %s \+q fo$" % E(chan))
    cs = {"fo": fo}
    for n in ("ad", "op", "ha", "vo", "pl"):
        cs[n] = srv.client(n)
        join(cs[n], chan)
    fo.send("MODE %s -o+aohv fo ad op ha vo" % chan)
    fo.expect(r"MODE %s -o\+aohv fo ad op ha vo$" % E(chan))
    for c in cs.values():
        c.sync()
    return cs


def test_samode_sets_every_rank_on_every_member_regardless_of_rank():
    with server() as srv:
        cs = ranked(srv)
        w = watcher(srv)
        o = oper_client(srv, "oo")	# not even on the channel
        for who in ("fo", "ad", "op", "ha", "vo", "pl"):
            # what the member may not do by MODE, SAMODE does
            cs[who].send("MODE #r +q pl")
            if who != "fo":
                cs[who].expect(r" 482 %s #r :" % who)
            else:
                cs[who].expect(r"MODE #r \+q pl$")
                cs[who].send("MODE #r -q pl")
                cs[who].expect(r"MODE #r -q pl$")
        for letter in "qaohv":
            for who in ("fo", "ad", "op", "ha", "vo", "pl"):
                o.send("SAMODE #r +%s %s" % (letter, who))
                o.send("SAMODE #r -%s %s" % (letter, who))
                line = r"^:oo!\S+ MODE #r -%s %s$" % (letter, who)
                cs["pl"].expect(line)
                o.expect(line)
        w.expect(SNO % "wa" + E("Operator admin ran SAMODE #r +q fo"))


def test_samode_channel_flags_keys_lists_and_forward():
    with server() as srv:
        cs = ranked(srv)
        o = oper_client(srv, "oo")
        other = srv.client("ow")
        join(other, "#other")		# oo is no op of #other
        o.send("SAMODE #r +mk-t key")
        cs["pl"].expect(r"^:oo!\S+ MODE #r \+mk-t key$")
        o.send("SAMODE #r +b bad!*@*")
        cs["pl"].expect(r"^:oo!\S+ MODE #r \+b bad!\*@\*$")
        o.send("MODE #r +f #other")
        o.expect(r" 482 oo #r :You're not a channel operator$")
        o.send("SAMODE #r +f #other")
        cs["pl"].expect(r"^:oo!\S+ MODE #r \+f #other$")
        o.send("SAMODE #r")
        o.expect(r" 324 oo #r \+fkmn #other$")	# the key for members only
        o.send("SAMODE #nosuch +m")
        o.expect(r" 403 oo #nosuch :No such channel$")


def test_samode_changes_another_users_modes():
    with server() as srv:
        w = watcher(srv)
        v = srv.client("vic")
        o = oper_client(srv, "oo")
        o.send("MODE vic +i")
        o.expect(r" 502 oo :Can't change mode for other users$")
        o.send("SAMODE vic +iR")
        o.expect(r"^:oo MODE vic :\+Ri$|^:oo MODE vic :\+iR$")
        v.expect(r"^:oo MODE vic :\+(Ri|iR)$")
        w.expect(SNO % "wa" + E("Operator admin ran SAMODE vic +iR"))
        o.send("SAMODE vic")
        o.expect(r" 221 oo \+Ri$")
        o.send("SAMODE vic +s")		# vic is no oper with snomasks
        o.expect(r" 481 oo :Permission Denied$")
        o.send("SAMODE nosuch +i")
        o.expect(r" 401 oo nosuch :No such nick")


# ---- AMODE holders at JOIN (Ergo's Channel.Join) ----

def amodes_on_locked(srv):
    """#am registered by fo with an AMODE for each rank below it (ad a,
    op o, ha h, vo v; pl none), then made +iklR (limit 1) with every mask
    banned."""
    fo = account_client(srv, "fo")
    join(fo, "#am")
    fo.send("CS REGISTER #am")
    fo.expect(r"MODE #am \+q fo$")
    users = {}
    for n, m in (("ad", "a"), ("op", "o"), ("ha", "h"), ("vo", "v"),
                 ("pl", None)):
        users[n] = account_client(srv, n)
        if m:
            fo.send("CS AMODE #am +%s %s" % (m, n))
            fo.expect(r"Successfully set persistent mode \+%s on %s"
                      % (m, n))
    fo.send("MODE #am +iklR sekrit 1")
    fo.expect(r"MODE #am \+iklR sekrit 1$")
    fo.send("MODE #am +b *!*@*")
    fo.expect(r"MODE #am \+b \*!\*@\*$")
    return fo, users


def test_amode_halfop_and_up_join_past_i_k_l_and_bans():
    with server() as srv:
        fo, u = amodes_on_locked(srv)
        for n, m in (("ad", "a"), ("op", "o"), ("ha", "h")):
            u[n].send("JOIN #am")		# no key, over the limit
            u[n].expect(r"^:%s!\S+ JOIN #am$" % n)
            fo.expect(r"MODE #am \+%s %s$" % (m, n))
        fo.send("PART #am")
        fo.expect(r"PART #am")
        fo.send("JOIN #am")			# the founder too
        fo.expect(r"^:fo!\S+ JOIN #am$")


def test_amode_voice_passes_invite_only_and_nothing_else():
    with server() as srv:
        fo, u = amodes_on_locked(srv)
        vo, pl = u["vo"], u["pl"]
        for c in (vo, pl):
            c.send("JOIN #am sekrit")
        vo.expect(r" 471 vo #am :Cannot join channel \(\+l\)$")
        pl.expect(r" 471 pl #am :Cannot join channel \(\+l\)$")
        fo.send("MODE #am -lb *!*@*")
        fo.expect(r"MODE #am -lb \*!\*@\*$")
        vo.send("JOIN #am")
        vo.expect(r" 475 vo #am :Cannot join channel \(\+k\)$")
        pl.send("JOIN #am sekrit")
        pl.expect(r" 473 pl #am :Cannot join channel \(\+i\)$")
        vo.send("JOIN #am sekrit")			# +i passed
        vo.expect(r"^:vo!\S+ JOIN #am$")
        fo.expect(r"MODE #am \+v vo$")
        fo.send("MODE #am -k+b sekrit vo!*@*")
        fo.expect(r"MODE #am -k\+b sekrit vo!\*@\*$")
        vo.send("PART #am")
        vo.expect(r"PART #am")
        vo.send("JOIN #am")
        vo.expect(r" 474 vo #am :Cannot join channel \(\+b\)$")


def test_amode_halfop_passes_registered_only_but_a_plain_account_not_R():
    with server() as srv:
        fo = account_client(srv, "fo")
        join(fo, "#rr")
        fo.send("CS REGISTER #rr")
        fo.expect(r"MODE #rr \+q fo$")
        h = account_client(srv, "hh")
        fo.send("CS AMODE #rr +h hh")
        fo.expect(r"Successfully set persistent mode \+h on hh")
        fo.send("MODE #rr +R")
        fo.expect(r"MODE #rr \+R$")
        anon = srv.client("anon")
        anon.send("JOIN #rr")
        anon.expect(r" 477 anon #rr :You must be registered")
        h.send("JOIN #rr")
        h.expect(r"^:hh!\S+ JOIN #rr$")
