#!/usr/bin/env bash
# screenshot-windows.sh KUVERT_GUI_EXE OUTDIR [LANG]
# The desktop app's views as a Windows desktop shows them: kuvert-gui.exe
# under Wine (a prefix of its own in a temporary folder, with the
# ProcessPrng DLL Debian 12's Wine lacks, built here from
# windows/wine/processprng.c) and Xvfb, through screenshot.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
exe=$(realpath "$1"); out=$2; locale=${3:-sv_SE.UTF-8}
wine=${WINE:-/usr/lib/wine/wine64}
server=$(dirname "$wine")/wineserver64
[ -x "$server" ] || server=wineserver
pfx=$(mktemp -d)
export WINEPREFIX="$pfx" WINEDEBUG=-all WINEARCH=win64 WINEDLLOVERRIDES="mscoree,mshtml="
trap '"$server" -k 2>/dev/null || true; rm -rf "$pfx"' EXIT
"$wine" wineboot -i >/dev/null 2>&1
x86_64-w64-mingw32-gcc -O2 -shared -o "$pfx/drive_c/windows/system32/bcryptprimitives.dll" \
	windows/wine/processprng.c windows/wine/bcryptprimitives.def -ladvapi32
"$server" -w
"$server" -p
wrap="$pfx/kuvert-gui"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$wine" "$exe" > "$wrap"
chmod +x "$wrap"
./scripts/screenshot.sh "$wrap" "$out" "$locale"
