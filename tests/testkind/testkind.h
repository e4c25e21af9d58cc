/*
 * The test kind of `make testkind`: a fire-safety check of a place by a
 * community officer (消防检查), one entry of the kinds table and nothing
 * else.  common/kinds.c, built with -DGB_TEST_KIND, includes this file
 * and expands GB_TEST_KIND_TABLES before its table and GB_TEST_KIND_ENTRY
 * at its end, with its own macros (FR, FD, F, FI, FE, RULE...), as the
 * ten kinds use them.  Its message is tests/testkind/testkind.proto;
 * tests/e2e/t0140-test-kind.sh enters, lists, exports, imports and syncs
 * it to a real gridbook-hq.
 */
#ifndef GB_TESTKIND_H
#define GB_TESTKIND_H

#define GB_TEST_KIND_TABLES                                                    \
	static const char *const fire_results[] = {"passed", "hazard_found",   \
						   NULL};                      \
	static const struct gb_field fire_fields[] = {                         \
	    FR("officer", N_("officer"), REQ | GB_F_OFFICER, GB_REF_STAFF,     \
	       "@me"),                                                         \
	    FD("date", N_("date"), GB_T_DATE, REQ | PAST, "@today"),           \
	    F("place", "place inspected", GB_T_TEXT, REQ),                     \
	    FI("hazards", "hazards found", REQ, "0", NONNEG),                  \
	    FI("rectified", "hazards put right on the spot", REQ, "0",         \
	       NONNEG),                                                        \
	    FE("result", "result", REQ, fire_results, "passed"),               \
	    F("note", N_("note"), GB_T_TEXT, GB_F_LONG),                       \
	};                                                                     \
	static const struct gb_rule fire_rules[] = {                           \
	    RULE_WHEN(GB_RULE_REQUIRED_WHEN, "note", "result",                 \
		      "hazard_found"),                                         \
	    RULE(GB_RULE_AT_MOST, "rectified", "hazards"),                     \
	    RULES_END,                                                         \
	};

#define GB_TEST_KIND_ENTRY                                                     \
	{                                                                      \
		.name = "fire_check", .zh = "消防检查",                        \
		.label = "fire-safety check", .role = GB_ROLE_POLICING,        \
		.fields = fire_fields, .nfields = N(fire_fields),              \
		.date_field = "date", .staff_field = "officer",                \
		.status_field = "result", .title_field = "place",              \
		.list_cols = {"date", "place", "officer", "hazards", "result"},\
		.rules = fire_rules,                                           \
		.unique = {GB_UNIQUE_NONE, {NULL}}, .hook = GB_HOOK_NONE       \
	}

#endif
