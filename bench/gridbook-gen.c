/*
 * gridbook-gen: fills grid files with a period of realistic field work, so
 * that the HQ reports, the sync daemon, the dashboard and the benchmarks
 * have something to show.  For each grid of the reference district it
 * makes the two files two laptops of that grid would hold:
 * DIR/<grid>-labour.db, written as the grid's first coordinator, with
 * enterprises, labour-contract checks, rectification follow-ups, disputes
 * and employment monitoring; and DIR/<grid>-police.db, written as the chief
 * of the grid's first police area, with patrols, handovers, daily reports,
 * reception hours and public requests.
 *
 * The data is made to give every report of SPEC §3 something to find:
 * signing rates mostly between 80 and 95 % with a few poor enterprises,
 * rectification orders rectified on time, late or not at all, disputes at
 * every level in every state, nights without a patrol or with one guard,
 * officers with gaps in their daily reports or under five reception hours
 * a week, requests resolved late or not at all.
 *
 * The content is a pure function of --seed, the grid, the period and
 * --scale: every value comes from a xoshiro256** generator seeded from
 * those (one stream per grid for labour, one per police area), never from
 * rand() or the clock.  Only what db.c stamps from the clock -- ids,
 * versions, created and updated times -- differs between two runs.
 * Follow-ups, closures and resolutions come no later than the end of the
 * period.  When the period reaches today, what would happen after "now"
 * is drawn all the same but not written, so that it changes nothing else.
 *
 * Every record goes through gb_record_apply_defaults and gb_validate with
 * the file's own lookup, exactly as one typed at the prompt; a record that
 * fails is a bug in this file and stops the run with the message.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "csv.h"
#include "db.h"
#include "db_int.h"
#include "err.h"
#include "gbtime.h"
#include "i18n.h"
#include "kinds.h"
#include "record.h"
#include "uscc.h"
#include "validate.h"
#include "xalloc.h"

#include "banned.h"

#ifndef GB_SEEDDIR
#define GB_SEEDDIR "seeds"
#endif

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define MIN_MS INT64_C(60000)
#define HOUR_MS INT64_C(3600000)

/* The administrative division codes in the credit codes: the district
 * (most enterprises) and the city (a few registered there). */
#define DIVISION_DISTRICT "350102"
#define DIVISION_CITY "350100"
#define DISTRICT "望川区"
#define CITY "望川市"

#define MAX_COMM 8
#define MAX_AREAS 4
#define MAX_STAFF 64
#define MAX_PEOPLE 12
#define NAME_LEN 96
#define TEXT_LEN 1024
#define MAX_KINDS 16
#define MAX_DAYS 3660
#define EPOCH_2000 10957 /* 2000-01-01 as a day number */

/* ---- the random stream ------------------------------------------------- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Seeds r from the run's seed and two names (grid and stream), hashed
 * with FNV-1a, so that each grid and area has a stream of its own that
 * does not depend on which other grids are generated. */
static void rng_seed(struct rng *r, uint64_t seed, const char *a, const char *b)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325), x = seed;
	const char *parts[2] = {a, b};

	for (int i = 0; i < 2; i++) {
		for (const unsigned char *p = (const unsigned char *)parts[i];
		     *p; p++) {
			h ^= *p;
			h *= UINT64_C(0x100000001b3);
		}
		h ^= '/';
		h *= UINT64_C(0x100000001b3);
	}
	x = splitmix64(&x) ^ h;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna). */
static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* A number in lo..hi inclusive (lo when hi <= lo). */
static int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t)(rng_next(r) % ((uint64_t)(hi - lo) + 1));
}

static int rng_int(struct rng *r, int lo, int hi)
{
	return (int)rng_range(r, lo, hi);
}

/* 1 with probability permille / 1000. */
static int rng_chance(struct rng *r, int permille)
{
	return rng_range(r, 0, 999) < permille;
}

/* An index into weights (n of them, not all zero), drawn by weight. */
static int rng_weighted(struct rng *r, const int *weights, int n)
{
	int total = 0, x;

	for (int i = 0; i < n; i++)
		total += weights[i];
	x = rng_int(r, 0, total - 1);
	for (int i = 0; i < n; i++) {
		if (x < weights[i])
			return i;
		x -= weights[i];
	}
	return n - 1;
}

#define PICK(r, a) ((a)[rng_int((r), 0, NELEM(a) - 1)])
#define WEIGHTED(r, w) rng_weighted((r), (w), NELEM(w))

/* A count of about base * scale, rounded at random so that a scale of 0.3
 * still gives some. */
static int rng_scaled(struct rng *r, int base, double scale)
{
	double want = base * scale;
	int n = (int)want;
	int frac = (int)((want - n) * 1000.0);

	return n + rng_chance(r, frac);
}

/* ---- text -------------------------------------------------------------- */

/* Formats into out (n bytes); a cut text is a bug in the tables here. */
static void textf(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void textf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= n) {
		fprintf(stderr, "gridbook-gen: text too long: %s\n", out);
		abort();
	}
}

/* Appends to the text in out (n bytes), with sep first when out is not
 * empty. */
static void text_add(char *out, size_t n, const char *sep, const char *s)
{
	size_t len = strlen(out);

	textf(out + len, n - len, "%s%s", len ? sep : "", s);
}

/* clang-format off */
static const char *const surnames[] = {
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐",
	"孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁",
	"谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖",
	"田", "董", "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏",
	"吕", "丁", "沈", "姚", "卢", "钟", "陆", "汪", "范", "金", "廖",
};

/* Trade names (字号). */
static const char *const trade[] = {
	"文昌", "鑫达", "恒源", "宏达", "华盛", "永兴", "金泰", "瑞丰", "嘉禾",
	"德润", "天成", "博远", "中衡", "联创", "兴业", "东升", "汇通", "明辉",
	"新锐", "海川", "望江", "川源", "锦程", "泰和", "广源", "众合", "卓越",
	"安达", "正元", "万和", "聚鑫", "佳美", "益民", "同创", "鼎盛", "顺发",
	"福瑞", "长青", "远航", "晨曦", "昊天", "润泽", "金桥", "春晖", "秋实",
	"康泰", "思源", "致远", "启明", "和信", "诚达", "盛世", "优品", "信诚",
	"立达", "凯旋", "华宇", "力拓", "恒通", "永利", "宇航", "天润", "百川",
};

static const char *const roads[] = {
	"建设路", "人民路", "解放路", "中山路", "新华路", "朝阳路", "东风路",
	"和平路", "滨江路", "工业路", "兴业大道", "望川大道", "文昌路",
	"长青路", "江滨北路", "科技园路", "学府路", "光明街", "振兴路",
	"桂园路", "幸福路", "南苑路", "新桥路", "临江路", "东湖路",
};

enum ent_type { ENT_COMPANY, ENT_INDIVIDUAL, ENT_NONENT };
static const char *const ent_type_codes[] = {"company", "individual",
					     "non_enterprise"};

/* An industry, the words that go into company names in it, and whether
 * its firms tend to be large. */
struct industry {
	const char *name;
	int weight;
	int big;
	const char *words[10];
};

static const struct industry industries[] = {
	{"制造业", 22, 1, {"精密机械", "电子科技", "五金制品", "塑胶制品",
			   "服装", "食品", "家具", "包装材料", "汽车配件",
			   "新材料"}},
	{"建筑业", 10, 1, {"建筑工程", "建设工程", "装饰工程", "市政工程",
			   "建筑劳务"}},
	{"批发零售", 16, 0, {"商贸", "贸易", "百货", "医药连锁", "超市"}},
	{"物流运输", 9, 1, {"物流", "供应链管理", "货运", "运输",
			    "快递服务"}},
	{"信息技术", 9, 0, {"信息技术", "软件", "网络科技", "数据服务",
			    "智能科技"}},
	{"餐饮业", 10, 0, {"餐饮管理", "餐饮服务", "食品餐饮"}},
	{"住宿业", 4, 0, {"酒店管理", "宾馆"}},
	{"居民服务", 10, 0, {"家政服务", "物业管理", "保洁服务",
			     "保安服务"}},
	{"租赁和商务服务", 6, 0, {"人力资源", "企业管理咨询",
				  "广告传媒"}},
	{"房地产业", 4, 0, {"房地产开发", "置业"}},
};

/* Shops of individual businesses (个体工商户) and their industry. */
static const struct {
	const char *shop;
	const char *industry;
} shops[] = {
	{"餐饮店", "餐饮业"},	{"小吃店", "餐饮业"},
	{"面馆", "餐饮业"},	{"早餐店", "餐饮业"},
	{"便利店", "批发零售"}, {"水果店", "批发零售"},
	{"五金店", "批发零售"}, {"副食店", "批发零售"},
	{"建材店", "批发零售"}, {"理发店", "居民服务"},
	{"洗衣店", "居民服务"}, {"家电维修部", "居民服务"},
	{"汽车修理部", "居民服务"}, {"美容店", "居民服务"},
};

/* Private non-enterprise units (民办非企业单位). */
static const struct {
	const char *what;
	const char *industry;
} nonents[] = {
	{"幼儿园", "教育"},
	{"职业技能培训学校", "教育"},
	{"养老服务中心", "卫生和社会工作"},
	{"康复服务中心", "卫生和社会工作"},
	{"社会工作服务中心", "居民服务"},
};

static const char *const compliant_findings[] = {
	"劳动合同签订规范，社会保险按时足额缴纳",
	"用工手续齐全，未发现违法用工行为",
	"劳动合同台账完整，工资按月足额支付",
	"已建立职工名册，劳动合同签订率达标",
	"用工规范，已签订集体合同",
};

static const char *const patrol_notes[] = {
	"重点巡查背街小巷及沿街商铺",
	"巡查小区出入口及电动车棚",
	"巡查中发现一处消防通道堵塞，已通知物业清理",
	"劝离夜宵摊点聚集饮酒人员",
	"巡查学校周边及公交站点",
	"检查沿街商铺门窗，提醒店主做好防盗",
	"巡查出租屋集中区域，登记流动人员",
	"巡查农贸市场周边，无异常",
};

static const char *const open_items[] = {
	"邻里噪音纠纷待回访",
	"电动车被盗案待跟进",
	"独居老人定期走访",
	"出租屋流动人口信息待核实",
	"重点人员动态待核查",
	"小区监控盲区整改待物业回复",
	"沿街商铺消防隐患待复查",
};

static const char *const handover_notes[] = {
	"辖区平稳，无重大警情",
	"夜间接处警两起，均已处置完毕",
	"警务室设备运行正常",
	"交接警用装备及值班记录",
	"已向接班民警交代重点事项",
};

static const char *const report_extras[] = {
	"开展反诈宣传一次",
	"参加社区网格例会",
	"检查重点场所消防安全",
	"走访辖区学校，了解校园周边治安情况",
	"协助社区调解家庭纠纷",
	"更新实有人口信息",
	"开展夜间治安巡防",
};

static const char *const alarm_subjects[] = {
	"电动车被盗", "入室盗窃报警", "打架斗殴", "电信诈骗报警",
	"交通事故报警", "家庭暴力报警", "商铺被盗报警",
};
static const char *const help_subjects[] = {
	"老人走失求助", "钥匙遗失开锁求助", "邻里纠纷求助", "醉酒人员求助",
	"儿童走失求助", "噪音扰民求助", "车辆堵塞通道求助", "宠物走失求助",
};
static const char *const inquiry_subjects[] = {
	"居住证办理咨询", "户口迁移咨询", "身份证补办咨询",
	"无犯罪记录证明咨询", "出租屋登记咨询", "反诈知识咨询",
	"临时身份证明咨询",
};
static const char *const alarm_results[] = {
	"已出警处置，移交派出所立案侦查", "已出警，现场调解息事",
	"已出警，嫌疑人已控制", "已出警处置，做好登记回访",
};
static const char *const help_results[] = {
	"已协助处理完毕", "已协助找回，交由家属", "已现场协调解决",
	"已联系社区及物业共同处置",
};
static const char *const inquiry_results[] = {
	"已电话答复", "已现场解答并告知所需材料", "已通过网上平台回复",
};
/* clang-format on */

/* ---- reference data of a grid ----------------------------------------- */

struct area {
	char code[GB_CODE_LEN];
	int comm[MAX_COMM]; /* indexes into grid.comm */
	int ncomm;
	int officer[MAX_PEOPLE]; /* indexes into grid.staff; the chief first */
	int nofficer;
	int guard[MAX_PEOPLE];
	int nguard;
};

struct person {
	char code[GB_CODE_LEN];
	char role[16];
	char area[GB_CODE_LEN];
};

struct unit {
	char code[GB_CODE_LEN];
	char name[NAME_LEN];
};

struct grid {
	char code[GB_CODE_LEN];
	char street[NAME_LEN]; /* street name, e.g. 文昌街道 */
	struct unit comm[MAX_COMM];
	int ncomm;
	struct area area[MAX_AREAS];
	int narea;
	struct person staff[MAX_STAFF];
	int nstaff;
	int coord[MAX_PEOPLE];
	int ncoord;
};

static void copy_text(char *out, size_t n, const unsigned char *s)
{
	textf(out, n, "%s", s ? (const char *)s : "");
}

/* Runs a query with one text parameter, calling row(arg, ...) for each
 * result row. */
static int query(sqlite3 *sq, const char *sql, const char *param,
		 int (*row)(void *arg, sqlite3_stmt *s, struct gb_err *err),
		 void *arg, struct gb_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(sq, sql, -1, &s, NULL) != SQLITE_OK) {
		gb_error(err, GB_EDB, "%s", sqlite3_errmsg(sq));
		goto out;
	}
	sqlite3_bind_text(s, 1, param, -1, SQLITE_STATIC);
	for (;;) {
		step = sqlite3_step(s);
		if (step != SQLITE_ROW)
			break;
		if (row(arg, s, err))
			goto out;
	}
	if (step != SQLITE_DONE) {
		gb_error(err, GB_EDB, "%s", sqlite3_errmsg(sq));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

static int comm_row(void *arg, sqlite3_stmt *s, struct gb_err *err)
{
	struct grid *g = arg;
	struct unit *u;

	if (g->ncomm == MAX_COMM)
		return gb_error(err, GB_EINVAL,
				_("grid %s has more than %d communities"),
				g->code, MAX_COMM);
	u = &g->comm[g->ncomm++];
	copy_text(u->code, sizeof(u->code), sqlite3_column_text(s, 0));
	copy_text(u->name, sizeof(u->name), sqlite3_column_text(s, 1));
	return 0;
}

static int area_row(void *arg, sqlite3_stmt *s, struct gb_err *err)
{
	struct grid *g = arg;

	if (g->narea == MAX_AREAS)
		return gb_error(err, GB_EINVAL,
				_("grid %s has more than %d police areas"),
				g->code, MAX_AREAS);
	copy_text(g->area[g->narea].code, GB_CODE_LEN,
		  sqlite3_column_text(s, 0));
	g->narea++;
	return 0;
}

/* The area whose communities are being read, and its grid. */
struct area_fill {
	struct grid *g;
	struct area *a;
};

static int area_comm_row(void *arg, sqlite3_stmt *s, struct gb_err *err)
{
	struct area_fill *af = arg;
	struct grid *g = af->g;
	struct area *a = af->a;
	const char *code = (const char *)sqlite3_column_text(s, 0);

	for (int i = 0; code && i < g->ncomm; i++) {
		if (strcmp(g->comm[i].code, code) != 0)
			continue;
		if (a->ncomm == MAX_COMM)
			break;
		a->comm[a->ncomm++] = i;
		return 0;
	}
	return gb_error(err, GB_EINVAL,
			_("community %s of area %s is not in grid %s"),
			code ? code : "", a->code, g->code);
}

static int staff_row(void *arg, sqlite3_stmt *s, struct gb_err *err)
{
	struct grid *g = arg;
	struct person *p;

	if (g->nstaff == MAX_STAFF)
		return gb_error(err, GB_EINVAL,
				_("grid %s has more than %d staff"), g->code,
				MAX_STAFF);
	p = &g->staff[g->nstaff++];
	copy_text(p->code, sizeof(p->code), sqlite3_column_text(s, 0));
	copy_text(p->role, sizeof(p->role), sqlite3_column_text(s, 1));
	copy_text(p->area, sizeof(p->area), sqlite3_column_text(s, 2));
	return 0;
}

/* Puts person i into the coordinators or into the lists of their area by
 * role; the chief goes first among the officers. */
static int staff_place(struct grid *g, int i, struct gb_err *err)
{
	struct person *p = &g->staff[i];
	struct area *a = NULL;

	if (strcmp(p->role, "coordinator") == 0) {
		if (g->ncoord < MAX_PEOPLE)
			g->coord[g->ncoord++] = i;
		return 0;
	}
	for (int k = 0; k < g->narea; k++)
		if (strcmp(g->area[k].code, p->area) == 0)
			a = &g->area[k];
	if (!a)
		return gb_error(err, GB_EINVAL,
				_("staff %s names area \"%s\", not one of "
				  "grid %s"),
				p->code, p->area, g->code);
	if (strcmp(p->role, "guard") == 0) {
		if (a->nguard < MAX_PEOPLE)
			a->guard[a->nguard++] = i;
		return 0;
	}
	if (a->nofficer == MAX_PEOPLE)
		return 0;
	if (strcmp(p->role, "chief") == 0) {
		memmove(a->officer + 1, a->officer,
			(size_t)a->nofficer * sizeof(a->officer[0]));
		a->officer[0] = i;
	} else {
		a->officer[a->nofficer] = i;
	}
	a->nofficer++;
	return 0;
}

/* Reads the grid's reference data from a file db_load_seeds filled. */
static int grid_read(struct grid *g, struct gb_db *db, const char *code,
		     struct gb_err *err)
{
	sqlite3 *sq = db_sqlite(db);
	char *street = db_meta_get(db, "street_name");

	memset(g, 0, sizeof(*g));
	textf(g->code, sizeof(g->code), "%s", code);
	textf(g->street, sizeof(g->street), "%s", street ? street : "");
	free(street);
	if (query(sq,
		  "SELECT code, name FROM community WHERE grid = ? "
		  "ORDER BY code",
		  code, comm_row, g, err) ||
	    query(sq,
		  "SELECT code FROM police_area WHERE grid = ? ORDER BY code",
		  code, area_row, g, err) ||
	    query(sq,
		  "SELECT code, role, area FROM staff WHERE grid = ? "
		  "ORDER BY code",
		  code, staff_row, g, err))
		return -1;
	for (int k = 0; k < g->narea; k++) {
		struct area_fill af = {g, &g->area[k]};

		if (query(sq,
			  "SELECT community FROM area_community WHERE area = ? "
			  "ORDER BY community",
			  g->area[k].code, area_comm_row, &af, err))
			return -1;
	}
	for (int i = 0; i < g->nstaff; i++)
		if (staff_place(g, i, err))
			return -1;
	if (!g->ncomm || !g->ncoord || !g->narea)
		return gb_error(err, GB_EINVAL,
				_("grid %s lacks communities, coordinators or "
				  "police areas"),
				code);
	for (int k = 0; k < g->narea; k++)
		if (g->area[k].nofficer < 2 || !g->area[k].ncomm)
			return gb_error(err, GB_EINVAL,
					_("police area %s needs two officers "
					  "and a community"),
					g->area[k].code);
	return 0;
}

/* ---- writing records --------------------------------------------------- */

struct opts {
	const char *out;
	const char *seeds;
	uint64_t seed;
	double scale;
	int32_t from, to;
};

/* What one file being written needs. */
struct gen {
	const struct opts *o;
	const struct grid *g;
	struct gb_db *db;
	const struct gb_lookup *lk;
	const char *me; /* author staff code */
	int64_t now;	/* for defaults and validation */
	int32_t from, to;
	int64_t end_ms; /* the end of the period: nothing resolves later */
	long *count;	/* per kind, by index in gb_kinds */
	long *voided;	/* records written and then voided */
};

static struct gb_record *rec_new(const char *kind)
{
	const struct gb_kind *k = gb_kind_find(kind);

	if (!k) {
		fprintf(stderr, "gridbook-gen: no kind %s\n", kind);
		abort();
	}
	return gb_record_new(k);
}

static void set(struct gb_record *r, const char *field, const char *v)
{
	if (gb_record_set_name(r, field, v) < 0) {
		fprintf(stderr, "gridbook-gen: %s has no field %s\n",
			r->kind->name, field);
		abort();
	}
}

static void set_int(struct gb_record *r, const char *field, int64_t v)
{
	char text[32];

	textf(text, sizeof(text), "%" PRId64, v);
	set(r, field, text);
}

static void set_date(struct gb_record *r, const char *field, int32_t day)
{
	char text[16];

	gb_date_format(day, text);
	set(r, field, text);
}

static void set_money(struct gb_record *r, const char *field, int64_t fen)
{
	char text[32];

	textf(text, sizeof(text), "%" PRId64 ".%02" PRId64, fen / 100,
	      fen % 100);
	set(r, field, text);
}

/*
 * Fills defaults, validates and inserts r (which keeps its new id).  A
 * record that fails validation is a bug here, and the error says so.
 */
static int store(struct gen *gn, struct gb_record *r, struct gb_err *err)
{
	gb_record_apply_defaults(r, gn->now, gn->me);
	if (gb_validate(r, gn->lk, gn->now, err))
		return gb_error_prefix(err,
				       _("a generated %s record is invalid (a "
					 "bug in gridbook-gen)"),
				       r->kind->name);
	return db_record_insert(gn->db, r, err);
}

/* Stores r, counts it and frees it.  Its id goes into id (GB_ID_LEN
 * bytes) when id is not NULL. */
static int emit(struct gen *gn, struct gb_record *r, char *id,
		struct gb_err *err)
{
	int rc = store(gn, r, err);

	if (rc == 0) {
		if (id)
			memcpy(id, r->id, GB_ID_LEN);
		gn->count[r->kind - gb_kinds]++;
	}
	gb_record_free(r);
	return rc;
}

/* Stores r, then voids it with reason, and frees it: a record entered by
 * mistake and taken back, which the reports must not count. */
static int emit_voided(struct gen *gn, struct gb_record *r, const char *reason,
		       struct gb_err *err)
{
	int rc = store(gn, r, err);

	if (rc == 0) {
		r->voided = 1;
		gb_record_set_void_reason(r, reason);
		rc = db_record_update(gn->db, r, err);
	}
	if (rc == 0)
		(*gn->voided)++;
	gb_record_free(r);
	return rc;
}

/* Emits r unless what it records ends at last_ms, after now: the period
 * may reach today, and its values are drawn all the same, so that what
 * comes before does not depend on the clock. */
static int emit_past(struct gen *gn, struct gb_record *r, int64_t last_ms,
		     struct gb_err *err)
{
	if (last_ms > gn->now) {
		gb_record_free(r);
		return 0;
	}
	return emit(gn, r, NULL, err);
}

/* ---- dates ------------------------------------------------------------- */

static int is_workday(int32_t day)
{
	return gb_weekday(day) <= 5;
}

/* A random working day in lo..hi, or a weekend day when there is none. */
static int32_t rng_workday(struct rng *r, int32_t lo, int32_t hi)
{
	int32_t d = (int32_t)rng_range(r, lo, hi);

	for (int32_t back = d; back >= lo; back--)
		if (is_workday(back))
			return back;
	for (int32_t fwd = d; fwd <= hi; fwd++)
		if (is_workday(fwd))
			return fwd;
	return d;
}

/* The instant of local time hh:mm (minutes may pass 24 h) on day. */
static int64_t at(int32_t day, int minutes)
{
	return gb_day_start(day) + minutes * MIN_MS;
}

/* The day of the month of day. */
static int day_of_month(int32_t day)
{
	char text[16];

	gb_date_format(day, text);
	return (text[8] - '0') * 10 + (text[9] - '0');
}

/* ---- labour: enterprises ----------------------------------------------- */

struct ent {
	char id[GB_ID_LEN];
	int comm;
	enum ent_type type;
	int employees;
	int active;
	int quality; /* permille of staff with a signed contract */
	int monitored;
};

struct labour {
	struct gen *gn;
	struct rng r;
	struct ent *ent;
	int nent;
	char **names;  /* every enterprise name, to keep them unique */
	int zero_done; /* the check with no employees was made */
};

static int name_taken(const struct labour *lb, const char *name)
{
	for (int i = 0; i < lb->nent; i++)
		if (strcmp(lb->names[i], name) == 0)
			return 1;
	return 0;
}

/* A credit code (GB 32100-2015) for an enterprise of type t: the
 * organisation code inside carries its own check character (GB 11714). */
static void make_uscc(struct rng *r, enum ent_type t, char *out)
{
	static const char alnum[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	static const int w[8] = {3, 7, 9, 10, 5, 8, 4, 2};
	const char *head = t == ENT_COMPANY	 ? "91"
			   : t == ENT_INDIVIDUAL ? "92"
						 : "52";
	char org[10];
	int sum = 0, c;

	if (rng_chance(r, 600)) {
		/* Codes given since 2015 begin with MA. */
		org[0] = 'M';
		org[1] = 'A';
		for (int i = 2; i < 8; i++)
			org[i] = alnum[rng_int(r, 0, (int)sizeof(alnum) - 2)];
	} else {
		for (int i = 0; i < 8; i++)
			org[i] = (char)('0' + rng_int(r, 0, 9));
	}
	for (int i = 0; i < 8; i++) {
		int v = org[i] <= '9' ? org[i] - '0' : org[i] - 'A' + 10;

		sum += v * w[i];
	}
	c = 11 - sum % 11;
	org[8] = c == 10 ? 'X' : c == 11 ? '0' : (char)('0' + c);
	org[9] = '\0';
	textf(out, 19, "%s%s%s", head,
	      rng_chance(r, 880) ? DIVISION_DISTRICT : DIVISION_CITY, org);
	out[17] = gb_uscc_check_char(out);
	out[18] = '\0';
	if (!out[17]) {
		fprintf(stderr, "gridbook-gen: bad credit code %s\n", out);
		abort();
	}
}

/* A skewed staff count: most enterprises are small. */
static int make_employees(struct rng *r, enum ent_type t, int big)
{
	static const int lo[] = {1, 10, 30, 100, 300};
	static const int hi[] = {9, 29, 99, 299, 1200};
	static const int w_big[] = {20, 30, 27, 15, 8};
	static const int w_small[] = {46, 32, 15, 6, 1};
	int b;

	if (t == ENT_INDIVIDUAL)
		return rng_int(r, 1, 8);
	if (t == ENT_NONENT)
		return rng_int(r, 5, 60);
	b = big ? WEIGHTED(r, w_big) : WEIGHTED(r, w_small);
	return rng_int(r, lo[b], hi[b]);
}

static int make_quality(struct rng *r, enum ent_type t)
{
	static const int w[] = {25, 55, 12, 8};
	int q;

	switch (WEIGHTED(r, w)) {
	case 0:
		q = 1000;
		break;
	case 1:
		q = rng_int(r, 900, 990);
		break;
	case 2:
		q = rng_int(r, 750, 899);
		break;
	default:
		q = rng_int(r, 300, 700);
		break;
	}
	if (t == ENT_INDIVIDUAL && q > 700)
		q -= rng_int(r, 0, 150);
	return q;
}

/* Names, industry and address of one enterprise of community c. */
static void make_identity(struct labour *lb, enum ent_type t, char *name,
			  char *industry, char *addr, int *big)
{
	struct rng *r = &lb->r;
	const struct grid *g = lb->gn->g;
	char place[NAME_LEN];
	const char *road;
	int park, number;

	*big = 0;
	for (int tries = 0;; tries++) {
		if (t == ENT_COMPANY) {
			static const int w_ind[] = {22, 10, 16, 9, 9,
						    10, 4,  10, 6, 4};
			static const char *const suffix[] = {
			    "有限公司", "有限公司", "有限公司", "有限责任公司",
			    "股份有限公司"};
			const struct industry *in =
			    &industries[WEIGHTED(r, w_ind)];
			int nw = 0;

			while (nw < 10 && in->words[nw])
				nw++;
			/* One draw per statement: the order in which a
			 * call's arguments are evaluated is unspecified,
			 * and the content must not depend on the
			 * compiler. */
			const char *pre = rng_chance(r, 650)   ? CITY
					  : rng_chance(r, 500) ? DISTRICT
							       : "";
			const char *tn = PICK(r, trade);
			const char *word = in->words[rng_int(r, 0, nw - 1)];

			textf(name, NAME_LEN, "%s%s%s%s", pre, tn, word,
			      PICK(r, suffix));
			textf(industry, NAME_LEN, "%s", in->name);
			*big = in->big;
		} else if (t == ENT_INDIVIDUAL) {
			int s = rng_int(r, 0, NELEM(shops) - 1);
			const char *sn = PICK(r, surnames);

			switch (rng_int(r, 0, 3)) {
			case 0:
				textf(place, sizeof(place), "%s记", sn);
				break;
			case 1:
				textf(place, sizeof(place), "老%s", sn);
				break;
			case 2:
				textf(place, sizeof(place), "%s氏", sn);
				break;
			default:
				textf(place, sizeof(place), "%s",
				      PICK(r, trade));
				break;
			}
			textf(name, NAME_LEN, "%s%s%s%s", DISTRICT,
			      rng_chance(r, 300) ? g->street : "", place,
			      shops[s].shop);
			textf(industry, NAME_LEN, "%s", shops[s].industry);
		} else {
			int s = rng_int(r, 0, NELEM(nonents) - 1);

			textf(name, NAME_LEN, "%s%s%s", DISTRICT,
			      PICK(r, trade), nonents[s].what);
			textf(industry, NAME_LEN, "%s", nonents[s].industry);
		}
		if (!name_taken(lb, name))
			break;
		if (tries >= 20) {
			text_add(name, NAME_LEN, "", "第二分店");
			break;
		}
	}
	park = strcmp(industry, "制造业") == 0 && rng_chance(r, 600);
	road = PICK(r, roads);
	number = rng_int(r, 1, park ? 300 : 500);
	if (park)
		textf(addr, NAME_LEN, "%s%s工业园区%s%d号", DISTRICT, g->street,
		      road, number);
	else if (t == ENT_INDIVIDUAL)
		textf(addr, NAME_LEN, "%s%s%s%d号%s", DISTRICT, g->street, road,
		      number, rng_chance(r, 500) ? "临街铺面" : "");
	else
		textf(addr, NAME_LEN, "%s%s%s%d号%s", DISTRICT, g->street, road,
		      number, rng_chance(r, 400) ? "写字楼" : "");
}

static int gen_enterprises(struct labour *lb, struct gb_err *err)
{
	static const int w_type[] = {68, 27, 5};
	struct rng *r = &lb->r;
	const struct grid *g = lb->gn->g;
	int cap = 0;

	for (int c = 0; c < g->ncomm; c++) {
		int n = rng_scaled(r, rng_int(r, 8, 25), lb->gn->o->scale);

		if (n < 1)
			n = 1;
		for (int i = 0; i < n; i++) {
			char name[NAME_LEN], industry[NAME_LEN], addr[NAME_LEN],
			    uscc[20];
			enum ent_type t = (enum ent_type)WEIGHTED(r, w_type);
			struct gb_record *rec = rec_new("enterprise");
			struct ent *e;
			int big;

			if (lb->nent == cap) {
				cap = cap ? cap * 2 : 64;
				lb->ent = xrealloc(
				    lb->ent, (size_t)cap * sizeof(*lb->ent));
				lb->names =
				    xrealloc(lb->names,
					     (size_t)cap * sizeof(*lb->names));
			}
			e = &lb->ent[lb->nent];
			memset(e, 0, sizeof(*e));
			e->comm = c;
			e->type = t;
			make_identity(lb, t, name, industry, addr, &big);
			make_uscc(r, t, uscc);
			e->employees = make_employees(r, t, big);
			e->active = !rng_chance(r, 50);
			e->quality = make_quality(r, t);
			set(rec, "uscc", uscc);
			set(rec, "name", name);
			set(rec, "type", ent_type_codes[t]);
			set(rec, "community", g->comm[c].code);
			set(rec, "address", addr);
			set(rec, "industry", industry);
			set_int(rec, "employees", e->employees);
			set(rec, "status", e->active ? "active" : "closed");
			lb->names[lb->nent] = xstrdup(name);
			if (emit(lb->gn, rec, e->id, err))
				return -1;
			lb->nent++;
		}
	}
	return 0;
}

/* ---- labour: checks and follow-ups ------------------------------------- */

enum outcome { OUT_COMPLIANT, OUT_NOTICE, OUT_ORDER, OUT_REFERRED };
static const char *const outcome_codes[] = {"compliant", "notice",
					    "rectify_order", "referred"};

struct check {
	char id[GB_ID_LEN];
	int ent;
	int32_t day;
	int32_t deadline; /* 0 when none */
	enum outcome outcome;
	int total, unsigned_, uninsured, unregistered;
	int64_t arrears; /* fen */
};

static int coordinator(struct labour *lb)
{
	const struct grid *g = lb->gn->g;

	return g->coord[rng_int(&lb->r, 0, g->ncoord - 1)];
}

/* Writes a contract check from c (its id is filled in); findings text is
 * made from the numbers. */
static int write_check(struct labour *lb, struct check *c, int recheck,
		       struct gb_err *err)
{
	const struct grid *g = lb->gn->g;
	struct rng *r = &lb->r;
	struct gb_record *rec = rec_new("contract_check");
	char findings[TEXT_LEN] = "", part[NAME_LEN];

	if (recheck) {
		text_add(findings, sizeof(findings), "；",
			 "复查：已按要求整改到位");
	} else if (c->total == 0) {
		text_add(findings, sizeof(findings), "；",
			 "经营者本人经营，暂无雇工");
	} else if (c->outcome == OUT_COMPLIANT && !c->unsigned_ &&
		   !c->uninsured && !c->unregistered) {
		text_add(findings, sizeof(findings), "；",
			 PICK(r, compliant_findings));
	}
	if (c->unsigned_) {
		textf(part, sizeof(part), "未签订书面劳动合同%d人",
		      c->unsigned_);
		text_add(findings, sizeof(findings), "；", part);
	}
	if (c->uninsured) {
		textf(part, sizeof(part), "未参加社会保险%d人", c->uninsured);
		text_add(findings, sizeof(findings), "；", part);
	}
	if (c->unregistered) {
		textf(part, sizeof(part), "未办理用工备案%d人",
		      c->unregistered);
		text_add(findings, sizeof(findings), "；", part);
	}
	if (c->arrears) {
		textf(part, sizeof(part), "拖欠工资%" PRId64 "元",
		      c->arrears / 100);
		text_add(findings, sizeof(findings), "；", part);
	}
	if (c->outcome == OUT_REFERRED)
		text_add(findings, sizeof(findings), "；",
			 "涉嫌违法用工，移交劳动保障监察大队查处");
	else if (c->outcome == OUT_COMPLIANT && !recheck && c->total &&
		 (c->unsigned_ || c->uninsured || c->unregistered))
		text_add(findings, sizeof(findings), "，",
			 "情节轻微，已现场督促整改");
	set(rec, "enterprise", lb->ent[c->ent].id);
	set_date(rec, "check_date", c->day);
	set(rec, "coordinator", g->staff[coordinator(lb)].code);
	set_int(rec, "employees_total", c->total);
	set_int(rec, "contracts_signed", c->total - c->unsigned_);
	set_int(rec, "insured", c->total - c->uninsured);
	set_int(rec, "hiring_registered", c->total - c->unregistered);
	set_money(rec, "wage_arrears", c->arrears);
	set(rec, "findings", findings);
	set(rec, "outcome", outcome_codes[c->outcome]);
	if (c->deadline)
		set_date(rec, "deadline", c->deadline);
	return emit(lb->gn, rec, c->id, err);
}

/* A check entered twice by mistake, with a typo, and voided. */
static int write_voided_check(struct labour *lb, const struct check *c,
			      struct gb_err *err)
{
	const struct grid *g = lb->gn->g;
	struct gb_record *rec = rec_new("contract_check");
	int total = c->total * 10 + 1;

	set(rec, "enterprise", lb->ent[c->ent].id);
	set_date(rec, "check_date", c->day);
	set(rec, "coordinator", g->staff[coordinator(lb)].code);
	set_int(rec, "employees_total", total);
	set_int(rec, "contracts_signed", total);
	set_int(rec, "insured", total);
	set_int(rec, "hiring_registered", total);
	set_money(rec, "wage_arrears", 0);
	set(rec, "outcome", "compliant");
	return emit_voided(lb->gn, rec, "人数录入错误，重复录入，以另一条为准",
			   err);
}

/* Draws the numbers and the outcome of a first check of enterprise e. */
static void plan_check(struct labour *lb, struct check *c, int e)
{
	struct rng *r = &lb->r;
	const struct ent *en = &lb->ent[e];
	int q = en->quality, qi, qr, gap_pm;

	memset(c, 0, sizeof(*c));
	c->ent = e;
	c->day = rng_workday(r, lb->gn->from, lb->gn->to);
	c->total = en->employees +
		   rng_int(r, -(en->employees / 10), en->employees / 10);
	if (c->total < 0)
		c->total = 0;
	if (!lb->zero_done && en->type == ENT_INDIVIDUAL) {
		lb->zero_done = 1;
		c->total = 0;
		return;
	}
	qi = q - (rng_chance(r, 100) ? rng_int(r, 0, 300) : rng_int(r, 0, 60));
	qr = q + rng_int(r, 0, 60);
	qi = qi < 0 ? 0 : qi;
	qr = qr > 1000 ? 1000 : qr;
	/* Rounded, so that a small firm with a good rate has no gap. */
	c->unsigned_ = c->total - (c->total * q + 500) / 1000;
	c->uninsured = c->total - (c->total * qi + 500) / 1000;
	c->unregistered = c->total - (c->total * qr + 500) / 1000;
	if (c->uninsured < c->unsigned_ / 2)
		c->uninsured = c->unsigned_ / 2;
	if (c->total && rng_chance(r, 40)) {
		c->arrears = (int64_t)rng_int(r, 80, 3000) * 10000;
		c->arrears += rng_chance(r, 300) ? 50 : 0;
	}
	gap_pm = c->total ? c->unsigned_ * 1000 / c->total : 0;
	if ((c->arrears >= 15000000 && rng_chance(r, 500)) ||
	    (q < 500 && rng_chance(r, 250)))
		c->outcome = OUT_REFERRED;
	else if (gap_pm > 200 || c->arrears)
		c->outcome = OUT_ORDER;
	else if (gap_pm > 80 || (gap_pm > 0 && rng_chance(r, 200)) ||
		 (c->uninsured * 3 > c->total && c->uninsured > 1))
		c->outcome = OUT_NOTICE;
	else
		c->outcome = OUT_COMPLIANT;
	if (c->outcome == OUT_ORDER)
		c->deadline = c->day + rng_int(r, 7, 30);
}

/* One follow-up of check c, unless its day lies after the period. */
static int follow_up(struct labour *lb, const struct check *c, int32_t day,
		     const char *result, struct gb_err *err)
{
	struct rng *r = &lb->r;
	struct gb_record *rec;
	char note[TEXT_LEN] = "", part[NAME_LEN];

	if (day > lb->gn->to)
		return 0;
	if (day < c->day)
		day = c->day;
	rec = rec_new("rectification");
	if (strcmp(result, "rectified") == 0) {
		if (c->unsigned_) {
			textf(part, sizeof(part), "已补签劳动合同%d份",
			      c->unsigned_);
			text_add(note, sizeof(note), "；", part);
		}
		if (c->uninsured) {
			textf(part, sizeof(part), "已为%d名职工补缴社会保险",
			      c->uninsured);
			text_add(note, sizeof(note), "；", part);
		}
		if (c->arrears)
			text_add(note, sizeof(note), "；",
				 "拖欠工资已全部结清");
		if (!note[0])
			text_add(note, sizeof(note), "；", "已整改到位");
	} else if (strcmp(result, "not_yet") == 0) {
		static const char *const why[] = {
		    "企业承诺月底前完成整改", "负责人外出，约定下周再访",
		    "已整改部分，仍有职工未签合同", "企业资金紧张，申请延期"};

		text_add(note, sizeof(note), "；", PICK(r, why));
	} else {
		text_add(note, sizeof(note), "；",
			 "逾期未整改，已报请劳动保障监察大队立案查处");
	}
	set(rec, "check", c->id);
	set_date(rec, "date", day);
	set(rec, "result", result);
	set(rec, "note", note);
	return emit(lb->gn, rec, NULL, err);
}

/* A re-check after the enterprise put things right: the latest check then
 * shows the better numbers. */
static int recheck(struct labour *lb, const struct check *c, int32_t day,
		   struct gb_err *err)
{
	struct check n;

	if (day > lb->gn->to)
		return 0;
	memset(&n, 0, sizeof(n));
	n.ent = c->ent;
	n.day = day;
	n.total = c->total + rng_int(&lb->r, 0, 2);
	n.unsigned_ = rng_chance(&lb->r, 300) && n.total > 20 ? 1 : 0;
	n.outcome = OUT_COMPLIANT;
	return write_check(lb, &n, 1, err);
}

/*
 * The follow-ups of an order or a notice: most orders are rectified on
 * time, some late, some escalated, some not at all (overdue once the
 * deadline has passed).
 */
static int follow_ups(struct labour *lb, const struct check *c,
		      struct gb_err *err)
{
	static const int w_order[] = {55, 15, 8, 22};
	static const int w_notice[] = {65, 20, 15};
	struct rng *r = &lb->r;
	int32_t day = 0, dl = c->deadline;

	if (c->outcome == OUT_NOTICE) {
		switch (WEIGHTED(r, w_notice)) {
		case 0:
			day = c->day + rng_int(r, 2, 15);
			if (follow_up(lb, c, day, "rectified", err))
				return -1;
			break;
		case 1:
			if (follow_up(lb, c, c->day + rng_int(r, 3, 10),
				      "not_yet", err))
				return -1;
			break;
		default:
			break;
		}
		return day && rng_chance(r, 250)
			   ? recheck(lb, c, day + rng_int(r, 0, 5), err)
			   : 0;
	}
	switch (WEIGHTED(r, w_order)) {
	case 0: /* on time */
		if (rng_chance(r, 400) &&
		    follow_up(lb, c, c->day + (dl - c->day) / 2, "not_yet",
			      err))
			return -1;
		day = (int32_t)rng_range(r, c->day + (dl - c->day) / 2 + 1, dl);
		if (follow_up(lb, c, day, "rectified", err))
			return -1;
		break;
	case 1: /* late */
		if (follow_up(lb, c, dl, "not_yet", err))
			return -1;
		day = dl + rng_int(r, 1, 12);
		if (follow_up(lb, c, day, "rectified", err))
			return -1;
		break;
	case 2: /* escalated */
		if (follow_up(lb, c, dl - rng_int(r, 0, 2), "not_yet", err) ||
		    follow_up(lb, c, dl + rng_int(r, 1, 7), "escalated", err))
			return -1;
		break;
	default: /* nothing yet, or only a visit: overdue after dl */
		if (rng_chance(r, 500) &&
		    follow_up(lb, c, c->day + rng_int(r, 3, 10), "not_yet",
			      err))
			return -1;
		break;
	}
	if (day && day <= lb->gn->to && rng_chance(r, 300))
		return recheck(lb, c, day + rng_int(r, 0, 5), err);
	return 0;
}

static int gen_checks(struct labour *lb, struct gb_err *err)
{
	for (int e = 0; e < lb->nent; e++) {
		struct check c;

		if (!lb->ent[e].active || !rng_chance(&lb->r, 700))
			continue;
		plan_check(lb, &c, e);
		if (write_check(lb, &c, 0, err))
			return -1;
		if (rng_chance(&lb->r, 30) && write_voided_check(lb, &c, err))
			return -1;
		if ((c.outcome == OUT_NOTICE || c.outcome == OUT_ORDER) &&
		    follow_ups(lb, &c, err))
			return -1;
	}
	return 0;
}

/* ---- labour: disputes and employment ----------------------------------- */

static const char *const dispute_cats[] = {"wages", "contract", "insurance",
					   "dismissal", "other"};
static const char *const dispute_levels[] = {"community", "street", "district"};
static const char *const dispute_states[] = {"open", "mediated", "escalated",
					     "closed"};

static void dispute_note(struct rng *r, int cat, int workers, int state,
			 int level, char *out, size_t n)
{
	static const char *const other[] = {"工伤待遇争议", "加班费争议",
					    "经济补偿金争议", "年休假待遇争议"};
	static const char *const how[][4] = {
	    {"调查中", "经社区人民调解委员会调解达成协议",
	     "社区调解不成，转街道处理", "已履行完毕，结案"},
	    {"调查中", "经街道劳动争议调解中心调解达成协议",
	     "调解不成，引导申请劳动仲裁", "已履行完毕，结案"},
	    {"仲裁审理中", "仲裁庭主持调解，双方达成和解",
	     "仲裁裁决后一方起诉至法院", "仲裁裁决已执行，结案"},
	};
	char what[NAME_LEN];

	switch (cat) {
	case 0:
		textf(what, sizeof(what), "拖欠%d名职工%d个月工资", workers,
		      rng_int(r, 1, 4));
		break;
	case 1:
		textf(what, sizeof(what),
		      "%d名职工未签劳动合同，要求支付二倍工资", workers);
		break;
	case 2:
		textf(what, sizeof(what), "未依法为%d名职工缴纳社会保险",
		      workers);
		break;
	case 3:
		textf(what, sizeof(what), "违法解除劳动合同，%d名职工要求赔偿",
		      workers);
		break;
	default:
		textf(what, sizeof(what), "%s", PICK(r, other));
		break;
	}
	textf(out, n, "%s；%s", what, how[level][state]);
}

static int gen_disputes(struct labour *lb, struct gb_err *err)
{
	static const int w_cat[] = {40, 20, 15, 18, 7};
	static const int w_level[] = {50, 32, 18};
	static const int w_state[] = {20, 35, 12, 33};
	static const int w_workers[] = {45, 30, 15, 10};
	static const int wlo[] = {1, 2, 4, 10}, whi[] = {1, 3, 9, 40};
	struct gen *gn = lb->gn;
	struct rng *r = &lb->r;
	int days = gn->to - gn->from + 1;
	int n = lb->nent * days / 350 + rng_int(r, 0, 2);
	/* The first four take every status, starting anywhere, so that
	 * even a short period shows them all. */
	int soff = rng_int(r, 0, 3);

	for (int i = 0; i < n; i++) {
		struct gb_record *rec = rec_new("dispute");
		int cat = WEIGHTED(r, w_cat), b = WEIGHTED(r, w_workers);
		int workers = rng_int(r, wlo[b], whi[b]);
		int level = WEIGHTED(r, w_level);
		int state = i < 4 ? (i + soff) % 4 : WEIGHTED(r, w_state);
		int32_t got = rng_workday(r, gn->from, gn->to);
		char note[TEXT_LEN];

		if (lb->nent && rng_chance(r, 850))
			set(rec, "enterprise",
			    lb->ent[rng_int(r, 0, lb->nent - 1)].id);
		set_int(rec, "workers", workers);
		set(rec, "category", dispute_cats[cat]);
		set_date(rec, "received_date", got);
		set(rec, "level", dispute_levels[level]);
		set(rec, "status", dispute_states[state]);
		if (state == 1 || state == 3) {
			int age = gn->to - got;

			set_date(rec, "closed_date",
				 got + rng_int(r, 0, age < 20 ? age : 20));
		}
		dispute_note(r, cat, workers, state, level, note, sizeof(note));
		set(rec, "note", note);
		if (emit(gn, rec, NULL, err))
			return -1;
	}
	return 0;
}

/* Monthly employment figures, on the last working day up to the 25th,
 * for the monitored enterprises (a subset of the larger active ones). */
static int gen_employment(struct labour *lb, struct gb_err *err)
{
	struct gen *gn = lb->gn;
	struct rng *r = &lb->r;
	int *head = xcalloc((size_t)lb->nent + 1, sizeof(int));
	int rc = -1;

	for (int e = 0; e < lb->nent; e++) {
		struct ent *en = &lb->ent[e];

		en->monitored =
		    en->active && en->employees >= 10 && rng_chance(r, 400);
		head[e] = en->employees;
	}
	for (int32_t d = gn->from; d <= gn->to; d++) {
		int32_t rep = d;

		if (day_of_month(d) != 25)
			continue;
		while (!is_workday(rep))
			rep--;
		if (rep < gn->from)
			continue;
		for (int e = 0; e < lb->nent; e++) {
			struct gb_record *rec;
			int hc = head[e], hires, seps, spread;

			if (!lb->ent[e].monitored)
				continue;
			spread = hc / 12 > 1 ? hc / 12 : 1;
			hires = rng_int(r, 0, spread);
			seps = rng_int(r, 0, spread);
			hc = hc + hires - seps > 0 ? hc + hires - seps : 0;
			head[e] = hc;
			rec = rec_new("employment");
			set(rec, "enterprise", lb->ent[e].id);
			set_date(rec, "date", rep);
			set_int(rec, "headcount", hc);
			set_int(rec, "hires", hires);
			set_int(rec, "separations", seps);
			set_int(rec, "vacancies",
				rng_int(r, 0, hc / 10 > 1 ? hc / 10 : 1));
			if (emit(gn, rec, NULL, err))
				goto out;
		}
	}
	rc = 0;
out:
	free(head);
	return rc;
}

static int gen_labour(struct gen *gn, struct gb_err *err)
{
	struct labour lb;
	int rc = -1;

	memset(&lb, 0, sizeof(lb));
	lb.gn = gn;
	rng_seed(&lb.r, gn->o->seed, gn->g->code, "labour");
	if (gen_enterprises(&lb, err) || gen_checks(&lb, err) ||
	    gen_disputes(&lb, err) || gen_employment(&lb, err))
		goto out;
	rc = 0;
out:
	for (int i = 0; i < lb.nent; i++)
		free(lb.names[i]);
	free(lb.names);
	free(lb.ent);
	return rc;
}

/* ---- policing ---------------------------------------------------------- */

struct police {
	struct gen *gn;
	const struct area *a;
	struct rng r;
	int duty_offset;
};

static const char *officer_code(const struct police *p, int i)
{
	return p->gn->g->staff[p->a->officer[i]].code;
}

/* The officer on duty on day d (a plain rotation). */
static int duty(const struct police *p, int32_t d)
{
	return (int)((d + p->duty_offset) % p->a->nofficer);
}

/* k distinct guards of the area, in area order, joined with ','. */
static void pick_guards(struct police *p, int k, char *out, size_t n)
{
	int idx[MAX_PEOPLE], m = p->a->nguard, chosen[MAX_PEOPLE] = {0};

	out[0] = '\0';
	if (k > m)
		k = m;
	for (int i = 0; i < m; i++)
		idx[i] = i;
	for (int i = 0; i < k; i++) {
		int j = rng_int(&p->r, i, m - 1), t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
		chosen[idx[i]] = 1;
	}
	for (int i = 0; i < m; i++)
		if (chosen[i])
			text_add(out, n, ",",
				 p->gn->g->staff[p->a->guard[i]].code);
}

/* Some or all of the area's communities, in area order. */
static void pick_communities(struct police *p, char *out, size_t n)
{
	const struct area *a = p->a;
	int all = rng_chance(&p->r, 500), any = 0;

	out[0] = '\0';
	for (int i = 0; i < a->ncomm; i++) {
		if (!all && !rng_chance(&p->r, 500))
			continue;
		text_add(out, n, ",", p->gn->g->comm[a->comm[i]].code);
		any = 1;
	}
	if (!any)
		text_add(
		    out, n, ",",
		    p->gn->g->comm[a->comm[rng_int(&p->r, 0, a->ncomm - 1)]]
			.code);
}

static int patrol(struct police *p, int64_t start, int64_t end, int leader,
		  int guards, struct gb_err *err)
{
	static const char *const modes[] = {"foot", "bicycle", "vehicle"};
	static const int w_mode[] = {45, 20, 35};
	static const int w_inc[] = {85, 12, 3};
	struct rng *r = &p->r;
	struct gb_record *rec;
	char list[NAME_LEN * 2];

	rec = rec_new("patrol");
	set(rec, "area", p->a->code);
	set_int(rec, "start", start);
	set_int(rec, "end", end);
	set(rec, "leader", officer_code(p, leader));
	pick_guards(p, guards, list, sizeof(list));
	if (list[0])
		set(rec, "guards", list);
	set(rec, "mode", modes[WEIGHTED(r, w_mode)]);
	pick_communities(p, list, sizeof(list));
	set(rec, "communities", list);
	set_int(rec, "incidents", WEIGHTED(r, w_inc));
	if (rng_chance(r, 600))
		set(rec, "note", PICK(r, patrol_notes));
	return emit_past(p->gn, rec, end, err);
}

/*
 * The night patrol of night d (usually 22:00-01:30 style, often crossing
 * midnight, led by the officer on duty with two or three guards), missed
 * on some nights, sometimes with a single guard or ended before 22:00;
 * and a day patrol on about half the days.
 */
static int patrols(struct police *p, int32_t d, int miss, struct gb_err *err)
{
	static const int w_style[] = {93, 3, 4};
	static const int w_guards[] = {6, 68, 26};
	struct rng *r = &p->r;
	int leader = rng_chance(r, 800) ? duty(p, d) : 0;
	int style = WEIGHTED(r, w_style), guards = WEIGHTED(r, w_guards) + 1;
	int start, len;

	if (!rng_chance(r, miss)) {
		if (style == 0) {
			start = 21 * 60 + 30 + 10 * rng_int(r, 0, 9);
			len = 90 + 10 * rng_int(r, 0, 15);
		} else if (style == 1) {
			/* An evening patrol that stops before the night. */
			start = 19 * 60 + 10 * rng_int(r, 0, 6);
			len = rng_int(r, 60, 21 * 60 + 50 - start);
		} else {
			/* A late one, in the small hours. */
			start = 24 * 60 + 30 + 10 * rng_int(r, 0, 12);
			len = 60 + 10 * rng_int(r, 0, 9);
		}
		if (patrol(p, at(d, start), at(d, start + len), leader, guards,
			   err))
			return -1;
	}
	if (rng_chance(r, is_workday(d) ? 450 : 250)) {
		start = 9 * 60 + 30 * rng_int(r, 0, 13);
		len = 60 + 30 * rng_int(r, 0, 3);
		leader = rng_int(r, 0, p->a->nofficer - 1);
		guards = rng_int(r, 0, 2);
		if (patrol(p, at(d, start), at(d, start + len), leader, guards,
			   err))
			return -1;
	}
	return 0;
}

static int handover(struct police *p, int32_t d, struct gb_err *err)
{
	const struct grid *g = p->gn->g;
	struct rng *r = &p->r;
	struct gb_record *rec;
	char items[TEXT_LEN] = "", item[NAME_LEN];
	int64_t when = at(d, 8 * 60 + rng_int(r, 0, 59));

	if (rng_chance(r, 40))
		return 0;
	rec = rec_new("handover");
	set(rec, "area", p->a->code);
	set_int(rec, "time", when);
	set(rec, "from_officer", officer_code(p, duty(p, d - 1)));
	set(rec, "to_officer", officer_code(p, duty(p, d)));
	for (int i = rng_chance(r, 450) ? rng_int(r, 1, 2) : 0; i > 0; i--) {
		const char *where =
		    g->comm[p->a->comm[rng_int(r, 0, p->a->ncomm - 1)]].name;

		textf(item, sizeof(item), "%s%s", where, PICK(r, open_items));
		text_add(items, sizeof(items), "；", item);
	}
	if (items[0])
		set(rec, "open_items", items);
	if (rng_chance(r, 500))
		set(rec, "note", PICK(r, handover_notes));
	return emit_past(p->gn, rec, when, err);
}

static int daily_report(struct police *p, int officer, int32_t d,
			struct gb_err *err)
{
	const struct grid *g = p->gn->g;
	struct rng *r = &p->r;
	struct gb_record *rec = rec_new("daily_report");
	int hh = rng_int(r, 3, 25), res = rng_int(r, 2, 20);
	int tmp = rng_int(r, 0, 12), places = rng_int(r, 1, 8);
	char summary[TEXT_LEN];

	set(rec, "officer", officer_code(p, officer));
	set_date(rec, "date", d);
	set_int(rec, "households", hh);
	set_int(rec, "resident_checks", res);
	set_int(rec, "temporary_checks", tmp);
	set_int(rec, "key_checks", rng_int(r, 0, 3));
	set_int(rec, "places", places);
	set_int(rec, "disputes_mediated",
		rng_chance(r, 300) ? rng_int(r, 1, 2) : 0);
	textf(summary, sizeof(summary),
	      "走访%s住户%d户，核查常住人口%d人、暂住人口%d人，检查出租屋及"
	      "场所%d处",
	      g->comm[p->a->comm[rng_int(r, 0, p->a->ncomm - 1)]].name, hh, res,
	      tmp, places);
	if (rng_chance(r, 500))
		text_add(summary, sizeof(summary), "；",
			 PICK(r, report_extras));
	set(rec, "summary", summary);
	return emit(p->gn, rec, NULL, err);
}

static int reception(struct police *p, int officer, int32_t d, int low,
		     struct gb_err *err)
{
	struct rng *r = &p->r;
	struct gb_record *rec;
	int start = 8 * 60 + 30 + 30 * rng_int(r, 0, 14);
	int len = low ? 60 + 30 * rng_int(r, 0, 1) : 60 + 30 * rng_int(r, 0, 4);
	int64_t t0 = at(d, start), t1 = at(d, start + len);

	rec = rec_new("reception");
	set(rec, "officer", officer_code(p, officer));
	set(rec, "room", p->a->code);
	set_int(rec, "start", t0);
	set_int(rec, "end", t1);
	set_int(rec, "visitors", rng_int(r, 0, len / 20));
	return emit_past(p->gn, rec, t1, err);
}

/* How long a request takes: mostly within its deadline, some late, a few
 * never resolved.  Returns the resolution instant, or -1 for none. */
static int64_t resolve_at(struct rng *r, int64_t got, int64_t deadline,
			  int prio)
{
	static const int w_fate[] = {85, 12, 3};
	static const int64_t late_max[] = {2 * HOUR_MS, 48 * HOUR_MS,
					   72 * HOUR_MS};
	int64_t room = deadline - got;

	switch (WEIGHTED(r, w_fate)) {
	case 0:
		if (prio == 0)
			return got + rng_range(r, 5, 60) * MIN_MS;
		if (prio == 1 && rng_chance(r, 700))
			return got + rng_range(r, 20, 240) * MIN_MS;
		return got + rng_range(r, 30 * MIN_MS, room);
	case 1:
		return deadline + rng_range(r, MIN_MS, late_max[prio]);
	default:
		return -1;
	}
}

static int request(struct police *p, int32_t d, struct gb_err *err)
{
	static const char *const channels[] = {"phone", "walk_in", "online"};
	static const char *const cats[] = {"alarm", "help", "inquiry"};
	static const char *const prios[] = {"urgent", "normal", "low"};
	static const int w_channel[] = {55, 30, 15}, w_cat[] = {20, 45, 35};
	static const int w_prio[][3] = {{80, 20, 0}, {15, 70, 15}, {0, 50, 50}};
	struct rng *r = &p->r;
	struct gen *gn = p->gn;
	struct gb_record *rec;
	int minute = rng_chance(r, 700)	  ? rng_int(r, 8 * 60, 20 * 60 - 1)
		     : rng_chance(r, 500) ? rng_int(r, 20 * 60, 24 * 60 - 1)
					  : rng_int(r, 0, 8 * 60 - 1);
	int64_t got = at(d, minute) + rng_int(r, 0, 59) * 1000;
	int channel = WEIGHTED(r, w_channel), cat = WEIGHTED(r, w_cat);
	int prio = rng_weighted(r, w_prio[cat], 3);
	int officer =
	    rng_chance(r, 600) ? duty(p, d) : rng_int(r, 0, p->a->nofficer - 1);
	int64_t deadline = gb_request_deadline(got, prios[prio]);
	int64_t done = resolve_at(r, got, deadline, prio);
	const char *subject, *result;

	subject = cat == 0   ? PICK(r, alarm_subjects)
		  : cat == 1 ? PICK(r, help_subjects)
			     : PICK(r, inquiry_subjects);
	result = cat == 0   ? PICK(r, alarm_results)
		 : cat == 1 ? PICK(r, help_results)
			    : PICK(r, inquiry_results);
	if (done >= gn->end_ms || done > gn->now)
		done = -1;
	rec = rec_new("request");
	set(rec, "area", p->a->code);
	set_int(rec, "received_at", got);
	set(rec, "channel", channels[channel]);
	set(rec, "category", cats[cat]);
	set(rec, "priority", prios[prio]);
	set(rec, "officer", officer_code(p, officer));
	set(rec, "subject", subject);
	if (done >= 0) {
		set_int(rec, "resolved_at", done);
		set(rec, "result", result);
	}
	return emit_past(gn, rec, got, err);
}

static int gen_area(struct gen *gn, const struct area *a, struct gb_err *err)
{
	struct police p;
	int gap[MAX_PEOPLE], low[MAX_PEOPLE], miss;
	static const int w_gap[] = {70, 20, 10};

	memset(&p, 0, sizeof(p));
	p.gn = gn;
	p.a = a;
	rng_seed(&p.r, gn->o->seed, gn->g->code, a->code);
	p.duty_offset = rng_int(&p.r, 0, a->nofficer - 1);
	/* Most areas patrol nearly every night; a few miss many. */
	miss = rng_chance(&p.r, 150) ? rng_int(&p.r, 150, 300)
				     : rng_int(&p.r, 0, 50);
	for (int i = 0; i < a->nofficer; i++) {
		switch (WEIGHTED(&p.r, w_gap)) {
		case 0:
			gap[i] = rng_int(&p.r, 20, 60);
			break;
		case 1:
			gap[i] = rng_int(&p.r, 80, 150);
			break;
		default:
			gap[i] = rng_int(&p.r, 200, 350);
			break;
		}
		low[i] = rng_chance(&p.r, 150);
	}
	for (int32_t d = gn->from; d <= gn->to; d++) {
		int n = rng_scaled(&p.r, rng_int(&p.r, 0, 5), gn->o->scale);

		if (patrols(&p, d, miss, err) || handover(&p, d, err))
			return -1;
		for (int i = 0; i < n; i++)
			if (request(&p, d, err))
				return -1;
		/* Daily reports are due every day (每日工作报告制度);
		 * the police room is staffed on working days. */
		for (int i = 0; i < a->nofficer; i++)
			if (!rng_chance(&p.r, gap[i]) &&
			    daily_report(&p, i, d, err))
				return -1;
		if (!is_workday(d))
			continue;
		for (int i = 0; i < a->nofficer; i++) {
			if (rng_chance(&p.r, low[i] ? 400 : 850) &&
			    reception(&p, i, d, low[i], err))
				return -1;
		}
	}
	return 0;
}

static int gen_police(struct gen *gn, struct gb_err *err)
{
	for (int k = 0; k < gn->g->narea; k++)
		if (gen_area(gn, &gn->g->area[k], err))
			return -1;
	return 0;
}

/* ---- files and the run ------------------------------------------------- */

/* Removes a grid file and what SQLite may have left beside it. */
static void remove_file(const char *path)
{
	static const char *const ext[] = {"", "-journal", "-wal", "-shm"};

	for (int i = 0; i < NELEM(ext); i++) {
		char *p = xasprintf("%s%s", path, ext[i]);

		unlink(p);
		free(p);
	}
}

/*
 * Makes DIR/<grid>-<what>.db and fills it with gen_labour or gen_police in
 * one transaction.  While *have_ref is 0, the grid's reference data is
 * first read into ref from the new file.  On failure the file is removed
 * and err names it.
 */
static int make_file(const struct opts *o, const char *grid, const char *what,
		     struct grid *ref, int *have_ref,
		     int (*fill)(struct gen *gn, struct gb_err *err),
		     long *count, long *voided, struct gb_err *err)
{
	char *path = xasprintf("%s/%s-%s.db", o->out, grid, what);
	struct gb_db *db = NULL;
	struct gen gn;
	const char *me;
	int rc = -1;

	/* db_open names the file in its messages; the rest are prefixed. */
	if (db_open(&db, path, DB_CREATE, err)) {
		free(path);
		return -1;
	}
	if (db_load_seeds(db, o->seeds, grid, err))
		goto out;
	if (!*have_ref) {
		if (grid_read(ref, db, grid, err))
			goto out;
		*have_ref = 1;
	}
	if (strcmp(what, "labour") == 0)
		me = ref->staff[ref->coord[0]].code;
	else
		me = ref->staff[ref->area[0].officer[0]].code;
	if (db_meta_set(db, "staff", me, err))
		goto out;
	memset(&gn, 0, sizeof(gn));
	gn.o = o;
	gn.g = ref;
	gn.db = db;
	gn.lk = db_lookup(db);
	gn.me = me;
	gn.now = gb_now_ms();
	gn.from = o->from;
	gn.to = o->to;
	gn.end_ms = gb_day_start(o->to + 1);
	gn.count = count;
	gn.voided = voided;
	if (db_begin(db, err))
		goto out;
	if (fill(&gn, err)) {
		db_rollback(db);
		goto out;
	}
	if (db_commit(db, err))
		goto out;
	rc = 0;
out:
	db_close(db);
	if (rc) {
		gb_error_prefix(err, "%s", path);
		remove_file(path);
	}
	free(path);
	return rc;
}

/* Prints "label: enterprise N, ..." for the kinds with a count. */
static void print_counts(const char *label, const long *count, long voided)
{
	long all = 0;

	fprintf(stderr, "%s:", label);
	for (int k = 0; k < gb_nkinds && k < MAX_KINDS; k++) {
		fprintf(stderr, "%s %s %ld", k ? "," : "", gb_kinds[k].name,
			count[k]);
		all += count[k];
	}
	fprintf(stderr, _("; %ld records"), all);
	if (voided)
		fprintf(stderr, _(" (and %ld voided)"), voided);
	fprintf(stderr, "\n");
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads the grid codes of the seeds (grids.csv) into a NULL-terminated
 * array the caller frees with free_list(). */
static char **read_grids(const char *dir, struct gb_err *err)
{
	char *path = xasprintf("%s/grids.csv", dir);
	FILE *fp = fopen(path, "r");
	struct gb_csv c;
	char **list = NULL;
	int n = 0, cap = 0, row, col = -1, first = 1;

	if (!fp) {
		gb_error(err, GB_EIO, _("cannot open %s: %s"), path,
			 strerror(errno));
		free(path);
		return NULL;
	}
	gb_csv_init(&c, fp);
	for (;;) {
		row = gb_csv_next(&c, err);
		if (row != 1)
			break;
		if (first) {
			for (int i = 0; i < c.nfields; i++)
				if (strcmp(c.field[i], "code") == 0)
					col = i;
			first = 0;
			if (col < 0)
				break;
			continue;
		}
		if (col >= c.nfields)
			continue;
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 64;
			list = xrealloc(list, (size_t)cap * sizeof(*list));
		}
		list[n++] = xstrdup(c.field[col]);
		list[n] = NULL;
	}
	if (row >= 0 && col < 0)
		gb_error(err, GB_EINVAL, _("%s has no code column"), path);
	if (row < 0 || col < 0 || !n) {
		if (row >= 0 && col >= 0)
			gb_error(err, GB_EINVAL, _("%s names no grid"), path);
		for (int i = 0; i < n; i++)
			free(list[i]);
		free(list);
		list = NULL;
	}
	gb_csv_release(&c);
	fclose(fp);
	free(path);
	return list;
}

static void free_list(char **list)
{
	for (int i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

/* The grids asked for with --grids ("all", or codes joined with ','),
 * each once, in the order given; NULL with err when one is unknown. */
static char **pick_grids(char **known, const char *spec, struct gb_err *err)
{
	char **list = NULL;
	int n = 0, cap = 0;
	char *copy = xstrdup(spec), *p = copy;

	if (strcmp(spec, "all") == 0) {
		for (int i = 0; known[i]; i++) {
			list = xrealloc(list, (size_t)(i + 2) * sizeof(*list));
			list[i] = xstrdup(known[i]);
			list[i + 1] = NULL;
		}
		free(copy);
		return list;
	}
	while (p) {
		char *comma = strchr(p, ',');
		int found = 0, dup = 0;

		if (comma)
			*comma = '\0';
		for (int i = 0; known[i]; i++)
			found |= strcmp(known[i], p) == 0;
		for (int i = 0; i < n; i++)
			dup |= strcmp(list[i], p) == 0;
		if (!found) {
			gb_error(err, GB_EUSAGE,
				 _("--grids: no grid \"%s\" in the seeds"), p);
			free_list(list);
			free(copy);
			return NULL;
		}
		if (!dup) {
			if (n + 2 > cap) {
				cap = cap ? cap * 2 : 8;
				list =
				    xrealloc(list, (size_t)cap * sizeof(*list));
			}
			list[n++] = xstrdup(p);
			list[n] = NULL;
		}
		p = comma ? comma + 1 : NULL;
	}
	free(copy);
	return list;
}

static void usage(FILE *fp)
{
	fprintf(
	    fp,
	    _("usage: gridbook-gen --out DIR [--seed N] [--grids LIST|all]\n"
	      "                    [--from YYYY-MM-DD] [--to YYYY-MM-DD] "
	      "[--scale F]\n"
	      "                    [--seeds DIR]\n\n"
	      "Makes, for each grid, DIR/<grid>-labour.db (entered by the "
	      "grid's first\n"
	      "coordinator) and DIR/<grid>-police.db (entered by the chief "
	      "of its first\n"
	      "police area), and fills them with a period of realistic "
	      "field work.  The\n"
	      "same seed, grids, period and scale give the same record "
	      "content; only ids,\n"
	      "versions and timestamps differ.\n\n"
	      "  --out DIR      where the files go (made if missing; the "
	      "files must not exist)\n"
	      "  --seed N       the random seed (default 1)\n"
	      "  --grids LIST   grid codes joined with ',' or all (the "
	      "default)\n"
	      "  --from, --to   the period, local dates inclusive (default "
	      "the 30 days\n"
	      "                 ending yesterday); --to may not be after "
	      "today\n"
	      "  --scale F      multiplies the number of enterprises and of "
	      "public\n"
	      "                 requests (default 1)\n"
	      "  --seeds DIR    the reference data (default "
	      "$GRIDBOOK_SEEDS, else %s)\n"),
	    GB_SEEDDIR);
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "gridbook-gen: %s\n", msg);
	fprintf(stderr, _("try gridbook-gen --help\n"));
	return 2;
}

/* Parses the options into o and *grids_spec; returns 0, 1 after --help,
 * or -1 with err. */
static int parse_args(int argc, char **argv, struct opts *o,
		      const char **grids_spec, struct gb_err *err)
{
	static const struct option longopts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"seed", required_argument, NULL, 's'},
	    {"grids", required_argument, NULL, 'g'},
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {"scale", required_argument, NULL, 'x'},
	    {"seeds", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *from = NULL, *to = NULL;
	int32_t today = gb_today();
	char *end;
	int ch;

	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->scale = 1.0;
	*grids_spec = "all";
	opterr = 0;
	for (;;) {
		ch = getopt_long(argc, argv, "h", longopts, NULL);
		if (ch == -1)
			break;
		switch (ch) {
		case 'o':
			o->out = optarg;
			break;
		case 's':
			errno = 0;
			o->seed = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-')
				return gb_error(err, GB_EUSAGE,
						_("--seed: \"%s\" is not a "
						  "number"),
						optarg);
			break;
		case 'g':
			*grids_spec = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'x':
			errno = 0;
			o->scale = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !(o->scale > 0 && o->scale <= 100))
				return gb_error(err, GB_EUSAGE,
						_("--scale: \"%s\" is not a "
						  "number above 0 and up to "
						  "100"),
						optarg);
			break;
		case 'S':
			o->seeds = optarg;
			break;
		case 'h':
			return 1;
		default:
			return gb_error(err, GB_EUSAGE,
					_("unknown option or missing value: "
					  "%s"),
					argv[optind - 1]);
		}
	}
	if (optind < argc)
		return gb_error(err, GB_EUSAGE, _("unexpected argument: %s"),
				argv[optind]);
	if (!o->out || !*o->out)
		return gb_error(err, GB_EUSAGE, _("--out is required"));
	if (!o->seeds || !*o->seeds)
		o->seeds = getenv("GRIDBOOK_SEEDS");
	if (!o->seeds || !*o->seeds)
		o->seeds = GB_SEEDDIR;
	o->to = today - 1;
	if (to && gb_date_parse(to, &o->to, err))
		return gb_error_prefix(err, "--to");
	o->from = o->to - 29;
	if (from && gb_date_parse(from, &o->from, err))
		return gb_error_prefix(err, "--from");
	if (o->to > today)
		return gb_error(err, GB_EUSAGE, _("--to: %s is after today"),
				to);
	if (o->from > o->to)
		return gb_error(err, GB_EUSAGE, _("--from is after --to"));
	if (o->from < EPOCH_2000 || o->to - o->from >= MAX_DAYS)
		return gb_error(err, GB_EUSAGE,
				_("the period must start on or after "
				  "2000-01-01 and last at most %d days"),
				MAX_DAYS);
	return 0;
}

int main(int argc, char **argv)
{
	long total[MAX_KINDS] = {0}, total_voided = 0;
	const char *grids_spec;
	char **known = NULL, **grids = NULL;
	char from[16], to[16], label[128];
	int tty = isatty(STDERR_FILENO), ngrids = 0, status = 1, rc;
	struct gb_err err;
	struct opts o;
	struct stat sb;
	double t0 = mono_s();

	gb_i18n_init();
	gb_err_clear(&err);
	if (gb_nkinds > MAX_KINDS) {
		fprintf(stderr, "gridbook-gen: more than %d kinds\n",
			MAX_KINDS);
		return 1;
	}
	rc = parse_args(argc, argv, &o, &grids_spec, &err);
	if (rc > 0) {
		usage(stdout);
		return 0;
	}
	if (rc < 0)
		return usage_error(err.msg);
	known = read_grids(o.seeds, &err);
	if (!known)
		goto fail;
	grids = pick_grids(known, grids_spec, &err);
	if (!grids) {
		free_list(known);
		return usage_error(err.msg);
	}
	if (mkdir(o.out, 0755) != 0 && errno != EEXIST) {
		gb_error(&err, GB_EIO, _("cannot make %s: %s"), o.out,
			 strerror(errno));
		goto fail;
	}
	if (stat(o.out, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		gb_error(&err, GB_EIO, _("%s is not a directory"), o.out);
		goto fail;
	}
	while (grids[ngrids])
		ngrids++;
	gb_date_format(o.from, from);
	gb_date_format(o.to, to);
	for (int i = 0; i < ngrids; i++) {
		long count[MAX_KINDS] = {0}, voided = 0;
		struct grid ref;
		int have = 0;

		if (tty)
			fprintf(stderr, "\r[%d/%d] %s ...", i + 1, ngrids,
				grids[i]);
		if (make_file(&o, grids[i], "labour", &ref, &have, gen_labour,
			      count, &voided, &err) ||
		    make_file(&o, grids[i], "police", &ref, &have, gen_police,
			      count, &voided, &err)) {
			if (tty)
				fprintf(stderr, "\r%-40s\r", "");
			goto fail;
		}
		if (tty)
			fprintf(stderr, "\r%-40s\r", "");
		print_counts(grids[i], count, voided);
		for (int k = 0; k < MAX_KINDS; k++)
			total[k] += count[k];
		total_voided += voided;
	}
	textf(label, sizeof(label),
	      _("total, %d grids, %s..%s, seed %" PRIu64 ", %.1f s"), ngrids,
	      from, to, o.seed, mono_s() - t0);
	print_counts(label, total, total_voided);
	status = 0;
	goto out;
fail:
	fprintf(stderr, "gridbook-gen: %s\n", err.msg);
out:
	free_list(grids);
	free_list(known);
	return status;
}
