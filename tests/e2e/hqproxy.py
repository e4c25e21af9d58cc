#!/usr/bin/env python3
# An HTTP proxy in front of gridbook-hq for the sync e2e tests, playing a
# busy or broken HQ at protocol level.  Python 3 standard library only.
#
#   hqproxy.py PORT UPSTREAM_URL DIR
#
# Listens on 127.0.0.1:PORT and forwards every request to UPSTREAM_URL,
# except as the files in DIR say (read at each POST /v1/batches):
#   busy   N: the next N posts are refused before reaching HQ, in turn
#          with 503 and 429, each with "Retry-After: 1"
#   hold   N: N more posts go through; the one after is forwarded (HQ
#          applies it) but its answer is kept back: the file "held" is
#          written and the connection stays open until the client goes
#          away or 60 s pass, as a link that dies with the ack on it
# Every request is logged to DIR/log as "METHOD PATH STATUS".  Writes
# DIR/ready once it listens.
import http.server
import os
import sys
import threading
import time
import urllib.error
import urllib.request

PORT = int(sys.argv[1])
UPSTREAM = sys.argv[2].rstrip("/")
DIR = sys.argv[3]
LOCK = threading.Lock()
FORWARD = ("Authorization", "Content-Type", "Content-Encoding", "Accept")


def take(name):
    """Counts the file's number down by one: what it held before, or
    None when there is no such file (or it is used up and removed)."""
    path = os.path.join(DIR, name)
    with LOCK:
        try:
            with open(path) as f:
                n = int(f.read().strip() or "0")
        except (OSError, ValueError):
            return None
        if n <= 0:
            os.unlink(path)
        else:
            with open(path, "w") as f:
                f.write("%d\n" % (n - 1))
        return n


def log(line):
    with LOCK:
        with open(os.path.join(DIR, "log"), "a") as f:
            f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    refusals = 0

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "connection",
                                 "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        log("%s %s %d" % (self.command, self.path, status))

    def forward(self, body):
        req = urllib.request.Request(UPSTREAM + self.path, data=body,
                                     method=self.command)
        for k in FORWARD:
            if self.headers.get(k):
                req.add_header(k, self.headers[k])
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, list(r.getheaders()), r.read()
        except urllib.error.HTTPError as e:
            return e.code, list(e.headers.items()), e.read()

    def do_GET(self):
        self.answer(*self.forward(None))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or "0")
        body = self.rfile.read(n)
        if self.path.startswith("/v1/batches"):
            busy = take("busy")
            if busy is not None and busy > 0:
                with LOCK:
                    Handler.refusals += 1
                    status = 503 if Handler.refusals % 2 else 429
                self.answer(status, [("Retry-After", "1"),
                                     ("Content-Type", "text/plain")],
                            b"busy: try again shortly\n")
                return
            hold = take("hold")
            if hold == 0:
                status, _, _ = self.forward(body)
                log("%s %s %d held" % (self.command, self.path, status))
                with open(os.path.join(DIR, "held"), "w") as f:
                    f.write("%d\n" % status)
                self.connection.settimeout(0.2)
                end = time.time() + 60
                while time.time() < end:
                    try:
                        if not self.connection.recv(1):
                            break
                    except OSError as e:
                        if "timed out" not in str(e):
                            break
                self.close_connection = True
                return
        self.answer(*self.forward(body))


server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.daemon_threads = True
with open(os.path.join(DIR, "ready"), "w") as f:
    f.write("%d\n" % os.getpid())
server.serve_forever()
