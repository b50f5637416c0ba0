#!/usr/bin/env bash
# winres.sh VERSION: the Windows resources (icon and version information)
# of kuvert.exe and kuvert-gui.exe, as .syso files the Go linker picks up
# for GOOS=windows only. Made from cmd/kuvert-gui/Icon.png at build time;
# nothing made here is committed (.gitignore: *.syso).
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-0.1.0}"
# VERSIONINFO wants four numbers: the release's three and the commit count.
nums="$(printf '%s' "$version" | sed -E 's/^v//; s/[^0-9.].*$//')"
IFS=. read -r a b c _ <<<"${nums}.0.0.0"
build="$(git rev-list --count HEAD 2>/dev/null || echo 0)"
comma="${a:-0},${b:-0},${c:-0},${build}"
dotted="${a:-0}.${b:-0}.${c:-0}.${build}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
convert cmd/kuvert-gui/Icon.png -define icon:auto-resize=256,64,48,32,16 "$tmp/kuvert.ico"
for prog in kuvert kuvert-gui; do
	case "$prog" in
	kuvert) desc="kuvert – krypterade bilagor (kommandorad)" ;;
	*) desc="kuvert – krypterade bilagor" ;;
	esac
	cat >"$tmp/$prog.rc" <<RC
#pragma code_page(65001)
1 ICON "kuvert.ico"
1 VERSIONINFO
FILEVERSION $comma
PRODUCTVERSION $comma
FILEOS 0x40004
FILETYPE 0x1
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "041D04B0"
    BEGIN
      VALUE "CompanyName", "kuvert"
      VALUE "FileDescription", "$desc"
      VALUE "FileVersion", "$dotted"
      VALUE "InternalName", "$prog"
      VALUE "OriginalFilename", "$prog.exe"
      VALUE "ProductName", "kuvert"
      VALUE "ProductVersion", "$version"
      VALUE "LegalCopyright", "kuvert"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x041D, 1200
  END
END
RC
	(cd "$tmp" && x86_64-w64-mingw32-windres -c 65001 -O coff -o "$prog.syso" "$prog.rc")
	cp "$tmp/$prog.syso" "cmd/$prog/rsrc_windows_amd64.syso"
done
