/*
 * Field-by-field merge of the versions of one record (SPEC §4).
 *
 * Every edit or void names the versions it was made from (its bases: the
 * heads of the record as its laptop saw it).  The versions of a record
 * then form a graph, and the current record is a pure function of the set
 * of versions held, whatever order they arrived in: every laptop and HQ
 * that hold the same versions show the same record, so nothing has to be
 * written back to make them agree.
 *
 * A version changes a field when its value differs from the value the
 * merge gives over the versions it saw (its ancestors), or when it says
 * it resolves that field.  A field's value is that of the newest version
 * (HLC order, device id as tie-break) that changed it.  When two versions
 * changed a field without either seeing the other (both are heads for
 * that field) and their values differ, the newer one wins and the record
 * has a conflict on that field, both values kept, until a version that
 * saw both resolves it.  The void is a field of its own with one
 * difference: when heads disagree the void stands, whichever is newer;
 * and a void that did not see an edit, or an edit that did not see the
 * void, is a conflict too.
 *
 * A version from a client that sends no bases (an older one) is taken to
 * have seen every version lower than it, which gives that client's
 * last-writer-wins behaviour.
 */
#ifndef GB_MERGE_H
#define GB_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "record.h"

/* The pseudo field index of the void (voided and its reason). */
#define GB_MERGE_VOID GB_MAX_FIELDS
/* The most bases one version names (a laptop names the heads it saw). */
#define GB_MERGE_MAX_BASE GB_MAX_BASE
/* The most versions of one record merged at once. */
#define GB_MERGE_MAX_VERSIONS 4096

/* One version as the merge reads it.  All borrowed. */
struct gb_version {
	const struct gb_record *rec; /* version, device, values, void */
	const uint64_t *base;	     /* the versions it was made from */
	size_t nbase;
	int base_known; /* 0: no bases sent: it saw every lower version */
	/* Fields this version resolves (bit f; bit GB_MERGE_VOID for the
	 * void): they count as changed even where its value equals the
	 * merged one, so keeping the value that already wins ends the
	 * conflict too. */
	uint32_t resolves;
};

/* One field on which two versions disagree without having seen each
 * other.  kept and lost index the versions array given to gb_merge. */
struct gb_conflict {
	int field; /* index into the kind's fields, or GB_MERGE_VOID */
	size_t kept, lost;
};

struct gb_merge {
	struct gb_record *rec;	  /* the merged record; owned */
	struct gb_conflict *conf; /* owned */
	size_t nconf;
	/* The heads: versions no other version saw, in HLC order, as
	 * indexes into the versions array.  A new edit names their
	 * versions as its bases. */
	size_t *heads; /* owned */
	size_t nheads;
};

/* 1 when version a comes before b in merge order: HLC version, then the
 * author device id. */
int gb_version_before(const struct gb_record *a, const struct gb_record *b);

/*
 * Merges the n versions of one record (any order; all of one kind and
 * id; no two with the same version and device).  On success fills *out,
 * which the caller releases with gb_merge_release(); the merged record
 * carries the id and created_at of the first version and the version,
 * updated_at, device and staff of the newest.  Fails with GB_EUSAGE when
 * n is 0 or over GB_MERGE_MAX_VERSIONS, or a version is repeated.
 */
int gb_merge(const struct gb_version *v, size_t n, struct gb_merge *out,
	     struct gb_err *err);
void gb_merge_release(struct gb_merge *m);

#endif
