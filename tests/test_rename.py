"""draft/channel-rename (irc_rename.c): RENAME by a channel operator,
members with the cap see RENAME (with an empty reason when none was
given), the others PART and JOIN with the topic and NAMES (not for a
change of case), the channel keeps its members, modes and topic, the
errors of the spec (FAIL RENAME CHANNEL_NAME_IN_USE, CANNOT_RENAME) and
the numerics it names, ChanServ's registration kept across a restart
under the new name, and the channel's history following it."""

import re

from ergotest import Server, run_ergo, wait_for

CAP = "draft/channel-rename"
CS = r"^:ChanServ!ChanServ@localhost NOTICE %s :"
NS = r"^:NickServ!NickServ@localhost NOTICE %s :"


def client(srv, nick, caps=(CAP,)):
    c = srv.client(nick, realname=nick, caps=caps or None)
    return c


def join(c, chan):
    c.send("JOIN " + chan)
    c.expect(r" 366 %s " % c.nick)


def test_the_cap_is_offered():
    with Server() as srv:
        c = srv.client()
        c.send("CAP LS 302")
        caps = []
        while True:
            line = c.expect(r" CAP \* LS ")
            caps += line.split(":", 2)[-1].split()
            if " LS * :" not in line:
                break
        assert CAP in caps, caps


def test_members_with_the_cap_see_rename_and_others_part_and_join():
    with Server() as srv:
        op = client(srv, "renamer")
        join(op, "#boaring")
        op.send("TOPIC #boaring :all about boring things")
        op.expect(r" TOPIC #boaring ")
        capped = client(srv, "capped")
        join(capped, "#boaring")
        plain = client(srv, "plain", caps=())
        join(plain, "#boaring")
        capped.sync()
        op.sync()
        op.send("RENAME #boaring #boring :Typo fix")
        pfx = r":renamer!~renamer@127\.0\.0\.1"
        op.expect(r"^%s RENAME #boaring #boring :Typo fix$" % pfx)
        capped.expect(r"^%s RENAME #boaring #boring :Typo fix$" % pfx)
        lines = plain.lines_until(r" 366 plain #boring ")
        body = [l for l in lines if not l.startswith("PING")]
        assert re.match(r"^:plain!~plain@127\.0\.0\.1 PART #boaring "
                        r":Typo fix$", body[0]), body
        assert re.match(r"^:plain!~plain@127\.0\.0\.1 JOIN #boring$",
                        body[1]), body
        assert re.match(r"^:irc\.test 332 plain #boring :all about boring "
                        r"things$", body[2]), body
        assert re.match(r"^:irc\.test 333 plain #boring ", body[3]), body
        assert re.match(r"^:irc\.test 353 plain [=@*] #boring :", body[4])
        assert set(body[4].split(":", 2)[2].split()) == {
            "@renamer", "capped", "plain"}, body
        # the channel is the same one, under its new name
        plain.send("PRIVMSG #boring :still here")
        capped.expect(r"^:plain!\S+ PRIVMSG #boring :still here$")
        op.send("MODE #boring")
        op.expect(r" 324 renamer #boring \+\S*n")
        op.send("NAMES #boaring")
        op.expect(r" 366 renamer #boaring ")


def test_without_a_reason_the_rename_has_an_empty_one():
    with Server() as srv:
        op = client(srv, "coder")
        join(op, "#coding")
        plain = client(srv, "other", caps=())
        join(plain, "#coding")
        op.send("RENAME #coding #programming")
        op.expect(r"^:coder!\S+ RENAME #coding #programming :$")
        plain.expect(r"^:other!\S+ PART #coding :Channel renamed$")
        plain.expect(r"^:other!\S+ JOIN #programming$")


def test_a_change_of_case_is_a_rename_without_part_and_join():
    with Server() as srv:
        op = client(srv, "caser")
        join(op, "#lower")
        plain = client(srv, "plainer", caps=())
        join(plain, "#lower")
        op.send("RENAME #lower #LOWER")
        op.expect(r"^:caser!\S+ RENAME #lower #LOWER :$")
        lines = plain.sync()
        assert not any(" PART " in l or " JOIN " in l for l in lines), lines
        plain.send("NAMES #lower")
        plain.expect(r" 353 plainer [=@*] #LOWER :")


def test_errors_are_the_specs():
    with Server() as srv:
        op = client(srv, "chop")
        join(op, "#evil")
        join(op, "#good")
        member = client(srv, "member")
        join(member, "#evil")
        out = client(srv, "outside")
        op.send("RENAME #evil #good :Don't be evil")
        op.expect(r"^:irc\.test FAIL RENAME CHANNEL_NAME_IN_USE #evil "
                  r"#good :")
        op.send("RENAME #evil &evil")
        op.expect(r"^:irc\.test FAIL RENAME CANNOT_RENAME #evil &evil :")
        op.send("RENAME #evil #bad,name")
        op.expect(r"^:irc\.test FAIL RENAME CANNOT_RENAME #evil #bad,name :")
        op.send("RENAME #evil #evil")
        op.expect(r"^:irc\.test FAIL RENAME CANNOT_RENAME #evil #evil :")
        member.send("RENAME #evil #nice")
        member.expect(r"^:irc\.test 482 member #evil :")
        out.send("RENAME #evil #nice")
        out.expect(r"^:irc\.test 442 outside #evil :")
        out.send("RENAME #nowhere #nice")
        out.expect(r"^:irc\.test 403 outside #nowhere :")
        out.send("RENAME #evil")
        out.expect(r"^:irc\.test 461 outside RENAME :")
        # nothing was renamed
        member.send("NAMES #evil")
        member.expect(r" 353 member [=@*] #evil :")


def test_an_oper_renames_any_channel():
    p = run_ergo("genpasswd", input="operpw\n", timeout=60)
    assert p.returncode == 0, p.stderr
    h = [l for l in p.stdout.splitlines() if l.strip()][-1].strip()
    conf = 'oper admin { class server-admin  password "%s" }' % h
    with Server(conf=conf) as srv:
        owner = client(srv, "owner")
        join(owner, "#theirs")
        o = client(srv, "oper")
        o.send("OPER admin operpw")
        o.expect(r" 381 ")
        o.send("RENAME #theirs #ours :mine now")
        o.expect(r"^:oper!\S+ RENAME #theirs #ours :mine now$")
        owner.expect(r"^:oper!\S+ RENAME #theirs #ours :mine now$")


def test_chanserv_registration_follows_the_channel():
    with Server() as srv:
        f = client(srv, "founder")
        f.send("NS REGISTER pw")
        f.expect(NS % "founder" + "Account created")
        join(f, "#old")
        f.send("CS REGISTER #old")
        f.expect(CS % "founder" + "Channel #old successfully registered")
        f.send("TOPIC #old :kept")
        f.expect(r" TOPIC #old :kept")
        helper = client(srv, "helper")
        join(helper, "#old")
        f.send("MODE #old +o helper")
        helper.expect(r" MODE #old \+o helper")
        # an op who is not the founder may not rename a registered one
        helper.send("RENAME #old #new")
        helper.expect(r"^:irc\.test FAIL RENAME CANNOT_RENAME #old #new :")
        # nor may anyone rename onto a registered name
        join(helper, "#squat")
        helper.send("RENAME #squat #old")
        helper.expect(r"^:irc\.test FAIL RENAME CHANNEL_NAME_IN_USE "
                      r"#squat #old :")
        f.send("RENAME #old #new :moving")
        f.expect(r"^:founder!\S+ RENAME #old #new :moving$")
        f.send("CS INFO #new")
        f.expect(CS % "founder" + "Founder: founder")
        f.send("CS INFO #old")
        f.expect(CS % "founder" + ".*not registered")
        srv.stop()
        srv.start()
        x = client(srv, "later", caps=())
        x.send("JOIN #new")
        x.expect(r" 332 later #new :kept$")
        x.send("CS INFO #new")
        x.expect(CS % "later" + "Founder: founder")


def test_history_follows_the_channel():
    with Server() as srv:
        op = client(srv, "talker", caps=(CAP, "batch",
                                         "draft/chathistory"))
        join(op, "#hist")
        for i in range(3):
            op.send("PRIVMSG #hist :line %d" % i)
        op.sync()
        op.send("RENAME #hist #story")
        op.expect(r" RENAME #hist #story ")
        op.send("CHATHISTORY LATEST #story * 10")
        lines = op.lines_until(r"^(@\S+ )?:irc\.test BATCH -")
        msgs = [l for l in lines if " PRIVMSG " in l]
        assert [m.rsplit(" :", 1)[1] for m in msgs] == [
            "line 0", "line 1", "line 2"], lines
        assert all(" PRIVMSG #story :" in m for m in msgs), msgs


def test_a_join_of_the_old_name_is_redirected_to_the_new_one():
    with Server() as srv:
        op = client(srv, "mover")
        join(op, "#foo")
        op.send("TOPIC #foo :the topic")
        op.expect(r" TOPIC #foo ")
        op.send("RENAME #foo #bar :tidy")
        op.expect(r" RENAME #foo #bar :tidy$")
        # with the cap: FAIL, and the client joins the new name itself
        capped = client(srv, "capped")
        capped.send("JOIN #FOO")
        capped.expect(r"^:irc\.test FAIL JOIN CHANNEL_RENAMED #FOO #bar "
                      r":The channel has been renamed$")
        lines = capped.sync()
        assert not any(" JOIN " in l for l in lines), lines
        # without: 470, then the JOIN of the new name with its topic
        plain = client(srv, "plain", caps=())
        plain.send("JOIN #foo")
        plain.expect(r"^:irc\.test 470 plain #foo #bar "
                     r":The channel has been renamed$")
        plain.expect(r"^:plain!\S+ JOIN #bar$")
        plain.expect(r" 332 plain #bar :the topic$")
        plain.expect(r" 366 plain #bar ")
        op.expect(r"^:plain!\S+ JOIN #bar$")
        # a second rename: the first old name follows to the last one
        op.send("RENAME #bar #baz")
        op.expect(r" RENAME #bar #baz :$")
        late = client(srv, "late", caps=())
        late.send("JOIN #foo")
        late.expect(r"^:irc\.test 470 late #foo #baz ")
        late.expect(r" 366 late #baz ")
        late.send("PART #baz")
        late.send("JOIN #bar")
        late.expect(r"^:irc\.test 470 late #bar #baz ")
        late.expect(r" 366 late #baz ")
        # renamed back: #foo is a channel again, #baz now redirects
        op.send("RENAME #baz #foo")
        op.expect(r" RENAME #baz #foo :$")
        fresh = client(srv, "fresh", caps=())
        fresh.send("JOIN #foo")
        fresh.expect(r"^:fresh!\S+ JOIN #foo$")
        fresh.send("JOIN #baz")
        fresh.expect(r"^:irc\.test 470 fresh #baz #foo ")
        lines = fresh.sync()
        assert not any(" JOIN " in l for l in lines), lines  # in it already
        # a channel made again under the old name is joined, not left
        op.send("JOIN #bar")
        op.expect(r"^:irc\.test FAIL JOIN CHANNEL_RENAMED #bar #foo ")


def test_redirection_ends_after_rename_redirect_and_can_be_off():
    with Server(conf="channels { rename-redirect 0s }") as srv:
        op = client(srv, "mover")
        join(op, "#one")
        op.send("RENAME #one #two")
        op.expect(r" RENAME #one #two ")
        other = client(srv, "other", caps=())
        other.send("JOIN #one")
        other.expect(r"^:other!\S+ JOIN #one$")
        other.expect(r" 353 other [=@*] #one :@other$")
    with Server(conf="channels { rename-redirect 1s }") as srv:
        op = client(srv, "mover")
        join(op, "#one")
        op.send("RENAME #one #two")
        op.expect(r" RENAME #one #two ")
        other = client(srv, "other", caps=())
        other.send("JOIN #one")
        other.expect(r"^:irc\.test 470 other #one #two ")
        other.expect(r" 366 other #two ")
        other.send("PART #two")
        other.expect(r" PART #two")

        def joined_old():
            other.send("JOIN #one")
            lines = other.lines_until(r" (366|470) other ")
            if " 470 " in lines[-1]:
                other.expect(r" 366 other #two ")
                other.send("PART #two")
                other.expect(r" PART #two")
                return False
            return True
        wait_for(joined_old, timeout=10, what="the redirection to end")


def test_history_events_are_found_under_the_new_name():
    caps = (CAP, "batch", "draft/chathistory", "draft/event-playback")
    with Server() as srv:
        op = client(srv, "evop", caps=caps)
        join(op, "#events")
        op.send("TOPIC #events :before")
        op.expect(r" TOPIC #events :before")
        guest = client(srv, "guest", caps=())
        join(guest, "#events")
        op.expect(r"^:guest!\S+ JOIN #events$")
        op.send("PRIVMSG #events :hello")
        op.sync()
        op.send("RENAME #events #happenings")
        op.expect(r" RENAME #events #happenings ")
        op.send("TOPIC #happenings :after")
        op.expect(r" TOPIC #happenings :after")
        op.send("CHATHISTORY LATEST #happenings * 20")
        lines = op.lines_until(r"^(@\S+ )?:irc\.test BATCH -")
        body = [l.split(" ", 1)[1] for l in lines if "batch=" in l]
        kinds = [re.sub(r"^:\S+ ", "", l) for l in body]
        assert kinds == [
            "JOIN #happenings", "TOPIC #happenings :before",
            "JOIN #happenings", "PRIVMSG #happenings :hello",
            "TOPIC #happenings :after"], body
        assert not any("#events" in l for l in lines), lines
        op.send("CHATHISTORY LATEST #events * 20")
        op.expect(r"FAIL CHATHISTORY INVALID_TARGET|BATCH \+\S+ "
                  r"chathistory #events")


def test_read_markers_are_found_under_the_new_name():
    mr_caps = (CAP, "draft/read-marker")
    t1 = "2019-01-04T14:33:26.123Z"
    t2 = "2019-01-05T08:00:00.000Z"
    with Server() as srv:
        op = client(srv, "marker", caps=mr_caps)
        op.send("NS REGISTER pw")
        op.expect(NS % "marker" + "Account created")
        join(op, "#marked")     # its MARKREAD #marked * before 366
        op.send("MARKREAD #marked timestamp=" + t1)
        op.expect(r"MARKREAD #marked timestamp=" + re.escape(t1))
        anon = client(srv, "anon", caps=mr_caps)   # no account
        join(anon, "#marked")
        anon.send("MARKREAD #marked timestamp=" + t2)
        anon.expect(r"MARKREAD #marked timestamp=" + re.escape(t2))
        # an old marker of the new name, from an earlier channel of it
        op.send("MARKREAD #read timestamp=" + t2)
        op.expect(r"MARKREAD #read timestamp=")
        op.send("RENAME #marked #read")
        op.expect(r" RENAME #marked #read ")
        op.send("MARKREAD #read")
        op.expect(r"^:irc\.test MARKREAD #read timestamp=%s$" %
                  re.escape(t1))
        op.send("MARKREAD #marked")
        op.expect(r"^:irc\.test MARKREAD #marked \*$")
        anon.send("MARKREAD #read")
        anon.expect(r"^:irc\.test MARKREAD #read timestamp=%s$" %
                    re.escape(t2))
        anon.send("MARKREAD #marked")
        anon.expect(r"^:irc\.test MARKREAD #marked \*$")
        # the account's marker is kept under the new name: a restart
        op.close()
        anon.close()
        srv.stop()
        srv.start()
        again = client(srv, "marker2", caps=mr_caps)
        again.send("NS IDENTIFY marker pw")
        again.expect(r"You're now logged in")
        again.send("MARKREAD #read")
        again.expect(r"^:irc\.test MARKREAD #read timestamp=%s$" %
                     re.escape(t1))


def test_a_registered_channels_data_follows_it_across_a_restart():
    conf = "history { persistent yes }"
    with Server(conf=conf) as srv:
        f = client(srv, "owner", caps=(CAP, "batch", "draft/metadata-2"))
        f.send("NS REGISTER pw")
        f.expect(NS % "owner" + "Account created")
        join(f, "#reg")
        f.send("CS REGISTER #reg")
        f.expect(CS % "owner" + "Channel #reg successfully registered")
        f.send("MODE #reg +m")
        f.expect(r" MODE #reg \+m")
        f.send("METADATA #reg SET url :https://reg.example/")
        f.expect(r" 761 owner #reg url ")
        f.send("PRIVMSG #reg :said before")
        helper = client(srv, "helper", caps=())
        helper.send("NS REGISTER pw")
        helper.expect(NS % "helper" + "Account created")
        f.send("CS AMODE #reg +o helper")
        f.expect(CS % "owner")
        f.send("RENAME #reg #registered")
        f.expect(r" RENAME #reg #registered ")
        f.close()
        helper.close()
        srv.stop()
        srv.start()
        h = client(srv, "helper", caps=("batch", "draft/chathistory",
                                        "draft/metadata-2"))
        h.send("NS IDENTIFY helper pw")
        h.expect(r"You're now logged in")
        join(h, "#registered")
        h.expect(r" MODE #registered \+o helper")   # the AMODE
        h.send("MODE #registered")
        h.expect(r" 324 helper #registered \+\S*m")
        h.send("METADATA #registered GET url")
        h.expect(r" 761 helper #registered url \* :https://reg\.example/$")
        h.send("CHATHISTORY LATEST #registered * 10")
        h.expect(r"^@\S+ :owner!\S+ PRIVMSG #registered :said before$")
        h.send("CS INFO #registered")
        h.expect(CS % "helper" + "Founder: owner")
