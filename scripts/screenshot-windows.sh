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
# The clerk's files in their own Documents (Wine links it to the Unix
# home: a folder of the prefix's instead), handed to the app the way
# Explorer does: as Windows paths (C:\users\...\Documents\...); so are
# the folders named in the environment (a Unix path into drive_c is no
# path a Windows program is ever given).
docs="$pfx/drive_c/users/$(id -un)/Documents"
rm -f "$docs"; mkdir -p "$docs/Löner"
wrap="$pfx/kuvert-gui"
cat > "$wrap" <<EOF
#!/bin/sh
for a; do
	shift
	case "\$a" in /*) a=\$("$wine" winepath -w "\$a") ;; esac
	set -- "\$@" "\$a"
done
for v in KUVERT_HOME KUVERT_GUI_MANIFEST; do
	eval "p=\\\${\$v:-}"
	case "\$p" in /*) export "\$v=\$("$wine" winepath -w "\$p")" ;; esac
done
exec "$wine" "$exe" "\$@"
EOF
chmod +x "$wrap"
SHOT_WORK="$docs/Löner" ./scripts/screenshot.sh "$wrap" "$out" "$locale"
