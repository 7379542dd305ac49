"""UBAN over K- and D-lines, DEFCON, SANICK (irc_bans.c), each with the
right and the wrong privilege, and a spam wave handled end to end."""

import base64
import re

from ergotest import Client, Server, run_ergo

PASSWORD = "correct horse battery staple"
HASH = None


def setup_module():
    global HASH
    p = run_ergo("genpasswd", input=PASSWORD + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    HASH = [l for l in p.stdout.splitlines() if l.strip()][-1].strip()


def conf():
    return ('oper-class helper { capabilities "kill" }\n'
            'oper-class admin { extends helper\n'
            '  capabilities "ban defcon samode snomasks vhosts" }\n'
            'oper a { class admin  password "%s" }\n'
            'oper h { class helper  password "%s" }\n' % (HASH, HASH))


def oper_up(c, name="a"):
    c.send("OPER %s :%s" % (name, PASSWORD))
    c.expect_numeric("381")


def notice(c, text):
    return c.expect(r"^:irc\.test NOTICE %s :%s" % (re.escape(c.nick),
                                                    text))


def registered(srv, nick):
    c = srv.client(nick)
    c.send("NS REGISTER pw-%s" % nick)
    c.expect(r"NOTICE %s :Account created" % nick)
    return c


def sasl_client(srv, nick):
    """A connection that logs in with SASL PLAIN before registering."""
    c = Client(srv.port)
    c.send("CAP LS 302")
    c.expect(r" CAP \* LS :")
    c.send("NICK " + nick)
    c.send("USER %s 0 * :x" % nick)
    c.send("CAP REQ :sasl")
    c.expect(r" CAP \S+ ACK :sasl$")
    c.send("AUTHENTICATE PLAIN")
    c.expect(r"^AUTHENTICATE \+$")
    c.send("AUTHENTICATE " + base64.b64encode(
        ("\0%s\0pw-%s" % (nick, nick)).encode()).decode())
    c.expect(r" 903 ")
    c.send("CAP END")
    c.expect(r" 001 %s " % nick)
    c.nick = nick
    return c


def test_uban_needs_the_ban_capability():
    with Server(conf=conf()) as s, s.client("helpU") as h, \
            s.client("userU") as u:
        u.send("UBAN LIST")
        u.expect(r" 481 userU :Permission Denied- You're not an IRC "
                 r"operator$")
        oper_up(h, "h")
        h.send("UBAN ADD 192.0.2.0/24")
        h.expect(r" 481 helpU :Permission Denied$")


def test_uban_cidr_add_info_list_del():
    with Server(conf=conf()) as s, s.client("opV") as o:
        oper_up(o)
        o.send("UBAN ADD 192.0.2.7/24 DURATION 1h spam from here")
        notice(o, r"Successfully added UBAN for 192\.0\.2\.0/24$")
        o.send("UBAN INFO 192.0.2.0/24")
        notice(o, r"Ban - 192\.0\.2\.0/24 - added by opV!\S+ - spam from "
               r"here \[expires in (59m\d+s|1h0s|1h)\]$")
        o.send("UBAN LIST")
        notice(o, r"There are 1 active IP/network ban\(s\) \(DLINEs\)$")
        notice(o, r"Ban - 192\.0\.2\.0/24 - ")
        notice(o, r"There are 0 active ban\(s\) on nick-user-host masks")
        o.send("STATS d")
        o.expect(r" 225 opV d 192\.0\.2\.0/24 :spam from here")
        o.send("UBAN DEL 192.0.2.0/24")
        notice(o, r"Successfully removed ban on 192\.0\.2\.0/24$")
        o.send("UBAN DEL 192.0.2.0/24")
        notice(o, r"Could not remove ban: no such ban$")
        o.send("UBAN INFO 192.0.2.0/24")
        notice(o, r"There is no active IP ban against 192\.0\.2\.0/24$")
        o.send("UBAN FROB x")
        o.expect(r"^:irc\.test FAIL UBAN UNKNOWN_COMMAND :Unknown command$")
        o.send("UBAN ADD")
        o.expect(r"FAIL UBAN INVALID_PARAMS :Not enough parameters$")
        o.send("UBAN ADD #chan")
        o.expect(r"FAIL UBAN INVALID_PARAMS :Couldn't parse ban target$")
        o.send("UBAN ADD 192.0.2.1 DURATION soon")
        notice(o, r"Invalid time duration for UBAN$")


def test_uban_mask_kills_matching_clients_and_keeps_them_out():
    with Server(conf=conf()) as s, s.client("opW") as o, \
            s.client("spamW", user="spam1") as v:
        oper_up(o)
        o.send("MODE opW +s +x")
        o.expect(r" 008 opW \+x ")
        o.send("UBAN INFO *!~spam*@*")
        notice(o, r"No ban exists for ~spam\*@\*$")
        notice(o, r"Adding this mask would affect 1 clients$")
        o.send("UBAN ADD *!~spam*@* go away")
        notice(o, r"Successfully added UBAN for ~spam\*@\*$")
        o.expect(r"XLINE\x0314-\x03 opW \[a\] added UBAN K-Line for "
                 r"~spam\*@\*$")
        notice(o, r"Killed 1 active client\(s\)$")
        v.expect(r"^ERROR :You are banned from this server \(go away\)")
        c = Client(s.port)
        c.send("NICK spamW2")
        c.send("USER spam2 0 * :x")
        c.expect(r" 465 spamW2 :You are banned from this server \(go away\)")
        c.close()


def test_uban_account_suspends_it_and_del_lifts_it():
    with Server(conf=conf()) as s, s.client("opX") as o, \
            s.client("victimX") as v:
        oper_up(o)
        o.send("UBAN INFO victimX")
        notice(o, r"Client victimX is unauthenticated and connected from "
               r"127\.0\.0\.1$")
        notice(o, r"There is no account registered for victimX$")
        o.send("UBAN ADD nosuchX")
        notice(o, r"No such account$")
        v.send("NS REGISTER pw-victimX")
        v.expect(r"NOTICE victimX :Account created")
        o.send("UBAN INFO victimX")
        notice(o, r"Client victimX is logged into account victimX and has "
               r"1 active clients ")
        notice(o, r"Account victimX is in good standing; see /NICKSERV "
               r"INFO victimX for more details$")
        o.send("UBAN ADD victimX DURATION 2h flooding")
        notice(o, r"Successfully suspended account victimX$")
        notice(o, r"Disconnected 1 client\(s\) associated with the "
               r"account, using the following IPs:$")
        notice(o, r"1\. 127\.0\.0\.1$")
        v.expect(r"^ERROR :Account victimX suspended at .* Duration: "
                 r"2h0m0s\. Reason: flooding$")
        c = Client(s.port)
        c.send("CAP REQ :sasl")
        c.send("NICK victimX")
        c.send("USER v 0 * :x")
        c.send("AUTHENTICATE PLAIN")
        c.expect(r"^AUTHENTICATE \+$")
        c.send("AUTHENTICATE " + base64.b64encode(
            b"\0victimX\0pw-victimX").decode())
        c.expect(r" 904 victimX :SASL authentication failed: Account has "
                 r"been suspended$")
        o.send("UBAN INFO victimX")
        notice(o, r"No client is currently using that nickname$")
        notice(o, r"Account victimX has been suspended: Account victimX "
               r"suspended at ")
        o.send("UBAN LIST")
        notice(o, r"There are 1 active account suspensions\.$")
        notice(o, r"Account victimX suspended at .*Reason: flooding$")
        o.send("UBAN DEL victimX")
        notice(o, r"Successfully removed ban on victimX$")
        o.send("UBAN DEL victimX")
        notice(o, r"Could not remove ban: Action was a no-op$")
        c.send("AUTHENTICATE PLAIN")
        c.expect(r"^AUTHENTICATE \+$")
        c.send("AUTHENTICATE " + base64.b64encode(
            b"\0victimX\0pw-victimX").decode())
        c.expect(r" 903 ")


def test_uban_require_sasl_lets_only_logged_in_clients_connect():
    with Server(conf=conf()) as s, s.client("opR") as o, \
            s.client("anonR") as anon:
        registered(s, "acctR").close()
        h = s.client("helpR")
        oper_up(h, "h")
        h.send("UBAN ADD 127.0.0.0/8 REQUIRE-SASL")
        h.expect(r" 481 helpR :Permission Denied$")
        oper_up(o)
        # an oper that is not logged in would lock itself out
        o.send("UBAN ADD 127.0.0.0/8 REQUIRE-SASL")
        notice(o, r"This ban matches you\. ")
        o.send("NS REGISTER pw-opR")
        o.expect(r"NOTICE opR :Account created")
        o.send("UBAN ADD 127.0.0.0/8 REQUIRE-SASL DURATION 1h spam")
        notice(o, r"Successfully added UBAN for 127\.0\.0\.0/8$")
        # who is here without a login goes; the logged-in stay
        anon.expect(r"^ERROR :You must log in with SASL to join this "
                    r"server$")
        h.expect(r"^ERROR :You must log in with SASL")
        c = Client(s.port)
        c.send("NICK anonR2")
        c.send("USER a 0 * :x")
        c.expect(r"^:\S+ FAIL \* ACCOUNT_REQUIRED :You must log in with "
                 r"SASL to join this server$")
        c.expect(r"^ERROR :You must log in with SASL")
        sasl_client(s, "acctR").close()
        o.send("UBAN LIST")
        notice(o, r"There are 1 active IP/network ban\(s\) \(DLINEs\)$")
        notice(o, r"Ban - 127\.0\.0\.0/8 - added by .* - spam \[expires "
               r"in .*\] \[requires SASL\]$")
        o.send("UBAN INFO 127.0.0.0/8")
        notice(o, r"Ban - 127\.0\.0\.0/8 - ")
        o.send("UBAN DEL 127.0.0.0/8")
        notice(o, r"Successfully removed ban on 127\.0\.0\.0/8$")
        s.client("anonR3").close()


def test_defcon_needs_the_capability_and_shows_the_level():
    with Server(conf=conf()) as s, s.client("helpY") as h, \
            s.client("opY") as o:
        oper_up(h, "h")
        h.send("DEFCON 1")
        h.expect(r" 481 helpY :Permission Denied$")
        oper_up(o)
        o.send("DEFCON")
        notice(o, r"Current DEFCON level is 5$")
        o.send("DEFCON 9")
        notice(o, r"Invalid DEFCON parameter$")
        o.send("MODE opY +s +a")
        o.send("DEFCON 4")
        o.expect(r"ANNOUNCEMENT\x0314-\x03 Operator a set DEFCON level "
                 r"to 4$")
        notice(o, r"Current DEFCON level is 4$")


def test_defcon_levels():
    with Server(conf=conf()) as s, s.client("opZ") as o, \
            s.client("anonZ") as anon:
        friend = registered(s, "friendZ")
        oper_up(o)
        o.send("DEFCON 4")
        notice(o, r"Current DEFCON level is 4$")
        anon.send("NS REGISTER pw")
        anon.expect(r"NOTICE anonZ :Account registration is temporarily "
                    r"disabled$")
        anon.send("REGISTER * * pw")
        anon.expect(r"FAIL REGISTER TEMPORARILY_UNAVAILABLE anonZ "
                    r":Account registration is temporarily disabled$")
        # 3: every user +R: the unauthenticated cannot message them
        anon.send("PRIVMSG friendZ :hi")
        friend.expect(r":anonZ!\S+ PRIVMSG friendZ :hi$")
        o.send("DEFCON 3")
        notice(o, r"Current DEFCON level is 3$")
        anon.send("PRIVMSG friendZ :hi again")
        anon.expect(r" 477 anonZ friendZ :You must be registered")
        friend.send("PRIVMSG anonZ :from an account")
        anon.expect(r"PRIVMSG anonZ :from an account$")
        o.send("CHGHOST anonZ u h.example.org")
        o.expect(r"FAIL CHGHOST TEMPORARILY_UNAVAILABLE anonZ :Host "
                 r"changes are disabled at DEFCON 3$")
        # 2: no new channels (but by opers), no unauthenticated clients
        o.send("DEFCON 2")
        notice(o, r"Current DEFCON level is 2$")
        anon.send("JOIN #new")
        anon.expect(r" 403 anonZ #new :No such channel$")
        o.send("JOIN #new")
        o.expect(r" 366 opZ #new ")
        anon.send("JOIN #new")
        anon.expect(r" 366 anonZ #new ")
        late = Client(s.port)
        late.send("NICK lateZ")
        late.send("USER late 0 * :x")
        late.expect(r" 465 lateZ :You must log in with SASL to connect to "
                    r"this server right now$")
        late.close()
        friend.close()
        ok = sasl_client(s, "friendZ")
        ok.close()
        o.send("DEFCON 5")
        notice(o, r"Current DEFCON level is 5$")
        anon.send("PRIVMSG opZ :back to normal")
        o.expect(r"PRIVMSG opZ :back to normal$")


def test_sanick_right_and_wrong_privilege():
    with Server(conf=conf()) as s, s.client("opS") as o, \
            s.client("helpS") as h, s.client("targetS") as t, \
            s.client("takenS"):
        oper_up(h, "h")
        h.send("SANICK targetS newS")
        h.expect(r" 481 helpS :Permission Denied$")
        oper_up(o)
        o.send("SANICK nobodyS x")
        o.expect(r" 401 opS nobodyS ")
        o.send("SANICK targetS takenS")
        o.expect(r" 433 opS takenS ")
        o.send("SANICK targetS NickServ")
        o.expect(r" 432 opS NickServ ")
        o.send("SANICK targetS renamedS")
        t.expect(r"^:targetS!\S+ NICK :?renamedS$")


def test_spam_wave_defcon_and_uban_end_to_end():
    """Spammers flood a channel and its users' private messages; an oper
    raises DEFCON (no new accounts, every user +R, no unauthenticated
    connections), bans the spammers' mask with UBAN (they are killed and
    stay out), then returns to normal; a user with an account is never
    cut off."""
    with Server(conf=conf()) as s, s.client("opSW") as o:
        oper_up(o)
        o.send("JOIN #help")
        o.expect(r" 366 opSW #help ")
        member = registered(s, "memberSW")
        member.send("JOIN #help")
        member.expect(r" 366 memberSW #help ")
        spammers = [s.client("bot%d" % i, user="spam%d" % i)
                    for i in range(4)]
        for b in spammers:
            b.send("JOIN #help")
            b.expect(r" 366 ")
            b.send("PRIVMSG #help :BUY NOW")
            b.send("PRIVMSG memberSW :BUY NOW")
        member.expect(r":bot3!\S+ PRIVMSG memberSW :BUY NOW$")
        # the wave: no new accounts, direct messages only from accounts
        o.send("DEFCON 3")
        notice(o, r"Current DEFCON level is 3$")
        spammers[0].send("PRIVMSG memberSW :BUY NOW")
        spammers[0].expect(r" 477 bot0 memberSW ")
        spammers[1].send("NS REGISTER pw")
        spammers[1].expect(r"Account registration is temporarily disabled")
        # ban them all at once, for an hour
        o.send("UBAN ADD *!~spam*@* DURATION 1h spam wave")
        notice(o, r"Successfully added UBAN for ~spam\*@\*$")
        notice(o, r"Killed 4 active client\(s\)$")
        for b in spammers:
            b.expect(r"^ERROR :You are banned from this server \(spam wave\)")
        member.expect(r":bot3!\S+ QUIT :K-Lined: spam wave$")
        # a new unauthenticated connection is refused outright
        o.send("DEFCON 2")
        notice(o, r"Current DEFCON level is 2$")
        again = Client(s.port)
        again.send("NICK bot9")
        again.send("USER fresh 0 * :x")
        again.expect(r" 465 bot9 :You must log in with SASL")
        again.close()
        member.send("PRIVMSG #help :still here")
        o.expect(r":memberSW!\S+ PRIVMSG #help :still here$")
        # calm again: the ban stays, the server opens up
        o.send("DEFCON 5")
        notice(o, r"Current DEFCON level is 5$")
        back = Client(s.port)
        back.send("NICK bot5")
        back.send("USER spam5 0 * :x")
        back.expect(r" 465 bot5 :You are banned from this server")
        back.close()
        with s.client("newcomer") as n:
            n.send("PRIVMSG memberSW :hello")
            member.expect(r":newcomer!\S+ PRIVMSG memberSW :hello$")
