"""Channel and user modes: MODE and its enforcement (irc_chan.c)."""

import os
import re
import subprocess

from ergotest import Server

OPER_PASSWORD = "mode-test-password"


def E(s):
    return re.escape(s)


def join(c, chan, key=None):
    c.send("JOIN %s%s" % (chan, " " + key if key else ""))
    return c.lines_until(r" 366 %s %s :" % (E(c.nick), E(chan)))


def mode(c, chan, change, echo=None):
    """Sends MODE and waits for its broadcast (echo, default change)."""
    c.send("MODE %s %s" % (chan, change))
    return c.expect(r"^:%s!\S+ MODE %s %s$" % (E(c.nick), E(chan),
                                               E(echo or change)))


def setup(srv, *nicks, chan="#m"):
    """Registers nicks; the first creates chan (so is op), all join."""
    cs = [srv.client(n) for n in nicks]
    for c in cs:
        join(c, chan)
    return cs


def list_entries(c, chan, letter, rpl, end):
    c.send("MODE %s %s" % (chan, letter))
    lines = c.lines_until(r" %s %s %s :" % (end, E(c.nick), E(chan)))
    return [l for l in lines if re.search(r" %s " % rpl, l)]


# ---- query ----

def test_channel_mode_query_gives_324_and_329():
    with Server() as srv:
        a, = setup(srv, "alice")
        a.send("MODE #m")
        a.expect(r"^:irc\.test 324 alice #m \+nt$")
        a.expect(r"^:irc\.test 329 alice #m \d+$")


def test_channel_mode_query_shows_key_and_limit_to_members_only():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        mode(a, "#m", "+kl sesame 10")
        a.send("MODE #m")
        a.expect(r" 324 alice #m \+klnt sesame 10$")
        b.send("MODE #m")
        b.expect(r" 324 bob #m \+klnt$")
        b.expect(r" 329 bob #m \d+$")


def test_mode_of_unknown_channel_403():
    with Server() as srv:
        a = srv.client("alice")
        a.send("MODE #none")
        a.expect(r" 403 alice #none :No such channel$")
        a.send("MODE #none +i")
        a.expect(r" 403 alice #none :No such channel$")


# ---- broadcast format and permissions ----

def test_mode_change_is_broadcast_to_all_members():
    with Server() as srv:
        a, b = setup(srv, "alice", "bob")
        a.send("MODE #m +im")
        b.expect(r"^:alice!\S+ MODE #m \+im$")
        a.expect(r"^:alice!\S+ MODE #m \+im$")


def test_mode_broadcast_combines_signs_and_parameters():
    with Server() as srv:
        a, b, c = setup(srv, "alice", "bob", "carol")
        mode(a, "#m", "+k key")
        a.send("MODE #m +ov-k bob carol key")
        c.expect(r"^:alice!\S+ MODE #m \+ov-k bob carol key$")


def test_mode_broadcast_only_what_changed():
    with Server() as srv:
        a, b = setup(srv, "alice", "bob")
        a.send("MODE #m +nti")           # n and t are already set
        b.expect(r"^:alice!\S+ MODE #m \+i$")
        a.send("MODE #m +i")             # nothing changes: nothing sent
        assert not any("MODE" in l for l in b.sync())
        a.send("MODE #m -o bob")         # bob has no +o
        assert not any("MODE" in l for l in b.sync())


def test_mode_change_by_non_operator_482():
    with Server() as srv:
        a, b = setup(srv, "alice", "bob")
        b.send("MODE #m +i")
        b.expect(r" 482 bob #m :You're not a channel operator$")
        b.send("MODE #m +imsp")          # one 482 per command
        lines = b.sync()
        assert len([l for l in lines if " 482 " in l]) == 1, lines
        assert not any("MODE" in l for l in a.sync())


def test_mode_change_by_non_member_482():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        b.send("MODE #m -t")
        b.expect(r" 482 bob #m :You're not a channel operator$")


def test_unknown_channel_mode_char_472():
    with Server() as srv:
        a, = setup(srv, "alice")
        a.send("MODE #m +iX")
        a.expect(r" 472 alice X :is unknown mode char to me$")
        a.expect(r"MODE #m \+i$")


def test_mode_at_most_six_parameters_per_command():
    with Server() as srv:
        nicks = ["u%d" % i for i in range(7)]
        a, *_ = setup(srv, "alice", *nicks)
        a.send("MODE #m +vvvvvvv " + " ".join(nicks))
        a.expect(r"MODE #m \+vvvvvv u0 u1 u2 u3 u4 u5$")
        a.send("NAMES #m")
        line = a.expect(r" 353 ")
        assert "+u5" in line and "+u6" not in line, line


def test_mode_missing_parameter_is_ignored():
    with Server() as srv:
        a, = setup(srv, "alice")
        a.send("MODE #m +ko")
        a.send("MODE #m +l")
        assert not any("MODE" in l for l in a.sync())
        a.send("MODE #m")
        a.expect(r" 324 alice #m \+nt$")


# ---- +o +v ----

def test_mode_op_and_voice_give_and_take():
    with Server() as srv:
        a, b = setup(srv, "alice", "bob")
        a.send("MODE #m +o bob")
        b.expect(r"^:alice!\S+ MODE #m \+o bob$")
        b.send("MODE #m +v bob")             # bob is op now
        a.expect(r"^:bob!\S+ MODE #m \+v bob$")
        b.send("MODE #m -o alice")
        a.expect(r"^:bob!\S+ MODE #m -o alice$")
        a.send("MODE #m +i")
        a.expect(r" 482 alice #m ")


def test_mode_op_target_not_on_channel_441_or_unknown_401():
    with Server() as srv:
        a, = setup(srv, "alice")
        srv.client("bob")
        a.send("MODE #m +o bob")
        a.expect(r" 441 alice bob #m :They aren't on that channel$")
        a.send("MODE #m +v ghost")
        a.expect(r" 401 alice ghost :No such nick/channel$")


# ---- +k ----

def test_mode_key_required_to_join_475():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        mode(a, "#m", "+k sesame")
        b.send("JOIN #m")
        b.expect(r" 475 bob #m :Cannot join channel \(\+k\)$")
        b.send("JOIN #m wrong")
        b.expect(r" 475 bob #m ")
        b.send("JOIN #m sesame")
        b.expect(r"^:bob!\S+ JOIN #m$")


def test_mode_key_already_set_467():
    with Server() as srv:
        a, = setup(srv, "alice")
        mode(a, "#m", "+k one")
        a.send("MODE #m +k two")
        a.expect(r" 467 alice #m :Channel key already set$")


def test_mode_minus_k_removes_key():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        mode(a, "#m", "+k one")
        mode(a, "#m", "-k *", "-k one")
        b.send("JOIN #m")
        b.expect(r"^:bob!\S+ JOIN #m$")


def test_mode_bad_key_525():
    with Server() as srv:
        a, = setup(srv, "alice")
        a.send("MODE #m +k a,b")
        a.expect(r" 525 alice #m :Key is not well-formed$")
        a.send("MODE #m +k " + "k" * 40)
        a.expect(r" 525 alice #m ")


# ---- +l ----

def test_mode_limit_full_channel_471():
    with Server() as srv:
        a, b = setup(srv, "alice", "bob")
        c = srv.client("carol")
        mode(a, "#m", "+l 2")
        c.send("JOIN #m")
        c.expect(r" 471 carol #m :Cannot join channel \(\+l\)$")
        mode(a, "#m", "-l")
        join(c, "#m")


def test_mode_limit_invalid_696():
    with Server() as srv:
        a, = setup(srv, "alice")
        a.send("MODE #m +l many")
        a.expect(r" 696 alice #m l many :")
        a.send("MODE #m +l 0")
        a.expect(r" 696 alice #m l 0 :")


def test_invite_does_not_bypass_limit():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        mode(a, "#m", "+l 1")
        a.send("INVITE bob #m")
        a.expect(r" 341 ")
        b.send("JOIN #m")
        b.expect(r" 471 bob #m ")


# ---- +i +I ----

def test_mode_invite_only_473():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        mode(a, "#m", "+i")
        b.send("JOIN #m")
        b.expect(r" 473 bob #m :Cannot join channel \(\+i\)$")


def test_mode_invex_overrides_invite_only():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        c = srv.client("carol")
        mode(a, "#m", "+i")
        mode(a, "#m", "+I bob", "+I bob!*@*")
        b.send("JOIN #m")
        b.expect(r"^:bob!\S+ JOIN #m$")
        c.send("JOIN #m")
        c.expect(r" 473 carol #m ")


# ---- +b +e ----

def test_mode_ban_prevents_join_474():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        mode(a, "#m", "+b bob!*@*")
        b.send("JOIN #m")
        b.expect(r" 474 bob #m :Cannot join channel \(\+b\)$")


def test_mode_ban_mask_is_normalised():
    with Server() as srv:
        a, = setup(srv, "alice")
        mode(a, "#m", "+b bob", "+b bob!*@*")
        mode(a, "#m", "+b *@10.0.0.1", "+b *!*@10.0.0.1")
        mode(a, "#m", "+b eve!ident", "+b eve!ident@*")


def test_list_masks_with_spaces_controls_or_commas_are_refused_696():
    """A +b/+e/+I mask with a space (as a trailing parameter), a control
    character or a comma would desync clients' lists (MODE #c +b :evil +o
    x was broadcast as +b evil +o x!*@*): refused with 696, nothing is
    broadcast or listed; empty parts of a mask become '*'."""
    with Server() as srv:
        a, b = setup(srv, "alice", "bob")
        bad = {":evil +o bob": "*", ":x y": "*", "a\x01b": "*",
               "a\tb": "*", "a\x7fb": "*", "a,b": "a,b", "*!*@a,b": "*!*@a,b",
               "a@b!c": "a@b!c"}
        for letter in "beI":
            for arg, echo in bad.items():
                a.send("MODE #m +%s %s" % (letter, arg))
                a.expect(r"^:irc\.test 696 alice #m %s %s :Invalid mode %s "
                         r"parameter: %s$" % (letter, E(echo), letter,
                                              E(echo)))
            a.send("MODE #m -%s :x y" % letter)
            a.expect(r" 696 alice #m %s \* :" % letter)
        assert not any(" MODE #m " in l for l in b.sync()), b.received
        assert list_entries(a, "#m", "b", "367", "368") == []
        assert list_entries(a, "#m", "e", "348", "349") == []
        assert list_entries(a, "#m", "I", "346", "347") == []
        # empty nick, user or host parts are wildcards, as elsewhere
        mode(a, "#m", "+b bob!@", "+b bob!*@*")
        mode(a, "#m", "+b @host.example", "+b *!*@host.example")
        mode(a, "#m", "+e !ident@", "+e *!ident@*")
        mode(a, "#m", "+I x!", "+I x!*@*")
        mode(a, "#m", "-b bob!*@", "-b bob!*@*")


def test_mode_ban_matches_user_and_host_wildcards():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        mode(a, "#m", "+b *!~bob@127.0.0.*")
        b.send("JOIN #m")
        b.expect(r" 474 bob #m ")


def test_mode_ban_is_case_insensitive():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("Bob")
        mode(a, "#m", "+b BOB!*@*")
        b.send("JOIN #m")
        b.expect(r" 474 Bob #m ")


def test_mode_ban_silences_member_404():
    with Server() as srv:
        a, b = setup(srv, "alice", "bob")
        mode(a, "#m", "+b bob!*@*")
        b.send("PRIVMSG #m :hello?")
        b.expect(r" 404 bob #m :Cannot send to channel \(\+b\)$")
        mode(a, "#m", "+v bob")
        b.send("PRIVMSG #m :voiced now")
        a.expect(r"PRIVMSG #m :voiced now$")


def test_mode_except_overrides_ban():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        c = srv.client("carol")
        mode(a, "#m", "+b *!*@*")
        mode(a, "#m", "+e bob!*@*")
        b.send("JOIN #m")
        b.expect(r"^:bob!\S+ JOIN #m$")
        b.send("PRIVMSG #m :excepted")
        a.expect(r"PRIVMSG #m :excepted$")
        c.send("JOIN #m")
        c.expect(r" 474 carol #m ")


def test_mode_unban_lets_user_join():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        mode(a, "#m", "+b bob", "+b bob!*@*")
        b.send("JOIN #m")
        b.expect(r" 474 ")
        mode(a, "#m", "-b BOB", "-b bob!*@*")
        join(b, "#m")


def test_mode_duplicate_ban_is_ignored():
    with Server() as srv:
        a, = setup(srv, "alice")
        mode(a, "#m", "+b x!*@*")
        a.send("MODE #m +b X")
        assert not any("MODE" in l for l in a.sync())
        assert len(list_entries(a, "#m", "+b", "367", "368")) == 1


def test_mode_ban_list_query_367_368():
    with Server() as srv:
        a, b = setup(srv, "alice", "bob")
        mode(a, "#m", "+bb one two", "+bb one!*@* two!*@*")
        rows = list_entries(b, "#m", "+b", "367", "368")
        assert len(rows) == 2, rows
        assert re.search(r" 367 bob #m one!\*@\* alice!\S+ \d+$", rows[0])
        assert re.search(r" 367 bob #m two!\*@\* alice!\S+ \d+$", rows[1])
        b.send("MODE #m b")                  # no sign: a query too
        b.expect(r" 367 bob #m one")
        b.expect(r" 368 bob #m :End of channel ban list$")


def test_mode_except_list_query_348_349():
    with Server() as srv:
        a, = setup(srv, "alice")
        mode(a, "#m", "+e friend", "+e friend!*@*")
        rows = list_entries(a, "#m", "+e", "348", "349")
        assert len(rows) == 1 and " 348 alice #m friend!*@* " in rows[0]
        a.send("MODE #m e")
        a.expect(r" 349 alice #m :End of channel exception list$")


def test_mode_invex_list_query_346_347():
    with Server() as srv:
        a, = setup(srv, "alice")
        mode(a, "#m", "+I guest", "+I guest!*@*")
        rows = list_entries(a, "#m", "+I", "346", "347")
        assert len(rows) == 1 and " 346 alice #m guest!*@* " in rows[0]
        a.send("MODE #m I")
        a.expect(r" 347 alice #m :End of channel invite list$")


def test_mode_list_query_allowed_for_non_operator():
    with Server() as srv:
        a, b = setup(srv, "alice", "bob")
        mode(a, "#m", "+b x", "+b x!*@*")
        b.send("MODE #m +b")
        b.expect(r" 367 bob #m x!\*@\* ")
        b.expect(r" 368 bob #m ")
        assert not any(" 482 " in l for l in b.sync())


def test_mode_ban_list_full_478():
    with Server(conf="channels { max-list-entries 3 }") as srv:
        a, = setup(srv, "alice")
        mode(a, "#m", "+bbb a b c", "+bbb a!*@* b!*@* c!*@*")
        a.send("MODE #m +b d")
        a.expect(r" 478 alice #m d!\*@\* :Channel list is full$")
        # each list has its own limit
        mode(a, "#m", "+e a", "+e a!*@*")
        mode(a, "#m", "-b a", "-b a!*@*")
        mode(a, "#m", "+b d", "+b d!*@*")


# ---- +m +n +t +s +p ----

def test_mode_moderated_needs_voice_404():
    with Server() as srv:
        a, b = setup(srv, "alice", "bob")
        mode(a, "#m", "+m")
        b.send("PRIVMSG #m :can anyone hear me")
        b.expect(r" 404 bob #m :Cannot send to channel \(\+m\)$")
        a.send("PRIVMSG #m :ops can speak")
        b.expect(r"PRIVMSG #m :ops can speak$")
        mode(a, "#m", "+v bob")
        b.send("PRIVMSG #m :voiced")
        a.expect(r"^:bob!\S+ PRIVMSG #m :voiced$")


def test_mode_no_external_messages_404():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        b.send("PRIVMSG #m :from outside")
        b.expect(r" 404 bob #m :Cannot send to channel \(\+n\)$")
        mode(a, "#m", "-n")
        b.send("PRIVMSG #m :from outside")
        a.expect(r"^:bob!\S+ PRIVMSG #m :from outside$")


def test_mode_moderated_blocks_outsiders_without_n():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        mode(a, "#m", "-n+m")
        b.send("PRIVMSG #m :outside")
        b.expect(r" 404 bob #m ")


def test_mode_topic_lock():
    with Server() as srv:
        a, b = setup(srv, "alice", "bob")
        b.send("TOPIC #m :x")
        b.expect(r" 482 bob #m ")
        mode(a, "#m", "-t")
        b.send("TOPIC #m :x")
        a.expect(r"^:bob!\S+ TOPIC #m :x$")


def test_mode_secret_hides_channel():
    with Server() as srv:
        a, = setup(srv, "alice")
        b = srv.client("bob")
        mode(a, "#m", "+s")
        b.send("LIST")
        lines = b.lines_until(r" 323 ")
        assert not any(" 322 " in l for l in lines), lines
        b.send("WHOIS alice")
        lines = b.lines_until(r" 318 ")
        assert not any(" 319 " in l for l in lines), lines
        a.send("NAMES #m")
        a.expect(r" 353 alice @ #m :@alice$")


def test_mode_private_names_symbol():
    with Server() as srv:
        a, = setup(srv, "alice")
        mode(a, "#m", "+p")
        a.send("NAMES #m")
        a.expect(r" 353 alice \* #m :@alice$")


# ---- user modes ----

def test_user_mode_query_221():
    with Server() as srv:
        a = srv.client("alice")
        a.send("MODE alice")
        line = a.expect(r" 221 alice ")
        assert re.search(r" 221 alice :?\+[a-zA-Z]*$", line), line


def test_user_mode_set_invisible_and_wallops():
    with Server() as srv:
        a = srv.client("alice")
        a.send("MODE alice -iw")
        a.sync()
        a.send("MODE alice +i")
        a.expect(r"^:alice(!\S+)? MODE alice :\+i$")
        a.send("MODE alice +w")
        a.expect(r"MODE alice :\+w$")
        a.send("MODE alice")
        a.expect(r" 221 alice :?\+iw$")
        a.send("MODE alice -i+i-w")
        a.expect(r"MODE alice :-i\+i-w$")
        a.send("MODE alice")
        a.expect(r" 221 alice :?\+i$")


def test_user_mode_unchanged_sends_nothing():
    with Server() as srv:
        a = srv.client("alice")
        a.send("MODE alice -i")
        a.sync()
        a.send("MODE alice +i")
        a.expect(r"MODE alice :\+i$")
        a.send("MODE alice +i")
        assert not any("MODE" in l for l in a.sync())


def test_user_mode_invisible_counted_in_lusers():
    with Server() as srv:
        a = srv.client("alice")
        a.send("MODE alice -i")
        a.sync()
        a.send("LUSERS")
        a.expect(r" 251 alice :There are 1 users and 0 invisible")
        a.send("MODE alice +i")
        a.expect(r"MODE alice :\+i$")
        a.send("LUSERS")
        a.expect(r" 251 alice :There are 0 users and 1 invisible")


def test_user_mode_unknown_flag_501():
    with Server() as srv:
        a = srv.client("alice")
        a.send("MODE alice +iQ")
        a.expect(r" 501 alice :Unknown MODE flag$")


def test_user_mode_of_other_user_502():
    with Server() as srv:
        a = srv.client("alice")
        srv.client("bob")
        a.send("MODE bob +i")
        a.expect(r" 502 alice :Can't change mode for other users$")
        a.send("MODE bob")
        a.expect(r" 502 alice ")


def test_user_mode_of_unknown_nick_401():
    with Server() as srv:
        a = srv.client("alice")
        a.send("MODE ghost")
        a.expect(r" 401 alice ghost :No such nick/channel$")


def test_user_mode_plus_o_is_ignored():
    with Server() as srv:
        a = srv.client("alice")
        a.send("MODE alice +o")
        assert not any("MODE" in l for l in a.sync())
        a.send("MODE alice")
        line = a.expect(r" 221 alice ")
        assert "o" not in line.split()[-1], line


def test_mode_minus_k_without_parameter_removes_key():
    with Server() as srv:
        a, = setup(srv, "alice")
        mode(a, "#m", "+k one")
        mode(a, "#m", "-k", "-k one")
        a.send("MODE #m")
        a.expect(r" 324 alice #m \+nt$")


def test_mode_long_broadcast_is_split_within_512_bytes():
    with Server() as srv:
        chan = "#" + "c" * 60
        a = srv.client("a" * 30)
        join(a, chan)
        masks = ["n%d!%s@%s" % (i, "u" * 20, "h" * 45) for i in range(6)]
        a.send("MODE %s +bbbbbb %s" % (chan, " ".join(masks)))
        got = []
        while len(got) < 6:
            line = a.expect(r" MODE %s \+b+ " % chan)
            assert len(line.encode()) + 2 <= 512, len(line)
            parts = line.split()
            assert len(parts[3]) - 1 == len(parts[4:]), line
            got += parts[4:]
        assert got == masks, got
        assert len(list_entries(a, chan, "b", "367", "368")) == 6


def test_mode_unknown_char_reported_once_per_command():
    with Server() as srv:
        a, = setup(srv, "alice")
        a.send("MODE #m +XXX")
        lines = a.sync()
        assert len([l for l in lines if " 472 " in l]) == 1, lines


def oper_conf():
    """An oper block whose hash comes from `ergo genpasswd`."""
    binary = os.environ.get("ERGO_BIN", "./ergo")
    out = subprocess.run([binary, "genpasswd"], input=OPER_PASSWORD + "\n",
                         capture_output=True, text=True, timeout=60,
                         check=True).stdout
    pw = [l for l in out.splitlines() if l.strip()][-1].strip()
    return 'oper admin { class server-admin  password "%s" }\n' % pw


def test_user_mode_minus_o_deopers():
    with Server(conf=oper_conf()) as srv:
        a = srv.client("alice")
        a.send("OPER admin " + OPER_PASSWORD)
        a.expect(r" 381 alice ")
        a.send("LUSERS")
        a.expect(r" 252 alice 1 :operator")
        a.send("MODE alice -o")
        a.expect(r"^:alice(!\S+)? MODE alice :-o$")
        a.send("MODE alice")
        line = a.expect(r" 221 alice ")
        assert "o" not in line.split()[-1], line
        a.send("LUSERS")
        lines = a.lines_until(r" 255 alice ")
        assert not any(" 252 " in l for l in lines), lines
        a.send("WHOIS alice")
        lines = a.lines_until(r" 318 ")
        assert not any(" 313 " in l for l in lines), lines
        a.send("WALLOPS :still oper?")
        a.expect(r" 481 alice ")


def test_mode_unknown_char_472_never_an_unparsable_parameter():
    # fuzz_dispatch: "MODE #m :evil +o x" sent "472 alice   :is unknown
    # mode char to me" (a space as the parameter); a ':' would start a
    # trailing one and a byte of a UTF-8 character is no text: only
    # printable ASCII is named in a 472
    with Server() as srv:
        a, = setup(srv, "alice")
        a.send("MODE #m :+X Y:\u00e9")
        lines = a.sync()
        got = [l for l in lines if " 472 " in l]
        assert [l.split(" ")[3] for l in got] == ["X", "Y"], lines
        for l in got:
            assert re.search(r" 472 alice [!-~] :is unknown mode char "
                             r"to me$", l), repr(l)
