#!/usr/bin/env python3
"""Regenerates the reference district of gridbook (望川区) in seeds/.

The CSV files next to this script are the reviewed source of the reference
data: HQ loads them, the tests read them, and changes to them are reviewed
as data.  This script only regenerates them, byte for byte, from a fixed
random seed; it is kept so that the shape of the district (32 grids, the
police areas, the deliberate shortfalls) can be read as code and rebuilt
after a deliberate change.  See README.md for every file, column and rule.

    python3 seeds/gen_seeds.py [--out DIR]

Python 3 standard library only.  The output depends only on SEED and the
tables below, never on the clock or the environment.
"""

import argparse
import csv
import os
import random
import sys

SEED = 20240617

DISTRICT = ("D01", "望川区")

# Street names and how many grids each street has: every street 4 to 6,
# 32 in all (the source: 每个街道基本分为四至六个网格, 全区32个网格).
STREETS = [
    ("文昌街道", 6),
    ("东湖街道", 5),
    ("临江街道", 6),
    ("新桥街道", 5),
    ("南苑街道", 6),
    ("北塘街道", 4),
]

COMMUNITY_NAMES = """
和平 友谊 翠竹 桂园 锦华 春晖 明德 朝阳 新华 丰收 团结 幸福 金桥 银杏
紫荆 长青 兴隆 东升 西苑 南湖 北岸 青石 枫林 桃源 柳岸 梅岭 兰亭 荷塘
松鹤 竹溪 星光 月湖 凤鸣 龙泉 玉泉 清波 碧水 白鹭 芳草 绿茵 瑞祥 嘉禾
康乐 安居 宁静 怡和 惠民 福寿 永安 长乐 广源 振兴 华兴 光明 文华 育才
书香 博雅 景秀 丽景 锦绣 华庭 金沙 银河 宝塔 石桥 河畔 江滨 湖滨 海棠
丁香 茉莉 牡丹 芙蓉 杜鹃 木兰 桂花 樱花 红枫 翠湖 青云 白云 彩虹 晨曦
朝霞 夕照 春华 秋实 夏荷 冬梅 东苑 北苑 中和 东风 红旗 前进 胜利 建设
跃进 新风 新城 园林 花园 果园 茶园 桑园 竹园 梨园 枣园 杏林 榆林 槐荫
柏林 杉湖 椿树 楠木 梧桐 芦花 稻香 麦田 渔港 码头 船厂 纺织 机床 电厂
矿山 钢城 铁路 邮电 棉纺 化工 丝绸 陶园 砖桥 沙河 清河 石门 铜锣 金鸡
玉带 锦江 桂溪 凤凰 麒麟 仙鹤 鹿鸣
""".split()

SURNAMES = """
王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋
唐 许 韩 冯 邓 曹 彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁
""".split()

GIVEN_NAMES = """
伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 涛 明 超 华 平 刚 辉 鹏 斌 宇 浩
凯 健 俊 帆 旭 宁 龙 欢 亮 峰 波 婷 雪 琳 颖 倩 慧 燕 玲 霞 梅 英 萍 娟
晶 丹 蕾 洁 建国 建华 志强 志明 国强 国华 海燕 海涛 晓东 晓明 晓燕
红梅 秀英 秀兰 桂英 玉兰 丽娟 春梅 文静 子豪 浩然 宇航 思远 佳怡 雨婷
欣怡 俊杰 鹏飞 立新 卫东 振华 德明 永刚 学军 爱华 淑珍 凤英 春生 金龙
家豪 明辉 志刚 少华 永红 朝晖 新民 红霞 美玲 嘉欣 一鸣 子涵 梓轩 晨阳
雅琴 宏伟 光荣 建平 利民 运来 长青 世杰 天佑 若曦 慧敏 振宇 文博 瑞林
""".split()

CN_DIGITS = "零一二三四五六七八九"

HEADERS = {
    "district.csv": ["code", "name"],
    "streets.csv": ["code", "name"],
    "grids.csv": ["code", "street", "name"],
    "communities.csv": ["code", "grid", "name", "population",
                        "criminal_cases", "patrol_team"],
    "police_areas.csv": ["code", "grid", "name", "room"],
    "area_communities.csv": ["area", "community"],
    "staff.csv": ["code", "name", "role", "grid", "area"],
}

POP_MIN, POP_MAX = 2500, 12000
RESIDENTS_PER_OFFICER = 3000


def cn_number(n):
    """Chinese numeral for 1..99 as used in ordinal names (第十二)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    s = ("" if tens == 1 else CN_DIGITS[tens]) + "十"
    return s + (CN_DIGITS[ones] if ones else "")


def team_minimum(population, cases):
    """Smallest mass patrol team meeting 2‰ (cases >= 100) or 1.5‰."""
    if cases >= 100:
        return (population * 2 + 999) // 1000
    return (population * 3 + 1999) // 2000


def team_meets(team, population, cases):
    if cases >= 100:
        return team * 1000 >= population * 2
    return team * 2000 >= population * 3


def draw_populations(rng, n, officers):
    """n populations within the bounds whose sum stays <= 3000/officer."""
    cap = RESIDENTS_PER_OFFICER * officers
    hi = min(POP_MAX, cap - POP_MIN * (n - 1))
    while True:
        pops = [rng.randint(POP_MIN, hi) for _ in range(n)]
        if sum(pops) <= cap:
            return pops


def split_total(rng, total, n):
    """n populations within the bounds summing exactly to total."""
    while True:
        pops = [rng.randint(POP_MIN, POP_MAX) for _ in range(n - 1)]
        last = total - sum(pops)
        if POP_MIN <= last <= POP_MAX:
            return pops + [last]


class Names:
    """Personal names, unique in the district, none a prefix of another."""

    def __init__(self, rng):
        self.rng = rng
        self.used = []

    def take(self):
        while True:
            name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN_NAMES)
            if not any(u.startswith(name) or name.startswith(u)
                       for u in self.used):
                self.used.append(name)
                return name


def build(rng):
    streets, grids, communities, areas, links, staff = [], [], [], [], [], []
    pool = list(COMMUNITY_NAMES)
    assert len(set(pool)) == len(pool), "duplicate community name in pool"
    rng.shuffle(pool)

    # Structure: streets, grids, communities, police areas.
    for si, (sname, ngrids) in enumerate(STREETS, 1):
        scode = "S%02d" % si
        short = sname[:-2]
        streets.append({"code": scode, "name": sname})
        cnum = 0
        anum = 0
        for gi in range(1, ngrids + 1):
            gcode = "%s-G%d" % (scode, gi)
            grids.append({"code": gcode, "street": scode,
                          "name": "%s第%s网格" % (sname, cn_number(gi))})
            ncomm = rng.choice([3, 4, 4, 5, 5])
            comms = []
            for _ in range(ncomm):
                cnum += 1
                c = {"code": "%s-C%02d" % (scode, cnum), "grid": gcode,
                     "name": pool.pop() + "社区"}
                communities.append(c)
                comms.append(c)
            sizes = {3: [3], 4: [2, 2], 5: [2, 3]}[ncomm]
            at = 0
            for size in sizes:
                anum += 1
                members = comms[at:at + size]
                at += size
                area = {"code": "PA-%02d" % (len(areas) + 1), "grid": gcode,
                        "name": "%s%s警务区" % (short, cn_number(anum)),
                        "room": members[0]["name"] + "警务室",
                        "members": members, "street": scode}
                areas.append(area)
                for m in members:
                    links.append({"area": area["code"],
                                  "community": m["code"]})

    # Staffing and populations.  Most areas meet every staffing target;
    # five areas chosen below are shaped on purpose (see README.md).
    for a in areas:
        n = len(a["members"])
        a["officers"] = rng.choice([4, 4, 3]) if n == 3 else \
            rng.choice([3, 4])
        a["guards"] = rng.choice([2, 3])
        a["special"] = ""
    pairs = [a for a in areas if len(a["members"]) == 2]
    chosen = rng.sample(pairs, 5)
    chosen.sort(key=lambda a: a["code"])
    kinds = ["few_officers", "one_guard", "crowded", "just_over",
             "exact_limit"]
    rng.shuffle(kinds)
    for a, kind in zip(chosen, kinds):
        a["special"] = kind
    for a in areas:
        n = len(a["members"])
        kind = a["special"]
        if kind == "few_officers":
            # Chief plus one officer: only the officer count misses.
            a["officers"] = 2
            pops = draw_populations(rng, n, 2)
        elif kind == "one_guard":
            a["guards"] = 1
            pops = draw_populations(rng, n, a["officers"])
        elif kind == "crowded":
            # Large communities, far above 3000 residents per officer.
            a["officers"] = 4
            pops = [rng.randint(10500, POP_MAX), rng.randint(5000, 8000)]
        elif kind == "just_over":
            a["officers"] = 3
            pops = split_total(rng, 9000 + rng.randint(10, 90), n)
        elif kind == "exact_limit":
            # Exactly 3000 residents per officer: meets (<= 3000).
            a["officers"] = 3
            pops = split_total(rng, 9000, n)
        else:
            pops = draw_populations(rng, n, a["officers"])
        for c, p in zip(a["members"], pops):
            c["population"] = p
            c["area"] = a

    # Criminal cases and mass patrol teams.  Most communities are calm
    # (under 100 cases a year); about 15% miss their team target.
    for c in communities:
        if rng.random() < 0.35:
            c["criminal_cases"] = rng.randint(100, 220)
        else:
            c["criminal_cases"] = rng.randint(20, 98)
        c["patrol_team"] = None

    # Boundary communities around the 100-case line and the exact
    # thresholds, picked from ordinary areas so populations can be
    # rounded down without touching any staffing result.
    eligible = [c for c in communities
                if not c["area"]["special"] and c["population"] >= 4000]
    picks = rng.sample(eligible, 6)
    picks.sort(key=lambda c: c["code"])
    # (cases, round population down to, team rule, meets?)
    boundary = [
        (100, 500, "exact2", True),      # 100 cases, team exactly 2‰
        (100, 1, "min15", False),        # 100 cases, only 1.5‰: misses
        (99, 1, "min15", True),          # 99 cases, 1.5‰ is enough
        (101, 1, "min2_minus1", False),  # one short of 2‰
        (99, 2000, "exact15", True),     # team exactly 1.5‰
        (101, 500, "exact2", True),      # team exactly 2‰
    ]
    for c, (cases, unit, rule, meets) in zip(picks, boundary):
        c["criminal_cases"] = cases
        c["population"] -= c["population"] % unit
        p = c["population"]
        if rule == "exact2":
            team = p * 2 // 1000
        elif rule == "exact15":
            team = p * 3 // 2000
        elif rule == "min15":
            team = (p * 3 + 1999) // 2000
        else:
            team = (p * 2 + 999) // 1000 - 1
        assert team_meets(team, p, cases) == meets, c["code"]
        c["patrol_team"] = team
    rest = [c for c in communities if c["patrol_team"] is None]
    target_misses = round(0.15 * len(communities))
    misses = set(id(c) for c in rng.sample(rest, target_misses - 2))
    for c in rest:
        low = team_minimum(c["population"], c["criminal_cases"])
        if id(c) in misses:
            c["patrol_team"] = max(1, low - rng.randint(1, max(1, low // 3)))
        else:
            c["patrol_team"] = low + rng.randint(0, 4)

    # Staff: per grid its coordinators, then per area the chief, the
    # officers and the guards.  Codes run in file order per prefix.
    names = Names(rng)
    counters = {"K": 0, "J": 0, "B": 0}

    def add(prefix, role, grid, area):
        counters[prefix] += 1
        staff.append({"code": "%s%04d" % (prefix, counters[prefix]),
                      "name": names.take(), "role": role, "grid": grid,
                      "area": area})

    for g in grids:
        for _ in range(rng.choice([1, 2])):
            add("K", "coordinator", g["code"], "")
        for a in areas:
            if a["grid"] != g["code"]:
                continue
            add("J", "chief", g["code"], a["code"])
            for _ in range(a["officers"] - 1):
                add("J", "officer", g["code"], a["code"])
            for _ in range(a["guards"]):
                add("B", "guard", g["code"], a["code"])

    check(streets, grids, communities, areas)
    return {
        "district.csv": [{"code": DISTRICT[0], "name": DISTRICT[1]}],
        "streets.csv": streets,
        "grids.csv": grids,
        "communities.csv": communities,
        "police_areas.csv": areas,
        "area_communities.csv": links,
        "staff.csv": staff,
    }


def check(streets, grids, communities, areas):
    """Asserts the designed shape, so a changed table fails loudly here."""
    assert len(grids) == 32
    for c in communities:
        assert POP_MIN <= c["population"] <= POP_MAX, c
        assert 20 <= c["criminal_cases"] <= 220, c
        assert c["patrol_team"] >= 1, c
    misses = [c for c in communities if not team_meets(
        c["patrol_team"], c["population"], c["criminal_cases"])]
    assert 0.12 <= len(misses) / len(communities) <= 0.18, len(misses)
    for a in areas:
        residents = sum(c["population"] for c in a["members"])
        meets = (residents <= RESIDENTS_PER_OFFICER * a["officers"]
                 and 3 <= a["officers"] <= 4 and 2 <= a["guards"] <= 3)
        want = a["special"] in ("", "exact_limit")
        assert meets == want, (a["code"], a["special"], residents)


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([r[h] for h in header])


def main(argv):
    ap = argparse.ArgumentParser(description="Regenerate the seed CSVs.")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(
        __file__)), help="directory to write into (default: seeds/)")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    files = build(random.Random(SEED))
    for name, rows in files.items():
        write_csv(os.path.join(args.out, name), HEADERS[name], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
