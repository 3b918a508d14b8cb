#!/usr/bin/env bash
# The cargo that cargo-mutants runs (it calls $CARGO): cargo itself, then, after a `cargo test`
# that passed, the Python tests named in $MUTANTS_PYTESTS against the library that very build
# made (target/mutants/deps/libbarter_ffi.so, copied into the tree's barter_ffi/). A mutant the Rust
# tests miss can still be caught by a Python test that reaches it through the C ABI.
set -euo pipefail
real_cargo=${MUTANTS_REAL_CARGO:-$HOME/.cargo/bin/cargo}
"$real_cargo" "$@"
case " $* " in *" test "*) ;; *) exit 0 ;; esac
case " $* " in *" --no-run "*) exit 0 ;; esac
[ -n "${MUTANTS_PYTESTS:-}" ] || exit 0
tree=$(cd "$(dirname "$0")/../.." && pwd)
# The cdylib that `cargo test` built beside the rlib the tests link (it is left in deps/).
cp "$CARGO_TARGET_DIR/mutants/deps/libbarter_ffi.so" "$tree/barter_ffi/libbarter_ffi.so"
# The mutated library is built from sources no record names: without a record barter_ffi takes
# the library as it is (with one, it would refuse it as built from other sources).
rm -f "$tree/barter_ffi/_library_sources.json"
cd "$tree"
# shellcheck disable=SC2086  # the list is word-split on purpose
exec "${MUTANTS_PYTHON:-python}" -m pytest -x -q -p no:cacheprovider -k "${MUTANTS_PYTEST_FILTER:-not valgrind}" $MUTANTS_PYTESTS
