# The two set-up commands of the README.
.PHONY: demo test bench soak guests fmt lint

demo:   ## build, install into a throwaway cluster, install the examples, run the demo query
	bash scripts/demo.sh

test:   ## the whole test suite: unit, #[pg_test] and pg_regress
	bash scripts/test.sh

bench:  ## benchmarks against the built-in and PL/* peers
	bash bench/run.sh

soak:   ## pgbench, 8 clients, with replaces alongside: failed transactions, restarts, RSS
	bash bench/soak.sh

guests: ## build the guest components from source
	bash scripts/build-guests.sh

fmt:    ## format the Rust code
	cargo fmt

lint:   ## rustfmt check and clippy, warnings as errors
	cargo fmt --check
	cargo clippy --features pg_test -- -D warnings
