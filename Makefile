# gridbook — one non-recursive Makefile. Every output goes to build/.
#   make            build everything (after `make deps` on a new machine)
#   make deps       install the missing Debian packages (root, apt-get)
#   make test       deps, build, unit tests (plain and ASan+UBSan), e2e tests
#   make demo       deps, build, a seeded district synced and reported
#   make bench      benchmarks; results go in BENCHMARKS.md by hand
#   make fuzz       libFuzzer harnesses of tests/fuzz/ and their seeds (clang)
#   make format     clang-format every C file
#   make clean      remove build/

CC      ?= cc
B       := build
PKGS    := sqlite3 libcurl libprotobuf-c zlib libmicrohttpd libsodium libpq
DEBS    := libsqlite3-dev libcurl4-openssl-dev libprotobuf-c-dev \
           protobuf-c-compiler protobuf-compiler zlib1g-dev libmicrohttpd-dev \
           libsodium-dev libpq-dev pkg-config gettext sqlite3 python3 \
           curl openssl
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla
SEEDDIR := $(abspath seeds)
CFLAGS  ?= -O2 -g
ALLCFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) \
           $(CFLAGS) -MMD -MP -Icommon -Iclient -Iserver -I$(B)/gen \
           -DGB_SEEDDIR='"$(SEEDDIR)"' \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
           -fno-omit-frame-pointer

PROTOS   := $(wildcard proto/*.proto)
GEN_C    := $(patsubst proto/%.proto,$(B)/gen/%.pb-c.c,$(PROTOS))
GEN_H    := $(GEN_C:.c=.h)

SCHEMA_SQL := $(sort $(wildcard schema/client/*.sql schema/server/*.sql))
COMMON_SRC := $(wildcard common/*.c) $(GEN_C) $(B)/gen/schema.c
CLIENT_SRC := $(filter-out client/main.c client/syncd_main.c,$(wildcard client/*.c))
SERVER_SRC := $(filter-out server/main.c,$(wildcard server/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
BENCH_SRC  := $(wildcard bench/*.c)

obj = $(patsubst %.c,$(1)/%.o,$(2))
COMMON_OBJ := $(call obj,$(B)/o,$(COMMON_SRC))
CLIENT_OBJ := $(call obj,$(B)/o,$(CLIENT_SRC))
SERVER_OBJ := $(call obj,$(B)/o,$(SERVER_SRC))
ASAN_LIBOBJ := $(call obj,$(B)/asan,$(COMMON_SRC) $(CLIENT_SRC) $(SERVER_SRC))

BINS := $(B)/gridbook
ifneq ($(wildcard client/syncd_main.c),)
BINS += $(B)/gridbook-syncd
endif
ifneq ($(wildcard server/main.c),)
BINS += $(B)/gridbook-hq
endif
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRC))
ASAN_BINS := $(patsubst tests/unit/%.c,$(B)/unit-asan/%,$(UNIT_SRC))
BENCH_BINS := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.PHONY: all deps test unit unit-asan e2e demo bench format clean fuzz fuzz-run
.SECONDARY:

all: $(BINS) $(UNIT_BINS) $(BENCH_BINS)

deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	    || { echo "deps: apt-get install failed" >&2; exit 1; }; \
	fi

$(B)/gen/%.pb-c.c $(B)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(B)/gen
	protoc-c --proto_path=proto --c_out=$(B)/gen $<

$(B)/gen/schema.c: $(SCHEMA_SQL) tests/gen-schema.sh
	@mkdir -p $(B)/gen
	tests/gen-schema.sh > $@.tmp && mv $@.tmp $@

# Every object may include generated headers, so they come first.
$(B)/o/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -c $< -o $@

$(B)/asan/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(SANFLAGS) -c $< -o $@

$(B)/libgbcommon.a: $(COMMON_OBJ)
	@rm -f $@; ar rcs $@ $^
$(B)/libgbclient.a: $(CLIENT_OBJ)
	@rm -f $@; ar rcs $@ $^ 2>/dev/null || ar rcs $@
$(B)/libgbserver.a: $(SERVER_OBJ)
	@rm -f $@; ar rcs $@ $^ 2>/dev/null || ar rcs $@
$(B)/libgbasan.a: $(ASAN_LIBOBJ)
	@rm -f $@; ar rcs $@ $^

LIBSET := $(B)/libgbclient.a $(B)/libgbserver.a $(B)/libgbcommon.a

$(B)/gridbook: $(B)/o/client/main.o $(LIBSET)
	$(CC) $(ALLCFLAGS) -o $@ $^ $(LIBS)
$(B)/gridbook-syncd: $(B)/o/client/syncd_main.o $(LIBSET)
	$(CC) $(ALLCFLAGS) -o $@ $^ $(LIBS)
$(B)/gridbook-hq: $(B)/o/server/main.o $(LIBSET)
	$(CC) $(ALLCFLAGS) -o $@ $^ $(LIBS)
$(B)/unit/%: $(B)/o/tests/unit/%.o $(LIBSET)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -o $@ $^ $(LIBS)
$(B)/unit-asan/%: $(B)/asan/tests/unit/%.o $(B)/libgbasan.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS)
$(B)/bench/%: $(B)/o/bench/%.o $(LIBSET)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -o $@ $^ $(LIBS)

test: deps
	@$(MAKE) --no-print-directory all $(ASAN_BINS) $(if $(CLANG),fuzz)
	@tests/run-all $(B)

unit: all
	@tests/run-all $(B) unit

e2e: all
	@tests/run-all $(B) e2e

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh $(B)

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/run $(B)

# ---- fuzzing: libFuzzer harnesses (tests/fuzz/fuzz_*.c) over the code
# built again with clang, ASan and coverage; their seed corpora are made
# from real encodings and files at build time (gen_corpus, gen_csv.py).
# make test runs each for FUZZ_SECONDS (tests/e2e/t0900-fuzz.sh) when
# clang is there; `make fuzz-run FUZZ_SECONDS=7200` is the long run.
CLANG       ?= $(shell command -v clang 2>/dev/null)
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
FUZZ_LIBOBJ := $(call obj,$(B)/fuzz/o,$(COMMON_SRC) $(CLIENT_SRC) $(SERVER_SRC))
FUZZFLAGS    = $(filter-out -Werror -O2,$(ALLCFLAGS)) -O1 -fno-omit-frame-pointer
FUZZ_SECONDS ?= 20

$(B)/fuzz/o/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer-no-link,address -c $< -o $@
# The CLI's main.c too, its main renamed, for its command helpers and for
# harnesses that run a command as gridbook would.
$(B)/fuzz/o/client/main-lib.o: client/main.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer-no-link,address \
	  -Dmain=gridbook_main -c $< -o $@
$(B)/libgbfuzz.a: $(FUZZ_LIBOBJ) $(B)/fuzz/o/client/main-lib.o
	@rm -f $@; ar rcs $@ $^
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(B)/libgbfuzz.a | $(GEN_H)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer,address -o $@ $< \
	  $(B)/libgbfuzz.a $(LIBS)
$(B)/o/tests/fuzz/gen_corpus.o: ALLCFLAGS += -Itests/unit
$(B)/fuzz/gen_corpus: $(B)/o/tests/fuzz/gen_corpus.o $(LIBSET)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -o $@ $^ $(LIBS)
$(B)/fuzz/corpus/.done: $(B)/fuzz/gen_corpus bench/gen_csv.py
	@rm -rf $(B)/fuzz/corpus
	$(B)/fuzz/gen_corpus $(B)/fuzz/corpus
	@mkdir -p $(B)/fuzz/corpus/csv
	python3 bench/gen_csv.py --grid S01-G1 --rows 12 $(B)/fuzz/corpus/e.csv
	python3 bench/gen_csv.py --grid S01-G1 --rows 3 --bad-line 3 --bom \
	  --crlf $(B)/fuzz/corpus/b.csv
	{ printf '\000'; cat $(B)/fuzz/corpus/e.csv; } >$(B)/fuzz/corpus/csv/enterprise
	{ printf '\000'; cat $(B)/fuzz/corpus/b.csv; } >$(B)/fuzz/corpus/csv/bad-bom-crlf
	@rm -f $(B)/fuzz/corpus/*.csv
	@touch $@

fuzz: $(FUZZ_BINS) $(B)/fuzz/corpus/.done
fuzz-run: fuzz
	@tests/fuzz/run $(B) $(FUZZ_SECONDS)

format:
	clang-format -i $(wildcard common/*.[ch] client/*.[ch] server/*.[ch] \
	  tests/unit/*.[ch] bench/*.[ch])

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
