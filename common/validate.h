/*
 * Validation of a whole record: required fields, and the rules of SPEC §2
 * that involve several fields or other records.  Client and server run this
 * same code; what differs is how they look things up, which they pass in
 * as a struct gb_lookup.
 */
#ifndef GB_VALIDATE_H
#define GB_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "record.h"

struct gb_lookup {
	void *arg;
	/*
	 * Looks up the unit or record `key` of type ref in the record's
	 * grid.  With attr NULL it only asks whether it exists.  With attr
	 * set it copies that attribute as text into out (size n):
	 *   GB_REF_STAFF      "role" (coordinator, officer, chief, guard)
	 *   GB_REF_CHECK      "outcome", "check_date", "deadline"
	 *   GB_REF_ENTERPRISE "status", "community"
	 * Returns 1 when found, 0 when not found, -1 on a lookup error
	 * (with err set).  The lookup may be NULL: references then go
	 * unchecked.
	 */
	int (*find)(void *arg, enum gb_ref ref, const char *key,
		    const char *attr, char *out, size_t n, struct gb_err *err);
};

/*
 * Fills empty fields that have a default: literal defaults, "@today",
 * "@now", "@me" (me may be NULL), and the deadline a kind's entry derives
 * (kinds.h, deadline: a request's, from its priority and received time).
 * Never overwrites a value.
 */
void gb_record_apply_defaults(struct gb_record *r, int64_t now_ms,
			      const char *me);

/*
 * Checks r.  Returns 0 when valid, or -1 with err (GB_EINVAL) naming the
 * field, the value and the rule, for the first rule broken in field
 * order; a lookup error is returned as is.  now_ms decides what "in the
 * future" means (a minute of clock skew is allowed).
 */
int gb_validate(const struct gb_record *r, const struct gb_lookup *lk,
		int64_t now_ms, struct gb_err *err);

/*
 * gb_validate in two halves, for HQ, which checks records in its HTTP
 * threads and looks references up in its writer: gb_validate with lk
 * NULL checks every rule that needs no lookup, and gb_validate_refs only
 * those that do (references exist, staff hold the role the field asks
 * for, a rectification follows up a check that asked for one, the
 * author staff code is one of the grid's).  A record
 * passes both exactly when it passes gb_validate; one that breaks rules
 * of both halves is named by the first half.
 */
int gb_validate_refs(const struct gb_record *r, const struct gb_lookup *lk,
		     struct gb_err *err);

/*
 * The rules of a record's common fields that a device sets itself and HQ
 * must not take on trust (SPEC §2, §6): the id in UUIDv7 layout, the
 * created and updated times between 2000-01-01 and 24 hours after now_ms,
 * an author staff code of code form, and a void reason of plain text
 * within GB_VOID_REASON_MAX characters.  Returns 0, or -1 with err
 * (GB_EINVAL) naming the field and the rule.
 */
int gb_validate_header(const struct gb_record *r, int64_t now_ms,
		       struct gb_err *err);

/* The longest void reason, in characters. */
#define GB_VOID_REASON_MAX 200
/* Checks a void reason alone (the last rule of gb_validate_header), for
 * the command that voids.  Returns 0, or -1 with err (GB_EINVAL). */
int gb_validate_void_reason(const char *reason, struct gb_err *err);

/* The default deadline of a request received at received_ms: urgent 1 h,
 * normal 24 h, low 5 working days (from the next Monday 00:00 local for a
 * request received on a Saturday or Sunday).  Returns -1 for an unknown
 * priority. */
int64_t gb_request_deadline(int64_t received_ms, const char *priority);

/*
 * The deadline rule on edit (SPEC §3): the default deadline follows the
 * priority and received time until a deadline is set by hand.  r is the
 * edited request, old the version it was made from; by_hand is 1 when the
 * edit itself gives a deadline.  When the edit changes the priority or
 * the received time and old's deadline was the default of old's values,
 * r's deadline becomes the default of its own.  Kinds whose entry derives
 * no deadline (kinds.h) are left.
 */
void gb_request_deadline_follow(struct gb_record *r,
				const struct gb_record *old, int by_hand);

/* 1 when [start, end) overlaps a night (22:00-06:00 local). */
int gb_patrol_is_night(int64_t start_ms, int64_t end_ms);

#endif
