#!/usr/bin/env bash
# The benchmark's peers live in their own venv: OpenFisca pins its own numpy and must not touch jubao's;
# GoRules ZEN (zen-engine, zen_ningxia.py) is installed there too.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/pip install -q -r requirements.txt
