"""Oper classes and capabilities, per-oper settings, DEOPER, snomasks
(irc_oper.c, the command table's capability column)."""

import re

from ergotest import Server, run_ergo

PASSWORD = "correct horse battery staple"
HASH = None

CLASSES = '''
oper-class chat-moderator {
	title "Chat Moderator"
	capabilities "kill nofakelag"
}
oper-class server-admin {
	title "Server Admin"
	extends chat-moderator
	capabilities "rehash ban vhosts snomasks die"
}
oper-class helper {
	capabilities ""
}
'''


def setup_module():
    global HASH
    p = run_ergo("genpasswd", input=PASSWORD + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    HASH = [l for l in p.stdout.splitlines() if l.strip()][-1].strip()


def opers(extra_admin="", extra_mod=""):
    return CLASSES + (
        'oper admin { class server-admin  password "%s" %s }\n'
        'oper mod { class chat-moderator  password "%s" %s }\n'
        'oper help { class helper  password "%s" }\n'
        % (HASH, extra_admin, HASH, extra_mod, HASH))


def oper_up(c, name):
    c.send("OPER %s :%s" % (name, PASSWORD))
    c.expect_numeric("381")


def checkconfig(tmp_path_text):
    import os
    import tempfile
    d = tempfile.mkdtemp(prefix="ergo-ocl-")
    path = os.path.join(d, "ergo.conf")
    with open(path, "w") as f:
        f.write(tmp_path_text)
    p = run_ergo("checkconfig", "--config", path)
    import shutil
    shutil.rmtree(d, ignore_errors=True)
    return p


def test_capability_missing_gives_481_permission_denied():
    with Server(conf=opers()) as s, s.client("modA") as m, \
            s.client("victimA") as v:
        oper_up(m, "mod")
        for cmd in ("REHASH", "KLINE *@10.9.9.9", "DLINE 10.9.9.9",
                    "UNKLINE *@10.9.9.9", "UNDLINE 10.9.9.9",
                    "CHGHOST victimA u h.example", "DIE"):
            m.send(cmd)
            m.expect(r"^:irc\.test 481 modA :Permission Denied$")
        assert s.running()
        # what the class has, it may do
        m.send("KILL victimA")
        v.expect(r"^ERROR :.*Killed \(modA \(No reason given\)\)")


def test_extends_gives_the_parent_class_capabilities():
    with Server(conf=opers()) as s, s.client("adminB") as a, \
            s.client("victimB") as v:
        oper_up(a, "admin")
        a.send("KILL victimB :spam")       # kill comes from chat-moderator
        v.expect(r"^ERROR :.*Killed \(adminB \(spam\)\)")
        a.send("REHASH")
        a.expect_numeric("382")


def test_class_without_capabilities_may_do_nothing_privileged():
    with Server(conf=opers()) as s, s.client("helpC") as h, \
            s.client("victimC") as v:
        oper_up(h, "help")
        h.send("KILL victimC")
        h.expect(r" 481 helpC :Permission Denied$")
        h.send("MODE helpC +s +c")
        h.expect(r" 481 helpC :Permission Denied$")
        assert "ERROR" not in "".join(v.sync())


def test_non_oper_gets_481_not_an_operator():
    with Server(conf=opers()) as s, s.client("plainD") as c:
        c.send("KILL plainD")
        c.expect(r" 481 plainD :Permission Denied- You're not an IRC "
                 r"operator$")


def test_old_config_without_oper_class_keeps_every_power():
    conf = 'oper admin { class netadmin  password "%s" }\n' % HASH
    with Server(conf=conf) as s, s.client("oldE") as c, \
            s.client("victimE") as v:
        oper_up(c, "admin")
        c.send("KLINE *@10.1.2.3")
        c.expect(r"NOTICE oldE :Added K-Line")
        c.send("KILL victimE")
        v.expect(r"^ERROR :")
        c.send("MODE oldE +s +c")
        c.expect(r" 008 oldE \+c :Server notice masks")


def test_kill_with_one_argument_uses_no_reason_given():
    conf = 'oper admin { class x  password "%s" }\n' % HASH
    with Server(conf=conf) as s, s.client("killF") as k, \
            s.client("goneF") as v, s.client("seeF") as w:
        oper_up(k, "admin")
        v.send("JOIN #f")
        v.expect(r" 366 goneF")
        w.send("JOIN #f")
        w.expect(r" 366 seeF")
        k.send("KILL goneF")
        w.expect(r"^:goneF!\S+ QUIT :Killed \(killF \(No reason given\)\)$")


def test_deoper_drops_operator_status_and_capabilities():
    with Server(conf=opers()) as s, s.client("deopG") as c:
        c.send("DEOPER")
        c.expect(r"NOTICE deopG :Insufficient oper privs$")
        oper_up(c, "admin")
        c.send("DEOPER")
        c.expect(r"^:deopG MODE deopG :-o$")
        c.send("REHASH")
        c.expect(r" 481 deopG :Permission Denied- You're not an IRC ")
        c.send("WHOIS deopG")
        lines = c.lines_until(r" 318 ")
        assert not any(" 313 " in l for l in lines), lines


def test_whois_line_title_and_hidden():
    extra_admin = 'whois-line "is the network admin"'
    extra_mod = "hidden yes"
    with Server(conf=opers(extra_admin, extra_mod)) as s, \
            s.client("adminH") as a, s.client("modH") as m, \
            s.client("userH") as u:
        oper_up(a, "admin")
        oper_up(m, "mod")
        u.send("WHOIS adminH")
        u.expect(r" 313 userH adminH :is the network admin$")
        # hidden: users see no 313 and no * in WHO, opers do
        u.send("WHOIS modH")
        lines = u.lines_until(r" 318 ")
        assert not any(" 313 " in l for l in lines), lines
        u.send("WHO modH")
        line = u.expect(r" 352 userH ")
        assert re.search(r" modH H :", line), line
        u.send("USERHOST modH")
        u.expect(r" 302 userH :modH=\+")
        a.send("WHOIS modH")
        a.expect(r" 313 adminH modH :is a Chat Moderator$")
        a.send("WHO modH")
        a.expect(r" 352 adminH \S+ \S+ \S+ \S+ modH H\* :")


def test_oper_vhost_and_modes_applied_at_oper():
    extra = 'vhost staff.example.org  modes "+is cq"'
    with Server(conf=opers(extra_admin=extra)) as s, \
            s.client("vhI") as c:
        c.send("OPER admin :" + PASSWORD)
        c.expect(r"^:vhI MODE vhI :\+o$")
        c.expect(r"^:vhI MODE vhI :\+is$")
        c.expect(r" 008 vhI \+cq :Server notice masks$")
        c.expect(r" 396 vhI staff\.example\.org :is now your displayed host")
        c.expect_numeric("381")
        c.send("WHOIS vhI")
        c.expect(r" 311 vhI vhI \S+ staff\.example\.org ")
        with s.client("newI"):
            c.expect(r"NOTICE vhI :\x0314-\x0fCONNECT\x0314-\x03 Client "
                     r"connected \[newI\] \[u:~newI\] \[h:127\.0\.0\.1\] "
                     r"\[ip:127\.0\.0\.1\] \[r:")
        c.expect(r"NOTICE vhI :.*QUIT.* newI exited the network$")


def test_oper_modes_without_snomasks_capability_set_no_snomask():
    with Server(conf=opers(extra_mod='modes "+is cq"')) as s, \
            s.client("modJ") as c:
        oper_up(c, "mod")
        c.send("MODE modJ")
        c.expect(r" 221 modJ \+io$")


def test_snomasks_by_mode_and_each_letter():
    with Server(conf=opers()) as s, s.client("snoK") as c, \
            s.client("userK") as u:
        oper_up(c, "admin")
        c.send("MODE snoK +s +cjknoqux")
        c.expect(r"^:snoK MODE snoK :\+s$")
        c.expect(r" 008 snoK \+cjknoqux :Server notice masks$")
        c.send("MODE snoK")
        c.expect(r" 221 snoK \+os cjknoqux$")
        u.send("NICK userK2")
        c.expect(r"NICK\x0314-\x03 userK changed nickname to userK2$")
        u.send("JOIN #k")
        c.expect(r"CHANNEL\x0314-\x03 userK2 joined channel #k$")
        u.send("PART #k")
        c.expect(r"CHANNEL\x0314-\x03 userK2 left channel #k$")
        c.send("MODE snoK +s -j")
        c.expect(r" 008 snoK \+cknoqux ")
        u.send("JOIN #k2")
        u.expect(r" 366 ")
        c.send("KILL userK2 :bye")
        c.expect(r"KILL\x0314-\x03 userK2 was killed by snoK \[bye\]$")
        lines = c.sync()
        assert not any("joined channel #k2" in l for l in lines), lines
        c.send("MODE snoK -s")
        c.expect(r"^:snoK MODE snoK :-s$")
        with s.client("quietK"):
            pass
        assert not any("CONNECT" in l for l in c.sync())


def test_snomask_oper_notice():
    with Server(conf=opers()) as s, s.client("watchL") as w, \
            s.client("otherL") as o:
        oper_up(w, "admin")
        w.send("MODE watchL +s +o")
        w.expect(r" 008 watchL \+o ")
        oper_up(o, "mod")
        w.expect(r"OPER\x0314-\x03 Client opered up \[otherL!\S+, mod\]$")


def test_rehash_changes_capabilities_at_once():
    with Server(conf=opers()) as s, s.client("rhM") as c:
        oper_up(c, "mod")
        c.send("REHASH")
        c.expect(r" 481 rhM :Permission Denied$")
        s.write_config(s.config_text().replace(
            'capabilities "kill nofakelag"',
            'capabilities "kill nofakelag rehash"'))
        import signal
        s.signal(signal.SIGHUP)
        s.wait_log(r"rehash")
        c.send("REHASH")
        c.expect_numeric("382")


def test_checkconfig_oper_class_errors():
    base = "server { name irc.test }\n"
    p = checkconfig(base + 'oper-class a { capabilities "kill fly" }\n')
    assert p.returncode != 0
    assert 'unknown capability "fly"' in p.stderr, p.stderr
    p = checkconfig(base + 'oper-class a { extends b }\n')
    assert 'extends "b", which is not an oper-class' in p.stderr, p.stderr
    p = checkconfig(base + 'oper-class a { extends b }\n'
                    'oper-class b { extends a }\n')
    assert "extends chain loops" in p.stderr, p.stderr
    p = checkconfig(base + 'oper-class a { capabilities kill }\n'
                    'oper x { class b  password "%s" }\n' % HASH)
    assert 'class "b" is not an oper-class' in p.stderr, p.stderr
    p = checkconfig(base + 'oper x { class b  password "%s"  modes "is" }\n'
                    % HASH)
    assert "modes must be like" in p.stderr, p.stderr
    p = checkconfig(base + CLASSES +
                    'oper x { class helper  password "%s"  modes "+is cq"'
                    ' whois-line "hi there"  hidden yes  vhost a.b.c }\n'
                    % HASH)
    assert p.returncode == 0, p.stderr
