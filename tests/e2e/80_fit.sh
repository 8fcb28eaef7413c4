#!/bin/bash
# FIT images (issue 5, THREATS section B): FITs made and signed by Debian's
# mkimage with keys made by openssl, keys imported from the control DTB
# mkimage writes, every signing algorithm mkimage offers, and the forged
# twins of THREATS 13-23 and 26 built with dtc, fdtput and fdtcraft.py.
. "$(dirname "$0")/lib.sh"
setup_supplier
tg product add acme board --kind firmware --reason "board firmware" >/dev/null
CRAFT="python3 $ROOT/tests/e2e/fdtcraft.py"
mkdir -p keys
head -c 200000 /dev/urandom > kernel.bin
head -c 3000 /dev/urandom > fdt.bin

rsakey() { # NAME BITS: keys/NAME.key + keys/NAME.crt, as mkimage -k wants them
	openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "keys/$1.key" 2>/dev/null
	openssl req -batch -new -x509 -key "keys/$1.key" -out "keys/$1.crt" -subj "/CN=$1" 2>/dev/null
}
# its OUT ALGO HINT [SIGPROPS] [IMAGESIG]: kernel + fdt, one configuration
# whose signature covers both (IMAGESIG: signature nodes on the images).
its() {
	local isig=""
	[ -n "${5:-}" ] && isig="signature-1 { algo = \"$2\"; key-name-hint = \"$3\"; };"
	cat > "$1" <<EOF
/dts-v1/;
/ {
	description = "board firmware";
	#address-cells = <1>;
	images {
		kernel {
			description = "kernel";
			data = /incbin/("kernel.bin");
			type = "kernel"; arch = "arm64"; os = "linux"; compression = "none";
			load = <0x80000>; entry = <0x80000>;
			hash-1 { algo = "sha256"; };
			$isig
		};
		fdt-1 {
			data = /incbin/("fdt.bin");
			type = "flat_dt"; arch = "arm64"; compression = "none";
			hash-1 { algo = "sha256"; };
			$isig
		};
	};
	configurations {
		default = "conf-1";
		conf-1 {
			kernel = "kernel"; fdt = "fdt-1";
			signature-1 { algo = "$2"; key-name-hint = "$3"; sign-images = "kernel", "fdt"; ${4:-} };
		};
	};
};
EOF
}
emptydtb() { printf '/dts-v1/;\n/ { model = "control"; };\n' | dtc -I dts -O dtb -o "$1" - 2>/dev/null; }
fitreason() { # CODE NAME FILE [args]
	local code=$1 name=$2 file=$3; shift 3
	check_reason "$code" "$name" -- "$file" --product board --version 1.0 "$@"
}
fitok() { local name=$1 file=$2; shift 2; check_ok "$name" -- "$file" --product board --version 1.0 "$@"; }
# fdtput writes back only the tree: on external-data FITs edit the tree and
# put the data back (relative data-offset, or absolute data-position POS).
fdtput_rel() { local f=$1; shift; $CRAFT split "$f" "$f.t" "$f.d" && fdtput "$f.t" "$@" && $CRAFT join "$f.t" "$f.d" "$f"; }
fdtput_abs() { local f=$1 pos=$2; shift 2; $CRAFT split "$f" "$f.t" "$f.d" "$pos" && fdtput "$f.t" "$@" && $CRAFT join "$f.t" "$f.d" "$f" "$pos"; }

# --- the main key: RSA-2048 in a control DTB, required for configurations
rsakey prod 2048
emptydtb ctl.dtb
its good.its sha256,rsa2048 prod
mkimage -f good.its -k keys -K ctl.dtb -r good.fit >/dev/null || bad "mkimage good.fit"
fdtget ctl.dtb /signature/key-prod required | grep -q conf && ok "mkimage -r wrote a required key into the control DTB" || bad "ctl.dtb"
expect 0 "key add reads the control DTB" -- tg key add acme ctl.dtb --reason "U-Boot control DTB"
prodfpr=$(openssl x509 -in keys/prod.crt -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
tg --json key list acme | jq -e --arg f "$prodfpr" '.[] | select(.fingerprint == $f and .purposes == "firmware" and .hashes == "sha256" and .name == "prod")' >/dev/null \
	&& ok "DTB key: fingerprint equals openssl's for the same key, firmware purpose, pinned to sha256" || bad "DTB key record"
fitok "signed FIT (sha256,rsa2048, required key) approved" good.fit
printf '%s' "$LAST_OUT" | jq -e '.kind == "fit" and .key.fingerprint == "'"$prodfpr"'"' >/dev/null && ok "verdict names the DTB key as signer" || bad "signer: $LAST_OUT"
# Another process holds the file open for writing: no read lease, so the
# FIT is copied rather than mapped; same verdict.
exec 3>>good.fit
fitok "FIT open for writing elsewhere (copied, not mapped): approved" good.fit
exec 3>&-
expect 0 "fit show" -- tg --json fit show good.fit
printf '%s' "$LAST_OUT" | jq -e '(.images | length) == 2 and .default == "conf-1" and .configurations[0].signatures[0].checkable and ([.images[].hashes[].match] | all)' >/dev/null \
	&& ok "fit show: images, default configuration, hashes matched, signature checkable" || bad "fit show json"
expect 0 "fit show (text)" -- tg fit show good.fit

# Forged twins of the good FIT.
n=$(stat -c %s good.fit)
off=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().find(open(sys.argv[2], "rb").read()[:64]))' good.fit kernel.bin)
flip good.fit $((off + 1000)) data.fit
fitreason FIT_HASH_MISMATCH "one byte of kernel data changed: FIT_HASH_MISMATCH" data.fit
cp good.fit load.fit; fdtput -t x load.fit /images/kernel load 0x90000
fitreason FIT_SIG_INVALID "signed property (load address) changed: the signature no longer verifies" load.fit
cp good.fit comp.fit; fdtput -t s comp.fit /images/kernel compression gzip
fitreason FIT_SIG_INVALID "compression changed: refused" comp.fit
cp good.fit entry.fit; fdtput -t x entry.fit /images/kernel entry 0x0
fitreason FIT_SIG_INVALID "entry point changed: refused" entry.fit
# THREATS 26: appended bytes.
cp good.fit tail.fit; printf 'EVIL' >> tail.fit
fitreason FIT_MALFORMED "bytes appended after the FIT: FIT_MALFORMED" tail.fit
# Another key signs a copy: not in the records.
rsakey rogue 2048; sed 's/"prod"/"rogue"/' good.its > rogue.its
mkimage -f rogue.its -k keys rogue.fit >/dev/null
fitreason FIT_SIG_INVALID "FIT signed by a key not in the records: FIT_SIG_INVALID" rogue.fit
# Unsigned.
grep -v 'signature-1' good.its > unsigned.its; mkimage -f unsigned.its unsigned.fit >/dev/null
fitreason FIT_UNSIGNED "unsigned FIT: FIT_UNSIGNED" unsigned.fit

# --- THREATS 13: an unsigned kernel@1 beside the signed kernel.
cp good.fit at.fit; fdtput -c at.fit /images/kernel@1 && fdtput -t s at.fit /images/kernel@1 type kernel
fitreason FIT_MALFORMED "unit address node kernel@1 (CVE-2021-27138): FIT_MALFORMED" at.fit
printf '%s' "$LAST_OUT" | jq -e '.reasons[0].detail | test("unit address")' >/dev/null && ok "detail names the unit address" || bad "at detail"
# --- THREATS 14: named root, second root.
$CRAFT named-root good.fit nroot.fit; fitreason FIT_MALFORMED "named root node: FIT_MALFORMED" nroot.fit
$CRAFT second-root good.fit sroot.fit; fitreason FIT_MALFORMED "second root node (CVE-2021-27097): FIT_MALFORMED" sroot.fit
# --- THREATS 15: clone conf-1 as conf-2 (signature intact) pointing at an
# unsigned kernel, and make it the default.
cp good.fit forge.fit
printf 'evil kernel' > evil.bin
fdtput -c forge.fit /images/kernel-2 /images/kernel-2/hash-1 /configurations/conf-2 /configurations/conf-2/signature-1
fdtput -t bx forge.fit /images/kernel-2 data $(od -An -tx1 evil.bin)
fdtput -t s forge.fit /images/kernel-2 type kernel
fdtput -t s forge.fit /images/kernel-2 compression none
fdtput -t s forge.fit /images/kernel-2/hash-1 algo sha256
fdtput -t bx forge.fit /images/kernel-2/hash-1 value $(sha256sum evil.bin | cut -c1-64 | sed 's/../& /g')
fdtput -t s forge.fit /configurations/conf-2 kernel kernel-2
fdtput -t s forge.fit /configurations/conf-2 fdt fdt-1
for p in algo key-name-hint; do fdtput -t s forge.fit /configurations/conf-2/signature-1 $p "$(fdtget good.fit /configurations/conf-1/signature-1 $p)"; done
for p in value hashed-strings; do fdtput -t bx forge.fit /configurations/conf-2/signature-1 $p $(fdtget -t bx good.fit /configurations/conf-1/signature-1 $p); done
fdtput -t s forge.fit /configurations default conf-2
[ "$(fdtget forge.fit /configurations default)" = conf-2 ] && ok "forged default configuration built (input right)" || bad "forge input"
fitreason FIT_KEY_REQUIRED "cloned conf-2 pointing at an unsigned kernel, made default (CVE-2020-10648): refused" forge.fit
printf '%s' "$LAST_OUT" | jq -e '[.reasons[].code] == ["FIT_KEY_REQUIRED"]' >/dev/null && ok "conf-1 still verifies: the refusal is conf-2's alone" || bad "forge reasons: $(printf '%s' "$LAST_OUT" | jq -c .reasons)"
printf '%s' "$LAST_OUT" | jq -e '[.reasons[].detail] | join(" ") | test("conf-2")' >/dev/null && ok "reason names conf-2" || bad "forge detail: $LAST_OUT"
# --- THREATS 16: hashed-nodes is not read.  Narrowing it changes nothing
# (still approved); narrowing it and changing a kernel property is refused.
cp good.fit hn.fit; fdtput -t s hn.fit /configurations/conf-1/signature-1 hashed-nodes / /configurations/conf-1
fitok "hashed-nodes rewritten alone: still approved (it is never read)" hn.fit
cp hn.fit hn2.fit; fdtput -t x hn2.fit /images/kernel load 0x1000
fitreason FIT_SIG_INVALID "hashed-nodes narrowed + kernel load changed: refused" hn2.fit
# --- THREATS 17: default pointing nowhere.
cp good.fit def.fit; fdtput -t s def.fit /configurations default conf-9
fitreason FIT_MALFORMED "default names no configuration: FIT_MALFORMED" def.fit
# --- THREATS 18: hashed-strings truncated, overflowing, in bounds but short.
ss=$(fdtget -t x good.fit /configurations/conf-1/signature-1 hashed-strings | awk '{print $2}')
strsize=$(python3 -c "import struct;print(struct.unpack('>10I',open('good.fit','rb').read()[:40])[8])")
cp good.fit hs1.fit; fdtput -t x hs1.fit /configurations/conf-1/signature-1 hashed-strings 0
fitreason FIT_SIG_INVALID "hashed-strings truncated to one cell: refused" hs1.fit
printf '%s' "$LAST_OUT" | jq -e '.reasons[] | select(.code == "FIT_SIG_INVALID") | .detail | test("hashed-strings")' >/dev/null && ok "detail: invalid hashed-strings" || bad "hs1 detail"
cp good.fit hs2.fit; fdtput -t x hs2.fit /configurations/conf-1/signature-1 hashed-strings 0 $(printf '%x' $((strsize + 1)))
fitreason FIT_SIG_INVALID "hashed-strings past the strings block: refused" hs2.fit
cp good.fit hs3.fit; fdtput -t x hs3.fit /configurations/conf-1/signature-1 hashed-strings 0 $(printf '%x' $((0x$ss - 8)))
fitreason FIT_SIG_INVALID "hashed-strings in bounds but short: refused" hs3.fit
# --- THREATS 19: external data (mkimage -E), good and out of bounds.
mkimage -E -f good.its -k keys ext.fit >/dev/null
fdtget ext.fit /images/kernel data-offset >/dev/null && ok "mkimage -E made external data" || bad "ext input"
fitok "external-data FIT approved" ext.fit
mkimage -E -p 0x2000 -f good.its -k keys extp.fit >/dev/null
fdtget extp.fit /images/kernel data-position >/dev/null && fitok "external data at a fixed position (-E -p) approved" extp.fit || bad "extp input"
cp ext.fit ext-same.fit; fdtput_rel ext-same.fit -t s /configurations default conf-1
fitok "external-data FIT edited with split/fdtput/join, nothing signed changed: still approved (test tooling right)" ext-same.fit
for v in 0xffffffff 0x7fffffff $(printf '0x%x' $(( $(stat -c %s ext.fit) ))); do
	cp ext.fit eo.fit; fdtput_rel eo.fit -t x /images/kernel data-offset "${v#0x}"
	fitreason FIT_MALFORMED "data-offset $v: out of bounds" eo.fit
done
cp ext.fit es.fit; fdtput_rel es.fit -t x /images/kernel data-size ffffffff
fitreason FIT_MALFORMED "data-size 0xffffffff: out of bounds" es.fit
# In bounds but wrong: the two images' positions and sizes swapped.
kp=$(fdtget extp.fit /images/kernel data-position); ks=$(fdtget extp.fit /images/kernel data-size)
fp=$(fdtget extp.fit /images/fdt-1 data-position); fs=$(fdtget extp.fit /images/fdt-1 data-size)
cp extp.fit sw.fit; fdtput_abs sw.fit 0x2000 /images/kernel data-position "$fp"; fdtput_abs sw.fit 0x2000 /images/kernel data-size "$fs"
fdtput_abs sw.fit 0x2000 /images/fdt-1 data-position "$kp"; fdtput_abs sw.fit 0x2000 /images/fdt-1 data-size "$ks"
fitreason FIT_HASH_MISMATCH "external data swapped between images (in bounds): FIT_HASH_MISMATCH" sw.fit
cp extp.fit es2.fit; fdtput_abs es2.fit 0x2000 /images/kernel data-size $((ks - 4))
fitreason FIT_MALFORMED "data-size shortened: the bytes left over belong to no image" es2.fit
cp extp.fit ep.fit; fdtput_abs ep.fit 0x2000 -t x /images/kernel data-position ffffffff
fitreason FIT_MALFORMED "data-position 0xffffffff: out of bounds" ep.fit
# --- THREATS 20: totalsize above the file, above the 256 MiB limit.
$CRAFT totalsize good.fit ts1.fit $(( $(stat -c %s good.fit) + 1 )); fitreason FIT_MALFORMED "totalsize one past the file" ts1.fit
$CRAFT totalsize good.fit ts2.fit 0x10000001; fitreason FIT_MALFORMED "totalsize above 256 MiB" ts2.fit
# --- THREATS 21: deep nesting; hashed-nodes without a terminating NUL.
cp good.fit deep.fit; fdtput -c -p deep.fit /images/kernel/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q 2>/dev/null
fitreason FIT_MALFORMED "nodes nested 20 deep: FIT_MALFORMED" deep.fit
cp good.fit hnn.fit; fdtput -t bx hnn.fit /configurations/conf-1/signature-1 hashed-nodes 2f 69 6d
fitok "hashed-nodes without a NUL: never read, no crash" hnn.fit
# --- THREATS 22a: a FIT carrying its own key, signed by that key.
cp rogue.fit ownkey.fit; fdtput -c -p ownkey.fit /signature/key-rogue && fdtput -t s ownkey.fit /signature/key-rogue algo sha256,rsa2048
fitreason FIT_SIG_INVALID "FIT embedding its own /signature key: keys come only from the records" ownkey.fit
# --- md5 and crc32-only images.
sed 's/algo = "sha256"; };/algo = "md5"; };/' good.its > md5.its; mkimage -f md5.its -k keys md5.fit >/dev/null 2>&1
[ -f md5.fit ] && fitreason WEAK_ALGORITHM "md5 hash node: WEAK_ALGORITHM" md5.fit || skip "mkimage made no md5 FIT"
sed 's/algo = "sha256"; };/algo = "crc32"; };/' good.its > crc.its; mkimage -f crc.its -k keys crc.fit >/dev/null 2>&1
fitreason WEAK_ALGORITHM "images protected by crc32 only: WEAK_ALGORITHM" crc.fit

# --- THREATS 23 / required keys: a dev key beside the required prod key;
# two required keys in "all" and "any" mode (separate suppliers).
rsakey dev 2048; sed 's/"prod"/"dev"/' good.its > dev.its; mkimage -f dev.its -k keys dev.fit >/dev/null
openssl x509 -in keys/dev.crt -pubkey -noout > dev.pub
tg key add acme dev.pub --purpose firmware --hash sha256 --reason "developer key" >/dev/null
fitreason FIT_KEY_REQUIRED "signed by a known but non-required key where a required one exists: FIT_KEY_REQUIRED" dev.fit
mode_case() { # MODE SUPPLIER
	tg supplier add "$2" --country CN --max-tier 5 --cii --review SR-2 --review-expires 2099-12-31 --reason r >/dev/null
	tg product add "$2" "board-$1" --kind firmware --reason r >/dev/null
	rsakey "k1$1" 3072; rsakey "k2$1" 3072; emptydtb "m$1.dtb"
	sed -e "s/sha256,rsa2048/sha384,rsa3072/" -e "s/\"prod\"/\"k1$1\"/" good.its > "m1$1.its"
	sed -e "s/sha256,rsa2048/sha384,rsa3072/" -e "s/\"prod\"/\"k2$1\"/" good.its > "m2$1.its"
	mkimage -f "m1$1.its" -k keys -K "m$1.dtb" -r "one$1.fit" >/dev/null
	mkimage -f "m2$1.its" -k keys -K "m$1.dtb" -r "two$1.fit" >/dev/null
	fdtput -t s "m$1.dtb" /signature required-mode "$1"
	tg key add "$2" "m$1.dtb" --reason "two required keys, mode $1" >/dev/null
}
mode_case all vendor-all
check_reason FIT_KEY_REQUIRED "required-mode all, one of two required keys signed: FIT_KEY_REQUIRED" -- oneall.fit --product board-all --version 1.0
mode_case any vendor-any
check_ok "required-mode any, one of two required keys signed: approved" -- oneany.fit --product board-any --version 1.0
# A configuration signed by both required keys passes "all".
sed -e "s/sha256,rsa2048/sha384,rsa3072/" -e 's/"prod"; sign-images = "kernel", "fdt";  }/"k1all"; sign-images = "kernel", "fdt"; }; signature-2 { algo = "sha384,rsa3072"; key-name-hint = "k2all"; sign-images = "kernel", "fdt"; }/' good.its > both.its
mkimage -f both.its -k keys both.fit >/dev/null
check_ok "required-mode all, both required keys signed: approved" -- both.fit --product board-all --version 1.0

# --- image signatures with a key required for images.
rsakey img 2048; emptydtb img.dtb
cat > imgs.its <<EOF
/dts-v1/;
/ {
	images {
		kernel {
			data = /incbin/("kernel.bin");
			type = "kernel"; arch = "arm64"; os = "linux"; compression = "none";
			hash-1 { algo = "sha256"; };
			signature-1 { algo = "sha256,rsa2048"; key-name-hint = "img"; };
		};
		fdt-1 {
			data = /incbin/("fdt.bin");
			type = "flat_dt"; arch = "arm64"; compression = "none";
			hash-1 { algo = "sha256"; };
			signature-1 { algo = "sha256,rsa2048"; key-name-hint = "img"; };
		};
	};
	configurations {
		default = "conf-1";
		conf-1 { kernel = "kernel"; fdt = "fdt-1"; };
	};
};
EOF
# mkimage signs and writes the key, then its own self-check of the
# unsigned configuration fails (exit 1): the files are what matters.
mkimage -f imgs.its -k keys -K img.dtb -r imgs.fit >/dev/null 2>&1
[ "$(fdtget img.dtb /signature/key-img required)" = image ] && ok "mkimage wrote a key required for images" || bad "img.dtb"
tg supplier add imgvendor --country CN --max-tier 5 --review SR-3 --review-expires 2099-12-31 --reason r >/dev/null
tg product add imgvendor board-img --kind firmware --reason r >/dev/null
tg key add imgvendor img.dtb --reason "image-required key" >/dev/null
check_ok "image signatures by a key required for images: approved" -- imgs.fit --product board-img --version 1.0
cp imgs.fit imgs2.fit; fdtput -r imgs2.fit /images/fdt-1/signature-1
check_reason FIT_KEY_REQUIRED "one image's signature removed: FIT_KEY_REQUIRED" -- imgs2.fit --product board-img --version 1.0

# --- every algorithm mkimage makes (non-required keys of one supplier).
tg supplier add matrix --country CN --max-tier 5 --review SR-4 --review-expires 2099-12-31 --reason r >/dev/null
tg product add matrix board-m --kind firmware --reason r >/dev/null
for bits in 2048 3072 4096; do rsakey "m$bits" "$bits"; done
for bits in 2048 3072 4096; do
	emptydtb "mx$bits.dtb"
	for h in sha1 sha256 sha384 sha512; do
		for pad in pkcs-1.5 pss; do
			p=""; [ "$pad" = pss ] && p='padding = "pss";'
			sed -e "s/sha256,rsa2048/$h,rsa$bits/" -e "s/\"prod\"/\"m$bits\"/" -e "s/sign-images = \"kernel\", \"fdt\";/sign-images = \"kernel\", \"fdt\"; $p/" good.its > mx.its
			mkimage -f mx.its -k keys -K "mx$bits.dtb" "mx-$h-$bits-$pad.fit" >/dev/null 2>&1 || bad "mkimage $h,rsa$bits $pad"
		done
	done
done
for bits in 2048 3072 4096; do
	for h in sha1 sha256 sha384 sha512; do
		openssl x509 -in "keys/m$bits.crt" -pubkey -noout > "m$bits.pub"
	done
done
for bits in 2048 3072 4096; do
	tg key add matrix "m$bits.pub" --purpose firmware --hash sha1,sha256,sha384,sha512 --reason "matrix $bits" >/dev/null
done
for bits in 2048 3072 4096; do
	for h in sha1 sha256 sha384 sha512; do
		for pad in pkcs-1.5 pss; do
			check_ok "mkimage $h,rsa$bits $pad approved (tier 2)" -- "mx-$h-$bits-$pad.fit" --product board-m --version 1.0 --tier 2
		done
	done
done
check_reason WEAK_ALGORITHM "sha1,rsa2048 at tier 3: WEAK_ALGORITHM" -- mx-sha1-2048-pkcs-1.5.fit --product board-m --version 1.0 --tier 3
# Relabelled padding: a PKCS#1 v1.5 signature whose node says pss.
cp mx-sha256-2048-pkcs-1.5.fit relabel.fit; fdtput -t s relabel.fit /configurations/conf-1/signature-1 padding pss
check_reason FIT_SIG_INVALID "PKCS#1 v1.5 signature relabelled as PSS: refused" -- relabel.fit --product board-m --version 1.0 --tier 2
# THREATS 22b: the algorithm is pinned by the key record (prod: sha256).
sed 's/sha256,rsa2048/sha1,rsa2048/' good.its > s1.its; mkimage -f s1.its -k keys -K ctl.dtb -r s1.fit >/dev/null 2>&1
fitreason WEAK_ALGORITHM "sha1,rsa2048 by a key pinned to sha256: WEAK_ALGORITHM" s1.fit --tier 2
# ECDSA P-256 (mkimage signs with it; its 2023.01 cannot export the key to a
# DTB, so the key comes in as PEM) and a DTB written with dtc.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out keys/ec.pem 2>/dev/null
sed -e 's/sha256,rsa2048/sha256,ecdsa256/' -e 's/"prod"/"ec"/' good.its > ec.its
mkimage -f ec.its -G keys/ec.pem ec.fit >/dev/null 2>&1 || bad "mkimage ecdsa256"
openssl pkey -in keys/ec.pem -pubout -out ec.pub
tg key add matrix ec.pub --purpose firmware --reason "ecdsa" >/dev/null
check_ok "mkimage sha256,ecdsa256 approved" -- ec.fit --product board-m --version 1.0
cp ec.fit ec-bad.fit
v=$(fdtget -t bx ec.fit /configurations/conf-1/signature-1 value); first=${v%% *}
fdtput -t bx ec-bad.fit /configurations/conf-1/signature-1 value $(printf '%02x' $(( (0x$first + 1) % 256 ))) ${v#* }
check_reason FIT_SIG_INVALID "ecdsa256 FIT with a changed signature byte: refused" -- ec-bad.fit --product board-m --version 1.0
xy=$(openssl pkey -in keys/ec.pem -pubout -outform DER | tail -c 64 | od -An -tx1 | tr -d ' \n')
x=$(echo "$xy" | cut -c1-64 | sed 's/......../0x& /g'); y=$(echo "$xy" | cut -c65-128 | sed 's/......../0x& /g')
printf '/dts-v1/;\n/ { signature { key-ec { algo = "sha256,ecdsa256"; required = "conf"; key-name-hint = "ec"; ecdsa,curve = "prime256v1"; ecdsa,x-point = <%s>; ecdsa,y-point = <%s>; }; }; };\n' "$x" "$y" | dtc -I dts -O dtb -o ecctl.dtb - 2>/dev/null
tg supplier add ecvendor --country CN --max-tier 5 --review SR-5 --review-expires 2099-12-31 --reason r >/dev/null
expect 2 "the same ECDSA key again (from a DTB) is refused as a duplicate" -- tg key add ecvendor ecctl.dtb --reason "ec dtb"
grep -q "already" "$WORK/.stderr" && ok "duplicate DTB key: the fingerprint matched the PEM import" || bad "ecdsa dtb: $(cat "$WORK/.stderr")"

# --- bad input: exit 2, one line, records unchanged.
cp ctl.dtb badrr.dtb; fdtput -t x badrr.dtb /signature/key-prod rsa,n0-inverse 12345
tg supplier add other --country CN --max-tier 5 --review SR-6 --review-expires 2099-12-31 --reason r >/dev/null
bad_input "control DTB whose n0-inverse does not belong to the modulus" "badrr.dtb" -- tg key add other badrr.dtb --reason r
cp ctl.dtb badreq.dtb; fdtput -t s badreq.dtb /signature/key-prod required always
bad_input "control DTB with required = always" "badreq.dtb" -- tg key add other badreq.dtb --reason r
emptydtb nokeys.dtb
bad_input "DTB without /signature" "nokeys.dtb" -- tg key add other nokeys.dtb --reason r
bad_input "control DTB with --purpose package" "firmware keys" -- tg key add other ctl.dtb --purpose package --reason r
echo "not a fit" > notfit.bin
bad_input "fit show on a file that is not a FIT" "notfit.bin" -- tg fit show notfit.bin
bad_input "fit show on a FIT with bad structure" "sroot.fit" -- tg fit show sroot.fit
bad_input "check FIT --sig: a FIT carries its own signatures" "good.fit" -- tg check good.fit --sig good.fit
expect 0 "audit chain intact after the FIT checks" -- tg audit verify
