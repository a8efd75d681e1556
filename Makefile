# Caravan: `make run` runs the server, `make test` runs every test.

NODE_TESTS := sync-server/tests/node
WEB := clients/web
CARAVAN_FLAGS ?=

.PHONY: run build web-app chromium test lint test-rust test-node test-web node-deps web-deps bench bench-smoke profile clean fuzz

## Builds the family app and runs caravan on 127.0.0.1:8080 (the app at /, data in ./data).
run: web-app
	cargo run --release -p sync_server --bin caravan -- serve $(CARAVAN_FLAGS)

## Builds the family app (clients/web/dist/app), which caravan serves at /.
web-app: web-deps
	cd $(WEB) && npm run build

## Debian's chromium, for the app's end-to-end tests (installed when missing).
chromium:
	@command -v chromium >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-liberation; }

## Builds the release binary (target/release/caravan).
build:
	cargo build --release -p sync_server --bin caravan

## Every test: formatting and lints, Rust tests, node interop tests, the web client's tests,
## and a tiny run of each benchmark scenario (so the harness keeps working).
test: lint test-rust test-node test-web bench-smoke

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

test-rust:
	cargo test --workspace

node-deps:
	cd $(NODE_TESTS) && npm ci --no-audit --no-fund

## The real npm yjs / y-websocket / ws clients against a real caravan process (the slow-headers
## test holds thousands of sockets: the open-file limit is raised to the hard limit).
test-node: node-deps
	cargo build -p sync_server --bin caravan
	ulimit -n 65536 2>/dev/null || ulimit -n $$(ulimit -Hn); cd $(NODE_TESTS) && CARAVAN_BIN=$(CURDIR)/target/debug/caravan npm test

web-deps:
	cd $(WEB) && npm ci --no-audit --no-fund

## The family app: its view logic (Vitest), the cross-language test of its trip model, and
## end-to-end tests in Debian's chromium against a real caravan (screenshots in
## test-artifacts/pwa/).
test-web: web-app chromium
	cargo build -p sync_server --bin caravan
	cd $(WEB) && npm run test:unit
	cd $(WEB) && CARAVAN_BIN=$(CURDIR)/target/debug/caravan npm test
	cd $(WEB) && CARAVAN_BIN=$(CURDIR)/target/debug/caravan npm run test:e2e

## A tiny run of each benchmark scenario against Caravan only (part of `make test`).
bench-smoke:
	cargo build -p sync_server --bin caravan
	cargo build -p bench --bin caravan-bench
	CARAVAN_BIN=$(CURDIR)/target/debug/caravan ./target/debug/caravan-bench smoke --out target/bench-smoke

# The release generator against the release server, with room for 10,000+ sockets.
BENCH = ulimit -n 65536 2>/dev/null || ulimit -n $$(ulimit -Hn); CARAVAN_BIN=$(CURDIR)/target/release/caravan ./target/release/caravan-bench

## Coverage-guided fuzzing (cargo-fuzz, nightly): each target for FUZZ_SECS (default 600 s),
## two at a time. Crashes land in sync-server/fuzz/artifacts/; turn them into regression tests
## in the stable suite (tests/fuzz_protocol.rs). Not part of `make test`.
FUZZ_SECS ?= 600
# yrs reserves what a hostile count declares and handles the failure (try_reserve): let the
# allocator fail as it does in production instead of counting it as a crash.
FUZZ_RUN = ASAN_OPTIONS=allocator_may_return_null=1 cargo +nightly fuzz run
FUZZ_FLAGS = -max_total_time=$(FUZZ_SECS) -malloc_limit_mb=1000000
fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	cd sync-server/fuzz && cargo +nightly fuzz build
	cd sync-server/fuzz && { $(FUZZ_RUN) frame_decoder -- $(FUZZ_FLAGS) & first=$$!; \
	  $(FUZZ_RUN) doc_connection -- $(FUZZ_FLAGS); second=$$?; wait $$first && [ $$second -eq 0 ]; }
	cd sync-server/fuzz && $(FUZZ_RUN) room_update -- $(FUZZ_FLAGS)

## The benchmarks, release builds (see docs/benchmarks.md); results in bench/results/.
bench:
	cargo build --release -p sync_server --bin caravan
	cargo build --release -p bench --bin caravan-bench
	cd bench/peers && npm ci --no-audit --no-fund
	test -x bench/peers/y-sweet/bin/y-sweet || cargo install y-sweet --version 0.9.1 --locked --root bench/peers/y-sweet
	$(BENCH) compare --rooms 50 --clients 4 --rate 10000 --secs 10 --out bench/results/fanout
	$(BENCH) compare --rooms 50 --clients 4 --rate 10000 --secs 10 --bursts --out bench/results/bursts
	$(BENCH) compare --rooms 500 --clients 4 --rate 2000 --secs 10 --out bench/results/fanout-500-rooms
	$(BENCH) saturate --out bench/results/saturation
	$(BENCH) cold-load --out bench/results/cold-load
	$(BENCH) catch-up --out bench/results/catch-up
	$(BENCH) connections --out bench/results/connections

## Profiles Caravan under the fan-out load: perf, a flamegraph and CPU by part of the server
## (bench/results/profile/). Needs perf (Debian: linux-perf).
profile:
	bash bench/scripts/profile.sh

clean:
	cargo clean
	rm -rf $(NODE_TESTS)/node_modules $(WEB)/node_modules $(WEB)/dist test-artifacts
