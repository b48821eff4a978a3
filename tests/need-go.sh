#!/usr/bin/env bash
# The pprof tests read heatline's files with `go tool pprof` (tests/test_formats.py): a missing
# go fails them. Installs Debian's golang-go when go is missing and this runs as root (as CI
# does, on a clean clone); otherwise says what to install.
set -euo pipefail
if command -v go >/dev/null; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "make test needs go for go tool pprof: apt-get install golang-go (as root)" >&2
    exit 1
fi
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go
