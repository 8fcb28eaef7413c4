#!/bin/bash
# The end-to-end suite again with the records on PostgreSQL.  Run by
# tests/run.sh inside a throwaway cluster of pg_virtualenv (postgresql-common),
# which sets PGHOST, PGPORT, PGUSER and PGPASSWORD; each test file makes a
# database of its own (tests/e2e/lib.sh).  Every test is the same script as
# on SQLite: a difference between the engines shows as a failure here.
# 99_image is left out: the appliance image keeps its records in SQLite.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export TG_TEST_ENGINE=postgresql
psql -X -At -c 'select 1' >/dev/null 2>&1 || { echo "not ok - PostgreSQL cluster unreachable"; exit 1; }
for t in tests/e2e/[0-9]*.sh; do
	case "$t" in *99_image.sh) continue ;; esac
	echo "# e2e-pg/$(basename "$t")"
	bash "$t" 2>&1
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] || echo "not ok - e2e-pg/$(basename "$t") exited $rc"
done
