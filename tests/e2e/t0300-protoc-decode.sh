#!/usr/bin/env bash
# The bytes gridbook sends are ordinary protobuf: a sample batch of
# realistic records written by bench/wire_dump decodes with protoc and the
# .proto alone, with its Chinese text, codes and enum names intact; and the
# body as sent is a zlib stream that names a preset dictionary.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/e2e/lib.sh"
B=$(dirname "$(command -v gridbook 2>/dev/null || echo "$top/build/gridbook")")
dump="$B/bench/wire_dump"

ok "wire_dump writes a batch" "$dump" -n 20
cp "$T/.out" "$T/batch.pb"
ok "protoc decodes the batch" protoc --proto_path="$top/proto" \
	--decode=gridbook.Batch "$top/proto/gridbook.proto" <"$T/batch.pb"
# protoc writes non-ASCII bytes of strings as octal escapes; undo them on
# each line that is UTF-8 text (ids are bytes and stay escaped).
txt=$(python3 -c '
import codecs, sys
for line in sys.stdin.buffer.read().splitlines():
    try:
        print(codecs.escape_decode(line)[0].decode("utf-8"))
    except UnicodeDecodeError:
        print(line.decode("ascii"))
' <"$T/.out")

has "protocol" "$txt" "protocol: 1"
has "batch grid" "$txt" 'grid: "S03-G2"'
same "records in the batch" "$(grep -c '^records {' "$T/.out")" 20
has "an enterprise" "$txt" "enterprise {"
has "a Chinese enterprise name" "$txt" 'name: "望川'
has "a company" "$txt" '有限公司"'
has "enum by name" "$txt" "type: COMPANY"
has "a community code" "$txt" 'community: "S03-C'
has "a USCC" "$txt" 'uscc: "91330782MA'
has "a Chinese note" "$txt" "巡逻正常"
has "a list field" "$txt" 'guards: "B00'
same "every name is UTF-8 text" \
	"$(printf '%s\n' "$txt" | grep -c '^ *name: "\\[0-7]')" 0

# As sent: zlib (CMF 0x78) with FDICT set in the flags byte.
ok "wire_dump -z writes the deflated body" "$dump" -z -n 20
same "zlib header with a preset dictionary" \
	"$(od -An -tx1 -N2 "$T/.out" | tr -d ' \n' | python3 -c '
import sys
b = bytes.fromhex(sys.stdin.read())
print("ok" if b[0] == 0x78 and b[1] & 0x20 and (b[0] * 256 + b[1]) % 31 == 0
      else b.hex())')" ok
