#!/bin/bash
# The records' engines: many writers on one set of records keep one audit
# chain; a PostgreSQL URL is never a file, its password never shown; a server
# that cannot be reached is exit 2 with one line; `db init` on PostgreSQL
# never takes over a database that holds trustgate's or anybody's tables.
# Runs on SQLite and (tests/pg.sh) on PostgreSQL.
. "$(dirname "$0")/lib.sh"

# libpq is opened only for a URL: the SQLite appliance's commands do not
# load it.
ldd "$TG_BIN" | grep -q libpq && bad "trustgate links libpq" || ok "trustgate does not link libpq (opened for a URL only)"

# --- an unreachable server, a password in the URL
bad_input "an unreachable server: exit 2, one line" "cannot connect" -- \
	tg --db "postgresql://tguser:s3cr3t-pw@127.0.0.1:1/records?connect_timeout=3" supplier list
grep -q "s3cr3t-pw" "$WORK/.stderr" && bad "the password is shown" || ok "the URL's password is not shown"
grep -q "tguser:\*\*\*@127.0.0.1:1" "$WORK/.stderr" && ok "the URL is named, password as ***" || bad "URL in the message: $(cat "$WORK/.stderr")"
[ ! -e "postgresql:" ] && [ -z "$(ls -A "$WORK" | grep -v '^\.' | grep -i postgres)" ] && ok "a URL is never made a file" || bad "a file named after the URL"
bad_input "postgres:// is a URL too" "cannot connect" -- tg --db "postgres://127.0.0.1:1/x?connect_timeout=3" db init

# --- many writers, one chain: four processes change and decide at once.
setup_supplier
genkey k p256
tg key add acme k.pub --purpose firmware --reason k >/dev/null
for i in 1 2 3 4; do echo "payload $i" > "p$i.bin"; sign k "p$i.bin" "p$i.sig"; done
before=$(db_sql "select count(*) from audit")
for w in 1 2 3 4; do
	(
		for n in $(seq 8); do
			tg supplier add "w$w-s$n" --reason "writer $w" >/dev/null || echo "fail add w$w-s$n"
			tg --tier 1 check "p$w.bin" --sig "p$w.sig" >/dev/null || echo "fail check w$w $n"
		done
	) > "writer$w.out" 2>&1 &
done
wait
[ -z "$(cat writer*.out)" ] && ok "four concurrent writers: every change and check succeeded" \
	|| bad "concurrent writers: $(cat writer*.out | head -3)"
after=$(db_sql "select count(*) from audit")
[ "$after" = "$((before + 64))" ] && ok "64 audit rows, one per change and decision" || bad "audit rows $before -> $after"
[ "$(db_sql "select count(*) from audit a where a.seq > 1 and not exists (select 1 from audit b where b.seq = a.seq - 1)")" = 0 ] \
	&& [ "$(db_sql "select max(seq) from audit")" = "$after" ] && ok "numbered without gaps" || bad "audit numbering"
expect 0 "the chain written by four writers verifies" -- tg audit verify
[ "$(db_sql "select count(*) from verdict where result = 'approved'")" = 32 ] && ok "32 verdicts recorded" || bad "verdicts"
[ "$(db_sql "select count(*) from audit a join audit b on b.seq = a.seq + 1 where b.prev_hash <> a.hash")" = 0 ] \
	&& ok "every row links to the one before it" || bad "a broken link"

# --- PostgreSQL only: what db init refuses
if pg_mode; then
	expect 2 "db init on records that exist is refused" -- tg db init
	grep -q "already holds trustgate records" "$WORK/.stderr" && ok "... saying so" || bad "init twice: $LAST_ERR"
	createdb "${PGDB}_foreign"
	psql -X -q -d "${PGDB}_foreign" -c "create table host (x int); insert into host values (42);"
	bad_input "db init over another application's table named host" "already has a table named host" -- \
		tg --db "postgresql:///${PGDB}_foreign" db init
	[ "$(psql -X -At -d "${PGDB}_foreign" -c 'select x from host')" = 42 ] \
		&& [ "$(psql -X -At -d "${PGDB}_foreign" -c "select count(*) from pg_tables where schemaname = 'public'")" = 1 ] \
		&& ok "its table untouched, nothing of ours left" || bad "foreign database changed"
	createdb "${PGDB}_empty"
	bad_input "a database without records" "no trustgate records here" -- tg --db "postgresql:///${PGDB}_empty" supplier list
	[ "$(psql -X -At -d "${PGDB}_empty" -c "select count(*) from pg_tables where schemaname = 'public'")" = 0 ] \
		&& ok "... and nothing created in it" || bad "tables created in an empty database"
	createdb "${PGDB}_pw"
	url="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/${PGDB}_pw"
	expect 0 "db init with a password in the URL" -- tg --db "$url" db init
	! grep -qF "$PGPASSWORD" <<<"$LAST_OUT" && ok "the password is not printed" || bad "password printed"
	[ "$(psql -X -At -d "${PGDB}_pw" -c "select count(*) from audit where object like '%$PGPASSWORD%' or detail like '%$PGPASSWORD%'")" = 0 ] \
		&& ok "nor recorded in the audit log" || bad "password in the audit log"
	[ "$(psql -X -At -d "${PGDB}_pw" -c "select collation_name from information_schema.columns where table_name = 'audit' and column_name = 'action'")" = C ] \
		&& ok "text columns compare byte by byte (COLLATE \"C\")" || bad "collation"
else
	skip "db init refusals on PostgreSQL (run by tests/pg.sh)"
fi
