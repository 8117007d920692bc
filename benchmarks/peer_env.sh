#!/usr/bin/env bash
# The peer benchmark's own environment: sbinn plus the sbi package, which is installed here
# only and is never a dependency of sbinn (pyproject.toml does not name it).
#
#   bash benchmarks/peer_env.sh          # create or reuse benchmarks/.venv-peers
#
# torch goes in first from the local CPU wheel and a constraints file pins it, so installing
# sbi cannot swap in a multi-GB CUDA build of torch.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/benchmarks/.venv-peers"
TORCH_VERSION="2.13.0"
SBI_VERSION="0.27.0"
PYTHON="${PYTHON:-python3.11}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
CONSTRAINTS="$VENV/peer-constraints.txt"
printf 'torch==%s\n' "$TORCH_VERSION" >"$CONSTRAINTS"

PIP=("$VENV/bin/python" -m pip)
"${PIP[@]}" install --quiet --upgrade pip
"${PIP[@]}" install --constraint "$CONSTRAINTS" "torch==$TORCH_VERSION"
"${PIP[@]}" install --constraint "$CONSTRAINTS" -e "$REPO"
"${PIP[@]}" install --constraint "$CONSTRAINTS" "sbi==$SBI_VERSION"

"$VENV/bin/python" - <<PY
import sbi, torch
assert torch.__version__.startswith("$TORCH_VERSION"), torch.__version__
print("torch", torch.__version__, "sbi", sbi.__version__)
PY
"${PIP[@]}" freeze >"$VENV/peer-freeze.txt"
echo "pinned versions: $VENV/peer-freeze.txt"
