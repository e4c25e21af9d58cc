#!/usr/bin/env python3
"""The structure of the tree, drawn and checked (STYLE.md, "one owner").

A module is a .c file and the .h of the same name in one directory
(client/db.c + client/db.h).  Two graphs are read:

  includes   module A -> module B when a file of A includes B's header
  links      module A -> module B when A's object calls or reads a symbol
             that B's object defines (nm on the built objects), which is
             what "need each other" means even when the includes look fine

and these rules are checked:

  walls      common/ includes only common/ and generated headers; the
             client never includes a server header, nor the server a
             client one
  layers     no arrow from a lower layer to a higher one: common (0),
             a side's modules (1), the commands (client/cmd*, 2), the
             programs' main files (3)
  circles    no circle in either graph
  rooms      each third-party header is included by one module only,
             but for the modules tests/check/rooms.txt still lists (a
             ratchet: the list may only shrink; a module that no longer
             includes the header must leave it)

  tests/check/graph.py [--build DIR] [--dot FILE]

Prints each finding and "N passed, N failed" (one per rule); exits 1 on
any.  With --dot, writes the include graph (links dashed) for Graphviz.
"""
import argparse
import os
import re
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SIDES = ["common", "client", "server"]
MAINS = {"client/main", "client/syncd_main", "server/main"}
THIRD = {"sqlite3.h", "curl/curl.h", "microhttpd.h", "libpq-fe.h",
         "protobuf-c/protobuf-c.h", "zlib.h", "sodium.h"}


def layer(mod):
    if mod.startswith("common/") or mod.startswith("gen/"):
        return 0
    if mod in MAINS:
        return 3
    if mod.startswith("client/cmd"):
        return 2
    return 1


def side(mod):
    return mod.split("/")[0]


def modules():
    mods = {}
    for d in SIDES:
        for n in sorted(os.listdir(os.path.join(TOP, d))):
            if n.endswith((".c", ".h")):
                mods.setdefault(f"{d}/{n[:-2]}", []).append(f"{d}/{n}")
    return mods


def resolve(header, d):
    """The module of a quoted include seen from directory d, the way the
    compiler would find it with that side's -I path."""
    if header.endswith(".pb-c.h") or header == "schema.h" and not \
            os.path.exists(os.path.join(TOP, d, header)):
        return "gen/" + header[:-2]
    for cand in [d] + SIDES:
        if os.path.exists(os.path.join(TOP, cand, header)):
            return f"{cand}/{header[:-2]}"
    return None


def include_graph(mods):
    edges, third = {}, {}
    for mod, files in mods.items():
        d = side(mod)
        for f in files:
            src = open(os.path.join(TOP, f), encoding="utf-8").read()
            for m in re.finditer(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]',
                                 src, re.M):
                h = m.group(2)
                if m.group(1) == "<":
                    if h in THIRD:
                        third.setdefault(h, set()).add(mod)
                    continue
                if h == "banned.h":
                    continue
                to = resolve(h, d)
                if to and to != mod:
                    edges.setdefault(mod, set()).add(to)
    return edges, third


def link_graph(mods, build):
    """Edges from undefined to defined symbols of the built objects."""
    defs, undefs = {}, {}
    for mod in mods:
        o = os.path.join(build, "o", mod + ".o")
        if not os.path.exists(o):
            continue
        out = subprocess.run(["nm", "-g", o], capture_output=True,
                             text=True).stdout
        for line in out.split("\n"):
            parts = line.split()
            if len(parts) == 2 and parts[0] == "U":
                undefs.setdefault(mod, set()).add(parts[1])
            elif len(parts) == 3 and parts[1] in "TDBRC":
                defs[parts[2]] = mod
    edges = {}
    for mod, syms in undefs.items():
        for s in syms:
            to = defs.get(s)
            if to and to != mod:
                edges.setdefault(mod, set()).add(to)
    return edges


def circles(edges):
    """The strongly connected components of more than one module."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    nodes = set(edges) | {t for v in edges.values() for t in v}

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def dot(inc, links, path):
    cluster = {s: [] for s in SIDES + ["gen"]}
    nodes = set(inc) | {t for v in inc.values() for t in v}
    for n in nodes:
        cluster.setdefault(side(n), []).append(n)
    with open(path, "w") as fp:
        fp.write("digraph gridbook {\n  rankdir=BT; node [shape=box, "
                 "fontname=\"monospace\", fontsize=10];\n")
        for s, ns in cluster.items():
            if not ns:
                continue
            fp.write(f"  subgraph \"cluster_{s}\" {{ label=\"{s}/\";\n")
            for n in sorted(ns):
                fp.write(f"    \"{n}\" [label=\"{n.split('/')[1]}\"];\n")
            fp.write("  }\n")
        for a in sorted(inc):
            for b in sorted(inc[a]):
                fp.write(f"  \"{a}\" -> \"{b}\";\n")
        for a in sorted(links):
            for b in sorted(links[a]):
                if b not in inc.get(a, ()):
                    fp.write(f"  \"{a}\" -> \"{b}\" [style=dashed, "
                             f"color=gray];\n")
        fp.write("}\n")


def read_rooms():
    """tests/check/rooms.txt: "HEADER: module module ..." per line."""
    known = {}
    path = os.path.join(TOP, "tests", "check", "rooms.txt")
    if not os.path.exists(path):
        return known
    for line in open(path, encoding="utf-8"):
        line = line.split("#")[0].strip()
        if ":" in line:
            h, ms = line.split(":", 1)
            known[h.strip()] = set(ms.split())
    return known


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--dot")
    a = ap.parse_args()
    mods = modules()
    inc, third = include_graph(mods)
    links = link_graph(mods, a.build)
    results = {}

    f = []
    for m, tos in sorted(inc.items()):
        for t in sorted(tos):
            if side(m) == "common" and side(t) not in ("common", "gen"):
                f.append(f"{m} includes {t}: common/ sees common/ only")
            if {side(m), side(t)} == {"client", "server"}:
                f.append(f"{m} includes {t}: across the client/server wall")
    results["walls"] = f

    f = []
    for name, g in (("include", inc), ("link", links)):
        for m, tos in sorted(g.items()):
            for t in sorted(tos):
                if layer(t) > layer(m):
                    f.append(f"{m} -> {t} ({name}): layer {layer(m)} "
                             f"needs layer {layer(t)}")
    results["layers"] = f

    f = []
    for name, g in (("include", inc), ("link", links)):
        for c in circles(g):
            f.append(f"{name} circle: {' <-> '.join(c)}")
    results["circles"] = f

    f = []
    known = read_rooms()
    for h, ms in sorted(third.items()):
        if len(ms) <= 1:
            continue
        allowed = known.get(h, set())
        extra = sorted(ms - allowed) if allowed else sorted(ms)
        if allowed and extra:
            f.append(f"<{h}> is now included by {', '.join(extra)} too; "
                     f"its room is still {', '.join(sorted(allowed))}")
        elif not allowed:
            f.append(f"<{h}> is included by {len(ms)} modules: "
                     f"{', '.join(extra)}")
        else:
            print(f"open: <{h}> in {len(ms)} modules (tests/check/rooms.txt)")
    for h, allowed in sorted(known.items()):
        gone = sorted(allowed - third.get(h, set()))
        if gone:
            f.append(f"tests/check/rooms.txt lists {', '.join(gone)} for "
                     f"<{h}>, which no longer include it: remove them")
    results["rooms"] = f

    if a.dot:
        dot(inc, links, a.dot)
    passed = failed = 0
    for rule, fs in results.items():
        for line in fs:
            print(f"{rule}: {line}")
        if fs:
            failed += 1
        else:
            passed += 1
        print(f"{'ok  ' if not fs else 'FAIL'} {rule}")
    if not links:
        print("note: no objects in the build directory: links not read")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
