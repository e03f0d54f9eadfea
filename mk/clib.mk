# libvouch (C client library) and pam_vouch.so.  Included by the top-level
# Makefile (include mk/*.mk); also usable alone: make -f mk/clib.mk clib
#   clib        build/libvouch.so{,.1,.1.0.0}, build/vouch.pc, build/pam_vouch.so
#   clib-test   the C tests (codec units, ELF checks, library and PAM tests
#               against a fake daemon and, when $(VOUCHD) exists, the real one)
#   clean-clib  removes what the above built
# Needs only the C compiler, libc and (for pam_vouch.so) libpam0g-dev;
# the tests use python3 (fake daemon), readelf and nm (binutils).

CLIB_VERSION  := 1.0.0
CLIB_SOVER    := 1
CLIB_PREFIX   ?= $(if $(PREFIX),$(PREFIX),/usr/local)
CLIB_LIBDIR   ?= $(CLIB_PREFIX)/lib
VOUCHD        ?= .build/$(if $(CONFIG),$(CONFIG),debug)/vouchd
VOUCHCTL      ?= .build/$(if $(CONFIG),$(CONFIG),debug)/vouchctl

CLIB_CFLAGS   := -std=c11 -O2 -g -fPIC -fvisibility=hidden -D_GNU_SOURCE \
                 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
                 -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
                 -ISources/CVouch/include -ISources/CVouch
CLIB_LDFLAGS  := -Wl,-z,relro -Wl,-z,now -Wl,--as-needed -Wl,-z,defs

CLIB_SRCS     := $(wildcard Sources/CVouch/*.c)
CLIB_HDRS     := Sources/CVouch/include/vouch.h Sources/CVouch/vouch_internal.h
CLIB_OBJDIR   := build/clib
CLIB_LIB_OBJS := $(patsubst Sources/CVouch/%.c,$(CLIB_OBJDIR)/lib/%.o,$(CLIB_SRCS))
CLIB_PAM_OBJS := $(patsubst Sources/CVouch/%.c,$(CLIB_OBJDIR)/pam/%.o,$(CLIB_SRCS)) \
                 $(CLIB_OBJDIR)/pam/pam_vouch.o

CLIB_OUTPUTS  := build/libvouch.so.$(CLIB_VERSION) build/libvouch.so.$(CLIB_SOVER) \
                 build/libvouch.so build/vouch.pc build/pam_vouch.so
CLIB_TESTS    := $(CLIB_OBJDIR)/test_codec $(CLIB_OBJDIR)/test_libvouch $(CLIB_OBJDIR)/pam_harness

.PHONY: clib clib-test clean-clib
clib: $(CLIB_OUTPUTS)

# libvouch.so: exported symbols are marked VOUCH_API (VOUCH_BUILDING) and
# the version script keeps only vouch_* under VOUCH_1.
$(CLIB_OBJDIR)/lib/%.o: Sources/CVouch/%.c $(CLIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CLIB_CFLAGS) -DVOUCH_BUILDING -c $< -o $@

build/libvouch.so.$(CLIB_VERSION): $(CLIB_LIB_OBJS) Sources/CVouch/libvouch.map
	$(CC) -shared -Wl,-soname,libvouch.so.$(CLIB_SOVER) \
	  -Wl,--version-script=Sources/CVouch/libvouch.map $(CLIB_LDFLAGS) \
	  -o $@ $(CLIB_LIB_OBJS)

build/libvouch.so.$(CLIB_SOVER): build/libvouch.so.$(CLIB_VERSION)
	ln -sf libvouch.so.$(CLIB_VERSION) $@
build/libvouch.so: build/libvouch.so.$(CLIB_SOVER)
	ln -sf libvouch.so.$(CLIB_SOVER) $@

build/vouch.pc: Sources/CVouch/vouch.pc.in
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(CLIB_PREFIX)|g' -e 's|@LIBDIR@|$(CLIB_LIBDIR)|g' -e 's|@INCLUDEDIR@|$(CLIB_PREFIX)/include|g' \
	    -e 's|@VERSION@|$(CLIB_VERSION)|g' $< > $@

# pam_vouch.so: the libvouch code compiled in with hidden visibility;
# only pam_sm_* exported.
$(CLIB_OBJDIR)/pam/%.o: Sources/CVouch/%.c $(CLIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CLIB_CFLAGS) -c $< -o $@
$(CLIB_OBJDIR)/pam/pam_vouch.o: Sources/pam_vouch/pam_vouch.c $(CLIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CLIB_CFLAGS) -c $< -o $@

build/pam_vouch.so: $(CLIB_PAM_OBJS) Sources/pam_vouch/pam_vouch.map
	$(CC) -shared -Wl,--version-script=Sources/pam_vouch/pam_vouch.map $(CLIB_LDFLAGS) \
	  -o $@ $(CLIB_PAM_OBJS) -lpam

# ---- tests ------------------------------------------------------------------
CLIB_TEST_CFLAGS := $(filter-out -fvisibility=hidden,$(CLIB_CFLAGS)) -pthread

# The codec tests compile the library sources in, to reach internal functions.
$(CLIB_OBJDIR)/test_codec: Tests/c/test_codec.c $(CLIB_SRCS) $(CLIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CLIB_TEST_CFLAGS) -o $@ Tests/c/test_codec.c $(CLIB_SRCS)

# test_libvouch uses only the public API of build/libvouch.so.
$(CLIB_OBJDIR)/test_libvouch: Tests/c/test_libvouch.c Sources/CVouch/include/vouch.h build/libvouch.so
	@mkdir -p $(@D)
	$(CC) $(CLIB_TEST_CFLAGS) -o $@ $< -Lbuild -lvouch -Wl,-rpath,$(abspath build)

$(CLIB_OBJDIR)/pam_harness: Tests/pam/pam_harness.c
	@mkdir -p $(@D)
	$(CC) $(CLIB_TEST_CFLAGS) -o $@ $< -lpam

clib-test: clib $(CLIB_TESTS)
	$(CLIB_OBJDIR)/test_codec docs/PROTOCOL.md
	Tests/c/check_elf.sh build
	VOUCH_FAKE=1 Tests/c/run_clib_tests.sh
	VOUCH_FAKE=1 Tests/pam/run_pam_tests.sh
	@VOUCHD="$(VOUCHD)" VOUCHCTL="$(VOUCHCTL)" Tests/c/run_clib_tests.sh; rc=$$?; \
	  if [ $$rc = 77 ]; then echo "clib-test: real-daemon library tests SKIPPED"; elif [ $$rc != 0 ]; then exit $$rc; fi
	@VOUCHD="$(VOUCHD)" VOUCHCTL="$(VOUCHCTL)" Tests/pam/run_pam_tests.sh; rc=$$?; \
	  if [ $$rc = 77 ]; then echo "clib-test: real-daemon PAM tests SKIPPED"; elif [ $$rc != 0 ]; then exit $$rc; fi

clean-clib:
	rm -rf $(CLIB_OBJDIR) $(CLIB_OUTPUTS)
