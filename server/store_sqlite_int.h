/*
 * What the files of the SQLite store share and no other module sees:
 * store_sqlite.c holds the connections, store_sqlite_facts.c writes the
 * report facts on the writer, store_sqlite_reports.c reads them on the
 * connection it hands over (store.h, "report facts, read by reports").
 * It is the one header of the server that includes <sqlite3.h>
 * (tests/check/rooms.txt), so the three files see SQLite through it.
 */
#ifndef GB_STORE_SQLITE_INT_H
#define GB_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <string.h>

#include "err.h"
#include "id.h"
#include "store.h"

/*
 * An id (UUID text) as the writer binds it: its 16 bytes, kept from the
 * last id bound through the same holder.  A version's id is bound by
 * four or five statements in turn and a batch's device by two a version;
 * parsed once and bound SQLITE_STATIC (not copied), it costs a
 * comparison.  The bytes stay valid until the holder's next bind with
 * another id, so each statement binds each of its ids through a holder
 * of its own (struct sq_ids) and is reset before that holder is bound
 * again; no statement is stepped on while another binds.  Writer
 * connection only: the holders are not locked.
 */
struct sq_uuid {
	int ok;		      /* text and bytes hold an id */
	char text[GB_ID_LEN]; /* the id as bound last */
	unsigned char bytes[16];
};

/* The writer's holders: a record's id, the device of a version or
 * batch, and an id that a record or fact names (a reference). */
struct sq_ids {
	struct sq_uuid rec, dev, ref;
};

/* Binds id at i of q as 16 bytes held in u; text that is not a UUID as
 * text (copied), which then matches no BLOB key; NULL as NULL.  Here,
 * inline, because both the store's files bind ids so and neither links
 * the other's code. */
static inline void sq_uuid_bind(struct sq_uuid *u, sqlite3_stmt *q, int i,
				const char *id)
{
	size_t n;

	if (!id) {
		sqlite3_bind_null(q, i);
		return;
	}
	if (!u->ok || strcmp(u->text, id) != 0) {
		n = strlen(id);
		u->ok = n < sizeof(u->text) && gb_uuid_bytes(id, u->bytes) == 0;
		if (!u->ok) {
			sqlite3_bind_text(q, i, id, -1, SQLITE_TRANSIENT);
			return;
		}
		memcpy(u->text, id, n + 1);
	}
	sqlite3_bind_blob(q, i, u->bytes, 16, SQLITE_STATIC);
}

/*
 * Calls cb for each row of the fact query q on db, a read-only
 * connection inside the read transaction of a snapshot (the facts_read
 * of store.h, on the connection store_sqlite.c holds for it).
 */
int store_sqlite_facts_query(
    struct sqlite3 *db, const struct store_fact_query *q,
    int (*cb)(void *arg, const struct store_fact_row *r, struct gb_err *err),
    void *arg, struct gb_err *err);

#endif
