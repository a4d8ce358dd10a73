#!/usr/bin/env bash
# Make sure a Chromium the end-to-end tests can drive is installed.
#
# The e2e tests use Playwright for Python with Debian's own Chromium (given to
# Playwright as its executable), never Playwright's downloaded browser builds: those
# come from a CDN that offline and locked-down machines cannot reach.
#
# A no-op when `chromium` or `chromium-browser` is already on PATH; otherwise installs
# the Debian package `chromium`, with sudo when not running as root.
set -euo pipefail

for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then
        echo "ensure-browser: using $(command -v "$name")"
        exit 0
    fi
done

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-browser: no chromium on PATH and no apt-get to install it;" \
         "install Chromium with your package manager, then run the e2e tests again." >&2
    exit 1
fi

run_as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "ensure-browser: installing chromium needs root, and sudo is not available;" \
             "run 'apt-get install -y chromium' as root." >&2
        exit 1
    fi
    run_as_root=(sudo)
fi

echo "ensure-browser: installing Debian's chromium package"
# The package lists may be missing or stale on a fresh machine: refresh them first.
"${run_as_root[@]}" apt-get update -qq
"${run_as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
command -v chromium
