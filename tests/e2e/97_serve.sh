#!/bin/bash
# trustgate serve, live on loopback, driven by curl (and a raw TLS client
# for what curl will not send): mutual TLS only, the role matrix, certificates
# expired, foreign and revoked, check and attestation over the network with
# their forged twins, request smuggling shapes, slowloris, oversized and
# truncated bodies, path traversal, replayed nonces -- each a 4xx with one
# JSON error line and nothing written -- and a graceful SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/evlog.sh"
command -v curl >/dev/null || { skip "curl not installed"; exit 0; }
SVC=$(dirname "$TG_BIN")/trustgate-service
[ -x "$SVC" ] || { bad "trustgate-service built beside trustgate"; exit 0; }
command -v swtpm >/dev/null && command -v tpm2_quote >/dev/null || { skip "swtpm/tpm2-tools not installed"; exit 0; }
start_swtpm || { bad "swtpm starts"; exit 0; }
SERVE_PID=
HOOK_PID=
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; [ -n "$HOOK_PID" ] && kill "$HOOK_PID" 2>/dev/null; HOOK_PID=; }
trap 'stop_serve; stop_swtpm; rm -f /etc/chromium/policies/managed/trustgate-e2e-$$.json; [ -n "${TG_KEEP:-}" ] || rm -rf "$WORK"' EXIT
export TRUSTGATE_CA=$WORK/ca

setup_supplier
genkey vendor p256
tg key add acme vendor.pub --hash sha256 --reason "vendor key" >/dev/null
head -c 200000 /dev/urandom > fw.bin
sign vendor fw.bin fw.sig sha256
flip fw.bin 1000 fw-forged.bin

# ---------------------------------------------------------------- PKI
bad_input "user add before ca init refused" "no service CA" -- tg user add x --role admin --out .
expect 0 "ca init" -- tg ca init --server-names trustgate.test
[ "$(stat -c %a ca/ca.key)" = 600 ] && [ "$(stat -c %a ca)" = 700 ] && ok "CA key 0600 in a 0700 directory" || bad "CA key mode"
bad_input "a second ca init refused" "already" -- tg ca init --ca ca2
mkdir certs
for u in admin:admin 王芳:procurement oscar:operator rita:reviewer; do
	tg user add "${u%%:*}" --role "${u#*:}" --out certs >/dev/null || bad "user add $u"
done
bad_input "user add with an unknown role refused" "--role" -- tg user add eve --role root --out certs
bad_input "user add of a name in force refused" "in force" -- tg user add rita --role admin --out certs
bad_input "a host certificate for a host not enrolled refused" "not enrolled" -- tg user add h1 --role host --out certs
openssl x509 -in certs/王芳.pem -noout -subject -nameopt utf8,sep_comma_plus | grep -q "CN=王芳" && ok "certificate subject carries the UTF-8 name" || bad "UTF-8 subject"
openssl pkcs12 -in certs/rita.p12 -passin file:certs/rita.p12.pass -nokeys 2>/dev/null | openssl x509 -noout -subject | grep -q rita \
	&& ok "PKCS#12 opens with its password (openssl)" || bad "PKCS#12 readable"
expect 0 "an expired certificate can be issued (--not-after in the past, for this test)" -- tg user add old --role admin --not-after 2020-01-01 --out certs
expect 0 "a certificate to be revoked" -- tg user add mallory --role admin --out certs
# Another appliance's CA and a user of it, same name as ours.
mkdir other && (cd other && TRUSTGATE_DB=$WORK/other/o.db TRUSTGATE_CA=$WORK/other/ca tg db init >/dev/null \
	&& TRUSTGATE_DB=$WORK/other/o.db TRUSTGATE_CA=$WORK/other/ca tg ca init >/dev/null \
	&& TRUSTGATE_DB=$WORK/other/o.db TRUSTGATE_CA=$WORK/other/ca tg user add admin --role admin --out . >/dev/null) || bad "second CA"
bad_input "serve refuses a CA directory the records were not set up with" "not the CA" -- tg serve --ca other/ca --listen 127.0.0.1:1

# ---------------------------------------------------------------- a host
t2 tpm2_createek -c ek.ctx -G rsa -u ek.pub || exit 0
t2 tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.tpm2b
fw_ev=$(strhex "platform firmware 1.0"); sep=00000000
events=("0 1 $fw_ev")
for p in 0 1 2 3 4 5 6 7; do events+=("$p 4 $sep"); done
{ specid_hdr; for e in "${events[@]}"; do set -- $e; event2 "$1" "$2" "$3"; done; } | xxd -r -p > golden.log
for e in "${events[@]}"; do set -- $e; t2 tpm2_pcrextend "$1:sha1=$(dig sha1 "$3"),sha256=$(dig sha256 "$3")"; done
tg reference import --eventlog golden.log --model edge-1 --reason golden >/dev/null
tg host enroll h1 --no-challenge --ak ak.tpm2b --ek ek.pub --model edge-1 --reason "rack 1" >/dev/null
tg host enroll h2 --no-challenge --ak ak.tpm2b --model edge-1 --reason "rack 2" >/dev/null
expect 0 "a host certificate for an enrolled host" -- tg user add h1 --role host --out certs
tg --json user list | jq -e '[.[] | select(.name == "h1")][0] | .role == "host" and .host == "h1" and (.ak_fingerprint | length) == 64' >/dev/null \
	&& ok "host certificate bound to the host's AK in the records" || bad "host binding"

# ---------------------------------------------------------------- serve
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=https://127.0.0.1:$PORT
# A webhook receiver (the service's own certificate will do: it names
# localhost) that fails the first delivery.
HPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir hooks
python3 "$ROOT/tests/e2e/hook.py" "$HPORT" ca/server.pem ca/server.key hooks 1 &
HOOK_PID=$!
bad_input "serve --webhook without an appliance key refused" "appliance key" -- tg serve --listen 127.0.0.1:1 --webhook "https://localhost:$HPORT/hook"
bad_input "serve --webhook over plain http refused" "https://" -- tg serve --listen 127.0.0.1:1 --webhook "http://localhost:$HPORT/hook"
tg appliance-key init >/dev/null && tg appliance-key show > appliance.pub
"$TG_BIN" --tier 2 serve --listen 127.0.0.1:$PORT --header-timeout 3 --idle-timeout 5 --max-upload-mb 2 --workers 2 \
	--webhook "https://localhost:$HPORT/hook" --webhook-ca ca/ca.pem --tpm "swtpm:path=$WORK/tpm.sock" >serve.out 2>serve.log &
SERVE_PID=$!
for _ in $(seq 100); do grep -q listening serve.out 2>/dev/null && break; sleep 0.1; done
grep -q "listening on 127.0.0.1:$PORT" serve.out && ok "serve starts and says where it listens" || { bad "serve starts"; cat serve.log | head -5; exit 0; }

c() { # USER curl-args...: status code on stdout, body in $WORK/body
	local u=$1; shift
	curl -s -o "$WORK/body" -w '%{http_code}' --max-time 20 --cacert ca/ca.pem ${u:+--cert certs/$u.pem --key certs/$u.key} "$@"
}
one_error_line() { [ "$(wc -l < "$WORK/body")" -eq 1 ] && jq -e '.error | length > 0' "$WORK/body" >/dev/null; }

st=$(c "" "$URL/healthz"); [ "$st" = 401 ] && one_error_line && ok "no client certificate: 401 with one JSON error line" || bad "no cert: $st $(cat body)"
st=$(curl -s -o body -w '%{http_code}' --cacert ca/ca.pem --cert other/admin.pem --key other/admin.key "$URL/healthz")
[ "$st" = 401 ] && grep -q "refused" body && ok "a certificate of another CA: 401" || bad "other CA: $st $(cat body)"
st=$(c old "$URL/healthz"); [ "$st" = 401 ] && grep -qi "expired" body && ok "an expired certificate: 401 (expired)" || bad "expired: $st $(cat body)"
st=$(c rita "$URL/v1/whoami"); [ "$st" = 200 ] && jq -e '.role == "reviewer" and .subject == "CN=rita,OU=reviewer,O=trustgate"' body >/dev/null \
	&& ok "whoami: role and subject from the certificate" || bad "whoami: $st $(cat body)"
st=$(curl -s -o /dev/null -w '%{http_code}' --cacert ca/ca.pem --cert certs/rita.pem --key certs/rita.key -H "X-Actor: admin" "$URL/v1/audit/verify")
[ "$st" = 200 ] && ok "reviewer reads audit verify" || bad "audit verify $st"

# ---------------------------------------------------------------- role matrix
# endpoint | allowed roles (others: 403)
nonce_for_matrix=
matrix() {
	local method=$1 path=$2 allowed=$3 user role st
	for user in admin:admin 王芳:procurement oscar:operator rita:reviewer h1:host; do
		role=${user#*:}; user=${user%%:*}
		if [ "$method" = POST ] && [ "$path" = /v1/check ]; then
			st=$(c "$user" -F "file=@fw.bin" -F "sig=@fw.sig" "$URL$path")
		else
			st=$(c "$user" -X "$method" "$URL$path")
		fi
		if [[ ",$allowed," == *",$role,"* ]]; then
			[ "$st" != 401 ] && [ "$st" != 403 ] && ok "role matrix: $role may $method $path ($st)" || bad "role matrix: $role $method $path: $st $(cat body)"
		else
			[ "$st" = 403 ] && one_error_line && ok "role matrix: $role may not $method $path (403)" || bad "role matrix: $role $method $path: $st, want 403"
		fi
	done
}
matrix GET /healthz admin,procurement,operator,reviewer,host
matrix GET /metrics admin,operator,reviewer
matrix GET /v1/whoami admin,procurement,operator,reviewer,host
matrix GET /v1/suppliers admin,procurement,operator,reviewer
matrix GET /v1/hosts admin,operator,reviewer
matrix POST /v1/check admin,procurement
matrix GET /v1/verdicts/1 admin,procurement,operator,reviewer
matrix GET /v1/verdicts/1/vsa admin,procurement,operator,reviewer
matrix GET /v1/verdicts/1/ear admin,procurement,operator,reviewer
matrix GET /v1/audit admin,reviewer
matrix GET /v1/audit/verify admin,reviewer
matrix POST /v1/hosts/h1/nonce admin,operator,host
matrix POST /v1/hosts/h1/attestation admin,operator,host
matrix GET /ui admin,procurement,operator,reviewer
matrix GET /v1/appliance/attestation admin,procurement,operator,reviewer,host
matrix POST /v1/suppliers admin
matrix POST /v1/keys admin
matrix POST /v1/products admin
matrix POST /v1/releases admin,procurement
matrix POST /v1/references admin,operator
matrix POST /v1/hosts admin,operator
matrix GET /ui/verdicts/1 admin,procurement,operator,reviewer
# A refusal decided from the headers reaches a client still sending a body
# larger than the socket buffers (a connection closed on unread bytes could
# reset before the client reads why).
head -c $((6 * 1024 * 1024)) /dev/urandom > big6.bin
st=$(c oscar -F "file=@big6.bin" -F "sig=@fw.sig" "$URL/v1/check"); [ "$st" = 403 ] && one_error_line && ok "a 6 MiB upload by a role that may not check: 403 heard, one error line" || bad "refused upload: $st $(head -c 200 body)"
st=$(curl -s -o body -w '%{http_code}' --max-time 20 --cacert ca/ca.pem -F "file=@big6.bin" "$URL/v1/check"); [ "$st" = 401 ] && one_error_line && ok "the same upload without a certificate: 401 heard" || bad "refused upload, no cert: $st"
st=$(c h1 -X POST "$URL/v1/hosts/h2/nonce"); [ "$st" = 403 ] && grep -q "speaks for host 'h1'" body && ok "a host certificate asking for another host's nonce: 403" || bad "other host nonce: $st $(cat body)"

# ---------------------------------------------------------------- check
before=$(db_state)
st=$(c 王芳 -F "file=@fw.bin" -F "sig=@fw.sig" "$URL/v1/check")
[ "$st" = 200 ] && jq -e '.verdict == "approved" and .subject.path == "fw.bin"' body >/dev/null && ok "check over HTTPS: signed firmware APPROVED" || bad "check: $st $(cat body)"
cp body served.json
tg --tier 2 --json check fw.bin --sig fw.sig > cli.json
# Not the same: the verdict's id, time, actor and audit row, and the build
# digest (the decision was made by trustgate-service, and says so).
norm='del(.id, .time, .actor, .audit, .tool.build_sha256)'
[ "$(jq -S "$norm" served.json)" = "$(jq -S "$norm" cli.json)" ] && ok "the served verdict is the CLI's (field for field, ids and times aside)" \
	|| { bad "served vs CLI verdict"; diff <(jq -S "$norm" served.json) <(jq -S "$norm" cli.json) | head -10 | sed 's/^/#   /'; }
[ "$(jq -r 'keys|join(",")' served.json)" = "$(jq -r 'keys|join(",")' cli.json)" ] && ok "same fields as check --json" || bad "fields differ"
db_sql "select actor from audit where action='check' order by seq desc limit 1 offset 1" | grep -qx "CN=王芳,OU=procurement,O=trustgate" \
	&& ok "audit actor of the served check is the certificate subject" || bad "audit actor: $(db_sql "select actor from audit where action='check'")"
st=$(curl -s -o body -w '%{http_code}' --cacert ca/ca.pem --cert certs/王芳.pem --key certs/王芳.key -H "X-Trustgate-Actor: admin" \
	-F "file=@fw.bin;filename=fw.bin" -F "sig=@fw.sig" "$URL/v1/check")
db_sql "select actor from audit where action='check' order by seq desc limit 1" | grep -qx "CN=王芳,OU=procurement,O=trustgate" \
	&& ok "a header naming another actor changes nothing" || bad "actor header"
st=$(c 王芳 -F "file=@fw-forged.bin" -F "sig=@fw.sig" "$URL/v1/check")
[ "$st" = 200 ] && jq -e '.verdict == "rejected"' body >/dev/null && ok "forged twin (one byte flipped) over HTTPS: REJECTED" || bad "forged: $st $(cat body)"
st=$(c 王芳 -F "file=@fw.bin" "$URL/v1/check")
[ "$st" = 200 ] && jq -e '.verdict == "rejected"' body >/dev/null && ok "unsigned upload: REJECTED" || bad "unsigned: $st"

# ---------------------------------------------------------------- check as the upload arrives
# With the signature sent before the file, a blob is checked as its bytes
# arrive (never written to the spool); everything else is spooled.  The
# verdicts are the CLI's either way, and every good case has its twin.
served_is_cli() { # FILE CLI-ARGS...: the last served verdict (body) against the CLI's
	local f=$1; shift
	tg --tier 2 --json check "$f" "$@" > cli.json
	[ "$(jq -S "$norm" body)" = "$(jq -S "$norm" cli.json)" ]
}
last_upload() { grep '"path":"/v1/check"' serve.log | tail -1 | jq -r '.upload // "none"'; }
head -c $((1536 * 1024)) /dev/urandom > s.bin
sign vendor s.bin s.sig sha256
flip s.bin $((1300 * 1024)) s-forged.bin
{ cat s.bin; printf x; } > s-longer.bin
st=$(c 王芳 -F "sig=@s.sig" -F "file=@s.bin" "$URL/v1/check")
[ "$st" = 200 ] && jq -e '.verdict == "approved" and .subject.path == "s.bin"' body >/dev/null && [ "$(last_upload)" = streamed ] \
	&& ok "signature first: a 1.5 MiB blob checked as it arrives (log: streamed), APPROVED" || bad "streamed check: $st $(last_upload) $(head -c 300 body)"
served_is_cli s.bin --sig s.sig && ok "the streamed verdict is the CLI's, field for field" \
	|| { bad "streamed vs CLI"; diff <(jq -S "$norm" body) <(jq -S "$norm" cli.json) | head -10 | sed 's/^/#   /'; }
st=$(c 王芳 -F "sig=@s.sig" -F "file=@s-forged.bin" "$URL/v1/check")
[ "$st" = 200 ] && jq -e '.verdict == "rejected"' body >/dev/null && ok "streamed forged twin (a byte flipped after the first MiB): REJECTED" || bad "streamed forged: $st $(head -c 300 body)"
st=$(c 王芳 -F "sig=@s.sig" -F "file=@s-longer.bin" "$URL/v1/check")
[ "$st" = 200 ] && jq -e '.verdict == "rejected"' body >/dev/null && ok "streamed twin with one byte appended: REJECTED" || bad "streamed longer: $st"
st=$(c 王芳 -F "file=@s.bin" -F "sig=@s.sig" "$URL/v1/check")
[ "$st" = 200 ] && jq -e '.verdict == "approved"' body >/dev/null && [ "$(last_upload)" = spooled ] \
	&& ok "file first: the same blob spooled, then checked: APPROVED" || bad "spooled check: $st $(last_upload)"
# Ed25519 hashes R || A || M: R comes from the signature, known first.
genkey ed ed25519; tg key add acme ed.pub --hash sha512 --reason "ed25519 key" >/dev/null
sign ed s.bin s-ed.sig
st=$(c 王芳 -F "sig=@s-ed.sig" -F "file=@s.bin" "$URL/v1/check")
[ "$st" = 200 ] && jq -e '.verdict == "approved"' body >/dev/null && [ "$(last_upload)" = streamed ] && ok "streamed Ed25519: APPROVED" || bad "streamed ed25519: $st $(head -c 300 body)"
st=$(c 王芳 -F "sig=@s-ed.sig" -F "file=@s-forged.bin" "$URL/v1/check")
[ "$st" = 200 ] && jq -e '.verdict == "rejected"' body >/dev/null && ok "streamed Ed25519 forged twin: REJECTED" || bad "streamed ed25519 forged: $st"
# SM2: the hint about a missing distid needs SM3 of the file under two
# other ZAs: taken in the same pass, the bytes are gone afterwards.
genkey gm sm2; tg key add acme gm.pub --hash sm3 --reason "sm2 key" >/dev/null
sign gm s.bin s-gm.sig
openssl dgst -sm3 -sign gm.pem -out s-gm-emptyid.sig s.bin
st=$(c 王芳 -F "sig=@s-gm.sig" -F "file=@s.bin" "$URL/v1/check")
[ "$st" = 200 ] && jq -e '.verdict == "approved"' body >/dev/null && [ "$(last_upload)" = streamed ] && ok "streamed SM2/SM3: APPROVED" || bad "streamed sm2: $st $(head -c 300 body)"
st=$(c 王芳 -F "sig=@s-gm-emptyid.sig" -F "file=@s.bin" "$URL/v1/check")
[ "$st" = 200 ] && jq -e '.verdict == "rejected" and ([.reasons[].detail] | any(contains("empty identity")))' body >/dev/null \
	&& served_is_cli s.bin --sig s-gm-emptyid.sig && ok "streamed SM2 signature without distid: REJECTED with the CLI's hint" || bad "streamed sm2 hint: $st $(jq -c .reasons body)"
# OpenPGP: gpgv reads the same bytes, fed by the thread that hashes them.
if command -v gpg >/dev/null && command -v gpgv >/dev/null; then
	export GNUPGHOME=$WORK/gnupg; mkdir -m 700 "$GNUPGHOME"
	gpg --batch --no-tty --passphrase '' --pinentry-mode loopback --quick-gen-key "acme pgp <pgp@acme.invalid>" ed25519 sign never 2>/dev/null
	gpg --batch --export "acme pgp" > pgp.gpg 2>/dev/null && tg key add acme pgp.gpg --reason "gpg key" >/dev/null
	gpg --batch --no-tty --detach-sign -o s.pgp s.bin 2>/dev/null
	st=$(c 王芳 -F "sig=@s.pgp" -F "file=@s.bin" "$URL/v1/check")
	[ "$st" = 200 ] && jq -e '.verdict == "approved"' body >/dev/null && [ "$(last_upload)" = streamed ] && served_is_cli s.bin --sig s.pgp \
		&& ok "streamed OpenPGP (gpgv fed as the bytes arrive): APPROVED, the CLI's verdict" || bad "streamed pgp: $st $(last_upload) $(jq -c .reasons body)"
	st=$(c 王芳 -F "sig=@s.pgp" -F "file=@s-forged.bin" "$URL/v1/check")
	[ "$st" = 200 ] && jq -e '.verdict == "rejected"' body >/dev/null && ok "streamed OpenPGP forged twin: REJECTED" || bad "streamed pgp forged: $st"
	unset GNUPGHOME
else
	skip "gpg/gpgv not installed"
fi
# A zip behind a stub is never an opaque blob: its central directory
# (3,000 entries, more than the 64 KiB kept of the tail) was noted as it
# went by.
python3 - <<'PY'
import io, os, zipfile
b = io.BytesIO()
with zipfile.ZipFile(b, "w") as z:
    for i in range(3000):
        z.writestr("member-%05d.txt" % i, "")
open("sfx.bin", "wb").write(os.urandom(1200 * 1024) + b.getvalue())
PY
sign vendor sfx.bin sfx.sig sha256
st=$(c 王芳 -F "sig=@sfx.sig" -F "file=@sfx.bin" "$URL/v1/check")
[ "$st" = 200 ] && jq -e '.verdict == "rejected" and .kind == "archive" and ([.reasons[].code] | index("ZIP_INCONSISTENT"))' body >/dev/null \
	&& [ "$(last_upload)" = streamed ] && served_is_cli sfx.bin --sig sfx.sig \
	&& ok "streamed zip behind a stub (central directory beyond the kept tail): REJECTED as the CLI does" || bad "streamed sfx: $st $(jq -c '[.kind, .reasons]' body)"
# A package is walked from a file: spooled even with the signature first.
mkdir pk && head -c $((1200 * 1024)) /dev/urandom > pk/payload && tar -C pk -cf pk.tar payload
sign vendor pk.tar pk.sig sha256
st=$(c 王芳 -F "sig=@pk.sig" -F "file=@pk.tar" "$URL/v1/check")
[ "$st" = 200 ] && [ "$(last_upload)" = spooled ] && served_is_cli pk.tar --sig pk.sig && ok "a tar with its signature first: spooled, the CLI's verdict" \
	|| bad "tar sig first: $st $(last_upload) $(jq -c .reasons body)"
# A key revoked while its signed upload is arriving: the records are read
# again when the last byte is in, and the revocation is seen.
genkey late p256; tg key add acme late.pub --hash sha256 --reason "late key" >/dev/null
head -c $((1900 * 1024)) /dev/urandom > late.bin
sign late late.bin late.sig sha256
curl -s -o latebody -w '%{http_code}' --max-time 20 --limit-rate 300k --cacert ca/ca.pem --cert certs/王芳.pem --key certs/王芳.key \
	-F "sig=@late.sig" -F "file=@late.bin" "$URL/v1/check" > latest &
LATE=$!
sleep 4.5
tg key revoke "$(fpr late.pub)" --reason "revoked mid-upload" >/dev/null || bad "key revoke mid-upload"
wait "$LATE"
[ "$(cat latest)" = 200 ] && jq -e '.verdict == "rejected" and ([.reasons[].code] | index("KEY_REVOKED"))' latebody >/dev/null \
	&& [ "$(last_upload)" = streamed ] && ok "a key revoked while the streamed upload arrived: REJECTED (KEY_REVOKED)" \
	|| bad "revoked mid-upload: $(cat latest) $(last_upload) $(jq -c .reasons latebody 2>/dev/null)"
# At most 8 checks at a time are taken as they arrive in one worker (each
# holds 4 MiB and a thread); 20 at once on 2 workers: some are spooled, all
# are decided alike.
n0=$(grep -c '"upload":"streamed"' serve.log)
many=()
for i in $(seq 20); do
	curl -s -o "many$i.json" -w '%{http_code}' --max-time 30 --limit-rate 300k --cacert ca/ca.pem --cert certs/王芳.pem \
		--key certs/王芳.key -F "sig=@s.sig" -F "file=@s.bin" "$URL/v1/check" > "many$i.st" &
	many+=($!)
done
wait "${many[@]}"
streamed=$(( $(grep -c '"upload":"streamed"' serve.log) - n0 ))
approved=$(cat many*.json | jq -r .verdict | grep -c '^approved$')
[ "$approved" = 20 ] && [ "$streamed" -le 16 ] && [ "$streamed" -ge 1 ] \
	&& ok "20 signature-first uploads at once: $streamed taken as they arrived (at most 8 per worker), the rest spooled, all APPROVED" \
	|| bad "20 at once: $approved approved, $streamed streamed"
before=$(db_state)
head -c $((1900 * 1024)) /dev/urandom > hang.bin
curl -s -o /dev/null --max-time 2 --limit-rate 400k --cacert ca/ca.pem --cert certs/王芳.pem --key certs/王芳.key \
	-F "sig=@s.sig" -F "file=@hang.bin" "$URL/v1/check"
sleep 0.3
[ "$(db_state)" = "$before" ] && st=$(c rita "$URL/healthz") && [ "$st" = 200 ] && ok "a streamed upload cut off by the client: nothing written, the service up" || bad "streamed cut: $st"

before=$(db_state)
head -c $((3 * 1024 * 1024)) /dev/urandom > big.bin
st=$(c 王芳 -F "file=@big.bin" -F "sig=@fw.sig" "$URL/v1/check")
[ "$st" = 413 ] && one_error_line && [ "$(db_state)" = "$before" ] && ok "upload over --max-upload-mb: 413, nothing written" || bad "oversized: $st $(cat body)"
st=$(c 王芳 -F "sig=@fw.sig" -F "file=@big.bin" "$URL/v1/check")
[ "$st" = 413 ] && one_error_line && [ "$(db_state)" = "$before" ] && ok "streamed upload over --max-upload-mb: 413, nothing written" || bad "streamed oversized: $st $(cat body)"
st=$(c 王芳 -H "Transfer-Encoding: chunked" -F "file=@big.bin" -F "sig=@fw.sig" "$URL/v1/check")
[ "$st" = 413 ] && [ "$(db_state)" = "$before" ] && ok "chunked upload over the limit: 413, nothing written" || bad "chunked oversized: $st $(cat body)"
st=$(c 王芳 -F "file=@fw.bin" -F "file=@fw.bin" -F "sig=@fw.sig" "$URL/v1/check")
[ "$st" = 400 ] && grep -q "twice" body && [ "$(db_state)" = "$before" ] && ok "a form field given twice: 400, nothing written" || bad "dup field: $st $(cat body)"
st=$(c 王芳 -F "file=@fw.bin" -F "actor=admin" "$URL/v1/check")
[ "$st" = 400 ] && grep -q "unknown form field" body && ok "an unknown form field: 400" || bad "unknown field: $st $(cat body)"
st=$(c 王芳 -H "Content-Type: application/json" --data '{"file":' "$URL/v1/check")
[ "$st" = 415 ] && one_error_line && ok "malformed JSON instead of a form: 415 with one JSON error line" || bad "json body: $st $(cat body)"
st=$(c 王芳 -H "Content-Type: multipart/form-data; boundary=zz" --data-binary $'--zz\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc' "$URL/v1/check")
[[ "$st" == 4* ]] && [ "$(db_state)" = "$before" ] && ok "a multipart body cut short: $st, nothing written" || bad "truncated multipart: $st $(cat body)"
st=$(c 王芳 -F "sig=@fw.sig" "$URL/v1/check")
[ "$st" = 400 ] && grep -q "'file' is required" body && ok "no file: 400" || bad "no file: $st $(cat body)"
python3 "$ROOT/tests/e2e/rawtls.py" "$PORT" ca/ca.pem certs/王芳.pem certs/王芳.key truncated >/dev/null
sleep 0.5
[ "$(db_state)" = "$before" ] && ok "a body that stops half way: nothing written" || bad "truncated body wrote"

# ---------------------------------------------------------------- smuggling, traversal, slowloris
printf 'POST /v1/check HTTP/1.1\nHost: localhost\nContent-Length: 5\nContent-Length: 7\nContent-Type: multipart/form-data; boundary=a\n\nhello12' > dupcl.req
out=$(python3 "$ROOT/tests/e2e/rawtls.py" "$PORT" ca/ca.pem certs/王芳.pem certs/王芳.key raw dupcl.req)
[[ "$out" == "HTTP/1.1 400"* ]] && ok "duplicate Content-Length: 400" || bad "duplicate Content-Length: $out"
printf 'POST /v1/check HTTP/1.1\nHost: localhost\nContent-Length: 5\nTransfer-Encoding: chunked\nContent-Type: multipart/form-data; boundary=a\n\n0\r\n\r\n' > clte.req
out=$(python3 "$ROOT/tests/e2e/rawtls.py" "$PORT" ca/ca.pem certs/王芳.pem certs/王芳.key raw clte.req)
[[ "$out" == "HTTP/1.1 400"* ]] && ok "Content-Length with Transfer-Encoding: chunked: 400" || bad "CL+TE: $out"
for p in "/v1/verdicts/..%2F..%2Fetc%2Fpasswd" "/v1/hosts/..%2Fh1/nonce" "/v1/verdicts/%2e%2e" "/v1/../v1/audit"; do
	st=$(c rita --path-as-is "$URL$p")
	[[ "$st" == 40[0345] ]] && one_error_line && ok "path traversal $p: $st" || bad "traversal $p: $st $(cat body)"
done
st=$(c rita "$URL/v1/verdicts/999999"); [ "$st" = 404 ] && ok "a verdict that does not exist: 404" || bad "missing verdict: $st"
out=$(python3 "$ROOT/tests/e2e/rawtls.py" "$PORT" ca/ca.pem certs/rita.pem certs/rita.key slow 20)
[[ "$out" == "closed after"* ]] && ok "slowloris (headers a byte a second) cut: $out" || bad "slowloris: $out"

# ---------------------------------------------------------------- attestation
quote() { t2 tpm2_quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7 -q "$1" -m "$2.msg" -s "$2.sig" -o "$2.pcrs" -g sha256; }
st=$(c h1 -X POST "$URL/v1/hosts/h1/nonce"); N=$(jq -r .nonce body)
[ "$st" = 200 ] && [ ${#N} = 64 ] && ok "host h1 gets a nonce over HTTPS" || bad "nonce: $st $(cat body)"
quote "$N" q1
st=$(c h1 -F "quote=@q1.msg" -F "sig=@q1.sig" -F "log=@golden.log" -F "nonce=$N" "$URL/v1/hosts/h1/attestation")
[ "$st" = 200 ] && jq -e '.verdict == "trusted" and .host == "h1"' body >/dev/null && ok "attestation over HTTPS: TRUSTED" || bad "attest: $st $(cat body)"
before=$(db_state)
st=$(c h1 -F "quote=@q1.msg" -F "sig=@q1.sig" -F "log=@golden.log" -F "nonce=$N" "$URL/v1/hosts/h1/attestation")
[ "$st" = 409 ] && grep -q "used already" body && [ "$(db_state)" = "$before" ] && ok "the same nonce again: 409, nothing written" || bad "replay: $st $(cat body)"
st=$(c oscar -X POST "$URL/v1/hosts/h1/nonce"); N1=$(jq -r .nonce body)
quote "$N1" q2
st=$(c oscar -F "quote=@q2.msg" -F "sig=@q2.sig" -F "log=@golden.log" -F "nonce=$N1" "$URL/v1/hosts/h2/attestation")
[ "$st" = 409 ] && grep -q "to this host" body && [ "$(db_state)" = "$before" ] && ok "h1's nonce submitted for h2: 409, nothing written" || bad "cross-host nonce: $st $(cat body)"
st=$(c h1 -F "quote=@q2.msg" -F "sig=@q2.sig" -F "log=@golden.log" -F "nonce=$(openssl rand -hex 32)" "$URL/v1/hosts/h1/attestation")
[ "$st" = 409 ] && grep -q "not issued" body && ok "a nonce this service never issued: 409" || bad "foreign nonce: $st $(cat body)"
# The expiry is under the MAC: a nonce made to live longer is not ours.
NX=$(printf '%016x' $((0x${N1:0:16} + 3600)))${N1:16}   # an hour more, the MAC left as it was
st=$(c h1 -F "quote=@q2.msg" -F "sig=@q2.sig" -F "log=@golden.log" -F "nonce=$NX" "$URL/v1/hosts/h1/attestation")
[ "$st" = 409 ] && grep -q "not issued" body && ok "a nonce with its expiry changed: 409" || bad "extended nonce: $st $(cat body)"
{ specid_hdr; event2 0 1 "$(strhex "other firmware")"; for p in 0 1 2 3 4 5 6 7; do event2 "$p" 4 00000000; done; } | xxd -r -p > wrong.log
st=$(c h1 -F "quote=@q2.msg" -F "sig=@q2.sig" -F "log=@wrong.log" -F "nonce=$N1" "$URL/v1/hosts/h1/attestation")
[ "$st" = 200 ] && jq -e '.verdict == "untrusted"' body >/dev/null && ok "forged twin: a log that is not what was measured: UNTRUSTED" || bad "wrong log: $st $(cat body)"
db_sql "select actor from audit where action='attest' order by seq desc limit 1" | grep -qx "CN=h1,OU=host,O=trustgate" \
	&& ok "audit actor of a host's attestation is its certificate subject" || bad "attest actor"
# Notifications: the UNTRUSTED attestation above was queued with its verdict;
# the receiver refused the first delivery, the retry (5 s later) arrives.
for _ in $(seq 100); do [ -n "$(db_sql "select delivered_at from notification where event='host.untrusted' and subject='h1' order by id limit 1")" ] && break; sleep 0.2; done
row=$(db_sql "select attempts, CASE WHEN delivered_at IS NULL THEN 0 ELSE 1 END from notification where event='host.untrusted' and subject='h1' order by id limit 1")
[ "$row" = "2|1" ] && ok "host UNTRUSTED: notification queued in the records, refused once, delivered on the retry" || bad "notification row: $row"
last=$(ls hooks/hook-*.json 2>/dev/null | sort -t- -k2 -n | tail -1)
if [ -n "$last" ] && [ "$(cat "${last%.json}.event")" = host.untrusted ]; then
	jq -r .payload "$last" | base64 -d > hook.payload
	t=$(jq -r .payloadType "$last")
	printf 'DSSEv1 %d %s %d ' ${#t} "$t" "$(stat -c %s hook.payload)" > hook.pae && cat hook.payload >> hook.pae
	jq -r '.signatures[0].sig' "$last" | base64 -d > hook.sig
	openssl pkeyutl -verify -pubin -inkey appliance.pub -rawin -in hook.pae -sigfile hook.sig >/dev/null 2>&1 \
		&& jq -e '.event == "host.untrusted" and .subject == "h1" and .result == "untrusted" and (.reasons | length) > 0' hook.payload >/dev/null \
		&& ok "the webhook body is a DSSE envelope the appliance key signed (openssl), naming host, result and reasons" \
		|| bad "webhook body: $(head -c 300 hook.payload)"
	printf '%s' "$(jq -r .payload "$last" | base64 -d)" | jq -e . >/dev/null || bad "payload JSON"
	jq -r .payload "$last" | base64 -d | jq -c '.subject = "h2"' > forged.payload
	t2=$(printf 'DSSEv1 %d %s %d ' ${#t} "$t" "$(stat -c %s forged.payload)"); { printf '%s' "$t2"; cat forged.payload; } > forged.pae
	openssl pkeyutl -verify -pubin -inkey appliance.pub -rawin -in forged.pae -sigfile hook.sig >/dev/null 2>&1 \
		&& bad "a forged notification verifies" || ok "forged twin: the same signature over an edited payload does not verify"
else
	bad "webhook: nothing delivered ($(ls hooks))"
fi

# Attestations are recorded in groups: the same one submitted twice at
# once (on two connections) is recorded once; the other is a 409.
st=$(c h1 -X POST "$URL/v1/hosts/h1/nonce"); N2=$(jq -r .nonce body); quote "$N2" q3
before=$(db_sql "select count(*) from verdict where command='attest'")
twin() { echo --cacert ca/ca.pem --cert certs/h1.pem --key certs/h1.key -F quote=@q3.msg -F sig=@q3.sig -F log=@golden.log \
	-F "nonce=$N2" -o "$1" -w '%{http_code}\n' "$URL/v1/hosts/h1/attestation"; }
curl -s --parallel --parallel-immediate --max-time 20 $(twin twin1.json) --next $(twin twin2.json) > twins.st
after=$(db_sql "select count(*) from verdict where command='attest'")
[ "$(sort twins.st | tr '\n' ' ')" = "200 409 " ] && [ $((after - before)) = 1 ] \
	&& ok "one attestation sent twice at once: one verdict recorded, the other 409" || bad "twins: $(cat twins.st | tr '\n' ' ') recorded $((after - before))"
# A second appliance on the same records and CA (on PostgreSQL: another
# site; on SQLite: a second service on the one file): a nonce one issued is
# spent once across both, and both append to one chain.
PORT2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$TG_BIN" --tier 2 serve --listen 127.0.0.1:$PORT2 --workers 1 >serve2.out 2>serve2.log &
SERVE2_PID=$!
for _ in $(seq 100); do grep -q "listening" serve2.out 2>/dev/null && break; sleep 0.1; done
grep -q "listening on 127.0.0.1:$PORT2" serve2.out && ok "a second service on the same records starts" || bad "second serve: $(head -3 serve2.log)"
st=$(c h1 -X POST "$URL/v1/hosts/h1/nonce"); N3=$(jq -r .nonce body); quote "$N3" q5
before=$(db_sql "select count(*) from verdict where command='attest'")
twin2() { echo --cacert ca/ca.pem --cert certs/h1.pem --key certs/h1.key -F quote=@q5.msg -F sig=@q5.sig -F log=@golden.log \
	-F "nonce=$N3" -o "$2" -w '%{http_code}\n' "https://127.0.0.1:$1/v1/hosts/h1/attestation"; }
curl -s --parallel --parallel-immediate --max-time 20 $(twin2 "$PORT" two1.json) --next $(twin2 "$PORT2" two2.json) > two.st
after=$(db_sql "select count(*) from verdict where command='attest'")
[ "$(sort two.st | tr '\n' ' ')" = "200 409 " ] && [ $((after - before)) = 1 ] \
	&& ok "one nonce sent to both services at once: spent once (one verdict, one 409)" || bad "two services: $(cat two.st | tr '\n' ' ') recorded $((after - before))"
cpids=()
for i in 1 2 3 4 5 6; do
	p=$PORT; [ $((i % 2)) = 0 ] && p=$PORT2
	curl -s --cacert ca/ca.pem --cert certs/王芳.pem --key certs/王芳.key -F file=@fw.bin -F sig=@fw.sig -o /dev/null \
		-w '%{http_code}\n' --max-time 20 "https://127.0.0.1:$p/v1/check" > "both$i.st" &
	cpids+=($!)
done
wait "${cpids[@]}"
cat both[1-6].st > both.st
[ "$(sort -u both.st | tr '\n' ' ')" = "200 " ] && ok "checks on both services at once: all answered" || bad "checks on both: $(tr '\n' ' ' < both.st)"
expect 0 "the chain both services appended to verifies" -- tg audit verify
kill "$SERVE2_PID" 2>/dev/null; wait "$SERVE2_PID" 2>/dev/null
# The agent: a host enrolled with the AK `trustgate quote` keeps in its TPM,
# attesting itself with its own host certificate.
tg quote --nonce "$(openssl rand -hex 20)" --out b0 --eventlog golden.log >/dev/null || bad "quote makes the agent's AK"
tg host enroll h3 --no-challenge --ak b0/ak.tpm2b --model edge-1 --reason "agent host" >/dev/null
tg user add h3 --role host --out certs >/dev/null
agent() { tg agent --server "$URL" --cert certs/h3.pem --key certs/h3.key --ca ca/ca.pem --once "$@"; }
expect 0 "agent --once: nonce, quote with the TPM, submit: TRUSTED" -- agent --host h3 --eventlog golden.log
printf '%s' "$LAST_OUT" | grep -q "TRUSTED  h3  verdict [0-9]" && ok "the agent prints the verdict in one line" || bad "agent line: $LAST_OUT"
expect 1 "agent with a log that is not what was measured: UNTRUSTED (exit 1)" -- agent --host h3 --eventlog wrong.log
expect 2 "agent speaking for another host with its certificate: refused (exit 2)" -- agent --host h1 --eventlog golden.log
printf '%s' "$LAST_ERR" | grep -q "403" && ok "the refusal names the HTTP status" || bad "agent refusal: $LAST_ERR"
bad_input "agent over plain http refused" "https://" -- tg agent --server "http://127.0.0.1:$PORT" --host h3 --cert certs/h3.pem --key certs/h3.key --ca ca/ca.pem --once
# First-time enrolment by the agent itself: with an operator's certificate it
# sends the TPM's AK and EK for a challenge, lets the TPM activate the
# credential, and sends the secret with a certificate request for a key made
# on the host; the host certificate comes back, bound to that AK.
mkdir -p hostcerts
expect 0 "agent --enroll: challenge, TPM activation, enrolment with a certificate request over HTTPS" -- \
	tg agent --enroll --server "$URL" --host h6 --cert certs/oscar.pem --key certs/oscar.key --ca ca/ca.pem \
	--out hostcerts --model edge-1 --reason "agent enrolment"
tg --json host show h6 2>/dev/null | jq -e '.model == "edge-1" and .ek == true' >/dev/null && ok "h6 enrolled with its EK, by credential activation" || bad "h6 record: $(tg --json host show h6 2>&1)"
[ "$(stat -c %a hostcerts/h6.key 2>/dev/null)" = 600 ] && openssl x509 -in hostcerts/h6.pem -noout -subject 2>/dev/null | grep -q "CN *= *h6, *OU *= *host\|OU *= *host.*CN *= *h6" \
	&& [ "$(openssl x509 -in hostcerts/h6.pem -noout -pubkey | sha256sum)" = "$(openssl pkey -in hostcerts/h6.key -pubout | sha256sum)" ] \
	&& ok "its certificate (CN=h6, OU=host) is for the key made on the host (0600), which never left it" || bad "h6 files: $(ls -l hostcerts) $(openssl x509 -in hostcerts/h6.pem -noout -subject 2>&1)"
tg --json user list | jq -e 'any(.[]; .name == "h6" and .role == "host" and .host == "h6" and (.created_by | test("CN=oscar")))' >/dev/null \
	&& ok "the certificate is in the records as h6's, bound to its AK, issued by the operator's subject" || bad "user list h6: $(tg --json user list | jq -c '.[] | select(.name=="h6")')"
expect 0 "the new host certificate attests h6: TRUSTED" -- tg agent --server "$URL" --cert hostcerts/h6.pem --key hostcerts/h6.key --ca ca/ca.pem --once --host h6 --eventlog golden.log
expect 2 "forged twin: h6's certificate speaking for h3 refused" -- tg agent --server "$URL" --cert hostcerts/h6.pem --key hostcerts/h6.key --ca ca/ca.pem --once --host h3 --eventlog golden.log
before=$(db_state)
expect 2 "forged twin: a reviewer cannot enrol a host (403), nothing written" -- \
	tg agent --enroll --server "$URL" --host h7 --cert certs/rita.pem --key certs/rita.key --ca ca/ca.pem --out hostcerts --reason r
printf '%s' "$LAST_ERR" | grep -q 403 && [ "$(db_state)" = "$before" ] && [ ! -e hostcerts/h7.key ] && ok "the refusal says 403; no host, no key file" || bad "reviewer enrol: $LAST_ERR"
expect 2 "agent --enroll into a directory that already holds the host's key refused" -- \
	tg agent --enroll --server "$URL" --host h6 --cert certs/oscar.pem --key certs/oscar.key --ca ca/ca.pem --out hostcerts --reason r
# A certificate request whose signature does not verify (proof of
# possession fails): refused before anything is enrolled.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout csr.key -subj /CN=h8 -outform DER -out csr.der 2>/dev/null
flip csr.der $(( $(stat -c %s csr.der) - 3 )) csr-bad.der
openssl req -inform DER -in csr.der -out good.csr 2>/dev/null
{ echo "-----BEGIN CERTIFICATE REQUEST-----"; base64 -w 64 csr-bad.der; echo "-----END CERTIFICATE REQUEST-----"; } > bad.csr
before=$(db_state)
st=$(c oscar -F name=h8 -F "ak=@ak.tpm2b" -F model=edge-1 -F no_challenge=true -F "reason=r" -F "csr=@bad.csr" "$URL/v1/hosts")
[ "$st" = 400 ] && one_error_line && grep -q "csr" body && [ "$(db_state)" = "$before" ] && ! tg host show h8 >/dev/null 2>&1 \
	&& ok "a certificate request with a broken signature: 400, nothing enrolled" || bad "bad csr: $st $(cat body)"
openssl req -new -newkey rsa:1024 -nodes -keyout weak.key -subj /CN=h8 -out weak.csr 2>/dev/null
st=$(c oscar -F name=h8 -F "ak=@ak.tpm2b" -F model=edge-1 -F no_challenge=true -F "reason=r" -F "csr=@weak.csr" "$URL/v1/hosts")
[ "$st" = 400 ] && grep -q "1024" body && ! tg host show h8 >/dev/null 2>&1 && ok "a request for an RSA-1024 key: 400, nothing enrolled" || bad "weak csr: $st $(cat body)"
st=$(c oscar -F name=h8 -F "ak=@ak.tpm2b" -F model=edge-1 -F no_challenge=true -F "reason=r" -F "csr=@good.csr" "$URL/v1/hosts")
[ "$st" = 201 ] && jq -r .certificate.cert_pem body > h8.pem && [ "$(openssl x509 -in h8.pem -noout -pubkey | sha256sum)" = "$(openssl pkey -in csr.key -pubout | sha256sum)" ] \
	&& openssl verify -CAfile ca/ca.pem h8.pem >/dev/null 2>&1 && ok "an operator enrolling with an openssl-made request gets the host certificate in the answer (openssl verify)" || bad "good csr: $st $(head -c 300 body)"
bad_input "user add --csr of a broken request refused" "certificate request" -- tg user add h8b --role admin --csr bad.csr
expect 0 "user add --csr prints the certificate for a request's key" -- tg user add csruser --role reviewer --csr good.csr
printf '%s' "$LAST_OUT" | openssl x509 -noout -subject 2>/dev/null | grep -q csruser && ok "the printed PEM is the user's certificate" || bad "user add --csr output"
# A reference revoked through trustgate counts from the next attestation on
# (the service's shared references follow every record change at once).
tg reference revoke --digest "sha256:$(dig sha256 "$fw_ev")" --reason "vulnerable firmware" >/dev/null
st=$(c h1 -X POST "$URL/v1/hosts/h1/nonce"); N3=$(jq -r .nonce body); quote "$N3" q4
st=$(c h1 -F "quote=@q4.msg" -F "sig=@q4.sig" -F "log=@golden.log" -F "nonce=$N3" "$URL/v1/hosts/h1/attestation")
[ "$st" = 200 ] && jq -e '.verdict == "untrusted" and ([.reasons[].code] | index("MEASUREMENT_REVOKED")) != null' body >/dev/null \
	&& ok "a measurement revoked a moment ago: the next served attestation is UNTRUSTED (MEASUREMENT_REVOKED)" || bad "revoked ref: $st $(jq -c '[.verdict, [.reasons[].code]]' body)"


# ---------------------------------------------------------------- changes over the API
st=$(c admin -F "name=华为技术有限公司" -F country=CN -F max_tier=4 -F cii=true -F review=SR-77 -F review_expires=2099-01-01 \
	-F "reason=review passed" "$URL/v1/suppliers")
[ "$st" = 201 ] && jq -e '.name == "华为技术有限公司" and .max_tier == 4 and .cii == true' body >/dev/null \
	&& ok "admin adds a supplier over HTTPS (201, the record as supplier add --json prints it)" || bad "supplier add: $st $(cat body)"
db_sql "select actor from audit where action='supplier.add' order by seq desc limit 1" | grep -qx "CN=admin,OU=admin,O=trustgate" \
	&& ok "its audit row names the admin's certificate subject" || bad "supplier.add actor"
st=$(c admin -F "name=华为技术有限公司" -F "reason=again" "$URL/v1/suppliers"); [ "$st" = 409 ] && one_error_line && ok "the same supplier again: 409" || bad "dup supplier: $st $(cat body)"
before=$(db_state)
st=$(c admin -F "name=--cii" -F "reason=x" "$URL/v1/suppliers"); [ "$st" = 400 ] && [ "$(db_state)" = "$before" ] && ok "a name posing as an option: 400, nothing written" || bad "option injection: $st $(cat body)"
st=$(c admin -F "name=evil" "$URL/v1/suppliers"); [ "$st" = 400 ] && grep -q "reason" body && [ "$(db_state)" = "$before" ] && ok "no reason: 400, nothing written" || bad "no reason: $st $(cat body)"
st=$(c admin -F "name=x" -F "cii=yes" -F "reason=r" "$URL/v1/suppliers"); [ "$st" = 400 ] && ok "a flag that is not true/false: 400" || bad "flag: $st"
genkey hwkey p256
st=$(c admin -F "supplier=华为技术有限公司" -F "key=@hwkey.pub" -F "hash=sha256" -F "reason=signing key" "$URL/v1/keys")
[ "$st" = 201 ] && ok "admin adds a key (uploaded file) over HTTPS" || bad "key add: $st $(cat body)"
st=$(c admin -F "supplier=华为技术有限公司" -F "key=not a key" -F "reason=r" "$URL/v1/keys")
[ "$st" = 400 ] && one_error_line && grep -q '"key: not a PEM' body && ! grep -q "trustgate-upload" body \
	&& ok "a key that is not one: 400, the spool's path not shown" || bad "key text: $st $(cat body)"
st=$(c admin -F "reason=compromised" "$URL/v1/keys/$(fpr hwkey.pub)/revoke"); [ "$st" = 201 ] && ok "admin revokes the key over HTTPS" || bad "key revoke: $st $(cat body)"
st=$(c 王芳 -F "supplier=acme" -F "product=fw" -F "version=1.0" -F "digest=sha256:$(sha256sum fw.bin | cut -c1-64)" -F "reason=r" "$URL/v1/releases")
[ "$st" = 404 ] || [ "$st" = 400 ] && one_error_line && ok "a release of a product that does not exist: $st" || bad "release of unknown product: $st $(cat body)"
st=$(c oscar -F "name=h9" -F "ak=@ak.tpm2b" -F "model=edge-1" -F "no_challenge=true" -F "reason=rack 9" "$URL/v1/hosts")
[ "$st" = 201 ] && tg --json host list | jq -e 'any(.[]; .name == "h9")' >/dev/null && ok "operator enrols a host over HTTPS" || bad "host enroll: $st $(cat body)"

# ---------------------------------------------------------------- the appliance attests itself
NR=$(openssl rand -hex 32)
st=$(c rita "$URL/v1/appliance/attestation?nonce=$NR")
if [ "$st" = 200 ]; then
	jq -r .attest body | base64 -d > app.msg; jq -r .sig body | base64 -d > app.sig; jq -r .ak_tpm2b body | base64 -d > app.ak
	jq .pcrs body > app.pcrs.json
	expect 0 "relying party: the appliance's quote over its nonce verifies (quote verify)" -- tg quote verify --ak app.ak --msg app.msg --sig app.sig --pcrs app.pcrs.json --nonce "$NR" --pcr-list 0-7,15
	expect 1 "forged twin: the same quote under another nonce is refused" -- tg quote verify --ak app.ak --msg app.msg --sig app.sig --pcrs app.pcrs.json --nonce "$(openssl rand -hex 32)" --pcr-list 0-7,15
else
	bad "appliance attestation: $st $(cat body)"
fi
st=$(c rita "$URL/v1/appliance/attestation?nonce=abcd"); [ "$st" = 400 ] && one_error_line && ok "appliance attestation with a short nonce: 400" || bad "short nonce: $st"

# Enrolment through the challenge round-trip over the API: the operator asks
# for a challenge for the agent's AK and the TPM's EK, the host answers it
# with its TPM (host respond), the operator enrols with the secret.
t2 tpm2_createek -c ek5.ctx -G rsa -u ek5.pub
st=$(c oscar -F "ak=@b0/ak.tpm2b" -F "ek=@ek5.pub" "$URL/v1/hosts/h5/challenge"); cp body h5.challenge
[ "$st" = 201 ] && jq -e '.host == "h5" and .credential_blob and .encrypted_secret' h5.challenge >/dev/null \
	&& ok "operator gets an enrolment challenge over HTTPS" || bad "challenge: $st $(cat body)"
S5=$(tg host respond --challenge h5.challenge 2>/dev/null | tr -d '\n')
st=$(c oscar -F name=h5 -F "ak=@b0/ak.tpm2b" -F "ek=@ek5.pub" -F model=edge-1 -F "secret=$(openssl rand -hex 32)" -F "reason=r" "$URL/v1/hosts")
[[ "$st" == 4* ]] && one_error_line && ! tg host show h5 >/dev/null 2>&1 && ok "forged twin: a wrong secret is refused ($st), nothing enrolled" || bad "wrong secret: $st $(cat body)"
st=$(c oscar -F name=h5 -F "ak=@b0/ak.tpm2b" -F "ek=@ek5.pub" -F model=edge-1 -F "secret=$S5" -F "reason=credential activated" "$URL/v1/hosts")
[ "$st" = 201 ] && tg host show h5 >/dev/null && ok "the TPM's answer enrols the host over HTTPS" || bad "enrol with secret: $st $(cat body)"

# ---------------------------------------------------------------- signed reports
vid=$(db_sql "select max(id) from verdict where command='check' and result='approved'")
aid=$(db_sql "select max(id) from verdict where command='attest'")
st=$(c rita "$URL/v1/verdicts/$vid/vsa"); cp body api.vsa
tg report "$vid" --vsa cli.vsa >/dev/null
if [ "$st" = 200 ] && cmp -s api.vsa cli.vsa; then
	jq -r .payload api.vsa | base64 -d > vsa.payload; t=$(jq -r .payloadType api.vsa)
	{ printf 'DSSEv1 %d %s %d ' ${#t} "$t" "$(stat -c %s vsa.payload)"; cat vsa.payload; } > vsa.pae
	jq -r '.signatures[0].sig' api.vsa | base64 -d > vsa.sig
	openssl pkeyutl -verify -pubin -inkey appliance.pub -rawin -in vsa.pae -sigfile vsa.sig >/dev/null 2>&1 \
		&& jq -e '.predicate.verificationResult == "PASSED"' vsa.payload >/dev/null \
		&& ok "reviewer gets a check's VSA over HTTPS: byte for byte report --vsa's, signed by the appliance key (openssl)" || bad "VSA signature/payload"
	jq -r .payload api.vsa | base64 -d | sed 's/PASSED/FAILED/' > vsa-forged.payload
	{ printf 'DSSEv1 %d %s %d ' ${#t} "$t" "$(stat -c %s vsa-forged.payload)"; cat vsa-forged.payload; } > vsa-forged.pae
	! openssl pkeyutl -verify -pubin -inkey appliance.pub -rawin -in vsa-forged.pae -sigfile vsa.sig >/dev/null 2>&1 \
		&& ok "forged twin: the VSA made to say FAILED does not verify" || bad "forged VSA verifies"
else
	bad "VSA over HTTPS: $st $(head -c 200 body) (same as the CLI's: $(cmp api.vsa cli.vsa 2>&1))"
fi
st=$(c rita "$URL/v1/verdicts/$aid/ear")
claims=$(python3 -c 'import sys,base64,json; p=open(sys.argv[1]).read().strip().split("."); assert len(p)==3; print(json.dumps(json.loads(base64.urlsafe_b64decode(p[1]+"="*(-len(p[1])%4)))))' body 2>/dev/null)
[ "$st" = 200 ] && printf '%s' "$claims" | jq -e --argjson id "$aid" '."trustgate.verdict-id" == $id and (.submods | length) == 1' >/dev/null \
	&& ok "an attestation's EAR over HTTPS: a JWT naming the verdict" || bad "EAR: $st $(head -c 200 body)"
st=$(c rita "$URL/v1/verdicts/$vid/ear"); [ "$st" = 422 ] && one_error_line && grep -q "VSA" body && ok "the EAR of a check: 422 (its twin is a VSA)" || bad "EAR of check: $st $(cat body)"
st=$(c rita "$URL/v1/verdicts/$aid/vsa"); [ "$st" = 422 ] && one_error_line && ok "the VSA of an attestation: 422" || bad "VSA of attest: $st $(cat body)"
st=$(c rita "$URL/v1/verdicts/999999/vsa"); [ "$st" = 404 ] && one_error_line && ok "the VSA of no verdict: 404" || bad "VSA 404: $st"

# ---------------------------------------------------------------- the web view
tg supplier add 'Acme <b>&co' --country CN --max-tier 4 --review SR-9 --review-expires "$(date -u -d '+10 days' +%F)" --reason r >/dev/null
st=$(c rita "$URL/ui")
[ "$st" = 200 ] && grep -q "<h2>Hosts and their last attestation</h2>" body && grep -q ">h1<" body && grep -q "TRUSTED\|UNTRUSTED" body \
	&& ok "web view: hosts with their last verdict" || bad "web view: $st $(head -c 300 body)"
grep -q "Acme &lt;b&gt;&amp;co" body && ! grep -q "Acme <b>" body && grep -q "SR-9" body \
	&& ok "web view: a review expiring within 30 days, the name escaped" || bad "web view escaping/review"
grep -q 'href="/ui/verdicts/[0-9]*"' body && ! grep -qi "<script" body && ok "web view: verdicts link to their reports, no script" || bad "web view links"
vid=$(grep -o 'href="/ui/verdicts/[0-9]*"' body | head -1 | grep -o '[0-9]*')
st=$(c rita "$URL/ui/verdicts/$vid"); [ "$st" = 200 ] && grep -q "<title>trustgate verdict $vid</title>" body && ok "web view: verdict $vid's report" || bad "ui verdict: $st"
curl -s -D hdr -o /dev/null --cacert ca/ca.pem --cert certs/rita.pem --key certs/rita.key "$URL/ui"
grep -qi "^content-security-policy: default-src 'none'" hdr && grep -qi "^content-type: text/html; charset=utf-8" hdr \
	&& ok "web view: served with a no-script Content-Security-Policy" || bad "ui headers: $(cat hdr | tr '\r\n' '  ')"
# A person's browser: headless Chromium with the reviewer's PKCS#12 in its NSS store and a policy choosing it
# for this URL (managed policies live in /etc/chromium; the file is removed at the end).
if command -v chromium >/dev/null && command -v pk12util >/dev/null && [ -w /etc ] && [ "$(id -u)" = 0 ]; then
	mkdir -p "$WORK/home/.pki/nssdb" /etc/chromium/policies/managed
	HOME=$WORK/home certutil -N -d "sql:$WORK/home/.pki/nssdb" --empty-password
	HOME=$WORK/home pk12util -d "sql:$WORK/home/.pki/nssdb" -i certs/rita.p12 -w certs/rita.p12.pass >/dev/null 2>&1
	HOME=$WORK/home certutil -A -n trustgate-ca -t "C,," -i ca/ca.pem -d "sql:$WORK/home/.pki/nssdb"
	POL=/etc/chromium/policies/managed/trustgate-e2e-$$.json
	printf '{"AutoSelectCertificateForUrls": ["{\\"pattern\\":\\"https://localhost:%s\\",\\"filter\\":{}}"]}\n' "$PORT" > "$POL"
	chrome() { HOME=$WORK/home timeout 90 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/chrome" "$@" 2>/dev/null; }
	dom=$(chrome --dump-dom "https://localhost:$PORT/ui")
	printf '%s' "$dom" | grep -q "Hosts and their last attestation" && printf '%s' "$dom" | grep -q "CN=rita,OU=reviewer" \
		&& ok "Chromium with the reviewer's client certificate renders the web view" || bad "chromium web view: $(printf '%s' "$dom" | head -c 200)"
	chrome --disable-javascript --screenshot="$WORK/ui.png" --window-size=1200,900 "https://localhost:$PORT/ui/verdicts/$vid" >/dev/null
	[ -s "$WORK/ui.png" ] && [ "$(stat -c %s "$WORK/ui.png")" -gt 20000 ] && ok "Chromium with JavaScript off renders a verdict's report page (screenshot $(stat -c %s "$WORK/ui.png") bytes)" || bad "chromium screenshot"
	rm -f "$POL"
	grep -q '"path":"/ui"' serve.log && grep '"path":"/ui"' serve.log | grep -q '"actor":"CN=rita,OU=reviewer,O=trustgate"' \
		&& ok "the browser's requests are logged with the certificate's subject" || bad "ui log"
else
	skip "chromium/pk12util or root missing: the web view not checked in a browser"
fi

# ---------------------------------------------------------------- revocation
st=$(c mallory "$URL/v1/whoami"); [ "$st" = 200 ] && ok "mallory admitted before revocation" || bad "mallory before: $st"
expect 0 "user revoke" -- tg user revoke mallory --reason "lost laptop"
st=$(c mallory "$URL/v1/whoami"); [ "$st" = 403 ] && grep -q revoked body && ok "revoked certificate refused at once (records)" || bad "revoked: $st $(cat body)"
openssl crl -in ca/crl.pem -noout -text | grep -qi "$(tg --json user list | jq -r '.[] | select(.name=="mallory") | .serial' | cut -c1-8)" \
	&& ok "the CRL lists the revoked serial" || bad "CRL entry"
kill -HUP "$SERVE_PID"; sleep 1.5
st=$(c mallory "$URL/v1/whoami"); [ "$st" = 401 ] && grep -qi revoked body && ok "after SIGHUP the CRL itself refuses it (401)" || bad "CRL after HUP: $st $(cat body)"
st=$(c rita "$URL/v1/whoami"); [ "$st" = 200 ] && ok "others still served after the reload" || bad "after reload: $st"

# The CRL's own validity: a CRL past its next update says nothing about
# revocations since, so it admits nobody (fail closed) until `ca crl` signs a
# fresh one; a reload with an expired one is refused and the previous kept.
expect 0 "ca crl --next-update in the past (for this test)" -- tg ca crl --next-update 2020-01-01
kill -HUP "$SERVE_PID"; sleep 1.5
st=$(c rita "$URL/v1/whoami"); [ "$st" = 200 ] && grep -q "reload refused.*expired" serve.log && ok "SIGHUP with an expired CRL: reload refused, the previous CRL still in force" || bad "expired CRL reload: $st $(grep -c "reload refused" serve.log)"
bad_input "serve refuses to start with an expired CRL" "expired" -- tg serve --listen "127.0.0.1:$(( PORT + 1 ))"
expect 0 "ca crl --next-update a few seconds ahead" -- tg ca crl --next-update "$(date -u -d '+4 seconds' +%FT%TZ)"
kill -HUP "$SERVE_PID"; sleep 1.5
st=$(c rita "$URL/v1/whoami"); [ "$st" = 200 ] && ok "served while the CRL is in force" || bad "before CRL expiry: $st $(cat body)"
sleep 4
st=$(c rita "$URL/v1/whoami"); [ "$st" = 401 ] && grep -q "past its next update" body && one_error_line \
	&& ok "the CRL passes its next update while serving: every client refused (401), saying why" || bad "CRL expiry while serving: $st $(cat body)"
expect 0 "ca crl signs a fresh CRL from the records" -- tg --json ca crl
printf '%s' "$LAST_OUT" | jq -e '.entries == 1' >/dev/null && openssl crl -in ca/crl.pem -noout -text | grep -qi "$(tg --json user list | jq -r '.[] | select(.name=="mallory") | .serial' | cut -c1-8)" \
	&& ok "the fresh CRL still lists every revoked certificate" || bad "fresh CRL entries: $LAST_OUT"
kill -HUP "$SERVE_PID"; sleep 1.5
st=$(c rita "$URL/v1/whoami"); [ "$st" = 200 ] && ok "after ca crl and SIGHUP: served again" || bad "after fresh CRL: $st $(cat body)"
st=$(c mallory "$URL/v1/whoami"); [ "$st" = 401 ] && ok "the revoked certificate stays refused under the fresh CRL" || bad "mallory after fresh CRL: $st"
db_sql "select count(*) from audit where action='ca.crl'" | grep -qx 3 && ok "each ca crl is audited" || bad "ca.crl audit rows"

# ---------------------------------------------------------------- metrics, log, shutdown
st=$(c rita "$URL/metrics")
grep -q '^trustgate_verdicts_total{result="approved"} [1-9]' body && grep -q '^trustgate_request_duration_seconds_bucket{le="+Inf"}' body \
	&& grep -q '^trustgate_requests_in_flight' body && ok "/metrics: verdicts, latency histogram, queue depth" || bad "metrics: $(head -5 body)"
grep -q '^trustgate_webhook_deliveries_total{outcome="delivered"} [1-9]' body && grep -q '^trustgate_webhook_deliveries_total{outcome="failed"} [1-9]' body \
	&& grep -q '^trustgate_webhook_queue ' body && ok "/metrics: webhook deliveries and queue" || bad "webhook metrics: $(grep webhook body)"
grep -q '"path":"/v1/check"' serve.log && ! grep -v '^{' serve.log | grep -q . && jq -e . serve.log >/dev/null 2>&1 \
	&& ok "one JSON line per request on stderr" || bad "request log: $(grep -v '^{' serve.log | head -2)"
kill -0 "$SERVE_PID" 2>/dev/null && st=$(c rita "$URL/healthz") && [ "$st" = 200 ] && ok "the server is still up after all the bad input" || bad "server died"
# Graceful stop: an upload in progress finishes and is recorded.
head -c 1500000 /dev/urandom > slow.bin; sign vendor slow.bin slow.sig sha256
curl -s -o slowbody -w '%{http_code}' --limit-rate 300k --cacert ca/ca.pem --cert certs/王芳.pem --key certs/王芳.key \
	-F "file=@slow.bin" -F "sig=@slow.sig" "$URL/v1/check" > slowst &
CURL=$!
curl -s -o slowbody2 -w '%{http_code}' --limit-rate 300k --cacert ca/ca.pem --cert certs/王芳.pem --key certs/王芳.key \
	-F "sig=@slow.sig" -F "file=@slow.bin" "$URL/v1/check" > slowst2 &
CURL2=$!
sleep 1.5
kill -TERM "$SERVE_PID"
wait "$CURL" "$CURL2"
[ "$(cat slowst)" = 200 ] && jq -e '.verdict == "approved"' slowbody >/dev/null && ok "SIGTERM: the upload in progress finishes and is answered" || bad "graceful: $(cat slowst) $(cat slowbody)"
[ "$(cat slowst2)" = 200 ] && jq -e '.verdict == "approved"' slowbody2 >/dev/null && ok "SIGTERM: a streamed check in progress finishes and is answered" || bad "graceful streamed: $(cat slowst2) $(cat slowbody2)"
wait "$SERVE_PID"; rc=$?; SERVE_PID=
[ "$rc" = 0 ] && ok "serve exits 0 after SIGTERM" || bad "serve exit $rc"
st=$(c rita "$URL/healthz"); [ "$st" = 000 ] && ok "nothing listens after the stop" || bad "still listening: $st"

# The published API names every route the service has, and no other.
grep -o '{ "\(GET\|POST\)", "[^"]*"' "$ROOT/service/api.c" | sed 's/.*"\(\/[^"]*\)"/\1/; s/{}/{x}/' | sort -u > routes.code
grep -o '^  /[^:]*' "$ROOT/docs/openapi.yaml" | sed 's/^  //; s/{[a-z]*}/{x}/' | sort -u > routes.doc
diff routes.code routes.doc >/dev/null && ok "docs/openapi.yaml lists exactly the routes of service/api.c" \
	|| { bad "openapi routes differ"; diff routes.code routes.doc | sed 's/^/#   /'; }

# The systemd units in contrib/ are valid units (the binary path pointed at
# this build).
if command -v systemd-analyze >/dev/null; then
	mkdir units
	for u in "$ROOT"/contrib/systemd/*; do sed "s#/usr/local/bin/trustgate#$TG_BIN#" "$u" > "units/${u##*/}"; done
	out=$(systemd-analyze verify --man=no units/* 2>&1 | grep -v "Failed to load\|^$" | grep -i "units/" || true)
	[ -z "$out" ] && ok "contrib/systemd units pass systemd-analyze verify" || { bad "systemd units"; printf '%s\n' "$out" | head -5 | sed 's/^/#   /'; }
else
	skip "systemd-analyze not installed"
fi
