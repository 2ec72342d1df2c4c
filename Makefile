# make            build libgearman.so.8, libgearman.so and gearmand into build/
# make demo       start our gearmand, run the reverse worker and client against our library
# make test       the whole test suite (Rust, C, PHP; our server and Debian's gearmand)
# make install    PREFIX=/usr/local DESTDIR=
PREFIX ?= /usr/local
DESTDIR ?=
CARGO ?= cargo
BUILD := build

.PHONY: all release test demo install clean

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

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
