/*
 * The entries of the ten record kinds: fields, list columns, the rules
 * between fields, the uniqueness rule and the report hook of each.  This
 * file is SPEC §2 written as data; validate.c checks the rules (struct
 * gb_rule) the entries name, and the request deadline, the one value
 * derived from others, is computed there.
 */
#include <locale.h>
#include <string.h>

#include "i18n.h"
#include "kinds.h"
#ifdef GB_TEST_KIND
/* make testkind: one kind more (tests/testkind/testkind.h) */
#include "testkind.h"
#endif

#include "banned.h"

const char *const gb_type_names[] = {
    "text", "int", "money", "date", "time", "enum", "ref", "list", "uscc",
};

static const char *const ent_types[] = {"company", "individual",
					"non_enterprise", NULL};
static const char *const ent_status[] = {"active", "closed", NULL};
static const char *const outcomes[] = {"compliant", "notice", "rectify_order",
				       "referred", NULL};
static const char *const rect_results[] = {"rectified", "not_yet", "escalated",
					   NULL};
static const char *const dispute_cats[] = {"wages",	"contract", "insurance",
					   "dismissal", "other",    NULL};
static const char *const dispute_levels[] = {"community", "street", "district",
					     NULL};
static const char *const dispute_status[] = {"open", "mediated", "escalated",
					     "closed", NULL};
static const char *const patrol_modes[] = {"foot", "bicycle", "vehicle", NULL};
static const char *const channels[] = {"phone", "walk_in", "online", NULL};
static const char *const req_cats[] = {"alarm", "help", "inquiry", NULL};
static const char *const priorities[] = {"urgent", "normal", "low", NULL};

/*
 * The words people read for the choice codes, by set: a code is shown in
 * the user's language and what is typed may be the code or the word.  The
 * context tells translators (and the catalogue) which set a word is of,
 * since "closed" of an enterprise and of a dispute are different words.
 */
struct choice_word {
	const char *const *set;
	const char *ctx;
	const char *code;
};

static const struct choice_word choice_words[] = {
    {ent_types, NC_("enterprise type", "company")},
    {ent_types, NC_("enterprise type", "individual")},
    {ent_types, NC_("enterprise type", "non_enterprise")},
    {ent_status, NC_("enterprise status", "active")},
    {ent_status, NC_("enterprise status", "closed")},
    {outcomes, NC_("check outcome", "compliant")},
    {outcomes, NC_("check outcome", "notice")},
    {outcomes, NC_("check outcome", "rectify_order")},
    {outcomes, NC_("check outcome", "referred")},
    {rect_results, NC_("rectification result", "rectified")},
    {rect_results, NC_("rectification result", "not_yet")},
    {rect_results, NC_("rectification result", "escalated")},
    {dispute_cats, NC_("dispute category", "wages")},
    {dispute_cats, NC_("dispute category", "contract")},
    {dispute_cats, NC_("dispute category", "insurance")},
    {dispute_cats, NC_("dispute category", "dismissal")},
    {dispute_cats, NC_("dispute category", "other")},
    {dispute_levels, NC_("dispute level", "community")},
    {dispute_levels, NC_("dispute level", "street")},
    {dispute_levels, NC_("dispute level", "district")},
    {dispute_status, NC_("dispute status", "open")},
    {dispute_status, NC_("dispute status", "mediated")},
    {dispute_status, NC_("dispute status", "escalated")},
    {dispute_status, NC_("dispute status", "closed")},
    {patrol_modes, NC_("patrol mode", "foot")},
    {patrol_modes, NC_("patrol mode", "bicycle")},
    {patrol_modes, NC_("patrol mode", "vehicle")},
    {channels, NC_("request channel", "phone")},
    {channels, NC_("request channel", "walk_in")},
    {channels, NC_("request channel", "online")},
    {req_cats, NC_("request category", "alarm")},
    {req_cats, NC_("request category", "help")},
    {req_cats, NC_("request category", "inquiry")},
    {priorities, NC_("request priority", "urgent")},
    {priorities, NC_("request priority", "normal")},
    {priorities, NC_("request priority", "low")},
};

#define BIG INT64_C(1000000000)
#define NONNEG 0, BIG

#define F(n, l, t, fl)                                                         \
	{                                                                      \
		n, l, t, fl, GB_REF_NONE, NULL, NULL, 0, 0                     \
	}
#define FD(n, l, t, fl, d)                                                     \
	{                                                                      \
		n, l, t, fl, GB_REF_NONE, NULL, d, 0, 0                        \
	}
#define FI(n, l, fl, d, ...)                                                   \
	{                                                                      \
		n, l, GB_T_INT, fl, GB_REF_NONE, NULL, d, __VA_ARGS__          \
	}
#define FE(n, l, fl, ch, d)                                                    \
	{                                                                      \
		n, l, GB_T_ENUM, fl, GB_REF_NONE, ch, d, 0, 0                  \
	}
#define FR(n, l, fl, r, d)                                                     \
	{                                                                      \
		n, l, GB_T_REF, fl, r, NULL, d, 0, 0                           \
	}
#define FL(n, l, fl, r)                                                        \
	{                                                                      \
		n, l, GB_T_LIST, fl, r, NULL, NULL, 0, 0                       \
	}

#define REQ GB_F_REQUIRED
#define PAST GB_F_PAST

static const struct gb_field enterprise_fields[] = {
    F("uscc", N_("unified social credit code"), GB_T_USCC, REQ),
    F("name", N_("enterprise name"), GB_T_TEXT, REQ),
    FE("type", N_("type"), REQ, ent_types, "company"),
    FR("community", N_("community"), REQ, GB_REF_COMMUNITY, NULL),
    F("address", N_("address"), GB_T_TEXT, 0),
    F("industry", N_("industry"), GB_T_TEXT, 0),
    FI("employees", N_("employee count"), REQ, NULL, NONNEG),
    FE("status", N_("status"), REQ, ent_status, "active"),
};

static const struct gb_field check_fields[] = {
    FR("enterprise", N_("enterprise"), REQ, GB_REF_ENTERPRISE, NULL),
    FD("check_date", N_("check date"), GB_T_DATE, REQ | PAST, "@today"),
    FR("coordinator", N_("coordinator"), REQ | GB_F_COORD, GB_REF_STAFF, "@me"),
    FI("employees_total", N_("employees in total"), REQ, NULL, NONNEG),
    FI("contracts_signed", N_("employees with a signed contract"), REQ, NULL,
       NONNEG),
    FI("insured", N_("employees insured"), REQ, NULL, NONNEG),
    FI("hiring_registered", N_("employees with hiring registered"), REQ, NULL,
       NONNEG),
    FD("wage_arrears", N_("wage arrears (yuan)"), GB_T_MONEY, 0, "0.00"),
    F("findings", N_("findings"), GB_T_TEXT, GB_F_LONG),
    FE("outcome", N_("outcome"), REQ, outcomes, "compliant"),
    F("deadline", N_("rectification deadline"), GB_T_DATE, 0),
};

static const struct gb_field rect_fields[] = {
    FR("check", N_("contract check"), REQ, GB_REF_CHECK, NULL),
    FD("date", N_("follow-up date"), GB_T_DATE, REQ | PAST, "@today"),
    FE("result", N_("result"), REQ, rect_results, NULL),
    F("note", N_("note"), GB_T_TEXT, GB_F_LONG),
};

static const struct gb_field dispute_fields[] = {
    FR("enterprise", N_("enterprise"), 0, GB_REF_ENTERPRISE, NULL),
    FI("workers", N_("workers involved"), REQ, "1", 1, BIG),
    FE("category", N_("category"), REQ, dispute_cats, NULL),
    FD("received_date", N_("received date"), GB_T_DATE, REQ | PAST, "@today"),
    FE("level", N_("handled at level"), REQ, dispute_levels, "community"),
    FE("status", N_("status"), REQ, dispute_status, "open"),
    F("closed_date", N_("closed date"), GB_T_DATE, PAST),
    F("note", N_("note"), GB_T_TEXT, GB_F_LONG),
};

static const struct gb_field employment_fields[] = {
    FR("enterprise", N_("enterprise"), REQ, GB_REF_ENTERPRISE, NULL),
    FD("date", N_("date"), GB_T_DATE, REQ | PAST, "@today"),
    FI("headcount", N_("headcount"), REQ, NULL, NONNEG),
    FI("hires", N_("hires"), REQ, "0", NONNEG),
    FI("separations", N_("separations"), REQ, "0", NONNEG),
    FI("vacancies", N_("vacancies"), REQ, "0", NONNEG),
};

static const struct gb_field patrol_fields[] = {
    FR("area", N_("police area"), REQ, GB_REF_AREA, NULL),
    F("start", N_("start time"), GB_T_TIME, REQ | PAST),
    F("end", N_("end time"), GB_T_TIME, REQ | PAST),
    FR("leader", N_("leading officer"), REQ | GB_F_OFFICER, GB_REF_STAFF,
       "@me"),
    FL("guards", N_("security guards"), GB_F_GUARD, GB_REF_STAFF),
    FE("mode", N_("mode"), REQ, patrol_modes, "foot"),
    FL("communities", N_("communities covered"), 0, GB_REF_COMMUNITY),
    FI("incidents", N_("incidents"), REQ, "0", NONNEG),
    F("note", N_("note"), GB_T_TEXT, GB_F_LONG),
};

static const struct gb_field handover_fields[] = {
    FR("area", N_("police area"), REQ, GB_REF_AREA, NULL),
    FD("time", N_("handover time"), GB_T_TIME, REQ | PAST, "@now"),
    FR("from_officer", N_("officer handing over"), REQ | GB_F_OFFICER,
       GB_REF_STAFF, "@me"),
    FR("to_officer", N_("officer taking over"), REQ | GB_F_OFFICER,
       GB_REF_STAFF, NULL),
    F("open_items", N_("open items"), GB_T_TEXT, GB_F_LONG),
    F("note", N_("note"), GB_T_TEXT, GB_F_LONG),
};

static const struct gb_field daily_fields[] = {
    FR("officer", N_("officer"), REQ | GB_F_OFFICER, GB_REF_STAFF, "@me"),
    FD("date", N_("date"), GB_T_DATE, REQ | PAST, "@today"),
    FI("households", N_("households visited"), REQ, "0", NONNEG),
    FI("resident_checks", N_("resident population checks"), REQ, "0", NONNEG),
    FI("temporary_checks", N_("temporary population checks"), REQ, "0", NONNEG),
    FI("key_checks", N_("key population checks"), REQ, "0", NONNEG),
    FI("places", N_("places inspected"), REQ, "0", NONNEG),
    FI("disputes_mediated", N_("disputes mediated"), REQ, "0", NONNEG),
    F("summary", N_("summary"), GB_T_TEXT, GB_F_LONG),
};

static const struct gb_field reception_fields[] = {
    FR("officer", N_("officer"), REQ | GB_F_OFFICER, GB_REF_STAFF, "@me"),
    FR("room", N_("police room (area)"), REQ, GB_REF_AREA, NULL),
    F("start", N_("start time"), GB_T_TIME, REQ | PAST),
    F("end", N_("end time"), GB_T_TIME, REQ | PAST),
    FI("visitors", N_("visitors"), REQ, "0", NONNEG),
    F("note", N_("note"), GB_T_TEXT, GB_F_LONG),
};

static const struct gb_field request_fields[] = {
    FR("area", N_("police area"), REQ, GB_REF_AREA, NULL),
    FD("received_at", N_("received at"), GB_T_TIME, REQ | PAST, "@now"),
    FE("channel", N_("channel"), REQ, channels, "phone"),
    FE("category", N_("category"), REQ, req_cats, NULL),
    FE("priority", N_("priority"), REQ, priorities, "normal"),
    FR("officer", N_("assigned officer"), REQ | GB_F_OFFICER, GB_REF_STAFF,
       "@me"),
    /* Empty means: from priority (urgent 1 h, normal 24 h, low 5
     * working days); gb_record_apply_defaults fills it in. */
    F("deadline", N_("deadline"), GB_T_TIME, 0),
    F("resolved_at", N_("resolved at"), GB_T_TIME, PAST),
    F("subject", N_("subject"), GB_T_TEXT, 0),
    F("result", N_("result"), GB_T_TEXT, GB_F_LONG),
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The rules between fields (kinds.h, struct gb_rule), by kind. */
#define RULE(op, a, b)                                                         \
	{                                                                      \
		op, a, b, NULL, NULL                                           \
	}
#define RULE_WHEN(op, a, b, is)                                                \
	{                                                                      \
		op, a, b, is, NULL                                             \
	}
#define RULE_MSG(op, a, b, msg)                                                \
	{                                                                      \
		op, a, b, NULL, msg                                            \
	}
#define RULES_END                                                              \
	{                                                                      \
		GB_RULE_END, NULL, NULL, NULL, NULL                            \
	}

static const struct gb_rule check_rules[] = {
    RULE(GB_RULE_AT_MOST, "contracts_signed", "employees_total"),
    RULE(GB_RULE_AT_MOST, "insured", "employees_total"),
    RULE(GB_RULE_AT_MOST, "hiring_registered", "employees_total"),
    RULE_WHEN(GB_RULE_REQUIRED_WHEN, "deadline", "outcome", "rectify_order"),
    RULE(GB_RULE_AFTER, "deadline", "check_date"),
    RULES_END,
};

static const struct gb_rule rect_rules[] = {
    RULE(GB_RULE_FOLLOWS_UP, "check", "date"),
    RULES_END,
};

static const struct gb_rule dispute_rules[] = {
    RULE(GB_RULE_NOT_BEFORE, "closed_date", "received_date"),
    RULE_WHEN(GB_RULE_REQUIRED_WHEN, "closed_date", "status", "closed"),
    RULE_WHEN(GB_RULE_EMPTY_WHEN, "closed_date", "status", "open"),
    RULES_END,
};

static const struct gb_rule patrol_rules[] = {
    RULE(GB_RULE_AFTER, "end", "start"),
    RULE(GB_RULE_WITHIN_DAY, "end", "start"),
    RULE_MSG(GB_RULE_NOT_IN, "leader", "guards",
	     N_("%s: %s leads the patrol and cannot also be one of its "
		"guards")),
    RULES_END,
};

static const struct gb_rule handover_rules[] = {
    RULE_MSG(GB_RULE_DIFFERENT, "to_officer", "from_officer",
	     N_("%s: %s is also %s; a handover needs two officers")),
    RULES_END,
};

static const struct gb_rule reception_rules[] = {
    RULE(GB_RULE_AFTER, "end", "start"),
    RULE(GB_RULE_WITHIN_DAY, "end", "start"),
    RULES_END,
};

static const struct gb_rule request_rules[] = {
    RULE(GB_RULE_NOT_BEFORE, "resolved_at", "received_at"),
    RULE(GB_RULE_AFTER, "deadline", "received_at"),
    RULES_END,
};

#ifdef GB_TEST_KIND
GB_TEST_KIND_TABLES
#endif

/*
 * One entry a kind: everything the program knows of it that is not in
 * the generic code.  A kind added here (with its message in
 * proto/gridbook.proto, which every program checks at start) is entered,
 * listed, exported, imported and synced with no other change; only what
 * it means for HQ's reports (hook) needs code in server/rollup.c.
 */
const struct gb_kind gb_kinds[] = {
    {.name = "enterprise",
     .zh = "企业",
     .label = N_("enterprise"),
     .role = GB_ROLE_LABOUR,
     .fields = enterprise_fields,
     .nfields = N(enterprise_fields),
     .community_field = "community",
     .status_field = "status",
     .title_field = "name",
     .list_cols = {"name", "uscc", "type", "community", "employees", "status"},
     .unique = {GB_UNIQUE_REFUSE,
		{"uscc"},
		.dup_line = N_("uscc: %s is on line %s too"),
		.dup_grid = N_("uscc: the grid holds an enterprise with code "
			       "%s already")},
     .hook = GB_HOOK_ENTERPRISE},
    {.name = "contract_check",
     .zh = "劳动合同检查",
     .label = N_("labour-contract check"),
     .role = GB_ROLE_LABOUR,
     .fields = check_fields,
     .nfields = N(check_fields),
     .date_field = "check_date",
     .staff_field = "coordinator",
     .status_field = "outcome",
     .title_field = "enterprise",
     .list_cols = {"check_date", "enterprise", "coordinator", "employees_total",
		   "contracts_signed", "insured", "outcome", "deadline"},
     /* The deadline makes an order overdue or rectified on time. */
     .ask = {"findings", "deadline"},
     .ask_why = N_("a notice or rectification order needs its deadline to "
		   "count as overdue or rectified on time"),
     .rules = check_rules,
     .hook = GB_HOOK_CHECK},
    {.name = "rectification",
     .zh = "整改跟踪",
     .label = N_("rectification follow-up"),
     .role = GB_ROLE_LABOUR,
     .fields = rect_fields,
     .nfields = N(rect_fields),
     .date_field = "date",
     .status_field = "result",
     .title_field = "check",
     .list_cols = {"date", "check", "result", "note"},
     .rules = rect_rules,
     .hook = GB_HOOK_RECT},
    {.name = "dispute",
     .zh = "劳动争议",
     .label = N_("labour dispute"),
     .role = GB_ROLE_LABOUR,
     .fields = dispute_fields,
     .nfields = N(dispute_fields),
     .date_field = "received_date",
     .status_field = "status",
     .title_field = "category",
     .list_cols = {"received_date", "enterprise", "workers", "category",
		   "level", "status", "closed_date", "note"},
     .ask = {"enterprise"},
     .rules = dispute_rules,
     .hook = GB_HOOK_DISPUTE},
    {.name = "employment",
     .zh = "用工监测",
     .label = N_("employment monitoring"),
     .role = GB_ROLE_LABOUR,
     .fields = employment_fields,
     .nfields = N(employment_fields),
     .date_field = "date",
     .title_field = "enterprise",
     .list_cols = {"date", "enterprise", "headcount", "hires", "separations",
		   "vacancies"}},
    {.name = "patrol",
     .zh = "巡逻",
     .label = N_("patrol"),
     .role = GB_ROLE_POLICING,
     .fields = patrol_fields,
     .nfields = N(patrol_fields),
     .date_field = "start",
     .staff_field = "leader",
     .title_field = "area",
     .list_cols = {"start", "end", "area", "leader", "guards", "mode",
		   "incidents", "note"},
     /* A night counts with two or more guards. */
     .ask = {"guards"},
     .ask_why = N_("a night patrol counts in HQ's night-patrol report with "
		   "two or more guards"),
     .rules = patrol_rules,
     .hook = GB_HOOK_PATROL},
    {.name = "handover",
     .zh = "交接班日志",
     .label = N_("shift handover"),
     .role = GB_ROLE_POLICING,
     .fields = handover_fields,
     .nfields = N(handover_fields),
     .date_field = "time",
     .staff_field = "from_officer",
     .title_field = "area",
     .list_cols = {"time", "area", "from_officer", "to_officer", "open_items"},
     .rules = handover_rules},
    {.name = "daily_report",
     .zh = "每日工作报告",
     .label = N_("daily work report"),
     .role = GB_ROLE_POLICING,
     .fields = daily_fields,
     .nfields = N(daily_fields),
     .date_field = "date",
     .staff_field = "officer",
     .title_field = "officer",
     .list_cols = {"date", "officer", "households", "resident_checks",
		   "temporary_checks", "key_checks", "places",
		   "disputes_mediated", "summary"},
     .unique = {GB_UNIQUE_EDITS,
		{"officer", "date"},
		.dup_line = N_("date: the daily report of %s on %s is on "
			       "line %s too"),
		.dup_grid = N_("date: the grid holds the daily report of %s "
			       "on %s already (%s); edit it instead"),
		.edit_twin = N_("date: %s already has a daily report for %s "
				"(%s)"),
		.onto = N_("gridbook: %s already has a daily report for %s; "
			   "updating it\n"),
		.help = N_("\nAn officer has one report per date: adding a "
			   "second one edits the first.\n")},
     .hook = GB_HOOK_DAILY},
    {.name = "reception",
     .zh = "警务室接待",
     .label = N_("police room reception"),
     .role = GB_ROLE_POLICING,
     .fields = reception_fields,
     .nfields = N(reception_fields),
     .date_field = "start",
     .staff_field = "officer",
     .title_field = "room",
     .list_cols = {"start", "end", "officer", "room", "visitors", "note"},
     .rules = reception_rules,
     .hook = GB_HOOK_RECEPTION},
    {.name = "request",
     .zh = "报警求助咨询",
     .label = N_("public request"),
     .role = GB_ROLE_POLICING,
     .fields = request_fields,
     .nfields = N(request_fields),
     .date_field = "received_at",
     .staff_field = "officer",
     .title_field = "subject",
     .list_cols = {"received_at", "category", "priority", "subject", "officer",
		   "deadline", "resolved_at"},
     .ask = {"subject"},
     .rules = request_rules,
     .deadline = {"deadline", "received_at", "priority"},
     .hook = GB_HOOK_REQUEST},
#ifdef GB_TEST_KIND
    GB_TEST_KIND_ENTRY,
#endif
};

const int gb_nkinds = N(gb_kinds);

const char *gb_kind_msg(const char *msg, const char *fmt)
{
	return _(msg ? msg : fmt);
}

int gb_name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;

		if (x != y)
			return 0;
	}
	return *a == *b;
}

const struct gb_kind *gb_kind_find(const char *name)
{
	for (int i = 0; i < gb_nkinds; i++)
		if (gb_name_eq(gb_kinds[i].name, name))
			return &gb_kinds[i];
	return NULL;
}

int gb_kind_role_allows(const struct gb_kind *k, const char *role)
{
	if (!role)
		return 0;
	if (k->role == GB_ROLE_LABOUR)
		return strcmp(role, "coordinator") == 0;
	return strcmp(role, "officer") == 0 || strcmp(role, "chief") == 0;
}

int gb_kind_field(const struct gb_kind *k, const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < k->nfields; i++)
		if (gb_name_eq(k->fields[i].name, name))
			return i;
	return -1;
}

int gb_choice_index(const char *const *choices, const char *code)
{
	if (!choices || !code)
		return -1;
	for (int i = 0; choices[i]; i++)
		if (strcmp(choices[i], code) == 0)
			return i;
	return -1;
}

/* The row of choice_words for code of set, or NULL. */
static const struct choice_word *word_row(const char *const *set,
					  const char *code)
{
	for (size_t i = 0; i < sizeof(choice_words) / sizeof(choice_words[0]);
	     i++)
		if (choice_words[i].set == set &&
		    strcmp(choice_words[i].code, code) == 0)
			return &choice_words[i];
	return NULL;
}

const char *gb_choice_word(const struct gb_field *f, const char *code)
{
	const struct choice_word *w;

	if (!code || !f->choices)
		return code;
	w = word_row(f->choices, code);
	return w ? gb_pgettext(w->ctx, w->code) : code;
}

int gb_choice_has_word(const struct gb_field *f, const char *code)
{
	return f->choices && code && word_row(f->choices, code) != NULL;
}

/* The index of the choice of f whose word in this thread's language is s,
 * or the only one whose word starts with s ("责令" for 责令改正); -1 when
 * none. */
static int by_word_here(const struct gb_field *f, const char *s)
{
	size_t len = strlen(s);
	int found = -1, n = 0;

	for (int i = 0; len > 0 && f->choices[i]; i++) {
		const char *w = gb_choice_word(f, f->choices[i]);

		if (w == f->choices[i])
			continue;
		if (strcmp(w, s) == 0)
			return i;
		if (strncmp(w, s, len) == 0) {
			found = i;
			n++;
		}
	}
	return n == 1 ? found : -1;
}

int gb_choice_by_word(const struct gb_field *f, const char *s)
{
	locale_t zh, old;
	int i;

	if (!f->choices || !s)
		return -1;
	i = by_word_here(f, s);
	if (i >= 0)
		return i;
	/* Chinese words are understood whatever language the user reads:
	 * a file exported on a Chinese desktop is imported anywhere. */
	zh = gb_i18n_locale(GB_LANG_ZH);
	if (zh == (locale_t)0)
		return -1;
	old = uselocale(zh);
	i = by_word_here(f, s);
	uselocale(old);
	return i;
}

const char *gb_field_heading(const struct gb_field *f)
{
	const char *l = _(f->label);

	return l == f->label ? f->name : l;
}

const char *gb_kind_gloss(const struct gb_kind *k)
{
	const char *l = _(k->label);

	return strcmp(l, k->zh) == 0 ? NULL : l;
}
