"""A raw WebSocket IRC client for the tests (stdlib only): the upgrade,
masked frames out, frames in as lines, and hand-made frames for the
hostile cases. A subclass of ergotest.Client, so expect() and the rest
work on the lines its messages carry."""

import base64
import hashlib
import os
import socket
import struct
import time

from ergotest import Client, ErgoTestError

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(op, payload, fin=True, mask=True, rsv=0, length=None):
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv | op
    m = 0x80 if mask else 0
    if n <= 125:
        head = bytes([b0, m | n])
    elif n <= 0xffff:
        head = bytes([b0, m | 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def request(port, protocols=("text.ircv3.net",), origin=None, key=None,
            version="13", extra=""):
    key = key or base64.b64encode(os.urandom(16)).decode()
    h = ["GET / HTTP/1.1", "Host: 127.0.0.1:%d" % port,
         "Upgrade: websocket", "Connection: Upgrade",
         "Sec-WebSocket-Key: " + key]
    if version is not None:
        h.append("Sec-WebSocket-Version: " + version)
    if protocols:
        h.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
    if origin:
        h.append("Origin: " + origin)
    return ("\r\n".join(h) + "\r\n" + extra + "\r\n").encode(), key


class WSClient(Client):
    """Connects, upgrades (self.status, self.headers), then speaks IRC in
    WebSocket messages. self.opcodes: the opcode of each message, in
    order; self.closing: the (code, reason) of the server's close frame."""

    def __init__(self, port, protocols=("text.ircv3.net",), origin=None,
                 wrap=None, upgrade=True, timeout=5):
        Client.__init__(self, port, timeout=timeout)
        if wrap is not None:
            self.sock = wrap(self.sock)
            self.sock.settimeout(10)
        self.raw = b""
        self.opcodes = []
        self.pongs = []
        self.closing = None
        self.status = None
        self.headers = {}
        self._frag = None
        if upgrade:
            self.upgrade(port, protocols, origin)

    def upgrade(self, port, protocols=("text.ircv3.net",), origin=None,
                **kw):
        req, key = request(port, protocols, origin, **kw)
        self.sock.sendall(req)
        deadline = time.monotonic() + 5
        while b"\r\n\r\n" not in self.raw:
            if not self._read(deadline):
                raise ErgoTestError("no upgrade answer: %r" % self.raw)
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        for l in lines[1:]:
            k, v = l.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        if self.status == 101:
            want = base64.b64encode(hashlib.sha1(
                (key + GUID).encode()).digest()).decode()
            assert self.headers["sec-websocket-accept"] == want, \
                self.headers
            self._frames()      # any that came with the answer

    def send(self, line):
        self.send_raw(frame(0x1, line))

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _buffered(self):
        # over TLS (wrap): a decrypted record's rest, unseen by select()
        return hasattr(self.sock, "pending") and self.sock.pending() > 0

    def _feed(self, data):
        # the upgrade's answer, then (once upgraded) frames
        self.raw += data
        if self.status == 101:
            self._frames()

    def _frames(self):
        while len(self.raw) >= 2:
            b0, b1 = self.raw[0], self.raw[1]
            assert not (b1 & 0x80), "server frames are never masked"
            n, off = b1 & 0x7f, 2
            if n == 126:
                if len(self.raw) < 4:
                    return
                n, off = struct.unpack("!H", self.raw[2:4])[0], 4
            elif n == 127:
                if len(self.raw) < 10:
                    return
                n, off = struct.unpack("!Q", self.raw[2:10])[0], 10
            if len(self.raw) < off + n:
                return
            payload, self.raw = self.raw[off:off + n], self.raw[off + n:]
            op = b0 & 0x0f
            if op == 0x8:
                code = struct.unpack("!H", payload[:2])[0] \
                    if len(payload) >= 2 else None
                self.closing = (code, payload[2:].decode())
            elif op == 0xa:
                self.pongs.append(payload)
            elif op in (0x1, 0x2):
                assert b0 & 0x80, "the server does not fragment"
                assert b"\r" not in payload and b"\n" not in payload, \
                    payload
                if op == 0x1:
                    payload.decode("utf-8")     # must be valid
                self.opcodes.append(op)
                self._add(payload)

    def wait_close(self, timeout=5):
        """Waits for the server's close frame and the end of the
        connection; returns (code, reason)."""
        deadline = time.monotonic() + timeout
        while not self.eof and time.monotonic() < deadline:
            self._read(deadline)
        if not self.eof:
            raise ErgoTestError("still open; close=%r" % (self.closing,))
        return self.closing
