#!/usr/bin/env python3
# A TLS (or, with --plain, TCP) listener for the TLS e2e tests that
# answers nothing and writes down what came: for each connection, one line
# "handshake ok N" or "handshake failed N", N the bytes that arrived after
# the handshake.  A client that refuses the server's certificate or key
# must leave N at 0: nothing of its request, body or token, went out.
# With --plain it stands for a proxy: any byte that arrives is counted.
#   tls-sink.py PORT LOG [--cert PEM --key PEM | --plain]
# Runs until killed; writes PORT to LOG.ready once listening.
import socket
import ssl
import sys
import threading


def serve(conn, ctx, log, lock):
    state, n = "ok", 0
    try:
        conn.settimeout(5)
        if ctx:
            try:
                conn = ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                state = "failed"
        if state == "ok":
            while True:
                d = conn.recv(65536)
                if not d:
                    break
                n += len(d)
    except (ssl.SSLError, OSError):
        pass
    finally:
        conn.close()
    with lock:
        with open(log, "a") as f:
            f.write("handshake %s %d\n" % (state, n))


def main(argv):
    port, log = int(argv[1]), argv[2]
    ctx = None
    if "--cert" in argv:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(argv[argv.index("--cert") + 1],
                            argv[argv.index("--key") + 1])
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    with open(log + ".ready", "w") as f:
        f.write("%d\n" % port)
    lock = threading.Lock()
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, ctx, log, lock),
                         daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
