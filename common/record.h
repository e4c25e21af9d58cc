/*
 * One version of one field record: the common fields of SPEC §2 and the
 * kind's values in canonical text form (see kinds.h).
 */
#ifndef GB_RECORD_H
#define GB_RECORD_H

#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "kinds.h"

#define GB_ID_LEN 37   /* a UUID as text plus NUL */
#define GB_CODE_LEN 32 /* grid, staff and unit codes plus NUL */
/* The most versions one version names as its bases (SPEC §4). */
#define GB_MAX_BASE 8
/* The bit of gb_record.resolves that stands for the void. */
#define GB_RESOLVES_VOID (1u << GB_MAX_FIELDS)

struct gb_record {
	const struct gb_kind *kind; /* static */
	char id[GB_ID_LEN];	    /* UUIDv7, lowercase text */
	char grid[GB_CODE_LEN];
	char device[GB_ID_LEN];	 /* author device id */
	char staff[GB_CODE_LEN]; /* author staff code */
	int64_t created_at;	 /* ms UTC, first version */
	int64_t updated_at;	 /* ms UTC, this version */
	uint64_t version;	 /* hybrid logical clock (id.h) */
	int voided;
	char *void_reason;	  /* owned, NULL unless voided */
	char *val[GB_MAX_FIELDS]; /* owned, NULL = empty */
	/* The versions this one was made from, as its device held them
	 * (SPEC §4); nbase 0 for a new record and from devices that send
	 * none, which the merge takes as having seen every lower version. */
	uint64_t base[GB_MAX_BASE];
	int nbase;
	/* Fields whose conflict this version resolves: bit i for field i,
	 * GB_RESOLVES_VOID for the void. */
	uint32_t resolves;
};

/* A new empty record of kind k; caller frees with gb_record_free(). */
struct gb_record *gb_record_new(const struct gb_kind *k);
void gb_record_free(struct gb_record *r);
/* A deep copy; caller frees. */
struct gb_record *gb_record_dup(const struct gb_record *r);

/* A growing array of records: copies of those a list hands out one at a
 * time (db_record_list's callback), kept after it returns. */
struct gb_record_vec {
	struct gb_record **v;
	int n, alloc;
};

/* Appends a copy of r to the gb_record_vec arg; fits a list callback.
 * Returns 0. */
int gb_record_vec_push(void *arg, const struct gb_record *r);
/* Frees the copies and the array; the vector is empty again. */
void gb_record_vec_release(struct gb_record_vec *rv);

/* The value of a field by name, or NULL when empty or no such field.
 * Borrowed. */
const char *gb_record_get(const struct gb_record *r, const char *field);
/* Sets field idx to a copy of canon (NULL or "" clears it). */
void gb_record_set(struct gb_record *r, int idx, const char *canon);
/* Sets by name; returns -1 when the kind has no such field. */
int gb_record_set_name(struct gb_record *r, const char *field,
		       const char *canon);
/* Sets the void reason (copied); NULL clears it. */
void gb_record_set_void_reason(struct gb_record *r, const char *reason);

/* Integer value of a field; returns 0 and sets *out, or -1 when the field
 * is empty or not a number. */
int gb_record_int(const struct gb_record *r, const char *field, int64_t *out);

/* 1 when the kind's values and the void state of a and b are equal. */
int gb_record_same_content(const struct gb_record *a,
			   const struct gb_record *b);

/* Appends the kind's values as one JSON object {"field": value, ...} with
 * canonical values (INT as numbers, the rest as strings, empty as null). */
int gb_record_values_json(const struct gb_record *r, struct gb_buf *out,
			  struct gb_err *err);

/*
 * Appends the JSON object of one record, the one shape every command
 * writes a record in (`KIND list --format json`, `KIND show --format
 * json`, `export --format json`): id, kind, version, created_at and
 * updated_at (ms since 1970 UTC), staff and device (the author, null when
 * unknown), voided, void_reason and values (gb_record_values_json).
 */
int gb_record_json(const struct gb_record *r, struct gb_buf *out,
		   struct gb_err *err);

#endif
