"""Real clients from Debian against ergo (issue 6: "one test uses a real
client library or a real client with IRCv3 support to negotiate caps and
fetch history"): python3-irc (run by the system's /usr/bin/python3)
negotiates caps (CAP LS 302, REQ, ACK), multi-prefix NAMES, echo-message,
and fetches CHATHISTORY LATEST in a chathistory batch; WeeChat
(weechat-headless, driven by its own options, nothing scripted in its
place) negotiates batch, server-time, message-tags and draft/chathistory
and shows the fetched history, in order, at the times it was said.
scripts/deps.sh test installs both."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from ergotest import Server, Skip, free_port, run_ergo, wait_for

PY = "/usr/bin/python3"

SCRIPT = r'''
import json, sys, time
import irc.client

port = int(sys.argv[1])
out = {"cap": [], "names": [], "echo": [], "errors": []}
r = irc.client.IRC()
c = r.server().connect("127.0.0.1", port, "libirc")

def on_welcome(conn, e):
    conn.cap("LS")

def on_cap(conn, e):
    out["cap"].append(e.arguments)
    sub = e.arguments[0] if e.arguments else ""
    if sub == "LS":
        conn.cap("REQ", "multi-prefix", "echo-message", "away-notify")
    elif sub == "ACK":
        conn.join("#lib")

def on_join(conn, e):
    conn.mode("#lib", "+v libirc")

def on_mode(conn, e):
    out["voiced"] = True
    conn.names(["#lib"])

def on_names(conn, e):
    if not out.get("voiced"):
        return          # the NAMES that came with the JOIN
    out["names"].append(e.arguments[-1])
    conn.privmsg("#lib", "hello from python3-irc")

def on_pubmsg(conn, e):
    out["echo"].append(e.arguments[0])
    conn.quit("done")

for ev, fn in (("welcome", on_welcome), ("cap", on_cap), ("join", on_join),
               ("mode", on_mode), ("namreply", on_names),
               ("pubmsg", on_pubmsg)):
    r.add_global_handler(ev, fn)
end = time.time() + 10
while time.time() < end and not out["echo"]:
    r.process_once(0.1)
print(json.dumps(out))
'''


def test_python3_irc_negotiates_caps():
    if not os.access(PY, os.X_OK) or subprocess.run(
            [PY, "-c", "import irc.client"], capture_output=True).returncode:
        raise Skip("python3-irc is not installed (apt-get install "
                   "python3-irc)")
    srv = Server()
    p = subprocess.run([PY, "-c", SCRIPT, str(srv.port)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    subs = [a[0] for a in out["cap"]]
    assert "LS" in subs and "ACK" in subs, out
    ls = " ".join(a[-1] for a in out["cap"] if a[0] == "LS")
    for cap in ("multi-prefix", "echo-message", "server-time",
                "message-tags", "labeled-response"):
        assert cap in ls.split(), (cap, ls)
    ack = [a[-1] for a in out["cap"] if a[0] == "ACK"][0]
    assert ack.split() == ["multi-prefix", "echo-message", "away-notify"]
    assert out["names"] and out["names"][-1].split() == ["@+libirc"], out
    assert out["echo"] == ["hello from python3-irc"], out


HIST_SCRIPT = r"""
import json, sys, time
import irc.client

port, chan = int(sys.argv[1]), sys.argv[2]
out = {"raw": [], "ls": [], "ack": None}
r = irc.client.IRC()
c = r.server().connect("127.0.0.1", port, "histlib")

def on_welcome(conn, e):
    conn.cap("LS", "302")

def on_raw(conn, e):
    # once server-time is on every line has tags, which this version's
    # events do not parse: the raw lines drive the rest
    line = e.arguments[0]
    if " CAP histlib LS " in line:
        out["ls"].append(line)
        if " LS * " not in line:
            conn.cap("REQ", "batch", "server-time", "message-tags",
                     "draft/chathistory")
    elif " CAP histlib ACK " in line:
        out["ack"] = line
        conn.join(chan)
    elif " 366 histlib %s " % chan in line:
        conn.send_raw("CHATHISTORY LATEST %s * 3" % chan)
    elif " BATCH " in line or " PRIVMSG %s " % chan in line:
        out["raw"].append(line)
        if " BATCH -" in line:
            conn.quit("done")

r.add_global_handler("welcome", on_welcome)
r.add_global_handler("all_raw_messages", on_raw)
end = time.time() + 10
while time.time() < end and not any(" BATCH -" in l for l in out["raw"]):
    r.process_once(0.1)
print(json.dumps(out))
"""


def tags_and_rest(line):
    tags = {}
    if line.startswith("@"):
        t, line = line[1:].split(" ", 1)
        for kv in t.split(";"):
            k, _, v = kv.partition("=")
            tags[k] = v
    return tags, line


def talker(srv, nick, chan, n):
    """A client that says n lines in chan; returns it and the time= of
    each echo, in order."""
    c = srv.client(nick, realname=nick,
                   caps="echo-message server-time message-tags")
    c.send("JOIN %s" % chan)
    c.expect(r" 366 ")
    times = []
    for i in range(n):
        c.send("PRIVMSG %s :line %d" % (chan, i))
        times.append(tags_and_rest(c.expect(r" PRIVMSG %s :line %d$"
                                            % (chan, i)))[0]["time"])
    return c, times


def test_python3_irc_fetches_history():
    """python3-irc: CAP LS 302 (every line of it), CAP REQ of batch,
    server-time, message-tags and draft/chathistory, then CHATHISTORY
    LATEST * 3 of a channel where someone else said five lines: the newest
    three, oldest first, in one chathistory batch, with the original
    times and msgids."""
    if not os.access(PY, os.X_OK) or subprocess.run(
            [PY, "-c", "import irc.client"], capture_output=True).returncode:
        raise Skip("python3-irc is not installed (apt-get install "
                   "python3-irc)")
    srv = Server()
    alice, times = talker(srv, "alice", "#libhist", 5)
    p = subprocess.run([PY, "-c", HIST_SCRIPT, str(srv.port), "#libhist"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert len(out["ls"]) >= 2 and " LS * " in out["ls"][0], out["ls"]
    assert out["ack"].endswith(" ACK :batch server-time message-tags "
                               "draft/chathistory"), out
    lines = [tags_and_rest(l) for l in out["raw"]]
    opening = [r for t, r in lines if re.match(r":\S+ BATCH \+", r)]
    assert len(opening) == 1, out
    ref, kind, target = opening[0].split(" ")[2:5]
    assert (kind, target) == ("chathistory", "#libhist"), opening
    inside = [(t, r) for t, r in lines if t.get("batch") == ref[1:]]
    assert [r.split(" :", 1)[1] for t, r in inside] == [
        "line 2", "line 3", "line 4"], out
    assert [t["time"] for t, r in inside] == times[2:], (inside, times)
    assert all(r.startswith(":alice!") and t.get("msgid")
               for t, r in inside), inside
    assert lines[-1][1] == ":irc.test BATCH -" + ref[1:], lines[-1]
    alice.close()


WEECHAT = shutil.which("weechat-headless")


def test_weechat_negotiates_caps_and_fetches_history():
    """WeeChat: its -capabilities option asks for batch, server-time,
    message-tags and draft/chathistory, its -command joins and sends
    CHATHISTORY LATEST * 3; its channel log then holds the newest three
    of alice's five lines, in order, each at the second alice said it
    (WeeChat reads time=), and nothing older. WeeChat 3.8 (Debian 12)
    does not know BATCH yet: it logs the batch's two lines as unknown
    commands and shows the lines inside as they come."""
    if WEECHAT is None:
        raise Skip("weechat-headless is not installed (apt-get install "
                   "weechat-headless)")
    srv = Server()
    alice, times = talker(srv, "alice", "#wee", 5)
    home = tempfile.mkdtemp(prefix="ergotest-weechat-")
    logs = os.path.join(home, "logs")
    chanlog = os.path.join(logs, "irc.ergo.#wee.weechatlog")
    srvlog = os.path.join(logs, "irc.server.ergo.weechatlog")
    cmds = ("/set logger.file.flush_delay 0; "
            "/set logger.file.path %s; "
            "/server add ergo 127.0.0.1/%d -nicks=weeuser "
            "-anti_flood_prio_high=0 "
            "-capabilities=batch,server-time,message-tags,draft/chathistory; "
            # "\\;": one option holding two commands, not two of -r's
            '/set irc.server.ergo.command "/join #wee\\;'
            '/quote CHATHISTORY LATEST #wee * 3"; '
            "/connect ergo" % (logs, srv.port))
    env = dict(os.environ, TZ="UTC", HOME=home)
    proc = subprocess.Popen([WEECHAT, "--dir", home, "--run-command", cmds],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)

    def read(path):
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def said():
        # "date<TAB>nick with its prefix (@alice)<TAB>text"
        return [l.split("\t") for l in read(chanlog).splitlines()
                if re.search(r"\t[@+]?alice\t", l)]
    try:
        wait_for(lambda: len(said()) >= 3, 15, "WeeChat's log of #wee")
        wait_for(lambda: "client capability, enabled:" in read(srvlog), 5,
                 "WeeChat's CAP ACK")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        got, caps = said(), read(srvlog)
        shutil.rmtree(home, ignore_errors=True)
    enabled = re.search(r"client capability, enabled: (.*)", caps).group(1)
    assert sorted(enabled.split()) == ["batch", "draft/chathistory",
                                       "message-tags", "server-time"], caps
    assert [(d, m) for d, n, m in got] == [
        (t[:10] + " " + t[11:19], "line %d" % i)
        for i, t in enumerate(times) if i >= 2], (got, times)
    alice.close()


def test_weechat_3_8_tls_recipe_of_doc_install_md():
    """doc/install.md's WeeChat recipe over TLS, as written (only the
    port changed): `-ssl` plus `ssl_verify off` for a certificate made
    by `ergo mkcerts` connects over TLS (WHOIS shows 671, a secure
    connection); `-tls`, unknown to WeeChat 3.8, leaves the server
    without TLS, and it never registers on the TLS port."""
    if WEECHAT is None:
        raise Skip("weechat-headless is not installed (apt-get install "
                   "weechat-headless)")
    doc = open(os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "doc", "install.md")).read()
    recipe = [l.strip() for l in doc.split("WeeChat 3.8 (Debian 12)", 1)[1]
              .split("\n\n", 2)[1].splitlines() if l.strip()]
    assert recipe[0] == "/server add ergotls localhost/6697 -ssl", recipe
    srv = Server(start=False)
    cert, key = (os.path.join(srv.dir, n) for n in ("c.pem", "k.pem"))
    r = run_ergo("mkcerts", "--cert", cert, "--key", key, "--host",
                 "localhost")
    assert r.returncode == 0, r.stderr
    tls_port = free_port()
    srv.extra_server = ('listen 127.0.0.1:%d { tls { cert "%s"  key "%s" } }'
                        % (tls_port, cert, key))
    srv.write_config()
    srv.start()
    watcher = srv.client("watcher")

    def weechat(cmds, nick):
        home = tempfile.mkdtemp(prefix="ergotest-weechat-")
        cmds = [c.replace("localhost/6697", "127.0.0.1/%d" % tls_port)
                for c in cmds]
        cmds.insert(1, "/set irc.server.ergotls.nicks %s" % nick)
        p = subprocess.Popen([WEECHAT, "--dir", home, "--run-command",
                              "; ".join(cmds)],
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             env=dict(os.environ, HOME=home))
        return p, home

    p, home = weechat(recipe, "weetls")
    try:
        deadline = time.monotonic() + 15
        while True:
            watcher.send("WHOIS weetls")
            line = watcher.expect(r" (311|401) watcher weetls ")
            if " 311 " in line:
                break
            assert time.monotonic() < deadline, "weetls never registered"
            time.sleep(0.2)
        watcher.expect(r" 671 watcher weetls :is using a secure connection")
    finally:
        p.terminate()
        p.wait(10)
        shutil.rmtree(home, ignore_errors=True)

    wrong = [recipe[0].replace("-ssl", "-tls")] + recipe[1:]
    p, home = weechat(wrong, "weeplain")
    try:
        time.sleep(3)
        watcher.send("WHOIS weeplain")
        watcher.expect(r" 401 watcher weeplain ")
    finally:
        p.terminate()
        p.wait(10)
        shutil.rmtree(home, ignore_errors=True)
