#!/bin/bash
# Fill a folder with real Debian packages for `make check-real` on a machine
# whose apt cache is empty (Debian's container images delete downloaded
# packages after installing them).  The list is the package names the apt
# cache held when the real-data tests were written; apt-get download takes
# each one's current version from the configured repositories.
#   scripts/fetch-real-debs.sh [DIR]      (default /var/cache/apt/archives)
# then: TG_REAL_DEBS=DIR make check-real  (or make check)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/var/cache/apt/archives}
list=$PWD/tests/real/packages.txt
mkdir -p "$dir"
cd "$dir"
apt-get update -q >/dev/null
# In batches: one name that no longer exists must not stop the rest.
xargs -n 50 sh -c 'apt-get download -q "$@" >/dev/null 2>&1 || for p in "$@"; do apt-get download -q "$p" >/dev/null 2>&1 || echo "not available: $p" >&2; done' _ < "$list"
echo "$(ls "$dir"/*.deb 2>/dev/null | wc -l) packages in $dir"
