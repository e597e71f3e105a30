# Fathom: `make run` trains the default recipe, `make test` runs the tests. Both install what they
# need first (OpenBLAS through apt-get, when missing).

SWIFT ?= swift
# Tuned for the machine that builds: AVX-512 code from Swift needs it (see docs/performance.md).
NATIVE := -Xswiftc -target-cpu -Xswiftc native
RELEASE := -c release $(NATIVE)

.PHONY: setup run test bench fixtures clean

setup:
	@bash scripts/setup.sh

run: setup
	$(SWIFT) run $(RELEASE) fathom train

# Numeric tests run in release: debug builds are 100-300x slower on kernels.
test: setup
	$(SWIFT) test $(RELEASE) -Xswiftc -enable-testing --disable-swift-testing

bench: setup
	$(SWIFT) run $(RELEASE) fathom-bench

# Regenerates the NumPy reference fixtures under Tests/FathomTensorTests/Fixtures.
fixtures:
	bash scripts/make_fixtures.sh

clean:
	rm -rf .build
