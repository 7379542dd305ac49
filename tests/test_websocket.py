"""WebSocket listeners (net_ws.c, net.c): `listen ADDR { websocket yes }`
with or without TLS, per RFC 6455 and the IRCv3 WebSocket specification:
subprotocols text.ircv3.net and binary.ircv3.net (none = text), one line
per message, UTF-8 checked in text frames, ping/pong, the close
handshake, fragments put together, masking required, allowed-origins;
a real client library (Debian's python3-websockets) too, and the hostile
cases with hand-made frames."""

import os
import select
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import time

from ergotest import Client, Server, Skip, free_port, run_ergo
from wsclient import WSClient, frame, request

PY = "/usr/bin/python3"
tmp = None
CERT = KEY = None


def setup_module():
    global tmp, CERT, KEY
    tmp = tempfile.mkdtemp(prefix="ergo-ws-")
    CERT, KEY = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
    p = run_ergo("mkcerts", "--cert", CERT, "--key", KEY, "--host",
                 "localhost")
    assert p.returncode == 0, p.stderr


def teardown_module():
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


def ws_server(opts="", extra_server="", **kw):
    """srv.port: plain IRC; srv.wport: WebSocket."""
    wport = free_port()
    srv = Server(server=" listen 127.0.0.1:%d { websocket yes %s }\n%s"
                 % (wport, opts, extra_server), **kw)
    srv.wport = wport
    return srv


def tls_wrap(sock):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(sock)


def test_text_client_registers_joins_and_talks_with_a_tcp_client():
    srv = ws_server()
    w = WSClient(srv.wport)
    assert w.status == 101
    assert w.headers["sec-websocket-protocol"] == "text.ircv3.net"
    w.register("webby")
    w.send("JOIN #web")
    w.expect(r"^:webby!\S+ JOIN #web$")
    t = srv.client("tcp")
    t.send("JOIN #web")
    w.expect(r"^:tcp!\S+ JOIN #web$")
    t.send("PRIVMSG #web :hello browser")
    w.expect(r"^:tcp!\S+ PRIVMSG #web :hello browser$")
    w.send("PRIVMSG #web :h\u00e9llo tcp")
    t.expect(r"^:webby!\S+ PRIVMSG #web :h\u00e9llo tcp$")
    assert set(w.opcodes) == {0x1}


def test_binary_subprotocol_gets_binary_frames():
    srv = ws_server()
    w = WSClient(srv.wport, protocols=("binary.ircv3.net",
                                       "text.ircv3.net"))
    assert w.headers["sec-websocket-protocol"] == "binary.ircv3.net"
    w.send_raw(frame(0x2, "NICK bin"))
    w.send_raw(frame(0x2, "USER u 0 * :r"))
    w.expect_numeric("001")
    assert set(w.opcodes) == {0x2}


def test_client_order_of_subprotocols_is_its_preference():
    srv = ws_server()
    w = WSClient(srv.wport, protocols=("x.example", "text.ircv3.net",
                                       "binary.ircv3.net"))
    assert w.headers["sec-websocket-protocol"] == "text.ircv3.net"


def test_no_subprotocol_means_text():
    srv = ws_server()
    w = WSClient(srv.wport, protocols=())
    assert w.status == 101
    assert "sec-websocket-protocol" not in w.headers
    w.register("plainws")
    assert set(w.opcodes) == {0x1}


def test_trailing_crlf_in_a_message_is_dropped():
    srv = ws_server()
    w = WSClient(srv.wport)
    w.send_raw(frame(0x1, "NICK crlf\r\n") + frame(0x1, "USER u 0 * :r\n"))
    w.expect_numeric("001")


def test_fragmented_message_with_a_ping_between_is_put_together():
    srv = ws_server()
    w = WSClient(srv.wport)
    w.register("frag")
    w.send_raw(frame(0x1, "PRIVMSG frag :one ", fin=False) +
               frame(0x9, b"between") +
               frame(0x0, "two ", fin=False) +
               frame(0x0, "three"))
    w.expect(r"^:frag!\S+ PRIVMSG frag :one two three$")
    assert w.pongs == [b"between"]


def test_utf8_split_across_fragments_is_fine():
    srv = ws_server()
    w = WSClient(srv.wport)
    w.register("split")
    msg = "PRIVMSG split :\u20ac".encode()
    w.send_raw(frame(0x1, msg[:-2], fin=False) + frame(0x0, msg[-2:]))
    w.expect("^:split!\\S+ PRIVMSG split :\u20ac$")


def test_ping_is_answered_with_its_payload():
    srv = ws_server()
    w = WSClient(srv.wport)
    w.send_raw(frame(0x9, b"abc"))
    w.register("pinger")
    assert w.pongs == [b"abc"]


def test_close_handshake_echoes_the_status_and_quits_the_user():
    srv = ws_server()
    w = WSClient(srv.wport)
    w.register("leaver")
    t = srv.client("watcher")
    t.send("JOIN #c")
    w.send("JOIN #c")
    t.expect(r"^:leaver!\S+ JOIN #c$")
    w.send_raw(frame(0x8, struct.pack("!H", 1001) + b"bye"))
    assert w.wait_close() == (1001, "")
    t.expect(r"^:leaver!\S+ QUIT :")


def test_quit_gets_error_line_then_close_1000():
    srv = ws_server()
    w = WSClient(srv.wport)
    w.register("quitter")
    w.send("QUIT :done")
    w.expect(r"^ERROR :")
    assert w.wait_close()[0] == 1000


def test_line_over_512_bytes_gets_417_like_tcp():
    srv = ws_server()
    w = WSClient(srv.wport)
    w.register("longline")
    w.send("PRIVMSG longline :" + "x" * 600)
    w.expect(r" 417 ")
    w.send("PING :still")
    w.expect(r"PONG \S+ :still$")


def test_caps_labels_and_echo_work_over_websocket():
    srv = ws_server()
    w = WSClient(srv.wport)
    w.register("capws", caps="echo-message labeled-response batch",
               capver=302)
    w.send("@label=L1 PRIVMSG capws :echoed")
    w.expect(r"^@.*label=L1.* :capws!\S+ PRIVMSG capws :echoed$")


def test_websocket_over_tls():
    srv = ws_server(opts="tls { cert %s  key %s }" % (CERT, KEY))
    w = WSClient(srv.wport, wrap=tls_wrap)
    assert w.status == 101
    w.register("secure")
    t = srv.client("tcp2")
    t.send("WHOIS secure")
    t.expect(r" 671 tcp2 secure ")


def test_proxy_header_then_websocket():
    srv = ws_server(opts="proxy yes", conf='oper o { class c  password '
                    '"%s" }' % oper_hash())
    c = socket.create_connection(("127.0.0.1", srv.wport), timeout=5)
    c.sendall(b"PROXY TCP4 192.0.2.44 127.0.0.1 1000 2000\r\n")
    real = socket.create_connection
    socket.create_connection = lambda *a, **k: c
    try:
        w = WSClient(srv.wport)
    finally:
        socket.create_connection = real
    w.register("proxws")
    o = srv.client("oper")
    o.send("OPER o :pw")
    o.expect_numeric("381")
    o.send("WHOIS proxws")
    o.expect(r" 338 oper proxws \S+ 192\.0\.2\.44 :Actual")


_HASH = []


def oper_hash():
    if not _HASH:
        p = run_ergo("genpasswd", input="pw\n", timeout=60)
        _HASH.append(p.stdout.split()[-1])
    return _HASH[0]


def test_frames_right_behind_the_request_are_read():
    srv = ws_server()
    c = Client(srv.wport)
    req, _ = request(srv.wport)
    c.send_raw(req + frame(0x1, "NICK eager") + frame(0x1, "USER u 0 * :r"))
    deadline = time.monotonic() + 5
    buf = b""
    while b" 001 eager " not in buf and time.monotonic() < deadline:
        r, _, _ = select.select([c.sock], [], [], 0.5)
        if r:
            buf += c.sock.recv(65536)
    assert b" 001 eager " in buf, buf


# ---- allowed-origins ----

def test_allowed_origins_with_a_wildcard():
    srv = ws_server(extra_server=' websockets { allowed-origins '
                    '"https://chat.example.org https://*.example.net" }')
    assert WSClient(srv.wport, origin="https://chat.example.org") \
        .status == 101
    assert WSClient(srv.wport, origin="https://web.example.net") \
        .status == 101
    bad = WSClient(srv.wport, origin="https://evil.example.com")
    assert bad.status == 403
    assert WSClient(srv.wport).status == 403     # no Origin: refused
    srv.wait_log(r"refused 127\.0\.0\.1: WebSocket upgrade: origin not "
                 r"allowed")


def test_allowed_origins_star_allows_any():
    srv = ws_server(extra_server=' websockets { allowed-origins "*" }')
    assert WSClient(srv.wport, origin="https://any.example").status == 101


# ---- hostile input ----

def hostile(srv, data, code):
    w = WSClient(srv.wport)
    w.register("h%d" % code)
    w.send_raw(data)
    got = w.wait_close()
    assert got is not None and got[0] == code, (got, data[:40])


def test_hostile_frames_get_their_close_code():
    srv = ws_server()
    hostile(srv, frame(0x1, "PING :x", mask=False), 1002)
    hostile(srv, frame(0x9, b"x" * 126), 1002)
    hostile(srv, frame(0x1, b"PRIVMSG x :\xff\xfe"), 1007)
    hostile(srv, frame(0x1, b"PRIVMSG x :\xed\xa0\x80"), 1007)  # surrogate
    hostile(srv, frame(0x1, b"x", rsv=0x40), 1002)
    hostile(srv, frame(0x0, b"x"), 1002)
    hostile(srv, frame(0x3, b"x"), 1002)
    hostile(srv, frame(0x9, b"x", fin=False), 1002)
    hostile(srv, frame(0x1, "PING :a\r\nPING :b"), 1002)
    hostile(srv, frame(0x1, b"", length=1 << 40)[:14], 1009)
    hostile(srv, frame(0x1, "x" * 9000), 1009)
    hostile(srv, frame(0x1, "PRIVMSG x :" + "y" * 5000, fin=False) +
            frame(0x0, "z" * 5000), 1009)
    hostile(srv, frame(0x1, "a", fin=False) + frame(0x1, "b"), 1002)
    hostile(srv, frame(0x8, b"\x03"), 1002)                 # 1-byte close
    hostile(srv, frame(0x8, struct.pack("!H", 1005)), 1002)
    # none of it hurt the server
    WSClient(srv.wport).register("survivor")


def test_bad_upgrades_get_http_errors_and_are_logged():
    srv = ws_server()
    cases = [
        (dict(version="8"), 426),
        (dict(version=None), 426),
        (dict(key="short"), 400),
    ]
    for kw, status in cases:
        c = WSClient(srv.wport, upgrade=False)
        c.upgrade(srv.wport, **kw)
        assert c.status == status, (kw, c.status)
    c = Client(srv.wport)
    c.send_raw(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"405" in c.sock.recv(1000)
    c = Client(srv.wport)
    c.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")       # no Upgrade
    assert b"400 Bad Request" in c.sock.recv(1000)
    c = Client(srv.wport)
    c.send_raw(b"GET / HTTP/1.1\r\nX: " + b"y" * 9000 + b"\r\n\r\n")
    assert b"431" in c.sock.recv(1000)
    c = Client(srv.wport)
    c.send("NICK notws")                     # IRC on a WebSocket port
    c.send("USER u 0 * :r")
    c.closed()
    srv.wait_log(r"WebSocket upgrade: WebSocket version 13 only")
    WSClient(srv.wport).register("stillfine")


def test_half_finished_upgrade_times_out_and_is_logged():
    srv = ws_server(extra_server=" timeouts { registration 1s }")
    c = Client(srv.wport)
    c.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n")
    c.closed(timeout=5)
    srv.wait_log(r"refused 127\.0\.0\.1: no WebSocket upgrade in time")


# ---- a real client library: Debian's python3-websockets ----

LIB = r"""
import asyncio, json, ssl, sys
import websockets
port, proto, secure = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"

async def main():
    ctx = None
    if secure:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    uri = "%s://127.0.0.1:%d/" % ("wss" if secure else "ws", port)
    async with websockets.connect(uri, subprotocols=[proto], ssl=ctx) as ws:
        out = {"subprotocol": ws.subprotocol, "types": []}
        send = (lambda s: ws.send(s.encode())) if proto.startswith("binary") \
            else ws.send
        await send("NICK lib")
        await send("USER u 0 * :r")
        while True:
            m = await ws.recv()
            out["types"].append(type(m).__name__)
            m = m.decode() if isinstance(m, bytes) else m
            if " 001 " in m:
                await send("JOIN #lib")
            if m.startswith(":lib!") and " JOIN " in m:
                print("JOINED", flush=True)
            if " PRIVMSG #lib :" in m:
                out["msg"] = m
                break
        await ws.ping(b"p")
        await ws.close(1000)
        out["close_code"] = ws.close_code
        print(json.dumps(out), flush=True)

asyncio.run(asyncio.wait_for(main(), 20))
"""


def run_lib(srv, proto, secure=False):
    if subprocess.run([PY, "-c", "import websockets"],
                      capture_output=True).returncode:
        raise Skip("python3-websockets is not installed (apt-get install "
                   "python3-websockets)")
    p = subprocess.Popen([PY, "-c", LIB, str(srv.wport), proto,
                          "1" if secure else "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        r, _, _ = select.select([p.stdout], [], [], 15)
        assert r, p.stderr.read() if p.poll() is not None else "no JOINED"
        assert p.stdout.readline().strip() == "JOINED"
        t = srv.client("sender")
        t.send("JOIN #lib")
        t.send("PRIVMSG #lib :from a tcp client")
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    import json
    return json.loads(out.strip().splitlines()[-1])


def test_python3_websockets_text_client():
    srv = ws_server()
    out = run_lib(srv, "text.ircv3.net")
    assert out["subprotocol"] == "text.ircv3.net", out
    assert set(out["types"]) == {"str"}, out
    assert out["msg"].endswith("PRIVMSG #lib :from a tcp client"), out
    assert out["close_code"] == 1000, out


def test_python3_websockets_binary_client_over_tls():
    srv = ws_server(opts="tls { cert %s  key %s }" % (CERT, KEY))
    out = run_lib(srv, "binary.ircv3.net", secure=True)
    assert out["subprotocol"] == "binary.ircv3.net", out
    assert set(out["types"]) == {"bytes"}, out
    assert out["msg"].endswith("PRIVMSG #lib :from a tcp client"), out


def test_sasl_history_and_multiclient_over_websocket():
    # the ordinary session's features: SASL PLAIN, CHATHISTORY, and a
    # second (WebSocket) session attached to the same account
    import base64
    srv = ws_server()
    t = srv.client("alice")
    t.send("PRIVMSG NickServ :REGISTER wspassword")
    t.expect(r"NOTICE alice :Account created")
    t.send("JOIN #hist")
    t.expect(r" JOIN #hist$")
    t.send("PRIVMSG #hist :said before the browser came")
    w = WSClient(srv.wport)
    w.send("CAP LS 302")
    w.expect(r" CAP \* LS :")
    w.send("NICK alice")
    w.send("USER alice 0 * :web")
    w.send("CAP REQ :sasl draft/chathistory batch server-time "
           "message-tags")
    w.expect(r" CAP \S+ ACK :sasl")
    w.send("AUTHENTICATE PLAIN")
    w.expect(r"AUTHENTICATE \+$")
    w.send("AUTHENTICATE " + base64.b64encode(
        b"\0alice\0wspassword").decode())
    w.expect(r" 903 ")
    w.send("CAP END")
    w.expect(r" 001 alice ")          # attached: the same user
    w.send("CHATHISTORY LATEST #hist * 10")
    w.expect(r"PRIVMSG #hist :said before the browser came$")
    t.send("PRIVMSG #hist :seen by both sessions")
    w.expect(r"PRIVMSG #hist :seen by both sessions$")
