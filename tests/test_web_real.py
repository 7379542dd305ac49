"""Real programs in front of ergo: HAProxy with send-proxy-v2 before a
`proxy yes` listener, and a real browser (headless Chromium) running a
small page that speaks IRC over `new WebSocket(..., "text.ircv3.net")`.
Both installed by scripts/deps.sh (Debian's haproxy and chromium); each
test skips with a message only when its program is missing."""

import http.server
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from ergotest import Client, Server, Skip, free_port, run_ergo, wait_for

PY = "/usr/bin/python3"
PASSWORD = "web oper"
HASH = None
tmp = None


def setup_module():
    global HASH, tmp
    p = run_ergo("genpasswd", input=PASSWORD + "\n", timeout=60)
    assert p.returncode == 0, p.stderr
    HASH = [l for l in p.stdout.splitlines() if l.strip()][-1].strip()
    tmp = tempfile.mkdtemp(prefix="ergo-webreal-")


def teardown_module():
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


class Proc:
    """A program this test started, ended by its own PID."""

    def __init__(self, argv, **kw):
        self.log = open(os.path.join(tmp, os.path.basename(argv[0]) +
                                     ".log"), "ab")
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=self.log, stderr=subprocess.STDOUT,
                                  **kw)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()

    def text(self):
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def client_from(port, src):
    """An ergotest Client whose connection comes from address src."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                 source_address=(src, 0))
    real = socket.create_connection
    socket.create_connection = lambda *a, **k: s
    try:
        return Client(port)
    finally:
        socket.create_connection = real


def test_haproxy_send_proxy_v2_gives_oper_whois_the_clients_address():
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not os.access(haproxy, os.X_OK):
        raise Skip("haproxy is not installed (apt-get install haproxy)")
    pport, hport = free_port(), free_port()
    srv = Server(server=" listen 127.0.0.1:%d { proxy yes }" % pport,
                 conf='oper admin { class server-admin  password "%s" }'
                 % HASH)
    cfg = os.path.join(tmp, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write("defaults\n  mode tcp\n  timeout connect 5s\n"
                "  timeout client 60s\n  timeout server 60s\n"
                "frontend irc\n  bind 127.0.0.1:%d\n  default_backend ergo\n"
                "backend ergo\n  server ergo 127.0.0.1:%d send-proxy-v2\n"
                % (hport, pport))
    hp = Proc([haproxy, "-db", "-f", cfg])
    try:
        wait_for(lambda: port_open(hport) or hp.p.poll() is not None,
                 timeout=10, what="haproxy listening")
        assert hp.p.poll() is None, hp.text()
        # from 127.0.0.2: HAProxy itself reaches ergo from 127.0.0.1
        c = client_from(hport, "127.0.0.2")
        c.register("behind")
        o = srv.client("oper")
        o.send("OPER admin :" + PASSWORD)
        o.expect_numeric("381")
        o.send("WHOIS behind")
        lines = o.lines_until(r" 318 ")
        assert any(" 311 oper behind " in l and " 127.0.0.2 " in l
                   for l in lines), lines
        assert any(" 338 oper behind ~behind@127.0.0.2 127.0.0.2 :Actual"
                   in l for l in lines), lines
        # HAProxy's health-check-free TCP proxying left nothing refused
        assert "refused" not in srv.logtext(), srv.logtail()
    finally:
        hp.stop()


PAGE = """<!DOCTYPE html>
<html><head><title>ergo web test</title></head>
<body><h1>IRC in a browser</h1><pre id="log"></pre>
<script>
var log = document.getElementById("log");
var ws = new WebSocket("ws://127.0.0.1:%(port)d", "text.ircv3.net");
ws.onopen = function () {
    document.body.dataset.proto = ws.protocol;
    ws.send("NICK browser");
    ws.send("USER b 0 * :Chromium");
};
ws.onmessage = function (e) {
    var l = e.data;
    log.textContent += l + "\\n";
    if (/ 001 browser /.test(l)) ws.send("JOIN #web");
    if (/^PING /.test(l)) ws.send("PONG " + l.slice(5));
    var m = l.match(/^:(\\S+?)!\\S+ PRIVMSG #web :(.*)$/);
    if (m) {
        var d = document.createElement("p");
        d.id = "msg";
        d.textContent = m[1] + " says: " + m[2];
        document.body.appendChild(d);
    }
};
</script></body></html>
"""

CDP = r"""
import asyncio, base64, json, sys, time, urllib.request
import websockets
port, shot = int(sys.argv[1]), sys.argv[2]

async def main():
    for _ in range(100):
        try:
            tabs = json.load(urllib.request.urlopen(
                "http://127.0.0.1:%d/json" % port))
            tabs = [t for t in tabs if t.get("type") == "page"]
            if tabs:
                break
        except OSError:
            pass
        await asyncio.sleep(0.1)
    async with websockets.connect(tabs[0]["webSocketDebuggerUrl"],
                                  max_size=None) as ws:
        n = 0
        async def call(method, **params):
            nonlocal n
            n += 1
            await ws.send(json.dumps({"id": n, "method": method,
                                      "params": params}))
            while True:
                r = json.loads(await ws.recv())
                if r.get("id") == n:
                    return r["result"]
        js = ("JSON.stringify({msg: (document.getElementById('msg') || "
              "{}).textContent || null, proto: document.body.dataset.proto"
              " || null})")
        while True:
            r = await call("Runtime.evaluate", expression=js)
            dom = json.loads(r["result"]["value"])
            if dom["msg"]:
                break
            await asyncio.sleep(0.1)
        png = await call("Page.captureScreenshot", format="png")
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png["data"]))
        print(json.dumps(dom), flush=True)

asyncio.run(asyncio.wait_for(main(), 30))
"""


def test_chromium_page_registers_joins_and_shows_a_message():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise Skip("chromium is not installed (apt-get install chromium)")
    if subprocess.run([PY, "-c", "import websockets"],
                      capture_output=True).returncode:
        raise Skip("python3-websockets is not installed")
    wport = free_port()
    srv = Server(server=" listen 127.0.0.1:%d { websocket yes }" % wport)
    site = tempfile.mkdtemp(dir=tmp)
    with open(os.path.join(site, "index.html"), "w") as f:
        f.write(PAGE % {"port": wport})

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=site, **kw)

        def log_message(self, *a):
            pass
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    dport = free_port()
    profile = tempfile.mkdtemp(dir=tmp)
    br = Proc([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
               "--no-first-run", "--no-default-browser-check",
               "--disable-dev-shm-usage", "--user-data-dir=" + profile,
               "--remote-debugging-address=127.0.0.1",
               "--remote-debugging-port=%d" % dport,
               "--window-size=800,600",
               "http://127.0.0.1:%d/index.html" % httpd.server_address[1]])
    try:
        t = srv.client("pyclient")
        t.send("JOIN #web")
        t.expect(r"^:browser!~b@127\.0\.0\.1 JOIN #web$", timeout=60)
        t.send("PRIVMSG #web :hello from python")
        shot = os.path.join(srv.dir, "chromium.png")
        p = subprocess.run([PY, "-c", CDP, str(dport), shot],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr + br.text()[-2000:]
        dom = json.loads(p.stdout.strip().splitlines()[-1])
        assert dom == {"msg": "pyclient says: hello from python",
                       "proto": "text.ircv3.net"}, dom
        with open(shot, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        # the browser is an ordinary user: WHOIS, and it leaves cleanly
        t.send("WHOIS browser")
        t.expect(r" 311 pyclient browser ~b 127\.0\.0\.1 \* :Chromium$")
    finally:
        br.stop()
        httpd.shutdown()
        httpd.server_close()
