# SPDX-License-Identifier: GPL-2.0
#
# guestmem: build our kernel from this overlay on Debian's linux-source-6.12,
# boot it under QEMU and test it.  See README.md.

ARCH ?= x86_64
TEST_ARCHES ?= x86_64 arm64
H := harness

.PHONY: all deps tree kernel run test stress check bench patches clean

all: test

deps:
	@$(H)/deps.sh

tree: deps
	@$(H)/prepare-tree.sh

kernel: tree
	@$(H)/build-kernel.sh guestmem $(ARCH) test

run: tree
	@$(H)/run.sh $(ARCH)

test:
	@$(H)/test.sh $(TEST_ARCHES)

stress:
	@$(H)/stress.sh

check: tree
	@$(H)/check.sh

bench: tree
	@$(H)/bench.sh

patches: tree
	@$(H)/patches.sh

clean:
	rm -rf build
