"""Channels, WHO, WHOIS, LUSERS as the modern IRC client protocol says
(and Ergo where it leaves a choice): WHO of an exact nick, WHOIS 319 of an
invisible user, INVITE past +b/+l/+i and INVITE alone (336/337), 252,
LIST ELIST=CT, NAMES of several channels, LINKS, the ISUPPORT command and
the tokens as Ergo writes them."""

import re

from ergotest import Server, run_ergo


def nums(lines, num):
    return [l for l in lines if re.match(r"^:\S+ %s " % num, l)]


def isupport(lines):
    toks = {}
    for l in nums(lines, "005"):
        for t in l.split(" :")[0].split(" ")[3:]:
            k, _, v = t.partition("=")
            toks[k] = v if "=" in t else None
    return toks


def test_who_exact_nick_shows_invisible_user_but_masks_hide_them():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        b.send("MODE bob +i")
        b.sync()
        a.send("WHO bob")
        lines = a.lines_until(r" 315 alice bob ")
        assert len(nums(lines, "352")) == 1, lines
        assert re.match(r"^:irc\.test 352 alice \* ~bob 127\.0\.0\.1 "
                        r"irc\.test bob H :0 Real Name$", lines[0]), lines
        a.send("WHO bo*")
        assert nums(a.lines_until(r" 315 alice bo\* "), "352") == []
        # sharing a channel makes them visible to masks too
        a.send("JOIN #x")
        b.send("JOIN #x")
        a.expect(r"JOIN #x")
        a.send("WHO bo*")
        assert len(nums(a.lines_until(r" 315 alice bo\* "), "352")) == 1
        # WHOX of an exact nick as well
        c = srv.client("carl")
        c.send("WHO bob %nf")
        lines = c.lines_until(r" 315 carl bob ")
        assert nums(lines, "354") == [":irc.test 354 carl bob H"], lines


def test_whois_of_invisible_user_lists_only_shared_channels():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        for ch in ("#pub", "#both", "#sec"):
            b.send("JOIN " + ch)
        b.send("MODE #sec +s")
        b.sync()
        a.send("WHOIS bob")         # bob visible: public channels only
        l319 = nums(a.lines_until(r" 318 "), "319")
        assert len(l319) == 1 and "#sec" not in l319[0], l319
        assert "#pub" in l319[0] and "#both" in l319[0], l319
        b.send("MODE bob +i")
        b.sync()
        a.send("WHOIS bob")         # invisible, nothing shared: no 319
        assert nums(a.lines_until(r" 318 "), "319") == []
        a.send("JOIN #both")
        a.send("JOIN #sec")
        a.expect(r"JOIN #sec")
        a.send("WHOIS bob")         # only what alice shares with bob
        l319 = nums(a.lines_until(r" 318 "), "319")
        assert len(l319) == 1, l319
        chans = sorted(l319[0].split(" :", 1)[1].replace("@", "").split())
        assert chans == ["#both", "#sec"], l319


def test_whois_shows_private_and_secret_channels_only_to_members():
    with Server() as srv:
        a = srv.client("asker")
        b = srv.client("target")
        for ch in ("#open", "#priv", "#hidden"):
            b.send("JOIN " + ch)
        b.send("MODE #priv +p")
        b.send("MODE #hidden +s")
        b.sync()
        a.send("WHOIS target")
        l319 = nums(a.lines_until(r" 318 "), "319")
        chans = " ".join(l.split(" :", 1)[1] for l in l319).replace("@", "")
        assert chans.split() == ["#open"], l319
        a.send("JOIN #priv")
        a.expect(r" 366 asker #priv ")
        a.send("WHOIS target")
        l319 = nums(a.lines_until(r" 318 "), "319")
        chans = " ".join(l.split(" :", 1)[1] for l in l319).replace("@", "")
        assert sorted(chans.split()) == ["#open", "#priv"], l319


def test_invite_lets_the_invited_user_past_ban_limit_and_invite_only():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        a.send("JOIN #m")
        a.send("MODE #m +bil bob!*@* 1")
        a.expect(r"MODE #m \+bil bob!\*@\* 1")
        b.send("JOIN #m")
        b.expect(r" 47[134] bob #m ")
        a.send("INVITE bob #m")
        a.expect(r" 341 alice bob #m")
        b.expect(r"INVITE bob #m")
        b.send("JOIN #m")
        b.expect(r"^:bob!\S+ JOIN #m$")
        # +k still needs the key
        a.send("MODE #m +k sekrit")
        b.send("PART #m")
        b.expect(r"PART #m")
        a.send("INVITE bob #m")
        b.expect(r"INVITE bob #m")
        b.send("JOIN #m")
        b.expect(r" 475 bob #m ")


def test_invite_without_arguments_lists_pending_invites():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        for ch in ("#one", "#two"):
            a.send("JOIN " + ch)
            a.send("INVITE bob " + ch)
            a.expect(r" 341 alice bob " + ch)
        b.send("INVITE")
        lines = b.lines_until(r" 337 ")
        assert sorted(nums(lines, "336")) == [
            ":irc.test 336 bob #one", ":irc.test 336 bob #two"], lines
        assert lines[-1] == ":irc.test 337 bob :End of /INVITE list"
        b.send("JOIN #one")         # used up
        b.expect(r"JOIN #one")
        b.send("INVITE")
        assert nums(b.lines_until(r" 337 "), "336") == [
            ":irc.test 336 bob #two"]
        a.send("INVITE bob")
        a.expect(r" 461 alice INVITE :Not enough parameters")


def test_lusers_252_counts_opers_and_drops_on_deoper_and_quit():
    p = run_ergo("genpasswd", input="opsecret\n", timeout=60)
    h = p.stdout.strip().splitlines()[-1]
    conf = 'oper admin { class server-admin  password "%s" }' % h
    with Server(conf=conf) as srv:
        o1 = srv.client("op1")
        o2 = srv.client("op2")
        for o in (o1, o2):
            o.send("OPER admin opsecret")
            o.expect(r" 381 ")
        u = srv.client("user")
        u.send("LUSERS")
        assert nums(u.lines_until(r" 266 "), "252") == [
            ":irc.test 252 user 2 :operator(s) online"]
        o1.send("MODE op1 -o")
        o1.expect(r"MODE op1 :-o")
        u.send("LUSERS")
        assert nums(u.lines_until(r" 266 "), "252") == [
            ":irc.test 252 user 1 :operator(s) online"]
        o2.send("QUIT")
        o2.closed()
        u.send("LUSERS")
        # none left: omitted, as before (tests/test_modes.py)
        assert nums(u.lines_until(r" 266 "), "252") == []


def test_list_elist_c_and_t_filter_by_creation_and_topic_time():
    with Server() as srv:
        a = srv.client("alice")
        a.send("JOIN #new")
        a.send("JOIN #topic")
        a.send("TOPIC #topic :hello")
        a.expect(r"TOPIC #topic")
        a.send("LIST C<5")          # created under 5 minutes ago: both
        got = sorted(l.split()[3] for l in nums(a.lines_until(r" 323 "),
                                                 "322"))
        assert got == ["#new", "#topic"], got
        a.send("LIST C>5")          # created over 5 minutes ago: none
        assert nums(a.lines_until(r" 323 "), "322") == []
        a.send("LIST T<5")          # topic set under 5 minutes ago
        got = [l.split()[3] for l in nums(a.lines_until(r" 323 "), "322")]
        assert got == ["#topic"], got
        a.send("LIST T>5")          # no topic counts as long ago
        got = [l.split()[3] for l in nums(a.lines_until(r" 323 "), "322")]
        assert got == ["#new"], got
        a.send("LIST T<5,#new")     # terms combine as all of them
        assert nums(a.lines_until(r" 323 "), "322") == []
        a.send("VERSION")
        assert isupport(a.lines_until(r" 005 "))["ELIST"] == "CMNTU"


def test_names_of_several_channels_answers_each():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        a.send("JOIN #a")
        b.send("JOIN #b")
        b.sync()
        a.sync()
        a.send("NAMES #a,#b,#none")
        lines = a.lines_until(r" 366 alice #none ")
        assert nums(lines, "353") == [":irc.test 353 alice = #a :@alice",
                                      ":irc.test 353 alice = #b :@bob"]
        assert [l.split()[3] for l in nums(lines, "366")] == [
            "#a", "#b", "#none"]


def test_links_answers_364_and_365_for_this_server():
    with Server() as srv:
        a = srv.client("alice")
        a.send("LINKS")
        lines = a.lines_until(r" 365 ")
        assert lines == [
            ":irc.test 364 alice irc.test irc.test :0 ergo IRC server",
            ":irc.test 365 alice * :End of /LINKS list."], lines
        a.send("LINKS *.test")
        assert len(nums(a.lines_until(r" 365 alice \*\.test "), "364")) == 1
        a.send("LINKS other.example")
        lines = a.lines_until(r" 365 ")
        assert lines == [":irc.test 365 alice other.example :End of "
                         "/LINKS list."], lines


def test_isupport_command_resends_005_with_bare_invex_and_excepts():
    with Server() as srv:
        a = srv.client("alice")
        a.send("ISUPPORT")
        lines = a.sync()
        assert lines and all(re.match(r"^:irc\.test 005 alice ", l)
                             for l in lines), lines
        toks = isupport(lines)
        assert "INVEX" in toks and toks["INVEX"] is None, toks
        assert "EXCEPTS" in toks and toks["EXCEPTS"] is None, toks
        assert toks["NETWORK"] == "TestNet"
        assert re.search(r"(^|,)NAMES:(,|$)", toks["TARGMAX"]), toks
