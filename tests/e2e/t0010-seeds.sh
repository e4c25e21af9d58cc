#!/usr/bin/env bash
# The reference district in seeds/: every rule of seeds/README.md holds on
# the committed CSV files, and seeds/gen_seeds.py regenerates them byte for
# byte.  Needs only python3; no binaries, no server.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
S=${GRIDBOOK_SEEDS:-$top/seeds}

FILES="district.csv streets.csv grids.csv communities.csv police_areas.csv
area_communities.csv staff.csv"

# The checker: `chk NAME` prints what breaks rule NAME (nothing when it
# holds) or, for the count checks, the number asked for.
cat >"$T/check.py" <<'EOF'
import csv, re, sys
from collections import Counter, defaultdict

d, what = sys.argv[1], sys.argv[2]

def rows(name):
    with open("%s/%s" % (d, name), encoding="utf-8", newline="") as f:
        r = list(csv.reader(f, strict=True))
    head = r[0]
    bad = [x for x in r[1:] if len(x) != len(head)]
    if bad:
        sys.exit("%s: rows of the wrong width: %r" % (name, bad[:3]))
    return [dict(zip(head, x)) for x in r[1:]]

district = rows("district.csv")
streets = rows("streets.csv")
grids = rows("grids.csv")
comms = rows("communities.csv")
areas = rows("police_areas.csv")
links = rows("area_communities.csv")
staff = rows("staff.csv")
street_of = {s["code"]: s for s in streets}
grid_of = {g["code"]: g for g in grids}
comm_of = {c["code"]: c for c in comms}
area_of = {a["code"]: a for a in areas}
grid_streets = Counter(g["street"] for g in grids)
grid_comms = Counter(c["grid"] for c in comms)
area_members = defaultdict(list)
for l in links:
    area_members[l["area"]].append(l["community"])
link_count = Counter(l["community"] for l in links)
out = []

def dups(values):
    return sorted(v for v, n in Counter(values).items() if n > 1)

def integer(c, col):
    try:
        return int(c[col])
    except ValueError:
        out.append("%s %s=%r" % (c["code"], col, c[col]))
        return 0

def team_meets(c):
    p, k, t = int(c["population"]), int(c["criminal_cases"]), \
        int(c["patrol_team"])
    return t * 1000 >= p * 2 if k >= 100 else t * 2000 >= p * 3

def officers(a):
    return sum(1 for s in staff
               if s["area"] == a and s["role"] in ("officer", "chief"))

def guards(a):
    return sum(1 for s in staff if s["area"] == a and s["role"] == "guard")

def residents(a):
    return sum(int(comm_of[c]["population"]) for c in area_members[a])

def staffing_meets(a):
    o = officers(a)
    return (residents(a) <= 3000 * o and 3 <= o <= 4
            and 2 <= guards(a) <= 3)

if what == "districts":
    out.append(str(len(district)))
elif what == "grids":
    out.append(str(len(grids)))
elif what == "street-grids":
    out += ["%s has %d grids" % (s, grid_streets[s]) for s in street_of
            if not 4 <= grid_streets[s] <= 6]
elif what == "grid-street":
    out += ["%s: street %s" % (g["code"], g["street"]) for g in grids
            if g["street"] not in street_of
            or not g["code"].startswith(g["street"] + "-G")]
elif what == "grid-communities":
    out += ["%s has %d communities" % (g, grid_comms[g]) for g in grid_of
            if not 3 <= grid_comms[g] <= 5]
elif what == "community-grid":
    out += ["%s: grid %s" % (c["code"], c["grid"]) for c in comms
            if c["grid"] not in grid_of
            or c["code"][:3] != grid_of[c["grid"]]["street"]]
elif what == "code-formats":
    pats = [(district, r"D\d\d"), (streets, r"S\d\d"),
            (grids, r"S\d\d-G\d+"), (comms, r"S\d\d-C\d\d"),
            (areas, r"PA-\d\d")]
    for table, pat in pats:
        out += [r["code"] for r in table if not re.fullmatch(pat, r["code"])]
    prefix = {"coordinator": "K", "officer": "J", "chief": "J", "guard": "B"}
    out += [s["code"] for s in staff if not re.fullmatch(
        prefix.get(s["role"], "?") + r"\d{4}", s["code"])]
elif what == "codes-unique":
    for table in (district, streets, grids, comms, areas, staff):
        out += dups(r["code"] for r in table)
    out += dups(c for c in comm_of)
elif what == "one-area":
    out += ["%s in %d areas" % (c, link_count[c]) for c in comm_of
            if link_count[c] != 1]
    out += ["unknown community %s" % c for c in link_count
            if c not in comm_of]
    out += dups((l["area"], l["community"]) for l in links)
elif what == "area-refs":
    out += ["unknown area %s" % a for a in area_members if a not in area_of]
    out += ["%s: grid %s" % (a["code"], a["grid"]) for a in areas
            if a["grid"] not in grid_of]
elif what == "area-grid":
    out += ["%s (%s) in %s (%s)" % (l["community"],
            comm_of[l["community"]]["grid"], l["area"],
            area_of[l["area"]]["grid"]) for l in links
            if l["community"] in comm_of and l["area"] in area_of
            and comm_of[l["community"]]["grid"] != area_of[l["area"]]["grid"]]
elif what == "area-size":
    out += ["%s covers %d" % (a, len(area_members[a])) for a in area_of
            if not 2 <= len(area_members[a]) <= 3]
elif what == "area-layout":
    want = {3: [3], 4: [2, 2], 5: [2, 3]}
    for g in grid_of:
        got = [len(area_members[a["code"]]) for a in areas
               if a["grid"] == g]
        if got != want.get(grid_comms[g]):
            out.append("%s: %d communities, areas %r" % (g, grid_comms[g],
                                                        got))
elif what == "one-chief":
    chiefs = Counter(s["area"] for s in staff if s["role"] == "chief")
    out += ["%s has %d chiefs" % (a, chiefs[a]) for a in area_of
            if chiefs[a] != 1]
elif what == "staff-refs":
    for s in staff:
        if s["role"] not in ("coordinator", "officer", "chief", "guard"):
            out.append("%s: role %r" % (s["code"], s["role"]))
        if s["grid"] not in grid_of:
            out.append("%s: grid %s" % (s["code"], s["grid"]))
        if s["role"] == "coordinator":
            if s["area"]:
                out.append("%s: coordinator in area %s" % (s["code"],
                                                           s["area"]))
        elif s["area"] not in area_of:
            out.append("%s: area %r" % (s["code"], s["area"]))
        elif area_of[s["area"]]["grid"] != s["grid"]:
            out.append("%s: area %s not in grid %s" % (s["code"], s["area"],
                                                      s["grid"]))
elif what == "coordinators":
    k = Counter(s["grid"] for s in staff if s["role"] == "coordinator")
    out += ["%s has %d coordinators" % (g, k[g]) for g in grid_of
            if not 1 <= k[g] <= 2]
elif what == "numbers":
    for c in comms:
        p = integer(c, "population")
        k = integer(c, "criminal_cases")
        t = integer(c, "patrol_team")
        if not 2500 <= p <= 12000:
            out.append("%s population %d" % (c["code"], p))
        if not 20 <= k <= 220:
            out.append("%s cases %d" % (c["code"], k))
        if t < 1:
            out.append("%s team %d" % (c["code"], t))
elif what == "names-unique":
    for table, col in ((streets, "name"), (grids, "name"), (comms, "name"),
                       (areas, "name"), (areas, "room"), (staff, "name")):
        out += dups(r[col] for r in table)
    out += dups((s["grid"], s["name"]) for s in staff)
    out += [r["code"] for t in (district, streets, grids, comms, areas, staff)
            for r in t if not r["name"].strip()]
elif what == "name-forms":
    out += [s["name"] for s in streets if not s["name"].endswith("街道")]
    out += [g["name"] for g in grids if not re.fullmatch(
        re.escape(street_of[g["street"]]["name"]) + "第.+网格", g["name"])]
    out += [c["name"] for c in comms if not c["name"].endswith("社区")]
    out += [a["name"] for a in areas if not a["name"].endswith("警务区")]
    out += [a["room"] for a in areas if not a["room"].endswith("警务室")]
    out += [s["name"] for s in staff
            if not re.fullmatch(r"[\u4e00-\u9fff]{2,3}", s["name"])]
elif what.startswith("cases="):
    n = int(what[6:])
    out.append(str(sum(1 for c in comms if int(c["criminal_cases"]) == n)))
elif what == "team-misses":
    # Percent of communities below their patrol team target.
    miss = sum(1 for c in comms if not team_meets(c))
    out.append(str(round(100 * miss / len(comms))))
elif what == "team-100":
    # Some community with exactly 100 cases meets 1.5 per mille but not 2.
    out.append(str(sum(1 for c in comms if int(c["criminal_cases"]) == 100
                       and not team_meets(c)
                       and int(c["patrol_team"]) * 2000
                       >= int(c["population"]) * 3)))
elif what == "staffing-misses":
    out.append(str(sum(1 for a in area_of if not staffing_meets(a))))
elif what == "staffing-exact":
    out.append(str(sum(1 for a in area_of if staffing_meets(a)
                       and residents(a) == 3000 * officers(a))))
else:
    sys.exit("unknown check " + what)
print("\n".join(out))
EOF
chk() { python3 "$T/check.py" "$S" "$1" 2>&1; }

# Format: header rows, UTF-8 without BOM, LF only, final newline.
for f in $FILES; do
	ok "$f exists" test -s "$S/$f"
done
same "district header" "$(head -n 1 "$S/district.csv")" "code,name"
same "streets header" "$(head -n 1 "$S/streets.csv")" "code,name"
same "grids header" "$(head -n 1 "$S/grids.csv")" "code,street,name"
same "communities header" "$(head -n 1 "$S/communities.csv")" \
	"code,grid,name,population,criminal_cases,patrol_team"
same "police_areas header" "$(head -n 1 "$S/police_areas.csv")" \
	"code,grid,name,room"
same "area_communities header" "$(head -n 1 "$S/area_communities.csv")" \
	"area,community"
same "staff header" "$(head -n 1 "$S/staff.csv")" "code,name,role,grid,area"
bad=
for f in $FILES; do
	[ "$(head -c 3 "$S/$f" | od -An -tx1 | tr -d ' ')" = efbbbf ] &&
		bad="$bad $f:bom"
	grep -q $'\r' "$S/$f" && bad="$bad $f:crlf"
	[ "$(tail -c 1 "$S/$f" | od -An -tx1 | tr -d ' ')" = 0a ] ||
		bad="$bad $f:no-final-newline"
	python3 -c 'import sys; open(sys.argv[1], encoding="utf-8").read()' \
		"$S/$f" 2>/dev/null || bad="$bad $f:not-utf8"
done
same "no BOM, LF line ends, UTF-8" "$bad" ""

# Structure.
same "one district" "$(chk districts)" 1
same "exactly 32 grids" "$(chk grids)" 32
same "every street has 4-6 grids" "$(chk street-grids)" ""
same "every grid is in its street" "$(chk grid-street)" ""
same "every grid has 3-5 communities" "$(chk grid-communities)" ""
same "every community is in a grid of its street" "$(chk community-grid)" ""
same "code formats" "$(chk code-formats)" ""
same "codes unique" "$(chk codes-unique)" ""
same "every community in exactly one area" "$(chk one-area)" ""
same "area references exist" "$(chk area-refs)" ""
same "area in the grid of its communities" "$(chk area-grid)" ""
same "areas cover 2-3 communities" "$(chk area-size)" ""
same "areas per grid: 3, 2+2, 2+3" "$(chk area-layout)" ""
same "every area has exactly one chief" "$(chk one-chief)" ""
same "staff grid, area and role exist" "$(chk staff-refs)" ""
same "every grid has 1-2 coordinators" "$(chk coordinators)" ""
same "populations, cases, teams in range" "$(chk numbers)" ""
same "names unique" "$(chk names-unique)" ""
same "name forms" "$(chk name-forms)" ""

# The boundaries and misses the reports need.
n=$(chk cases=100)
ok "at least two communities with 100 cases" test "$n" -ge 2
ok "a community with 99 cases" test "$(chk cases=99)" -ge 1
ok "a community with 101 cases" test "$(chk cases=101)" -ge 1
ok "a 100-case community meets 1.5 per mille but not 2" \
	test "$(chk team-100)" -ge 1
n=$(chk team-misses)
ok "about 15% of patrol teams miss ($n%)" test "$n" -ge 10 -a "$n" -le 20
n=$(chk staffing-misses)
ok "a few police areas miss staffing ($n)" test "$n" -ge 3 -a "$n" -le 6
same "an area at exactly 3000 per officer" "$(chk staffing-exact)" 1

# The generator regenerates the committed files byte for byte.
ok "generator runs" python3 "$S/gen_seeds.py" --out "$T/regen"
for f in $FILES; do
	ok "$f regenerates identically" cmp "$S/$f" "$T/regen/$f"
done
want="area_communities.csv communities.csv district.csv grids.csv"
want="$want police_areas.csv staff.csv streets.csv "
same "generator writes only the CSV files" \
	"$(cd "$T/regen" && printf '%s ' *)" "$want"
