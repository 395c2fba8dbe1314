# Thin wrapper over meson; every target installs missing dependencies first.
BUILD ?= build
ASAN_BUILD ?= build-asan
VALGRIND_BUILD ?= build-valgrind
MESON_FLAGS ?=
export PATH := /usr/local/cuda/bin:$(PATH)

.PHONY: all deps setup build test demo bench memcheck valgrind asan clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_FLAGS)

setup: deps $(BUILD)/build.ninja

build: setup
	meson compile -C $(BUILD)

test: build
	@scripts/run-tests.sh $(BUILD)

# The flagship example: the Fashion-MNIST CNN (a few minutes on 2 cores), then its ONNX export
# checked in onnxruntime.
demo: build
	$(BUILD)/examples/fashion_cnn
	$(BUILD)/examples/export_onnx fashion_cnn.onnx

bench: build
	@scripts/run-bench.sh $(BUILD)

# valgrind over the normal build, then the whole suite in an ASan+UBSan build.
memcheck: valgrind asan

# valgrind cannot execute every instruction -march=native may emit (AVX-512), so it gets a
# portable build of its own.
valgrind: deps
	@test -f $(VALGRIND_BUILD)/build.ninja || meson setup $(VALGRIND_BUILD) -Dnative=false
	meson compile -C $(VALGRIND_BUILD)
	@scripts/run-tests.sh $(VALGRIND_BUILD) --wrapper 'valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --suppressions=$(CURDIR)/scripts/valgrind.supp --quiet'

asan: deps
	@test -f $(ASAN_BUILD)/build.ninja || meson setup $(ASAN_BUILD) -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dcuda=disabled -Dnative=false
	meson compile -C $(ASAN_BUILD)
	@ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=32 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 scripts/run-tests.sh $(ASAN_BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(VALGRIND_BUILD)
