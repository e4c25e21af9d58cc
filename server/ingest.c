/*
 * Group commit of device batches.  One transaction per batch costs a sync
 * of the disk per batch, which on a small server leaves most of the insert
 * rate unused; so HTTP threads do the parallel work (authenticate,
 * inflate, unpack, check access) and queue the decoded batch, and a single
 * writer thread applies every batch waiting in the queue in one
 * transaction with one sync.  Each batch runs under its own savepoint: a
 * batch that fails (a reused sequence number, a store error) is undone
 * alone and the rest of the group commits.
 *
 * Idempotence: a batch is recorded as applied, with the exact ack bytes
 * it was answered with, in the transaction that applies it.  A batch seen
 * before is answered from that record and changes nothing, so delivery
 * can be at-least-once while every record is held exactly once.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "gbtime.h"
#include "i18n.h"
#include "ingest.h"
#include "log.h"
#include "rollup.h"
#include "validate.h"
#include "xalloc.h"

#include "banned.h"

/* At most this many requests go into one transaction. */
#define GROUP_MAX 256

struct ingest {
	struct store *st; /* borrowed */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work; /* the writer waits on it for requests */
	pthread_cond_t done; /* requesters wait on it for their outcome */
	struct ingest_req *head, *tail;
	int stopping;
};

/* What applying one batch needs at hand. */
struct apply {
	struct store *st;
	struct ingest_req *req;
	int64_t now;
	struct gb_lookup lookup;
};

/* The lookup of validate.h answered by the store, inside the writer
 * transaction, for the grid of the batch. */
struct lookup_arg {
	struct store *st;
	const char *grid;
};

static int lookup_find(void *arg, enum gb_ref ref, const char *key,
		       const char *attr, char *out, size_t n,
		       struct gb_err *err)
{
	struct lookup_arg *a = arg;

	return a->st->ops->find(a->st, a->grid, ref, key, attr, out, n, err);
}

/*
 * The report rollups: called once for each batch newly applied (hence
 * once per grid per batch, a batch being of one grid), inside the writer
 * transaction, after the batch's records are stored and before it
 * commits.  The facts kept there (rollup.c) commit or roll back with the
 * records they count.
 */
static int rollup_batch_applied(struct store *st,
				const struct store_device *dev,
				const struct wire_batch *b,
				const struct wire_ack *ack, int64_t now,
				struct gb_err *err)
{
	return rollup_batch(st, dev, b, ack, now, err);
}

/* The hash that tells a resent batch from another batch with the same
 * sequence number: of the ids and versions it carries, in order. */
static void items_hash(const struct wire_batch *b,
		       unsigned char out[STORE_HASH_LEN])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, STORE_HASH_LEN);
	for (size_t i = 0; i < b->n; i++) {
		const struct wire_item *it = &b->items[i];
		const char *id = it->rec ? it->rec->id : it->id;
		uint64_t v = it->rec ? it->rec->version : it->version;
		unsigned char vb[8];

		for (int k = 0; k < 8; k++)
			vb[k] = (unsigned char)(v >> (56 - 8 * k));
		crypto_generichash_update(&h, (const unsigned char *)id,
					  strlen(id) + 1);
		crypto_generichash_update(&h, vb, sizeof(vb));
	}
	crypto_generichash_final(&h, out, STORE_HASH_LEN);
}

/* The hash of what gb_record_same_content compares: kind, void state and
 * values (body is the values' JSON). */
static void content_hash(const struct gb_record *r, const char *body,
			 unsigned char out[STORE_HASH_LEN])
{
	crypto_generichash_state h;
	const char *reason = r->void_reason ? r->void_reason : "";
	const char *voided = r->voided ? "1" : "0";

	crypto_generichash_init(&h, NULL, 0, STORE_HASH_LEN);
	crypto_generichash_update(&h, (const unsigned char *)r->kind->name,
				  strlen(r->kind->name) + 1);
	crypto_generichash_update(&h, (const unsigned char *)voided, 2);
	crypto_generichash_update(&h, (const unsigned char *)reason,
				  strlen(reason) + 1);
	crypto_generichash_update(&h, (const unsigned char *)body,
				  strlen(body));
	crypto_generichash_final(&h, out, STORE_HASH_LEN);
}

/* The report columns of r: the local date of its date field, and its
 * community, staff and status fields. */
static void derive(const struct gb_record *r, struct store_version *v,
		   char day[11])
{
	const struct gb_kind *k = r->kind;
	int i = gb_kind_field(k, k->date_field);
	int64_t ms;
	char *end;

	v->day = NULL;
	if (i >= 0 && r->val[i]) {
		if (k->fields[i].type == GB_T_DATE) {
			v->day = r->val[i];
		} else {
			ms = strtoll(r->val[i], &end, 10);
			if (!*end) {
				gb_date_format(gb_local_day(ms), day);
				v->day = day;
			}
		}
	}
	v->community = k->community_field ?
			       gb_record_get(r, k->community_field) : NULL;
	v->person = k->staff_field ? gb_record_get(r, k->staff_field) : NULL;
	v->status = k->status_field ? gb_record_get(r, k->status_field) : NULL;
}

static void ack_set(struct wire_ack_item *out, enum wire_status status,
		    enum gb_code code, const char *reason)
{
	out->status = status;
	if (code != GB_OK)
		snprintf(out->reason_code, sizeof(out->reason_code), "%s",
			 gb_code_name(code));
	free(out->reason);
	out->reason = reason ? xstrdup(reason) : NULL;
}

/*
 * Refuses one record: logged in the store and told in the ack.  A record
 * the device may not write (GB_EFORBIDDEN) is also written to the audit
 * log (SPEC §6), in the same transaction, so the entry is there exactly
 * when the refusal is.
 */
static int reject(struct apply *a, const struct wire_item *it,
		  struct wire_ack_item *out, enum gb_code code,
		  const char *reason)
{
	const struct wire_batch *b = a->req->batch;
	const struct store_device *dev = a->req->dev;
	struct store_rejection rj = {
		.device = dev->id,
		.batch_seq = b->hdr.seq,
		.id = out->id,
		.version = out->version,
		.code = gb_code_name(code),
		.reason = reason,
		.raw = it->raw,
		.raw_len = it->raw_len,
		.at = a->now,
	};
	struct store_audit au = {
		.at = a->now,
		.device = dev->id,
		.grid = dev->grid,
		.action = "batch",
		.status = gb_code_http(code),
		.remote = "",
	};
	char *detail;
	int rc;

	ack_set(out, WIRE_REJECTED, code, reason);
	if (a->st->ops->rejection_put(a->st, &rj, &a->req->err) < 0)
		return -1;
	if (code != GB_EFORBIDDEN)
		return 0;
	detail = xasprintf("batch %" PRIu64 ": %s", b->hdr.seq, reason);
	au.detail = detail;
	rc = a->st->ops->audit_put(a->st, &au, &a->req->err);
	free(detail);
	return rc;
}

/*
 * Whether the sending device dev may write r: a kind its role writes
 * (gb_kind_role_allows), for its grid, and r says it was written by dev.
 * Returns 0, or -1 with err (GB_EFORBIDDEN) naming the record and the
 * rule.
 */
static int may_write(const struct store_device *dev, const struct gb_record *r,
		     struct gb_err *err)
{
	if (auth_may_write(dev, r->kind, r->grid, err) < 0)
		return gb_error_prefix(err, _("record %s"), r->id);
	if (strcasecmp(r->device, dev->id) != 0)
		return gb_error(err, GB_EFORBIDDEN,
				_("record %s: written by device %s, not by "
				  "the sending device %s"),
				r->id, r->device, dev->id);
	return 0;
}

/* 1 when version v of device d is newer than the current one (HLC order,
 * device id as tie-break). */
static int newer(uint64_t v, const char *d, const struct store_current *cur)
{
	return v > cur->version ||
	       (v == cur->version && strcmp(d, cur->device) > 0);
}

/* Applies one record of a batch and fills its ack item.  Returns -1 only
 * when the store fails (the batch is then undone). */
static int apply_item(struct apply *a, const struct wire_item *it,
		      struct wire_ack_item *out)
{
	struct store *st = a->st;
	struct gb_err *err = &a->req->err;
	const struct gb_record *r = it->rec;
	unsigned char held[STORE_HASH_LEN];
	struct store_version v;
	struct store_current cur;
	struct gb_err verr = {GB_OK, ""};
	struct gb_buf body;
	char day[11];
	int has_cur, found, rc = -1;

	snprintf(out->id, sizeof(out->id), "%s", r ? r->id : it->id);
	out->version = r ? r->version : it->version;
	if (!r)
		return reject(a, it, out, it->code ? it->code : GB_EPROTO,
			      it->reason[0] ? it->reason :
			      _("the record could not be read"));
	if (!r->device[0])
		return reject(a, it, out, GB_EPROTO,
			      _("device: missing (the id of the device that "
				"wrote this version)"));
	if (!r->grid[0])
		return reject(a, it, out, GB_EPROTO,
			      _("grid: missing (the grid the record belongs "
				"to)"));
	/* Refused alone, so the device's other records still go through
	 * and its queue is not held up (SPEC §2, §6). */
	if (may_write(a->req->dev, r, &verr) < 0)
		return reject(a, it, out, verr.code, verr.msg);
	gb_buf_init(&body, GB_BUF_NOLIMIT);
	if (gb_record_values_json(r, &body, err) < 0)
		goto out;
	memset(&v, 0, sizeof(v));
	v.rec = r;
	v.raw = it->raw;
	v.raw_len = it->raw_len;
	v.body = gb_buf_str(&body);
	v.received_at = a->now;
	content_hash(r, v.body, v.hash);
	derive(r, &v, day);

	/* A version is only ever held for a record that has a current
	 * version, so a new record needs no look in the history. */
	has_cur = st->ops->current_get(st, r->id, &cur, err);
	found = has_cur;
	if (has_cur > 0)
		found = st->ops->version_get(st, r->id, r->version, r->device,
					     held, err);
	if (found < 0)
		goto out;
	if (found) {
		if (memcmp(held, v.hash, STORE_HASH_LEN) == 0) {
			ack_set(out, WIRE_DUPLICATE, GB_OK, NULL);
			rc = 0;
		} else if (st->ops->conflict_put(st, &v, err) == 0) {
			ack_set(out, WIRE_CONFLICT, GB_ECONFLICT,
				_("this id and version were received before "
				  "with other content; set aside"));
			rc = 0;
		}
		goto out;
	}

	if (gb_validate(r, &a->lookup, a->now, &verr) < 0) {
		if (verr.code == GB_EDB) {
			*err = verr;
			goto out;
		}
		rc = reject(a, it, out, verr.code, verr.msg);
		goto out;
	}
	if (has_cur && strcmp(cur.kind, r->kind->name) != 0) {
		gb_error(&verr, GB_EINVAL, _("id %s is already a %s record"),
			 r->id, cur.kind);
		rc = reject(a, it, out, verr.code, verr.msg);
		goto out;
	}
	if (has_cur && strcmp(cur.grid, r->grid) != 0) {
		gb_error(&verr, GB_EFORBIDDEN,
			 _("record %s belongs to grid %s"), r->id, cur.grid);
		rc = reject(a, it, out, verr.code, verr.msg);
		goto out;
	}
	if (st->ops->history_put(st, &v, err) < 0)
		goto out;
	if (has_cur && !newer(r->version, r->device, &cur)) {
		ack_set(out, WIRE_STALE, GB_OK, NULL);
		rc = 0;
		goto out;
	}
	if (st->ops->current_put(st, &v, err) < 0)
		goto out;
	ack_set(out, WIRE_ACCEPTED, GB_OK, NULL);
	rc = 0;
out:
	gb_buf_release(&body);
	return rc;
}

/* Applies one batch (inside its savepoint).  Returns -1 with req->err
 * when the batch must be undone. */
static int apply_batch(struct apply *a)
{
	struct ingest_req *req = a->req;
	const struct wire_batch *b = req->batch;
	struct store *st = a->st;
	unsigned char ih[STORE_HASH_LEN], held[STORE_HASH_LEN];
	struct lookup_arg la = {st, b->hdr.grid};
	struct wire_ack ack;
	int found, rc = -1;

	memset(&ack, 0, sizeof(ack));
	gb_buf_reset(req->ack);
	items_hash(b, ih);
	found = st->ops->batch_get(st, req->dev->id, b->hdr.seq, held,
				   req->ack, &req->err);
	if (found < 0)
		return -1;
	if (found) {
		if (memcmp(held, ih, STORE_HASH_LEN) == 0)
			return 0;
		gb_buf_reset(req->ack);
		return gb_error(&req->err, GB_ECONFLICT,
				_("batch %" PRIu64 " of device %s was applied "
				  "before with other records; a new batch "
				  "needs a new sequence number"),
				b->hdr.seq, req->dev->id);
	}
	a->lookup.arg = &la;
	a->lookup.find = lookup_find;
	ack.seq = b->hdr.seq;
	ack.server_time = a->now;
	ack.n = b->n;
	ack.items = xcalloc(b->n ? b->n : 1, sizeof(*ack.items));
	for (size_t i = 0; i < b->n; i++)
		if (apply_item(a, &b->items[i], &ack.items[i]) < 0)
			goto out;
	if (wire_ack_encode(&ack, req->ack, &req->err) < 0 ||
	    st->ops->batch_put(st, req->dev->id, b->hdr.seq, ih, b->n,
			       req->ack->data, req->ack->len, a->now,
			       &req->err) < 0 ||
	    st->ops->device_seen(st, req->dev->id, a->now, &req->err) < 0 ||
	    rollup_batch_applied(st, req->dev, b, &ack, a->now, &req->err) <
		    0)
		goto out;
	rc = 0;
out:
	wire_ack_release(&ack);
	if (rc < 0)
		gb_buf_reset(req->ack);
	return rc;
}

static void fail_all(struct ingest_req *const *reqs, size_t n,
		     const struct gb_err *err)
{
	for (size_t i = 0; i < n; i++) {
		reqs[i]->rc = -1;
		reqs[i]->err = *err;
		if (reqs[i]->ack)
			gb_buf_reset(reqs[i]->ack);
	}
}

int ingest_apply(struct store *st, struct ingest_req *const *reqs, size_t n,
		 int64_t now_ms, struct gb_err *err)
{
	struct apply a;

	if (st->ops->begin(st, err) < 0) {
		fail_all(reqs, n, err);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct ingest_req *r = reqs[i];
		int rc;

		r->rc = 0;
		gb_err_clear(&r->err);
		memset(&a, 0, sizeof(a));
		a.st = st;
		a.req = r;
		a.now = now_ms;
		rc = st->ops->savepoint(st, &r->err);
		if (rc == 0)
			rc = r->batch ? apply_batch(&a) :
					st->ops->audit_put(st, r->audit,
							   &r->err);
		if (rc == 0)
			rc = st->ops->release(st, &r->err);
		if (rc == 0)
			continue;
		r->rc = -1;
		if (st->ops->rollback_to(st) < 0) {
			/* The store dropped the whole transaction: what the
			 * group did so far is gone too. */
			*err = r->err;
			st->ops->rollback(st);
			fail_all(reqs, n, err);
			return -1;
		}
	}
	if (st->ops->commit(st, err) < 0) {
		fail_all(reqs, n, err);
		return -1;
	}
	return 0;
}

/* ---- the writer thread ---- */

static void *writer_main(void *arg)
{
	struct ingest *ing = arg;
	struct ingest_req *group[GROUP_MAX];
	struct gb_err err;

	for (;;) {
		size_t n = 0;

		pthread_mutex_lock(&ing->mu);
		while (!ing->head && !ing->stopping)
			pthread_cond_wait(&ing->work, &ing->mu);
		while (ing->head && n < GROUP_MAX) {
			group[n++] = ing->head;
			ing->head = ing->head->next;
		}
		if (!ing->head)
			ing->tail = NULL;
		pthread_mutex_unlock(&ing->mu);
		if (n == 0)
			break; /* stopping, and nothing left */

		if (ingest_apply(ing->st, group, n, gb_now_ms(), &err) < 0)
			log_warnx("a group of %zu requests failed: %s", n,
				  err.msg);
		pthread_mutex_lock(&ing->mu);
		for (size_t i = 0; i < n; i++)
			group[i]->done = 1;
		pthread_cond_broadcast(&ing->done);
		pthread_mutex_unlock(&ing->mu);

		if (ing->st->ops->checkpoint(ing->st, &err) < 0)
			log_warnx("%s", err.msg);
	}
	return NULL;
}

int ingest_start(struct ingest **out, struct store *st, struct gb_err *err)
{
	struct ingest *ing = xcalloc(1, sizeof(*ing));
	int rc;

	ing->st = st;
	pthread_mutex_init(&ing->mu, NULL);
	pthread_cond_init(&ing->work, NULL);
	pthread_cond_init(&ing->done, NULL);
	rc = pthread_create(&ing->thread, NULL, writer_main, ing);
	if (rc != 0) {
		pthread_cond_destroy(&ing->done);
		pthread_cond_destroy(&ing->work);
		pthread_mutex_destroy(&ing->mu);
		free(ing);
		return gb_error(err, GB_EINTERNAL,
				_("starting the writer thread: %s"),
				strerror(rc));
	}
	*out = ing;
	return 0;
}

void ingest_stop(struct ingest *ing)
{
	if (!ing)
		return;
	pthread_mutex_lock(&ing->mu);
	ing->stopping = 1;
	pthread_cond_signal(&ing->work);
	pthread_mutex_unlock(&ing->mu);
	pthread_join(ing->thread, NULL);
	pthread_cond_destroy(&ing->done);
	pthread_cond_destroy(&ing->work);
	pthread_mutex_destroy(&ing->mu);
	free(ing);
}

/* Queues r and waits until the writer has done it. */
static int submit(struct ingest *ing, struct ingest_req *r,
		  struct gb_err *err)
{
	r->done = 0;
	r->next = NULL;
	pthread_mutex_lock(&ing->mu);
	if (ing->stopping) {
		pthread_mutex_unlock(&ing->mu);
		return gb_error(err, GB_EINTR, _("the server is stopping"));
	}
	if (ing->tail)
		ing->tail->next = r;
	else
		ing->head = r;
	ing->tail = r;
	pthread_cond_signal(&ing->work);
	while (!r->done)
		pthread_cond_wait(&ing->done, &ing->mu);
	pthread_mutex_unlock(&ing->mu);
	if (r->rc < 0 && err)
		*err = r->err;
	return r->rc;
}

int ingest_check(const struct store_device *dev, const struct wire_batch *b,
		 struct gb_err *err)
{
	if (auth_may_sync(dev, err) < 0)
		return -1;
	if (strcasecmp(b->hdr.device, dev->id) != 0)
		return gb_error(err, GB_EFORBIDDEN,
				_("the batch names device %s, but the token is "
				  "that of device %s"),
				b->hdr.device, dev->id);
	if (strcmp(b->hdr.grid, dev->grid) != 0)
		return gb_error(err, GB_EFORBIDDEN,
				_("device %s belongs to grid %s, not %s"),
				dev->id, dev->grid, b->hdr.grid);
	return 0;
}

int ingest_batch(struct ingest *ing, const struct store_device *dev,
		 const struct wire_batch *b, struct gb_buf *ack,
		 struct gb_err *err)
{
	struct ingest_req r;

	if (ingest_check(dev, b, err) < 0)
		return -1;
	memset(&r, 0, sizeof(r));
	r.dev = dev;
	r.batch = b;
	r.ack = ack;
	return submit(ing, &r, err);
}

int ingest_audit(struct ingest *ing, const struct store_audit *a,
		 struct gb_err *err)
{
	struct ingest_req r;

	memset(&r, 0, sizeof(r));
	r.audit = a;
	return submit(ing, &r, err);
}
