"""Registration and SASL as the modern IRC client protocol, IRCv3 SASL 3.2
and draft/account-registration say (and Ergo does where they leave a
choice): an empty realname, AUTHENTICATE without the cap, registration
completing during SASL, an over-long exchange, the order of 900/903/+r,
and REGISTER of a nick another connection holds."""

import base64
import re

from ergotest import Server


def b64(s):
    return base64.b64encode(s.encode()).decode()


def ns_register(srv, nick, pw):
    c = srv.client(nick)
    c.send("PRIVMSG NickServ :REGISTER %s" % pw)
    c.expect(r"NOTICE %s :Account created" % nick)
    c.close()


def test_user_with_empty_realname_gets_461_and_no_registration():
    with Server() as srv:
        c = srv.client()
        c.send("NICK carl")
        c.send("USER u 0 * :")
        c.expect(r"^:irc\.test 461 carl USER :Not enough parameters$")
        assert not any(" 001 " in l for l in c.sync())
        c.send("USER u 0 * :Carl")       # a good USER still registers
        c.expect(r"^:irc\.test 001 carl ")


def test_authenticate_without_cap_sasl_is_904_and_registration_completes():
    with Server() as srv:
        ns_register(srv, "alice", "pw12345678")
        c = srv.client()
        c.send("AUTHENTICATE PLAIN")
        c.expect(r"^:irc\.test 904 \* :SASL authentication failed$")
        c.send("AUTHENTICATE " + b64("\0alice\0pw12345678"))
        c.send("NICK carl")
        c.send("USER u 0 * :Carl")
        lines = c.lines_until(r" 001 carl ")
        assert not any(" 900 " in l for l in lines), lines
        c.send("WHOIS carl")
        assert not any(" 330 " in l for l in c.lines_until(r" 318 "))


def test_registration_completed_during_sasl_aborts_it_with_906():
    with Server() as srv:
        ns_register(srv, "alice", "pw12345678")
        c = srv.client()
        c.send("CAP LS 302")
        c.send("CAP REQ :sasl")
        c.expect(r" CAP \* ACK :sasl$")
        c.send("AUTHENTICATE PLAIN")
        c.expect(r"^AUTHENTICATE \+$")
        c.send("NICK dave")
        c.send("USER u 0 * :Dave")
        c.send("CAP END")
        lines = c.lines_until(r" 001 dave ")
        assert re.match(r"^:irc\.test 906 dave :SASL authentication "
                        r"aborted$", lines[-2]), lines
        # unauthenticated; the exchange is gone, not resumed
        c.send("AUTHENTICATE " + b64("\0alice\0pw12345678"))
        got = c.sync()
        assert not any(" 900 " in l for l in got), got
        c.send("WHOIS dave")
        assert not any(" 330 " in l for l in c.lines_until(r" 318 "))


def test_sasl_payload_over_the_limit_is_904_and_one_long_chunk_is_905():
    with Server() as srv:
        c = srv.client()
        c.send("CAP REQ :sasl")
        c.send("AUTHENTICATE PLAIN")
        c.expect(r"^AUTHENTICATE \+$")
        for _ in range(1000):
            c.send("AUTHENTICATE " + "A" * 400)
        c.expect(r"^:irc\.test 904 \* :SASL authentication failed$",
                 timeout=15)
        # the rest of the flood is no exchange: one 904 each, no 905
        lines = c.sync(timeout=15)
        assert not any(" 905 " in l or " 903 " in l for l in lines)
        c.send("AUTHENTICATE PLAIN")
        c.sync()
        c.send("AUTHENTICATE " + "A" * 401)
        c.expect(r"^:irc\.test 905 \* :SASL message too long$")
        # the connection goes on and registers
        c.send("CAP END")
        c.register("erin")


def test_sasl_success_sends_900_then_903_then_user_mode_r():
    with Server() as srv:
        ns_register(srv, "alice", "pw12345678")
        # before registration: +r is in the welcome, never before 903
        c = srv.client()
        c.send("CAP LS 302")
        c.send("CAP REQ :sasl")
        c.send("NICK al")
        c.send("USER al 0 * :Al")
        c.send("AUTHENTICATE PLAIN")
        c.expect(r"^AUTHENTICATE \+$")
        c.send("AUTHENTICATE " + b64("\0alice\0pw12345678"))
        lines = c.lines_until(r" 903 ")
        assert any(" 900 al " in l for l in lines), lines
        assert not any(" MODE " in l for l in lines), lines
        c.send("CAP END")
        c.expect(r" 001 al ")
        # after registration: 900, 903, then MODE +r
        d = srv.client("al2", caps="sasl", capver=302)
        d.send("AUTHENTICATE PLAIN")
        d.expect(r"^AUTHENTICATE \+$")
        d.send("AUTHENTICATE " + b64("\0alice\0pw12345678"))
        got = [l for l in d.sync() if re.search(r" (900|903|MODE) ", l)]
        assert len(got) == 3, got
        assert " 900 al2 " in got[0], got
        assert " 903 al2 " in got[1], got
        assert re.match(r"^:al2 MODE al2 :\+r$", got[2]), got
        # re-authentication is not offered: 907, no second login
        d.send("AUTHENTICATE PLAIN")
        d.expect(r" 907 al2 ")
        d.send("CAP LS 302")
        ls = " ".join(d.lines_until(r" CAP al2 LS :"))
        assert "draft/reauth" not in ls and "sasl-reauth" not in ls


def test_register_of_a_nick_another_connection_holds_is_account_exists():
    conf = ("accounts { registration { enabled yes }\n"
            " nick-reservation { enabled no } }")
    with Server(conf=conf) as srv:
        a = srv.client()
        a.send("NICK foo")          # unregistered, but foo is its nick
        a.sync()
        b = srv.client()
        b.send("CAP LS 302")
        b.send("NICK bar")
        b.send("REGISTER foo * passw0rdpassw0rd")
        b.expect(r"^:irc\.test FAIL REGISTER ACCOUNT_EXISTS foo :")
        # nor after registration, nor by another case
        b.send("CAP END")
        b.send("USER bar 0 * :Bar")
        b.expect(r" 001 bar ")
        b.send("REGISTER FOO * passw0rdpassw0rd")
        b.expect(r"^:irc\.test FAIL REGISTER ACCOUNT_EXISTS FOO :")
        # foo itself may register its own nick
        a.send("REGISTER foo * passw0rdpassw0rd")
        a.expect(r"REGISTER SUCCESS foo ")


def test_account_registration_cap_without_before_connect_when_disabled():
    conf = ("accounts { registration { enabled yes\n"
            " allow-before-connect no } }")
    with Server(conf=conf) as srv:
        c = srv.client()
        c.send("CAP LS 302")
        ls = " ".join(c.lines_until(r" CAP \* LS :"))
        m = re.search(r"draft/account-registration(=\S*)?", ls)
        assert m, ls
        assert "before-connect" not in (m.group(1) or ""), m.group(0)
        c.send("NICK early")
        c.send("REGISTER * * passw0rdpassw0rd")
        c.expect(r"FAIL REGISTER COMPLETE_CONNECTION_REQUIRED ")
