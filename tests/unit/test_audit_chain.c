/*
 * Tests of audit_chain.c: the chain it computes is the one the SQLite
 * store writes (store_sqlite.c keeps its own copy of the hash for now),
 * entry for entry, with a device id, a device that is not a UUID and none,
 * so that a log written by one store checks out by the rules of another;
 * and every field is in the hash.
 */
#include <stdint.h>
#include <string.h>

#include "audit_chain.h"
#include "check.h"
#include "crypto.h"
#include "store.h"

#include "banned.h"

static const struct store_audit entries[] = {
    {1764750000000, "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b", "S01-G1", "enroll",
     0, "S01-G1 coordinator", "local"},
    {1764750001000, NULL, "", "batch", 403, "record 0190: 劳动合同",
     "127.0.0.1"},
    {1764750002000, "not-a-uuid", "S01-G2", "revoke", 0, "", "local"},
};
#define NENTRIES (sizeof(entries) / sizeof(entries[0]))

/* The head of the chain of entries, by audit_chain_hash, in hex. */
static void chain_head(char *hex, size_t n)
{
	unsigned char prev[AUDIT_CHAIN_HASH_LEN] = {0}, h[AUDIT_CHAIN_HASH_LEN];
	unsigned char dev[16];

	for (size_t i = 0; i < NENTRIES; i++) {
		struct audit_chain_entry e = {
		    .seq = (int64_t)i + 1,
		    .at = entries[i].at,
		    .grid = entries[i].grid,
		    .action = entries[i].action,
		    .status = entries[i].status,
		    .detail = entries[i].detail,
		    .remote = entries[i].remote,
		};

		audit_chain_device(&e, entries[i].device, dev);
		audit_chain_hash(prev, &e, h);
		memcpy(prev, h, sizeof(h));
	}
	gb_hex(hex, n, prev, sizeof(prev));
}

static void test_same_as_sqlite(void)
{
	struct store *st = NULL;
	struct gb_err err;
	char head[65] = "", mine[65] = "";
	long n = 0;

	CHECK(store_sqlite_open(&st, ":memory:", STORE_ADMIN, &err) == 0);
	if (!st)
		return;
	CHECK(st->ops->begin(st, &err) == 0);
	for (size_t i = 0; i < NENTRIES; i++)
		CHECK(st->ops->audit_put(st, &entries[i], &err) == 0);
	CHECK(st->ops->commit(st, &err) == 0);
	CHECK(st->ops->audit_verify(st, &n, head, sizeof(head), &err) == 0);
	CHECK(n == (long)NENTRIES);
	chain_head(mine, sizeof(mine));
	CHECK_STR(mine, head);
	st->ops->close(st);
}

/* Changing any one field changes the hash. */
static void test_every_field(void)
{
	unsigned char prev[AUDIT_CHAIN_HASH_LEN] = {0};
	unsigned char base[AUDIT_CHAIN_HASH_LEN], h[AUDIT_CHAIN_HASH_LEN];
	unsigned char dev[16];
	struct audit_chain_entry e0 = {2, 1000, NULL, 0, "g", "a", "d", "r", 1};
	struct audit_chain_entry e;

	audit_chain_hash(prev, &e0, base);
	for (int f = 0; f < 9; f++) {
		e = e0;
		switch (f) {
		case 0:
			e.seq++;
			break;
		case 1:
			e.at++;
			break;
		case 2:
			audit_chain_device(&e, "x", dev);
			break;
		case 3:
			e.grid = "h";
			break;
		case 4:
			e.action = "b";
			break;
		case 5:
			e.status++;
			break;
		case 6:
			e.detail = "e";
			break;
		case 7:
			e.remote = "s";
			break;
		case 8:
			e.grid = "gd";
			e.detail = "";
			break; /* bytes moved */
		}
		audit_chain_hash(prev, &e, h);
		CHECK(memcmp(h, base, sizeof(h)) != 0);
	}
	prev[0] = 1;
	audit_chain_hash(prev, &e0, h);
	CHECK(memcmp(h, base, sizeof(h)) != 0);
}

int main(void)
{
	if (gb_crypto_init() < 0)
		return 1;
	test_same_as_sqlite();
	test_every_field();
	return check_done();
}
