#!/bin/bash
# Run every test: unit binaries, end-to-end scripts, the peer corpus, fuzz
# corpus replays.  Each prints "ok - ", "not ok - " or "skip - " lines; the
# run ends with one summary line "N passed, N failed, N skipped".
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LOG=$(mktemp /tmp/tg-tests.XXXXXX)
export TG_BIN=$ROOT/build/trustgate
# Sanitizer builds: third-party leaks are suppressed by name only.
export LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run() { # NAME command...
	local name=$1; shift
	echo "# $name"
	"$@" 2>&1 | tee -a "$LOG" | grep -v '^ok - ' || true
	local rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ]; then echo "not ok - $name exited $rc" | tee -a "$LOG"; fi
}

for t in build/tests/test_*; do
	[ -x "$t" ] && run "unit/$(basename "$t")" "$t"
done
for t in tests/e2e/[0-9]*.sh; do
	run "e2e/$(basename "$t")" bash "$t"
done
# The e2e suite on PostgreSQL too, in a cluster made and dropped here.
if command -v pg_virtualenv >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	run "e2e on PostgreSQL" pg_virtualenv -t bash tests/pg.sh
else
	echo "skip - e2e on PostgreSQL (postgresql and postgresql-common not installed)" | tee -a "$LOG"
fi
for t in build/fuzz/replay_*; do
	[ -x "$t" ] && run "fuzz/$(basename "$t")" "$t" "tests/fuzz/corpus/${t##*/replay_}"
done
for t in tests/peer/*.sh; do
	[ -f "$t" ] && run "peer/$(basename "$t")" bash "$t"
done
# Real data (the apt cache, EFI binaries): skipped where absent.
for t in tests/real/debs.sh tests/real/efi.sh tests/real/serve.sh; do
	run "real/$(basename "$t")" bash "$t"
done

passed=$(grep -c '^ok - ' "$LOG")
failed=$(grep -c '^not ok - ' "$LOG")
skipped=$(grep -c '^skip - ' "$LOG")
rm -f "$LOG"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
