/* The dashboard's script.  REPORTS (name, summary, levels of every report)
 * and TODAY (HQ's local date) are written in front of it by the server.
 * Every figure shown is the text the report's JSON gives: the JSON is read
 * by readJSON below, which keeps each number's text (50.00 stays 50.00),
 * not by JSON.parse, which would turn it into 50. */

/* ---- numbers that keep their text ---- */

function Num(text) { this.t = text; this.v = Number(text); }
Num.prototype.valueOf = function () { return this.v; };
Num.prototype.toString = function () { return this.t; };
function isNum(v) { return v instanceof Num; }

/* JSON text to values; numbers become Num.  Throws SyntaxError. */
function readJSON(s) {
  var i = 0;
  var STR = /"(?:[^"\\\u0000-\u001f]|\\["\\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
  var NUM = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  function bad() { throw new SyntaxError("JSON: unexpected input at " + i); }
  function ws() {
    while (i < s.length && (s[i] === " " || s[i] === "\n" || s[i] === "\r" ||
           s[i] === "\t")) i++;
  }
  function str() {
    STR.lastIndex = i;
    var m = STR.exec(s);
    if (!m) bad();
    i = STR.lastIndex;
    return JSON.parse(m[0]);
  }
  function word(w, v) {
    if (s.substr(i, w.length) !== w) bad();
    i += w.length;
    return v;
  }
  function val() {
    ws();
    var c = s[i];
    if (c === "{") {
      var o = {};
      i++; ws();
      if (s[i] === "}") { i++; return o; }
      for (;;) {
        ws();
        if (s[i] !== "\"") bad();
        var k = str();
        ws();
        if (s[i] !== ":") bad();
        i++;
        o[k] = val();
        ws();
        if (s[i] === ",") { i++; continue; }
        if (s[i] !== "}") bad();
        i++;
        return o;
      }
    }
    if (c === "[") {
      var a = [];
      i++; ws();
      if (s[i] === "]") { i++; return a; }
      for (;;) {
        a.push(val());
        ws();
        if (s[i] === ",") { i++; continue; }
        if (s[i] !== "]") bad();
        i++;
        return a;
      }
    }
    if (c === "\"") return str();
    if (c === "t") return word("true", true);
    if (c === "f") return word("false", false);
    if (c === "n") return word("null", null);
    NUM.lastIndex = i;
    var m = NUM.exec(s);
    if (!m) bad();
    i = NUM.lastIndex;
    return new Num(m[0]);
  }
  var v = val();
  ws();
  if (i !== s.length) bad();
  return v;
}

/* ---- words ---- */

var LANG = "zh";
var UI = {
  zh: {
    apptitle: "网格化管理指挥中心", token: "查看令牌", signin: "登录",
    period: "统计期间", this_month: "本月", last_month: "上月",
    last_7: "近 7 天", last_week: "上周(周一至周日)", custom: "自定义",
    from: "从", to: "到", show: "查询", print: "打印",
    intro: "请输入查看令牌后查看报表", lang: "English",
    loading: "加载中…", updated: "已更新", failed: "项失败",
    bad_token: "查看令牌无效或已被吊销:请向管理员索取新的查看令牌(gridbook-hq device enroll --role viewer)后重新登录",
    not_viewer: "此令牌不是查看令牌:只有查看(viewer)设备可以读取报表",
    bad_period: "统计期间:开始日期不能晚于结束日期",
    csv: "下载 CSV", lists: "明细:", level: "层级",
    district: "区", street: "街道", grid: "网格", area: "警务区",
    community: "社区", total: "合计",
    overview: "全区概览", vs_prev: "较上期", prev_none: "上期无数据",
    points: "个百分点", previous: "上期", as_of: "截至",
    complete: "数据完整", of_grids: "个网格", incomplete: "数据不完整:",
    left_out: "尚未结束、未计入:", nights: "晚", days: "天", weeks: "周",
    no_data: "无数据", meets: "达标", near: "差距 ≤ 5%", warn: "差距 ≤ 15%",
    bad: "差距 > 15%", incomplete_leg: "数据不完整", goal_line: "目标",
    prev_tick: "上期",
    sync_title: "同步情况:未按时同步的网格", sync_all: "所有网格均已在本期内同步",
    never: "本期内未同步", last_sync: "最后同步", unsent: "台设备尚有未发送数据",
    r_never_synced: "从未同步", r_not_synced_since_end: "期末之后未同步",
    r_unsent_backlog: "尚有未发送数据", r_not_synced: "期初以来未同步",
    error: "出错", signed_in: "已登录"
  },
  en: {
    apptitle: "grid management HQ", token: "viewer token", signin: "sign in",
    period: "period", this_month: "this month", last_month: "last month",
    last_7: "last 7 days", last_week: "last week (Mon-Sun)",
    custom: "custom", from: "from", to: "to", show: "show", print: "print",
    intro: "enter a viewer token to see the reports", lang: "中文",
    loading: "loading…", updated: "updated", failed: "failed",
    bad_token: "the viewer token is not valid or has been revoked: ask an administrator for a new one (gridbook-hq device enroll --role viewer) and sign in again",
    not_viewer: "this token is not a viewer token: only viewer devices may read reports",
    bad_period: "period: the first day may not be after the last",
    csv: "download CSV", lists: "lists:", level: "level",
    district: "district", street: "street", grid: "grid",
    area: "police area", community: "community", total: "total",
    overview: "district overview", vs_prev: "vs previous",
    prev_none: "no previous figure", points: "points", previous: "previous",
    as_of: "as of", complete: "complete:", of_grids: "grids",
    incomplete: "incomplete:", left_out: "not yet ended, left out:",
    nights: "nights", days: "days", weeks: "weeks", no_data: "no data",
    meets: "meets target", near: "within 5%", warn: "within 15%",
    bad: "more than 15% off", incomplete_leg: "incomplete data",
    goal_line: "target", prev_tick: "previous",
    sync_title: "sync health: grids not heard from",
    sync_all: "every grid has synced in the period",
    never: "not synced in the period", last_sync: "last sync",
    unsent: "devices with work still unsent",
    r_never_synced: "never synced",
    r_not_synced_since_end: "not synced since the period ended",
    r_unsent_backlog: "work left unsent", r_not_synced: "not synced since the period began",
    error: "error", signed_in: "signed in"
  }
};
function t(k) { return UI[LANG][k] !== undefined ? UI[LANG][k] : k; }

/* What the page says of each report when the server's JSON does not say
 * it in the page's language: titles, column labels (by report, then by
 * key), drill-down list titles and coded values. */
var TITLES = {
  zh: {
    "contract-rate": "劳动合同签订率", "check-coverage": "企业检查覆盖率",
    "rectification": "整改跟踪", "disputes": "劳动争议",
    "staffing": "警务区警力配置", "night-patrol": "夜间巡逻",
    "reception": "警务室接待", "requests": "报警求助咨询",
    "daily-reports": "每日工作报告", "patrol-teams": "群防群治队伍",
    "sync-health": "同步情况"
  },
  en: {
    "contract-rate": "labour-contract signing rate",
    "check-coverage": "check coverage", "rectification": "rectification",
    "disputes": "labour disputes", "staffing": "police area staffing",
    "night-patrol": "night patrols", "reception": "police room reception",
    "requests": "public requests", "daily-reports": "daily work reports",
    "patrol-teams": "mass patrol teams", "sync-health": "sync health"
  }
};
var COLS = {
  zh: {
    unit: "单位", name: "名称", enterprises: "检查企业数", employees: "职工人数",
    signed: "已签合同", rate_pct: "签订率 %", prev_rate_pct: "上期签订率 %",
    delta_pp: "变化(百分点)", active: "在营企业", checked: "已检查",
    unchecked: "未检查", coverage_pct: "覆盖率 %", notices: "催告",
    orders: "责令改正", issued: "发出合计", rectified: "已整改",
    on_time: "按期整改", overdue: "逾期未整改", received: "受理",
    "disputes.community": "社区调处", "disputes.street": "街道调处",
    "disputes.district": "区级仲裁", open: "未结", mediated: "已调解",
    escalated: "已上交", closed: "已结案", not_open: "已办结",
    closed_low: "就地化解", closed_low_pct: "就地化解率 %",
    areas: "警务区", residents: "实有人口", officers: "民警", guards: "保安",
    per_officer: "每名民警对应居民", meeting: "达标警务区",
    meeting_pct: "达标率 %", why: "原因", grid: "网格", area: "警务区",
    nights: "区·夜", complying: "达标", missed: "未达标",
    share_pct: "达标率 %", "night-patrol.missed": "缺巡夜数",
    "night-patrol.share_pct": "巡逻率 %", weeks: "ISO 周数",
    officer_weeks: "人·周", hours: "接待小时", avg_hours: "人均每周小时",
    below: "不足 5 小时人·周", "reception.meeting_pct": "达标率 %",
    "requests.received": "受理", alarm: "报警", help: "求助",
    inquiry: "咨询", resolved: "已办结", "requests.on_time": "按时办结",
    late: "超时办结", "requests.open": "未办结",
    open_past_deadline: "超期未办结", on_time_pct: "按时办结率 %",
    median_hours: "办结用时中位数(小时)", days: "天数",
    officer_days: "人·天", covered: "已报告", "daily-reports.missed": "缺报",
    "daily-reports.share_pct": "报告率 %", communities: "社区",
    "patrol-teams.meeting": "达标社区", not_meeting: "未达标社区",
    "patrol-teams.share_pct": "达标率 %", population: "人口",
    team: "群防群治队员", per_mille: "每千人队员", grids: "网格数",
    synced: "已同步", not_synced: "未同步", devices: "设备",
    batches: "批次", records: "记录", last_sync: "最后同步",
    unsent: "未发送", oldest_unsent: "最早未发送", enterprise: "企业",
    enterprise_id: "企业编号", check_date: "检查日期", deadline: "整改期限",
    days_overdue: "逾期天数", nights_missed: "缺巡夜数",
    officer: "民警", week: "周", id: "编号", category: "类别",
    priority: "优先级", hours_past: "超期小时", community: "社区",
    criminal_cases: "年刑事案件", target_per_mille: "目标(每千人)",
    needed: "应有队员", device: "设备", role: "角色", status: "状态",
    unsent_hours: "未发送时长(小时)", "missed.missed": "缺巡夜数",
    "missed.nights": "夜数", "gaps.missed": "缺报天数", "gaps.days": "天数",
    "below_target.hours": "接待小时"
  },
  en: {
    unit: "unit", name: "name", "disputes.community": "at community",
    "disputes.street": "at street", "disputes.district": "at district"
  }
};
var LISTS = {
  zh: {
    "rectification.overdue": "逾期未整改的企业",
    "staffing.not_meeting": "未达标的警务区",
    "night-patrol.missed": "无合规夜巡的警务区",
    "reception.below_target": "接待不足 5 小时的民警",
    "requests.open_past_deadline": "超期未办结的警情",
    "daily-reports.gaps": "日报缺报的民警",
    "patrol-teams.below_target": "群防群治队伍未达标的社区",
    "sync-health.devices": "设备", "sync-health.not_synced": "本期内未同步的网格"
  },
  en: {
    "rectification.overdue": "overdue rectification orders",
    "staffing.not_meeting": "police areas below the target",
    "night-patrol.missed": "police areas with nights without a complying patrol",
    "reception.below_target": "officers below 5 h of reception",
    "requests.open_past_deadline": "open requests past their deadline",
    "daily-reports.gaps": "officers with days without a report",
    "patrol-teams.below_target": "communities below the patrol-team target",
    "sync-health.devices": "devices",
    "sync-health.not_synced": "grids not synced since the period began"
  }
};
var VALUES = {
  zh: {
    coordinator: "协调员", officer: "民警", viewer: "查看", active: "在用",
    revoked: "已吊销", alarm: "报警", help: "求助", inquiry: "咨询",
    urgent: "紧急", normal: "一般", low: "低"
  },
  en: {}
};

/* The district figure of each report against its target (the targets of
 * SPEC §3): the row key, which way is better, the target and its words. */
var GOALS = {
  "contract-rate": {key: "rate_pct", dir: "up", goal: 100, unit: "%",
    prev: "prev_rate_pct", delta: "delta_pp",
    zh: "目标:全员签订劳动合同(100%)", en: "target: a contract for every employee (100%)"},
  "check-coverage": {key: "coverage_pct", dir: "up", goal: 100, unit: "%",
    zh: "目标:摸清底数,企业全部检查(100%)", en: "target: every enterprise checked (100%)"},
  "rectification": {key: "overdue", dir: "zero", goal: 0, unit: "",
    zh: "目标:无逾期未整改(0)", en: "target: nothing overdue (0)"},
  "disputes": {key: "closed_low_pct", dir: "up", goal: 100, unit: "%",
    zh: "目标:小矛盾不出街,大矛盾不出区", en: "target: settled at community or street level"},
  "staffing": {key: "per_officer", dir: "down", goal: 3000, unit: "",
    zh: "目标:每名民警 ≤ 3000 名居民", en: "target: ≤ 3000 residents per officer"},
  "night-patrol": {key: "share_pct", dir: "up", goal: 100, unit: "%",
    zh: "目标:每晚巡逻(100%)", en: "target: a patrol every night (100%)"},
  "reception": {key: "avg_hours", dir: "up", goal: 5, unit: "h",
    zh: "目标:每名民警每周接待 ≥ 5 小时", en: "target: ≥ 5 h per officer per week"},
  "requests": {key: "on_time_pct", dir: "up", goal: 100, unit: "%",
    zh: "目标:限时办结(100%)", en: "target: resolved by the deadline (100%)"},
  "daily-reports": {key: "share_pct", dir: "up", goal: 100, unit: "%",
    zh: "目标:每日报告(100%)", en: "target: a report every day (100%)"},
  "patrol-teams": {key: "share_pct", dir: "up", goal: 100, unit: "%",
    zh: "目标:队员达人口 2‰(刑事案件 ≥ 100)或 1.5‰", en: "target: a team of 2‰ of residents (100+ criminal cases) or 1.5‰"},
  "sync-health": {key: "not_synced", dir: "zero", goal: 0, unit: "",
    zh: "目标:每个网格本期内都已同步(0)", en: "target: every grid synced in the period (0)"}
};
/* A second figure shown under the first. */
var SECOND = {
  "reception": "below", "requests": "open_past_deadline",
  "staffing": "meeting_pct", "night-patrol": "missed",
  "rectification": "issued", "disputes": "received",
  "contract-rate": "employees", "check-coverage": "unchecked",
  "daily-reports": "missed", "patrol-teams": "not_meeting",
  "sync-health": "grids"
};

function hasCJK(s) { return /[\u3400-\u9fff]/.test(String(s)); }
/* The server's text when it is in the page's language, else ours. */
function pick(server, ours) {
  if (server && (LANG === "zh") === hasCJK(server)) return server;
  return ours || server || "";
}
function titleOf(name, j) { return pick(j && j.title, TITLES[LANG][name]); }
function colLabel(rep, key, server, list) {
  var c = COLS[LANG], o;
  if (list) o = c[list + "." + key];
  if (o === undefined) o = c[rep + "." + key];
  if (o === undefined) o = c[key];
  return pick(server, o || (LANG === "en" ? key.replace(/_/g, " ") : key));
}
function listTitle(rep, key) {
  return LISTS[LANG][rep + "." + key] || LISTS.en[rep + "." + key] || key;
}
/* A value as shown: numbers as the JSON wrote them, null as "-", coded
 * words in the page's language. */
function show(v) {
  if (v === null || v === undefined) return "-";
  if (isNum(v)) return v.t;
  if (typeof v === "boolean") return v ? "✓" : "✗";
  var s = String(v);
  if (VALUES[LANG][s] !== undefined) return VALUES[LANG][s];
  return LANG === "zh" ? why(s) : s;
}
/* The reasons staffing gives for an area below the target, in Chinese
 * when the server wrote them in English; any other text as it is. */
var WHY = [
  [/^more than (\d+) residents per officer$/, "每名民警对应居民超过 $1 人"],
  [/^officers: (\d+), not 3-4$/, "民警 $1 名,应为 3–4 名"],
  [/^guards: (\d+), not 2-3$/, "保安 $1 名,应为 2–3 名"]
];
function why(s) {
  var parts = s.split("; ");
  var out = parts.map(function (p) {
    for (var i = 0; i < WHY.length; i++)
      if (WHY[i][0].test(p)) return p.replace(WHY[i][0], WHY[i][1]);
    return null;
  });
  return out.indexOf(null) >= 0 ? s : out.join(";");
}

/* ---- small DOM helpers ---- */

function $(id) { return document.getElementById(id); }
function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
var SVGNS = "http://www.w3.org/2000/svg";
function sv(tag, attrs, text) {
  var e = document.createElementNS(SVGNS, tag);
  Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
  if (text !== undefined) e.textContent = String(text);
  return e;
}
function ymd(d) {
  function p(n) { return (n < 10 ? "0" : "") + n; }
  return d.getUTCFullYear() + "-" + p(d.getUTCMonth() + 1) + "-" + p(d.getUTCDate());
}
function day(s) { return new Date(s + "T00:00:00Z"); }
function addDays(d, n) { var e = new Date(d.getTime()); e.setUTCDate(e.getUTCDate() + n); return e; }

/* ---- periods ---- */

/* The period of a choice; every choice ends yesterday at the latest. */
function periodOf(choice) {
  var today = day(TODAY), yest = addDays(today, -1);
  var first = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1));
  if (choice === "this_month") {
    if (first >= today) choice = "last_month"; /* the 1st: nothing yet */
    else return [ymd(first), ymd(yest)];
  }
  if (choice === "last_month") {
    var pf = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 1, 1));
    return [ymd(pf), ymd(addDays(first, -1))];
  }
  if (choice === "last_7") return [ymd(addDays(today, -7)), ymd(yest)];
  if (choice === "last_week") {
    var wd = (today.getUTCDay() + 6) % 7; /* 0 = Monday */
    var mon = addDays(today, -wd - 7);
    return [ymd(mon), ymd(addDays(mon, 6))];
  }
  return null;
}

/* ---- grading against a target ---- */

/* "ok", "near", "warn", "bad", or "na" for no figure; max: the largest
 * value beside v, for targets of zero. */
function grade(g, v, max) {
  if (v === null || v === undefined || !isNum(v)) return "na";
  var x = +v, off;
  if (g.dir === "zero") {
    if (x <= 0) return "ok";
    off = max > 0 ? x / max : 1;
    return off <= 0.34 ? "near" : off <= 0.67 ? "warn" : "bad";
  }
  if (g.dir === "up") off = x >= g.goal ? 0 : (g.goal - x) / g.goal;
  else off = x <= g.goal ? 0 : (x - g.goal) / g.goal;
  return off === 0 ? "ok" : off <= 0.05 ? "near" : off <= 0.15 ? "warn" : "bad";
}

/* ---- completeness, in either shape ---- */

var GRIDNAMES = {};
/* {grids, complete, incomplete: [{code, name, reason}], left_out, text}
 * from the report's completeness, new shape or old. */
function completeness(j) {
  var c = j.completeness || {};
  if (c.incomplete) return c;
  return {
    grids: c.grids, complete: c.synced, left_out: null, text: c.text,
    incomplete: (c.not_synced || []).map(function (code) {
      return {code: code, name: GRIDNAMES[code] || "", reason: "not_synced"};
    })
  };
}
/* Whether a row's unit has data missing: the row says so (new shape), or
 * (old shape) the unit is, or at street level holds, a grid not synced. */
function rowIncomplete(j, row) {
  if (row.complete === true || row.complete === false) return !row.complete;
  var c = j.completeness || {};
  if (!c.not_synced) return false;
  var u = String(row.unit);
  return c.not_synced.some(function (g) {
    return j.level === "grid" ? g === u : j.level === "street" && g.indexOf(u + "-") === 0;
  });
}

/* ---- CSV of what is shown ---- */

/* A cell that a spreadsheet would take for a formula is written with a
 * leading apostrophe; numbers and "-" are left as they are. */
function csvCell(s, num) {
  s = String(s);
  if (!num && s !== "-" && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
}
/* The table element as CSV: its header and rows exactly as displayed. */
function tableCSV(tbl) {
  var lines = [];
  Array.prototype.forEach.call(tbl.rows, function (tr) {
    var cells = [];
    Array.prototype.forEach.call(tr.cells, function (c) {
      cells.push(csvCell(c.textContent, c.classList.contains("n")));
    });
    lines.push(cells.join(","));
  });
  return "\ufeff" + lines.join("\r\n") + "\r\n";
}
function download(name, text) {
  var a = el("a");
  a.href = URL.createObjectURL(new Blob([text], {type: "text/csv;charset=utf-8"}));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}
function csvButton(tbl, name) {
  var b = el("button", "ghost csv", t("csv"));
  b.type = "button";
  b.addEventListener("click", function () { download(name, tableCSV(tbl)); });
  return b;
}

/* ---- drawing one report ---- */

function table(rep, cols, rows, total, j, list) {
  var tbl = el("table"), h = el("tr");
  tbl.dataset.list = list || "rows";
  cols.forEach(function (c) {
    var th = el("th", "", colLabel(rep, c.key, c.label, list));
    th.dataset.key = c.key;
    h.appendChild(th);
  });
  tbl.appendChild(h);
  rows.concat(total ? [total] : []).forEach(function (r, i) {
    var tr = el("tr");
    var isTotal = total && i === rows.length;
    if (isTotal) tr.className = "total";
    else if (j && rowIncomplete(j, r)) tr.className = "incomplete";
    if (r.unit !== undefined) tr.dataset.unit = String(r.unit);
    cols.forEach(function (c) {
      var v = r[c.key];
      var td = el("td", isNum(v) ? "n" : v === null || v === undefined ? "n" : "t",
                  isTotal && c.key === "unit" ? t("total") : show(v));
      td.dataset.key = c.key;
      if (isNum(v) && c.key.indexOf("delta") === 0)
        td.classList.add(+v > 0 ? "up" : +v < 0 ? "down" : "same");
      tr.appendChild(td);
    });
    tbl.appendChild(tr);
  });
  return tbl;
}

/* Horizontal bars, one a unit, coloured by distance to the target, with
 * the target drawn as a dashed line and the previous figure as a tick. */
function chart(name, j, g) {
  var rows = j.rows || [];
  var W = 620, L = 132, R = 64, H = 22, top = 20;
  var max = g.dir === "zero" ? 0 : g.goal, vmax = 0;
  rows.forEach(function (r) {
    [r[g.key], g.prev ? r[g.prev] : null].forEach(function (v) {
      if (isNum(v) && +v > max) max = +v;
    });
    if (isNum(r[g.key]) && +r[g.key] > vmax) vmax = +r[g.key];
  });
  if (max <= 0) max = 1;
  var plot = W - L - R;
  var svg = sv("svg", {"class": "chart", viewBox: "0 0 " + W + " " + (top + rows.length * H + 14),
    role: "img", "data-report": name, "data-max": String(max), "data-plot": String(plot)});
  svg.appendChild(sv("line", {"class": "axis", x1: L, x2: L, y1: top - 4, y2: top + rows.length * H}));
  rows.forEach(function (r, i) {
    var y = top + i * H, v = r[g.key];
    var label = String(r.name || r.unit);
    if (label.length > 10) label = label.slice(0, 9) + "…";
    var lt = sv("text", {x: L - 6, y: y + 15, "text-anchor": "end"}, label);
    lt.appendChild(sv("title", {}, r.unit + " " + (r.name || "")));
    svg.appendChild(lt);
    if (!isNum(v)) {
      svg.appendChild(sv("text", {"class": "nodata", x: L + 6, y: y + 15, "data-unit": String(r.unit)}, t("no_data")));
      return;
    }
    var w = Math.max(0, +v / max * plot);
    var cls = "bar g-" + grade(g, v, vmax) + (rowIncomplete(j, r) ? " incomplete" : "");
    var rect = sv("rect", {"class": cls, x: L, y: y + 3, width: w.toFixed(2), height: H - 7,
      "data-unit": String(r.unit), "data-value": v.t});
    rect.appendChild(sv("title", {}, (r.name || r.unit) + ": " + v.t + g.unit));
    rect.addEventListener("click", function () { showRow(svg, String(r.unit)); });
    svg.appendChild(rect);
    /* The figure inside the end of a long bar, clear of the target line;
     * beside a short one. */
    var inside = w > 52;
    svg.appendChild(sv("text", {"class": "val" + (inside ? " in" : ""), x: inside ? L + w - 4 : L + w + 4,
      y: y + 15, "text-anchor": inside ? "end" : "start", "data-unit": String(r.unit)}, v.t));
    var p = g.prev ? r[g.prev] : null;
    if (isNum(p)) {
      var px = L + +p / max * plot;
      /* A notch over the bar, clear of the figure inside it. */
      var tick = sv("path", {"class": "prev", d: "M" + (px - 4) + " " + (y - 1) + "h8l-4 5z",
        "data-unit": String(r.unit)});
      tick.appendChild(sv("title", {}, t("prev_tick") + " " + p.t + g.unit));
      svg.appendChild(tick);
    }
  });
  if (g.dir !== "zero") {
    var gx = L + g.goal / max * plot;
    svg.appendChild(sv("line", {"class": "goal", x1: gx, x2: gx, y1: top - 6, y2: top + rows.length * H + 2}));
    svg.appendChild(sv("text", {"class": "goaltext", x: gx, y: top - 8, "text-anchor": gx > W - 60 ? "end" : "middle"},
      t("goal_line") + " " + g.goal + g.unit));
  }
  return svg;
}

/* A bar clicked: its row in the card's table, marked and in view. */
function showRow(svg, unit) {
  var sec = svg.closest("section");
  Array.prototype.forEach.call(sec.querySelectorAll("table[data-list=rows] tr"), function (tr) {
    tr.classList.toggle("hl", tr.dataset.unit === unit);
    if (tr.dataset.unit === unit) tr.scrollIntoView({block: "nearest"});
  });
}

function legend(g) {
  var d = el("div", "legend");
  if (g.prev) {
    var sp = el("span", "", "▼ " + t("prev_tick"));
    d.appendChild(sp);
  }
  ["ok", "near", "warn", "bad"].forEach(function (k) {
    if (g.dir === "zero" && (k === "near" || k === "warn")) return;
    var s = el("span"), i = el("i");
    i.style.background = "var(--" + k + ")";
    s.appendChild(i);
    s.appendChild(document.createTextNode(g.dir === "zero" && k === "bad" ? "> 0" : t(k === "ok" ? "meets" : k)));
    d.appendChild(s);
  });
  var s2 = el("span"), i2 = el("i");
  i2.style.background = "#aab2bc";
  s2.appendChild(i2);
  s2.appendChild(document.createTextNode(t("incomplete_leg")));
  d.appendChild(s2);
  return d;
}

/* The district figure against its target, with the change from the
 * previous period where the report has one.  a: an <a> for the overview,
 * a <div> in the report. */
function kpi(name, j, tag) {
  var g = GOALS[name], tot = j.total || {}, v = tot[g.key];
  var k = el(tag, "kpi g-" + grade(g, v, +v));
  k.dataset.report = name;
  if (tag === "a") k.href = "#r-" + name;
  k.appendChild(el("div", "name", titleOf(name, j)));
  var f = el("div", "fig");
  var fv = el("span", "v", show(v));
  fv.dataset.key = g.key;
  f.appendChild(fv);
  if (isNum(v) && g.unit) f.appendChild(el("span", "unit", g.unit));
  k.appendChild(f);
  k.appendChild(el("div", "goal", g[LANG]));
  if (j.previous && g.delta) {
    var d = tot[g.delta], c = el("div", "chg");
    c.dataset.key = g.delta;
    if (isNum(d)) {
      c.textContent = t("vs_prev") + " " + (+d > 0 && d.t[0] !== "+" ? "▲ +" : +d < 0 ? "▼ " : "") +
        d.t + " " + t("points");
      c.classList.add(+d > 0 ? "up" : +d < 0 ? "down" : "same");
    } else {
      c.textContent = t("vs_prev") + ": " + t("prev_none");
    }
    c.title = t("previous") + " " + j.previous.from + " – " + j.previous.to;
    k.appendChild(c);
  }
  var sk = SECOND[name];
  if (sk && (j.columns || []).some(function (c2) { return c2.key === sk; })) {
    var col = j.columns.filter(function (c2) { return c2.key === sk; })[0];
    var s = el("div", "cmp", colLabel(name, sk, col.label) + " ");
    var sv2 = el("b", "", show(tot[sk]));
    sv2.dataset.key = sk;
    s.appendChild(sv2);
    k.appendChild(s);
  }
  return k;
}

/* Words in brackets, Chinese or English ones. */
function paren(s) { return LANG === "zh" ? "(" + s + ")" : " (" + s + ")"; }

function completenessLine(j) {
  var c = completeness(j), d = el("div", "complete");
  var inc = c.incomplete || [];
  if (inc.length) d.classList.add("warn");
  d.appendChild(document.createTextNode(t("complete") + " " + c.complete + " / " + c.grids + " " + t("of_grids")));
  if (inc.length) {
    d.appendChild(document.createTextNode(" · " + t("incomplete") + " "));
    inc.forEach(function (x) {
      var s = el("span", "grid", x.code + (x.name ? " " + x.name : "") + paren(t("r_" + x.reason)));
      s.dataset.code = x.code;
      s.dataset.reason = x.reason;
      if (!x.name) s.dataset.noname = "1";
      d.appendChild(s);
    });
  }
  var lo = c.left_out;
  if (lo && (lo.nights > 0 || lo.days > 0 || lo.weeks > 0)) {
    var parts = [];
    ["nights", "days", "weeks"].forEach(function (k) {
      if (lo[k] > 0) parts.push(String(lo[k]) + " " + t(k));
    });
    d.appendChild(document.createTextNode(" · " + t("left_out") + " " + parts.join(", ")));
  }
  return d;
}

function fileName(name, j, list) {
  return name + (list ? "-" + list : "") + "_" + j.level + "_" + j.from + "_" + j.to + ".csv";
}

function render(sec, r, j, level) {
  var name = r.name, g = GOALS[name];
  sec.textContent = "";
  sec.dataset.level = j.level;
  var head = el("div", "head");
  head.appendChild(el("h2", "", titleOf(name, j)));
  var lv = el("div", "levels");
  lv.setAttribute("role", "group");
  lv.setAttribute("aria-label", t("level"));
  r.levels.split("|").forEach(function (l) {
    var b = el("button", "ghost", t(l));
    b.type = "button";
    b.dataset.level = l;
    if (l === level) b.setAttribute("aria-current", "true");
    b.addEventListener("click", function () {
      sessionStorage.setItem("gridbook.level." + name, l);
      loadOne(r, sec);
    });
    lv.appendChild(b);
  });
  head.appendChild(lv);
  sec.appendChild(head);
  var m = j.from + " – " + j.to + " · " + t(j.level) + " · " + t("as_of") + " " + j.as_of;
  if (j.previous) m += " · " + t("previous") + " " + j.previous.from + " – " + j.previous.to;
  sec.appendChild(el("div", "meta", m));
  var body = el("div", "body");
  var left = el("div");
  left.appendChild(kpi(name, j, "div"));
  body.appendChild(left);
  var right = el("div");
  right.appendChild(chart(name, j, g));
  right.appendChild(legend(g));
  body.appendChild(right);
  sec.appendChild(body);
  var main = table(name, j.columns || [], j.rows || [], j.total, j, null);
  var wrap = el("div", "scroll");
  wrap.appendChild(main);
  sec.appendChild(wrap);
  head.appendChild(csvButton(main, fileName(name, j, null)));
  var keys = Object.keys(j.details || {});
  if (keys.length) {
    var drill = el("div", "drill");
    drill.appendChild(el("span", "", t("lists")));
    sec.appendChild(drill);
    keys.forEach(function (k) {
      var rows = j.details[k] || [];
      var b = el("button", "ghost", listTitle(name, k) + " (" + rows.length + ")");
      b.type = "button";
      b.dataset.list = k;
      b.setAttribute("aria-pressed", "false");
      var box = el("div", "list");
      box.dataset.list = k;
      box.hidden = true;
      var cols = rows.length ? Object.keys(rows[0]).map(function (c) { return {key: c}; }) : [];
      var lt = table(name, cols, rows, null, null, k);
      var h3 = el("h3", "", listTitle(name, k) + " (" + rows.length + ")");
      h3.appendChild(csvButton(lt, fileName(name, j, k)));
      box.appendChild(h3);
      var w2 = el("div", "scroll");
      w2.appendChild(lt);
      box.appendChild(w2);
      b.addEventListener("click", function () {
        box.hidden = !box.hidden;
        b.setAttribute("aria-pressed", box.hidden ? "false" : "true");
      });
      drill.appendChild(b);
      sec.appendChild(box);
    });
  }
  sec.appendChild(completenessLine(j));
}

/* ---- fetching ---- */

var STATE = {token: "", from: "", to: "", gen: 0, authFailed: false, json: {}};

function query(name, level) {
  return "/v1/reports/" + encodeURIComponent(name) + "?level=" + encodeURIComponent(level) +
    "&from=" + encodeURIComponent(STATE.from) + "&to=" + encodeURIComponent(STATE.to) +
    "&lang=" + (LANG === "zh" ? "zh_CN" : "en");
}

/* The report as {status, json|text}; a 429 is tried again after the
 * Retry-After it names, three times at most. */
function get(url, tries) {
  return fetch(url, {headers: {"Authorization": "Bearer " + STATE.token, "Accept": "application/json"},
                     cache: "no-store"}).then(function (resp) {
    return resp.text().then(function (text) {
      if (resp.status === 429 && (tries || 0) < 3) {
        var s = Math.min(10, Math.max(1, parseInt(resp.headers.get("Retry-After") || "1", 10) || 1));
        return new Promise(function (ok) { setTimeout(ok, s * 1000); }).then(function () {
          return get(url, (tries || 0) + 1);
        });
      }
      return {status: resp.status, text: text};
    });
  });
}

function authFail(status) {
  if (STATE.authFailed) return;
  STATE.authFailed = true;
  sessionStorage.removeItem("gridbook.token");
  var b = $("signin-error");
  b.textContent = t(status === 403 ? "not_viewer" : "bad_token");
  b.hidden = false;
  $("status").textContent = "";
  $("out").textContent = "";
  $("out").appendChild(el("div", "intro", t("intro")));
  document.body.dataset.state = "signin";
  $("token").focus();
}

function levelOf(r) {
  var ls = r.levels.split("|");
  var want = sessionStorage.getItem("gridbook.level." + r.name);
  if (want && ls.indexOf(want) >= 0) return want;
  return ls.indexOf("street") >= 0 ? "street" : ls[0];
}

var pending = 0, failures = 0;
function done(gen) {
  if (gen !== STATE.gen || --pending > 0) return;
  window.gbTimes.done = performance.now();
  if (STATE.authFailed) return;
  $("status").textContent = failures ? failures + " " + t("failed") :
    t("updated") + " " + new Date().toLocaleTimeString(LANG === "zh" ? "zh-CN" : "en-GB");
  document.body.dataset.state = "ready";
}

/* Fetches report r at its level into section sec and the overview. */
function loadOne(r, sec) {
  var gen = STATE.gen, level = levelOf(r);
  pending++;
  sec.classList.add("loading");
  return get(query(r.name, level)).then(function (res) {
    if (gen !== STATE.gen) return;
    if (res.status === 401 || res.status === 403) return authFail(res.status);
    if (res.status !== 200) throw new Error(res.status + ": " + res.text);
    var j = readJSON(res.text);
    STATE.json[r.name] = j;
    render(sec, r, j, level);
    var old = document.querySelector(".kpis .kpi[data-report=\"" + r.name + "\"]");
    if (old) old.replaceWith(kpi(r.name, j, "a"));
    if (j.total && j.total.name) $("district").textContent = j.total.name;
  }).catch(function (e) {
    if (gen !== STATE.gen || STATE.authFailed) return;
    failures++;
    sec.textContent = "";
    sec.appendChild(el("h2", "", titleOf(r.name, null)));
    sec.appendChild(el("div", "error", t("error") + ": " + e.message));
  }).then(function () {
    sec.classList.remove("loading");
    done(gen);
  });
}

/* The panel of grids not heard from in the period, from sync-health at
 * grid level; it also names the grids in every completeness line. */
function loadSync(panel) {
  var gen = STATE.gen;
  pending++;
  return get(query("sync-health", "grid")).then(function (res) {
    if (gen !== STATE.gen) return;
    if (res.status === 401 || res.status === 403) return authFail(res.status);
    if (res.status !== 200) throw new Error(res.status + ": " + res.text);
    var j = readJSON(res.text);
    (j.rows || []).forEach(function (r) { GRIDNAMES[r.unit] = r.name; });
    panel.textContent = "";
    panel.appendChild(el("h2", "", t("sync_title")));
    var c = completeness(j), chips = el("div", "chips");
    var silent = (j.details && j.details.not_synced) || [];
    silent.forEach(function (g) {
      var chip = el("span", "chip" + (g.last_sync === null ? " never" : ""),
        g.grid + " " + g.name + " · " + (g.last_sync === null ? t("never") : t("last_sync") + " " + show(g.last_sync)));
      chip.dataset.grid = g.grid;
      chips.appendChild(chip);
    });
    (c.incomplete || []).forEach(function (x) {
      if (silent.some(function (g) { return g.grid === x.code; })) return;
      var chip = el("span", "chip", x.code + " " + (x.name || GRIDNAMES[x.code] || "") + " · " + t("r_" + x.reason));
      chip.dataset.grid = x.code;
      chips.appendChild(chip);
    });
    if (chips.children.length) panel.appendChild(chips);
    else panel.appendChild(el("div", "ok-note", "✓ " + t("sync_all")));
    var backlog = ((j.details && j.details.devices) || []).filter(function (d) {
      return isNum(d.unsent) && +d.unsent > 0;
    });
    if (backlog.length)
      panel.appendChild(el("div", "meta", backlog.length + " " + t("unsent")));
    Array.prototype.forEach.call(document.querySelectorAll(".complete .grid[data-noname]"), function (s) {
      var n = GRIDNAMES[s.dataset.code];
      if (n) {
        s.textContent = s.dataset.code + " " + n + paren(t("r_" + s.dataset.reason));
        s.removeAttribute("data-noname");
      }
    });
  }).catch(function (e) {
    if (gen !== STATE.gen || STATE.authFailed) return;
    failures++;
    panel.appendChild(el("div", "error", t("error") + ": " + e.message));
  }).then(function () { done(gen); });
}

function loadAll() {
  var token = $("token").value.trim();
  if (!token) return;
  STATE.token = token;
  STATE.from = $("from").value;
  STATE.to = $("to").value;
  STATE.gen++;
  STATE.authFailed = false;
  STATE.json = {};
  pending = 0;
  failures = 0;
  window.gbTimes = {start: performance.now()};
  $("signin-error").hidden = true;
  sessionStorage.setItem("gridbook.token", token);
  sessionStorage.setItem("gridbook.period", $("period").value);
  sessionStorage.setItem("gridbook.from", STATE.from);
  sessionStorage.setItem("gridbook.to", STATE.to);
  var out = $("out");
  out.textContent = "";
  if (!STATE.from || !STATE.to || STATE.from > STATE.to) {
    var b = $("signin-error");
    b.textContent = t("bad_period");
    b.hidden = false;
    return;
  }
  document.body.dataset.state = "loading";
  $("status").textContent = t("loading");
  var ov = el("section", "panel overview");
  ov.appendChild(el("h2", "", t("overview") + " · " + STATE.from + " – " + STATE.to));
  var tiles = el("div", "kpis");
  REPORTS.forEach(function (r) {
    var k = el("a", "kpi g-na");
    k.dataset.report = r.name;
    k.href = "#r-" + r.name;
    k.appendChild(el("div", "name", titleOf(r.name, null)));
    k.appendChild(el("div", "fig", "…"));
    tiles.appendChild(k);
  });
  ov.appendChild(tiles);
  out.appendChild(ov);
  var panel = el("section", "panel sync");
  panel.id = "sync";
  panel.appendChild(el("h2", "", t("sync_title")));
  out.appendChild(panel);
  var secs = REPORTS.map(function (r) {
    var sec = el("section", "card");
    sec.id = "r-" + r.name;
    sec.dataset.report = r.name;
    sec.appendChild(el("h2", "", titleOf(r.name, null)));
    sec.appendChild(el("div", "meta", r.summary));
    out.appendChild(sec);
    return sec;
  });
  loadSync(panel);
  REPORTS.forEach(function (r, i) { loadOne(r, secs[i]); });
}

/* ---- the page's own words and controls ---- */

function applyLang() {
  document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
  Array.prototype.forEach.call(document.querySelectorAll("[data-t]"), function (e) {
    e.textContent = t(e.dataset.t);
  });
  $("lang").textContent = t("lang");
  document.title = t("apptitle") + " · gridbook";
}

function setPeriod(choice) {
  var p = periodOf(choice);
  if (!p) return;
  /* On the 1st "this month" has no day yet: say it is last month. */
  if (choice === "this_month" && p[0] !== TODAY.slice(0, 8) + "01")
    $("period").value = "last_month";
  $("from").value = p[0];
  $("to").value = p[1];
}

(function () {
  window.gbTimes = {start: performance.now()};
  LANG = localStorage.getItem("gridbook.lang") === "en" ? "en" : "zh";
  applyLang();
  $("to").max = ymd(addDays(day(TODAY), -1));
  var choice = sessionStorage.getItem("gridbook.period") || "this_month";
  $("period").value = choice;
  if (choice === "custom") {
    $("from").value = sessionStorage.getItem("gridbook.from") || "";
    $("to").value = sessionStorage.getItem("gridbook.to") || "";
  }
  if (!$("from").value || !$("to").value) {
    $("period").value = choice === "custom" ? "this_month" : choice;
    setPeriod($("period").value);
  }
  $("period").addEventListener("change", function () {
    setPeriod($("period").value);
    if (STATE.token) loadAll();
  });
  ["from", "to"].forEach(function (id) {
    $(id).addEventListener("change", function () { $("period").value = "custom"; });
  });
  $("f").addEventListener("submit", function (ev) { ev.preventDefault(); loadAll(); });
  $("signin").addEventListener("submit", function (ev) { ev.preventDefault(); loadAll(); });
  $("print").addEventListener("click", function () { window.print(); });
  $("lang").addEventListener("click", function () {
    LANG = LANG === "zh" ? "en" : "zh";
    localStorage.setItem("gridbook.lang", LANG);
    applyLang();
    if (STATE.token && !STATE.authFailed) loadAll();
  });
  $("token").value = sessionStorage.getItem("gridbook.token") || "";
  if ($("token").value) loadAll();
})();
