"""ChanServ's administration, each command with the right and the wrong
privilege, in Ergo's words: AMODE ranks, CLEAR, LIST, HOWTOBAN,
UNREGISTER and TRANSFER with their codes (TRANSFER ACCEPT), PURGE, SET
and GET (history, query-cutoff)."""

import re

from ergotest import account_client as account, oper_client as oper
from ergotest import services_server as server

NS = r"^:NickServ!NickServ@localhost NOTICE %s :"
CS = r"^:ChanServ!ChanServ@localhost NOTICE %s :"


def cs_expect(c, text):
    return c.expect(CS % re.escape(c.nick) + re.escape(text))


def join(c, chan):
    c.send("JOIN " + chan)
    return c.lines_until(r" 366 ")


def registered(srv, nick, chan):
    f = account(srv, nick)
    join(f, chan)
    f.send("CS REGISTER " + chan)
    cs_expect(f, "Channel %s successfully registered" % chan)
    return f


def code_of(line):
    return line.split()[-1]


# ---- AMODE ranks ----

def test_amode_ranks_and_who_may_change_them():
    with server() as srv:
        f = registered(srv, "fo", "#a")
        for n in ("adm", "hop", "plain", "tgt"):
            account(srv, n).close()
        f.send("CS AMODE #a +a adm")
        cs_expect(f, "Successfully set persistent mode +a on adm")
        f.send("CS AMODE #a +h hop")
        cs_expect(f, "Successfully set persistent mode +h on hop")
        f.send("CS AMODE #a +h hop")
        cs_expect(f, "No changes were made")
        f.send("CS AMODE #a +x hop")
        cs_expect(f, "Invalid mode change")
        f.send("CS AMODE #a +o nosuch")
        cs_expect(f, "Account does not exist")
        a = srv.client("adm2")
        a.send("NS IDENTIFY adm pw")
        a.expect(NS % "adm2")
        a.send("CS AMODE #a +o tgt")		# admin over op: yes
        cs_expect(a, "Successfully set persistent mode +o on tgt")
        a.send("CS AMODE #a +a tgt")		# admin over admin: no
        cs_expect(a, "Insufficient privileges")
        h = srv.client("hop2")
        h.send("NS IDENTIFY hop pw")
        h.expect(NS % "hop2")
        h.send("CS AMODE #a")			# halfops list
        cs_expect(h, "Channel #a has 3 persistent modes set")
        cs_expect(h, "Account adm receives mode +a")
        cs_expect(h, "Account tgt receives mode +o")
        cs_expect(h, "Account hop receives mode +h")
        h.send("CS AMODE #a -o tgt")		# halfop over op: no
        cs_expect(h, "Insufficient privileges")
        h.send("CS AMODE #a -h hop")		# oneself: yes
        cs_expect(h, "Successfully set persistent mode -h on hop")
        p = srv.client("plain2")
        p.send("NS IDENTIFY plain pw")
        p.expect(NS % "plain2")
        p.send("CS AMODE #a")
        cs_expect(p, "Insufficient privileges")
        # an AMODE +a is given at JOIN
        join(a, "#a")
        a.expect(r"^:ChanServ!\S+ MODE #a \+a adm2$")


# ---- CLEAR ----

def test_clear_users_and_access_founder_and_oper_only():
    with server() as srv:
        f = registered(srv, "fo", "#c")
        op = srv.client("op")
        join(op, "#c")
        f.send("MODE #c +o op")
        f.expect(r" MODE #c \+o op")
        op.send("CS CLEAR #c users")
        cs_expect(op, "Insufficient privileges")
        x = srv.client("x")
        join(x, "#c")
        f.send("MODE #c +b bad!*@*")
        f.expect(r" MODE #c \+b bad!\*@\*")
        account(srv, "amo").close()
        f.send("CS AMODE #c +v amo")
        cs_expect(f, "Successfully set persistent mode +v on amo")
        f.send("CS CLEAR #c access")
        cs_expect(f, "Successfully reset channel access")
        f.send("MODE #c b")
        lines = f.lines_until(r" 368 ")
        assert not [l for l in lines if " 367 " in l], lines
        f.send("CS AMODE #c")
        cs_expect(f, "Channel #c has 0 persistent modes set")
        f.send("CS CLEAR #c users")
        op.expect(r"^:fo!\S+ KICK #c op :Cleared by ChanServ$")
        x.expect(r"^:fo!\S+ KICK #c x :Cleared by ChanServ$")
        f.send("NAMES #c")
        assert re.search(r" 353 fo = #c :~fo$", f.expect(r" 353 "))
        f.send("CS CLEAR #c bogus")
        cs_expect(f, "Invalid parameters")
        o = oper(srv, "oo")
        join(x, "#c")
        o.send("CS CLEAR #c users")
        x.expect(r"^:oo!\S+ KICK #c x :Cleared by ChanServ$")
        f.expect(r"^:oo!\S+ KICK #c fo :Cleared by ChanServ$")
        o.send("CS CLEAR #nochan users")
        cs_expect(o, "Channel does not exist")


# ---- LIST ----

def test_list_is_for_opers_with_a_mask():
    with server() as srv:
        registered(srv, "fo", "#alpha")
        f2 = registered(srv, "fp", "#beta")
        f2.send("CS LIST")
        cs_expect(f2, "Insufficient privileges")
        hp = oper(srv, "hp", "helper")		# no chanreg
        hp.send("CS LIST")
        cs_expect(hp, "Insufficient privileges")
        o = oper(srv, "oo")
        o.send("CS LIST")
        cs_expect(o, "*** \x02ChanServ LIST\x02 ***")
        cs_expect(o, "    #alpha")
        cs_expect(o, "    #beta")
        cs_expect(o, "*** \x02End of ChanServ LIST\x02 ***")
        o.send("CS LIST #B*")
        lines = o.lines_until(r"End of ChanServ LIST")
        assert [l for l in lines if l.endswith("    #beta")], lines
        assert not [l for l in lines if "#alpha" in l], lines


# ---- HOWTOBAN ----

def test_howtoban_for_ops_only():
    with server() as srv:
        f = registered(srv, "fo", "#h")
        u = account(srv, "usr")
        join(u, "#h")
        other = srv.client("other")
        join(other, "#h")
        other.send("CS HOWTOBAN #h usr")
        cs_expect(other, "Insufficient privileges")
        f.send("CS HOWTOBAN #h usr")
        cs_expect(f, "User usr is authenticated and can be banned by "
                  "account: /MODE #h +b a:usr")
        cs_expect(f, "User usr can be banned by hostname: /MODE #h +b "
                  "*!*@127.0.0.1")
        cs_expect(f, "Warning: this ban will affect 2 other users:")
        cs_expect(f, "Note that if the user is currently in the channel, "
                  "you must /KICK them after you ban them")
        f.send("CS HOWTOBAN #h fo")
        cs_expect(f, "Warning: account fo is the channel founder and "
                  "cannot be banned")
        f.send("CS HOWTOBAN #h nobody")
        cs_expect(f, "No such nick")
        other.send("QUIT")
        f.expect(r"^:other!\S+ QUIT")
        f.send("CS HOWTOBAN #h other")
        cs_expect(f, "Warning: other is not currently connected to the "
                  "server. Using WHOWAS data, which may be inaccurate:")
        cs_expect(f, "User other can be banned by hostname")


# ---- UNREGISTER, TRANSFER ----

def test_unregister_needs_the_code_and_the_founder_or_an_oper():
    with server() as srv:
        f = registered(srv, "fo", "#u")
        x = account(srv, "xx")
        x.send("CS UNREGISTER #u")
        cs_expect(x, "Insufficient privileges")
        f.send("CS UNREGISTER #u")
        cs_expect(f, "\x02Warning: unregistering this channel will remove "
                  "all stored channel attributes.\x02")
        code = code_of(cs_expect(f, "To confirm, run this command: /CS "
                                 "UNREGISTER #u "))
        f.send("CS UNREGISTER #u 123")
        cs_expect(f, "To confirm, run this command: /CS UNREGISTER #u " +
                  code)
        o = oper(srv, "oo")
        o.send("CS UNREGISTER #u " + code)
        cs_expect(o, "Channel #u is now unregistered")


def test_transfer_offer_accept_cancel_and_oper():
    with server() as srv:
        f = registered(srv, "fo", "#t")
        r = account(srv, "rcv")
        r.send("CS TRANSFER #t rcv")
        cs_expect(r, "Insufficient privileges")
        r.send("CS TRANSFER ACCEPT #t")
        cs_expect(r, "You weren't offered ownership of channel #t")
        f.send("CS TRANSFER #t nosuch")
        cs_expect(f, "Account does not exist")
        f.send("CS TRANSFER #t rcv")
        cs_expect(f, "\x02Warning: you are about to transfer control of "
                  "your channel to another user.\x02")
        code = code_of(cs_expect(f, "To confirm your channel transfer, "
                                 "type: /CS TRANSFER #t rcv "))
        f.send("CS TRANSFER #t rcv " + code)
        cs_expect(r, "You have been offered ownership of channel #t. To "
                  "accept, /CS TRANSFER ACCEPT #t")
        cs_expect(f, "Transfer of channel #t to account rcv succeeded, "
                  "pending acceptance")
        f.send("CS TRANSFER #t fo")
        cs_expect(f, "Cancelled pending transfer of channel #t")
        r.send("CS TRANSFER ACCEPT #t")
        cs_expect(r, "You weren't offered ownership of channel #t")
        f.send("CS TRANSFER #t rcv " + code)
        cs_expect(f, "Transfer of channel #t to account rcv succeeded, "
                  "pending acceptance")
        r.send("CS TRANSFER ACCEPT #t")
        cs_expect(r, "Successfully accepted ownership of channel #t")
        r.send("CS INFO #t")
        cs_expect(r, "Founder: rcv")
        # an oper transfers at once
        o = oper(srv, "oo")
        o.send("CS TRANSFER #t fo " + code)
        cs_expect(o, "Successfully transferred channel #t to account fo")
        o.send("CS INFO #t")
        cs_expect(o, "Founder: fo")


# ---- PURGE ----

def test_purge_closes_a_channel_for_opers_only():
    with server() as srv:
        f = registered(srv, "fo", "#p")
        m = srv.client("member")
        join(m, "#p")
        f.send("CS PURGE ADD #p")
        cs_expect(f, "Insufficient privileges")
        hp = oper(srv, "hp", "helper")		# no chanreg
        hp.send("CS PURGE ADD #p")
        cs_expect(hp, "Insufficient privileges")
        o = oper(srv, "oo")
        o.send("CS PURGE ADD #p")
        cs_expect(o, "\x02Warning: you are about to empty this channel and "
                  "remove it from the server.\x02")
        code = code_of(cs_expect(o, "To confirm, run this command: /CS "
                                 "PURGE ADD #p "))
        o.send("CS PURGE ADD #p %s spam" % code)
        m.expect(r"^:oo!\S+ KICK #p member :Cleared by ChanServ$")
        f.expect(r"^:oo!\S+ KICK #p fo :Cleared by ChanServ$")
        cs_expect(o, "Successfully purged channel #p from the server")
        for c in (m, f, o):
            c.send("JOIN #p")
            c.expect(r" 403 %s #p :This channel was purged by the server "
                     r"operators and cannot be used$" % c.nick)
        o.send("CS INFO #p")
        cs_expect(o, "Channel #p was purged by the server operators and "
                  "cannot be used")
        cs_expect(o, "Purged by operator: oo")
        cs_expect(o, "Purge reason: spam")
        o.send("CS PURGE LIST")
        cs_expect(o, "There are 1 purged channel(s).")
        cs_expect(o, "1: #p")
        srv.stop()
        srv.start()
        o = oper(srv, "oo")
        o.send("JOIN #p")
        o.expect(r" 403 oo #p :This channel was purged")
        o.send("CS PURGE DEL #p")
        cs_expect(o, "Successfully unpurged channel #p from the server")
        o.send("CS PURGE DEL #p")
        cs_expect(o, "Channel #p wasn't previously purged from the server")
        join(o, "#p")


# ---- SET, GET ----

def chathistory(c, chan):
    c.send("CHATHISTORY LATEST %s * 50" % chan)
    lines = c.lines_until(r" BATCH -")
    return [l for l in lines if " PRIVMSG " in l]


def test_set_history_off_keeps_nothing_and_get_shows_it():
    with server() as srv:
        f = registered(srv, "fo", "#s")
        x = account(srv, "xx")
        x.send("CS SET #s history off")
        cs_expect(x, "Insufficient privileges")
        f.send("CS SET #s history sometimes")
        cs_expect(f, "Invalid parameters")
        f.send("CS GET #s history")
        cs_expect(f, "The stored channel history setting is: default")
        f.send("CS SET #s history off")
        cs_expect(f, "Successfully changed the channel settings")
        cs_expect(f, "The stored channel history setting is: off")
        cs_expect(f, "Given current server settings, the channel history "
                  "setting is: off")
        f.send("CS SET #s query-cutoff join-time")
        cs_expect(f, "The stored channel history query cutoff setting is: "
                  "join-time")
        f.send("CS GET #s bogus")
        cs_expect(f, "Invalid params")
        h = srv.client("hist")
        h.send("CAP REQ :batch draft/chathistory server-time")
        h.expect(r" ACK ")
        join(h, "#s")
        f.send("PRIVMSG #s :not kept")
        h.expect(r"PRIVMSG #s :not kept")
        assert chathistory(h, "#s") == []
        f.send("CS SET #s history on")
        cs_expect(f, "Successfully changed the channel settings")
        f.send("PRIVMSG #s :kept")
        h.expect(r"PRIVMSG #s :kept")
        got = chathistory(h, "#s")
        assert len(got) == 1 and got[0].endswith(":kept"), got
