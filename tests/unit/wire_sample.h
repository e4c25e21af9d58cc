/*
 * Realistic sample records for the wire tests and bench/wire_dump: a day's
 * work in grid S03-G2 of the reference district (its communities, police
 * areas and staff as in seeds/), all ten kinds, Chinese names and notes.
 * The generator is deterministic (a fixed linear congruential sequence),
 * so sizes and compression ratios measured on its output are repeatable.
 */
#ifndef GB_WIRE_SAMPLE_H
#define GB_WIRE_SAMPLE_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gbtime.h"
#include "kinds.h"
#include "record.h"
#include "uscc.h"

#define SAMPLE_GRID "S03-G2"
#define SAMPLE_DEVICE "0195a3c2-7b10-7c4e-9a51-3f6d2e8b1c07"
/* 2025-03-03 08:00 in Shanghai. */
#define SAMPLE_START INT64_C(1740960000000)
#define SAMPLE_MAX_ENT 64

struct sample {
	uint64_t rng;
	int64_t now;
	uint16_t seq;
	int nent, ncheck;
	char ent[SAMPLE_MAX_ENT][GB_ID_LEN];
	char check[SAMPLE_MAX_ENT][GB_ID_LEN];
};

#define SAMPLE_N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const sample_communities[] = {
    "S03-C06", "S03-C07", "S03-C08", "S03-C09", "S03-C10"};
static const char *const sample_areas[] = {"PA-22", "PA-23"};
static const char *const sample_coords[] = {"K0018", "K0019"};
static const char *const sample_officers[] = {
    "J0079", "J0080", "J0081", "J0082", "J0083", "J0084", "J0085"};
static const char *const sample_guards[] = {"B0055", "B0056", "B0057",
					    "B0058", "B0059", "B0060"};
static const char *const sample_brands[] = {
    "鑫达", "华联", "恒泰", "众诚", "博远", "金鹏", "瑞丰", "宏图",
    "永盛", "天成", "佳美", "新源", "汇通", "盛世", "德润", "和顺",
    "兴旺", "明辉", "安康", "锦程", "嘉禾", "东方", "福临", "沙河"};
static const char *const sample_trades[] = {
    "科技",	"商贸", "餐饮管理", "建筑工程", "物业管理",
    "电子",	"服装", "物流",	    "家政服务", "装饰工程",
    "医疗器械", "食品", "汽车维修", "广告传媒", "教育咨询"};
static const char *const sample_shops[] = {"面馆",   "便利店", "五金店",
					   "理发店", "水果店", "餐馆"};
static const char *const sample_surnames[] = {"王", "李", "张", "刘", "陈",
					      "杨", "黄", "赵", "周", "吴"};
static const char *const sample_industries[] = {
    "制造业",
    "批发和零售业",
    "住宿和餐饮业",
    "建筑业",
    "信息传输、软件和信息技术服务业",
    "居民服务、修理和其他服务业",
    "交通运输、仓储和邮政业",
    "租赁和商务服务业"};
static const char *const sample_roads[] = {"人民路", "建设路", "解放路",
					   "滨江路", "沙河路", "福寿路",
					   "明德路", "团结路", "绿茵路"};
static const char *const sample_findings[] = {
    "劳动合同签订率偏低，已现场指导补签",
    "未按规定办理用工备案，已告知限期补办",
    "社会保险参保人数与在职人数不符，要求说明情况",
    "工资发放台账齐全，无异常",
    "存在拖欠工资情况，已责令限期整改",
    "新招用工人员未签订书面劳动合同"};
static const char *const sample_patrol_notes[] = {
    "巡逻正常，无异常", "发现一处消防通道堵塞，已通知物业处理",
    "劝离夜间聚集人员3名，现场秩序良好",
    "检查沿街商铺安全防范情况，提醒关好门窗", "重点路段巡查，未发现可疑情况"};
static const char *const sample_open_items[] = {
    "沙河社区邻里纠纷待回访", "明德路监控故障已报修，待维修",
    "福寿社区独居老人需每周走访", "无"};
static const char *const sample_summaries[] = {
    "走访辖区住户，核查流动人口信息，开展反诈宣传",
    "入户走访，登记出租房屋，排查安全隐患", "参加社区联席会议，调处矛盾纠纷"};
static const char *const sample_subjects[] = {
    "邻居装修噪音扰民", "老人走失求助", "咨询居住证办理", "电动车被盗报警",
    "钥匙遗失求助开锁"};
static const char *const sample_results[] = {"已联系家属接回",
					     "已出警调解，双方达成谅解",
					     "已告知办理流程", "已立案调查"};
static const char *const sample_reception_notes[] = {
    "群众咨询户籍办理流程", "调解邻里噪音纠纷", "受理证件遗失登记"};
static const char *const sample_dispute_notes[] = {
    "员工反映被拖欠两个月工资，经社区调解达成还款协议",
    "解除劳动合同未支付经济补偿，已转街道调解",
    "未缴纳社会保险，已告知劳动保障监察投诉渠道"};

static inline uint32_t sample_rand(struct sample *s)
{
	s->rng = s->rng * UINT64_C(6364136223846793005) +
		 UINT64_C(1442695040888963407);
	return (uint32_t)(s->rng >> 33);
}

static inline const char *sample_pick(struct sample *s, const char *const *a,
				      size_t n)
{
	return a[sample_rand(s) % n];
}

#define SAMPLE_PICK(s, a) sample_pick((s), (a), SAMPLE_N(a))

static inline void sample_init(struct sample *s)
{
	memset(s, 0, sizeof(*s));
	s->rng = UINT64_C(20250303);
	s->now = SAMPLE_START;
}

/* A UUIDv7 for ms: the time, a counter, then pseudo-random bits. */
static inline void sample_uuid(struct sample *s, int64_t ms, char *out)
{
	uint32_t a = sample_rand(s), b = sample_rand(s);
	uint32_t c = sample_rand(s);

	snprintf(out, GB_ID_LEN, "%08" PRIx32 "-%04x-7%03x-%04x-%04x%08" PRIx32,
		 (uint32_t)(ms >> 16), (unsigned)(ms & 0xffff),
		 (unsigned)(s->seq++ & 0xfff),
		 (unsigned)(0x8000 | (a & 0x3fff)), (unsigned)(b & 0xffff), c);
}

static inline void sample_setf(struct gb_record *r, const char *field,
			       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline void sample_setf(struct gb_record *r, const char *field,
			       const char *fmt, ...)
{
	char v[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	gb_record_set_name(r, field, v);
}

static inline void sample_date(struct gb_record *r, const char *field,
			       int64_t ms)
{
	char d[16];

	gb_date_format(gb_local_day(ms), d);
	gb_record_set_name(r, field, d);
}

static inline void sample_enterprise(struct sample *s, struct gb_record *r)
{
	static const char alnum[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	const char *cat;
	char code[19];
	uint32_t kind = sample_rand(s) % 10;

	/* Registered in Jinhua (330782); a company's organisation code
	 * since 2015 starts "MA". */
	cat = kind < 7 ? "91330782MA" : kind < 9 ? "92330782MA" : "52330782MJ";
	memcpy(code, cat, 10);
	for (int i = 10; i < 17; i++)
		code[i] = alnum[sample_rand(s) % 31];
	code[17] = '\0';
	code[17] = gb_uscc_check_char(code);
	code[18] = '\0';
	gb_record_set_name(r, "uscc", code);
	if (kind < 7) {
		sample_setf(r, "name", "望川%s%s有限公司",
			    SAMPLE_PICK(s, sample_brands),
			    SAMPLE_PICK(s, sample_trades));
		gb_record_set_name(r, "type", "company");
	} else if (kind < 9) {
		sample_setf(r, "name", "望川区%s记%s",
			    SAMPLE_PICK(s, sample_surnames),
			    SAMPLE_PICK(s, sample_shops));
		gb_record_set_name(r, "type", "individual");
	} else {
		sample_setf(r, "name", "望川区%s职业培训学校",
			    SAMPLE_PICK(s, sample_brands));
		gb_record_set_name(r, "type", "non_enterprise");
	}
	gb_record_set_name(r, "community", SAMPLE_PICK(s, sample_communities));
	sample_setf(r, "address", "临江街道%s%" PRIu32 "号",
		    SAMPLE_PICK(s, sample_roads), 1 + sample_rand(s) % 300);
	gb_record_set_name(r, "industry", SAMPLE_PICK(s, sample_industries));
	sample_setf(r, "employees", "%" PRIu32, 3 + sample_rand(s) % 200);
	gb_record_set_name(r, "status",
			   sample_rand(s) % 20 ? "active" : "closed");
	if (s->nent < SAMPLE_MAX_ENT)
		memcpy(s->ent[s->nent++], r->id, GB_ID_LEN);
}

/* An enterprise id seen before, or a made-up one. */
static inline void sample_ent_ref(struct sample *s, struct gb_record *r,
				  const char *field)
{
	char id[GB_ID_LEN];

	if (s->nent)
		gb_record_set_name(r, field,
				   s->ent[sample_rand(s) % (unsigned)s->nent]);
	else {
		sample_uuid(s, s->now - 86400000, id);
		gb_record_set_name(r, field, id);
	}
}

static inline void sample_check(struct sample *s, struct gb_record *r)
{
	uint32_t total = 5 + sample_rand(s) % 120;
	uint32_t o = sample_rand(s) % 4;

	sample_ent_ref(s, r, "enterprise");
	sample_date(r, "check_date", s->now);
	gb_record_set_name(r, "coordinator", r->staff);
	sample_setf(r, "employees_total", "%" PRIu32, total);
	sample_setf(r, "contracts_signed", "%" PRIu32,
		    total - sample_rand(s) % (total / 4 + 1));
	sample_setf(r, "insured", "%" PRIu32,
		    total - sample_rand(s) % (total / 3 + 1));
	sample_setf(r, "hiring_registered", "%" PRIu32, total);
	if (sample_rand(s) % 4 == 0)
		sample_setf(r, "wage_arrears", "%" PRIu32 ".%02u",
			    1000 + sample_rand(s) % 90000,
			    (unsigned)(sample_rand(s) % 2) * 50);
	else
		gb_record_set_name(r, "wage_arrears", "0.00");
	gb_record_set_name(r, "findings", SAMPLE_PICK(s, sample_findings));
	gb_record_set_name(r, "outcome",
			   (const char *[]){"compliant", "notice",
					    "rectify_order", "referred"}[o]);
	if (o == 2)
		sample_date(r, "deadline", s->now + 15 * GB_MS_PER_DAY);
	if (s->ncheck < SAMPLE_MAX_ENT)
		memcpy(s->check[s->ncheck++], r->id, GB_ID_LEN);
}

static inline void sample_policing(struct sample *s, struct gb_record *r)
{
	const char *k = r->kind->name;
	int64_t t = s->now - 3600000 * (1 + sample_rand(s) % 4);

	if (strcmp(k, "patrol") == 0) {
		gb_record_set_name(r, "area", SAMPLE_PICK(s, sample_areas));
		sample_setf(r, "start", "%" PRId64, t);
		sample_setf(r, "end", "%" PRId64,
			    t + 60000 * (40 + sample_rand(s) % 100));
		gb_record_set_name(r, "leader", r->staff);
		sample_setf(r, "guards", "%s,%s", SAMPLE_PICK(s, sample_guards),
			    SAMPLE_PICK(s, sample_guards));
		gb_record_set_name(r, "mode",
				   sample_rand(s) % 3 ? "foot" : "vehicle");
		sample_setf(r, "communities", "%s,%s",
			    SAMPLE_PICK(s, sample_communities),
			    SAMPLE_PICK(s, sample_communities));
		sample_setf(r, "incidents", "%" PRIu32, sample_rand(s) % 3);
		gb_record_set_name(r, "note",
				   SAMPLE_PICK(s, sample_patrol_notes));
	} else if (strcmp(k, "handover") == 0) {
		gb_record_set_name(r, "area", SAMPLE_PICK(s, sample_areas));
		sample_setf(r, "time", "%" PRId64, t);
		gb_record_set_name(r, "from_officer", r->staff);
		gb_record_set_name(r, "to_officer",
				   SAMPLE_PICK(s, sample_officers));
		gb_record_set_name(r, "open_items",
				   SAMPLE_PICK(s, sample_open_items));
		gb_record_set_name(r, "note", "交接装备齐全");
	} else if (strcmp(k, "daily_report") == 0) {
		gb_record_set_name(r, "officer", r->staff);
		sample_date(r, "date", s->now);
		sample_setf(r, "households", "%" PRIu32, sample_rand(s) % 30);
		sample_setf(r, "resident_checks", "%" PRIu32,
			    sample_rand(s) % 40);
		sample_setf(r, "temporary_checks", "%" PRIu32,
			    sample_rand(s) % 20);
		sample_setf(r, "key_checks", "%" PRIu32, sample_rand(s) % 5);
		sample_setf(r, "places", "%" PRIu32, sample_rand(s) % 10);
		sample_setf(r, "disputes_mediated", "%" PRIu32,
			    sample_rand(s) % 3);
		gb_record_set_name(r, "summary",
				   SAMPLE_PICK(s, sample_summaries));
	} else if (strcmp(k, "reception") == 0) {
		gb_record_set_name(r, "officer", r->staff);
		gb_record_set_name(r, "room", SAMPLE_PICK(s, sample_areas));
		sample_setf(r, "start", "%" PRId64, t);
		sample_setf(r, "end", "%" PRId64, t + 4 * 3600000);
		sample_setf(r, "visitors", "%" PRIu32, sample_rand(s) % 12);
		gb_record_set_name(r, "note",
				   SAMPLE_PICK(s, sample_reception_notes));
	} else {
		gb_record_set_name(r, "area", SAMPLE_PICK(s, sample_areas));
		sample_setf(r, "received_at", "%" PRId64, t);
		gb_record_set_name(r, "channel",
				   sample_rand(s) % 2 ? "phone" : "walk_in");
		gb_record_set_name(
		    r, "category",
		    (const char *[]){"alarm", "help",
				     "inquiry"}[sample_rand(s) % 3]);
		gb_record_set_name(r, "priority", "normal");
		gb_record_set_name(r, "officer", r->staff);
		sample_setf(r, "deadline", "%" PRId64, t + 86400000);
		sample_setf(r, "resolved_at", "%" PRId64,
			    t + 60000 * (10 + sample_rand(s) % 200));
		gb_record_set_name(r, "subject",
				   SAMPLE_PICK(s, sample_subjects));
		gb_record_set_name(r, "result", SAMPLE_PICK(s, sample_results));
	}
}

/*
 * The next record of the day: mostly enterprises, checks, patrols and
 * daily reports, now and then the other kinds.  The caller frees it.
 */
static inline struct gb_record *sample_next(struct sample *s)
{
	static const char *const mix[] = {
	    "enterprise",    "enterprise", "contract_check", "contract_check",
	    "rectification", "dispute",	   "employment",     "patrol",
	    "patrol",	     "handover",   "daily_report",   "reception",
	    "request",	     "request"};
	const struct gb_kind *k;
	struct gb_record *r;
	const char *name;

	s->now += 60000 * (1 + sample_rand(s) % 15) + sample_rand(s) % 60000;
	name = SAMPLE_PICK(s, mix);
	k = gb_kind_find(name);
	r = gb_record_new(k);
	sample_uuid(s, s->now, r->id);
	memcpy(r->grid, SAMPLE_GRID, sizeof(SAMPLE_GRID));
	memcpy(r->device, SAMPLE_DEVICE, sizeof(SAMPLE_DEVICE));
	r->created_at = s->now;
	r->updated_at = s->now;
	r->version = ((uint64_t)s->now << 16) | (sample_rand(s) % 4);
	if (k->role == GB_ROLE_LABOUR)
		snprintf(r->staff, sizeof(r->staff), "%s",
			 SAMPLE_PICK(s, sample_coords));
	else
		snprintf(r->staff, sizeof(r->staff), "%s",
			 SAMPLE_PICK(s, sample_officers));
	if (strcmp(name, "enterprise") == 0) {
		sample_enterprise(s, r);
	} else if (strcmp(name, "contract_check") == 0) {
		sample_check(s, r);
	} else if (strcmp(name, "rectification") == 0) {
		if (s->ncheck)
			gb_record_set_name(
			    r, "check",
			    s->check[sample_rand(s) % (unsigned)s->ncheck]);
		else
			gb_record_set_name(r, "check", r->id);
		sample_date(r, "date", s->now);
		gb_record_set_name(
		    r, "result", sample_rand(s) % 2 ? "rectified" : "not_yet");
		gb_record_set_name(r, "note", "已完成整改，复查合格");
	} else if (strcmp(name, "dispute") == 0) {
		sample_ent_ref(s, r, "enterprise");
		sample_setf(r, "workers", "%" PRIu32, 1 + sample_rand(s) % 30);
		gb_record_set_name(r, "category", "wages");
		sample_date(r, "received_date", s->now);
		gb_record_set_name(r, "level", "community");
		gb_record_set_name(r, "status", "open");
		gb_record_set_name(r, "note",
				   SAMPLE_PICK(s, sample_dispute_notes));
	} else if (strcmp(name, "employment") == 0) {
		uint32_t h = 10 + sample_rand(s) % 200;

		sample_ent_ref(s, r, "enterprise");
		sample_date(r, "date", s->now);
		sample_setf(r, "headcount", "%" PRIu32, h);
		sample_setf(r, "hires", "%" PRIu32, sample_rand(s) % 6);
		sample_setf(r, "separations", "%" PRIu32, sample_rand(s) % 4);
		sample_setf(r, "vacancies", "%" PRIu32, sample_rand(s) % 8);
	} else {
		sample_policing(s, r);
	}
	return r;
}

#endif
