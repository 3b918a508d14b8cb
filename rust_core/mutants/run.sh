#!/usr/bin/env bash
# Mutation testing of rust_core/src, locally (not in CI: thousands of mutants, hours of builds).
#
#   rust_core/mutants/run.sh SCRATCH FILE "RUST_TESTS" "PYTHON_TESTS" [cargo-mutants options...]
#   rust_core/mutants/run.sh /work/mutants src/output/stream.rs "--lib --test stream" "tests/test_streaming.py" --shard 0/4
#
# Copies this checkout to SCRATCH/tree (cargo-mutants then mutates it in place: the checkout is
# never touched) and runs cargo-mutants on FILE, one build at a time (in place), at the lowest CPU
# priority, with the test command `cargo test RUST_TESTS` followed by `pytest PYTHON_TESTS`
# against the mutated library (cargo_then_pytest.sh). The builds use a profile of their own,
# `mutants`: the crate as in `dev` (quick to rebuild), its dependencies optimised (serde_json,
# chrono and arrow in debug make the Python tests ten times slower). Targeted tests keep a
# mutant to a minute or two; rerun what they miss with every test before calling one missed:
#
#   rust_core/mutants/run.sh /work/mutants src/output/stream.rs "" "tests" --iterate
#
# Results: SCRATCH/out/FILE/mutants.out (missed.txt, caught.txt, unviable.txt, timeout.txt).
# CARGO_TARGET_DIR defaults to SCRATCH/target (the first run builds the dependencies in the
# `mutants` profile: many minutes; later runs reuse them). PYTHON is the interpreter with the test dependencies (default: python);
# MUTANTS_TIMEOUT the seconds a mutant's tests may take before it counts as a timeout (default
# 180: the targeted tests take under 90, and a mutant that loops forever should cost little).
set -euo pipefail
scratch=$1 file=$2 rust_tests=$3 python_tests=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
checkout=$(cd "$here/../.." && pwd)
out=$scratch/out/$(printf '%s' "$file" | tr / _)
mkdir -p "$scratch/tree" "$out"
tar -C "$checkout" --exclude=./rust_core/target --exclude=./rust_core/fuzz/target --exclude=./benchmarks/data --exclude=.git --exclude='*.so' --exclude=__pycache__ -cf - . |
    tar -C "$scratch/tree" -xf -
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$scratch/target}
export MUTANTS_REAL_CARGO=${MUTANTS_REAL_CARGO:-$(command -v cargo)}
export MUTANTS_PYTESTS=$python_tests MUTANTS_PYTHON=${PYTHON:-python}
export CARGO=$scratch/tree/rust_core/mutants/cargo_then_pytest.sh
cargo_args=()
for argument in '--config=profile.mutants.inherits="dev"' --config=profile.mutants.debug=false \
    '--config=profile.mutants.package."*".opt-level=3' $rust_tests; do
    cargo_args+=("--cargo-arg=$argument")
done
# cargo-mutants is run directly, not as `cargo mutants`, which would set $CARGO to cargo itself.
exec nice -n 19 cargo-mutants mutants --dir "$scratch/tree/rust_core" --in-place --profile mutants --file "$file" \
    --output "$out" --timeout "${MUTANTS_TIMEOUT:-180}" --build-timeout 900 "${cargo_args[@]}" "$@"
