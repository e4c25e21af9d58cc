/*
 * libFuzzer harness of what a laptop reads from HQ: the ack of a batch
 * (wire_ack_decode, uncompressed protobuf) and a page of /v1/changes
 * (wire_page_decode: inflate, unpack, every record and reference row).
 * The first byte of the input says which; the rest is the body.
 */
#include <stdint.h>
#include <stdlib.h>

#include "wire.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gb_err err;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		struct wire_ack a;

		wire_ack_decode(data + 1, size - 1, &a, &err);
		wire_ack_release(&a);
	} else {
		struct wire_page p;

		wire_page_decode(data + 1, size - 1, &p, &err);
		wire_page_release(&p);
	}
	return 0;
}
