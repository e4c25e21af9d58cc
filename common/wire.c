/*
 * The sync wire codec (see wire.h): records, batches, acks and change
 * pages to and from the protobuf messages of proto/gridbook.proto, and the
 * zlib layer around batches and pages.
 *
 * Records are converted by reflection rather than by ten hand-written
 * converters: a record of kind K is the member of Record's body oneof named
 * K, and each field of K's table in kinds.c is the field of the same name
 * in that member's message.  The protobuf-c descriptors give each field's
 * type and its offsets in the C struct (the member itself, and its has_
 * flag or n_ count), so one loop over the kind table reads or writes every
 * kind.  wire_schema_check() proves the proto and the tables agree, and
 * every conversion checks the field's type again before it touches memory
 * through an offset.
 *
 * Everything decoded here comes from the network and is treated as
 * hostile: the deflated body is capped, inflation stops at a size and a
 * ratio, and protobuf-c unpacks with an allocator that refuses to go past
 * a memory budget.  A record that cannot be read is refused on its own
 * with a reason, so one bad record does not cost the rest of its batch.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>
#include <zlib.h>

#include "gbtime.h"
#include "gridbook.pb-c.h"
#include "i18n.h"
#include "id.h"
#include "utf8.h"
#include "wire.h"
#include "xalloc.h"

#include "banned.h"

/* The days of 1900-01-01 and 2999-12-31, the range gb_date_parse takes. */
#define DAY_MIN (-25567)
#define DAY_MAX 376199

#define UUID_BYTES 16
#define ZCHUNK 16384
/* Level 6: on realistic records level 9 is 1% smaller and as fast, but on
 * repetitive input it is ten times slower, and the server deflates every
 * page it sends; level 1 is 15% larger. */
#define DEFLATE_LEVEL 6
/* Batches too.  Level 1 deflates a batch of 500 real records (those of
 * the sync benchmark) in 1.7 us a record against 4.7 at level 6, and still
 * makes 0.27 of the protobuf size (0.23 at 6); but on the mixed sample
 * records of test_wire every level below 6 misses the 0.33 target for
 * 1,000 records (0.37 at 1, 0.33 at 5), so batches stay at 6. */
#define BATCH_LEVEL DEFLATE_LEVEL
/*
 * Deflate is most of what a laptop spends on a push, and at level 6 most
 * of deflate is following hash chains up to 128 long.  A packed record is
 * a few short strings between random ids and numbers, so a long chain
 * seldom finds a longer match: level 6's lazy matching with chains of 24,
 * taking a match of 32 bytes at once and of 128 without a lazy look, and
 * stopping at the longest (258), makes the same size of the mixed sample
 * of test_wire (0.327 at 1,000 records, 0.451 at 20) and of the sync
 * benchmark's batches (0.230 against 0.231) with 12 % fewer instructions
 * in deflate (BENCHMARKS.md, "The client's CPU a record").  zlib's
 * deflateTune: good_length, max_lazy, nice_length, max_chain.
 */
#define BATCH_GOOD 32
#define BATCH_LAZY 128
#define BATCH_NICE 258
#define BATCH_CHAIN 24

/* The parameters of deflateTune; chain 0 keeps the level's own. */
struct ztune {
	int good, lazy, nice, chain;
};

static const struct ztune batch_tune = {BATCH_GOOD, BATCH_LAZY, BATCH_NICE,
					BATCH_CHAIN};

static int deflate_tuned(const void *in, size_t n, int level,
			 const struct ztune *t, struct gb_buf *out,
			 struct gb_err *err);
/* Changes pages are deflated by HQ, once for every device of the grid
 * and every page, which made deflate the largest single cost of serving
 * a district's pulls.  On pages of 500 stored versions of the load
 * benchmark (86 KB of protobuf) level 2 takes 1.4 ms a page against 4.7
 * at level 6, for 0.260 of the size against 0.233 (level 1 is slower
 * than 2 there, and larger). */
#define PAGE_LEVEL 2

/*
 * The preset dictionary.  A deflate stream starts with an empty window, so
 * without one a small batch pays full price for the first use of every
 * code and word; with one, those are matched against this text instead.
 * It holds what recurs in packed records: field tags as they precede
 * common values, grid, community, area and staff codes, USCC prefixes, and
 * the Chinese words of names, addresses and notes.  zlib prefers the end
 * of the dictionary (shorter distances), so the most common terms come
 * last.
 *
 * Never edit this text: a stream names its dictionary by Adler-32 in the
 * zlib header, and old clients keep sending the old one.  To improve it,
 * add a second dictionary and let inflate pick by the id it is asked for.
 */
static const char dict[] =
    /* Work of the grid and the police room in general. */
    "员工职工工人农民工劳动者用人单位法定代表人负责人联系电话身份证"
    "劳动合同社会保险工伤保险医疗保险养老保险住房公积金最低工资标准"
    "加班费经济补偿拖欠克扣工资发放台账考勤记录用工登记备案招聘"
    "劳动保障监察仲裁调解委员会人力资源和社会保障局市场监督管理局"
    "治安消防安全隐患排查整治宣传教育走访巡查检查核查登记报备"
    "流动人口出租房屋实有人口重点人员矛盾纠纷邻里家庭婚姻债务"
    "报警求助咨询投诉举报盗窃诈骗电信网络交通事故噪音扰民走失"
    "民警辅警社区民警网格员保安队员志愿者群防群治巡逻队值班备勤"
    "出警到场处置移交派出所分局指挥中心接处警回访反馈办结"
    "小区花园苑大厦广场市场商场菜市场工业园厂房门店商铺仓库工地"
    "学校医院银行车站公园河道桥下路口东门西门南门北门"
    /* Enterprises: kinds, industries, shops. */
    "信息传输、软件和信息技术服务业居民服务、修理和其他服务业"
    "交通运输、仓储和邮政业批发和零售业住宿和餐饮业租赁和商务服务业"
    "卫生和社会工作教育制造业建筑业房地产业农、林、牧、渔业"
    "个体工商户民办非企业单位养老服务中心职业培训学校幼儿园"
    "便利店五金店理发店美容美发面馆饭店餐馆超市水果店药房诊所网吧"
    "建筑工程装饰工程物业管理家政服务医疗器械广告传媒教育咨询"
    "汽车维修电子商务物流机械设备环保科技食品贸易服装纺织印刷"
    "鑫达华联恒泰众诚博远金鹏瑞丰宏图永盛天成新源汇通德润兴旺"
    "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓"
    /* The reference district: its streets and communities. */
    "望川区文昌东湖临江新桥南苑北塘"
    "东风新风锦华砖桥木兰鹿鸣玉泉华兴铁路化工稻香杏林凤凰兰亭光明"
    "长乐景秀纺织桂溪麦田梅岭龙泉花园船厂文华石桥海棠铜锣芦花锦江"
    "椿树丁香惠民南湖中和北苑码头清波秋实青云前进清河梨园星光白鹭"
    "桃源果园长青书香湖滨金鸡夕照团结绿茵沙河福寿明德东苑振兴矿山"
    "锦绣跃进槐荫兴隆杜鹃丰收嘉禾青石榆林楠木夏荷冬梅茉莉永安机床"
    "朝霞河畔江滨育才春华仙鹤桑园银杏北岸春晖红旗桂园柳岸幸福竹园"
    "陶园晨曦红枫丽景西苑翠竹金沙紫荆梧桐彩虹瑞祥翠湖枫林东升麒麟"
    "枣园渔港安居凤鸣玉带博雅胜利钢城华庭朝阳怡和友谊金桥柏林樱花"
    "银河邮电牡丹芙蓉新华宝塔松鹤广源园林新城石门茶园和平月湖芳草"
    "电厂竹溪康乐杉湖宁静棉纺"
    "人民路建设路解放路中山路滨江路沙河路福寿路明德路团结路"
    "社区警务室警务区号院号楼栋单元室层"
    /* Stock phrases of findings and notes. */
    "劳动合同签订率偏低，已现场指导补签；未按规定办理用工备案；"
    "社会保险参保人数与在职人数不符；工资发放台账齐全；"
    "存在拖欠工资情况，已责令限期整改；已完成整改，复查合格；"
    "名员工反映被拖欠工资，经社区调解达成还款协议；"
    "未签订书面劳动合同；解除劳动合同未支付经济补偿；"
    "发现消防通道堵塞，已通知物业处理；劝离夜间聚集人员；"
    "检查沿街商铺安全防范情况；重点人员情况稳定；"
    "邻里纠纷待回访；监控故障已报修；"
    "走访辖区住户，核查流动人口信息，开展反诈宣传；"
    "群众咨询户籍办理流程；调解邻里噪音纠纷；"
    "邻居装修噪音扰民；老人走失求助；咨询居住证办理；电动车被盗报警；"
    "已联系家属接回；已出警调解，双方达成谅解；已告知办理流程；"
    "巡逻正常，无异常。"
    /* Codes, and tags as they precede values on the wire; the most
     * common last. */
    "91330782MA92330782MA52330782MJ12330782MB31330782MD"
    "PA-0PA-1PA-2PA-3PA-4PA-5S01-C0S02-C0S03-C0S04-C1S05-C1S06-C1"
    "-G1\"\x05"
    "B00-G2\"\x05J00-G3\"\x05K00-G4"
    "有限公司有限责任公司科技商贸餐饮社区街道巡逻正常无异常走访"
    "\x12\x06S0";

/* ---- small helpers ------------------------------------------------- */

/* A member of a message at a descriptor's offset. */
static void *member(const void *msg, unsigned off)
{
	return (void *)((const char *)msg + off);
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

/* Parses yuan with at most two decimals ("1200.50", "-3.5", "12") into
 * fen.  Returns 0 or -1. */
static int money_parse(const char *s, int64_t *fen)
{
	const uint64_t lim = (uint64_t)(INT64_MAX / 100) - 1;
	const char *p = s;
	uint64_t whole = 0;
	int frac = 0, nd = 0, neg = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (whole > (lim - d) / 10)
			return -1;
		whole = whole * 10 + d;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (nd == 2)
				return -1;
			frac = frac * 10 + (*p - '0');
			nd++;
		}
		if (nd == 0)
			return -1;
	}
	if (*p)
		return -1;
	if (nd == 1)
		frac *= 10;
	*fen = (int64_t)(whole * 100 + (uint64_t)frac);
	if (neg)
		*fen = -*fen;
	return 0;
}

/* Writes fen as yuan with two decimals; out holds at least 32 bytes,
 * enough for any int64_t. */
static void money_format(int64_t fen, char *out, size_t n)
{
	uint64_t a = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;

	snprintf(out, n, "%s%" PRIu64 ".%02u", fen < 0 ? "-" : "", a / 100,
		 (unsigned)(a % 100));
}

/* Checks that a received string is valid UTF-8; s may be NULL. */
static int text_ok(const char *s, const char *name, struct gb_err *err)
{
	if (s && !gb_utf8_valid(s, strlen(s)))
		return gb_error(err, GB_EPROTO, _("%s: not valid UTF-8"), name);
	return 0;
}

/* Copies a received code (NULL means "") into a GB_CODE_LEN array. */
static int copy_code(char *dst, size_t cap, const char *s, const char *name,
		     struct gb_err *err)
{
	size_t n = s ? strlen(s) : 0;

	if (text_ok(s, name, err))
		return -1;
	if (n >= cap)
		return gb_error(err, GB_EPROTO, _("%s: longer than %zu bytes"),
				name, cap - 1);
	memcpy(dst, s ? s : "", n);
	dst[n] = '\0';
	return 0;
}

/* A received owned copy of a text, NULL when absent or empty. */
static int copy_text(char **dst, const char *s, const char *name,
		     struct gb_err *err)
{
	*dst = NULL;
	if (text_ok(s, name, err))
		return -1;
	if (s && *s)
		*dst = xstrdup(s);
	return 0;
}

/* Reads a 16-byte id field into text form ("" when absent). */
static int copy_id(char *dst, protobuf_c_boolean has,
		   const ProtobufCBinaryData *b, int required, const char *name,
		   struct gb_err *err)
{
	dst[0] = '\0';
	if (!has || b->len == 0) {
		if (required)
			return gb_error(err, GB_EPROTO, _("%s: missing"), name);
		return 0;
	}
	if (b->len != UUID_BYTES)
		return gb_error(err, GB_EPROTO,
				_("%s: not a 16-byte id (%zu bytes)"), name,
				b->len);
	gb_uuid_text(b->data, UUID_BYTES, dst);
	return 0;
}

/* The code or "" as the optional string of an outgoing message; the
 * message only borrows it. */
static char *opt_str(const char *s)
{
	return s && *s ? (char *)s : NULL;
}

/* ---- memory budget for unpacking ----------------------------------- */

/* An allocator for protobuf_c_message_unpack() that refuses to hand out
 * more than a fixed total, so that a small message claiming huge repeated
 * fields cannot make us allocate without bound. */
struct budget {
	ProtobufCAllocator a;
	size_t left;
	int over;
};

static void *budget_alloc(void *data, size_t size)
{
	struct budget *b = data;
	void *p;

	if (size > b->left) {
		b->over = 1;
		return NULL;
	}
	b->left -= size;
	p = malloc(size ? size : 1);
	if (!p)
		b->over = 1;
	return p;
}

/* Counts n more bytes against the budget, for what is made of the
 * unpacked message.  Returns 0, or -1 when that would pass it. */
static int budget_charge(struct budget *b, size_t n)
{
	if (n > b->left) {
		b->over = 1;
		return -1;
	}
	b->left -= n;
	return 0;
}

static void budget_free(void *data, void *p)
{
	(void)data;
	free(p);
}

/* A budget of four times the packed size plus 1 MiB: a C struct per
 * record and a copy of each string are well within that.  (packed is
 * at most WIRE_MAX_INFLATED, so this cannot overflow.) */
static void budget_init(struct budget *b, size_t packed)
{
	b->a.alloc = budget_alloc;
	b->a.free = budget_free;
	b->a.allocator_data = b;
	b->over = 0;
	b->left = packed > (SIZE_MAX - (1u << 20)) / 4
		      ? SIZE_MAX
		      : packed * 4 + (1u << 20);
}

/* ---- the bytes of each record ---------------------------------------- */

/* Reads a varint at *p (before end).  Returns 0, or -1 when malformed. */
static int varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t c = *(*p)++;

		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
	}
	return -1;
}

/* One length-delimited field of a message: where its bytes are. */
struct span {
	const uint8_t *p;
	size_t n;
};

/*
 * Walks the top-level fields of message bytes p[0..n): calls fn for each
 * length-delimited field with its number and bytes.  protobuf-c unpacks
 * the occurrences of a repeated field in the order they come, so the
 * k-th field `records` seen here is the k-th record unpacked.  Returns 0,
 * or -1 on bytes that are not a message (which unpacking would have
 * refused) or when fn returns non-zero.
 */
static int fields_walk(const uint8_t *p, size_t n,
		       int (*fn)(void *arg, uint32_t field, struct span sp),
		       void *arg)
{
	const uint8_t *end = p + n;

	while (p < end) {
		uint64_t tag, len;

		if (varint_get(&p, end, &tag))
			return -1;
		switch (tag & 7) {
		case 0:
			if (varint_get(&p, end, &len))
				return -1;
			break;
		case 1:
			if ((size_t)(end - p) < 8)
				return -1;
			p += 8;
			break;
		case 5:
			if ((size_t)(end - p) < 4)
				return -1;
			p += 4;
			break;
		case 2:
			if (varint_get(&p, end, &len) ||
			    len > (uint64_t)(end - p))
				return -1;
			if (fn(arg, (uint32_t)(tag >> 3),
			       (struct span){p, (size_t)len}))
				return -1;
			p += len;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* What strings_walk looks for: the first string field holding a NUL. */
struct nul_find {
	const ProtobufCMessageDescriptor *d;
	int depth;
	const char *name; /* the field found, or NULL */
};

static int nul_field(void *arg, uint32_t field, struct span sp)
{
	struct nul_find *f = arg;
	const ProtobufCFieldDescriptor *fd =
	    protobuf_c_message_descriptor_get_field(f->d, (unsigned)field);

	if (!fd || f->name)
		return 0;
	if (fd->type == PROTOBUF_C_TYPE_STRING && memchr(sp.p, 0, sp.n)) {
		f->name = fd->name;
		return 1;
	}
	if (fd->type == PROTOBUF_C_TYPE_MESSAGE && f->depth < 4) {
		struct nul_find sub = {fd->descriptor, f->depth + 1, NULL};

		fields_walk(sp.p, sp.n, nul_field, &sub);
		if (sub.name) {
			f->name = sub.name;
			return 1;
		}
	}
	return 0;
}

/*
 * The name of the first string field of the message of type d in p[0..n)
 * (its sub-messages included) that holds a NUL byte, or NULL.  protobuf-c
 * gives strings to C as NUL-terminated, so such a string would be cut
 * short without a word; it is refused instead.
 */
static const char *nul_in_strings(const ProtobufCMessageDescriptor *d,
				  const void *p, size_t n)
{
	struct nul_find f = {d, 0, NULL};

	fields_walk(p, n, nul_field, &f);
	return f.name;
}

/* Collects the spans of one repeated message field. */
struct spans {
	uint32_t field;
	struct span *sp;
	size_t n, cap;
};

static int span_add(void *arg, uint32_t field, struct span sp)
{
	struct spans *s = arg;

	if (field != s->field)
		return 0;
	if (s->n == s->cap)
		return -1;
	s->sp[s->n++] = sp;
	return 0;
}

/* The bytes of each of the nrec occurrences of field in message bytes
 * p[0..n): a new array the caller frees, or NULL when they do not
 * match (then the records go unchecked by the rules that need them). */
static struct span *record_spans(const void *p, size_t n, uint32_t field,
				 size_t nrec)
{
	struct spans s = {field, NULL, 0, nrec};

	s.sp = xcalloc(nrec ? nrec : 1, sizeof(*s.sp));
	if (fields_walk(p, n, span_add, &s) || s.n != nrec) {
		free(s.sp);
		return NULL;
	}
	return s.sp;
}

static ProtobufCMessage *unpack_capped(const ProtobufCMessageDescriptor *d,
				       struct budget *b, const void *p,
				       size_t n, struct gb_err *err)
{
	ProtobufCMessage *m;

	budget_init(b, n);
	m = protobuf_c_message_unpack(d, &b->a, n, p);
	if (m)
		return m;
	if (b->over)
		gb_error(err, GB_ETOOBIG,
			 _("%s message of %zu bytes needs too much memory to "
			   "unpack"),
			 d->short_name, n);
	else
		gb_error(err, GB_EPROTO, _("not a valid %s message"),
			 d->short_name);
	return NULL;
}

/* Packs a message into a new buffer the caller frees. */
static uint8_t *pack_new(const ProtobufCMessage *m, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *p = xmalloc(n ? n : 1);

	*len = protobuf_c_message_pack(m, p);
	return p;
}

/* ---- fields by reflection ------------------------------------------ */

static int ref_is_record(const struct gb_field *f)
{
	return f->ref == GB_REF_ENTERPRISE || f->ref == GB_REF_CHECK;
}

/* The proto type and label a field of a kind table is carried in. */
static void wire_type(const struct gb_field *f, ProtobufCType *type,
		      ProtobufCLabel *label)
{
	*label = PROTOBUF_C_LABEL_OPTIONAL;
	switch (f->type) {
	case GB_T_INT:
	case GB_T_MONEY:
	case GB_T_TIME:
		*type = PROTOBUF_C_TYPE_INT64;
		break;
	case GB_T_DATE:
		*type = PROTOBUF_C_TYPE_INT32;
		break;
	case GB_T_ENUM:
		*type = PROTOBUF_C_TYPE_ENUM;
		break;
	case GB_T_REF:
		*type = ref_is_record(f) ? PROTOBUF_C_TYPE_BYTES
					 : PROTOBUF_C_TYPE_STRING;
		break;
	case GB_T_LIST:
		*type = PROTOBUF_C_TYPE_STRING;
		*label = PROTOBUF_C_LABEL_REPEATED;
		break;
	case GB_T_TEXT:
	case GB_T_USCC:
	default:
		*type = PROTOBUF_C_TYPE_STRING;
		break;
	}
}

static int field_compatible(const struct gb_field *f,
			    const ProtobufCFieldDescriptor *pf)
{
	ProtobufCType type;
	ProtobufCLabel label;

	wire_type(f, &type, &label);
	return pf && pf->type == type && pf->label == label &&
	       !(pf->flags & PROTOBUF_C_FIELD_FLAG_ONEOF);
}

static int nchoices(const struct gb_field *f)
{
	int n = 0;

	while (f->choices && f->choices[n])
		n++;
	return n;
}

/*
 * The proto fields of every kind, looked up by name once (the codec
 * packs and unpacks every record by them): the member of Record's body
 * oneof that carries the kind, and the field of each kind field, NULL
 * where the proto and the kinds table disagree (test_wire checks they
 * never do).
 */
#define MAX_KINDS 16
static struct {
	const ProtobufCFieldDescriptor *body;
	const ProtobufCFieldDescriptor *field[GB_MAX_FIELDS];
} wire_kinds[MAX_KINDS];
static pthread_once_t wire_kinds_once = PTHREAD_ONCE_INIT;

static void wire_kinds_load(void)
{
	for (int i = 0; i < gb_nkinds && i < MAX_KINDS; i++) {
		const struct gb_kind *k = &gb_kinds[i];
		const ProtobufCFieldDescriptor *bf;

		bf = protobuf_c_message_descriptor_get_field_by_name(
		    &gridbook__record__descriptor, k->name);
		if (!bf || bf->type != PROTOBUF_C_TYPE_MESSAGE ||
		    !(bf->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue;
		wire_kinds[i].body = bf;
		for (int j = 0; j < k->nfields && j < GB_MAX_FIELDS; j++) {
			const ProtobufCFieldDescriptor *pf =
			    protobuf_c_message_descriptor_get_field_by_name(
				bf->descriptor, k->fields[j].name);

			if (field_compatible(&k->fields[j], pf))
				wire_kinds[i].field[j] = pf;
		}
	}
}

/* The index of k in gb_kinds, or -1. */
static int kind_index(const struct gb_kind *k)
{
	ptrdiff_t i = k - gb_kinds;

	pthread_once(&wire_kinds_once, wire_kinds_load);
	return i >= 0 && i < gb_nkinds && i < MAX_KINDS ? (int)i : -1;
}

/* The member of Record's body oneof that carries kind k, or NULL; by
 * name for a kind outside the table (test_wire checks such kinds). */
static const ProtobufCFieldDescriptor *body_field(const struct gb_kind *k)
{
	const ProtobufCFieldDescriptor *bf;
	int i = kind_index(k);

	if (i >= 0)
		return wire_kinds[i].body;
	bf = protobuf_c_message_descriptor_get_field_by_name(
	    &gridbook__record__descriptor, k->name);
	if (!bf || bf->type != PROTOBUF_C_TYPE_MESSAGE ||
	    !(bf->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
		return NULL;
	return bf;
}

/* The kind whose body is the member bf of the oneof, or NULL. */
static const struct gb_kind *body_kind(const ProtobufCFieldDescriptor *bf)
{
	pthread_once(&wire_kinds_once, wire_kinds_load);
	for (int i = 0; i < gb_nkinds && i < MAX_KINDS; i++)
		if (wire_kinds[i].body == bf)
			return &gb_kinds[i];
	return NULL;
}

/* The proto field of a kind field, checked for its type; NULL (with err)
 * when the proto and the table disagree. */
static const ProtobufCFieldDescriptor *
kind_field(const ProtobufCMessageDescriptor *bd, const struct gb_kind *k,
	   const struct gb_field *f, struct gb_err *err)
{
	int i = kind_index(k);
	const ProtobufCFieldDescriptor *pf = NULL;

	if (i >= 0 && wire_kinds[i].body &&
	    wire_kinds[i].body->descriptor == bd)
		pf = wire_kinds[i].field[f - k->fields];
	if (!pf) {
		gb_error(err, GB_EINTERNAL,
			 _("kind %s: field %s does not match the wire format"),
			 k->name, f->name);
		return NULL;
	}
	return pf;
}

/* Splits a LIST value on ',' into a repeated string field. */
static int list_pack(ProtobufCMessage *m, const ProtobufCFieldDescriptor *pf,
		     const struct gb_field *f, const char *v,
		     struct gb_err *err)
{
	size_t n = 1, i = 0;
	const char *p = v;
	char **arr;

	for (const char *c = v; *c; c++)
		n += *c == ',';
	arr = xcalloc(n, sizeof(*arr));
	*(char ***)member(m, pf->offset) = arr;
	*(size_t *)member(m, pf->quantifier_offset) = n;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == 0)
			return gb_error(err, GB_EINVAL,
					_("%s: empty item in list \"%s\""),
					f->name, v);
		arr[i++] = xstrndup(p, len);
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* Writes one canonical value v into its proto field.  On failure the
 * message may hold part of the value; it is freed as a whole. */
static int field_pack(ProtobufCMessage *m, const ProtobufCFieldDescriptor *pf,
		      const struct gb_field *f, const char *v,
		      struct gb_err *err)
{
	void *p = member(m, pf->offset);
	protobuf_c_boolean *has = member(m, pf->quantifier_offset);
	uint8_t id[UUID_BYTES];
	ProtobufCBinaryData *bd;
	int64_t i64;
	int32_t day;
	int idx;

	switch (f->type) {
	case GB_T_INT:
	case GB_T_TIME:
		if (parse_i64(v, &i64))
			return gb_error(err, GB_EINVAL,
					_("%s: \"%s\" is not an integer"),
					f->name, v);
		*(int64_t *)p = i64;
		*has = 1;
		return 0;
	case GB_T_MONEY:
		if (money_parse(v, &i64))
			return gb_error(err, GB_EINVAL,
					_("%s: \"%s\" is not an amount in "
					  "yuan"),
					f->name, v);
		*(int64_t *)p = i64;
		*has = 1;
		return 0;
	case GB_T_DATE:
		if (gb_date_parse(v, &day, err))
			return gb_error_prefix(err, "%s", f->name);
		*(int32_t *)p = day;
		*has = 1;
		return 0;
	case GB_T_ENUM:
		idx = gb_choice_index(f->choices, v);
		if (idx < 0)
			return gb_error(err, GB_EINVAL,
					_("%s: \"%s\" is not one of its "
					  "choices"),
					f->name, v);
		*(int *)p = idx + 1;
		*has = 1;
		return 0;
	case GB_T_LIST:
		return list_pack(m, pf, f, v, err);
	case GB_T_REF:
		if (ref_is_record(f)) {
			if (gb_uuid_bytes(v, id))
				return gb_error(err, GB_EINVAL,
						_("%s: \"%s\" is not a record "
						  "id"),
						f->name, v);
			bd = p;
			bd->data = xmalloc(UUID_BYTES);
			memcpy(bd->data, id, UUID_BYTES);
			bd->len = UUID_BYTES;
			*has = 1;
			return 0;
		}
		*(char **)p = xstrdup(v);
		return 0;
	case GB_T_TEXT:
	case GB_T_USCC:
	default:
		*(char **)p = xstrdup(v);
		return 0;
	}
}

/* Joins a repeated string field with ','. */
static int list_unpack(const ProtobufCMessage *m,
		       const ProtobufCFieldDescriptor *pf,
		       const struct gb_field *f, char **out, struct gb_err *err)
{
	size_t n = *(const size_t *)member(m, pf->quantifier_offset);
	char *const *arr = *(char *const *const *)member(m, pf->offset);
	struct gb_buf b;
	int ret = -1;

	gb_buf_init(&b, GB_BUF_NOLIMIT);
	for (size_t i = 0; i < n; i++) {
		const char *s = arr[i];

		if (text_ok(s, f->name, err))
			goto out;
		if (!s || !*s || strchr(s, ',')) {
			gb_error(err, GB_EPROTO,
				 _("%s: item %zu is empty or holds a ','"),
				 f->name, i + 1);
			goto out;
		}
		if ((i && gb_buf_add(&b, ",", 1, err)) ||
		    gb_buf_adds(&b, s, err))
			goto out;
	}
	if (n)
		*out = gb_buf_detach(&b, NULL);
	ret = 0;
out:
	gb_buf_release(&b);
	return ret;
}

/* Reads one proto field into canonical text: *out is an owned string, or
 * NULL when the field was not sent. */
static int field_unpack(const ProtobufCMessage *m,
			const ProtobufCFieldDescriptor *pf,
			const struct gb_field *f, char **out,
			struct gb_err *err)
{
	const void *p = member(m, pf->offset);
	protobuf_c_boolean has =
	    pf->label == PROTOBUF_C_LABEL_OPTIONAL &&
	    pf->type != PROTOBUF_C_TYPE_STRING &&
	    *(const protobuf_c_boolean *)member(m, pf->quantifier_offset);
	char tmp[40], id[GB_ID_LEN];
	int32_t day;
	int v;

	*out = NULL;
	switch (f->type) {
	case GB_T_INT:
	case GB_T_TIME:
		if (!has)
			return 0;
		*out = xi64str(*(const int64_t *)p);
		return 0;
	case GB_T_MONEY:
		if (!has)
			return 0;
		money_format(*(const int64_t *)p, tmp, sizeof(tmp));
		break;
	case GB_T_DATE:
		if (!has)
			return 0;
		day = *(const int32_t *)p;
		if (day < DAY_MIN || day > DAY_MAX)
			return gb_error(err, GB_EINVAL,
					_("%s: day %" PRId32 " is not between "
					  "1900-01-01 and 2999-12-31"),
					f->name, day);
		gb_date_format(day, tmp);
		break;
	case GB_T_ENUM:
		if (!has)
			return 0;
		v = *(const int *)p;
		if (v == 0)
			return 0;
		if (v < 0 || v > nchoices(f))
			return gb_error(err, GB_EINVAL,
					_("%s: unknown value %d"), f->name, v);
		*out = xstrdup(f->choices[v - 1]);
		return 0;
	case GB_T_LIST:
		return list_unpack(m, pf, f, out, err);
	case GB_T_REF:
		if (ref_is_record(f)) {
			if (copy_id(id, has, p, 0, f->name, err))
				return -1;
			*out = id[0] ? xstrdup(id) : NULL;
			return 0;
		}
		return copy_text(out, *(char *const *)p, f->name, err);
	case GB_T_TEXT:
	case GB_T_USCC:
	default:
		return copy_text(out, *(char *const *)p, f->name, err);
	}
	*out = xstrdup(tmp);
	return 0;
}

/* ---- records -------------------------------------------------------- */

/* Builds the Record message of r on the heap; the caller frees it with
 * protobuf_c_message_free_unpacked(..., NULL), as everything in it comes
 * from malloc. */
static int record_to_msg(const struct gb_record *r, Gridbook__Record **out,
			 struct gb_err *err)
{
	const struct gb_kind *k = r->kind;
	const ProtobufCFieldDescriptor *bf = body_field(k);
	const ProtobufCMessageDescriptor *bd;
	Gridbook__Record *m = xmalloc(sizeof(*m));
	ProtobufCMessage *body;
	int ret = -1;

	gridbook__record__init(m);
	if (!bf) {
		gb_error(err, GB_EINTERNAL,
			 _("kind %s has no member in the wire format"),
			 k->name);
		goto out;
	}
	m->id.data = xmalloc(UUID_BYTES);
	if (gb_uuid_bytes(r->id, m->id.data)) {
		gb_error(err, GB_EINVAL, _("id: \"%s\" is not a record id"),
			 r->id);
		goto out;
	}
	m->id.len = UUID_BYTES;
	m->has_id = 1;
	if (r->device[0]) {
		m->device.data = xmalloc(UUID_BYTES);
		if (gb_uuid_bytes(r->device, m->device.data)) {
			gb_error(err, GB_EINVAL,
				 _("device: \"%s\" is not a device id"),
				 r->device);
			goto out;
		}
		m->device.len = UUID_BYTES;
		m->has_device = 1;
	}
	m->grid = r->grid[0] ? xstrdup(r->grid) : NULL;
	m->staff = r->staff[0] ? xstrdup(r->staff) : NULL;
	m->has_created_at = m->has_updated_at = m->has_version = 1;
	m->created_at = r->created_at;
	m->updated_at = r->updated_at;
	m->version = r->version;
	if (r->voided) {
		m->has_voided = 1;
		m->voided = 1;
	}
	m->void_reason = xstrdup(r->void_reason);
	if (r->nbase > 0) {
		m->n_bases = (size_t)r->nbase;
		m->bases = xmalloc(m->n_bases * sizeof(*m->bases));
		memcpy(m->bases, r->base, m->n_bases * sizeof(*m->bases));
	}
	if (r->resolves) {
		m->has_resolves = 1;
		m->resolves = r->resolves;
	}

	bd = bf->descriptor;
	body = xcalloc(1, bd->sizeof_message);
	bd->message_init(body);
	*(ProtobufCMessage **)member(m, bf->offset) = body;
	*(uint32_t *)member(m, bf->quantifier_offset) = bf->id;
	for (int i = 0; i < k->nfields; i++) {
		const struct gb_field *f = &k->fields[i];
		const ProtobufCFieldDescriptor *pf;

		if (!r->val[i])
			continue;
		pf = kind_field(bd, k, f, err);
		if (!pf || field_pack(body, pf, f, r->val[i], err))
			goto out;
	}
	ret = 0;
out:
	if (ret) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		m = NULL;
	}
	*out = m;
	return ret;
}

/* Turns a received Record into a new record (*out, caller frees). */
static int record_from_msg(const Gridbook__Record *m, struct gb_record **out,
			   struct gb_err *err)
{
	const ProtobufCFieldDescriptor *bf = NULL;
	const ProtobufCMessage *body = NULL;
	const struct gb_kind *k = NULL;
	struct gb_record *r = NULL;
	int ret = -1;

	*out = NULL;
	if (m->body_case != GRIDBOOK__RECORD__BODY__NOT_SET)
		bf = protobuf_c_message_descriptor_get_field(
		    &gridbook__record__descriptor, m->body_case);
	if (bf) {
		k = body_kind(bf);
		body = *(ProtobufCMessage *const *)member(m, bf->offset);
	}
	if (!k || !body) {
		gb_error(err, GB_EPROTO,
			 _("record has no body of a known kind"));
		goto out;
	}
	r = gb_record_new(k);
	if (copy_id(r->id, m->has_id, &m->id, 1, "id", err) ||
	    copy_id(r->device, m->has_device, &m->device, 0, "device", err) ||
	    copy_code(r->grid, sizeof(r->grid), m->grid, "grid", err) ||
	    copy_code(r->staff, sizeof(r->staff), m->staff, "staff", err) ||
	    copy_text(&r->void_reason, m->void_reason, "void_reason", err))
		goto out;
	r->created_at = m->has_created_at ? m->created_at : 0;
	r->updated_at = m->has_updated_at ? m->updated_at : 0;
	r->version = m->has_version ? m->version : 0;
	r->voided = m->has_voided && m->voided;
	if (m->n_bases > GB_MAX_BASE) {
		gb_error(err, GB_EINVAL,
			 _("base: %zu versions named, over the limit of %d"),
			 m->n_bases, GB_MAX_BASE);
		goto out;
	}
	for (size_t i = 0; i < m->n_bases; i++)
		r->base[i] = m->bases[i];
	r->nbase = (int)m->n_bases;
	if (m->has_resolves &&
	    (m->resolves & ~(GB_RESOLVES_VOID | ((1u << k->nfields) - 1)))) {
		gb_error(err, GB_EINVAL,
			 _("resolves: bits 0x%x name no field of a %s"),
			 (unsigned)m->resolves, k->name);
		goto out;
	}
	r->resolves = m->has_resolves ? m->resolves : 0;
	for (int i = 0; i < k->nfields; i++) {
		const struct gb_field *f = &k->fields[i];
		const ProtobufCFieldDescriptor *pf;

		pf = kind_field(body->descriptor, k, f, err);
		if (!pf || field_unpack(body, pf, f, &r->val[i], err))
			goto out;
	}
	*out = r;
	r = NULL;
	ret = 0;
out:
	gb_record_free(r);
	return ret;
}

int wire_record_pack(const struct gb_record *r, struct gb_buf *out,
		     struct gb_err *err)
{
	Gridbook__Record *m;
	uint8_t *p;
	size_t n;
	int ret;

	if (record_to_msg(r, &m, err))
		return -1;
	p = pack_new(&m->base, &n);
	ret = gb_buf_add(out, p, n, err);
	free(p);
	protobuf_c_message_free_unpacked(&m->base, NULL);
	return ret;
}

int wire_record_unpack(const void *p, size_t n, struct gb_record **out,
		       struct gb_err *err)
{
	struct budget b;
	ProtobufCMessage *m;
	int ret;

	*out = NULL;
	m = unpack_capped(&gridbook__record__descriptor, &b, p, n, err);
	if (!m)
		return -1;
	ret = record_from_msg((Gridbook__Record *)m, out, err);
	protobuf_c_message_free_unpacked(m, &b.a);
	return ret;
}

/* Fills one item from a received Record: its bytes packed again (unknown
 * fields included), what can be read of its id and version, and the
 * record or the reason it was refused.  keep_raw 0: the bytes are packed
 * for a refused record only, as a page's readable records are stored as
 * records and their bytes were freed unread (packing them was 5 % of a
 * laptop's instructions in a pull). */
static void item_read(const Gridbook__Record *m, const struct span *sp,
		      int keep_raw, struct wire_item *it)
{
	struct gb_err e = {GB_OK, ""};
	const char *nul;

	memset(it, 0, sizeof(*it));
	if (m->has_id && m->id.len == UUID_BYTES)
		gb_uuid_text(m->id.data, UUID_BYTES, it->id);
	if (m->has_version)
		it->version = m->version;
	if (sp && sp->n > WIRE_MAX_RECORD) {
		/* Kept short: a refusal is stored with a prefix only. */
		it->raw_len = WIRE_MAX_RECORD;
		it->raw = xmalloc(it->raw_len);
		memcpy(it->raw, sp->p, it->raw_len);
		it->code = GB_ETOOBIG;
		snprintf(it->reason, sizeof(it->reason),
			 _("record: %zu bytes is over the limit of %u bytes "
			   "a record"),
			 sp->n, WIRE_MAX_RECORD);
		return;
	}
	if (keep_raw)
		it->raw = pack_new(&m->base, &it->raw_len);
	nul = sp ? nul_in_strings(&gridbook__record__descriptor, sp->p, sp->n)
		 : NULL;
	if (nul) {
		it->code = GB_EINVAL;
		snprintf(it->reason, sizeof(it->reason),
			 _("%s: text contains the control character U+0000"),
			 nul);
	} else if (record_from_msg(m, &it->rec, &e)) {
		it->code = e.code;
		memcpy(it->reason, e.msg, sizeof(it->reason));
		it->reason[sizeof(it->reason) - 1] = '\0';
	}
	if (!it->raw && !it->rec)
		it->raw = pack_new(&m->base, &it->raw_len);
}

static void item_release(struct wire_item *it)
{
	gb_record_free(it->rec);
	free(it->raw);
	it->rec = NULL;
	it->raw = NULL;
}

/* ---- batches --------------------------------------------------------- */

/* A ProtobufCBuffer that appends to a gb_buf, so that a message is packed
 * straight into the buffer that holds it. */
struct buf_sink {
	ProtobufCBuffer base;
	struct gb_buf *out;
	struct gb_err *err;
	int failed;
};

static void buf_sink_append(ProtobufCBuffer *pb, size_t len,
			    const uint8_t *data)
{
	struct buf_sink *s = (struct buf_sink *)pb;

	if (!s->failed && gb_buf_add(s->out, data, len, s->err))
		s->failed = 1;
}

/* Appends a varint. */
static int varint_add(struct gb_buf *out, uint64_t v, struct gb_err *err)
{
	uint8_t p[10];
	size_t n = 0;

	do {
		p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return gb_buf_add(out, p, n, err);
}

int wire_batch_add(const struct gb_record *r, struct gb_buf *out,
		   struct gb_err *err)
{
	struct buf_sink s = {{NULL}, out, err, 0};
	Gridbook__Record *m;
	size_t n;
	int ret = -1;

	if (record_to_msg(r, &m, err))
		return -1;
	s.base.append = buf_sink_append;
	n = protobuf_c_message_get_packed_size(&m->base);
	/* Field 5 of Batch, length-delimited: as protobuf-c packs it. */
	if (varint_add(out, (5u << 3) | 2u, err) || varint_add(out, n, err))
		goto out;
	if (protobuf_c_message_pack_to_buffer(&m->base, &s.base) != n ||
	    s.failed) {
		if (!s.failed)
			gb_error(err, GB_EINTERNAL,
				 _("record %s: packed size changed"), r->id);
		goto out;
	}
	ret = 0;
out:
	protobuf_c_message_free_unpacked(&m->base, NULL);
	return ret;
}

int wire_batch_encode_packed(const struct wire_batch_hdr *h, const void *recs,
			     size_t len, struct gb_buf *out, struct gb_err *err)
{
	Gridbook__Batch b = GRIDBOOK__BATCH__INIT;
	uint8_t dev[UUID_BYTES];
	struct gb_buf plain;
	uint8_t *head = NULL;
	size_t hlen;
	int ret = -1;

	gb_buf_reset(out);
	gb_buf_init(&plain, GB_BUF_NOLIMIT);
	if (gb_uuid_bytes(h->device, dev)) {
		gb_error(err, GB_EINVAL, _("device: \"%s\" is not a device id"),
			 h->device);
		goto out;
	}
	if (!h->grid[0]) {
		gb_error(err, GB_EINVAL, _("grid: missing"));
		goto out;
	}
	b.has_protocol = 1;
	b.protocol = WIRE_PROTOCOL;
	b.has_device = 1;
	b.device.data = dev;
	b.device.len = UUID_BYTES;
	b.grid = (char *)h->grid;
	b.has_seq = 1;
	b.seq = h->seq;
	b.has_after = h->after != 0;
	b.after = h->after;
	b.has_pending = h->has_pending != 0;
	b.pending = h->pending;
	b.has_oldest_pending = h->has_pending && h->oldest_pending > 0;
	b.oldest_pending = h->oldest_pending;
	b.has_features = h->features != 0;
	b.features = h->features;
	/* The header fields come first and the records (field 5) after
	 * them: the order protobuf-c packs a whole Batch in, but for fields
	 * 6 to 9, which it would put last; fields may come in any
	 * order. */
	head = pack_new(&b.base, &hlen);
	if (gb_buf_add(&plain, head, hlen, err) ||
	    (len && gb_buf_add(&plain, recs, len, err)) ||
	    deflate_tuned(plain.data, plain.len, BATCH_LEVEL, &batch_tune, out,
			  err))
		goto out;
	ret = 0;
out:
	free(head);
	gb_buf_release(&plain);
	return ret;
}

int wire_batch_encode(const struct wire_batch_hdr *h,
		      struct gb_record *const *recs, size_t n,
		      struct gb_buf *out, struct gb_err *err)
{
	struct gb_buf packed;
	int ret = -1;

	gb_buf_reset(out);
	gb_buf_init(&packed, GB_BUF_NOLIMIT);
	for (size_t i = 0; i < n; i++) {
		if (wire_batch_add(recs[i], &packed, err)) {
			gb_error_prefix(err, _("record %s"), recs[i]->id);
			goto out;
		}
	}
	ret = wire_batch_encode_packed(h, packed.data, packed.len, out, err);
out:
	gb_buf_release(&packed);
	return ret;
}

static int batch_header(const Gridbook__Batch *b, struct wire_batch_hdr *h,
			struct gb_err *err)
{
	if (!b->has_protocol)
		return gb_error(err, GB_EPROTO, _("batch protocol: missing"));
	if (b->protocol != WIRE_PROTOCOL)
		return gb_error(err, GB_EPROTO,
				_("batch protocol: version %" PRIu32
				  " is not supported (this end speaks %d)"),
				b->protocol, WIRE_PROTOCOL);
	if (copy_id(h->device, b->has_device, &b->device, 1, "batch device",
		    err))
		return -1;
	if (copy_code(h->grid, sizeof(h->grid), b->grid, "batch grid", err))
		return -1;
	if (!h->grid[0])
		return gb_error(err, GB_EPROTO, _("batch grid: missing"));
	if (!b->has_seq || b->seq == 0)
		return gb_error(err, GB_EPROTO,
				_("batch seq: missing (batches count from 1)"));
	/* Batch numbers are stored as SQLite INTEGER, which is signed. */
	if (b->seq > INT64_MAX)
		return gb_error(err, GB_EPROTO,
				_("batch seq: %" PRIu64 " is 2^63 or more "
				  "(a batch number stays below %" PRIu64 ")"),
				b->seq, (uint64_t)INT64_MAX + 1);
	h->seq = b->seq;
	h->after = b->has_after ? b->after : 0;
	/* Bits this end does not know are a later device's: ignored. */
	h->features = b->has_features ? b->features : 0;
	h->has_pending = b->has_pending;
	h->pending = b->has_pending ? b->pending : 0;
	h->oldest_pending =
	    b->has_pending && b->has_oldest_pending && b->oldest_pending > 0
		? b->oldest_pending
		: 0;
	if (h->pending > WIRE_MAX_PENDING)
		return gb_error(err, GB_EPROTO,
				_("batch pending: %" PRIu64 " is more than "
				  "a device can hold (at most %" PRIu64 ")"),
				h->pending, (uint64_t)WIRE_MAX_PENDING);
	if (b->has_pending && b->has_oldest_pending && b->oldest_pending &&
	    !gb_time_sane(b->oldest_pending))
		return gb_error(err, GB_EPROTO,
				_("batch oldest_pending: %" PRId64
				  " ms is not a time of years 1900-2999"),
				b->oldest_pending);
	if (h->after >= h->seq)
		return gb_error(err, GB_EPROTO,
				_("batch after: %" PRIu64 " does not come "
				  "before batch %" PRIu64),
				h->after, h->seq);
	return 0;
}

/* Inflates a body within the limits of wire.h into raw. */
static int body_inflate(const void *body, size_t len, struct gb_buf *raw,
			struct gb_err *err)
{
	gb_buf_init(raw, WIRE_MAX_INFLATED);
	if (len > WIRE_MAX_BODY)
		return gb_error(err, GB_ETOOBIG,
				_("body of %zu bytes is over the limit of %u"),
				len, WIRE_MAX_BODY);
	return wire_inflate(body, len, WIRE_MAX_INFLATED, raw, err);
}

int wire_batch_decode(const void *body, size_t len, struct wire_batch *out,
		      struct gb_err *err)
{
	struct gb_buf raw;
	struct budget bud;
	Gridbook__Batch *b = NULL;
	struct span *spans = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (body_inflate(body, len, &raw, err))
		goto out;
	b = (Gridbook__Batch *)unpack_capped(&gridbook__batch__descriptor, &bud,
					     raw.data, raw.len, err);
	if (!b || batch_header(b, &out->hdr, err))
		goto out;
	if (b->n_records > WIRE_MAX_RECORDS) {
		gb_error(err, GB_ETOOBIG,
			 _("records: %zu is over the limit of %d records a "
			   "batch"),
			 b->n_records, WIRE_MAX_RECORDS);
		goto out;
	}
	/* What is made of the message counts against its budget too, so
	 * that many small records cannot cost more than a few large ones:
	 * each item, its record and its bytes. */
	bud.left += (size_t)b->n_records * 1024;
	if (budget_charge(&bud, b->n_records * sizeof(*out->items)))
		goto over;
	spans = record_spans(raw.data, raw.len, 5, b->n_records);
	out->items =
	    xcalloc(b->n_records ? b->n_records : 1, sizeof(*out->items));
	for (size_t i = 0; i < b->n_records; i++) {
		item_read(b->records[i], spans ? &spans[i] : NULL, 1,
			  &out->items[i]);
		out->n = i + 1;
		if (budget_charge(&bud, sizeof(struct gb_record) +
					    2 * out->items[i].raw_len))
			goto over;
	}
	ret = 0;
	goto out;
over:
	gb_error(err, GB_ETOOBIG,
		 _("batch of %zu bytes needs too much memory to unpack"),
		 raw.len);
out:
	free(spans);
	if (b)
		protobuf_c_message_free_unpacked(&b->base, &bud.a);
	gb_buf_release(&raw);
	if (ret)
		wire_batch_release(out);
	return ret;
}

void wire_batch_release(struct wire_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		item_release(&b->items[i]);
	free(b->items);
	b->items = NULL;
	b->n = 0;
}

/* ---- acks ------------------------------------------------------------ */

int wire_ack_encode(const struct wire_ack *a, struct gb_buf *out,
		    struct gb_err *err)
{
	Gridbook__Ack m = GRIDBOOK__ACK__INIT;
	size_t n = a->n ? a->n : 1;
	Gridbook__Ack__Item *its = xcalloc(n, sizeof(*its));
	Gridbook__Ack__Item **ptrs = xcalloc(n, sizeof(*ptrs));
	uint8_t *ids = xcalloc(n, UUID_BYTES);
	uint8_t *packed = NULL;
	size_t len;
	int ret = -1;

	m.has_seq = 1;
	m.seq = a->seq;
	m.has_server_time = 1;
	m.server_time = a->server_time;
	m.has_records = a->records != 0;
	m.records = a->records;
	m.has_device_seq = a->device_seq != 0;
	m.device_seq = a->device_seq;
	m.has_renumber = a->renumber != 0;
	m.renumber = a->renumber != 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct wire_ack_item *ai = &a->items[i];
		Gridbook__Ack__Item *it = &its[i];

		gridbook__ack__item__init(it);
		if (ai->id[0]) {
			if (gb_uuid_bytes(ai->id, ids + i * UUID_BYTES)) {
				gb_error(err, GB_EINVAL,
					 _("ack item %zu: \"%s\" is not a "
					   "record id"),
					 i + 1, ai->id);
				goto out;
			}
			it->has_id = 1;
			it->id.data = ids + i * UUID_BYTES;
			it->id.len = UUID_BYTES;
		}
		it->has_version = 1;
		it->version = ai->version;
		it->has_status = 1;
		it->status = (Gridbook__Ack__Status)ai->status;
		it->reason_code = opt_str(ai->reason_code);
		it->reason = opt_str(ai->reason);
		it->has_transient = ai->transient != 0;
		it->transient = ai->transient != 0;
		ptrs[i] = it;
	}
	m.n_items = a->n;
	m.items = ptrs;
	packed = pack_new(&m.base, &len);
	gb_buf_reset(out);
	ret = gb_buf_add(out, packed, len, err);
out:
	free(packed);
	free(ids);
	free(ptrs);
	free(its);
	return ret;
}

static int ack_item_read(const Gridbook__Ack__Item *m, size_t i,
			 struct wire_ack_item *it, struct gb_err *err)
{
	char name[48];

	snprintf(name, sizeof(name), "ack item %zu", i + 1);
	if (copy_id(it->id, m->has_id, &m->id, 0, name, err))
		return -1;
	it->version = m->has_version ? m->version : 0;
	if (!m->has_status || (int)m->status < (int)WIRE_ACCEPTED ||
	    (int)m->status > (int)WIRE_CONFLICT)
		return gb_error(err, GB_EPROTO, _("%s: unknown status %d"),
				name, m->has_status ? (int)m->status : 0);
	it->status = (enum wire_status)m->status;
	it->transient =
	    m->has_transient && m->transient && it->status == WIRE_REJECTED;
	if (copy_code(it->reason_code, sizeof(it->reason_code), m->reason_code,
		      name, err))
		return -1;
	return copy_text(&it->reason, m->reason, name, err);
}

int wire_ack_decode(const void *p, size_t n, struct wire_ack *out,
		    struct gb_err *err)
{
	struct budget bud;
	Gridbook__Ack *a = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (n > WIRE_MAX_BODY) {
		gb_error(err, GB_ETOOBIG,
			 _("ack of %zu bytes is over the limit of %u"), n,
			 WIRE_MAX_BODY);
		goto out;
	}
	a = (Gridbook__Ack *)unpack_capped(&gridbook__ack__descriptor, &bud, p,
					   n, err);
	if (!a)
		goto out;
	out->seq = a->has_seq ? a->seq : 0;
	out->server_time = a->has_server_time ? a->server_time : 0;
	out->records = a->has_records ? a->records : 0;
	out->device_seq = a->has_device_seq ? a->device_seq : 0;
	out->renumber = a->has_renumber && a->renumber;
	/* A compact ack names fewer records than the batch held. */
	if (out->records && a->n_items > out->records) {
		gb_error(err, GB_EPROTO,
			 _("ack records: %" PRIu32 " is fewer than its %zu "
			   "items"),
			 out->records, a->n_items);
		goto out;
	}
	out->items = xcalloc(a->n_items ? a->n_items : 1, sizeof(*out->items));
	out->n = a->n_items;
	for (size_t i = 0; i < a->n_items; i++)
		if (ack_item_read(a->items[i], i, &out->items[i], err))
			goto out;
	ret = 0;
out:
	if (a)
		protobuf_c_message_free_unpacked(&a->base, &bud.a);
	if (ret)
		wire_ack_release(out);
	return ret;
}

void wire_ack_release(struct wire_ack *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->items[i].reason);
	free(a->items);
	a->items = NULL;
	a->n = 0;
}

int wire_ack_compact(struct wire_ack *a, struct gb_err *err)
{
	size_t k = 0;

	if (a->records)
		return 0;
	if (a->n > UINT32_MAX)
		return gb_error(err, GB_ETOOBIG,
				_("ack of %zu records: a compact ack counts "
				  "at most %" PRIu32),
				a->n, UINT32_MAX);
	for (size_t i = 0; i < a->n; i++) {
		if (a->items[i].status == WIRE_ACCEPTED) {
			free(a->items[i].reason);
			continue;
		}
		a->items[k++] = a->items[i];
	}
	/* An empty batch stays full: records 0 would mean "full". */
	a->records = (uint32_t)a->n;
	a->n = k;
	return 0;
}

/* ---- change pages ---------------------------------------------------- */

void wire_page_init(struct wire_page *p)
{
	memset(p, 0, sizeof(*p));
}

void wire_page_release(struct wire_page *p)
{
	for (size_t i = 0; i < p->n; i++)
		gb_record_free(p->recs[i]);
	free(p->recs);
	for (size_t i = 0; i < p->nrefused; i++)
		item_release(&p->refused[i]);
	free(p->refused);
	for (size_t i = 0; i < p->ncommunities; i++)
		free(p->communities[i].name);
	free(p->communities);
	for (size_t i = 0; i < p->nareas; i++) {
		struct wire_area *a = &p->areas[i];

		free(a->name);
		free(a->room);
		for (size_t j = 0; j < a->ncommunities; j++)
			free(a->communities[j]);
		free(a->communities);
	}
	free(p->areas);
	for (size_t i = 0; i < p->nstaff; i++)
		free(p->staff[i].name);
	free(p->staff);
	wire_page_init(p);
}

/* Optional int64 of a reference row: -1 means not sent. */
static void opt_i64(int64_t v, protobuf_c_boolean *has, int64_t *dst)
{
	*has = v >= 0;
	*dst = v >= 0 ? v : 0;
}

/* Appends varint v to plain. */
static int put_varint(struct gb_buf *plain, uint64_t v, struct gb_err *err)
{
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	return gb_buf_add(plain, b, n, err);
}

/*
 * The records of an outgoing page, appended to plain as the field
 * ChangesPage.records (1) each: a stored version as the very bytes
 * stored, which were a Record when they came in and stay one, so that
 * serving a page does not unpack and pack again what it only passes on
 * (the other fields are packed after them; a message is the
 * concatenation of its fields in any order).  A record given as a
 * struct is packed here.
 */
static int page_records(const struct wire_page *p, struct gb_buf *plain,
			struct gb_err *err)
{
	for (size_t i = 0; i < p->n; i++) {
		const void *bytes;
		uint8_t *packed = NULL;
		size_t n;
		int rc;

		if (p->raw && p->raw[i]) {
			bytes = p->raw[i];
			n = p->raw_len[i];
		} else {
			Gridbook__Record *m;

			if (record_to_msg(p->recs[i], &m, err))
				return gb_error_prefix(err, _("record %s"),
						       p->recs[i]->id);
			packed = pack_new(&m->base, &n);
			protobuf_c_message_free_unpacked(&m->base, NULL);
			bytes = packed;
		}
		rc = gb_buf_add(plain, "\x0a", 1, err);
		if (rc == 0)
			rc = put_varint(plain, n, err);
		if (rc == 0 && n)
			rc = gb_buf_add(plain, bytes, n, err);
		free(packed);
		if (rc)
			return -1;
	}
	return 0;
}

int wire_page_encode(const struct wire_page *p, struct gb_buf *out,
		     struct gb_err *err)
{
	Gridbook__ChangesPage m = GRIDBOOK__CHANGES_PAGE__INIT;
	Gridbook__Community *cs = xcalloc(p->ncommunities + 1, sizeof(*cs));
	Gridbook__Community **cps = xcalloc(p->ncommunities + 1, sizeof(*cps));
	Gridbook__PoliceArea *as = xcalloc(p->nareas + 1, sizeof(*as));
	Gridbook__PoliceArea **aps = xcalloc(p->nareas + 1, sizeof(*aps));
	Gridbook__Staff *ss = xcalloc(p->nstaff + 1, sizeof(*ss));
	Gridbook__Staff **sps = xcalloc(p->nstaff + 1, sizeof(*sps));
	uint8_t *packed = NULL;
	struct gb_buf plain;
	size_t len;
	int ret = -1;

	gb_buf_reset(out);
	gb_buf_init(&plain, GB_BUF_NOLIMIT);
	if (page_records(p, &plain, err))
		goto out;
	for (size_t i = 0; i < p->ncommunities; i++) {
		const struct wire_community *c = &p->communities[i];
		Gridbook__Community *x = &cs[i];

		gridbook__community__init(x);
		x->code = opt_str(c->code);
		x->name = opt_str(c->name);
		x->street = opt_str(c->street);
		x->grid = opt_str(c->grid);
		opt_i64(c->population, &x->has_population, &x->population);
		opt_i64(c->criminal_cases, &x->has_criminal_cases,
			&x->criminal_cases);
		opt_i64(c->patrol_team, &x->has_patrol_team, &x->patrol_team);
		cps[i] = x;
	}
	for (size_t i = 0; i < p->nareas; i++) {
		const struct wire_area *a = &p->areas[i];
		Gridbook__PoliceArea *x = &as[i];

		gridbook__police_area__init(x);
		x->code = opt_str(a->code);
		x->name = opt_str(a->name);
		x->grid = opt_str(a->grid);
		x->room = opt_str(a->room);
		x->n_communities = a->ncommunities;
		x->communities = a->communities;
		aps[i] = x;
	}
	for (size_t i = 0; i < p->nstaff; i++) {
		const struct wire_staff *s = &p->staff[i];
		Gridbook__Staff *x = &ss[i];

		gridbook__staff__init(x);
		x->code = opt_str(s->code);
		x->name = opt_str(s->name);
		x->role = opt_str(s->role);
		x->grid = opt_str(s->grid);
		x->area = opt_str(s->area);
		sps[i] = x;
	}
	m.n_communities = p->ncommunities;
	m.communities = cps;
	m.n_areas = p->nareas;
	m.areas = aps;
	m.n_staff = p->nstaff;
	m.staff = sps;
	m.next_cursor = opt_str(p->next_cursor);
	m.has_more = 1;
	m.more = !!p->more;
	m.has_device_seq = p->device_seq != 0;
	m.device_seq = p->device_seq;
	packed = pack_new(&m.base, &len);
	if (gb_buf_add(&plain, packed, len, err) ||
	    wire_deflate_level(plain.data ? plain.data : "", plain.len,
			       PAGE_LEVEL, out, err))
		goto out;
	ret = 0;
out:
	gb_buf_release(&plain);
	free(packed);
	free(sps);
	free(ss);
	free(aps);
	free(as);
	free(cps);
	free(cs);
	return ret;
}

static int page_community(const Gridbook__Community *m, size_t i,
			  struct wire_community *c, struct gb_err *err)
{
	char name[48];

	snprintf(name, sizeof(name), "community %zu", i + 1);
	c->population = m->has_population ? m->population : -1;
	c->criminal_cases = m->has_criminal_cases ? m->criminal_cases : -1;
	c->patrol_team = m->has_patrol_team ? m->patrol_team : -1;
	if (copy_code(c->code, sizeof(c->code), m->code, name, err) ||
	    copy_code(c->grid, sizeof(c->grid), m->grid, name, err) ||
	    copy_code(c->street, sizeof(c->street), m->street, name, err))
		return -1;
	return copy_text(&c->name, m->name, name, err);
}

static int page_area(const Gridbook__PoliceArea *m, size_t i,
		     struct wire_area *a, struct gb_err *err)
{
	char name[48];

	snprintf(name, sizeof(name), "police area %zu", i + 1);
	if (copy_code(a->code, sizeof(a->code), m->code, name, err) ||
	    copy_code(a->grid, sizeof(a->grid), m->grid, name, err) ||
	    copy_text(&a->name, m->name, name, err) ||
	    copy_text(&a->room, m->room, name, err))
		return -1;
	a->communities = xcalloc(m->n_communities + 1, sizeof(*a->communities));
	for (size_t j = 0; j < m->n_communities; j++) {
		char code[GB_CODE_LEN];

		if (copy_code(code, sizeof(code), m->communities[j], name, err))
			return -1;
		a->communities[j] = xstrdup(code);
		a->ncommunities = j + 1;
	}
	return 0;
}

static int page_staff(const Gridbook__Staff *m, size_t i, struct wire_staff *s,
		      struct gb_err *err)
{
	char name[48];

	snprintf(name, sizeof(name), "staff %zu", i + 1);
	if (copy_code(s->code, sizeof(s->code), m->code, name, err) ||
	    copy_code(s->grid, sizeof(s->grid), m->grid, name, err) ||
	    copy_code(s->role, sizeof(s->role), m->role, name, err) ||
	    copy_code(s->area, sizeof(s->area), m->area, name, err))
		return -1;
	return copy_text(&s->name, m->name, name, err);
}

/* Moves the records of a received page into p: the readable ones into
 * recs, the others into refused. */
static void page_take_records(const Gridbook__ChangesPage *m,
			      const struct gb_buf *raw, struct wire_page *p)
{
	size_t n = m->n_records + 1;
	struct span *spans = record_spans(raw->data, raw->len, 1, m->n_records);

	p->recs = xcalloc(n, sizeof(*p->recs));
	p->refused = xcalloc(n, sizeof(*p->refused));
	for (size_t i = 0; i < m->n_records; i++) {
		struct wire_item it;

		item_read(m->records[i], spans ? &spans[i] : NULL, 0, &it);
		if (it.rec) {
			p->recs[p->n++] = it.rec;
		} else {
			p->refused[p->nrefused++] = it;
		}
	}
	free(spans);
}

int wire_page_decode(const void *body, size_t len, struct wire_page *out,
		     struct gb_err *err)
{
	struct gb_buf raw;
	struct budget bud;
	Gridbook__ChangesPage *m = NULL;
	int ret = -1;

	wire_page_init(out);
	if (body_inflate(body, len, &raw, err))
		goto out;
	m = (Gridbook__ChangesPage *)unpack_capped(
	    &gridbook__changes_page__descriptor, &bud, raw.data, raw.len, err);
	if (!m)
		goto out;
	page_take_records(m, &raw, out);
	/* Each row is counted before it is read, so that a failure half
	 * way leaves it for wire_page_release to free. */
	out->communities =
	    xcalloc(m->n_communities + 1, sizeof(*out->communities));
	for (size_t i = 0; i < m->n_communities; i++) {
		out->ncommunities = i + 1;
		if (page_community(m->communities[i], i, &out->communities[i],
				   err))
			goto out;
	}
	out->areas = xcalloc(m->n_areas + 1, sizeof(*out->areas));
	for (size_t i = 0; i < m->n_areas; i++) {
		out->nareas = i + 1;
		if (page_area(m->areas[i], i, &out->areas[i], err))
			goto out;
	}
	out->staff = xcalloc(m->n_staff + 1, sizeof(*out->staff));
	for (size_t i = 0; i < m->n_staff; i++) {
		out->nstaff = i + 1;
		if (page_staff(m->staff[i], i, &out->staff[i], err))
			goto out;
	}
	if (copy_code(out->next_cursor, sizeof(out->next_cursor),
		      m->next_cursor, "next_cursor", err))
		goto out;
	out->more = m->has_more && m->more;
	out->device_seq = m->has_device_seq ? m->device_seq : 0;
	ret = 0;
out:
	if (m)
		protobuf_c_message_free_unpacked(&m->base, &bud.a);
	gb_buf_release(&raw);
	if (ret)
		wire_page_release(out);
	return ret;
}

/* ---- zlib ------------------------------------------------------------ */

/* wire_deflate_level with the level's search tuned as t says, when t is
 * not NULL.  Appends to out; returns 0 or -1 with err. */
static int deflate_tuned(const void *in, size_t n, int level,
			 const struct ztune *t, struct gb_buf *out,
			 struct gb_err *err)
{
	unsigned char chunk[ZCHUNK];
	z_stream z;
	int zr, ret = -1;

	if (n > UINT_MAX)
		return gb_error(err, GB_ETOOBIG,
				_("%zu bytes are too many to deflate"), n);
	memset(&z, 0, sizeof(z));
	if (level < 1 || level > 9)
		level = DEFLATE_LEVEL;
	if (deflateInit(&z, level) != Z_OK)
		return gb_error(err, GB_EINTERNAL, _("deflate: cannot start"));
	if (t && t->chain &&
	    deflateTune(&z, t->good, t->lazy, t->nice, t->chain) != Z_OK) {
		gb_error(err, GB_EINTERNAL, _("deflate: cannot start"));
		goto out;
	}
	if (deflateSetDictionary(&z, (const Bytef *)dict, sizeof(dict) - 1) !=
	    Z_OK) {
		gb_error(err, GB_EINTERNAL, _("deflate: dictionary refused"));
		goto out;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			gb_error(err, GB_EINTERNAL, _("deflate: stream error"));
			goto out;
		}
		if (gb_buf_add(out, chunk, sizeof(chunk) - z.avail_out, err))
			goto out;
	} while (zr != Z_STREAM_END);
	ret = 0;
out:
	deflateEnd(&z);
	return ret;
}

int wire_deflate_level(const void *in, size_t n, int level, struct gb_buf *out,
		       struct gb_err *err)
{
	return deflate_tuned(in, n, level, NULL, out, err);
}

int wire_deflate(const void *in, size_t n, struct gb_buf *out,
		 struct gb_err *err)
{
	return wire_deflate_level(in, n, DEFLATE_LEVEL, out, err);
}

int wire_inflate(const void *in, size_t n, size_t max_out, struct gb_buf *out,
		 struct gb_err *err)
{
	unsigned char chunk[ZCHUNK];
	size_t limit = max_out, total = 0;
	z_stream z;
	int zr, ret = -1;

	if (n > UINT_MAX)
		return gb_error(err, GB_ETOOBIG,
				_("%zu bytes are too many to inflate"), n);
	if (n <= limit / WIRE_MAX_RATIO)
		limit = n * WIRE_MAX_RATIO;
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		return gb_error(err, GB_EINTERNAL, _("inflate: cannot start"));
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	for (;;) {
		size_t have;

		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_NEED_DICT) {
			if (inflateSetDictionary(&z, (const Bytef *)dict,
						 sizeof(dict) - 1) != Z_OK) {
				gb_error(err, GB_EPROTO,
					 _("body is deflated with an unknown "
					   "preset dictionary"));
				goto out;
			}
			continue;
		}
		if (zr == Z_BUF_ERROR) {
			gb_error(err, GB_EPROTO,
				 _("deflated body is truncated"));
			goto out;
		}
		if (zr != Z_OK && zr != Z_STREAM_END) {
			gb_error(err,
				 zr == Z_MEM_ERROR ? GB_EINTERNAL : GB_EPROTO,
				 _("deflated body is corrupt (%s)"),
				 z.msg ? z.msg : zError(zr));
			goto out;
		}
		have = sizeof(chunk) - z.avail_out;
		if (have > limit - total) {
			gb_error(err, GB_ETOOBIG,
				 _("body inflates past %zu bytes (limit: %zu "
				   "bytes, at most %d times the %zu deflated)"),
				 limit, max_out, WIRE_MAX_RATIO, n);
			goto out;
		}
		total += have;
		if (gb_buf_add(out, chunk, have, err))
			goto out;
		if (zr == Z_STREAM_END)
			break;
	}
	if (z.avail_in) {
		gb_error(err, GB_EPROTO,
			 _("%u bytes follow the end of the deflated body"),
			 z.avail_in);
		goto out;
	}
	ret = 0;
out:
	inflateEnd(&z);
	return ret;
}

/* ---- schema check ---------------------------------------------------- */

static const char *ptype_name(ProtobufCType t, ProtobufCLabel l)
{
	if (l == PROTOBUF_C_LABEL_REPEATED)
		return t == PROTOBUF_C_TYPE_STRING ? "repeated string"
						   : "repeated field";
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
		return "int32";
	case PROTOBUF_C_TYPE_INT64:
		return "int64";
	case PROTOBUF_C_TYPE_ENUM:
		return "enum";
	case PROTOBUF_C_TYPE_STRING:
		return "string";
	case PROTOBUF_C_TYPE_BYTES:
		return "bytes";
	case PROTOBUF_C_TYPE_MESSAGE:
		return "message";
	default:
		return "another type";
	}
}

static int check_enum(const struct gb_kind *k, const struct gb_field *f,
		      const ProtobufCFieldDescriptor *pf, struct gb_err *err)
{
	const ProtobufCEnumDescriptor *ed = pf->descriptor;
	int n = nchoices(f);

	if ((int)ed->n_values != n + 1)
		return gb_error(err, GB_EINTERNAL,
				_("kind %s: field %s has %d choices but enum "
				  "%s has %u values besides 0"),
				k->name, f->name, n, ed->name,
				ed->n_values - 1);
	for (int i = 0; i < n; i++) {
		const ProtobufCEnumValue *ev;
		char up[64];
		size_t j;

		for (j = 0; f->choices[i][j] && j < sizeof(up) - 1; j++) {
			char c = f->choices[i][j];

			up[j] =
			    c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
		}
		up[j] = '\0';
		ev = protobuf_c_enum_descriptor_get_value(ed, i + 1);
		if (!ev || strcmp(ev->name, up) != 0)
			return gb_error(err, GB_EINTERNAL,
					_("kind %s: field %s: choice %s should "
					  "be value %d (%s) of enum %s"),
					k->name, f->name, f->choices[i], i + 1,
					up, ed->name);
	}
	return 0;
}

int wire_kind_check(const struct gb_kind *k, struct gb_err *err)
{
	const ProtobufCFieldDescriptor *bf = body_field(k);
	const ProtobufCMessageDescriptor *bd;

	if (!bf)
		return gb_error(err, GB_EINTERNAL,
				_("kind %s: no message member %s in the body "
				  "of gridbook.Record"),
				k->name, k->name);
	bd = bf->descriptor;
	for (int i = 0; i < k->nfields; i++) {
		const struct gb_field *f = &k->fields[i];
		const ProtobufCFieldDescriptor *pf;
		ProtobufCType type;
		ProtobufCLabel label;

		pf = protobuf_c_message_descriptor_get_field_by_name(bd,
								     f->name);
		if (!pf)
			return gb_error(err, GB_EINTERNAL,
					_("kind %s: field %s has no field of "
					  "that name in message %s"),
					k->name, f->name, bd->name);
		if (!field_compatible(f, pf)) {
			wire_type(f, &type, &label);
			return gb_error(
			    err, GB_EINTERNAL,
			    _("kind %s: field %s is %s in kinds.c "
			      "and should be %s, but %s.%s is %s"),
			    k->name, f->name, gb_type_names[f->type],
			    ptype_name(type, label), bd->name, pf->name,
			    ptype_name(pf->type, pf->label));
		}
		if (f->type == GB_T_ENUM && check_enum(k, f, pf, err))
			return -1;
	}
	for (unsigned i = 0; i < bd->n_fields; i++)
		if (gb_kind_field(k, bd->fields[i].name) < 0)
			return gb_error(err, GB_EINTERNAL,
					_("field %s.%s has no entry in the "
					  "table of kind %s"),
					bd->name, bd->fields[i].name, k->name);
	return 0;
}

/* The kind of table kinds (n entries) named name, or NULL. */
static const struct gb_kind *table_find(const struct gb_kind *kinds, int n,
					const char *name)
{
	for (int i = 0; i < n; i++)
		if (gb_name_eq(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

int wire_schema_check_table(const struct gb_kind *kinds, int n,
			    struct gb_err *err)
{
	const ProtobufCMessageDescriptor *rd = &gridbook__record__descriptor;

	for (int i = 0; i < n; i++) {
		if (kinds[i].nfields > GB_MAX_FIELDS)
			return gb_error(err, GB_EINTERNAL,
					_("kind %s has more than %d fields"),
					kinds[i].name, GB_MAX_FIELDS);
		if (wire_kind_check(&kinds[i], err))
			return -1;
	}
	for (unsigned i = 0; i < rd->n_fields; i++) {
		const ProtobufCFieldDescriptor *pf = &rd->fields[i];

		if ((pf->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    !table_find(kinds, n, pf->name))
			return gb_error(err, GB_EINTERNAL,
					_("member %s of gridbook.Record's body "
					  "is not a kind of kinds.c"),
					pf->name);
	}
	return 0;
}

int wire_schema_check(struct gb_err *err)
{
	return wire_schema_check_table(gb_kinds, gb_nkinds, err);
}

int wire_start_check(const char *prog)
{
	struct gb_err err = {GB_OK, ""};

	if (wire_schema_check(&err) == 0)
		return 0;
	fprintf(stderr,
		_("%s: the kinds table (common/kinds.c) and the wire format "
		  "(proto/gridbook.proto) disagree, so nothing is started: "
		  "%s\n"),
		prog, err.msg);
	return -1;
}
