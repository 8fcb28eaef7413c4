# trustgate — plain GNU Makefile with pkg-config.
#   make              build build/trustgate
#   make check        install missing Debian packages, build, run every test
#                     (the real-data tests of check-real included)
#   make check-real   real data: every .deb of the apt cache, every EFI binary
#   make demo         install missing Debian packages, build, run the demo
#   make bench        benchmarks against peer tools (README, Performance)
#   make check SANITIZE=address,undefined WERROR=1    what CI runs

CC      ?= cc
PKGS    := tss2-esys tss2-mu tss2-rc tss2-tctildr libgcrypt libarchive sqlite3 json-c ksba libpq
B       := build

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wformat=2 -Wshadow -Wvla -Wpointer-arith \
           -Wmissing-prototypes -Wno-unused-parameter -fstack-protector-strong \
           -D_FORTIFY_SOURCE=2 -fno-strict-aliasing
ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libtss2-esys is not linked: measure/tpm.c opens it on first use (it drags
# OpenSSL's libcrypto into every process otherwise); nor is libpq, opened by
# db/pg.c for records on PostgreSQL only (linked, it cost every start 5 ms).  libarchive is linked
# statically unless STATIC_ARCHIVE=0: the shared library needs libxml2, ICU
# and libstdc++ (for the xar format, which trustgate never reads), and
# loading those cost every `check` about 3 ms.  --gc-sections drops the
# unused writers that reference libxml2.  A libarchive security update
# then needs a rebuild (`trustgate --version` names the libarchive inside).
STATIC_ARCHIVE ?= 1
ifeq ($(STATIC_ARCHIVE),1)
ARCHIVE_LIBS := -Wl,--gc-sections -Wl,-Bstatic -larchive -Wl,-Bdynamic -Wl,--as-needed \
                $(filter-out -larchive -lxml2,$(shell pkg-config --libs --static libarchive 2>/dev/null)) -Wl,--no-as-needed
else
ARCHIVE_LIBS := $(shell pkg-config --libs libarchive 2>/dev/null)
endif
PKG_LIBS   := $(shell pkg-config --libs $(filter-out tss2-esys libarchive libpq,$(PKGS)) 2>/dev/null) $(ARCHIVE_LIBS) \
              -lfdt -lunistring -lpthread
CPPFLAGS   += -I$(B) $(PKG_CFLAGS)

COMMON_SRC   := $(wildcard common/*.c)
DB_SRC       := $(wildcard db/*.c)
MEASURE_SRC  := $(wildcard measure/*.c)
FIRMWARE_SRC := $(wildcard firmware/*.c)
VERIFIER_SRC := $(filter-out verifier/main.c,$(wildcard verifier/*.c))
LIB_SRC      := $(COMMON_SRC) $(DB_SRC) $(MEASURE_SRC) $(FIRMWARE_SRC) $(VERIFIER_SRC)
LIB_OBJ      := $(LIB_SRC:%.c=$(B)/%.o)
HEADERS      := $(wildcard common/*.h db/*.h measure/*.h firmware/*.h verifier/*.h service/*.h) $(B)/schema_sql.h
# The service (serve, ca, user) is a second program, trustgate-service, which
# `trustgate serve|ca|user` runs: it alone links libmicrohttpd and GnuTLS.
SERVICE_PKGS := gnutls libmicrohttpd libcurl
SERVICE_SRC  := $(wildcard service/*.c)
SERVICE_OBJ  := $(SERVICE_SRC:%.c=$(B)/%.o)
SERVICE_LIBS := $(shell pkg-config --libs $(SERVICE_PKGS) 2>/dev/null)
$(SERVICE_OBJ) $(B)/verifier/main-service.o: CPPFLAGS += $(shell pkg-config --cflags $(SERVICE_PKGS) 2>/dev/null)

UNIT_SRC     := $(wildcard tests/unit/test_*.c)
UNIT_BIN     := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.DEFAULT_GOAL := all
PREFIX  ?= /usr/local
.PHONY: install
install: $(B)/trustgate $(B)/trustgate-service
	install -D -m 0755 $(B)/trustgate $(DESTDIR)$(PREFIX)/bin/trustgate
	install -D -m 0755 $(B)/trustgate-service $(DESTDIR)$(PREFIX)/bin/trustgate-service
	install -D -m 0644 docs/trustgate.1 $(DESTDIR)$(PREFIX)/share/man/man1/trustgate.1

# The man page is generated from the help table; tests/e2e/11_help.sh
# fails when the committed copy is stale.
man: $(B)/trustgate
	@mkdir -p docs
	$(B)/trustgate help --man > docs/trustgate.1

.PHONY: all deps check check-real demo bench clean unit image image-test image-bin
all: $(B)/trustgate $(B)/trustgate-service

deps:
	@bash scripts/deps.sh

# The version line names the commit the binary was built from.
TG_COMMIT := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(B)/verifier/help.o: CPPFLAGS += -DTG_COMMIT='"$(TG_COMMIT)"'
ifeq ($(STATIC_ARCHIVE),1)
$(B)/verifier/help.o: CPPFLAGS += -DTG_STATIC_ARCHIVE
endif

$(B)/schema_sql.h: db/schema.sql $(wildcard db/migrate_*.sql)
	@mkdir -p $(B)
	for f in $^; do xxd -i $$f; done > $@.tmp && mv $@.tmp $@

$(B)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libtrustgate.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/trustgate: $(B)/verifier/main.o $(B)/libtrustgate.a Makefile
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(PKG_LIBS)

$(B)/verifier/main-service.o: verifier/main.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DTG_SERVICE $(CFLAGS) -c $< -o $@

$(B)/trustgate-service: $(B)/verifier/main-service.o $(SERVICE_OBJ) $(B)/libtrustgate.a Makefile
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(PKG_LIBS) $(SERVICE_LIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/harness.h $(B)/libtrustgate.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libtrustgate.a $(PKG_LIBS)

unit: $(UNIT_BIN)

check: deps
	@$(MAKE) --no-print-directory all unit replay
	@bash tests/run.sh

# Real data only (also part of `make check`): the apt cache, EFI binaries.
check-real: deps
	@$(MAKE) --no-print-directory all
	@bash tests/real/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh

# The service's load generator (a bench tool, not part of the product).
$(B)/bench/attest_load: tests/bench/attest_load.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $< -lgnutls -lgcrypt -ltss2-mu -lpthread

bench: deps
	@$(MAKE) --no-print-directory all $(B)/bench/attest_load
	@bash tests/bench/run.sh

# The appliance image: its own trustgate build (never the sanitizer build
# of `make check`) in build/image, then image/build.sh and image/test.sh.
IMAGE_B := build/image
image-bin:
	@$(MAKE) --no-print-directory B=$(IMAGE_B) SANITIZE= all

image: deps image-bin
	@TG_IMAGE_BIN=$(CURDIR)/$(IMAGE_B)/trustgate bash image/build.sh $(IMAGE_B)/out

image-test: deps image-bin
	@TG_IMAGE_BIN=$(CURDIR)/$(IMAGE_B)/trustgate bash image/test.sh

clean:
	rm -rf $(B) $(IMAGE_B)

# Fuzzing: `make fuzz` builds libFuzzer targets with clang; the same target
# files link into build/fuzz/replay_* which `make check` runs on the corpus.
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
REPLAY_BIN   := $(FUZZ_TARGETS:%=$(B)/fuzz/replay_%)

# (The service's objects are linked in for the request handlers' target.)
$(B)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(SERVICE_OBJ) $(B)/libtrustgate.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ tests/fuzz/fuzz_$*.c tests/fuzz/replay.c $(SERVICE_OBJ) \
		$(B)/libtrustgate.a $(PKG_LIBS) $(SERVICE_LIBS)

replay: $(REPLAY_BIN)

.PHONY: fuzz replay
fuzz:
	@mkdir -p $(B)/fuzzer
	@for t in $(FUZZ_TARGETS); do \
		clang -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) $(shell pkg-config --cflags $(SERVICE_PKGS)) \
			-o $(B)/fuzzer/fuzz_$$t tests/fuzz/fuzz_$$t.c $(LIB_SRC) $(SERVICE_SRC) $(PKG_LIBS) $(SERVICE_LIBS) || exit 1; \
		echo "built $(B)/fuzzer/fuzz_$$t (run: $(B)/fuzzer/fuzz_$$t tests/fuzz/corpus/$$t)"; \
	done
