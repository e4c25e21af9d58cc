#!/usr/bin/env python3
# A round-robin TCP proxy in front of several gridbook-hq instances, as a
# load balancer that knows nothing of HTTP: each new connection goes to
# the next instance in turn, and one whose connection is refused (the
# instance is down) to the next one that takes it.  So the batches of a
# sync's window, each on a connection of its own, land on different
# instances, and a request tried again after an instance died lands on
# another one than the first try.  Python 3 standard library only.
#
#   rrproxy.py PORT DIR UPSTREAM_PORT...
#
# Listens on 127.0.0.1:PORT.  Logs one line a connection to DIR/log:
# "conn N PORT" for connection N sent to the instance on PORT, "refused
# PORT" for an instance that refused one, "none" when every one did (the
# client's connection is then closed).  Writes DIR/ready once it listens.
import os
import socket
import sys
import threading

PORT = int(sys.argv[1])
DIR = sys.argv[2]
UPSTREAMS = [int(p) for p in sys.argv[3:]]
LOCK = threading.Lock()
state = {"next": 0, "conns": 0}


def log(line):
    with LOCK:
        with open(os.path.join(DIR, "log"), "a") as f:
            f.write(line + "\n")


def pump(src, dst):
    """Copies src to dst until src ends, then ends dst's sending side."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def serve(client):
    with LOCK:
        first = state["next"]
        state["next"] = (first + 1) % len(UPSTREAMS)
        state["conns"] += 1
        n = state["conns"]
    upstream = None
    for k in range(len(UPSTREAMS)):
        port = UPSTREAMS[(first + k) % len(UPSTREAMS)]
        try:
            upstream = socket.create_connection(("127.0.0.1", port), 2)
            upstream.settimeout(None)
            log("conn %d %d" % (n, port))
            break
        except OSError:
            log("refused %d" % port)
    if upstream is None:
        log("none")
        client.close()
        return
    back = threading.Thread(target=pump, args=(upstream, client),
                            daemon=True)
    back.start()
    pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", PORT))
    srv.listen(256)
    open(os.path.join(DIR, "ready"), "w").close()
    while True:
        client, _ = srv.accept()
        threading.Thread(target=serve, args=(client,), daemon=True).start()


if __name__ == "__main__":
    main()
