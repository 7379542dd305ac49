"""Channels: JOIN PART KICK TOPIC NAMES LIST INVITE (irc_chan.c)."""

import re

from ergotest import Server


def E(s):
    return re.escape(s)


def join(c, chan, key=None):
    """JOINs and consumes everything up to the 366 of that channel."""
    c.send("JOIN %s%s" % (chan, " " + key if key else ""))
    return c.lines_until(r" 366 %s %s :" % (E(c.nick), E(chan)))


def names_of(c, chan):
    """The 353 entries for chan (merged over lines) and the 353 lines."""
    c.send("NAMES " + chan)
    lines = c.lines_until(r" 366 %s %s :" % (E(c.nick), E(chan)))
    rpl = [l for l in lines if re.search(r" 353 ", l)]
    names = []
    for l in rpl:
        names += l.split(" :", 1)[1].split()
    return names, rpl


def cap_req(c, cap):
    c.send("CAP REQ :" + cap)
    c.expect(r"CAP \S+ ACK :?%s" % E(cap))


# ---- JOIN ----

def test_join_creates_channel_with_creator_op():
    with Server() as srv:
        a = srv.client("alice")
        a.send("JOIN #new")
        a.expect(r"^:alice!\S+@\S+ JOIN #new$")
        a.expect(r"^:irc\.test 353 alice = #new :@alice$")
        a.expect(r"^:irc\.test 366 alice #new :End of /NAMES list$")


def test_join_applies_default_modes_nt():
    with Server() as srv:
        a = srv.client("alice")
        join(a, "#dm")
        a.send("MODE #dm")
        a.expect(r" 324 alice #dm \+nt$")
        a.expect(r" 329 alice #dm \d+$")


def test_join_applies_configured_default_modes():
    with Server(conf="channels { default-modes +ns }") as srv:
        a = srv.client("alice")
        join(a, "#dm")
        a.send("MODE #dm")
        a.expect(r" 324 alice #dm \+ns$")


def test_join_is_sent_to_every_member_including_joiner():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#c")
        b.send("JOIN #c")
        b.expect(r"^:bob!\S+ JOIN #c$")
        a.expect(r"^:bob!\S+ JOIN #c$")
        lines = b.lines_until(r" 366 bob #c ")
        names = [l for l in lines if " 353 " in l][0]
        assert sorted(names.split(" :", 1)[1].split()) == ["@alice", "bob"]


def test_join_sends_topic_before_names():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#t")
        a.send("TOPIC #t :hello world")
        a.expect(r"TOPIC #t :hello world$")
        b.send("JOIN #t")
        lines = b.lines_until(r" 366 bob #t ")
        nums = [re.search(r"^:\S+ (\d{3}) ", l).group(1)
                for l in lines if re.search(r"^:\S+ \d{3} ", l)]
        assert nums == ["332", "333", "353", "366"], lines
        assert lines[1].endswith(" 332 bob #t :hello world")
        assert re.search(r" 333 bob #t alice!\S+ \d+$", lines[2]), lines


def test_join_without_topic_sends_no_331():
    with Server() as srv:
        a = srv.client("alice")
        lines = join(a, "#nt")
        assert not any(" 331 " in l or " 332 " in l for l in lines), lines


def test_join_several_channels_with_keys():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#k1")
        join(a, "#k2")
        join(a, "#open")
        a.send("MODE #k1 +k one")
        a.expect(r"MODE #k1 \+k one$")
        a.send("MODE #k2 +k two")
        a.expect(r"MODE #k2 \+k two$")
        b.send("JOIN #k1,#k2,#open one,two")
        for ch in ("#k1", "#k2", "#open"):
            b.expect(r"^:bob!\S+ JOIN %s$" % ch)
            b.expect(r" 366 bob %s " % ch)


def test_join_several_channels_wrong_second_key_475():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#k1")
        join(a, "#k2")
        a.send("MODE #k2 +k two")
        a.expect(r"MODE #k2 \+k two$")
        b.send("JOIN #k1,#k2 x,wrong")
        b.expect(r"^:bob!\S+ JOIN #k1$")
        b.expect(r" 475 bob #k2 :Cannot join channel \(\+k\)$")


def test_join_bad_name_403():
    # not a channel name at all: "no such channel"
    with Server() as srv:
        a = srv.client("alice")
        a.send("JOIN nohash")
        a.expect(r" 403 alice nohash :No such channel$")
        a.send("JOIN +plus")
        a.expect(r" 403 alice \+plus :No such channel$")


def test_join_invalid_channel_name_476():
    # a channel prefix but not a valid name: 476 ERR_BADCHANMASK, which
    # modern.ircdocs.horse calls stronger than 403
    with Server() as srv:
        a = srv.client("alice")
        a.send("JOIN #")
        a.expect(r" 476 alice # :Bad Channel Mask$")
        a.send("JOIN #bell\x07name")
        a.expect(r" 476 alice #bell\x07name :Bad Channel Mask$")
        a.send("JOIN #ok,&")
        a.expect(r" 366 alice #ok ")
        a.expect(r" 476 alice & :Bad Channel Mask$")
        a.sync()
        assert not any(" JOIN " in l for l in a.received if "#bell" in l)


def test_join_name_over_channellen_476():
    with Server(conf="limits { channellen 10 }") as srv:
        a = srv.client("alice")
        a.send("JOIN #123456789")           # 10 bytes: fine
        a.expect(r" 366 alice #123456789 ")
        a.send("JOIN #1234567890")          # 11 bytes
        a.expect(r" 476 alice #1234567890 :Bad Channel Mask$")


def test_join_when_already_member_is_ignored():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#c")
        join(b, "#c")
        a.expect(r"JOIN #c$")
        b.send("JOIN #c")
        assert b.sync() == []
        assert not any("JOIN" in l for l in a.sync())


def test_join_too_many_channels_405():
    with Server(conf="channels { max-per-user 2 }") as srv:
        a = srv.client("alice")
        join(a, "#one")
        join(a, "#two")
        a.send("JOIN #three")
        a.expect(r" 405 alice #three :You have joined too many channels$")
        a.send("PART #one")
        a.expect(r"PART #one")
        join(a, "#three")


def test_join_zero_parts_every_channel():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#x")
        join(a, "#y")
        join(b, "#x")
        a.send("JOIN 0")
        a.expect(r"^:alice!\S+ PART #[xy]$")
        a.expect(r"^:alice!\S+ PART #[xy]$")
        b.expect(r"^:alice!\S+ PART #x$")
        a.send("WHOIS alice")
        lines = a.lines_until(r" 318 ")
        assert not any(" 319 " in l for l in lines), lines


def test_join_channel_name_case_insensitive_ascii():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#Foo")
        b.send("JOIN #foo")
        b.expect(r"^:bob!\S+ JOIN #Foo$")      # the name as created
        b.expect(r" 353 bob = #Foo :")
        a.expect(r"^:bob!\S+ JOIN #Foo$")


def test_join_ascii_casemapping_keeps_brackets_distinct():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#a[")
        b.send("JOIN #a{")
        b.expect(r" 353 bob = #a\{ :@bob$")


def test_join_rfc1459_casemapping_folds_brackets():
    with Server(server="casemapping rfc1459") as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#a[")
        b.send("JOIN #A{")
        b.expect(r"^:bob!\S+ JOIN #a\[$")
        names, _ = names_of(b, "#a[")
        assert sorted(names) == ["@alice", "bob"], names


# ---- PART ----

def test_part_with_reason():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#p")
        join(b, "#p")
        b.send("PART #p :see you later")
        b.expect(r"^:bob!\S+ PART #p :see you later$")
        a.expect(r"^:bob!\S+ PART #p :see you later$")


def test_part_without_reason():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#p")
        join(b, "#p")
        b.send("PART #p")
        a.expect(r"^:bob!\S+ PART #p$")


def test_part_several_channels():
    with Server() as srv:
        a = srv.client("alice")
        join(a, "#p1")
        join(a, "#p2")
        a.send("PART #p1,#p2 :bye")
        a.expect(r"PART #p1 :bye$")
        a.expect(r"PART #p2 :bye$")


def test_part_no_such_channel_403_and_not_on_channel_442():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        a.send("PART #nowhere")
        a.expect(r" 403 alice #nowhere :No such channel$")
        join(b, "#bobs")
        a.send("PART #bobs")
        a.expect(r" 442 alice #bobs :You're not on that channel$")


def test_channel_is_destroyed_when_last_member_parts():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#gone")
        a.send("TOPIC #gone :old topic")
        a.expect(r"TOPIC #gone")
        a.send("MODE #gone +b bad!*@*")
        a.expect(r"MODE #gone \+b bad!\*@\*")
        a.send("PART #gone")
        a.expect(r"PART #gone")
        b.send("LIST")
        lines = b.lines_until(r" 323 ")
        assert not any(" 322 " in l for l in lines), lines
        b.send("TOPIC #gone")
        b.expect(r" 403 bob #gone :No such channel$")
        # recreated from scratch: new creator is op, no topic, no bans
        lines = join(b, "#gone")
        assert not any(" 332 " in l for l in lines), lines
        assert any(" 353 bob = #gone :@bob" in l for l in lines), lines
        b.send("MODE #gone +b")
        lines = b.lines_until(r" 368 ")
        assert not any(" 367 " in l for l in lines), lines


def test_channel_is_destroyed_when_last_member_quits():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#q")
        a.send("QUIT :bye")
        a.closed()
        b.send("NAMES #q")
        lines = b.lines_until(r" 366 bob #q ")
        assert not any(" 353 " in l for l in lines), lines
        lines = join(b, "#q")
        assert any(" 353 bob = #q :@bob" in l for l in lines), lines


def test_quit_is_seen_by_channel_peers_once():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        for ch in ("#q1", "#q2"):
            join(a, ch)
            join(b, ch)
        a.send("QUIT :done")
        b.expect(r"^:alice!\S+ QUIT :(Quit: )?done$")
        assert not any("QUIT" in l for l in b.sync())


# ---- KICK ----

def test_kick_removes_member_and_tells_everyone():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#k")
        join(b, "#k")
        a.send("KICK #k bob :behave")
        a.expect(r"^:alice!\S+ KICK #k bob :behave$")
        b.expect(r"^:alice!\S+ KICK #k bob :behave$")
        names, _ = names_of(a, "#k")
        assert names == ["@alice"], names
        b.send("PRIVMSG #k :still here?")
        b.expect(r" 404 bob #k ")


def test_kick_default_reason_is_kicker_nick():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#k")
        join(b, "#k")
        a.send("KICK #k bob")
        b.expect(r"^:alice!\S+ KICK #k bob :alice$")


def test_kick_reason_truncated_to_kicklen():
    with Server(conf="limits { kicklen 10 }") as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#k")
        join(b, "#k")
        a.send("KICK #k bob :0123456789abcdef")
        b.expect(r"^:alice!\S+ KICK #k bob :0123456789$")


def test_kick_several_nicks():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        c = srv.client("carol")
        join(a, "#k")
        join(b, "#k")
        join(c, "#k")
        a.send("KICK #k bob,carol :out")
        a.expect(r"KICK #k bob :out$")
        a.expect(r"KICK #k carol :out$")
        names, _ = names_of(a, "#k")
        assert names == ["@alice"], names


def test_kick_needs_channel_operator_482():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#k")
        join(b, "#k")
        b.send("KICK #k alice")
        b.expect(r" 482 bob #k :You don't have enough channel privileges$")
        assert not any("KICK" in l for l in a.sync())


def test_kick_errors_403_442_441_401():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        a.send("KICK #none bob")
        a.expect(r" 403 alice #none :No such channel$")
        join(b, "#bobs")
        a.send("KICK #bobs bob")
        a.expect(r" 442 alice #bobs :You're not on that channel$")
        join(a, "#mine")
        a.send("KICK #mine bob")
        a.expect(r" 441 alice bob #mine :They aren't on that channel$")
        a.send("KICK #mine ghost")
        a.expect(r" 401 alice ghost :No such nick/channel$")


def test_kick_last_member_destroys_channel():
    with Server() as srv:
        a = srv.client("alice")
        join(a, "#solo")
        a.send("KICK #solo alice")
        a.expect(r"KICK #solo alice :alice$")
        a.send("TOPIC #solo")
        a.expect(r" 403 alice #solo ")


# ---- TOPIC ----

def test_topic_query_set_and_clear():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#t")
        join(b, "#t")
        a.send("TOPIC #t")
        a.expect(r" 331 alice #t :No topic is set$")
        a.send("TOPIC #t :the topic")
        a.expect(r"^:alice!\S+ TOPIC #t :the topic$")
        b.expect(r"^:alice!\S+ TOPIC #t :the topic$")
        b.send("TOPIC #t")
        b.expect(r" 332 bob #t :the topic$")
        b.expect(r" 333 bob #t alice!\S+ \d+$")
        a.send("TOPIC #t :")
        b.expect(r"^:alice!\S+ TOPIC #t :$")
        b.send("TOPIC #t")
        b.expect(r" 331 bob #t :No topic is set$")


def test_topic_protected_by_plus_t_needs_op_482():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#t")
        join(b, "#t")
        b.send("TOPIC #t :mine now")
        b.expect(r" 482 bob #t :You're not a channel operator$")
        a.send("MODE #t -t")
        b.expect(r"MODE #t -t$")
        b.send("TOPIC #t :mine now")
        a.expect(r"^:bob!\S+ TOPIC #t :mine now$")


def test_topic_not_on_channel_442_and_no_such_channel_403():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#t")
        b.send("TOPIC #t :hijack")
        b.expect(r" 442 bob #t :You're not on that channel$")
        b.send("TOPIC #none")
        b.expect(r" 403 bob #none :No such channel$")


def test_topic_query_by_nonmember_of_public_channel():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#t")
        a.send("TOPIC #t :visible")
        a.expect(r"TOPIC #t :visible")
        b.send("TOPIC #t")
        b.expect(r" 332 bob #t :visible$")


def test_topic_query_by_nonmember_of_secret_channel_442():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#s")
        a.send("MODE #s +s")
        a.expect(r"MODE #s \+s")
        b.send("TOPIC #s")
        b.expect(r" 442 bob #s ")


def test_topic_truncated_to_topiclen():
    with Server(conf="limits { topiclen 12 }") as srv:
        a = srv.client("alice")
        join(a, "#t")
        a.send("TOPIC #t :abcdefghijklmnopqrstuvwxyz")
        a.expect(r"TOPIC #t :abcdefghijkl$")
        # never inside a UTF-8 sequence: 11 ASCII bytes then a 2-byte char
        a.send("TOPIC #t :abcdefghijk\u00e9z")
        a.expect(r"TOPIC #t :abcdefghijk$")


# ---- NAMES ----

def test_names_symbols_public_private_secret():
    with Server() as srv:
        a = srv.client("alice")
        for ch, mode, sym in (("#pub", None, "="), ("#prv", "+p", "*"),
                              ("#sec", "+s", "@")):
            join(a, ch)
            if mode:
                a.send("MODE %s %s" % (ch, mode))
                a.expect(r"MODE %s \%s" % (ch, mode))
            _, rpl = names_of(a, ch)
            assert rpl[0].endswith(" 353 alice %s %s :@alice" % (sym, ch)), \
                rpl


def test_names_without_argument_sends_only_end():
    with Server() as srv:
        a = srv.client("alice")
        join(a, "#c")
        a.send("NAMES")
        lines = a.lines_until(r" 366 ")
        assert lines == [":irc.test 366 alice * :End of /NAMES list"], lines


def test_names_part_join_never_echo_a_name_with_spaces():
    # fuzz_dispatch: "NAMES : #m -k+k x" answered "366 bob  #m -k+k x
    # :End of /NAMES list": a trailing parameter echoed as a middle one,
    # spaces and all (a client reads "#m", "-k+k" ... as parameters)
    with Server() as srv:
        a = srv.client("alice")
        join(a, "#c")
        a.send("NAMES : #c -k+k x")
        line = a.expect(r" 366 ")
        assert line == ":irc.test 366 alice * :End of /NAMES list", line
        a.send("PART :#c x")
        line = a.expect(r" 40[0-9] ")
        assert re.search(r" 40[0-9] alice \* :", line), line
        a.send("JOIN :&x y")
        line = a.expect(r" (403|476|479) ")
        assert re.search(r" (403|476|479) alice \* :", line), line


def test_names_of_secret_channel_hidden_from_nonmember():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#sec")
        a.send("MODE #sec +s")
        a.expect(r"MODE #sec \+s")
        names, rpl = names_of(b, "#sec")
        assert rpl == [], rpl


def test_names_of_unknown_channel_sends_only_end():
    with Server() as srv:
        a = srv.client("alice")
        a.send("NAMES #nothere")
        lines = a.lines_until(r" 366 ")
        assert lines == [":irc.test 366 alice #nothere :End of /NAMES list"]


def test_names_hides_invisible_users_from_nonmembers():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        c = srv.client("carol")
        a.send("MODE alice -i")
        a.sync()
        join(a, "#c")
        b.send("MODE bob -i+i")
        b.expect(r"MODE bob :\+i|MODE bob :-i\+i")
        join(b, "#c")
        names, _ = names_of(c, "#c")
        assert names == ["@alice"], names
        names, _ = names_of(a, "#c")
        assert sorted(names) == ["@alice", "bob"], names


def test_names_multi_prefix_cap_shows_all_prefixes():
    with Server() as srv:
        a = srv.client("alice")
        join(a, "#mp")
        a.send("MODE #mp +v alice")
        a.expect(r"MODE #mp \+v alice")
        names, _ = names_of(a, "#mp")
        assert names == ["@alice"], names
        cap_req(a, "multi-prefix")
        names, _ = names_of(a, "#mp")
        assert names == ["@+alice"], names


def test_names_userhost_in_names_cap():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#uh")
        join(b, "#uh")
        cap_req(a, "userhost-in-names")
        names, _ = names_of(a, "#uh")
        assert sorted(names) == ["@alice!~alice@127.0.0.1",
                                 "bob!~bob@127.0.0.1"], names


def test_names_userhost_and_multi_prefix_together():
    with Server() as srv:
        a = srv.client("alice")
        join(a, "#uh")
        a.send("MODE #uh +v alice")
        a.expect(r"MODE #uh \+v alice")
        cap_req(a, "multi-prefix")
        cap_req(a, "userhost-in-names")
        names, _ = names_of(a, "#uh")
        assert names == ["@+alice!~alice@127.0.0.1"], names


def test_names_split_over_lines_within_512_bytes():
    # 25 clients from 127.0.0.1: over the default max-per-ip of 16
    with Server(server="connection-limits { max-per-ip 64 }") as srv:
        a = srv.client("alice")
        join(a, "#big")
        nicks = []
        for i in range(24):
            n = "member%02d_" % i + "x" * 20
            c = srv.client(n)
            join(c, "#big")
            nicks.append(n)
        cap_req(a, "userhost-in-names")
        names, rpl = names_of(a, "#big")
        assert len(rpl) >= 2, rpl
        for l in rpl:
            assert len(l.encode()) + 2 <= 512, len(l)
            assert re.match(r"^:irc\.test 353 alice = #big :\S", l), l
        got = sorted(n.split("!")[0].lstrip("@") for n in names)
        assert got == sorted(nicks + ["alice"]), got


# ---- LIST ----

def test_list_of_more_channels_than_the_sendq_holds_ends_cleanly():
    # A LIST bigger than max-sendq would drop the asker with "SendQ
    # exceeded"; it is cut short instead, still ending with 323.
    with Server(server="max-sendq 16k",
                conf="channels { max-per-user 1000 }") as srv:
        a = srv.client("maker")
        names = ["#chan-number-%04d" % i for i in range(600)]
        for i in range(0, len(names), 20):
            a.send("JOIN " + ",".join(names[i:i + 20]))
            a.expect(r" 366 maker %s " % names[i + 19])
        b = srv.client("lister")
        b.send("LIST")
        lines = b.lines_until(r" 323 lister ", timeout=10)
        got = [l for l in lines if " 322 lister " in l]
        assert 0 < len(got) < len(names), len(got)
        assert any(" NOTICE lister :" in l and "LIST" in l
                   for l in lines), lines[-3:]
        b.send("PING :alive")
        b.expect(r"PONG irc\.test :?alive$")
        # a narrower LIST still answers in full
        b.send("LIST #chan-number-000*")
        lines = b.lines_until(r" 323 lister ")
        assert len([l for l in lines if " 322 " in l]) == 10, lines


def test_list_shows_channels_users_and_topic():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#l1")
        join(b, "#l1")
        a.send("TOPIC #l1 :first channel")
        a.expect(r"TOPIC #l1")
        join(a, "#l2")
        b.send("LIST")
        lines = b.lines_until(r" 323 bob :End of /LIST$")
        lines = lines[[i for i, l in enumerate(lines) if " 321 " in l][0]:]
        assert lines[0] == ":irc.test 321 bob Channel :Users  Name", lines
        rows = sorted(l for l in lines if " 322 " in l)
        assert rows == [":irc.test 322 bob #l1 2 :first channel",
                        ":irc.test 322 bob #l2 1 :"], rows


def test_list_hides_secret_and_private_channels_from_nonmembers():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        for ch, mode in (("#pub", None), ("#sec", "+s"), ("#prv", "+p")):
            join(a, ch)
            if mode:
                a.send("MODE %s %s" % (ch, mode))
                a.expect(r"MODE %s \%s" % (ch, mode))
        b.send("LIST")
        lines = b.lines_until(r" 323 ")
        assert [l.split()[3] for l in lines if " 322 " in l] == ["#pub"]
        a.send("LIST")
        lines = a.lines_until(r" 323 ")
        assert sorted(l.split()[3] for l in lines if " 322 " in l) == \
            ["#prv", "#pub", "#sec"]


def test_list_named_channels():
    with Server() as srv:
        a = srv.client("alice")
        for ch in ("#a1", "#a2", "#a3"):
            join(a, ch)
        a.send("LIST #a1,#a3,#nope")
        lines = a.lines_until(r" 323 ")
        assert sorted(l.split()[3] for l in lines if " 322 " in l) == \
            ["#a1", "#a3"]


def test_list_elist_user_count_filters():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        c = srv.client("carol")
        join(a, "#one")
        join(a, "#two")
        join(b, "#two")
        join(a, "#three")
        join(b, "#three")
        join(c, "#three")

        def listed(arg):
            a.send("LIST " + arg)
            lines = a.lines_until(r" 323 ")
            return sorted(l.split()[3] for l in lines if " 322 " in l)
        assert listed(">1") == ["#three", "#two"]
        assert listed("<3") == ["#one", "#two"]
        assert listed(">1,<3") == ["#two"]


def test_list_elist_masks_and_negative_masks():
    with Server() as srv:
        a = srv.client("alice")
        for ch in ("#foo", "#foobar", "#bar"):
            join(a, ch)

        def listed(arg):
            a.send("LIST " + arg)
            lines = a.lines_until(r" 323 ")
            return sorted(l.split()[3] for l in lines if " 322 " in l)
        assert listed("#foo*") == ["#foo", "#foobar"]
        assert listed("*BAR") == ["#bar", "#foobar"]
        assert listed("!*bar") == ["#foo"]
        assert listed("#foo*,!*bar") == ["#foo"]


# ---- INVITE ----

def test_invite_lets_invitee_into_invite_only_channel():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#inv")
        a.send("MODE #inv +i")
        a.expect(r"MODE #inv \+i")
        b.send("JOIN #inv")
        b.expect(r" 473 bob #inv :Cannot join channel \(\+i\)$")
        a.send("INVITE bob #inv")
        a.expect(r"^:irc\.test 341 alice bob #inv$")
        b.expect(r"^:alice!\S+ INVITE bob #inv$")
        b.send("JOIN #inv")
        b.expect(r"^:bob!\S+ JOIN #inv$")


def test_invite_is_used_up_by_join():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#inv")
        a.send("MODE #inv +i")
        a.expect(r"MODE #inv \+i")
        a.send("INVITE bob #inv")
        a.expect(r" 341 ")
        join(b, "#inv")
        b.send("PART #inv")
        b.expect(r"PART #inv")
        b.send("JOIN #inv")
        b.expect(r" 473 bob #inv ")


def test_invite_follows_nick_change():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#inv")
        a.send("MODE #inv +i")
        a.expect(r"MODE #inv \+i")
        a.send("INVITE bob #inv")
        a.expect(r" 341 ")
        b.send("NICK robert")
        b.expect(r"NICK :?robert")
        b.nick = "robert"
        b.send("JOIN #inv")
        b.expect(r"^:robert!\S+ JOIN #inv$")


def test_invite_is_not_inherited_by_next_user_of_the_nick():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#inv")
        a.send("MODE #inv +i")
        a.expect(r"MODE #inv \+i")
        a.send("INVITE bob #inv")
        a.expect(r" 341 ")
        b.send("QUIT")
        b.closed()
        b2 = srv.client("bob")
        b2.send("JOIN #inv")
        b2.expect(r" 473 bob #inv ")


def test_invite_errors_401_403_442_443():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#mine")
        join(b, "#bobs")
        a.send("INVITE ghost #mine")
        a.expect(r" 401 alice ghost :No such nick/channel$")
        a.send("INVITE bob #none")
        a.expect(r" 403 alice #none :No such channel$")
        b.send("INVITE alice #mine")
        b.expect(r" 442 bob #mine :You're not on that channel$")
        join(b, "#mine")
        a.send("INVITE bob #mine")
        a.expect(r" 443 alice bob #mine :is already on channel$")


def test_invite_to_invite_only_channel_needs_op_482():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        c = srv.client("carol")
        join(a, "#inv")
        join(b, "#inv")
        a.send("MODE #inv +i")
        b.expect(r"MODE #inv \+i")
        b.send("INVITE carol #inv")
        b.expect(r" 482 bob #inv :You're not a channel operator$")
        assert not any("INVITE" in l for l in c.sync())
        a.send("MODE #inv -i")
        b.expect(r"MODE #inv -i")
        b.send("INVITE carol #inv")        # any member may invite to -i
        b.expect(r" 341 bob carol #inv$")
        c.expect(r"^:bob!\S+ INVITE carol #inv$")


def test_invite_away_target_gives_301():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#inv")
        b.send("AWAY :out to lunch")
        b.expect(r" 306 ")
        a.send("INVITE bob #inv")
        a.expect(r" 341 alice bob #inv$")
        a.expect(r" 301 alice bob :out to lunch$")


def test_kick_more_nicks_than_targmax_407():
    with Server() as srv:
        a = srv.client("alice")
        join(a, "#k")
        a.send("KICK #k a,b,c,d,e")
        a.expect(r" 407 alice a,b,c,d,e :Too many targets")
        assert not any("KICK" in l for l in a.sync())


def test_kick_pairs_channels_with_nicks():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        c = srv.client("carol")
        for ch in ("#k1", "#k2"):
            join(a, ch)
            join(b, ch)
            join(c, ch)
        a.send("KICK #k1,#k2 bob,carol :pairs")
        a.expect(r"KICK #k1 bob :pairs$")
        a.expect(r"KICK #k2 carol :pairs$")
        names, _ = names_of(a, "#k1")
        assert sorted(names) == ["@alice", "carol"], names
        names, _ = names_of(a, "#k2")
        assert sorted(names) == ["@alice", "bob"], names


def test_names_of_several_channels():
    with Server() as srv:
        a = srv.client("alice")
        join(a, "#n1")
        join(a, "#n2")
        a.send("NAMES #n1,#n2")
        a.expect(r" 353 alice = #n1 :@alice$")
        a.expect(r" 366 alice #n1 ")
        a.expect(r" 353 alice = #n2 :@alice$")
        a.expect(r" 366 alice #n2 ")


def test_invites_per_channel_are_bounded_oldest_dropped():
    with Server(conf="channels { max-list-entries 2 }") as srv:
        a = srv.client("alice")
        b, c, d = srv.client("bob"), srv.client("carol"), srv.client("dave")
        join(a, "#inv")
        a.send("MODE #inv +i")
        a.expect(r"MODE #inv \+i")
        for n in ("bob", "carol", "dave"):
            a.send("INVITE %s #inv" % n)
            a.expect(r" 341 alice %s #inv$" % n)
        b.send("JOIN #inv")
        b.expect(r" 473 bob #inv ")
        join(c, "#inv")
        join(d, "#inv")


def test_invite_survives_case_only_nick_change():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        join(a, "#inv")
        a.send("MODE #inv +i")
        a.expect(r"MODE #inv \+i")
        a.send("INVITE bob #inv")
        a.expect(r" 341 ")
        b.send("NICK BOB")
        b.expect(r"NICK :?BOB")
        b.nick = "BOB"
        join(b, "#inv")
