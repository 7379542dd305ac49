"""draft/metadata-2 (irc_metadata.c): the cap and its value, 005
METADATA=, METADATA SET/GET/LIST/CLEAR/SUB/UNSUB/SUBS/SYNC with the
spec's numerics and FAIL codes, permissions on users and channels,
subscribers sharing a channel or monitoring told of changes (and nobody
else), JOIN syncing, before-connect metadata, the limits and the rate
limit from the config, and an account's keys kept in the database across
a restart and dropped with the account."""

import base64
import os
import re
import sqlite3

from ergotest import Server

CAP = "draft/metadata-2"
NS = r"NOTICE %s :"


def client(srv, nick, caps=(CAP, "batch"), subs=()):
    c = srv.client(nick, realname=nick, caps=caps or None)
    if CAP in caps and "batch" in caps:
        assert batch_lines(c) == []     # its own keys: none yet
    if subs:
        c.send("METADATA * SUB " + " ".join(subs))
        c.expect(r" 770 %s :" % nick)
    return c


def cap_ls(c):
    """CAP LS 302, every line of it: the caps offered."""
    c.send("CAP LS 302")
    caps = []
    while True:
        line = c.expect(r" CAP \* LS ")
        caps += line.split(":", 2)[-1].split()
        if " LS * :" not in line:
            return caps


def no_metadata(c):
    lines = c.sync()
    assert not any(" METADATA " in l for l in lines), lines


def batch_lines(c, end_pattern=r" BATCH -"):
    """The lines of the next metadata batch (its body)."""
    start = c.expect(r"^(@\S+ )?:irc\.test BATCH \+(\S+) metadata$")
    ref = re.search(r"BATCH \+(\S+)", start).group(1)
    lines = c.lines_until(r":irc\.test BATCH -%s$" % re.escape(ref))
    body = lines[:-1]
    for l in body:
        assert l.startswith("@batch=%s " % ref) or \
            l.startswith("@batch=%s;" % ref), l
    return [l.split(" ", 1)[1] for l in body]


def test_the_cap_is_offered_with_its_limits_and_005_says_max_keys():
    with Server() as srv:
        c = srv.client()
        caps = cap_ls(c)
        assert ("%s=before-connect,max-subs=100,max-keys=100,"
                "max-value-bytes=300" % CAP) in caps, caps
        c.send("CAP END")
        lines = c.register("isup")
        assert any(re.search(r" 005 isup .*\bMETADATA=100\b", l)
                   for l in lines), lines


def test_limits_come_from_the_config():
    conf = ("metadata { max-subs 3  max-keys 2  max-value-bytes 10 }")
    with Server(conf=conf) as srv:
        c = srv.client()
        caps = cap_ls(c)
        assert ("%s=before-connect,max-subs=3,max-keys=2,"
                "max-value-bytes=10" % CAP) in caps, caps
        c.send("CAP END")
        c.register("lim")
        c.send("METADATA * SET a :1")
        c.expect(r"^:irc\.test 761 lim \* a \* :1$")
        c.send("METADATA * SET b :2")
        c.expect(r"^:irc\.test 761 lim \* b \* :2$")
        c.send("METADATA * SET c :3")
        c.expect(r"^:irc\.test FAIL METADATA LIMIT_REACHED \* :")
        c.send("METADATA * SET a :01234567890")
        c.expect(r"^:irc\.test FAIL METADATA VALUE_INVALID :")
        c.send("METADATA * SET a :0123456789")
        c.expect(r"^:irc\.test 761 lim \* a \* :0123456789$")
        c.send("METADATA * SUB k1 k2 k3 k4 k5")
        c.expect(r"^:irc\.test FAIL METADATA TOO_MANY_SUBS k4 :")
        c.expect(r"^:irc\.test 770 lim :k1 k2 k3$")
        c.send("METADATA * SUBS")
        c.expect(r"^:irc\.test 772 lim :k1 k2 k3$")


def test_set_get_list_and_delete_on_oneself():
    with Server() as srv:
        c = client(srv, "ann")
        c.send("METADATA * SET display-name :Ann Example")
        c.expect(r"^:irc\.test 761 ann \* display-name \* :Ann Example$")
        c.send("METADATA * SET URL :https://example.org/ann")
        c.expect(r"^:irc\.test 761 ann \* url \* :https://example.org/ann$")
        c.send("METADATA ann GET display-name avatar url")
        body = batch_lines(c)
        assert body == [
            ":irc.test 761 ann ann display-name * :Ann Example",
            ":irc.test 766 ann ann avatar :No matching key",
            ":irc.test 761 ann ann url * :https://example.org/ann"], body
        c.send("METADATA * LIST")
        assert batch_lines(c) == [
            ":irc.test 761 ann * display-name * :Ann Example",
            ":irc.test 761 ann * url * :https://example.org/ann"]
        # removing: the reply is RPL_KEYVALUE without a value
        c.send("METADATA * SET url")
        c.expect(r"^:irc\.test 761 ann \* url \*$")
        c.send("METADATA * SET url")
        c.expect(r"^:irc\.test 768 ann \* url :Key not set$")
        c.send("METADATA * CLEAR")
        assert batch_lines(c) == [":irc.test 761 ann * display-name *"]
        c.send("METADATA * LIST")
        assert batch_lines(c) == []


def test_without_batch_replies_come_bare():
    with Server() as srv:
        c = client(srv, "nob", caps=(CAP,))
        c.send("METADATA * SET avatar :https://example.org/a.png")
        c.expect(r" 761 nob \* avatar \* :https://example.org/a\.png$")
        c.send("METADATA nob GET avatar")
        c.expect(r"^:irc\.test 761 nob nob avatar \* "
                 r":https://example\.org/a\.png$")


def test_bad_keys_targets_and_subcommands_get_standard_replies():
    with Server() as srv:
        c = client(srv, "bad")
        c.send("METADATA * SET $url$ :x")
        c.expect(r"^:irc\.test FAIL METADATA KEY_INVALID \$url\$ :")
        c.send("METADATA * SET :colon x")
        c.expect(r"^:irc\.test FAIL METADATA KEY_INVALID ")
        c.send("METADATA nobody SET url :x")
        c.expect(r"^:irc\.test FAIL METADATA INVALID_TARGET nobody :")
        c.send("METADATA #nochan LIST")
        c.expect(r"^:irc\.test FAIL METADATA INVALID_TARGET #nochan :")
        c.send("METADATA * DESTR0Y")
        c.expect(r"^:irc\.test FAIL METADATA INVALID_SUBCOMMAND DESTR0Y :")
        c.send("METADATA *")
        c.expect(r"^:irc\.test 461 bad METADATA :")
        c.send("METADATA * SET")
        c.expect(r"^:irc\.test 461 bad METADATA :")
        c.send("METADATA * SET " + "k" * 65 + " :x")
        c.expect(r"^:irc\.test FAIL METADATA KEY_INVALID ")
        c.send("METADATA * SUB ok b@d other")
        c.expect(r"^:irc\.test FAIL METADATA KEY_INVALID b@d :")
        c.expect(r"^:irc\.test 770 bad :ok other$")


def test_others_keys_need_permission_to_set():
    with Server() as srv:
        a = client(srv, "alice")
        b = client(srv, "bob")
        a.send("METADATA * SET avatar :https://a.example/a.png")
        a.expect(r" 761 ")
        b.send("METADATA alice SET avatar :https://evil.example/")
        b.expect(r"^:irc\.test FAIL METADATA KEY_NO_PERMISSION alice "
                 r"avatar :")
        b.send("METADATA alice CLEAR")
        b.expect(r"^:irc\.test FAIL METADATA KEY_NO_PERMISSION alice \* :")
        b.send("METADATA alice GET avatar")
        assert batch_lines(b) == [
            ":irc.test 761 bob alice avatar * :https://a.example/a.png"]


def test_channel_keys_for_ops_to_set_and_members_to_see():
    with Server() as srv:
        op = client(srv, "chop")
        op.send("JOIN #meta")
        op.expect(r" 366 ")
        m = client(srv, "member", subs=("url",))
        m.send("JOIN #meta")
        m.expect(r" 366 ")
        out = client(srv, "outsider")
        m.send("METADATA #meta SET url :https://member.example/")
        m.expect(r"^:irc\.test FAIL METADATA KEY_NO_PERMISSION #meta url :")
        op.send("METADATA #META SET url :https://meta.example/")
        op.expect(r"^:irc\.test 761 chop #meta url \* "
                  r":https://meta\.example/$")
        m.expect(r"^:irc\.test METADATA #meta url \* "
                 r":https://meta\.example/$")
        out.send("METADATA #meta GET url")
        out.expect(r"^:irc\.test FAIL METADATA KEY_NO_PERMISSION #meta \* :")
        m.send("METADATA #meta GET url")
        assert batch_lines(m) == [
            ":irc.test 761 member #meta url * :https://meta.example/"]
        no_metadata(op)
        no_metadata(out)


def test_subscribers_sharing_a_channel_are_told_and_no_one_else():
    with Server() as srv:
        a = client(srv, "setter", subs=("avatar",))
        sub = client(srv, "subbed", subs=("avatar", "display-name"))
        nosub = client(srv, "unsubbed", subs=("url",))
        nocap = client(srv, "nocap", caps=())
        far = client(srv, "faraway", subs=("avatar",))
        for c in (a, sub, nosub, nocap):
            c.send("JOIN #share")
            c.expect(r" 366 ")
        sub.sync()
        a.send("METADATA * SET avatar :https://x.example/s.png")
        a.expect(r" 761 setter \* avatar ")
        sub.expect(r"^:irc\.test METADATA setter avatar \* "
                   r":https://x\.example/s\.png$")
        no_metadata(a)       # not the session that set it
        no_metadata(nosub)
        no_metadata(nocap)
        no_metadata(far)
        a.send("METADATA * SET avatar")
        sub.expect(r"^:irc\.test METADATA setter avatar \*$")
        sub.send("METADATA * UNSUB avatar")
        sub.expect(r"^:irc\.test 771 subbed :avatar$")
        sub.send("METADATA * SUBS")
        sub.expect(r"^:irc\.test 772 subbed :display-name$")
        a.send("METADATA * SET avatar :https://x.example/t.png")
        a.expect(r" 761 ")
        no_metadata(sub)


def test_monitoring_subscribers_are_told():
    with Server() as srv:
        w = client(srv, "watcher", subs=("display-name",))
        w.send("MONITOR + target")
        t = client(srv, "target")
        w.expect(r" 730 ")
        t.send("METADATA * SET display-name :The Target")
        w.expect(r"^:irc\.test METADATA target display-name \* "
                 r":The Target$")


def test_join_syncs_the_channel_and_its_members():
    with Server() as srv:
        a = client(srv, "early")
        a.send("JOIN #sync")
        a.expect(r" 366 ")
        a.send("METADATA * SET display-name :Early Bird")
        a.expect(r" 761 ")
        a.send("METADATA #sync SET url :https://sync.example/")
        a.expect(r" 761 ")
        late = client(srv, "late", subs=("display-name", "url"))
        late.send("JOIN #sync")
        late.expect(r" 366 late #sync ")
        body = batch_lines(late)
        assert sorted(body) == sorted([
            ":irc.test METADATA #sync url * :https://sync.example/",
            ":irc.test METADATA early display-name * :Early Bird"]), body
        late.send("METADATA #sync SYNC")
        assert sorted(batch_lines(late)) == sorted(body)
        # a member subscribed hears of a joiner's keys
        a.send("METADATA * SUB display-name")
        a.expect(r" 770 ")
        third = client(srv, "third")
        third.send("METADATA * SET display-name :Number Three")
        third.expect(r" 761 ")
        third.send("JOIN #sync")
        a.expect(r"^:irc\.test METADATA third display-name \* "
                 r":Number Three$")


def test_before_connect_metadata_is_set_and_played_back():
    with Server() as srv:
        c = srv.client()
        cap_ls(c)
        c.send("CAP REQ :%s batch" % CAP)
        c.expect(r" CAP \S+ ACK ")
        c.send("METADATA * SET display-name :Early Riser")
        c.expect(r"^:irc\.test 761 \* \* display-name \* :Early Riser$")
        c.send("METADATA someone GET x")
        c.expect(r"^:irc\.test FAIL METADATA INVALID_TARGET someone :")
        c.send("NICK riser")
        c.send("USER riser 0 * :r")
        c.send("CAP END")
        c.expect(r" 001 riser ")
        body = batch_lines(c)
        assert body == [":irc.test METADATA riser display-name * "
                        ":Early Riser"], body
        d = client(srv, "other")
        d.send("METADATA riser GET display-name")
        assert batch_lines(d) == [
            ":irc.test 761 other riser display-name * :Early Riser"]


def test_a_client_without_keys_gets_an_empty_batch_at_registration():
    with Server() as srv:
        c = srv.client()
        c.send("CAP REQ :%s batch" % CAP)
        c.expect(r" ACK ")
        c.send("NICK empty")
        c.send("USER e 0 * :e")
        c.send("CAP END")
        c.expect(r" 001 ")
        assert batch_lines(c) == []


def test_changes_are_rate_limited():
    conf = "metadata { client-throttle { max-attempts 2  duration 1m } }"
    with Server(conf=conf) as srv:
        c = client(srv, "fast")
        c.send("METADATA * SET a :1")
        c.expect(r" 761 ")
        c.send("METADATA * SET a :2")
        c.expect(r" 761 ")
        c.send("METADATA * SET a :3")
        line = c.expect(r"^:irc\.test FAIL METADATA RATE_LIMITED \* a "
                        r"(\d+) 3 :")
        retry = int(line.split()[6])
        assert 1 <= retry <= 60, line


def test_metadata_can_be_disabled():
    with Server(conf="metadata { enabled no }") as srv:
        c = srv.client()
        caps = cap_ls(c)
        assert not any(x.startswith(CAP) for x in caps), caps
        c.send("CAP END")
        lines = c.register("off")
        assert not any("METADATA=" in l for l in lines), lines
        c.send("METADATA * SET a :b")
        c.expect(r"^:irc\.test FAIL METADATA FORBIDDEN \* :")


def b64(s):
    return base64.b64encode(s.encode()).decode()


def test_an_accounts_keys_survive_a_restart_and_go_with_the_account():
    with Server() as srv:
        c = client(srv, "keeper")
        c.send("PRIVMSG NickServ :REGISTER pw")
        c.expect(NS % "keeper" + "Account created")
        c.send("METADATA * SET avatar :https://keep.example/k.png")
        c.expect(r" 761 ")
        c.close()
        assert srv.stop() == 0
        srv.start()
        # SASL before registration: the keys are there at 001
        d = srv.client()
        d.send("CAP REQ :%s batch sasl" % CAP)
        d.expect(r" ACK ")
        d.send("NICK keeper")
        d.send("USER k 0 * :k")
        d.send("AUTHENTICATE PLAIN")
        d.expect(r"^AUTHENTICATE \+$")
        d.send("AUTHENTICATE " + b64("\0keeper\0pw"))
        d.expect(r" 903 ")
        d.send("CAP END")
        d.expect(r" 001 ")
        assert batch_lines(d) == [
            ":irc.test METADATA keeper avatar * :https://keep.example/k.png"]
        # a key set before IDENTIFY goes to the account too
        e = client(srv, "second")
        e.send("METADATA * SET display-name :Second")
        e.expect(r" 761 ")
        e.send("PRIVMSG NickServ :IDENTIFY keeper pw")
        e.expect(NS % "second" + "You're now logged in")
        e.send("METADATA * LIST")
        assert sorted(batch_lines(e)) == sorted([
            ":irc.test 761 second * avatar * :https://keep.example/k.png",
            ":irc.test 761 second * display-name * :Second"])
        db = os.path.join(srv.dir, "ircd.db")
        rows = sqlite3.connect(db).execute(
            "SELECT key, value FROM account_metadata ORDER BY key").fetchall()
        assert rows == [("avatar", "https://keep.example/k.png"),
                        ("display-name", "Second")], rows
        d.send("PRIVMSG NickServ :DROP pw")
        d.expect(NS % "keeper" + "Successfully unregistered")
        con = sqlite3.connect(db)
        n = con.execute("SELECT count(*) FROM account_metadata").fetchone()
        con.close()
        assert n == (0,), n


def test_whois_shows_the_readable_keys_with_760():
    with Server() as srv:
        a = client(srv, "shown")
        for key, value in (("avatar", "https://a.example/a.png"),
                           ("pronouns", "they/them"),
                           ("display-name", "Shown Person")):
            a.send("METADATA * SET %s :%s" % (key, value))
            a.expect(r" 761 shown \* %s " % key)
        b = client(srv, "asker", caps=())
        b.send("WHOIS shown")
        lines = b.lines_until(r" 318 asker shown ")
        kv = [l for l in lines if " 760 " in l]
        assert kv == [
            ":irc.test 760 asker shown display-name * :Shown Person",
            ":irc.test 760 asker shown pronouns * :they/them"], lines
        # before 317, after 311
        nums = [l.split()[1] for l in lines]
        assert nums.index("311") < nums.index("760") < nums.index("317"), \
            nums
        c = client(srv, "bare")
        b.send("WHOIS bare")
        lines = b.lines_until(r" 318 asker bare ")
        assert not any(" 760 " in l for l in lines), lines


def test_sub_sends_the_current_values_of_the_new_keys():
    with Server() as srv:
        a = client(srv, "owner")
        a.send("JOIN #vals")
        a.expect(r" 366 ")
        a.send("METADATA #vals SET url :https://vals.example/")
        a.expect(r" 761 ")
        a.send("METADATA * SET display-name :Owner Person")
        a.expect(r" 761 ")
        a.send("METADATA * SET avatar :https://vals.example/o.png")
        a.expect(r" 761 ")
        far = client(srv, "stranger")
        far.send("METADATA * SET display-name :Not Shared")
        far.expect(r" 761 ")
        s = client(srv, "subber")
        s.send("METADATA * SET display-name :Myself")
        s.expect(r" 761 ")
        s.send("JOIN #vals")
        s.expect(r" 366 subber #vals ")
        assert batch_lines(s) == []     # subscribed to nothing yet
        s.send("METADATA * SUB display-name url")
        s.expect(r"^:irc\.test 770 subber :display-name url$")
        body = batch_lines(s)
        assert sorted(body) == sorted([
            ":irc.test METADATA subber display-name * :Myself",
            ":irc.test METADATA #vals url * :https://vals.example/",
            ":irc.test METADATA owner display-name * :Owner Person"]), body
        # a key subscribed already brings nothing again; a new one its own
        s.send("METADATA * SUB url avatar")
        s.expect(r"^:irc\.test 770 subber :url avatar$")
        assert batch_lines(s) == [
            ":irc.test METADATA owner avatar * :https://vals.example/o.png"]
        # nothing set for a new key: no batch at all
        s.send("METADATA * SUB homepage")
        s.expect(r"^:irc\.test 770 subber :homepage$")
        no_metadata(s)
        # without batch: the same lines, bare
        nb = client(srv, "nobatch", caps=(CAP,))
        nb.send("JOIN #vals")
        nb.expect(r" 366 nobatch #vals ")
        nb.send("METADATA * SUB url")
        nb.expect(r"^:irc\.test 770 nobatch :url$")
        nb.expect(r"^:irc\.test METADATA #vals url \* "
                  r":https://vals\.example/$")


def test_an_attached_session_gets_its_keys_and_its_channels_keys():
    with Server() as srv:
        a = client(srv, "multi")
        a.send("PRIVMSG NickServ :REGISTER pw")
        a.expect(NS % "multi" + "Account created")
        a.send("METADATA * SET display-name :Multi One")
        a.expect(r" 761 ")
        a.send("JOIN #both")
        a.expect(r" 366 ")
        p = client(srv, "peer")
        p.send("JOIN #both")
        p.expect(r" 366 ")
        p.send("METADATA * SET display-name :The Peer")
        p.expect(r" 761 ")
        # a second device subscribes before connecting, then attaches
        d = srv.client()
        d.send("CAP REQ :%s batch sasl" % CAP)
        d.expect(r" ACK ")
        d.send("METADATA * SUB display-name")
        d.expect(r"^:irc\.test 770 \* :display-name$")
        d.send("NICK multi")
        d.send("USER m 0 * :m")
        d.send("AUTHENTICATE PLAIN")
        d.expect(r"^AUTHENTICATE \+$")
        d.send("AUTHENTICATE " + b64("\0multi\0pw"))
        d.expect(r" 903 ")
        d.send("CAP END")
        d.expect(r" 001 multi ")
        d.expect(r" 366 multi #both ")
        assert batch_lines(d) == [
            ":irc.test METADATA multi display-name * :Multi One"]
        # its channels as at JOIN (its own keys came in the batch before)
        assert batch_lines(d) == [
            ":irc.test METADATA peer display-name * :The Peer"]


def test_a_registered_channels_keys_survive_a_restart_and_its_drop():
    with Server() as srv:
        f = client(srv, "chfounder")
        f.send("PRIVMSG NickServ :REGISTER pw")
        f.expect(NS % "chfounder" + "Account created")
        f.send("JOIN #kept")
        f.expect(r" 366 ")
        # set before the registration: saved by it
        f.send("METADATA #kept SET url :https://kept.example/")
        f.expect(r" 761 ")
        f.send("PRIVMSG ChanServ :REGISTER #kept")
        f.expect(r"NOTICE chfounder :Channel #kept successfully registered")
        f.send("METADATA #kept SET avatar :https://kept.example/k.png")
        f.expect(r" 761 ")
        f.send("METADATA #kept SET url")
        f.expect(r" 761 chfounder #kept url \*$")
        f.send("METADATA #kept SET display-name :Kept Channel")
        f.expect(r" 761 ")
        # an unregistered channel's keys are not kept
        f.send("JOIN #fleeting")
        f.expect(r" 366 chfounder #fleeting ")
        f.send("METADATA #fleeting SET url :https://gone.example/")
        f.expect(r" 761 ")
        f.close()
        assert srv.stop() == 0
        db = os.path.join(srv.dir, "ircd.db")
        con = sqlite3.connect(db)
        rows = con.execute("SELECT key, value FROM channel_metadata "
                           "ORDER BY key").fetchall()
        con.close()
        assert rows == [("avatar", "https://kept.example/k.png"),
                        ("display-name", "Kept Channel")], rows
        srv.start()
        x = client(srv, "visitor", subs=("avatar",))
        x.send("JOIN #kept")
        x.expect(r" 366 visitor #kept ")
        assert batch_lines(x) == [
            ":irc.test METADATA #kept avatar * :https://kept.example/k.png"]
        x.send("METADATA #kept LIST")
        assert batch_lines(x) == [
            ":irc.test 761 visitor #kept avatar * "
            ":https://kept.example/k.png",
            ":irc.test 761 visitor #kept display-name * :Kept Channel"]
        x.send("JOIN #fleeting")
        x.expect(r" 366 visitor #fleeting ")
        x.send("METADATA #fleeting LIST")
        assert batch_lines(x) == []
        # CLEAR empties the row's keys; DROP takes them with it
        g = client(srv, "chfounder2")
        g.send("PRIVMSG NickServ :IDENTIFY chfounder pw")
        g.expect(r"You're now logged in")
        g.send("PRIVMSG ChanServ :DROP #kept")
        line = g.expect(r"run this command: /CS UNREGISTER #kept \S+$")
        g.send("PRIVMSG ChanServ :DROP #kept " + line.split()[-1])
        g.expect(r"NOTICE chfounder2 :Channel #kept is now unregistered")
        con = sqlite3.connect(db)
        n = con.execute("SELECT count(*) FROM channel_metadata").fetchone()
        con.close()
        assert n == (0,), n


def test_the_cap_asked_for_after_registration_brings_ones_own_keys():
    with Server() as srv:
        c = client(srv, "latecap", caps=())
        c.send("METADATA * SET display-name :Late Cap")
        c.expect(r" 761 latecap \* display-name ")
        c.send("CAP REQ :%s batch" % CAP)
        c.expect(r" CAP latecap ACK ")
        assert batch_lines(c) == [
            ":irc.test METADATA latecap display-name * :Late Cap"]
        # asked again: nothing more
        c.send("CAP REQ :%s" % CAP)
        c.expect(r" CAP latecap ACK ")
        no_metadata(c)
