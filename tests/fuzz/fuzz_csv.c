/*
 * libFuzzer harness of `gridbook --db FILE import KIND in.csv`, run as the
 * CLI runs it (client/main.c, its main renamed gridbook_main): the input
 * is the CSV file, read with every check of an import (encoding, BOM,
 * header in either language, each cell's field rules, references to the
 * grid, uniqueness) into a real grid file of S01-G1.  The first byte
 * picks the kind, so that the other kinds' columns are reached too.
 * What the command prints is not wanted: tests/fuzz/run passes
 * -close_fd_mask=3, with which libFuzzer sends standard output and error
 * to /dev/null but keeps its own messages and the sanitizers' reports
 * (freopen of stderr here lost them too, crash reports included).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

int gridbook_main(int argc, char **argv);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/gridbook-fuzz-csv.XXXXXX";
static char db[64], csv[64];

/* Removes the grid file, the CSV file and their directory. */
static void at_exit(void)
{
	static const char *const tails[] = {"", "-wal", "-shm", "-journal"};
	char path[96];

	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", db, tails[i]);
		unlink(path);
	}
	unlink(csv);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *init[] = {"gridbook", "--db",    db,	"init", "--grid",
			"S01-G1",   "--staff", "K0001", NULL};

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(db, sizeof(db), "%s/grid.db", dir);
	snprintf(csv, sizeof(csv), "%s/in.csv", dir);
	atexit(at_exit);
	if (gridbook_main(8, init) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = {"enterprise", "contract_check",
					    "dispute", "patrol", "request"};
	char kind[32];
	char *argv[] = {"gridbook", "--db", db, "import", kind, csv, NULL};
	FILE *fp;

	if (size < 1)
		return 0;
	snprintf(kind, sizeof(kind), "%s", kinds[data[0] % 5]);
	fp = fopen(csv, "wb");
	if (!fp)
		abort();
	if (size > 1 && fwrite(data + 1, 1, size - 1, fp) != size - 1)
		abort();
	fclose(fp);
	gridbook_main(6, argv);
	return 0;
}
