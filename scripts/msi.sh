#!/usr/bin/env bash
# msi.sh OUT.msi: kuvert's Windows Installer package from
# windows/msi/kuvert.wxs with msitools' wixl, signed with osslsigncode when
# a code-signing certificate is given. `make msi` runs it; so do the tests
# in windows/msi.
#
# Environment:
#   VERSION             the release (a tag like v1.4.2, or a commit); the
#                       MSI's ProductVersion is its first three numbers,
#                       or 0.0.<commit count> when it has none
#   MSI_VERSION         the ProductVersion itself, overriding the above
#   WIN_BIN             folder with kuvert.exe and kuvert-gui.exe (bin)
#   KUVERT              the kuvert program for this machine, which writes
#                       the recipient page (bin/kuvert; `kuvert opener`)
#   SIGN_PKCS12         the organisation's certificate and key, PKCS#12
#   SIGN_CERT, SIGN_KEY or the two as PEM files (chain in SIGN_CERT)
#   KUVERT_SIGN_PASSWORD  the key's password; handed to osslsigncode in a
#                       0600 file (-readpass), never on a command line
#   SIGN_TIMESTAMP_URL  an RFC 3161 time-stamping service, so signatures
#                       stay valid after the certificate expires
# Nothing made here is committed; the staging folder is removed.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf 'msi: %s\n' "$*" >&2; exit 2; }

out="${1:?usage: scripts/msi.sh OUT.msi}"
win_bin="${WIN_BIN:-bin}"
kuvert="${KUVERT:-bin/kuvert}"

# Windows Installer compares major.minor.build only (major and minor at
# most 255, build at most 65535); a fourth number is ignored in upgrades.
msi_version="${MSI_VERSION:-}"
if [ -z "$msi_version" ]; then
	v="${VERSION:-}"
	v="${v#v}"
	if [[ "$v" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+) ]]; then
		msi_version="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
	else
		msi_version="0.0.$(git rev-list --count HEAD 2>/dev/null || echo 0)"
	fi
fi
[[ "$msi_version" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] &&
	[ "${BASH_REMATCH[1]}" -le 255 ] && [ "${BASH_REMATCH[2]}" -le 255 ] && [ "${BASH_REMATCH[3]}" -le 65535 ] ||
	die "ogiltig MSI-version $msi_version: tre tal, högst 255.255.65535 / invalid MSI version $msi_version: three numbers, at most 255.255.65535"

for f in "$win_bin/kuvert.exe" "$win_bin/kuvert-gui.exe"; do
	[ -f "$f" ] || die "$f saknas: kör make windows / $f is missing: run make windows"
done
[ -x "$kuvert" ] || die "$kuvert saknas: kör make build / $kuvert is missing: run make build"
command -v wixl >/dev/null || die "wixl saknas: kör make deps-windows / wixl is missing: run make deps-windows"
command -v convert >/dev/null || die "convert (ImageMagick) saknas: kör make deps-windows / convert (ImageMagick) is missing: run make deps-windows"

# Signing: PKCS#12, or PEM certificate and key, or nothing (and say so).
sign_args=()
if [ -n "${SIGN_PKCS12:-}" ]; then
	[ -z "${SIGN_CERT:-}${SIGN_KEY:-}" ] || die "ange antingen SIGN_PKCS12 eller SIGN_CERT och SIGN_KEY / give either SIGN_PKCS12 or SIGN_CERT and SIGN_KEY"
	[ -r "$SIGN_PKCS12" ] || die "kan inte läsa SIGN_PKCS12=$SIGN_PKCS12 / cannot read SIGN_PKCS12=$SIGN_PKCS12"
	sign_args=(-pkcs12 "$SIGN_PKCS12")
elif [ -n "${SIGN_CERT:-}${SIGN_KEY:-}" ]; then
	[ -n "${SIGN_CERT:-}" ] && [ -n "${SIGN_KEY:-}" ] || die "SIGN_CERT och SIGN_KEY behövs båda / SIGN_CERT and SIGN_KEY are both needed"
	[ -r "$SIGN_CERT" ] || die "kan inte läsa SIGN_CERT=$SIGN_CERT / cannot read SIGN_CERT=$SIGN_CERT"
	[ -r "$SIGN_KEY" ] || die "kan inte läsa SIGN_KEY=$SIGN_KEY / cannot read SIGN_KEY=$SIGN_KEY"
	sign_args=(-certs "$SIGN_CERT" -key "$SIGN_KEY")
fi
if [ ${#sign_args[@]} -gt 0 ]; then
	command -v osslsigncode >/dev/null || die "osslsigncode saknas: kör make deps-windows / osslsigncode is missing: run make deps-windows"
fi

mkdir -p "$(dirname "$out")"
umask 077
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

if [ ${#sign_args[@]} -gt 0 ]; then
	if [ -n "${KUVERT_SIGN_PASSWORD:-}" ]; then
		# printf is a shell builtin: the password is in no process's
		# argument list, only in this 0600 file inside a 0700 folder.
		printf '%s' "$KUVERT_SIGN_PASSWORD" >"$stage/pass"
		sign_args+=(-readpass "$stage/pass")
	fi
	sign_args+=(-h sha256 -n kuvert -i https://github.com/kuvert-app/kuvert)
	if [ -n "${SIGN_TIMESTAMP_URL:-}" ]; then
		sign_args+=(-ts "$SIGN_TIMESTAMP_URL")
	fi
fi

# sign IN OUT: an Authenticode signature on an exe or an MSI.
sign() {
	local log
	if ! log="$(osslsigncode sign "${sign_args[@]}" -in "$1" -out "$2" 2>&1)"; then
		printf '%s\n' "$log" >&2
		die "kunde inte signera $(basename "$1") / could not sign $(basename "$1")"
	fi
}

mkdir -p "$stage/files/policy/en-US" "$stage/files/policy/sv-SE"
for exe in kuvert.exe kuvert-gui.exe; do
	if [ ${#sign_args[@]} -gt 0 ]; then
		sign "$win_bin/$exe" "$stage/files/$exe"
	else
		cp "$win_bin/$exe" "$stage/files/$exe"
	fi
done
"$kuvert" opener -o "$stage/files/oppna.html" >"$stage/opener.log" 2>&1 || { cat "$stage/opener.log" >&2; die "kunde inte skriva mottagarsidan / could not write the recipient page"; }
# The icon Apps & features shows, as scripts/winres.sh makes the programs'
# (a whole .exe as the MSI's icon would store it a second time).
convert cmd/kuvert-gui/Icon.png -define icon:auto-resize=64,48,32,16 "$stage/files/kuvert.ico"
cp windows/policy/kuvert.admx "$stage/files/policy/"
cp windows/policy/en-US/kuvert.adml "$stage/files/policy/en-US/"
cp windows/policy/sv-SE/kuvert.adml "$stage/files/policy/sv-SE/"

# wixl 0.101 resolves Source paths against the working folder only.
wxs="$PWD/windows/msi/kuvert.wxs"
(cd "$stage" && wixl -a x64 -D Version="$msi_version" -D SourceDir=files -o built.msi "$wxs" 2>wixl.log) || {
	cat "$stage/wixl.log" >&2
	die "wixl kunde inte bygga MSI-paketet / wixl could not build the MSI"
}

mkdir -p "$(dirname "$out")"
if [ ${#sign_args[@]} -gt 0 ]; then
	sign "$stage/built.msi" "$stage/signed.msi"
	mv "$stage/signed.msi" "$stage/out.msi"
	printf 'msi: %s (%s), signerat / signed\n' "$out" "$msi_version" >&2
else
	mv "$stage/built.msi" "$stage/out.msi"
	printf 'msi: %s (%s) är OSIGNERAT: ange SIGN_PKCS12 (eller SIGN_CERT och SIGN_KEY) för att signera / is UNSIGNED: give SIGN_PKCS12 (or SIGN_CERT and SIGN_KEY) to sign it\n' "$out" "$msi_version" >&2
fi
chmod 644 "$stage/out.msi"
mv "$stage/out.msi" "$out"
