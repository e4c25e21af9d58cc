#!/usr/bin/env python3
"""Writes a CSV file of invented enterprises of one grid for `gridbook import`.

Used by the import benchmark (bench/run) and the import and crash tests
(tests/e2e/t0200-import.sh, t0210-crash.sh).  Standard library only; the
output depends on --seed alone, so two runs give the same file.

    gen_csv.py --grid S01-G1 --rows 10000 [--seed 1] [--bad-line 7431]
               [--bom] [--crlf] [--start 0] OUT.csv

Every row is a valid enterprise: a unified social credit code with the
right check character (GB 32100-2015), a Chinese name, a community of the
grid (its code, or on every third row its name, which import resolves),
an address that sometimes needs CSV quoting.  --bad-line N spoils the
credit code on physical line N (the header is line 1).  Row i gets the
credit code of serial number START + i, so files with disjoint serial
ranges share no code.
"""
import argparse
import csv
import os
import random
import sys

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]

REGIONS = ["望川", "江华", "临江", "南苑", "新桥", "东湖", "文昌", "清河"]
TRADE_NAMES = [
    "文昌", "鑫达", "恒通", "华盛", "宏远", "永兴", "瑞丰", "德隆", "金泰",
    "嘉禾", "立信", "博远", "天成", "汇丰", "广源", "顺发", "长青", "利民",
    "兴业", "正邦", "万福", "安泰", "凯旋", "明珠", "东升", "润泽", "中和",
    "宝丰", "同心", "晨光", "海川", "龙腾", "卓越", "新锐", "佳美", "盛世",
    "祥和", "远航", "富源", "锦程", "华夏", "鸿运", "鼎盛", "丰泽", "荣昌",
    "信诚", "汇通", "旭日", "康达", "启明", "蓝天", "绿源", "银河", "万家",
    "金桥", "和顺", "福瑞", "吉祥", "永安", "宏达", "众邦", "伟业", "腾飞",
    "亿丰", "海纳", "睿智", "诚信", "联创", "新华", "春晖", "秋实", "雅居",
]
INDUSTRIES = [
    ("精密机械", "制造业"), ("电子科技", "制造业"), ("食品", "食品加工"),
    ("服装", "纺织服装"), ("建材", "建筑材料"), ("物流", "交通运输"),
    ("餐饮管理", "住宿餐饮"), ("印刷", "印刷包装"), ("塑料制品", "制造业"),
    ("家具", "家具制造"), ("汽车配件", "汽车零部件"), ("五金", "金属制品"),
    ("纺织", "纺织服装"), ("商贸", "批发零售"), ("建筑工程", "建筑业"),
    ("环保科技", "环保"), ("医疗器械", "医药"), ("包装材料", "印刷包装"),
    ("信息技术", "软件和信息技术服务"), ("物业管理", "房地产服务"),
    ("保安服务", "商务服务"), ("家政服务", "居民服务"), ("装饰工程", "建筑业"),
    ("农产品", "农副食品"), ("电器", "电气机械"),
]
FORMS = ["有限公司", "有限责任公司", "股份有限公司", "厂"]
SHOPS = ["小吃店", "便利店", "理发店", "五金店", "水果店", "早餐店",
         "修车铺", "茶馆", "服装店", "药店"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
ROADS = ["文昌路", "和平街", "人民路", "解放大道", "建设路", "滨江路",
         "新华街", "朝阳路", "幸福巷", "工业园路", "团结路", "光明街"]


def uscc(serial):
    """A valid code: 9 (industry and commerce) 1 (enterprise), a division
    code, a 9-character organisation code from the serial, the check."""
    org = []
    n = serial
    for _ in range(9):
        org.append(ALPHABET[n % 31])
        n //= 31
    first17 = "91" + "330782" + "".join(reversed(org))
    s = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return first17 + ALPHABET[(31 - s % 31) % 31]


def spoil(code):
    """The same code with a wrong check character."""
    i = ALPHABET.index(code[17])
    return code[:17] + ALPHABET[(i + 1) % 31]


def communities(seeds, grid):
    with open(os.path.join(seeds, "communities.csv"), encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["grid"] == grid]
    if not rows:
        sys.exit("gen_csv.py: grid %s has no communities in %s" % (grid, seeds))
    return [(r["code"], r["name"]) for r in rows]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--grid", default="S01-G1")
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--bad-line", type=int, default=0)
    ap.add_argument("--bom", action="store_true")
    ap.add_argument("--crlf", action="store_true")
    ap.add_argument("--seeds", default=os.path.join(here, "..", "seeds"))
    a = ap.parse_args()

    rnd = random.Random(a.seed)
    comms = communities(a.seeds, a.grid)
    with open(a.out, "w", encoding="utf-8", newline="") as f:
        if a.bom:
            f.write("\ufeff")
        w = csv.writer(f, lineterminator="\r\n" if a.crlf else "\n")
        w.writerow(["uscc", "name", "type", "community", "address",
                    "industry", "employees", "status"])
        for i in range(a.rows):
            code = uscc(1000003 + (a.start + i) * 7919)
            if a.bad_line and i + 2 == a.bad_line:
                code = spoil(code)
            region = rnd.choice(REGIONS)
            trade = rnd.choice(TRADE_NAMES)
            if rnd.random() < 0.12:
                kind = "individual"
                person = rnd.choice(SURNAMES)
                name = "%s区%s记%s" % (region, person, rnd.choice(SHOPS))
                industry = "个体经营"
                employees = rnd.randint(1, 8)
            else:
                kind = "company"
                ind, industry = rnd.choice(INDUSTRIES)
                name = "%s市%s%s%s" % (region, trade, ind, rnd.choice(FORMS))
                employees = int(rnd.lognormvariate(3.2, 1.0)) + 1
            ccode, cname = rnd.choice(comms)
            community = cname if i % 3 == 2 else ccode
            road = rnd.choice(ROADS)
            address = "%s%d号" % (road, rnd.randint(1, 399))
            r = rnd.random()
            if r < 0.05:
                address += ",%d栋%d单元" % (rnd.randint(1, 20), rnd.randint(1, 6))
            elif r < 0.08:
                address += '"%s"旁' % rnd.choice(["东门", "老厂房", "菜市场"])
            status = "closed" if rnd.random() < 0.04 else "active"
            w.writerow([code, name, kind, community, address, industry,
                        employees, status])


if __name__ == "__main__":
    main()
