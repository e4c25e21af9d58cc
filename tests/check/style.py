#!/usr/bin/env python3
"""The house rules of shared/STYLE.md that a machine can check, over every
C file of the tree (common/ client/ server/ tests/ bench/):

  banned   every .c includes "banned.h", and as its last #include, so
           that no header can bring a banned function back
  cond     no assignment in a condition (if, while, do-while, switch, the
           test of a for): `while ((rc = step()) == ROW)` hides a write
           in a test; write it as two statements
  format   clang-format --dry-run --Werror with the committed .clang-format
           (skipped with a note when clang-format is not installed)

  tests/check/style.py [banned|cond|format ...]   (default: all three)

Prints one line per finding ("FILE:LINE: what") and then "N passed, N
failed", a pass or a failure per file and rule; exits 1 on any finding.
"""
import os
import re
import shutil
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DIRS = ["common", "client", "server", "tests/unit", "tests/fuzz", "bench"]


def c_files(exts=(".c",)):
    out = []
    for d in DIRS:
        p = os.path.join(TOP, d)
        if not os.path.isdir(p):
            continue
        for n in sorted(os.listdir(p)):
            if n.endswith(exts):
                out.append(os.path.join(d, n))
    return out


def blank_out(src):
    """The source with comments, string and character literals replaced
    by spaces (newlines kept), so that line numbers stay and no `=` or
    paren inside them is seen."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", src[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def strip_preprocessor(src):
    """Blanks preprocessor lines (and their continuations)."""
    lines = src.split("\n")
    cont = False
    for k, line in enumerate(lines):
        if cont or line.lstrip().startswith("#"):
            cont = line.rstrip().endswith("\\")
            lines[k] = ""
        else:
            cont = False
    return "\n".join(lines)


def balanced(src, i):
    """Index just past the paren that closes the one at src[i]."""
    depth = 0
    for j in range(i, len(src)):
        if src[j] == "(":
            depth += 1
        elif src[j] == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(src)


ASSIGN = re.compile(r"(?<![=!<>])=(?!=)|<<=|>>=")


def has_assign(expr):
    for m in ASSIGN.finditer(expr):
        s = m.group(0)
        if s in ("<<=", ">>="):
            return True
        k = m.start()
        # `<=` and `>=` are comparisons unless the `<`/`>` is doubled.
        prev = expr[k - 1] if k else ""
        if prev in "+-*/%&|^":
            return True
        return True
    return False


def check_cond(path, findings):
    src = open(os.path.join(TOP, path), encoding="utf-8").read()
    code = strip_preprocessor(blank_out(src))
    bad = 0
    for m in re.finditer(r"\b(if|while|switch|for)\s*\(", code):
        start = m.end() - 1
        end = balanced(code, start)
        inner = code[start + 1:end - 1]
        if m.group(1) == "for":
            parts = split_top(inner, ";")
            inner = parts[1] if len(parts) == 3 else ""
        if has_assign(inner):
            line = code.count("\n", 0, m.start()) + 1
            findings.append(f"{path}:{line}: assignment in the condition "
                            f"of {m.group(1)}")
            bad += 1
    return bad == 0


def split_top(s, sep):
    parts, depth, cur = [], 0, []
    for c in s:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return parts


def check_banned(path, findings):
    src = open(os.path.join(TOP, path), encoding="utf-8").read()
    incs = re.findall(r'^\s*#\s*include\s*([<"][^>"]+[>"])', src, re.M)
    if '"banned.h"' not in incs:
        findings.append(f"{path}:1: does not include \"banned.h\"")
        return False
    if incs[-1] != '"banned.h"':
        findings.append(f"{path}:1: \"banned.h\" is not its last #include "
                        f"({incs[-1]} comes after it)")
        return False
    return True


def check_format(files, findings):
    exe = shutil.which("clang-format")
    if not exe:
        print("clang-format not installed: format not checked")
        return 0, 0
    # One clang-format for every file (a process each cost seconds): it
    # names the file of each place it would change, "FILE:LINE:COL:
    # error: ...", and exits non-zero if there is any.
    r = subprocess.run([exe, "--dry-run", "--Werror"] + files, cwd=TOP,
                       capture_output=True, text=True)
    places = {}
    for line in r.stderr.split("\n"):
        m = re.match(r"(.+?):\d+:\d+: error: ", line)
        if m:
            places.setdefault(m.group(1), []).append(line)
    ok = bad = 0
    for f in files:
        if f not in places:
            ok += 1
            continue
        bad += 1
        findings.append(f"{places[f][0]} ({len(places[f])} places; "
                        "`make format` fixes them)")
    # A failure that names no file of the tree, or names another (the
    # .clang-format it could not read), or a crash part way: clang-format
    # itself or its configuration is at fault, and not all was checked.
    stray = [p for p in places if p not in files]
    if r.returncode < 0 or stray or (r.returncode != 0 and bad == 0):
        bad += 1
        first = (places[stray[0]][0] if stray else
                 r.stderr.strip().split("\n")[0] if r.stderr else
                 "no output")
        findings.append(f"clang-format exited {r.returncode}: {first}")
    return ok, bad


def main(argv):
    rules = argv or ["banned", "cond", "format"]
    findings = []
    passed = failed = 0
    for rule in rules:
        if rule == "format":
            files = c_files((".c", ".h"))
            ok, bad = check_format(files, findings)
            passed += ok
            failed += bad
            continue
        fn = {"banned": check_banned, "cond": check_cond}.get(rule)
        if not fn:
            print(f"style.py: no rule {rule!r}", file=sys.stderr)
            return 2
        for f in c_files():
            if fn(f, findings):
                passed += 1
            else:
                failed += 1
    for line in findings:
        print(line)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
