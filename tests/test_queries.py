"""Informational commands: WHO, WHOIS, WHOWAS, AWAY, ISON, USERHOST,
MOTD, LUSERS, VERSION, TIME, ADMIN, INFO (irc_query.c)."""

import os
import re
import shutil
import signal
import tempfile
import time

from ergotest import Server, run_ergo, wait_for

OPER_PASSWORD = "queries-oper-pw"

srv = None
tmp = None


def genpasswd(password):
    """A hash for an oper block, made the way an operator makes one."""
    p = run_ergo("genpasswd", input=password + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    return [l for l in out.splitlines() if l.strip()][-1].strip()


def setup_module():
    global srv, tmp
    tmp = tempfile.mkdtemp(prefix="ergo-queries-")
    srv = Server(conf='oper qadmin { class server-admin  password "%s" }\n'
                 % genpasswd(OPER_PASSWORD))


def teardown_module():
    if srv is not None:
        srv.stop()
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


def numeric_lines(lines, num):
    return [l for l in lines if re.match(r"^:\S+ %s " % num, l)]


def params(line):
    """The parameters of a server line, trailing one included."""
    head, sep, trailing = line.partition(" :")
    words = head.split(" ")
    if not line.startswith(":"):
        words = [""] + words
    out = words[2:]
    if sep:
        out.append(trailing)
    return out


def reply_until(c, cmd, end):
    c.send(cmd)
    return c.lines_until(r"^:\S+ %s " % end)


# ---- WHO ----

def test_who_channel_lists_members_with_flags():
    with srv.client("whoA") as a, srv.client("whoB") as b:
        a.send("JOIN #whochan")
        a.expect(r"366 whoA #whochan")
        b.send("JOIN #whochan")
        b.expect(r"366 whoB #whochan")
        b.send("AWAY :lunch")
        b.expect_numeric("306")
        lines = reply_until(a, "WHO #whochan", "315")
        who = {params(l)[5]: params(l) for l in numeric_lines(lines, "352")}
        assert set(who) == {"whoA", "whoB"}, lines
        pa = who["whoA"]
        assert pa[0] == "whoA" and pa[1] == "#whochan"
        assert pa[4] == "irc.test"
        assert pa[6] == "H@", pa
        assert pa[7] == "0 Real Name", pa
        assert who["whoB"][6] == "G", who["whoB"]
        assert re.search(r" 315 whoA #whochan :End of WHO list$", lines[-1])


def test_who_mask_matches_nick_user_and_realname():
    with srv.client() as a, srv.client() as b:
        a.register("maskAlpha", realname="Alpha Person")
        b.register("maskBeta", user="betauser", realname="Beta Person")
        lines = reply_until(a, "WHO mask*", "315")
        nicks = sorted(params(l)[5] for l in numeric_lines(lines, "352"))
        assert nicks == ["maskAlpha", "maskBeta"], lines
        # channel field is "*" for mask queries
        assert all(params(l)[1] == "*" for l in numeric_lines(lines, "352"))
        lines = reply_until(a, "WHO *betauser*", "315")
        assert [params(l)[5] for l in numeric_lines(lines, "352")] == \
            ["maskBeta"], lines
        lines = reply_until(a, "WHO :Alpha*", "315")
        assert [params(l)[5] for l in numeric_lines(lines, "352")] == \
            ["maskAlpha"], lines
        lines = reply_until(a, "WHO nobody-matches-this", "315")
        assert numeric_lines(lines, "352") == []
        assert "nobody-matches-this :End of WHO list" in lines[-1]


def test_who_bigger_than_the_sendq_ends_cleanly():
    # WHO * on a busy server must not cost the asker its connection
    # (SendQ exceeded): the reply is cut short, still ending with 315.
    with Server(server="max-sendq 4k\nconnection-limits { max-per-ip 100 }"
                ) as s:
        users = [s.client("whouser%02d" % i) for i in range(60)]
        a = s.client("whoasker")
        a.send("WHO *")
        lines = a.lines_until(r" 315 whoasker \* ", timeout=10)
        got = [l for l in lines if " 352 whoasker " in l]
        assert 0 < len(got) < len(users) + 1, len(got)
        a.send("PING :alive")
        a.expect(r"PONG irc\.test :?alive$")
        a.send("WHO whouser0*")
        lines = a.lines_until(r" 315 whoasker ")
        assert len([l for l in lines if " 352 " in l]) == 10, lines


def test_who_without_arguments_lists_visible_users_and_ends_with_315():
    with srv.client("whoAll") as a:
        lines = reply_until(a, "WHO", "315")
        assert "whoAll" in [params(l)[5] for l in numeric_lines(lines, "352")]
        lines = reply_until(a, "WHO 0", "315")
        assert "whoAll" in [params(l)[5] for l in numeric_lines(lines, "352")]


def test_who_o_flag_lists_only_opers():
    with srv.client("whoOper") as o, srv.client("whoPlain") as p:
        o.send("OPER qadmin " + OPER_PASSWORD)
        o.expect_numeric("381")
        lines = reply_until(p, "WHO who* o", "315")
        who = [params(l) for l in numeric_lines(lines, "352")]
        assert [w[5] for w in who] == ["whoOper"], lines
        assert who[0][6] == "H*", who
        lines = reply_until(p, "WHO who*", "315")
        nicks = {params(l)[5] for l in numeric_lines(lines, "352")}
        assert {"whoOper", "whoPlain"} <= nicks


def test_who_hides_invisible_users_unless_sharing_a_channel():
    with srv.client("invisU") as u, srv.client("seekerS") as s:
        u.send("MODE invisU +i")
        u.expect(r"MODE invisU :?\+i")
        lines = reply_until(s, "WHO invis*", "315")
        assert numeric_lines(lines, "352") == [], lines
        # an exact nick names the user, +i or not (the modern spec;
        # tests/test_conformance_chan.py)
        lines = reply_until(s, "WHO invisU", "315")
        assert len(numeric_lines(lines, "352")) == 1, lines
        # but a user always sees himself
        lines = reply_until(u, "WHO invisU", "315")
        assert len(numeric_lines(lines, "352")) == 1, lines
        # a non-member does not see invisible members of a channel
        u.send("JOIN #invischan")
        u.expect(r"366 invisU")
        lines = reply_until(s, "WHO #invischan", "315")
        assert numeric_lines(lines, "352") == [], lines
        # sharing a channel makes the invisible user visible
        s.send("JOIN #invischan")
        s.expect(r"366 seekerS")
        lines = reply_until(s, "WHO invis*", "315")
        assert len(numeric_lines(lines, "352")) == 1, lines
        lines = reply_until(s, "WHO #invischan", "315")
        assert {params(l)[5] for l in numeric_lines(lines, "352")} == \
            {"invisU", "seekerS"}, lines


# ---- WHOIS ----

def test_whois_reports_user_channels_server_and_idle():
    with srv.client() as a, srv.client("whoisAsker") as q:
        a.register("whoisT", user="tuser", realname="Target Person")
        a.send("JOIN #whoisone")
        a.expect(r"366 whoisT")
        a.send("JOIN #whoistwo")
        a.expect(r"366 whoisT")
        lines = reply_until(q, "WHOIS whoisT", "318")
        l311 = numeric_lines(lines, "311")
        assert len(l311) == 1, lines
        p = params(l311[0])
        assert p[1] == "whoisT" and p[2].endswith("tuser") and p[4] == "*"
        assert p[5] == "Target Person"
        chans = " ".join(params(l)[-1] for l in numeric_lines(lines, "319"))
        assert sorted(chans.split()) == ["@#whoisone", "@#whoistwo"], lines
        l312 = numeric_lines(lines, "312")
        assert len(l312) == 1 and params(l312[0])[2] == "irc.test", lines
        l317 = numeric_lines(lines, "317")
        assert len(l317) == 1, lines
        p = params(l317[0])
        idle, signon = int(p[2]), int(p[3])
        assert 0 <= idle < 60
        assert abs(signon - time.time()) < 60
        assert p[4] == "seconds idle, signon time"
        assert numeric_lines(lines, "301") == []
        assert numeric_lines(lines, "313") == []
        assert re.search(r" 318 whoisAsker whoisT :End of /WHOIS list$",
                         lines[-1])


def test_whois_reports_away_and_oper():
    with srv.client("whoisOp") as o, srv.client("whoisQ2") as q:
        o.send("OPER qadmin " + OPER_PASSWORD)
        o.expect_numeric("381")
        o.send("AWAY :gone fishing")
        o.expect_numeric("306")
        lines = reply_until(q, "WHOIS whoisOp", "318")
        assert [params(l)[-1] for l in numeric_lines(lines, "301")] == \
            ["gone fishing"], lines
        l313 = numeric_lines(lines, "313")
        assert len(l313) == 1 and l313[0].endswith(
            "whoisOp :is an IRC operator"), lines


def test_whois_idle_counts_from_last_message():
    with srv.client("idleT") as t, srv.client("idleQ") as q:
        # "WHOIS nick nick" is the form clients use to ask for idle time
        lines = reply_until(q, "WHOIS idleT idleT", "318")
        before = int(params(numeric_lines(lines, "317")[0])[2])
        t.send("PRIVMSG idleQ :hi")
        q.expect(r"PRIVMSG idleQ :hi")
        lines = reply_until(q, "WHOIS idleT", "318")
        after = int(params(numeric_lines(lines, "317")[0])[2])
        assert after <= before + 1 and after <= 2, (before, after)


def test_whois_unknown_nick_gives_401_then_318():
    with srv.client("whoisLost") as q:
        lines = reply_until(q, "WHOIS nosuchnickhere", "318")
        assert re.search(r" 401 whoisLost nosuchnickhere :No such nick",
                         lines[0]), lines
        assert "nosuchnickhere :End of /WHOIS list" in lines[-1]
        assert numeric_lines(lines, "311") == []


def test_whois_several_nicks_in_one_command():
    with srv.client("multiA") as a, srv.client("multiB") as b:
        lines = reply_until(a, "WHOIS multiA,ghostnick,multiB", "318")
        assert [params(l)[1] for l in numeric_lines(lines, "311")] == \
            ["multiA", "multiB"], lines
        assert len(numeric_lines(lines, "401")) == 1
        assert len(numeric_lines(lines, "318")) == 1


def test_whois_more_than_targmax_nicks_gives_407():
    with srv.client("targA") as a:
        lines = reply_until(a, "WHOIS targA,targA,targA,targA,targA,targA",
                            "318")
        assert len(numeric_lines(lines, "311")) == 4, lines   # targmax 4
        assert len(numeric_lines(lines, "407")) == 1, lines


def test_whois_hides_secret_channels_from_outsiders():
    with srv.client("secOwner") as o, srv.client("secOut") as q:
        o.send("JOIN #secretwhois")
        o.expect(r"366 secOwner")
        o.send("MODE #secretwhois +s")
        o.expect(r"MODE #secretwhois \+s")
        o.send("JOIN #publicwhois")
        o.expect(r"366 secOwner")
        lines = reply_until(q, "WHOIS secOwner", "318")
        chans = " ".join(params(l)[-1] for l in numeric_lines(lines, "319"))
        assert "#publicwhois" in chans and "#secretwhois" not in chans, lines
        # the user himself sees all of them
        lines = reply_until(o, "WHOIS secOwner", "318")
        chans = " ".join(params(l)[-1] for l in numeric_lines(lines, "319"))
        assert "#secretwhois" in chans, lines


# ---- WHOWAS ----

def test_whowas_after_quit():
    with srv.client("wwAsker") as q:
        gone = srv.client()
        gone.register("wwQuitter", user="quser", realname="Quitting Person")
        gone.send("QUIT :bye")
        gone.closed()
        gone.close()
        # the server closed the connection, so the QUIT has been handled
        lines = reply_until(q, "WHOWAS wwQuitter", "369")
        l314 = numeric_lines(lines, "314")
        assert len(l314) == 1, lines
        p = params(l314[0])
        assert p[1] == "wwQuitter" and p[2].endswith("quser")
        assert p[4] == "*" and p[5] == "Quitting Person"
        assert len(numeric_lines(lines, "312")) == 1
        assert lines[-1].endswith("wwQuitter :End of WHOWAS")


def test_whowas_after_nick_change():
    with srv.client("wwOldNick") as c:
        c.send("NICK wwNewNick")
        c.expect(r"NICK :?wwNewNick")
        lines = reply_until(c, "WHOWAS wwoldnick", "369")
        l314 = numeric_lines(lines, "314")
        assert len(l314) == 1 and params(l314[0])[1] == "wwOldNick", lines


def test_whowas_count_limits_entries():
    with srv.client("wwCount1") as c:
        for n in ("wwCount2", "wwCount1", "wwCount2", "wwCount1"):
            c.send("NICK " + n)
            c.expect(r"NICK :?" + n)
        lines = reply_until(c, "WHOWAS wwCount2", "369")
        assert len(numeric_lines(lines, "314")) == 2, lines
        lines = reply_until(c, "WHOWAS wwCount2 1", "369")
        assert len(numeric_lines(lines, "314")) == 1, lines


def test_whowas_unknown_nick_gives_406_then_369():
    with srv.client("wwNone") as q:
        lines = reply_until(q, "WHOWAS neverwashere", "369")
        assert re.search(r" 406 wwNone neverwashere :There was no such",
                         lines[0]), lines
        assert numeric_lines(lines, "314") == []


# ---- AWAY, ISON, USERHOST ----

def test_away_sets_306_and_unsets_305():
    with srv.client("awayU") as c:
        c.send("AWAY :out to lunch")
        c.expect(r" 306 awayU :You have been marked as being away")
        c.send("AWAY")
        c.expect(r" 305 awayU :You are no longer marked as being away")


def test_privmsg_to_away_user_gets_301():
    with srv.client("awayTarget") as t, srv.client("awaySender") as s:
        t.send("AWAY :brb")
        t.expect_numeric("306")
        s.send("PRIVMSG awayTarget :are you there?")
        s.expect(r" 301 awaySender awayTarget :brb$")
        t.expect(r"PRIVMSG awayTarget :are you there\?")
        t.send("AWAY :")
        t.expect_numeric("305")
        s.send("PRIVMSG awayTarget :back now?")
        t.expect(r"PRIVMSG awayTarget :back now\?")
        lines = s.sync()
        assert numeric_lines(lines, "301") == [], lines


def test_away_message_is_truncated_to_awaylen():
    with srv.client("awayLong") as c, srv.client("awayLook") as q:
        c.send("AWAY :" + "x" * 450)
        c.expect_numeric("306")
        lines = reply_until(q, "WHOIS awayLong", "318")
        msg = params(numeric_lines(lines, "301")[0])[-1]
        assert msg == "x" * 390, len(msg)


def test_ison_reports_present_nicks_as_the_server_spells_them():
    with srv.client("isonA") as a, srv.client("IsOnB") as b:
        a.send("ISON isona nobodyhere ISONB")
        line = a.expect_numeric("303")
        assert params(line)[-1].split() == ["isonA", "IsOnB"], line
        a.send("ISON :nobodyhere isonb")
        line = a.expect_numeric("303")
        assert params(line)[-1] == "IsOnB", line
        a.send("ISON nobodyhere")
        line = a.expect_numeric("303")
        assert line.endswith(" 303 isonA :"), line


def test_ison_reply_stays_within_one_line():
    nick = "isonLongNickname"
    with srv.client(nick) as a:
        a.send("ISON :" + " ".join([nick.lower()] * 28))
        line = a.expect_numeric("303")
        assert len(line) + 2 <= 512, len(line)
        words = params(line)[-1].split()
        assert words and all(w == nick for w in words), line


def test_userhost_marks_opers_and_away_users():
    with srv.client() as a, srv.client("uhOper") as o:
        a.register("uhPlain", user="plainu")
        o.send("OPER qadmin " + OPER_PASSWORD)
        o.expect_numeric("381")
        o.send("AWAY :away")
        o.expect_numeric("306")
        a.send("USERHOST uhPlain uhOper nobodyhere")
        line = a.expect_numeric("302")
        replies = params(line)[-1].split()
        assert len(replies) == 2, line
        assert re.match(r"^uhPlain=\+~?plainu@\S+$", replies[0]), replies
        assert re.match(r"^uhOper\*=-\S+@\S+$", replies[1]), replies


def test_userhost_answers_at_most_five_nicks():
    with srv.client("uhMany") as a:
        a.send("USERHOST uhMany uhMany uhMany uhMany uhMany uhMany uhMany")
        line = a.expect_numeric("302")
        assert len(params(line)[-1].split()) == 5, line


# ---- MOTD ----

def motd_lines(c):
    lines = reply_until(c, "MOTD", "(376|422)")
    return [params(l)[-1] for l in numeric_lines(lines, "372")], lines


def test_motd_is_read_from_the_configured_file():
    path = os.path.join(tmp, "motd-basic.txt")
    with open(path, "w") as f:
        f.write("Welcome to the test network\r\nsecond line\n\n" +
                "y" * 600 + "\n")
    with Server(server="motd %s\n" % path) as s, s.client() as c:
        c.send("NICK motdU")
        c.send("USER motdu 0 * :Motd User")
        lines = c.lines_until(r" 376 ")
        assert numeric_lines(lines, "375")[0].endswith(
            " 375 motdU :- irc.test Message of the day - "), lines
        got = [params(l)[-1] for l in numeric_lines(lines, "372")]
        assert got[:3] == ["- Welcome to the test network",
                           "- second line", "- "], got
        # an over-long line is cut to fit one reply, not dropped
        assert got[3].startswith("- yyyy") and len(got) == 4, got
        assert all(len(l) <= 512 for l in lines)
        assert lines[-1].endswith(" 376 motdU :End of /MOTD command.")
        again, _ = motd_lines(c)
        assert again == got


def test_missing_motd_gives_422():
    with Server() as s, s.client() as c:
        c.send("NICK nomotd")
        c.send("USER nomotd 0 * :No Motd")
        lines = c.lines_until(r" (376|422) ")
        assert lines[-1].endswith(" 422 nomotd :MOTD File is missing"), lines
        got, lines = motd_lines(c)
        assert got == [] and " 422 " in lines[-1]


def test_motd_with_unreadable_file_at_startup_gives_422():
    with Server(server="motd %s\n" % os.path.join(tmp, "absent.txt")) as s, \
            s.client("motdAbsent") as c:
        got, lines = motd_lines(c)
        assert " 422 " in lines[-1], lines


def test_motd_survives_sighup_and_keeps_old_text_when_file_vanishes():
    path = os.path.join(tmp, "motd-rehash.txt")
    with open(path, "w") as f:
        f.write("first version\n")
    with Server(server="motd %s\n" % path) as s, s.client("motdHup") as c:
        assert motd_lines(c)[0] == ["- first version"]
        with open(path, "w") as f:
            f.write("second version\n")
        s.signal(signal.SIGHUP)
        s.wait_log("configuration reloaded")
        assert motd_lines(c)[0] == ["- second version"]
        os.unlink(path)
        s.signal(signal.SIGHUP)
        # wait until the second rehash has happened (it logs)
        wait_for(lambda: s.logtext().count("configuration reloaded") >= 2,
                 what="second rehash")
        assert motd_lines(c)[0] == ["- second version"]


# ---- LUSERS, VERSION, TIME, ADMIN, INFO ----

def test_lusers_counts_users_invisible_unknown_and_channels():
    with Server() as s, s.client("lusA") as a, s.client("lusB") as b, \
            s.client() as unreg:
        unreg.send("NICK halfway")
        b.send("MODE lusB +i")
        b.expect(r"MODE lusB :?\+i")
        b.send("JOIN #lusers")
        b.expect(r"366 lusB")
        unreg.send("PING :x")   # processed once NICK is
        unreg.expect(r"(PONG|451)")
        lines = reply_until(a, "LUSERS", "266")
        text = "\n".join(lines)
        assert re.search(r" 251 lusA :There are 1 users and 1 invisible "
                         r"on 1 servers$", text, re.M), lines
        assert numeric_lines(lines, "252") == []
        assert re.search(r" 253 lusA 1 :unknown connection\(s\)$", text,
                         re.M), lines
        assert re.search(r" 254 lusA 1 :channels formed$", text, re.M)
        assert re.search(r" 255 lusA :I have 2 clients and 0 servers$",
                         text, re.M)
        assert re.search(r" 265 lusA 2 \d+ :Current local users 2, max \d+$",
                         text, re.M)
        assert re.search(r" 266 lusA 2 \d+ :Current global users 2, max",
                         text, re.M)


def test_lusers_is_part_of_registration():
    with Server() as s, s.client() as c:
        c.send("NICK lusReg")
        c.send("USER lusreg 0 * :x")
        lines = c.lines_until(r" (376|422) ")
        for num in ("251", "255", "265", "266"):
            assert numeric_lines(lines, num), (num, lines)


def test_version_gives_351_and_isupport():
    with srv.client("verU") as c:
        c.send("VERSION")
        line = c.expect_numeric("351")
        p = params(line)
        assert p[1].startswith("ergo") and p[2] == "irc.test", line
        c.expect(r" 005 verU .*:are supported by this server")
        c.send("VERSION no.such.server")
        c.expect(r" 402 verU no.such.server :No such server")


def test_time_gives_391():
    with srv.client("timeU") as c:
        c.send("TIME")
        line = c.expect_numeric("391")
        p = params(line)
        assert p[1] == "irc.test" and str(time.gmtime().tm_year) in p[-1]


def test_admin_gives_256_to_259():
    with srv.client("adminU") as c:
        lines = reply_until(c, "ADMIN", "259")
        for num in ("256", "257", "258", "259"):
            assert len(numeric_lines(lines, num)) == 1, (num, lines)
        assert params(numeric_lines(lines, "256")[0])[1] == "irc.test"


def test_info_gives_371_lines_and_374():
    with srv.client("infoU") as c:
        lines = reply_until(c, "INFO", "374")
        assert len(numeric_lines(lines, "371")) >= 1, lines
        assert lines[-1].endswith(" 374 infoU :End of INFO list")


def test_queries_need_registration():
    with srv.client() as c:
        for cmd in ("WHO", "WHOIS x", "AWAY", "MOTD", "LUSERS"):
            c.send(cmd)
            c.expect_numeric("451")
