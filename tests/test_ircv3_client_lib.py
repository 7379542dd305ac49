"""A real client library from Debian (python3-irc, run by the system's
/usr/bin/python3) negotiates IRCv3 caps with ergo: CAP LS/REQ/ACK after
registration, then multi-prefix NAMES and echo-message."""

import json
import os
import subprocess

from ergotest import Server, Skip

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
