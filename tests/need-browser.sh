#!/usr/bin/env bash
# The HTML report's tests drive headless Chromium through chromedriver (tests/test_html.py): a
# missing browser fails them. Installs Debian's chromium and chromium-driver when they are
# missing and this runs as root (as CI does, on a clean clone); otherwise says what to install.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "make test needs headless Chromium: apt-get install chromium chromium-driver (as root)" >&2
    exit 1
fi
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver
