#!/usr/bin/env python3
# A protocol-level client of gridbook-hq for the e2e tests, independent of
# the C wire code: messages are written in protobuf text format and encoded
# by `protoc --encode` from proto/gridbook.proto, deflated with Python's
# zlib (no preset dictionary), and sent with urllib.  Python 3 standard
# library and the protoc binary only.
#
# As a library: see the functions below.  As a command, for shell tests:
#   hqclient.py post URL TOKEN FILE [--raw] [--type T] [--encoding E]
#       FILE is a gridbook.Batch in text format (encoded and deflated), or
#       with --raw the body as it is.  Prints the HTTP status, then the Ack
#       in text format (200) or the error text.
#   hqclient.py changes URL TOKEN [SINCE]
#       Prints the status, then the ChangesPage in text format (inflated
#       with the preset dictionary of common/wire.c, read from its source).
#   hqclient.py idbytes UUID        a UUID as a text-format bytes literal
#   hqclient.py uuid7 [N]           a new UUIDv7 (the N-th of this second)
#   hqclient.py uscc PREFIX17       a USCC with its check character
import os
import random
import subprocess
import sys
import time
import uuid
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
PROTO_DIR = os.path.join(TOP, "proto")

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def protoc(mode, msg, data):
    """Runs protoc --encode or --decode of gridbook.MSG over data."""
    p = subprocess.run(
        ["protoc", "--proto_path=" + PROTO_DIR, "--%s=gridbook.%s" % (mode, msg),
         "gridbook.proto"],
        input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("protoc --%s %s: %s" % (mode, msg,
                                                   p.stderr.decode()))
    return p.stdout


def encode(msg, text):
    return protoc("encode", msg, text.encode("utf-8"))


def decode(msg, data):
    """The text format of a message, with UTF-8 strings shown as text."""
    out = protoc("decode", msg, data).decode("ascii")
    lines = []
    for line in out.splitlines():
        try:
            lines.append(line.encode("latin-1").decode("unicode_escape")
                         .encode("latin-1").decode("utf-8"))
        except (UnicodeDecodeError, UnicodeEncodeError):
            lines.append(line)
    return "\n".join(lines)


def c_literal(text):
    """The bytes of the body of a C string literal (UTF-8 source)."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        i += 1
        if c != "\\":
            out += c.encode("utf-8")
            continue
        c = text[i]
        i += 1
        if c == "x":
            j = i
            while j < len(text) and text[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(text[i:j], 16) & 0xff)
            i = j
        elif c in "01234567":
            j = i - 1
            while j < i + 2 and j < len(text) and text[j] in "01234567":
                j += 1
            out.append(int(text[i - 1:j], 8) & 0xff)
            i = j
        else:
            out += {"n": b"\n", "t": b"\t", "r": b"\r", "0": b"\0"}.get(
                c, c.encode("utf-8"))
    return bytes(out)


def wire_dictionary():
    """The preset dictionary of common/wire.c, read from its source: the
    string literals of `static const char dict[] = ...;` joined."""
    import re
    with open(os.path.join(TOP, "common", "wire.c"), encoding="utf-8") as f:
        src = f.read()
    start = src.index("static const char dict[] =")
    body = re.sub(r"/\*.*?\*/", "", src[start:], flags=re.S)
    body = body[:re.search(r'"\s*;', body).end()]
    return b"".join(c_literal(lit) for lit in
                    re.findall(r'"((?:[^"\\]|\\.)*)"', body))


def inflate(body):
    """Inflates a zlib stream, with the preset dictionary of wire.c when
    the stream names one (its Adler-32 must match)."""
    if len(body) >= 6 and body[1] & 0x20:
        zdict = wire_dictionary()
        want = int.from_bytes(body[2:6], "big")
        if zlib.adler32(zdict) != want:
            raise RuntimeError("the stream's dictionary %08x is not the one "
                               "in common/wire.c" % want)
        d = zlib.decompressobj(zdict=zdict)
        return d.decompress(body) + d.flush()
    return zlib.decompress(body)


def idbytes(u):
    """A UUID as a text-format bytes literal (without quotes)."""
    return "".join("\\x%02x" % b for b in uuid.UUID(u).bytes)


def uuid7(ms=None, n=0):
    """A UUIDv7 of ms (default now) with counter n and random bits."""
    if ms is None:
        ms = int(time.time() * 1000)
    b = bytearray(ms.to_bytes(6, "big"))
    b += (0x7000 | (n & 0xfff)).to_bytes(2, "big")
    rnd = bytearray(random.getrandbits(64).to_bytes(8, "big"))
    rnd[0] = 0x80 | (rnd[0] & 0x3f)
    return str(uuid.UUID(bytes=bytes(b + rnd)))


def uscc(prefix17):
    """The 18-character USCC (GB 32100-2015) with its check character."""
    s = sum(USCC_ALPHABET.index(c) * pow(3, i, 31)
            for i, c in enumerate(prefix17))
    return prefix17 + USCC_ALPHABET[(31 - s % 31) % 31]


def record(rid, grid, device, staff, version, ms, body):
    """The text of one Record; body is e.g. 'enterprise { ... }'."""
    return ('records {\n  id: "%s"\n  grid: "%s"\n  device: "%s"\n'
            '  staff: "%s"\n  created_at: %d\n  updated_at: %d\n'
            '  version: %d\n  %s\n}\n' % (idbytes(rid), grid, idbytes(device),
                                          staff, ms, ms, version, body))


def batch(device, grid, seq, records):
    """The text of a Batch holding the given record texts."""
    return ('protocol: 1\ndevice: "%s"\ngrid: "%s"\nseq: %d\n%s' %
            (idbytes(device), grid, seq, "".join(records)))


def http(method, url, token=None, body=None, headers=None, timeout=30):
    """Returns (status, headers, body bytes); never raises on a status."""
    import urllib.error  # imported here: slow, and only this needs it
    import urllib.request
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=body, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def post_batch(base, token, text=None, raw=None,
               ctype="application/x-protobuf", encoding="deflate"):
    """POSTs a batch (text format, encoded and deflated, or raw bytes)."""
    body = raw if raw is not None else zlib.compress(encode("Batch", text))
    headers = {}
    if ctype:
        headers["Content-Type"] = ctype
    if encoding:
        headers["Content-Encoding"] = encoding
    return http("POST", base + "/v1/batches", token, body, headers)


def changes(base, token, since=None, limit=None):
    url = base + "/v1/changes"
    q = []
    if since is not None:
        q.append("since=" + since)
    if limit is not None:
        q.append("limit=%d" % limit)
    if q:
        url += "?" + "&".join(q)
    return http("GET", url, token)


def main(argv):
    if len(argv) >= 5 and argv[1] == "post":
        url, token, path = argv[2], argv[3], argv[4]
        raw = "--raw" in argv
        ctype, enc = "application/x-protobuf", "deflate"
        if "--type" in argv:
            ctype = argv[argv.index("--type") + 1]
        if "--encoding" in argv:
            enc = argv[argv.index("--encoding") + 1]
        with open(path, "rb") as f:
            data = f.read()
        if raw:
            status, _, body = post_batch(url, token or None, raw=data,
                                         ctype=ctype, encoding=enc)
        else:
            status, _, body = post_batch(url, token or None,
                                         text=data.decode("utf-8"),
                                         ctype=ctype, encoding=enc)
        print(status)
        if status == 200:
            print(decode("Ack", body))
        else:
            sys.stdout.write(body.decode("utf-8", "replace"))
        return 0
    if len(argv) >= 4 and argv[1] == "changes":
        status, hdrs, body = changes(argv[2], argv[3],
                                     argv[4] if len(argv) > 4 else None)
        print(status)
        if status == 200:
            print(decode("ChangesPage", inflate(body)))
        else:
            sys.stdout.write(body.decode("utf-8", "replace"))
        return 0
    if len(argv) == 3 and argv[1] == "idbytes":
        print(idbytes(argv[2]))
        return 0
    if len(argv) in (2, 3) and argv[1] == "uuid7":
        print(uuid7(n=int(argv[2]) if len(argv) == 3 else 0))
        return 0
    if len(argv) == 3 and argv[1] == "uscc":
        print(uscc(argv[2]))
        return 0
    sys.stderr.write("usage: see the comment at the top of %s\n" % argv[0])
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
