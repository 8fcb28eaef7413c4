#!/bin/bash
# `make check-real`: data nobody on the project wrote, through the build at
# hand (the sanitizer build under `make check SANITIZE=...`).  Each part
# reports itself skipped when its data is absent.
#   debs.sh   every .deb of the apt cache: tiers 1 and 3, the apt chain, the
#             dpkg-deb/tar differential oracle (README: filling the cache)
#   efi.sh    every EFI binary under /usr/lib and /boot, against sbverify
#   the peer corpus' event logs and quotes: tests/peer/20_eventlogs.sh and
#             30_quotes.sh (run by tests/run.sh with the rest of tests/peer)
set -u
cd "$(dirname "$0")/../.."
rc=0
bash tests/real/debs.sh || rc=1
bash tests/real/efi.sh || rc=1
exit $rc
