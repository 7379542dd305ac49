"""Multiclient (Ergo's `accounts { multiclient }`): a client that logs in
with SASL to an account whose user is online under the nick it asks for
attaches to that user as one more session: one nick, one set of
channels, on several connections at once. Peers see one user."""

import os
import shutil
import subprocess
import tempfile

from ergotest import Server, Skip, account_client, attach_client, wait_for

WEECHAT = shutil.which("weechat-headless")


def test_a_second_login_attaches_with_the_users_nick_and_channels():
    with Server() as srv:
        a = account_client(srv, "alice")
        bob = srv.client("bob")
        a.send("JOIN #room")
        a.expect(r" 366 alice #room ")
        a.send("TOPIC #room :the topic")
        a.expect(r" TOPIC #room :the topic")
        bob.send("JOIN #room")
        bob.expect(r" 366 bob #room ")
        b = attach_client(srv, "alice")
        b.expect(r"^:\S+ 001 alice :Welcome .* alice!")
        b.expect(r"^:alice!\S+ JOIN #room$")
        b.expect(r" 332 alice #room :the topic")
        names = b.expect(r" 353 alice \S #room :")
        assert "bob" in names and "@alice" in names, names
        b.expect(r" 366 alice #room ")
        # nobody saw a second alice arrive
        bob.send("WHOIS alice")
        lines = bob.lines_until(r" 318 ")
        assert not any(" JOIN " in l for l in lines), lines
        assert sum(" 311 bob alice " in l for l in lines) == 1, lines
        bob.send("NAMES #room")
        names = bob.expect(r" 353 bob \S #room :")
        assert names.split(":", 2)[2].split().count("@alice") == 1, names


def test_every_session_sees_what_the_user_says_and_receives():
    with Server() as srv:
        a = account_client(srv, "carol")
        bob = srv.client("bob")
        for c, n in ((a, "carol"), (bob, "bob")):
            c.send("JOIN #c")
            c.expect(r" 366 %s #c " % n)
        b = attach_client(srv, "carol")
        b.expect(r" 366 carol #c ")
        bob.send("PRIVMSG #c :to the channel")
        a.expect(r"^:bob!\S+ PRIVMSG #c :to the channel$")
        b.expect(r"^:bob!\S+ PRIVMSG #c :to the channel$")
        bob.send("PRIVMSG carol :to the user")
        a.expect(r"^:bob!\S+ PRIVMSG carol :to the user$")
        b.expect(r"^:bob!\S+ PRIVMSG carol :to the user$")
        # what one device says, the other sees; the peer sees it once
        a.send("PRIVMSG #c :from the laptop")
        b.expect(r"^:carol!\S+ PRIVMSG #c :from the laptop$")
        bob.expect(r"^:carol!\S+ PRIVMSG #c :from the laptop$")
        a.send("PRIVMSG bob :in private")
        b.expect(r"^:carol!\S+ PRIVMSG bob :in private$")
        bob.expect(r"^:carol!\S+ PRIVMSG bob :in private$")
        bob.send("PING :once")
        lines = bob.lines_until(r"PONG \S+ :once")
        assert not any("from the laptop" in l for l in lines), lines


def test_replies_go_only_to_the_session_that_asked():
    with Server() as srv:
        a = account_client(srv, "dora")
        srv.client("bob")
        b = attach_client(srv, "dora")
        b.expect(r" 001 dora ")
        b.sync()
        a.send("WHOIS bob")
        a.expect(r" 311 dora bob ")
        a.expect(r" 318 dora bob ")
        b.send("PING :mark")
        lines = b.lines_until(r"PONG \S+ :mark")
        assert not any(" 311 " in l for l in lines), lines


def test_one_quit_when_the_last_session_leaves():
    with Server() as srv:
        a = account_client(srv, "erin")
        bob = srv.client("bob")
        for c, n in ((a, "erin"), (bob, "bob")):
            c.send("JOIN #q")
            c.expect(r" 366 %s #q " % n)
        b = attach_client(srv, "erin")
        b.expect(r" 366 erin #q ")
        a.send("QUIT :laptop closed")
        a.expect(r"^ERROR ")
        # the user is still here, on the other device
        b.send("PRIVMSG #q :still here")
        bob.expect(r"^:erin!\S+ PRIVMSG #q :still here$")
        bob.send("WHOIS erin")
        lines = bob.lines_until(r" 318 ")
        assert any(" 311 bob erin " in l for l in lines), lines
        b.send("QUIT :phone off")
        line = bob.expect(r"^:erin!\S+ (QUIT|PRIVMSG)")
        assert " QUIT :Quit: phone off" in line, line


def test_a_dropped_connection_ends_only_its_session():
    with Server() as srv:
        a = account_client(srv, "fay")
        bob = srv.client("bob")
        for c, n in ((a, "fay"), (bob, "bob")):
            c.send("JOIN #d")
            c.expect(r" 366 %s #d " % n)
        b = attach_client(srv, "fay")
        b.expect(r" 366 fay #d ")
        b.close()
        a.send("PRIVMSG #d :after the drop")
        line = bob.expect(r"^:fay!\S+ (QUIT|PRIVMSG)")
        assert "PRIVMSG #d :after the drop" in line, line
        srv.wait_log(r"fay!\S+: a session left \(1 left\)")


def test_nickserv_clients_lists_and_logs_out_sessions():
    with Server() as srv:
        a = account_client(srv, "gus")
        b = attach_client(srv, "gus")
        b.expect(r" 001 gus ")
        a.send("NS CLIENTS LIST")
        a.expect(r"NOTICE gus :Nickname gus has 2 attached clients\(s\)")
        a.expect(r"NOTICE gus :Client 1:")
        a.expect(r"NOTICE gus :IP address:  127\.0\.0\.1")
        a.expect(r"NOTICE gus :Client 2:")
        a.send("NS CLIENTS LOGOUT 1")
        a.expect(r"NOTICE gus :Logged out client 1")
        b.expect(r"^ERROR :Logged out by NickServ")
        a.send("NS CLIENTS LIST")
        a.expect(r"NOTICE gus :Nickname gus has 1 attached clients\(s\)")


def test_another_account_or_no_login_still_gets_433():
    with Server() as srv:
        account_client(srv, "hal")
        account_client(srv, "ivy").close()
        c = attach_client(srv, "ivy")   # logged in as ivy, asks for ivy: fine
        c.expect(r" 001 ivy ")
        d = srv.client()
        d.send("NICK hal")
        d.send("USER x 0 * :x")
        d.expect(r" 433 \* hal ")
        e = attach_client(srv, "hal", account="ivy")
        e.expect(r" 433 \S+ hal ")


def test_multiclient_off_keeps_the_nick_taken():
    with Server(conf="accounts { multiclient { enabled no } }") as srv:
        account_client(srv, "jon")
        c = srv.client()
        c.send("NICK jon")
        c.send("USER jon 0 * :x")
        c.expect(r" 433 \* jon ")


def test_a_read_marker_set_on_one_device_reaches_the_other():
    with Server() as srv:
        a = account_client(srv, "kim")
        a.send("CAP REQ :draft/read-marker")
        a.expect(r" CAP \S+ ACK :draft/read-marker")
        a.send("JOIN #m")
        a.expect(r" 366 kim #m ")
        b = attach_client(srv, "kim", caps="sasl draft/read-marker")
        b.expect(r" 366 kim #m ")
        a.send("MARKREAD #m timestamp=2026-01-02T03:04:05.678Z")
        a.expect(r"MARKREAD #m timestamp=2026-01-02T03:04:05\.678Z")
        b.expect(r"^:\S+ MARKREAD #m timestamp=2026-01-02T03:04:05\.678Z$")


def test_weechat_attaches_to_a_user_online_elsewhere_and_sees_both_sides():
    """A real client: WeeChat logs in with SASL PLAIN to an account whose
    user is online on a raw connection, under its nick; it gets the
    user's channel (the JOIN the server sends on attach opens it), then
    logs what a peer says there and what the user says from the other
    device."""
    if WEECHAT is None:
        raise Skip("weechat-headless is not installed (apt-get install "
                   "weechat-headless)")
    pw = "pw-" + "x" * 8
    with Server() as srv:
        raw = account_client(srv, "wee", pw)
        bob = srv.client("bob")
        for c, n in ((raw, "wee"), (bob, "bob")):
            c.send("JOIN #mc")
            c.expect(r" 366 %s #mc " % n)
        home = tempfile.mkdtemp(prefix="ergotest-weechat-")
        logs = os.path.join(home, "logs")
        chanlog = os.path.join(logs, "irc.ergo.#mc.weechatlog")
        srvlog = os.path.join(logs, "irc.server.ergo.weechatlog")
        cmds = ("/set logger.file.flush_delay 0; "
                "/set logger.file.path %s; "
                "/server add ergo 127.0.0.1/%d -nicks=wee "
                "-sasl_mechanism=plain -sasl_username=wee "
                "-sasl_password=%s -anti_flood_prio_high=0; "
                "/connect ergo" % (logs, srv.port, pw))
        env = dict(os.environ, TZ="UTC", HOME=home)
        proc = subprocess.Popen(
            [WEECHAT, "--dir", home, "--run-command", cmds],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=env)

        def read(path):
            try:
                with open(path, encoding="utf-8") as fh:
                    return fh.read()
            except FileNotFoundError:
                return ""
        try:
            srv.wait_log(r"wee!\S+: a session attached \(2 sessions\)",
                         timeout=15)
            bob.send("PRIVMSG #mc :hello both")
            raw.send("PRIVMSG #mc :from the raw device")
            wait_for(lambda: "from the raw device" in read(chanlog)
                     and "hello both" in read(chanlog), 15,
                     "WeeChat's log of #mc")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            chan, server = read(chanlog), read(srvlog)
            shutil.rmtree(home, ignore_errors=True)
        assert "SASL authentication successful" in server, server
        said = [l.split("\t")[1:] for l in chan.splitlines()]
        assert ["bob", "hello both"] in said, said
        assert ["@wee", "from the raw device"] in said, said
        # bob still sees one wee, who said it once
        bob.send("NAMES #mc")
        names = bob.expect(r" 353 bob \S #mc :")
        assert names.split(":", 2)[2].split().count("@wee") == 1, names


def nick_taken(srv, nick):
    """A new connection asking for nick gets 433 at once."""
    c = srv.client()
    c.send("NICK " + nick)
    c.send("USER x 0 * :x")
    c.expect(r" 433 \* %s " % nick)
    c.close()


def test_ns_set_multiclient_off_and_on_per_account():
    with Server() as srv:
        a = account_client(srv, "lou")
        a.send("NS SET MULTICLIENT off")
        a.expect(r"NOTICE lou :Your setting for multiclient is now off")
        nick_taken(srv, "lou")
        a.send("NS SET MULTICLIENT default")
        a.expect(r"NOTICE lou :Your setting for multiclient is now default")
        c = attach_client(srv, "lou")
        c.expect(r" 001 lou ")
    # on: wins over allowed-by-default no, and is kept in the database
    with Server(conf="accounts { multiclient { allowed-by-default no } }"
                ) as srv:
        a = account_client(srv, "max")
        nick_taken(srv, "max")
        a.send("NS SET MULTICLIENT on")
        a.expect(r"NOTICE max :Your setting for multiclient is now on")
        a.close()
        srv.stop()
        srv.start()
        a = attach_client(srv, "max")      # logs in; nobody holds the nick
        a.expect(r" 001 max ")
        c = attach_client(srv, "max")
        c.expect(r" 001 max ")
