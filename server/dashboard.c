/*
 * The HQ dashboard (GET /, SPEC §7): one self-contained HTML page with its
 * styles and a little script inline, no resources from elsewhere.  It asks
 * for a viewer token (kept in sessionStorage for the tab), a period and a
 * level, fetches every report from /v1/reports/NAME as JSON with that
 * token and draws each as a table with its total row, its drill-down lists
 * and its completeness line.  The page holds no data, so it is served
 * without a token; every number it shows comes through the same
 * authenticated report route as any other client's.
 *
 * The list of reports and the levels each takes are written into the page
 * from reports.h when it is served, so that the page cannot fall behind
 * the reports there are.
 */
#include <stddef.h>

#include "buf.h"
#include "dashboard.h"
#include "json.h"
#include "reports.h"

#include "banned.h"

/* The page up to the list of reports, one source line an element (long
 * lines are split in pieces that the compiler joins). */
static const char *const head[] = {
	"<!DOCTYPE html>\n",
	"<html lang=\"zh-CN\">\n",
	"<head>\n",
	"<meta charset=\"utf-8\">\n",
	"<meta name=\"viewport\" content=\"width=device-width, initial-scal"
	"e=1\">\n",
	"<title>gridbook 指挥中心 / HQ dashboard</title>\n",
	"<style>\n",
	"body { font: 14px/1.45 system-ui, \"Noto Sans CJK SC\", \"Microsof"
	"t YaHei\", sans-serif; margin: 0; color: #1d2733; background: #f3f"
	"5f8; }\n",
	"header { background: #9b1c1c; color: #fff; padding: 10px 18px; }\n",
	"header h1 { margin: 0; font-size: 20px; }\n",
	"form { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items"
	": end; padding: 12px 18px; background: #fff; border-bottom: 1px so"
	"lid #d6dbe2; }\n",
	"label { display: flex; flex-direction: column; font-size: 12px; co"
	"lor: #4a5564; }\n",
	"input, select, button { font: inherit; padding: 4px 6px; }\n",
	"button { background: #9b1c1c; color: #fff; border: 0; border-radiu"
	"s: 3px; padding: 6px 14px; cursor: pointer; }\n",
	"#status { padding: 6px 18px; color: #4a5564; }\n",
	"main { padding: 0 18px 24px; display: grid; gap: 16px; }\n",
	"section { background: #fff; border: 1px solid #d6dbe2; border-radi"
	"us: 4px; padding: 10px 14px; overflow-x: auto; }\n",
	"section h2 { margin: 0 0 4px; font-size: 16px; }\n",
	"section h3 { margin: 10px 0 4px; font-size: 14px; }\n",
	".meta, .complete { font-size: 12px; color: #4a5564; }\n",
	".complete.warn { color: #a35200; }\n",
	".error { color: #b00020; }\n",
	"table { border-collapse: collapse; margin-top: 4px; }\n",
	"th, td { border: 1px solid #e1e5ea; padding: 2px 8px; text-align: "
	"right; white-space: nowrap; }\n",
	"th { background: #eef1f5; font-weight: 600; }\n",
	"td.t { text-align: left; }\n",
	"tr.total td { font-weight: 700; background: #fbf3e4; }\n",
	"details summary { cursor: pointer; margin-top: 6px; }\n",
	"</style>\n",
	"</head>\n",
	"<body>\n",
	"<header><h1>gridbook 指挥中心 / HQ dashboard</h1></header>\n",
	"<form id=\"f\">\n",
	"<label>查看令牌 / viewer token<input id=\"token\" type=\"passw"
	"ord\" size=\"44\" autocomplete=\"off\" required></label>\n",
	"<label>从 / from<input id=\"from\" type=\"date\" required></label"
	">\n",
	"<label>到 / to<input id=\"to\" type=\"date\" required></label>\n",
	"<label>层级 / level<select id=\"level\">\n",
	"<option value=\"district\">区 / district</option>\n",
	"<option value=\"street\">街道 / street</option>\n",
	"<option value=\"grid\">网格 / grid</option>\n",
	"<option value=\"area\">警务区 / police area</option>\n",
	"<option value=\"community\">社区 / community</option>\n",
	"</select></label>\n",
	"<button type=\"submit\">查询 / show</button>\n",
	"</form>\n",
	"<div id=\"status\">请输入查看令牌 / enter a viewer token</d"
	"iv>\n",
	"<main id=\"out\"></main>\n",
	"<script>\n",
	"\"use strict\";\n",
	"var REPORTS = ",
};

/* The rest of the page, after the list of reports. */
static const char *const tail[] = {
	";\n",
	"var DETAILS = {\n",
	"  overdue: \"逾期未整改 / overdue rectification orders\",\n",
	"  not_meeting: \"未达标警务区 / police areas below the targe"
	"t\",\n",
	"  missed: \"无合规夜巡的夜晚 / nights without a complying "
	"patrol\",\n",
	"  below_target: \"接待不足5小时 / officers below 5 h of rece"
	"ption\",\n",
	"  open_past_deadline: \"超期未办结 / open requests past their"
	" deadline\",\n",
	"  gaps: \"日报缺报 / officers with days without a report\",\n",
	"  devices: \"设备 / devices\"\n",
	"};\n",
	"function $(id) { return document.getElementById(id); }\n",
	"function el(tag, cls, text) {\n",
	"  var e = document.createElement(tag);\n",
	"  if (cls) e.className = cls;\n",
	"  if (text !== undefined && text !== null) e.textContent = String("
	"text);\n",
	"  return e;\n",
	"}\n",
	"function ymd(d) {\n",
	"  function p(n) { return (n < 10 ? \"0\" : \"\") + n; }\n",
	"  return d.getFullYear() + \"-\" + p(d.getMonth() + 1) + \"-\" + p"
	"(d.getDate());\n",
	"}\n",
	"function cell(tr, v, tag) {\n",
	"  var c = el(tag || \"td\", typeof v === \"number\" ? \"\" : \"t\""
	",\n",
	"             v === null || v === undefined ? \"\" : v);\n",
	"  tr.appendChild(c);\n",
	"}\n",
	"/* A table of row objects; keys and labels from cols, else from th"
	"e rows. */\n",
	"function table(cols, rows, total) {\n",
	"  var t = el(\"table\"), h = el(\"tr\");\n",
	"  if (!cols) {\n",
	"    cols = [];\n",
	"    if (rows.length)\n",
	"      Object.keys(rows[0]).forEach(function (k) { cols.push({key: "
	"k, label: k}); });\n",
	"  }\n",
	"  cols.forEach(function (c) { cell(h, c.label || c.key, \"th\"); }"
	");\n",
	"  t.appendChild(h);\n",
	"  rows.concat(total ? [total] : []).forEach(function (r, i) {\n",
	"    var tr = el(\"tr\", total && i === rows.length ? \"total\" : "
	"\"\");\n",
	"    cols.forEach(function (c) { cell(tr, r[c.key]); });\n",
	"    t.appendChild(tr);\n",
	"  });\n",
	"  return t;\n",
	"}\n",
	"function render(sec, j) {\n",
	"  sec.appendChild(el(\"h2\", \"\", j.title + \" (\" + j.report + "
	"\")\"));\n",
	"  var m = j.from + \" – \" + j.to + \" · \" + j.level + \" · a"
	"s of \" + j.as_of;\n",
	"  if (j.previous) m += \" · vs \" + j.previous.from + \" – \" +"
	" j.previous.to;\n",
	"  sec.appendChild(el(\"div\", \"meta\", m));\n",
	"  sec.appendChild(table(j.columns, j.rows || [], j.total));\n",
	"  Object.keys(j.details || {}).forEach(function (k) {\n",
	"    var rows = j.details[k], d = el(\"details\");\n",
	"    d.appendChild(el(\"summary\", \"\", (DETAILS[k] || k) + \" (\""
	" + rows.length + \")\"));\n",
	"    if (rows.length) d.appendChild(table(null, rows));\n",
	"    if (rows.length && rows.length <= 20) d.open = true;\n",
	"    sec.appendChild(d);\n",
	"  });\n",
	"  var c = j.completeness;\n",
	"  if (c) sec.appendChild(el(\"div\", \"complete\" + (c.synced < c."
	"grids ? \" warn\" : \"\"), c.text));\n",
	"}\n",
	"function levelFor(r, level) {\n",
	"  return r.levels.split(\"|\").indexOf(level) >= 0 ? level : \"dis"
	"trict\";\n",
	"}\n",
	"function load(ev) {\n",
	"  if (ev) ev.preventDefault();\n",
	"  var token = $(\"token\").value.trim(), out = $(\"out\");\n",
	"  if (!token) return;\n",
	"  sessionStorage.setItem(\"gridbook.token\", token);\n",
	"  sessionStorage.setItem(\"gridbook.level\", $(\"level\").value);"
	"\n",
	"  out.textContent = \"\";\n",
	"  var left = REPORTS.length, failed = 0;\n",
	"  $(\"status\").textContent = \"加载中 / loading …\";\n",
	"  REPORTS.forEach(function (r) {\n",
	"    var sec = el(\"section\");\n",
	"    sec.id = \"r-\" + r.name;\n",
	"    sec.appendChild(el(\"div\", \"meta\", r.name + \": \" + r.summ"
	"ary));\n",
	"    out.appendChild(sec);\n",
	"    var q = \"level=\" + encodeURIComponent(levelFor(r, $(\"level"
	"\").value)) +\n",
	"      \"&from=\" + encodeURIComponent($(\"from\").value) +\n",
	"      \"&to=\" + encodeURIComponent($(\"to\").value);\n",
	"    fetch(\"/v1/reports/\" + encodeURIComponent(r.name) + \"?\" + "
	"q, {\n",
	"      headers: {\"Authorization\": \"Bearer \" + token, \"Accept\""
	": \"application/json\"}\n",
	"    }).then(function (resp) {\n",
	"      if (!resp.ok)\n",
	"        return resp.text().then(function (t) { throw new Error(res"
	"p.status + \": \" + t); });\n",
	"      return resp.json();\n",
	"    }).then(function (j) {\n",
	"      sec.textContent = \"\";\n",
	"      render(sec, j);\n",
	"    }).catch(function (e) {\n",
	"      failed++;\n",
	"      sec.appendChild(el(\"div\", \"error\", r.name + \" — \" + "
	"e.message));\n",
	"    }).then(function () {\n",
	"      if (--left === 0)\n",
	"        $(\"status\").textContent = failed ? failed + \" 项失败"
	" / failed\" :\n",
	"          \"已更新 / updated \" + new Date().toLocaleString();"
	"\n",
	"    });\n",
	"  });\n",
	"}\n",
	"(function () {\n",
	"  var to = new Date(), from = new Date();\n",
	"  from.setDate(to.getDate() - 29);\n",
	"  $(\"from\").value = ymd(from);\n",
	"  $(\"to\").value = ymd(to);\n",
	"  $(\"token\").value = sessionStorage.getItem(\"gridbook.token\") "
	"|| \"\";\n",
	"  $(\"level\").value = sessionStorage.getItem(\"gridbook.level\") "
	"|| \"district\";\n",
	"  $(\"f\").addEventListener(\"submit\", load);\n",
	"  if ($(\"token\").value) load();\n",
	"})();\n",
	"</script>\n",
	"</body>\n",
	"</html>\n",
};

static int add_lines(struct gb_buf *out, const char *const *lines, size_t n,
		     struct gb_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (gb_buf_adds(out, lines[i], err))
			return -1;
	return 0;
}

int dashboard_page(struct gb_buf *out, struct gb_err *err)
{
	if (add_lines(out, head, sizeof(head) / sizeof(head[0]), err) ||
	    gb_buf_adds(out, "[", err))
		return -1;
	for (size_t i = 0; i < reports_count(); i++) {
		const char *name = reports_name(i);
		const char *levels = reports_levels(name);

		if ((i && gb_buf_adds(out, ",\n", err)) ||
		    gb_buf_adds(out, "{\"name\":", err) ||
		    gb_json_str(out, name, err) ||
		    gb_buf_adds(out, ",\"summary\":", err) ||
		    gb_json_str(out, reports_summary(i), err) ||
		    gb_buf_adds(out, ",\"levels\":", err) ||
		    gb_json_str(out, levels ? levels : "district", err) ||
		    gb_buf_adds(out, "}", err))
			return -1;
	}
	if (gb_buf_adds(out, "]", err))
		return -1;
	return add_lines(out, tail, sizeof(tail) / sizeof(tail[0]), err);
}
