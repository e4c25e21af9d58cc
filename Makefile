# gridbook — one non-recursive Makefile. Every output goes to build/.
#   make            build everything (after `make deps` on a new machine)
#   make deps       install the missing Debian packages (root, apt-get)
#   make test       deps, build, unit tests (plain and ASan+UBSan), e2e tests
#   make demo       deps, build, a seeded district synced and reported
#   make bench      benchmarks; results go in BENCHMARKS.md by hand
#   make install    binaries, catalogues, man pages, completion, systemd
#                   units under PREFIX (/usr/local), DESTDIR for packages
#   make fuzz       libFuzzer harnesses of tests/fuzz/ and their seeds (clang)
#   make format     clang-format every C file
#   make check      the house rules: format, banned.h, no assignment in a
#                   condition (tests/check/style.py); make test runs it
#   make graph      draw the include and link graph to build/graph/ and
#                   check its walls, layers and circles (tests/check/graph.py)
#   make testkind   a test build in build/testkind/ with one kind more
#                   (tests/testkind/): a table entry and a proto message
#   make clean      remove build/
#   make po         make build/po/gridbook.pot from the sources and merge
#                   it into every po/*.po (new strings come untranslated)

CC      ?= cc
B       := build
# Each side sees its own headers and links its own libraries (STYLE.md,
# "one owner"): common/ builds with common/ only; the client never sees a
# server header nor libmicrohttpd or libpq; the server never sees a
# client header nor libcurl.  Tests, benchmarks and fuzzers see all.
COMMON_PKGS := sqlite3 libprotobuf-c zlib libsodium
CLIENT_PKGS := $(COMMON_PKGS) libcurl
SERVER_PKGS := $(COMMON_PKGS) libmicrohttpd libpq
PKGS    := $(COMMON_PKGS) libcurl libmicrohttpd libpq
DEBS    := libsqlite3-dev libcurl4-openssl-dev libprotobuf-c-dev \
           protobuf-c-compiler protobuf-compiler zlib1g-dev libmicrohttpd-dev \
           libsodium-dev libpq-dev pkg-config gettext sqlite3 python3 \
           curl openssl locales
# The dashboard's browser test: headless Chromium and a CJK font to draw
# the page's Chinese in its screenshots.
DEBS    += chromium fonts-wqy-microhei
DEBS    += man-db groff-base
# make check and make graph: the formatter and Graphviz.
DEBS    += clang-format graphviz
# t0575 runs a laptop whose clock is two years ahead.
DEBS    += faketime
# The tests of the PostgreSQL store start a throwaway cluster of their own
# (tests/e2e/pglib.py); psql comes with it (postgresql-client).
DEBS    += postgresql
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla
SEEDDIR := $(abspath seeds)
PREFIX  ?= /usr/local
LOCALEDIR ?= $(PREFIX)/share/locale
CFLAGS  ?= -O2 -g
# pkg-config is asked once, and what it says is shown: a missing library
# stops the build with pkg-config's own message, not later with a
# missing header.  Goals that build nothing, or that install the packages
# first and then build in a sub-make (test, demo, bench), do not ask.
NOPKG_GOALS := deps test demo bench clean po format check
ifneq ($(filter-out $(NOPKG_GOALS),$(or $(MAKECMDGOALS),all)),)
PKG_ERR := $(shell pkg-config --exists --print-errors $(PKGS) 2>&1)
ifneq ($(strip $(PKG_ERR)),)
$(error pkg-config: $(PKG_ERR) (`make deps` installs what is missing))
endif
COMMON_CF := $(shell pkg-config --cflags $(COMMON_PKGS))
CLIENT_CF := $(shell pkg-config --cflags $(CLIENT_PKGS))
SERVER_CF := $(shell pkg-config --cflags $(SERVER_PKGS))
ALL_CF    := $(shell pkg-config --cflags $(PKGS))
CLIENT_LIBS := $(shell pkg-config --libs $(CLIENT_PKGS)) -lm -lpthread
SERVER_LIBS := $(shell pkg-config --libs $(SERVER_PKGS)) -lm -lpthread
LIBS        := $(shell pkg-config --libs $(PKGS)) -lm -lpthread
endif
# The include path and library flags of an object's side, set per
# directory below; everything else (tests, bench, fuzz) sees all.
SIDE    = -Icommon -Iclient -Iserver -I$(B)/gen $(ALL_CF)
# GB_DEFS: what a variant build adds (make testkind).
GB_DEFS ?=
ALLCFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) \
           $(CFLAGS) $(GB_DEFS) -MMD -MP $(SIDE) \
           -DGB_SEEDDIR='"$(SEEDDIR)"' -DGB_LOCALEDIR='"$(LOCALEDIR)"'
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
           -fno-omit-frame-pointer

# Where the wire format's .proto files are read from (make testkind
# gives its own).
PROTO_DIR ?= proto
PROTOS   := $(wildcard $(PROTO_DIR)/*.proto)
GEN_C    := $(patsubst $(PROTO_DIR)/%.proto,$(B)/gen/%.pb-c.c,$(PROTOS))
GEN_H    := $(GEN_C:.c=.h)

SCHEMA_SQL := $(sort $(wildcard schema/client/*.sql schema/server/*.sql \
              schema/pg/*.sql))
COMMON_SRC := $(wildcard common/*.c) $(GEN_C) $(B)/gen/schema.c
CLIENT_SRC := $(filter-out client/main.c client/syncd_main.c,$(wildcard client/*.c))
SERVER_SRC := $(filter-out server/main.c,$(wildcard server/*.c)) \
              $(B)/gen/dashboard_assets.c
DASH_ASSETS := server/dashboard.html server/dashboard.css server/dashboard.js
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

# Message catalogues: po/LANG.po is compiled into build/locale/, where the
# programs in build/ find it (common/i18n.c).  po/extract.sh says which
# sources and marks xgettext reads.
PO_FILES := $(wildcard po/*.po)
MO_FILES := $(patsubst po/%.po,$(B)/locale/%/LC_MESSAGES/gridbook.mo,$(PO_FILES))

.PHONY: all deps test unit unit-asan e2e e2e-pg demo bench format check graph clean po install fuzz fuzz-run testkind FORCE
.SECONDARY:

all: $(BINS) $(UNIT_BINS) $(BENCH_BINS) $(MO_FILES)

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
	@# Tests and Chinese users need the zh_CN.UTF-8 locale generated.
	@locale -a 2>/dev/null | grep -qix 'zh_CN\.utf-\?8' || \
	  { echo "generating locale zh_CN.UTF-8"; \
	    localedef -i zh_CN -f UTF-8 zh_CN.UTF-8 \
	    || { echo "deps: localedef zh_CN.UTF-8 failed" >&2; exit 1; }; }

$(B)/gen/%.pb-c.c $(B)/gen/%.pb-c.h: $(PROTO_DIR)/%.proto
	@mkdir -p $(B)/gen
	protoc-c --proto_path=$(PROTO_DIR) --c_out=$(B)/gen $<

$(B)/gen/schema.c: $(SCHEMA_SQL) tests/gen-schema.sh
	@mkdir -p $(B)/gen
	tests/gen-schema.sh > $@.tmp && mv $@.tmp $@

$(B)/gen/dashboard_assets.c: $(DASH_ASSETS) tests/gen-assets.sh
	@mkdir -p $(B)/gen
	tests/gen-assets.sh > $@.tmp && mv $@.tmp $@

$(B)/o/common/%.o $(B)/asan/common/%.o $(B)/o/build/gen/%.o \
$(B)/asan/build/gen/%.o: SIDE = -Icommon -I$(B)/gen $(COMMON_CF)
$(B)/o/client/%.o $(B)/asan/client/%.o: \
  SIDE = -Icommon -Iclient -I$(B)/gen $(CLIENT_CF)
$(B)/o/server/%.o $(B)/asan/server/%.o $(B)/o/build/gen/dashboard_assets.o \
$(B)/asan/build/gen/dashboard_assets.o: \
  SIDE = -Icommon -Iserver -I$(B)/gen $(SERVER_CF)

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

# A program links its side and common/ only: a call across the wall is
# an undefined reference, not a habit.
$(B)/gridbook: $(B)/o/client/main.o $(B)/libgbclient.a $(B)/libgbcommon.a
	$(CC) $(CFLAGS) -o $@ $^ $(CLIENT_LIBS)
$(B)/gridbook-syncd: $(B)/o/client/syncd_main.o $(B)/libgbclient.a \
  $(B)/libgbcommon.a
	$(CC) $(CFLAGS) -o $@ $^ $(CLIENT_LIBS)
$(B)/gridbook-hq: $(B)/o/server/main.o $(B)/libgbserver.a $(B)/libgbcommon.a
	$(CC) $(CFLAGS) -o $@ $^ $(SERVER_LIBS)
$(B)/unit/%: $(B)/o/tests/unit/%.o $(LIBSET)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -o $@ $^ $(LIBS)
$(B)/unit-asan/%: $(B)/asan/tests/unit/%.o $(B)/libgbasan.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS)
$(B)/bench/%: $(B)/o/bench/%.o $(LIBSET)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -o $@ $^ $(LIBS)

# i18n.c has LOCALEDIR compiled in, so it is built again when that changes
# (make install PREFIX=...).
$(B)/localedir: FORCE
	@mkdir -p $(B)
	@echo '$(LOCALEDIR)' | cmp -s - $@ || echo '$(LOCALEDIR)' > $@
$(B)/o/common/i18n.o $(B)/asan/common/i18n.o: $(B)/localedir
FORCE:

$(B)/locale/%/LC_MESSAGES/gridbook.mo: po/%.po
	@mkdir -p $(dir $@)
	msgfmt --check --statistics -o $@.tmp $< && mv $@.tmp $@

# The template is made afresh from the sources each time, so it is not kept
# in git; po/*.po are.
po:
	@mkdir -p $(B)/po
	po/extract.sh > $(B)/po/gridbook.pot
	@for po in $(PO_FILES); do \
	  msgmerge --quiet --update --backup=none --no-wrap \
	    --no-fuzzy-matching $$po $(B)/po/gridbook.pot || exit 1; \
	  printf '%s: ' $$po; msgfmt --statistics -o /dev/null $$po; done

# make test builds with as many compilers as cores unless make was given
# -j itself (a clean clone's build took 93 s one file at a time, 49 s two
# at a time on two cores); the tests then still run one at a time.  The
# test kind's build (t0140) is made here too, and t0140 finds it made.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: deps
	@$(MAKE) --no-print-directory \
	  $(if $(filter -j%,$(MAKEFLAGS)),,-j$(TEST_JOBS)) \
	  all $(ASAN_BINS) testkind $(if $(CLANG),fuzz)
	@tests/run-all $(B)

unit: all
	@tests/run-all $(B) unit

# The unit tests, plain and under ASan+UBSan.
unit-asan: all $(ASAN_BINS)
	@tests/run-all $(B) unit

e2e: all
	@tests/run-all $(B) e2e

# The e2e tests that run again with HQ on PostgreSQL, alone.
e2e-pg: all
	@tests/run-all $(B) e2e-pg

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh $(B)

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/run $(B)

DESTDIR ?=
BINDIR  := $(PREFIX)/bin
SHARE   := $(PREFIX)/share
MANS    := $(wildcard man/*.[0-9])

# Catalogues are installed from $(B)/locale/LANG/LC_MESSAGES/gridbook.mo
# when the build made them.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHARE)/man/man1 \
	  $(DESTDIR)$(SHARE)/man/man8 \
	  $(DESTDIR)$(SHARE)/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/lib/systemd/user \
	  $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do \
	  install -m 644 $$m $(DESTDIR)$(SHARE)/man/man$${m##*.}; done
	install -m 644 client/gridbook.bash \
	  $(DESTDIR)$(SHARE)/bash-completion/completions/gridbook
	ln -sf gridbook $(DESTDIR)$(SHARE)/bash-completion/completions/gridbook-syncd
	ln -sf gridbook $(DESTDIR)$(SHARE)/bash-completion/completions/gridbook-hq
	sed 's|@BINDIR@|$(BINDIR)|g' client/gridbook-syncd@.service \
	  >$(DESTDIR)$(PREFIX)/lib/systemd/user/gridbook-syncd@.service
	sed 's|@BINDIR@|$(BINDIR)|g' server/gridbook-hq.service \
	  >$(DESTDIR)$(PREFIX)/lib/systemd/system/gridbook-hq.service
	@for mo in $(B)/locale/*/LC_MESSAGES/gridbook.mo; do \
	  [ -f "$$mo" ] || continue; \
	  d=$(DESTDIR)$(LOCALEDIR)/$${mo#$(B)/locale/}; \
	  install -d $${d%/gridbook.mo} && install -m 644 $$mo $$d; \
	  echo "install $$mo"; done

# ---- fuzzing: libFuzzer harnesses (tests/fuzz/fuzz_*.c) over the code
# built again with clang, ASan and coverage; their seed corpora are made
# from real encodings and files at build time (gen_corpus, gen_csv.py).
# make test runs each for FUZZ_SECONDS, FUZZ_JOBS at a time
# (tests/e2e/t0950-fuzz.sh), when clang is there; `make fuzz-run
# FUZZ_SECONDS=7200` is the long run.
CLANG       ?= $(shell command -v clang 2>/dev/null)
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
FUZZ_LIBOBJ := $(call obj,$(B)/fuzz/o,$(COMMON_SRC) $(CLIENT_SRC) $(SERVER_SRC))
FUZZFLAGS    = $(filter-out -Werror -O2,$(ALLCFLAGS)) -O1 -fno-omit-frame-pointer
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2

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
	@tests/fuzz/run $(B) $(FUZZ_SECONDS) $(FUZZ_JOBS)

FORMAT_SRC = $(wildcard common/*.[ch] client/*.[ch] server/*.[ch] \
	  tests/unit/*.[ch] tests/fuzz/*.[ch] bench/*.[ch])
format:
	clang-format -i $(FORMAT_SRC)

check:
	@tests/check/style.py

# The graph is read from the sources and from the objects of the build
# (nm), so it is drawn after one.
graph: all
	@mkdir -p $(B)/graph
	@tests/check/graph.py --build $(B) --dot $(B)/graph/gridbook.dot; \
	  rc=$$?; dot -Tsvg $(B)/graph/gridbook.dot -o $(B)/graph/gridbook.svg \
	  && echo "drawn: $(B)/graph/gridbook.svg"; exit $$rc

# A kind added by one entry of the kinds table and one proto message, in
# a build of its own (tests/testkind/, tests/e2e/t0140-test-kind.sh): the
# entry comes in with -DGB_TEST_KIND, the message is added to a copy of
# proto/gridbook.proto.
TK := $(B)/testkind
testkind: $(MO_FILES)
	@mkdir -p $(TK)/proto
	@tests/testkind/gen-proto.sh proto/gridbook.proto \
	  tests/testkind/testkind.proto >$(TK)/proto/gridbook.proto.tmp
	@cmp -s $(TK)/proto/gridbook.proto.tmp $(TK)/proto/gridbook.proto \
	  && rm $(TK)/proto/gridbook.proto.tmp \
	  || mv $(TK)/proto/gridbook.proto.tmp $(TK)/proto/gridbook.proto
	@$(MAKE) --no-print-directory B=$(TK) PROTO_DIR=$(TK)/proto \
	  GB_DEFS='-DGB_TEST_KIND -I$(abspath tests/testkind)' \
	  $(TK)/gridbook $(TK)/gridbook-syncd $(TK)/gridbook-hq

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
