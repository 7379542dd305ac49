"""HELP and HELPOP (Ergo's 704/705/706, 524) and the services' HELP
(irc_help.c): every command of the command table and every service
subcommand has an entry; what a caller may not use is not shown."""

import os
import re

from ergotest import Server, run_ergo

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
PASSWORD = "correct horse battery staple"
HASH = None


def setup_module():
    global HASH
    p = run_ergo("genpasswd", input=PASSWORD + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    HASH = [l for l in p.stdout.splitlines() if l.strip()][-1].strip()


def table_commands():
    """The names of irc.c's command table, read from the source."""
    src = open(os.path.join(SRC, "irc.c")).read()
    table = src[src.index("static const struct cmd cmds[] = {"):]
    table = table[:table.index("};")]
    names = re.findall(r'^\t\{ "([A-Z]+)",', table, re.M)
    assert len(names) > 40, names
    return names


def service_commands(array):
    src = open(os.path.join(SRC, "irc_serv.c")).read()
    table = src[src.index("static const struct ns_cmd %s[] = {" % array):]
    table = table[:table.index("};")]
    names = re.findall(r'\{ "([A-Z]+)",', table)
    assert len(names) > 5, names
    return names


def all_powerful():
    return 'oper admin { class admin  password "%s" }\n' % HASH


def oper_up(c):
    c.send("OPER admin :" + PASSWORD)
    c.expect_numeric("381")


def test_every_command_of_the_table_has_help():
    with Server(conf=all_powerful()) as s, s.client("helpA") as c:
        oper_up(c)
        for name in table_commands():
            c.send("HELP " + name)
            lines = c.lines_until(r" (706|524) helpA ")
            assert re.search(r" 704 helpA %s :\S" % name, lines[0]), \
                (name, lines)
            assert re.search(r" 706 helpA %s :End of /HELPOP$" % name,
                             lines[-1]), lines


def test_every_service_subcommand_has_help():
    with Server(conf=all_powerful()) as s, s.client("helpB") as c:
        oper_up(c)
        for svc, alias, array in (("NickServ", "NS", "ns_cmds"),
                                  ("ChanServ", "CS", "cs_cmds")):
            for name in service_commands(array):
                c.send("%s HELP %s" % (alias, name))
                c.expect(r"^:%s!\S+ NOTICE helpB :\*\*\* \x02Help for %s"
                         % (svc, name))
                c.expect(r"NOTICE helpB :\*\*\* \x02End of Help for %s"
                         % name)


def test_help_lines_and_numerics():
    with Server() as s, s.client("helpC") as c:
        c.send("HELP join")
        c.expect(r"^:irc\.test 704 helpC JOIN :JOIN <#channel>")
        c.expect(r"^:irc\.test 705 helpC JOIN :Joins channels")
        c.expect(r"^:irc\.test 706 helpC JOIN :End of /HELPOP$")
        c.send("HELPOP privmsg")
        c.expect(r" 704 helpC PRIVMSG :PRIVMSG <target>")
        c.send("HELP")
        c.expect(r" 704 helpC HELPOP :HELP \[topic\]")
        c.send("HELP frobnicate")
        c.expect(r"^:irc\.test 524 helpC FROBNICATE :Help not found$")


def test_oper_topics_only_for_opers_with_the_capability():
    conf = ('oper-class mod { capabilities kill }\n'
            'oper-class admin { extends mod  capabilities "rehash ban" }\n'
            'oper m { class mod  password "%s" }\n'
            'oper a { class admin  password "%s" }\n' % (HASH, HASH))
    with Server(conf=conf) as s, s.client("userD") as u, \
            s.client("modD") as m, s.client("adminD") as a:
        u.send("HELP KILL")
        u.expect(r" 524 userD KILL :Help not found$")
        u.send("HELP INDEX")
        idx = " ".join(u.lines_until(r" 706 userD INDEX "))
        assert " KILL " not in idx and " REHASH " not in idx, idx
        assert " JOIN " in idx, idx
        m.send("OPER m :" + PASSWORD)
        m.expect_numeric("381")
        m.send("HELP KILL")
        m.expect(r" 704 modD KILL :KILL <nick> \[reason\]")
        m.send("HELP REHASH")
        m.expect(r" 524 modD REHASH :Help not found$")
        m.send("HELP DEOPER")
        m.expect(r" 704 modD DEOPER ")
        a.send("OPER a :" + PASSWORD)
        a.expect_numeric("381")
        a.send("HELP INDEX")
        idx = " ".join(a.lines_until(r" 706 adminD INDEX "))
        for name in (" KILL ", " REHASH ", " KLINE "):
            assert name in idx, (name, idx)
        assert " DIE " not in idx, idx


def test_service_help_lists_commands_and_explains_one():
    with Server() as s, s.client("userE") as c:
        c.send("NS HELP")
        lines = c.lines_until(r"End of NickServ HELP")
        text = "\n".join(lines)
        assert "\x02REGISTER\x02" in text and "\x02IDENTIFY\x02" in text
        c.send("NS HELP identify")
        c.expect(r"NOTICE userE :IDENTIFY \[account\] <password>$")
        c.send("NS HELP nosuch")
        c.expect(r"NOTICE userE :Unknown command\. To see the available "
                 r"commands, run: /NS HELP$")
        c.send("CS HELP register")
        c.expect(r"^:ChanServ!\S+ NOTICE userE :REGISTER <#channel>$")
