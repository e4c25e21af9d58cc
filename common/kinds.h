/*
 * The ten record kinds of gridbook (SPEC §2) described as data.  Every
 * generic piece of the program -- flags on the command line, prompts, CSV
 * columns, JSON keys, list filters and columns, validation, uniqueness,
 * the wire format, which report facts HQ keeps -- is driven by these
 * tables, so a kind is declared once, here, with its message in
 * proto/gridbook.proto (wire_start_check holds the two together).
 *
 * A field's value is always held as text in a canonical form:
 *   TEXT   UTF-8 text
 *   INT    a decimal integer ("42")
 *   MONEY  yuan with at most two decimals, written with two ("1200.50")
 *   DATE   a local calendar date "YYYY-MM-DD"
 *   TIME   an instant as decimal milliseconds since 1970 UTC
 *   ENUM   one of the field's choice codes ("rectify_order")
 *   REF    the code of a reference unit or the id of another record
 *   LIST   several REF values joined with ',' in the order given
 *   USCC   an 18-character unified social credit code, upper case
 * An empty value is a NULL pointer, never "".
 */
#ifndef GB_KINDS_H
#define GB_KINDS_H

#include <stdint.h>

enum gb_ftype {
	GB_T_TEXT,
	GB_T_INT,
	GB_T_MONEY,
	GB_T_DATE,
	GB_T_TIME,
	GB_T_ENUM,
	GB_T_REF,
	GB_T_LIST,
	GB_T_USCC
};

/* What a REF or LIST field points at. */
enum gb_ref {
	GB_REF_NONE,
	GB_REF_COMMUNITY, /* community code, in this grid */
	GB_REF_AREA,	  /* police area code (its police room), in this grid */
	GB_REF_STAFF,	  /* staff code, in this grid */
	GB_REF_ENTERPRISE, /* id of an enterprise record */
	GB_REF_CHECK	   /* id of a contract_check record */
};

enum gb_field_flags {
	GB_F_REQUIRED = 1 << 0, /* must have a value */
	GB_F_LONG = 1 << 1,	/* free text that may be long (notes) */
	GB_F_OFFICER = 1 << 2,	/* STAFF ref that must be an officer or chief */
	GB_F_GUARD = 1 << 3,	/* STAFF ref that must be a security guard */
	GB_F_COORD = 1 << 4,	/* STAFF ref that must be a coordinator */
	GB_F_PAST = 1 << 5	/* DATE or TIME of something that happened:
				   may not lie in the future */
};

#define GB_MAX_FIELDS 16

struct gb_field {
	const char *name;  /* stable key: --flag, CSV column, JSON key, wire */
	const char *label; /* English label for prompts, marked with N_() */
	enum gb_ftype type;
	unsigned flags;
	enum gb_ref ref;	    /* REF and LIST */
	const char *const *choices; /* ENUM: NULL-terminated codes */
	/* Default offered when the field is left empty: a literal, or
	 * "@today", "@now", "@me" (the device's staff member). */
	const char *dflt;
	int64_t min, max; /* INT range, inclusive */
};

enum gb_role { GB_ROLE_LABOUR, GB_ROLE_POLICING };

/*
 * A rule between fields of one record (SPEC §2, "validation"), checked by
 * gb_validate in the order of the kind's list, after each field's own
 * rules.  a and b name fields of the kind; a rule whose fields are not
 * both filled in holds.  DATE and TIME fields compare as days or instants.
 */
enum gb_rule_op {
	GB_RULE_END,	       /* ends the list */
	GB_RULE_AT_MOST,       /* INT a <= INT b */
	GB_RULE_AFTER,	       /* a later than b */
	GB_RULE_NOT_BEFORE,    /* a not earlier than b */
	GB_RULE_WITHIN_DAY,    /* TIME a at most 24 hours after TIME b */
	GB_RULE_REQUIRED_WHEN, /* a has a value when ENUM b is choice `is` */
	GB_RULE_EMPTY_WHEN,    /* a is empty while ENUM b is choice `is` */
	GB_RULE_DIFFERENT,     /* a and b are not the same code; msg */
	GB_RULE_NOT_IN,	       /* a is not one of LIST b; msg */
	/* REF a names a contract check that asked for a follow-up (notice
	 * or rectify_order), and DATE b is not before that check's date.
	 * Needs the lookup: gb_validate_refs runs it at HQ. */
	GB_RULE_FOLLOWS_UP
};

struct gb_rule {
	enum gb_rule_op op;
	const char *a, *b;
	const char *is; /* REQUIRED_WHEN, EMPTY_WHEN: the choice code */
	/* DIFFERENT, NOT_IN: the message, N_(), with the arguments
	 * (field a, a's value) for NOT_IN reversed as (b, a's value), and
	 * (a, a's value, b) for DIFFERENT. */
	const char *msg;
};

/*
 * Records of a kind that may not exist twice in a grid: two current
 * records with the same values of all the key fields.  The client checks
 * it when a record is entered or imported; the mode says what a second
 * one does.
 */
enum gb_unique_mode {
	GB_UNIQUE_NONE,
	GB_UNIQUE_REFUSE, /* a second one is refused (an enterprise's USCC) */
	GB_UNIQUE_EDITS	  /* a second one edits the first (a daily report) */
};

struct gb_unique {
	enum gb_unique_mode mode;
	const char *key[3]; /* field names, NULL-terminated */
	/*
	 * What a duplicate is called, N_(), or NULL for plain words
	 * (gb_kind_msg).  The arguments are the key's values and then:
	 *   dup_line   the other line of an import file
	 *   dup_grid   nothing for REFUSE; the holder's id for EDITS
	 *   edit_twin  EDITS, an edit meeting another record: its id
	 *   onto       EDITS, a new record written onto the one there (the
	 *              first key's value as people read it, the second's),
	 *              a line of its own on stderr
	 */
	const char *dup_line, *dup_grid, *edit_twin, *onto;
	/* EDITS: the paragraph the add command's help ends with, N_(). */
	const char *help;
};

/* What HQ's report facts (server/rollup.c) make of a record of the kind. */
enum gb_report_hook {
	GB_HOOK_NONE,	    /* no report reads the kind */
	GB_HOOK_ENTERPRISE, /* contract-rate, check-coverage: the units */
	GB_HOOK_CHECK,	    /* contract-rate, rectification */
	GB_HOOK_RECT,	    /* rectification */
	GB_HOOK_DISPUTE,    /* disputes */
	GB_HOOK_PATROL,	    /* night-patrol */
	GB_HOOK_DAILY,	    /* daily-reports */
	GB_HOOK_RECEPTION,  /* reception */
	GB_HOOK_REQUEST	    /* requests */
};

#define GB_MAX_LIST_COLS 10

struct gb_kind {
	const char *name;  /* "contract_check" */
	const char *zh;	   /* "劳动合同检查" */
	const char *label; /* English, N_() */
	enum gb_role role; /* who may write it: coordinators or officers */
	const struct gb_field *fields;
	int nfields;
	/* Names of the fields that list filters and sorting use; NULL when
	 * the kind has none.  date_field is DATE or TIME. */
	const char *date_field;
	const char *community_field;
	const char *staff_field;
	const char *status_field;
	const char *title_field; /* what names a record in a list */
	/* The columns `gridbook KIND list` shows after the id, in order,
	 * NULL-terminated. */
	const char *list_cols[GB_MAX_LIST_COLS];
	/* Optional fields the prompt asks all the same, after the required
	 * ones, because HQ's reports need them to count the record (the
	 * guards of a patrol), NULL-terminated; and what they count for, N_(),
	 * or NULL. */
	const char *ask[3];
	const char *ask_why;
	const struct gb_rule *rules; /* GB_RULE_END-terminated, or NULL */
	/* A field whose value, when left empty, comes from a received time
	 * and a priority by SPEC §3's rule (a request's deadline,
	 * gb_request_deadline), and follows them on an edit while it is
	 * the default; all NULL for none. */
	struct {
		const char *field, *received, *priority;
	} deadline;
	struct gb_unique unique;
	enum gb_report_hook hook;
};

extern const struct gb_kind gb_kinds[];
extern const int gb_nkinds;

/* Finds a kind by name ("contract_check"; '-' may stand for '_').
 * Returns NULL when there is none.  The result is static. */
const struct gb_kind *gb_kind_find(const char *name);

/*
 * Whether someone of role may write records of kind k (SPEC §6): a
 * coordinator writes the labour kinds; an officer or a chief (the chief of
 * a police area is an officer too) writes the policing kinds; a guard, a
 * viewer, any other role and NULL write nothing.  Device roles
 * (coordinator, officer, viewer) and staff roles (coordinator, officer,
 * chief, guard) share their names, so the client's check of a grid file's
 * staff and the server's check of a device are this one rule.  Returns 1
 * when allowed, 0 when not.
 */
int gb_kind_role_allows(const struct gb_kind *k, const char *role);

/* What to print beside a kind's Chinese name: its label in the user's
 * language, or NULL when that is the Chinese name itself.  Static or from
 * the catalogue. */
const char *gb_kind_gloss(const struct gb_kind *k);

/* The words of a kind's message msg (N_(), as struct gb_unique holds
 * them) in the user's language, or those of fmt (N_() too), the
 * general words taking the same arguments, when the entry has none. */
__attribute__((format_arg(2))) const char *gb_kind_msg(const char *msg,
						       const char *fmt);

/* The index of a field in its kind, or -1.  '-' may stand for '_'. */
int gb_kind_field(const struct gb_kind *k, const char *name);

/* The index of code in a NULL-terminated choice list, or -1. */
int gb_choice_index(const char *const *choices, const char *code);

/* The word people read for choice code of field f: its translation in the
 * user's language (the code itself in English, where code is the word
 * typed).  Static or from the catalogue; code itself when f has no word
 * for it, NULL for NULL. */
const char *gb_choice_word(const struct gb_field *f, const char *code);

/* Whether the table of words has one for code of f (a test that no
 * choice is left without).  Returns 1 or 0. */
int gb_choice_has_word(const struct gb_field *f, const char *code);

/* The index of the choice of f whose word in the user's language, or in
 * Chinese, is s ("责令改正" for rectify_order); -1 when none.  Codes
 * themselves are gb_choice_index's. */
int gb_choice_by_word(const struct gb_field *f, const char *s);

/* The heading of field f's column in a table people read: its label in
 * the user's language where the catalogue has one, else its name (the
 * key typed as --FIELD), as in English.  Static or from the catalogue. */
const char *gb_field_heading(const struct gb_field *f);

/* Compares two field names treating '-' and '_' alike.  Returns 1 when
 * they are the same name. */
int gb_name_eq(const char *a, const char *b);

extern const char *const gb_type_names[]; /* "text", "int" ... by type */

#endif
