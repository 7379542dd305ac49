"""Lines and tags as the modern IRC client protocol and IRCv3 say (Ergo
where they leave a choice): a client's 512-byte line relayed whole with
the sender's prefix (PRIVMSG, NOTICE, multiline), the 4094-byte client
tag limit, the 16 KiB read queue, and draft/multiline's opening tags,
blank lines and max-lines."""

import re

from ergotest import Server, split_line


def fill(head):
    """Text that makes head + text exactly 510 bytes (512 with CRLF)."""
    return ("0123456789" * 60)[:510 - len(head)]


def test_512_byte_privmsg_and_notice_relayed_whole_with_the_prefix():
    with Server() as srv:
        a = srv.client("alice")
        b = srv.client("bob")
        a.send("JOIN #c")
        b.send("JOIN #c")
        a.expect(r"JOIN #c")
        b.sync()
        for cmd, target in (("PRIVMSG", "bob"), ("NOTICE", "bob"),
                            ("PRIVMSG", "#c"), ("NOTICE", "#c")):
            head = "%s %s :" % (cmd, target)
            text = fill(head)
            a.send(head + text)
            line = b.expect(r" %s %s :" % (cmd, target))
            assert line == ":alice!~alice@127.0.0.1 %s%s" % (head, text), \
                (len(line), line[-20:])
            assert len(line) + 2 > 512
        assert not any(" 417 " in l for l in a.sync())


def test_multiline_lines_relayed_whole_with_and_without_the_cap():
    with Server() as srv:
        a = srv.client("alice", caps="batch draft/multiline")
        b = srv.client("bob", caps="batch draft/multiline")
        f = srv.client("fred")
        a.send("JOIN #c")
        b.send("JOIN #c")
        f.send("JOIN #c")
        f.expect(r" 366 ")
        b.sync()
        head = "@batch=m1 PRIVMSG #c :"
        text = fill("PRIVMSG #c :")
        a.send("BATCH +m1 draft/multiline #c")
        a.send(head + text)
        a.send("@batch=m1 PRIVMSG #c :short")
        a.send("BATCH -m1")
        got = b.lines_until(r"BATCH -")
        body = [l for l in got if " PRIVMSG #c :" in l]
        assert body[0].endswith(":alice!~alice@127.0.0.1 PRIVMSG #c :" +
                                text), body[0][-40:]
        line = f.expect(r" PRIVMSG #c :0123")
        assert line == ":alice!~alice@127.0.0.1 PRIVMSG #c :" + text
        f.expect(r" PRIVMSG #c :short$")


def test_client_tags_over_4094_bytes_are_417_and_not_relayed():
    with Server() as srv:
        a = srv.client("alice", caps="message-tags echo-message")
        b = srv.client("bob", caps="message-tags")
        over = "+a=" + "y" * (4095 - 3)          # 4095 bytes of tag data
        a.send("@%s TAGMSG bob" % over)
        a.expect(r"^:irc\.test 417 alice :Input line was too long$")
        assert not any("TAGMSG" in l for l in b.sync())
        # exactly 4094 bytes (4096 with '@' and the space): relayed
        # intact, one msgid for the echo and the relay
        exact = "+a=" + "z" * (4094 - 3)
        a.send("@%s TAGMSG bob" % exact)
        echo = a.expect(r" TAGMSG bob$")
        relay = b.expect(r" TAGMSG bob$")
        et, _, _, _ = split_line(echo)
        rt, _, _, _ = split_line(relay)
        assert rt["+a"] == "z" * 4091 and et["+a"] == rt["+a"]
        assert et["msgid"] and et["msgid"] == rt["msgid"], (et, rt)


def test_16k_line_without_crlf_is_disconnected_input_line_too_long():
    with Server() as srv:
        b = srv.client("bob")
        for nick, data in (("plain", "PRIVMSG bob :" + "z" * 16400),
                           ("tagged", "@+x=1 PRIVMSG bob :" + "z" * 16400)):
            c = srv.client(nick)
            c.send_raw(data)            # no CRLF, ever
            lines = c.closed()
            assert lines[-1] == "ERROR :Input line too long", lines
        # in pieces, too
        d = srv.client("pieces")
        for _ in range(9):
            d.send_raw("w" * 2000)
        assert d.closed()[-1] == "ERROR :Input line too long"
        assert not any("zzzz" in l or "wwww" in l for l in b.sync())


def test_multiline_opening_client_only_tag_relayed_on_recipients_batch():
    with Server() as srv:
        a = srv.client("alice", caps="batch draft/multiline message-tags")
        b = srv.client("bob", caps="batch draft/multiline message-tags")
        a.send("@+client-only-tag=x BATCH +m1 draft/multiline bob")
        a.send("@batch=m1 PRIVMSG bob :hello")
        a.send("BATCH -m1")
        opening = b.expect(r" BATCH \+\S+ draft/multiline bob$")
        tags, _, _, _ = split_line(opening)
        assert tags.get("+client-only-tag") == "x", opening


def test_multiline_blank_lines_kept_in_batch_and_all_blank_refused():
    with Server() as srv:
        a = srv.client("alice", caps="batch draft/multiline")
        b = srv.client("bob", caps="batch draft/multiline")
        f = srv.client("fred")
        a.send("BATCH +m1 draft/multiline bob")
        a.send("@batch=m1 PRIVMSG bob :one")
        a.send("@batch=m1 PRIVMSG bob :")
        a.send("@batch=m1 PRIVMSG bob :two")
        a.send("BATCH -m1")
        got = [l for l in b.lines_until(r"BATCH -") if "PRIVMSG" in l]
        assert [l.rsplit(" :", 1)[1] for l in got] == ["one", "", "two"], \
            got
        # without the cap a blank line is not sent at all
        a.send("BATCH +m2 draft/multiline fred")
        a.send("@batch=m2 PRIVMSG fred :one")
        a.send("@batch=m2 PRIVMSG fred :")
        a.send("@batch=m2 PRIVMSG fred :two")
        a.send("BATCH -m2")
        got = [l for l in f.lines_until(r"PRIVMSG fred :two$")
               if "PRIVMSG" in l]
        assert [l.rsplit(" :", 1)[1] for l in got] == ["one", "two"], got
        # a batch of blank lines only is invalid
        a.send("BATCH +m3 draft/multiline bob")
        a.send("@batch=m3 PRIVMSG bob :")
        a.send("BATCH -m3")
        a.expect(r"^:irc\.test FAIL BATCH MULTILINE_INVALID ")
        assert not any("PRIVMSG" in l for l in b.sync())


def test_multiline_max_lines_is_enforced_with_a_fail_not_silence():
    with Server() as srv:
        a = srv.client("alice", caps="batch draft/multiline")
        b = srv.client("bob", caps="batch draft/multiline")
        a.send("CAP LS 302")
        ls = " ".join(a.lines_until(r" CAP alice LS :"))
        mx = int(re.search(r"draft/multiline=\S*max-lines=(\d+)",
                           ls).group(1))
        a.send("BATCH +m1 draft/multiline bob")
        for i in range(mx + 1):
            a.send("@batch=m1 PRIVMSG bob :l%d" % i)
        a.send("BATCH -m1")
        a.expect(r"^:irc\.test FAIL BATCH MULTILINE_MAX_LINES %d :" % mx)
        assert not any("PRIVMSG" in l for l in b.sync())
        # exactly max-lines is delivered
        a.send("BATCH +m2 draft/multiline bob")
        for i in range(mx):
            a.send("@batch=m2 PRIVMSG bob :l%d" % i)
        a.send("BATCH -m2")
        got = [l for l in b.lines_until(r"BATCH -") if "PRIVMSG" in l]
        assert len(got) == mx, len(got)
