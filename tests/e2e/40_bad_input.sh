#!/bin/bash
# Bad input: exit 2, one clear stderr line naming the file and the problem,
# and nothing written to the records.  Hostile keys are refused at import.
. "$(dirname "$0")/lib.sh"

# --- databases
bad_input "missing database" "nosuch.db" -- tg --db nosuch.db supplier list
[ ! -e nosuch.db ] && ok "a missing database is not created" || bad "a missing database is not created"
sqlite3 foreign.db "create table t(x); insert into t values (1);"
bad_input "foreign SQLite file" "foreign.db: not a trustgate database" -- tg --db foreign.db supplier list
head -c 8192 /dev/urandom > corrupt.db
bad_input "random bytes as database" "corrupt.db" -- tg --db corrupt.db key list
mkdir adir
bad_input "directory as database" "adir" -- tg --db adir supplier list

setup_supplier
genkey good rsa2048
tg key add acme good.pub --reason r >/dev/null
echo "payload" > fw.bin
sign good fw.bin fw.sig
if sqlite_only "damaged database pages"; then
	cp "$TRUSTGATE_DB" damaged.db
	# Damage whole b-tree pages (past the header page).
	head -c 16384 /dev/urandom | dd of=damaged.db bs=4096 seek=1 conv=notrunc 2>/dev/null
	bad_input "damaged database pages" "damaged.db" -- tg --db damaged.db check fw.bin --sig fw.sig --tier 1
fi

# --- key files
: > empty.pem
bad_input "0-byte key file" "empty.pem" -- tg key add acme empty.pem --reason r
printf -- '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAA\n-----END PUBLIC KEY-----\n' > trunc.pem
bad_input "truncated PEM key" "trunc.pem" -- tg key add acme trunc.pem --reason r
printf -- '-----BEGIN PUBLIC KEY-----\n!!!notbase64!!!\n-----END PUBLIC KEY-----\n' > junk.pem
bad_input "PEM with bad base64" "junk.pem" -- tg key add acme junk.pem --reason r
head -c 300 /dev/urandom > junk.der
bad_input "random DER key" "junk.der" -- tg key add acme junk.der --reason r
bad_input "private key instead of public" "good.pem" -- tg key add acme good.pem --reason r
openssl pkey -pubin -in good.pub -outform DER -out good.der
cat good.der good.der > trailing.der
bad_input "DER key with trailing bytes" "trailing.der" -- tg key add acme trailing.der --reason r
bad_input "key file that does not exist" "nokey.pem" -- tg key add acme nokey.pem --reason r
bad_input "directory as key file" "adir" -- tg key add acme adir --reason r

# --- weak and hostile keys (THREATS P2, P4, cases 29, 33, 40)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out r1024.pem 2>/dev/null
openssl pkey -in r1024.pem -pubout -out r1024.pub
bad_input "RSA-1024 refused" "r1024.pub: RSA modulus of 1024 bits" -- tg key add acme r1024.pub --reason r
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3 -out e3.pem 2>/dev/null
openssl pkey -in e3.pem -pubout -out e3.pub
bad_input "RSA e=3 refused" "e3.pub: RSA public exponent" -- tg key add acme e3.pub --reason r
for c in P-224 secp256k1 brainpoolP256r1 P-521; do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:$c -out $c.pem 2>/dev/null
	openssl pkey -in $c.pem -pubout -out $c.pub
	bad_input "curve $c refused" "$c.pub: elliptic curve" -- tg key add acme $c.pub --reason r
done
# RSA e=1 with a 2048-bit modulus, built as DER by hand (openssl will not).
n=$(openssl rsa -pubin -in good.pub -noout -modulus 2>/dev/null | cut -d= -f2)
printf "30820120300d06092a864886f70d01010105000382010d00308201080282010100%s020101" "$n" | xxd -r -p > e1.der
bad_input "RSA e=1 refused" "e1.der: RSA public exponent" -- tg key add acme e1.der --reason r
# Ed25519 identity (small order) and a non-canonical y >= p.
printf '302a300506032b65700321000100000000000000000000000000000000000000000000000000000000000000' | xxd -r -p > ed-id.der
bad_input "Ed25519 identity point refused" "small order" -- tg key add acme ed-id.der --reason r
printf '302a300506032b6570032100c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a' | xxd -r -p > ed-o8.der
bad_input "Ed25519 order-8 point refused" "small order" -- tg key add acme ed-o8.der --reason r
printf '302a300506032b6570032100edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f' | xxd -r -p > ed-nc.der
bad_input "Ed25519 non-canonical y refused" "not canonically encoded" -- tg key add acme ed-nc.der --reason r
# A P-256 point that is not on the curve.
printf '3059301306072a8648ce3d020106082a8648ce3d03010703420004%s' "$(printf '11%.0s' {1..64})" | xxd -r -p > offcurve.der
bad_input "EC point off the curve refused" "not on the curve" -- tg key add acme offcurve.der --reason r

# --- check inputs
: > empty.bin
bad_input "empty FILE" "empty.bin: file is empty" -- tg check empty.bin --sig fw.sig
head -c 200000 /dev/urandom > large.bin
bad_input "FILE and --sig swapped are named as such" "FILE and --sig swapped?" -- tg check fw.sig --sig large.bin
bad_input "FILE and --sig swapped (a small file as --sig)" "FILE and --sig swapped?" -- tg check fw.sig --sig fw.bin
bad_input "FILE that does not exist" "missing.bin" -- tg check missing.bin --sig fw.sig
bad_input "directory as FILE" "adir: is a directory" -- tg check adir --sig fw.sig
mkfifo fifo
bad_input "FIFO as FILE" "fifo: not a regular file" -- tg check fifo --sig fw.sig
: > empty.sig
bad_input "empty signature" "empty.sig: file is empty" -- tg check fw.bin --sig empty.sig
head -c 5 fw.sig > trunc.sig
bad_input "truncated signature" "trunc.sig" -- tg check fw.bin --sig trunc.sig
printf 'QUJD=RA==\n' > badb64.sig
bad_input "base64 with data after padding" "badb64.sig" -- tg check fw.bin --sig badb64.sig
bad_input "signature that does not exist" "nosig.sig" -- tg check fw.bin --sig nosig.sig
head -c 1000000 /dev/urandom > huge.sig
bad_input "oversized signature file" "huge.sig" -- tg check fw.bin --sig huge.sig
bad_input "unknown option" "--frobnicate" -- tg check fw.bin --frobnicate
bad_input "unknown command" "frobnicate" -- tg frobnicate
bad_input "bad --tier" "--tier" -- tg --tier 7 check fw.bin --sig fw.sig
bad_input "bad --version" "--version" -- tg check fw.bin --sig fw.sig --version 'x;drop'
bad_input "option given twice" "--sig given twice" -- tg check fw.bin --sig fw.sig --sig fw.sig
bad_input "missing FILE" "missing argument" -- tg check
printf '\xd0\x0d\xfe\xed' > fake.fit
bad_input "FIT with --sig: a FIT carries its own signatures" "fake.fit" -- tg check fake.fit --sig fw.sig

# A truncated signature shorter than a DER header but otherwise valid base64
# is still exit 2 with the file named; the record stays as it was.
n0=$(db_sql "select count(*) from verdict")
[ "$n0" -eq 0 ] && ok "no verdict recorded for any bad input" || bad "no verdict recorded for any bad input ($n0)"
# A "FIT" that is only the magic is an artifact to refuse, and recorded.
check_reason FIT_MALFORMED "a 4-byte 'FIT' is FIT_MALFORMED" -- fake.fit
