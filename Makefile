# make            build libgearman.so.8, libgearman.so and gearmand into build/
# make demo       start our gearmand, run the reverse worker and client against our library
# make test       the whole test suite (Rust, C, PHP; our server and Debian's gearmand; install)
# make install    PREFIX=/usr/local DESTDIR=
# make deb        Debian packages into build/deb (libgearman8-rs, libgearman-rs-dev,
#                 gearman-rs-job-server and their -dbgsym packages)
PREFIX ?= /usr/local
DESTDIR ?=
CARGO ?= cargo
BUILD := build

.PHONY: all release test demo install install-check deb deb-check clean

all: release

release:
	$(CARGO) build --release
	mkdir -p $(BUILD)
	cp target/release/gearmand $(BUILD)/gearmand
	cp target/release/libgearman.so $(BUILD)/libgearman.so.8
	ln -sf libgearman.so.8 $(BUILD)/libgearman.so

# The suite runs against our server, then the server tests again against Debian's gearmand
# (which proves they encode gearmand 1.1.20's real behaviour).
test:
	$(CARGO) test --release
	@if [ -x /usr/sbin/gearmand ]; then \
	  echo "== server tests against /usr/sbin/gearmand"; \
	  GEARMAND_BIN=/usr/sbin/gearmand $(CARGO) test --release $(patsubst %,--test %,$(basename $(notdir $(wildcard tests/server_*.rs tests/interop_*.rs)))); \
	elif [ "$$GEARMAN_COMPAT_REQUIRED" = 1 ]; then \
	  echo "/usr/sbin/gearmand missing and GEARMAN_COMPAT_REQUIRED=1"; exit 1; \
	else echo "SKIPPED: /usr/sbin/gearmand not installed"; fi
	$(MAKE) -s install-check
	$(MAKE) -s deb-check

demo: release
	@scripts/demo.sh

LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
VERSION := 1.1.20

install: release
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PREFIX)/sbin
	install -m 755 $(BUILD)/libgearman.so.8 $(DESTDIR)$(LIBDIR)/libgearman.so.8
	ln -sf libgearman.so.8 $(DESTDIR)$(LIBDIR)/libgearman.so
	install -m 644 target/release/libgearman.a $(DESTDIR)$(LIBDIR)/libgearman.a
	cp -R include/libgearman-1.0 include/libgearman $(DESTDIR)$(INCLUDEDIR)/
	install -m 755 $(BUILD)/gearmand $(DESTDIR)$(PREFIX)/sbin/gearmand
	for pc in gearman gearmand; do \
	  sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	      -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	      pkgconfig/$$pc.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/$$pc.pc; \
	done

install-check: release
	@scripts/install-check.sh

deb: release
	scripts/make-deb.sh build/deb

# lintian, then our packages installed over Debian's in a throw-away overlay root and back.
deb-check: release
	@scripts/deb-check.sh

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
