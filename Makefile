# Caravan: `make run` runs the server, `make test` runs every test.

NODE_TESTS := sync-server/tests/node
WEB := clients/web
CARAVAN_FLAGS ?=

.PHONY: run build test lint test-rust test-node test-web node-deps web-deps clean

## Runs caravan on 127.0.0.1:8080 with its data in ./data.
run:
	cargo run --release -p sync_server --bin caravan -- serve $(CARAVAN_FLAGS)

## Builds the release binary (target/release/caravan).
build:
	cargo build --release -p sync_server --bin caravan

## Every test: formatting and lints, Rust tests, node interop tests, the web client's tests.
test: lint test-rust test-node test-web

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

test-rust:
	cargo test --workspace

node-deps:
	cd $(NODE_TESTS) && npm ci --no-audit --no-fund

## The real npm yjs / y-websocket / ws clients against a real caravan process.
test-node: node-deps
	cargo build -p sync_server --bin caravan
	cd $(NODE_TESTS) && CARAVAN_BIN=$(CURDIR)/target/debug/caravan npm test

web-deps:
	cd $(WEB) && npm ci --no-audit --no-fund

## The TypeScript trip helpers, and the cross-language test against a real caravan.
test-web: web-deps
	cargo build -p sync_server --bin caravan
	cd $(WEB) && npm run build && CARAVAN_BIN=$(CURDIR)/target/debug/caravan npm test

clean:
	cargo clean
	rm -rf $(NODE_TESTS)/node_modules $(WEB)/node_modules $(WEB)/dist
