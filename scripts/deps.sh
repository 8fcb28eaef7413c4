#!/bin/bash
# Install the Debian packages trustgate builds and tests with, when missing.
# As root they are installed; otherwise the exact apt-get line is printed.
set -euo pipefail

PKGS=(
	build-essential pkg-config xxd
	libtss2-dev libgcrypt20-dev libksba-dev libarchive-dev libsqlite3-dev libfdt-dev libjson-c-dev libunistring-dev libmicrohttpd-dev libgnutls28-dev libcurl4-gnutls-dev libnss3-tools
	openssl sqlite3 gnupg gpgv time jq bc curl
	libpq-dev libpq5 postgresql-15 postgresql-common
	swtpm swtpm-tools tpm2-tools
	tar gzip bzip2 xz-utils zstd zip unzip cpio binutils dpkg libarchive-tools file git
	man-db chromium fonts-wqy-microhei u-boot-tools device-tree-compiler python3 pesign sbsigntool systemd-boot-efi linux-image-amd64 shim-signed
	qemu-system-x86 ovmf busybox-static mtools dosfstools
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "trustgate needs these Debian packages; run as root:" >&2
	echo "  apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q "${missing[@]}" >/dev/null; then
	apt-get update -q >/dev/null
	apt-get install -y -q "${missing[@]}" >/dev/null
fi
