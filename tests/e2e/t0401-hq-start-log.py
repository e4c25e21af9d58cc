#!/usr/bin/env python3
# HQ's log of a start: a start that serves logs no failure (no line with
# "fail" in it), on IPv4, on IPv6 and with TLS; a start whose address is
# taken fails with one line of HQ's own that names the address and why,
# not libmicrohttpd's "Failed to bind to port 0" (HQ opens its listening
# socket itself and hands it over).  Once the address is free again HQ
# starts on it.
import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hqtest  # noqa: E402
from hqtest import wait_for  # noqa: E402

t = hqtest.Test()
hq = hqtest.HQ(t, t.path("hq.db"))
t.check("seed", hq.seed())


def failures(text):
    return [line for line in text.splitlines() if "fail" in line.lower()]


def serve(listen, *args):
    """gridbook-hq serve on listen, stopped once it answers: (started,
    its log)."""
    log = t.path("serve.log")
    with open(log, "wb") as f:
        p = subprocess.Popen(["gridbook-hq", "serve", "--store", hq.spec,
                              "--listen", listen] + list(args),
                             stdout=f, stderr=f)
    t.procs.append(p)
    url = ("https" if args else "http") + "://" + listen + "/healthz"
    up = wait_for(lambda: p.poll() is not None or subprocess.run(
        ["curl", "-sfk", "-g", "--max-time", "5", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        == 0, 20) and p.poll() is None
    p.terminate()
    p.wait(30)
    with open(log, encoding="utf-8", errors="replace") as f:
        return up, f.read()


# ---- starts that serve ----
port = hqtest.free_port()
up, log = serve("127.0.0.1:%d" % port)
t.check("a start on 127.0.0.1 serves", up, log[-400:])
t.check("... and logs that it serves, then stopped",
        "serving" in log and "stopped" in log, log[-400:])
t.check("... and no failure", not failures(log), failures(log))

try:
    s6 = socket.socket(socket.AF_INET6)
    s6.bind(("::1", 0))
    port6 = s6.getsockname()[1]
    s6.close()
except OSError:
    port6 = None
if port6 is None:
    print("skipped: this host has no ::1")
else:
    up, log = serve("[::1]:%d" % port6)
    t.check("a start on [::1] serves, logging no failure",
            up and not failures(log), log[-400:])

if shutil.which("openssl"):
    key, cert = t.path("key.pem"), t.path("cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    up, log = serve("127.0.0.1:%d" % hqtest.free_port(), "--tls-cert", cert,
                    "--tls-key", key)
    t.check("a start with TLS serves, logging no failure",
            up and not failures(log), log[-400:])
else:
    print("skipped: no openssl for a certificate")

# ---- an address taken ----
holder = socket.socket()
holder.bind(("127.0.0.1", 0))
holder.listen(1)
taken = holder.getsockname()[1]
p = subprocess.run(["gridbook-hq", "serve", "--store", hq.spec, "--listen",
                    "127.0.0.1:%d" % taken], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, timeout=60,
                   env=dict(os.environ, LANGUAGE="en", LC_ALL="C.UTF-8"))
err = p.stderr.decode("utf-8", "replace")
t.check("a start on an address taken: exit 1", p.returncode == 1,
        (p.returncode, err))
t.check("... saying so once, naming the address",
        len(err.strip().splitlines()) == 1 and
        ("cannot listen on 127.0.0.1:%d" % taken) in err and "in use" in err,
        err)
t.check("... and not as port 0", "port 0" not in err, err)
holder.close()
up, log = serve("127.0.0.1:%d" % taken)
t.check("once the address is free, HQ starts on it", up and
        not failures(log), log[-400:])
t.finish()
