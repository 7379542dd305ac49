"""server { casemapping }: ascii (the default) keeps nicknames ASCII;
precis (Ergo's) takes UTF-8 nicknames folded as RFC 8265's
UsernameCaseMapped (lower case, width mapping and NFC; a subset, see
doc/ircv3.md), refuses a nickname that looks like another user's (the
same UTS #39 confusable skeleton) with 433, folds channel names the same
way, and says so in 005 as Ergo does (CASEMAPPING=ascii,
UTF8MAPPING=rfc8265)."""

import re

from ergotest import Server

PRECIS = "casemapping precis"


def isupport(lines):
    toks = []
    for l in lines:
        if re.search(r" 005 ", l):
            toks += l.split(" :", 1)[0].split()[3:]
    return toks


def nick_reply(c, nick):
    c.send("NICK " + nick)
    return c.expect(r" (43[1-6]) |^:\S+ NICK ")


def test_ascii_is_the_default_and_refuses_utf8_nicknames():
    with Server() as srv:
        c = srv.client()
        lines = c.register("plain")
        toks = isupport(lines)
        assert "CASEMAPPING=ascii" in toks, toks
        assert not any(t.startswith("UTF8MAPPING") for t in toks), toks
        c.send("NICK Zoë")
        c.expect(r"^:irc\.test 432 plain Zoë :Erroneous nickname$")
        # no skeletons in ascii: I and l are different letters
        a = srv.client("Ian")
        b = srv.client("lan")
        a.send("PRIVMSG lan :hi")
        b.expect(r"^:Ian!\S+ PRIVMSG lan :hi$")


def test_precis_says_so_in_005():
    with Server(server=PRECIS) as srv:
        c = srv.client()
        toks = isupport(c.register("zoë"))
        assert "CASEMAPPING=ascii" in toks, toks
        assert "UTF8MAPPING=rfc8265" in toks, toks


def test_utf8_nicknames_fold_case():
    with Server(server=PRECIS) as srv:
        z = srv.client()
        z.register("Zoë")
        b = srv.client("bob")
        b.send("PRIVMSG ZOË :hello")
        z.expect(r"^:bob!\S+ PRIVMSG Zoë :hello$")
        b.send("WHOIS zoë")
        b.expect(r" 311 bob Zoë ")
        c = srv.client()
        c.send("USER x 0 * :x")
        c.send("NICK zOË")
        c.expect(r"^:irc\.test 433 \* zOË :Nickname is already in use$")
        # a user may change the case of its own nick
        z.send("NICK ZOË")
        z.expect(r"^:Zoë!\S+ NICK :ZOË$")
        # other scripts, and digits after the first letter
        g = srv.client()
        g.register("Ελένη")
        k = srv.client()
        k.register("東京2")
        b.send("PRIVMSG ΕΛΈΝΗ :γεια")
        g.expect(r"^:bob!\S+ PRIVMSG Ελένη :γεια$")


def test_fullwidth_letters_fold_to_ascii():
    with Server(server=PRECIS) as srv:
        srv.client("abc")
        c = srv.client()
        c.send("USER x 0 * :x")
        c.send("NICK ＡＢＣ")
        c.expect(r" 433 \* ＡＢＣ :Nickname is already in use$")


def test_lookalike_nicknames_are_refused():
    with Server(server=PRECIS) as srv:
        srv.client("alice")
        srv.client("paypal")
        c = srv.client()
        c.send("USER x 0 * :x")
        # Cyrillic a (U+0430) for the Latin one
        c.send("NICK \u0430lice")
        c.expect(r" 433 \* \u0430lice :Nickname is already in use$")
        c.send("NICK \u0440\u0430\u0443\u0440\u0430l")
        c.expect(r" 433 \* \S+ :Nickname is already in use$")
        # ASCII lookalikes too, as Ergo: I and l, 0 and O
        c.send("NICK AIice")
        c.expect(r" 433 \* AIice :Nickname is already in use$")
        c.register("someone")
        # a user may take a lookalike of its own nick
        a = srv.client("bobby")
        a.send("NICK b0bby")
        a.expect(r"^:bobby!\S+ NICK :b0bby$")


def test_precis_refuses_what_is_not_a_letter_or_digit():
    with Server(server=PRECIS) as srv:
        c = srv.client()
        c.send("USER x 0 * :x")
        for bad in ("☃snow", "a☃", "x\u0301yz", "\u0301abc", "1abc",
                    "\uff11abc",
                    "tab\u200bzero", "a\u00a0b"):
            c.send("NICK " + bad)
            c.expect(r" 432 \* .+ :Erroneous nickname$")
        c.register("fine")


def test_precis_channel_names_fold_too():
    with Server(server=PRECIS) as srv:
        a = srv.client("ana")
        a.send("JOIN #Ünïcode")
        a.expect(r" 366 ana #Ünïcode ")
        b = srv.client("ben")
        b.send("JOIN #üNÏCODE")
        b.expect(r" 353 ben [=@*] #Ünïcode :")
        a.expect(r"^:ben!\S+ JOIN #Ünïcode$")


def test_combining_marks_compose_to_the_precomposed_letter():
    with Server(server=PRECIS) as srv:
        z = srv.client()
        z.register("Jos\u00e9")            # é precomposed
        c = srv.client()
        c.send("USER x 0 * :x")
        # e + COMBINING ACUTE ACCENT is the same nick (NFC)
        c.send("NICK jose\u0301")
        c.expect(r" 433 \* jose\u0301 :Nickname is already in use$")
        c.register("bob")
        c.send("PRIVMSG JOSE\u0301 :hola")
        z.expect(r"^:bob!\S+ PRIVMSG Jos\u00e9 :hola$")
        # marks in either order: a + circumflex + dot below is U+1EAD
        v = srv.client()
        v.register("a\u0302\u0323n")
        c.send("WHOIS \u1eadN")
        c.expect(r" 311 bob a\u0302\u0323n ")
        d = srv.client()
        d.send("USER x 0 * :x")
        d.send("NICK \u00e2\u0323n")
        d.expect(r" 433 \* \S+ :Nickname is already in use$")
        # a channel name too
        z.send("JOIN #caf\u00e9")
        z.expect(r" 366 ")
        c.send("JOIN #CAFE\u0301")
        c.expect(r" 353 bob [=@*] #caf\u00e9 :")
