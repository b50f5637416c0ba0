#!/usr/bin/env bash
# screenshot.sh GUI_BINARY OUTDIR [LANG]
# Starts the real desktop app under Xvfb once per view and saves
# OUTDIR/<view>.png (seal, seal-filled, seal-done, batch, open, log, settings). The app runs
# on a throw-away KUVERT_HOME with the demo SMS provider; nothing leaves
# the machine. Used by `make screenshot` (docs/screenshots) and by
# `make test` as a smoke test of the real binary (fails if the window
# does not come up or renders blank).
set -euo pipefail
bin=$(realpath "$1"); out=$(realpath -m "$2"); locale=${3:-sv_SE.UTF-8}
mkdir -p "$out"
# SHOT_WORK: an empty folder of the caller's for the files and home
# (screenshot-windows.sh: one inside the Wine prefix, as a clerk's own).
if [ -n "${SHOT_WORK:-}" ]; then work=$SHOT_WORK; mkdir -p "$work"; else work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
# The app's language follows these (read from the environment; the
# locale need not be installed).
langenv=(LANG="$locale" LC_ALL="$locale" LC_MESSAGES="$locale" LANGUAGE=)
export XDG_CONFIG_HOME="$work/xdg" KUVERT_HOME="$work/home" KUVERT_SMS_PROVIDER=console FYNE_SCALE=${FYNE_SCALE:-1}
mkdir -p "$work/filer"
printf 'anställningsnummer;namn;personnummer;månadslön\n1001;Åsa Öberg;19121212-1212;34500\n' > "$work/filer/lönelista_november.csv"
printf 'Protokoll\n' > "$work/filer/protokoll.txt"

# One sealing on record so the log view has something to show.
if [ -x "${KUVERT_CLI:-}" ]; then
	"$KUVERT_CLI" encrypt --case "KS 2026/118" --note "Åsa Öberg" --sms "070-123 45 67" "$work/filer/protokoll.txt" >/dev/null
	"$KUVERT_CLI" encrypt --case "SN 2025/77" --note "Kalle Ek" --sms "070-765 43 21" "$work/filer/protokoll.txt" -o "$work/filer/kallelse.zip" >/dev/null
	# A payroll batch run to its end (demo), for the finished batch view.
	mkdir -p "$work/lön"
	printf 'x' > "$work/lön/lön_1.pdf"; printf 'y' > "$work/lön/lön_2.pdf"
	printf 'fil;mobil;namn\nlön_1.pdf;070-123 45 11;Åsa Öberg\nlön_2.pdf;070-123 45 12;Kalle Ek\n' > "$work/lön/lönelista.csv"
	"$KUVERT_CLI" batch "$work/lön/lönelista.csv" >/dev/null 2>&1 || true
fi

shoot() { # view [files to open with]
	local view=$1; shift
	env "${langenv[@]}" KUVERT_GUI_TAB="${view%%-*}" xvfb-run -a -s "-screen 0 ${SCREEN:-1000x800}x24" sh -c '
		shot=$1; shift
		"$@" & pid=$!
		for i in $(seq 1 50); do
			sleep 0.3
			xdotool search --name kuvert >/dev/null 2>&1 && break
		done
		sleep 2
		if [ -n "${KUVERT_GUI_PRESS_SEAL:-}" ]; then # the app presses Seal: let the work finish
			sleep 3
		fi
		win=$(xdotool search --onlyvisible --name kuvert 2>/dev/null | head -n 1)
		import -window "${win:-root}" "$shot"
		kill $pid; wait $pid 2>/dev/null || true' sh "$out/$view.png" "$bin" "$@"
	# A blank or missing window renders as one or two colours.
	colours=$(identify -format %k "$out/$view.png")
	if [ "$colours" -lt 50 ]; then
		echo "screenshot $view: only $colours colours: the window did not render" >&2
		exit 1
	fi
	echo "$out/$view.png ($colours colours)"
}
shoot seal
KUVERT_GUI_PHONE="070-123 45 67" shoot seal-filled "$work/filer/lönelista_november.csv" "$work/filer/protokoll.txt"
# The same, with "Kryptera och skicka lösenord" pressed (demo SMS).
KUVERT_GUI_PRESS_SEAL=1 KUVERT_GUI_PHONE="070-123 45 67" shoot seal-done "$work/filer/lönelista_november.csv" "$work/filer/protokoll.txt"
shoot batch
shoot open
shoot log
shoot settings
# The changed views: a finished batch, a searched log, the archive's
# name refused, a number half typed, Settings with a kuvert server.
[ -x "${KUVERT_CLI:-}" ] && KUVERT_GUI_MANIFEST="$work/lön/lönelista.csv" shoot batch-finished
KUVERT_GUI_SEARCH="2026/118" shoot log-search
KUVERT_GUI_ARCHIVE="lön 19121212-1212.zip" shoot seal-name "$work/filer/lönelista_november.csv"
KUVERT_GUI_PHONE="070-12" shoot seal-typing "$work/filer/protokoll.txt"
KUVERT_SMS_PROVIDER= KUVERT_SERVER_URL=https://kuvert.exempelby.se KUVERT_SERVER_TOKEN=kvt_exempel shoot settings-server
