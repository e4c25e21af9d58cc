# A small client of the Chrome DevTools Protocol over its websocket, in
# Python's standard library only, for the dashboard's browser test and
# benchmark: it starts Debian's headless chromium on a free debugging
# port with a fresh profile (nothing that would reach the network), opens
# one page and sends it commands.
#   b = cdp.Browser(); p = b.page(); p.call("Page.navigate", url=...)
#   p.eval("document.title"); b.close()
import base64
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import time

FLAGS = [
    "--headless", "--disable-gpu", "--no-sandbox", "--disable-quic",
    "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-extensions", "--disable-default-apps",
    "--disable-breakpad", "--disable-domain-reliability",
    "--metrics-recording-only", "--mute-audio", "--hide-scrollbars",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
    "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
]


def chromium_path():
    for c in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(c)
        if p:
            return p
    return None


class Error(Exception):
    pass


class _Socket:
    """One websocket connection (RFC 6455), text frames, client side."""

    def __init__(self, url):
        m = re.match(r"ws://([^/:]+):(\d+)(/.*)", url)
        self.s = socket.create_connection((m.group(1), int(m.group(2))),
                                          timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%s\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n" %
                        (m.group(3), m.group(1), m.group(2), key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(4096)
            if not chunk:
                raise Error("websocket handshake: connection closed")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise Error("websocket handshake: %r" % head[:200])

    def send(self, text):
        data = text.encode()
        n = len(data)
        if n < 126:
            hdr = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.s.sendall(hdr + mask + body)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise Error("websocket: connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """The next whole text message."""
        parts = []
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            op = b0 & 0x0F
            if op == 8:
                raise Error("websocket: closed by chromium")
            if op == 9:  # ping: answer, keep reading
                continue
            if op in (0, 1, 2):
                parts.append(data)
                if b0 & 0x80:
                    return b"".join(parts).decode()

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class Page:
    def __init__(self, browser, session):
        self.b = browser
        self.session = session

    def call(self, method, **params):
        return self.b.call(method, self.session, **params)

    def eval(self, expr, await_promise=False):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True,
                      awaitPromise=await_promise)
        if "exceptionDetails" in r:
            raise Error("page: %s" % json.dumps(r["exceptionDetails"])[:800])
        return r["result"].get("value")

    def wait(self, expr, what, timeout=30.0):
        """Polls expr until it is true; the value, or Error after timeout."""
        end = time.monotonic() + timeout
        while True:
            v = self.eval(expr)
            if v:
                return v
            if time.monotonic() > end:
                raise Error("waited %g s for %s" % (timeout, what))
            time.sleep(0.05)

    def screenshot(self, path, clip=None):
        params = {"format": "png", "captureBeyondViewport": True}
        if clip:
            params["clip"] = dict(clip, scale=1)
        r = self.call("Page.captureScreenshot", **params)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))


class Browser:
    def __init__(self, chrome=None, extra=()):
        # A second try when the first Chromium exits before it listens:
        # its start depends on the machine (a full /dev/shm, a zygote
        # that dies), not on what the tests check; what the first said
        # goes into the error if the second fails too.
        said = b""
        for attempt in range(2):
            url, err = self._start(chrome, extra)
            if url:
                break
            try:
                code = self.proc.wait(2)
            except subprocess.TimeoutExpired:
                code = "still running"
            said += b"[try %d, exit %s] " % (attempt + 1, str(code).encode())
            said += err[-600:] + b" "
            self.close()
        if not url:
            raise Error("chromium did not start: %s" % said)
        # Chromium keeps writing to stderr; drain it so it never blocks.
        import threading
        threading.Thread(target=self._drain, daemon=True).start()
        self.ws = _Socket(url)
        self.next_id = 0
        self.events = []

    def _start(self, chrome, extra):
        """Starts Chromium; (its DevTools URL or None, what it said)."""
        self.dir = tempfile.mkdtemp(prefix="gridbook-chromium.")
        self.proc = subprocess.Popen(
            [chrome or chromium_path()] + FLAGS + list(extra) +
            ["--user-data-dir=" + os.path.join(self.dir, "profile"),
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        # Read from the descriptor itself, with a bound, so that a
        # Chromium that says nothing cannot hold the test past it.
        fd = self.proc.stderr.fileno()
        end = time.monotonic() + 60
        err = b""
        while time.monotonic() < end:
            r, _, _ = select.select([fd], [], [],
                                    max(0.0, end - time.monotonic()))
            if not r:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            err += chunk
            m = re.search(rb"DevTools listening on (ws://\S+)", err)
            if m:
                return m.group(1).decode(), err
        return None, err

    def _drain(self):
        try:
            for _ in iter(self.proc.stderr.readline, b""):
                pass
        except (OSError, ValueError):
            pass

    def call(self, method, session=None, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            r = json.loads(self.ws.recv())
            if r.get("id") == self.next_id:
                if "error" in r:
                    raise Error("%s: %s" % (method, r["error"]))
                return r.get("result", {})
            if "method" in r:
                self.events.append(r)

    def page(self, width=1366, height=900):
        t = self.call("Target.createTarget", url="about:blank")
        s = self.call("Target.attachToTarget", targetId=t["targetId"],
                      flatten=True)["sessionId"]
        p = Page(self, s)
        p.call("Page.enable")
        p.call("Runtime.enable")
        p.call("Emulation.setDeviceMetricsOverride", width=width,
               height=height, deviceScaleFactor=1, mobile=False)
        return p

    def close(self):
        if getattr(self, "ws", None):
            self.ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
