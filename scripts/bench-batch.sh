#!/usr/bin/env bash
# Batch benchmark: 1,000 payslip-sized PDFs (100 KB, generated) sealed from
# a manifest with the outbox SMS provider, side by side with the shell loop
# an admin writes today (7zz once per row); then the same rows sealed,
# mailed through a loopback SMTP relay (scripts/relay) and texted
# (outbox), the whole batch job. Prints rows/s and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${BENCH_DIR:-bench-out}/batch
KUVERT=${KUVERT:-bin/kuvert}
N=${ROWS:-1000}
mkdir -p "$DIR/in"
export LC_ALL=C.UTF-8
if [ ! -e "$DIR/in/manifest.csv" ]; then
	echo "fil;mobil;namn" > "$DIR/in/manifest.csv"
	for i in $(seq 1 "$N"); do
		head -c 102400 /dev/urandom > "$DIR/in/lonespec_$i.pdf"
		printf 'lonespec_%d.pdf;070%07d;Anstalld %d\n' "$i" "$((1000000 + i))" "$i" >> "$DIR/in/manifest.csv"
	done
fi
rm -rf "$DIR/out" "$DIR/loop" "$DIR/home" "$DIR/outbox.jsonl"
export KUVERT_HOME="$DIR/home" KUVERT_SMS_PROVIDER="outbox:$DIR/outbox.jsonl"
/usr/bin/time -f "%e %M %U %S" -o "$DIR/k.time" "$KUVERT" batch -q --sender "Kuvert bench" --out-dir "$DIR/out" "$DIR/in/manifest.csv"
mkdir -p "$DIR/loop"
/usr/bin/time -f "%e %M %U %S" -o "$DIR/l.time" bash -c '
	tail -n +2 "$1/in/manifest.csv" | while IFS=";" read -r f phone name; do
		pw=$(head -c 15 /dev/urandom | base64 | tr -d "+/=")
		7zz a -tzip -mem=AES256 "-p$pw" "$1/loop/${f%.pdf}.zip" "$1/in/$f" >/dev/null
	done' _ "$DIR"
read -r kw kr ku ks < "$DIR/k.time"
read -r lw lr lu ls < "$DIR/l.time"
awk -v n="$N" -v kw="$kw" -v kr="$kr" -v lw="$lw" -v lr="$lr" -v kc="$(echo "$ku + $ks" | bc)" 'BEGIN {
	printf "| batch, %d rows × 100 KB (outbox SMS) | kuvert %.2f s (%.0f rows/s, %.0f%% CPU of 2 cores) | 7zz loop %.2f s (%.0f rows/s) | **%.2f×** | peak RSS %.0f MB / %.0f MB |\n",
		n, kw, n/kw, 100*kc/kw/2, lw, n/lw, lw/kw, kr/1024, lr/1024 }'

# The whole job: seal, log, mail (loopback relay), text (outbox).
if [ ! -e "$DIR/in/manifest-mail.csv" ]; then
	echo "fil;mobil;namn;epost" > "$DIR/in/manifest-mail.csv"
	tail -n +2 "$DIR/in/manifest.csv" | awk -F';' '{ printf "%s;%s;%s;anstalld%d@kommun.example\n", $1, $2, $3, NR }' >> "$DIR/in/manifest-mail.csv"
fi
go build -o "$DIR/relay" ./scripts/relay
coproc RELAY { exec "$DIR/relay"; }
read -r addr <&"${RELAY[0]}"
rm -rf "$DIR/out2" "$DIR/outbox.jsonl"
KUVERT_SMTP_URL="smtp+insecure://lon%40kommun.example@$addr" KUVERT_SMTP_PASSWORD='relä-lösen-9f3k' KUVERT_MAIL_FROM=lon@kommun.example \
	/usr/bin/time -f "%e %M %U %S" -o "$DIR/m.time" "$KUVERT" batch -q --mail send --sender "Kuvert bench" --out-dir "$DIR/out2" "$DIR/in/manifest-mail.csv" || true
kill -TERM "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true
read -r mw mr mu ms < "$DIR/m.time"
sms=$(wc -l < "$DIR/outbox.jsonl")
awk -v n="$N" -v w="$mw" -v r="$mr" -v s="$sms" -v c="$(echo "$mu + $ms" | bc)" 'BEGIN {
	printf "| batch, %d rows sealed, mailed (loopback SMTP) and texted (outbox, %d SMS) | %.2f s | %.0f rows/s (target ≥ 200) | %.0f%% CPU of 2 cores | peak RSS %.0f MB (target < 150) | %s |\n",
		n, s, w, n/w, 100*c/w/2, r/1024, (n/w >= 200 && r/1024 < 150 && s == n) ? "pass" : "**miss**" }'
