#!/usr/bin/env bash
# Every test, Rust and Python, on a fresh machine: needs only the Rust toolchain and python3
# (with venv). It makes its own virtual environment (target/py-venv, or $FERROGRAD_VENV),
# installs maturin, numpy, pytest and matplotlib from the package index, builds the `ferrograd`
# wheel, installs it, then runs `cargo test` and `pytest`. No torch needed.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test --workspace --release"
cargo test --workspace --release

VENV=${FERROGRAD_VENV:-target/py-venv}
echo "== Python: venv $VENV"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "maturin>=1.9,<2" numpy pytest matplotlib

echo "== maturin build (the ferrograd wheel) and pip install"
rm -rf target/wheels
"$VENV/bin/maturin" build --release --quiet -i "$VENV/bin/python" \
    -m crates/ferrograd-py/Cargo.toml -o target/wheels
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps \
    target/wheels/ferrograd-*.whl

echo "== pytest"
# Run from outside the source tree so the installed package, not python/ferrograd, is tested.
PY="$VENV/bin/python"
case "$PY" in /*) ;; *) PY="$PWD/$PY" ;; esac
(cd crates/ferrograd-py/tests && MPLBACKEND=Agg "$PY" -m pytest -q .)
