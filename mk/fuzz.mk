# Fuzzing and sanitizers (see docs/SECURITY.md).
#
#   make fuzz              builds the libFuzzer target Fuzz/FuzzDecoder.swift (vouchd's own
#                          RequestFramer, request and response decoders) with ASan and runs it for
#                          FUZZ_SECONDS (default 60) on Fuzz/corpus/ plus new inputs in
#                          build/fuzz/corpus/; crashes land in build/fuzz/ as crash-*
#                          (FUZZ_FLAGS passes more libFuzzer flags, e.g. -jobs=2 -workers=2)
#   make fuzz-corpus       regenerates Fuzz/corpus/ from the hex examples in docs/PROTOCOL.md
#   make test-sanitizers   swift test under AddressSanitizer, then ThreadSanitizer
#                          (scratch paths .build-asan and .build-tsan).  Leak detection is
#                          off: XCTest, NIO's singleton event loops and vouchctl's exit leave
#                          reachable-at-exit objects that LeakSanitizer reports as leaks.
SWIFTC ?= swiftc
CLANG ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?=
FUZZ_DIR := build/fuzz
FUZZ_BIN := $(FUZZ_DIR)/fuzz-decoder
FUZZ_SANITIZE := -sanitize=fuzzer,address
FUZZ_LD ?= $(if $(wildcard $(dir $(shell command -v $(SWIFTC)))ld.lld),-use-ld=lld,)
FUZZ_SWIFT_FLAGS := $(FUZZ_LD) -O -g -parse-as-library -swift-version 6 $(FUZZ_SANITIZE) -I $(FUZZ_DIR)
SECRETS_SRC := $(wildcard Sources/VouchSecrets/*.swift)
PROTOCOL_SRC := $(wildcard Sources/VouchProtocol/*.swift)

.PHONY: fuzz fuzz-build fuzz-corpus test-sanitizers test-asan test-tsan

fuzz-build: $(FUZZ_BIN)

$(FUZZ_BIN): Fuzz/FuzzDecoder.swift $(SECRETS_SRC) $(PROTOCOL_SRC) Sources/System/CVouchSys/shims.c Sources/System/CVouchSys/include/CVouchSys.h
	@mkdir -p $(FUZZ_DIR)/CVouchSys
	printf 'module CVouchSys {\n  header "%s/Sources/System/CVouchSys/include/CVouchSys.h"\n  export *\n}\n' "$(CURDIR)" > $(FUZZ_DIR)/CVouchSys/module.modulemap
	$(CLANG) -O1 -g -c Sources/System/CVouchSys/shims.c -I Sources/System/CVouchSys/include -o $(FUZZ_DIR)/shims.o
	$(SWIFTC) $(FUZZ_SWIFT_FLAGS) -I $(FUZZ_DIR)/CVouchSys -module-name VouchSecrets -emit-module -emit-module-path $(FUZZ_DIR)/VouchSecrets.swiftmodule \
	  -c $(SECRETS_SRC) -wmo -o $(FUZZ_DIR)/VouchSecrets.o
	$(SWIFTC) $(FUZZ_SWIFT_FLAGS) -I $(FUZZ_DIR)/CVouchSys -module-name VouchProtocol -emit-module -emit-module-path $(FUZZ_DIR)/VouchProtocol.swiftmodule \
	  -c $(PROTOCOL_SRC) -wmo -o $(FUZZ_DIR)/VouchProtocol.o
	$(SWIFTC) $(FUZZ_SWIFT_FLAGS) -I $(FUZZ_DIR)/CVouchSys -module-name FuzzDecoder Fuzz/FuzzDecoder.swift \
	  $(FUZZ_DIR)/VouchSecrets.o $(FUZZ_DIR)/VouchProtocol.o $(FUZZ_DIR)/shims.o -o $@

fuzz: $(FUZZ_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus
	cd $(FUZZ_DIR) && ./fuzz-decoder -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	  -print_final_stats=1 $(FUZZ_FLAGS) corpus $(CURDIR)/Fuzz/corpus

fuzz-corpus:
	python3 Fuzz/make_corpus.py docs/PROTOCOL.md Fuzz/corpus

test-sanitizers: test-asan test-tsan

# Under a sanitizer every vouchd the integration tests start is several times
# slower, and fifty of them starting at once on 2 cores starve each other (and
# the test process) into time-outs: run the tests one at a time.
test-asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan --no-parallel

test-tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --no-parallel
