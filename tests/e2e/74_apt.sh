#!/bin/bash
# Debian packages through their repository's signatures (issue 10 item 3):
# a small apt repository built here (dpkg-deb, gpg --clearsign), laid out as
# /var/lib/apt/lists is, and `check PKG.deb --apt-lists DIR`.  The approved
# chain first, then each forged twin.
. "$(dirname "$0")/lib.sh"
export GNUPGHOME=$WORK/gnupg
mkdir -m 700 "$GNUPGHOME"
gen() { gpg --batch --passphrase '' --quick-gen-key "$1" rsa3072 sign never >/dev/null 2>&1; }
gen "Example Archive Signing Key <archive@example.org>"
gen "Stranger <stranger@example.net>"
fpr_of() { gpg --with-colons --list-keys "$1" 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}'; }
ARCH=$(fpr_of archive@example.org) STRANGER=$(fpr_of stranger@example.net)
gpg --export "$ARCH" > archive.gpg

mkdeb() { # NAME VERSION OUT
	rm -rf "d-$1" && mkdir -p "d-$1/DEBIAN" "d-$1/usr/bin"
	printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: t <t@example.org>\nDescription: test\n' "$1" "$2" > "d-$1/DEBIAN/control"
	printf '#!/bin/sh\necho %s\n' "$1" > "d-$1/usr/bin/$1" && chmod 755 "d-$1/usr/bin/$1"
	ln -s "/usr/bin/$1" "d-$1/usr/bin/$1-link"
	dpkg-deb --root-owner-group -Zxz --build "d-$1" "$3" >/dev/null
}
stanza() { # DEB [VERSION-OVERRIDE]
	local deb=$1
	printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nFilename: pool/main/%s\nSize: %s\nSHA256: %s\nDescription: test\n\n' \
		"$(dpkg-deb -f "$deb" Package)" "${2:-$(dpkg-deb -f "$deb" Version)}" "$(basename "$deb")" \
		"$(stat -c %s "$deb")" "$(sha256sum "$deb" | cut -d' ' -f1)"
}
release() { # PACKAGES-FILE CODENAME [VALID-UNTIL]
	printf 'Origin: Example\nLabel: Example\nSuite: stable\nCodename: %s\nDate: %s\n' "$2" "$(date -u -R | sed 's/+0000/UTC/')"
	[ -n "${3:-}" ] && printf 'Valid-Until: %s\n' "$3"
	printf 'Architectures: amd64\nComponents: main\nSHA256:\n %s %s main/binary-amd64/Packages\n' \
		"$(sha256sum "$1" | cut -d' ' -f1)" "$(stat -c %s "$1")"
}
# lists DIR CODENAME KEY PACKAGES [VALID-UNTIL] [DISTNAME]: an apt lists folder
lists() {
	local dir=$1 code=$2 key=$3 pk=$4 vu=${5:-} dist=${6:-$2}
	rm -rf "$dir" && mkdir -p "$dir"
	release "$pk" "$code" "$vu" > "$dir.release"
	gpg --batch --yes -u "$key" --clearsign -o "$dir/example.org_repo_dists_${dist}_InRelease" "$dir.release" 2>/dev/null
	gzip -c "$pk" > "$dir/example.org_repo_dists_${dist}_main_binary-amd64_Packages.gz"
}

mkdeb tgdemo 1.0-1 tgdemo_1.0-1_amd64.deb
mkdeb other 2.0 other_2.0_amd64.deb
stanza tgdemo_1.0-1_amd64.deb > Packages
lists L trixie "$ARCH" Packages "$(date -u -R -d '+7 days' | sed 's/+0000/UTC/')"

tg db init >/dev/null
tg supplier add example --max-tier 3 --review SR-APT-1 --review-expires 2099-12-31 --reason "the archive" >/dev/null
expect 0 "key add takes the archive's OpenPGP key" -- tg key add example archive.gpg --purpose package --reason "archive key"
tg product add example tgdemo --kind package --reason r >/dev/null

check_ok "a package of the signed index: APPROVED at tier 3" -- tgdemo_1.0-1_amd64.deb --apt-lists L
printf '%s' "$LAST_OUT" | jq -e '.product == "tgdemo" and .version == "1.0-1" and .supplier == "example" and .apt.codename == "trixie" and .key.fingerprint == "'"$(echo "$ARCH" | tr A-F a-f)"'"' >/dev/null \
	&& ok "product, version and signer taken from the signed chain" || bad "apt verdict: $LAST_OUT"
check_ok "the same with --product/--version that agree" -- tgdemo_1.0-1_amd64.deb --apt-lists L --product tgdemo --version 1.0-01
check_reason APT_CONTROL_MISMATCH "--version that the index contradicts" -- tgdemo_1.0-1_amd64.deb --apt-lists L --version 1.0-2

# Forged twins.
check_reason APT_NOT_IN_INDEX "a .deb the index does not list" -- other_2.0_amd64.deb --apt-lists L
cp tgdemo_1.0-1_amd64.deb flipped.deb; printf '3' | dd of=flipped.deb bs=1 seek=68 conv=notrunc 2>/dev/null
check_reason APT_NOT_IN_INDEX "the package with one byte changed" -- flipped.deb --apt-lists L
{ cat Packages; stanza other_2.0_amd64.deb; } > Packages.more
cp -r L L2 && gzip -c Packages.more > L2/example.org_repo_dists_trixie_main_binary-amd64_Packages.gz
check_reason APT_INDEX_MISMATCH "an index changed after signing (a stanza added)" -- other_2.0_amd64.deb --apt-lists L2
lists L3 trixie "$ARCH" Packages "$(date -u -R -d '-1 day' | sed 's/+0000/UTC/')"
check_reason APT_RELEASE_EXPIRED "an InRelease past its Valid-Until" -- tgdemo_1.0-1_amd64.deb --apt-lists L3
lists L4 trixie "$STRANGER" Packages
check_reason APT_RELEASE_UNSIGNED "an InRelease signed by a key not in the records" -- tgdemo_1.0-1_amd64.deb --apt-lists L4
lists L5 bookworm "$ARCH" Packages "" trixie
check_reason APT_SUITE_MISMATCH "another codename's InRelease served as trixie" -- tgdemo_1.0-1_amd64.deb --apt-lists L5
cp -r L L6; printf 'Package: evil\n' >> L6/example.org_repo_dists_trixie_InRelease
check_reason APT_RELEASE_UNSIGNED "text after the signature block" -- tgdemo_1.0-1_amd64.deb --apt-lists L6
stanza tgdemo_1.0-1_amd64.deb 9.9 > Packages.lie; lists L7 trixie "$ARCH" Packages.lie
check_reason APT_CONTROL_MISMATCH "a signed index naming another version than the package's control file" -- tgdemo_1.0-1_amd64.deb --apt-lists L7
tg key revoke "$(echo "$ARCH" | tr A-F a-f)" --reason "archive key compromised" >/dev/null
check_reason KEY_REVOKED "the archive key revoked" -- tgdemo_1.0-1_amd64.deb --apt-lists L

# Not a package of the records: tier 3 needs the product, tier 1 warns
# (fresh records: the archive key above is revoked).
mkdeb unlisted 1.0 unlisted_1.0_amd64.deb
{ cat Packages; stanza unlisted_1.0_amd64.deb; } > Packages.u; lists L8 trixie "$ARCH" Packages.u
export TRUSTGATE_DB=$WORK/r2.db
tg db init >/dev/null
tg supplier add example --max-tier 3 --review SR-APT-1 --review-expires 2099-12-31 --reason "the archive" >/dev/null
tg key add example archive.gpg --purpose package --reason "archive key" >/dev/null
check_reason PRODUCT_UNKNOWN "tier 3: a package with no product record: PRODUCT_UNKNOWN" -- unlisted_1.0_amd64.deb --apt-lists L8
check_ok "tier 1: the same package approved on the chain alone (product unknown is a warning)" -- unlisted_1.0_amd64.deb --apt-lists L8 --tier 1

# Bad input: exit 2, one line, nothing written.
bad_input "--sig with --apt-lists" "two sources of the signature" -- tg check tgdemo_1.0-1_amd64.deb --sig archive.gpg --apt-lists L
echo data > blob.bin
bad_input "--apt-lists on a file that is not a .deb" "Debian packages (.deb) only" -- tg check blob.bin --apt-lists L
bad_input "--apt-lists on a folder with no InRelease" "no InRelease" -- tg check tgdemo_1.0-1_amd64.deb --apt-lists "$WORK/gnupg"
bad_input "--apt-lists on a missing folder" "cannot open the apt lists" -- tg check tgdemo_1.0-1_amd64.deb --apt-lists "$WORK/nosuch"
