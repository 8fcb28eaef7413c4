#!/bin/bash
# Faults: a service killed with SIGKILL in the middle of checks, a record
# change killed in the middle (at the CLI and under serve, over the API), PostgreSQL stopped and started under a
# running service, a full disk under the SQLite file.  After each: nothing
# half-written (the chain verifies, every verdict has its audit row), nothing
# reported done is lost.  Runs on SQLite and (tests/pg.sh) on PostgreSQL.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { skip "curl not installed"; exit 0; }
SVC=$(dirname "$TG_BIN")/trustgate-service
[ -x "$SVC" ] || { bad "trustgate-service built beside trustgate"; exit 0; }
SERVE_PID=
trap '[ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null; pkill -9 -f "serve --listen 127.0.0.1:${PORT:-0} " 2>/dev/null; [ -n "${TG_KEEP:-}" ] || rm -rf "$WORK"' EXIT
export TRUSTGATE_CA=$WORK/ca

setup_supplier
genkey vendor p256
tg key add acme vendor.pub --reason "vendor key" >/dev/null
# Large enough that checks are still in flight when the service is killed.
head -c 40M /dev/urandom > fw.bin; sign vendor fw.bin fw.sig
# ... and small ones answered before it, so "answered means recorded" is tried.
head -c 4k /dev/urandom > small.bin; sign vendor small.bin small.sig
tg ca init >/dev/null
mkdir certs; tg user add buyer --role procurement --out certs >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_serve() {
	"$TG_BIN" --tier 1 serve --listen 127.0.0.1:$PORT --workers 2 >serve.out 2>>serve.log &
	SERVE_PID=$!
	for _ in $(seq 100); do grep -q "listening" serve.out 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
check() { curl -s --cacert ca/ca.pem --cert certs/buyer.pem --key certs/buyer.key -F file=@${2:-fw}.bin -F sig=@${2:-fw}.sig \
	-o "$1" -w '%{http_code}\n' --max-time 20 "https://127.0.0.1:$PORT/v1/check"; }
# Nothing half-written: the chain verifies (records against their history
# included) and every verdict has the audit row it was recorded with.
consistent() {
	tg audit verify >/dev/null 2>&1 && [ "$(db_sql "select count(*) from verdict v where v.audit_seq is null or not exists (select 1 from audit a where a.seq = v.audit_seq)")" = 0 ]
}

# --- SIGKILL of the whole service while checks are in flight
start_serve || { bad "serve starts"; exit 0; }
for i in $(seq 12); do check "r$i.json" > "r$i.st" & done
for i in $(seq 13 18); do check "r$i.json" small > "r$i.st"; done
sleep 0.2
pkill -9 -f "serve --listen 127.0.0.1:$PORT " ; kill -9 "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=
wait
answered=0; lost=0
for i in $(seq 18); do
	if [ "$(cat "r$i.st")" = 200 ]; then
		answered=$((answered + 1))
		id=$(jq -r .id "r$i.json")
		[ "$(db_sql "select count(*) from verdict where id = $id")" = 1 ] || lost=$((lost + 1))
	fi
done
consistent && ok "serve killed with SIGKILL mid-checks: chain verifies, every verdict has its audit row" || bad "inconsistent after SIGKILL"
[ "$lost" = 0 ] && [ "$answered" -ge 6 ] && ok "every check answered 200 before the kill is recorded ($answered of 18 answered)" || bad "$lost answered checks lost"
start_serve && [ "$(check again.json)" = 200 ] && ok "the service starts again and checks" || bad "restart after SIGKILL"
kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=

# --- SIGKILL of a record change in the middle (several tries at random points)
for n in 1 2 3 4 5; do
	tg supplier add "k$n" --country CN --reason "killed $n" >/dev/null 2>&1 &
	p=$!
	sleep "0.0$((RANDOM % 9))"
	kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null
done
consistent && ok "record changes killed with SIGKILL at random points: nothing half-written" || bad "a killed change left the records inconsistent"
for n in 1 2 3 4 5; do
	s=$(db_sql "select count(*) from supplier where name = 'k$n'"); a=$(db_sql "select count(*) from audit where action = 'supplier.add' and object = 'k$n'")
	[ "$s" = "$a" ] || bad "supplier k$n: $s rows, $a audit rows"
done
ok "each killed change is whole or absent (record and audit row together)"

# --- SIGKILL of the service while record changes over the API are in flight.
# A change runs as a CLI child of serve; the service dies under it, at a
# random point of several.  Whatever the child did is whole or absent, and a
# change answered 201/200 before the kill is in the records.
tg user add boss --role admin --out certs >/dev/null
post_supplier() { curl -s --cacert ca/ca.pem --cert certs/boss.pem --key certs/boss.key -F "name=$1" -F country=CN \
	-F "reason=api change $1" -o "$1.json" -w '%{http_code}\n' --max-time 20 "https://127.0.0.1:$PORT/v1/suppliers"; }
start_serve || bad "serve starts for the API changes"
for round in 1 2 3; do
	for i in 1 2 3 4 5 6; do post_supplier "api$round-$i" > "api$round-$i.st" & done
	sleep "0.0$((RANDOM % 9))"
	pkill -9 -f "serve --listen 127.0.0.1:$PORT " ; kill -9 "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=
	wait
	# Children the service left behind finish (or die) on their own.
	for _ in $(seq 100); do pgrep -f "supplier add api$round-" >/dev/null || break; sleep 0.1; done
	[ "$round" = 3 ] || start_serve || bad "serve starts again (round $round)"
done
answered=0; api_lost=0; api_split=0
for round in 1 2 3; do for i in 1 2 3 4 5 6; do
	n="api$round-$i"
	s=$(db_sql "select count(*) from supplier where name = '$n'"); a=$(db_sql "select count(*) from audit where action = 'supplier.add' and object = '$n'")
	[ "$s" = "$a" ] || api_split=$((api_split + 1))
	case "$(cat "$n.st")" in 200|201) answered=$((answered + 1)); [ "$s" = 1 ] || api_lost=$((api_lost + 1));; esac
done; done
consistent && [ "$api_split" = 0 ] && ok "serve killed with SIGKILL mid-change over the API: every change whole or absent, chain verifies" \
	|| bad "a change over the API left the records inconsistent ($api_split split)"
[ "$api_lost" = 0 ] && ok "every change answered before the kill is recorded ($answered of 18 answered)" || bad "$api_lost answered changes lost"

# --- PostgreSQL stopped and started under a running service
if pg_mode; then
	cluster=$(pg_lsclusters -h | awk -v p="$PGPORT" '$3 == p {print $1 " " $2}')
	start_serve || bad "serve starts on PostgreSQL"
	echo small > fw.bin; sign vendor fw.bin fw.sig
	[ "$(check up.json)" = 200 ] && ok "a check with the server up" || bad "check before the stop"
	pg_ctlcluster $cluster stop -m fast
	st=$(check down.json)
	[ "$st" = 503 ] && jq -e '.error | test("database unavailable|cannot connect")' down.json >/dev/null \
		&& ok "PostgreSQL stopped: 503 with a clear error" || bad "server down: $st $(cat down.json)"
	grep -q "database unavailable\|cannot connect" serve.log && ok "... and a clear line in the service log" || bad "no log line for the outage"
	pg_ctlcluster $cluster start
	st=$(check back.json)
	[ "$st" = 200 ] && ok "PostgreSQL started again: the service reconnects and checks (200)" || bad "after restart: $st $(cat back.json)"
	consistent && ok "nothing half-written across the outage" || bad "inconsistent after the outage"
	kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=
else
	skip "PostgreSQL stopped under load (run by tests/pg.sh)"
fi

# --- a full disk under the SQLite file
if ! pg_mode && [ "$(id -u)" = 0 ] && mkdir -p small && mount -t tmpfs -o size=1200k tmpfs small 2>/dev/null; then
	(
		export TRUSTGATE_DB=$WORK/small/r.db
		tg db init >/dev/null && tg supplier add before-full --reason r >/dev/null
		dd if=/dev/zero of=small/fill bs=4k 2>/dev/null
		i=0; rc=0
		while [ $i -lt 200 ]; do
			tg supplier add "s$i" --reason "filling $(head -c 1000 /dev/zero | tr '\0' x)" >out 2>err; rc=$?
			[ $rc -ne 0 ] && break
			i=$((i + 1))
		done
		[ $rc = 2 ] && [ "$(wc -l < err)" = 1 ] && grep -q "disk full" err \
			&& echo "ok - disk full: exit 2, one line ($(cut -c1-80 err))" || echo "not ok - disk full: exit $rc, $(head -2 err)"
		rm -f small/fill
		tg supplier show before-full >/dev/null && tg audit verify >/dev/null \
			&& echo "ok - after the disk filled: what was done stays, the chain verifies" || echo "not ok - records after disk full"
		[ "$i" = 0 ] || tg supplier show "s$((i - 1))" >/dev/null && echo "ok - the last change reported done is there" || echo "not ok - last change lost"
	)
	umount small
else
	skip "disk full under the SQLite file (SQLite as root only)"
fi
