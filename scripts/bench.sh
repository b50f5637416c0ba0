#!/usr/bin/env bash
# Benchmarks kuvert side by side with 7-Zip and age in one run and prints
# a Markdown table of wall time, CPU time, output size and peak RSS, with
# ratios. Results go to docs/performance.md by hand, with the machine.
#
# Inputs are generated (scripts/gendata) into $BENCH_DIR (default
# bench-out/, about 5 GB of disk while it runs).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${BENCH_DIR:-bench-out}
KUVERT=${KUVERT:-bin/kuvert}
mkdir -p "$DIR"
export LC_ALL=C.UTF-8

gen() { [ -e "$2" ] || go run ./scripts/gendata "$1" "$3" "$2"; }
gen csv "$DIR/lonelista.csv" 200M
gen mix "$DIR/mix" 200M
gen random "$DIR/stor.bin" 500M
gen random "$DIR/jatte.bin" 2G

export KUVERT_PASSWORD=Kastanj-Fyrverkeri-Molnbank-4417
PW=$KUVERT_PASSWORD
age-keygen -o "$DIR/key.txt" 2>/dev/null <<<"" || true
PUB=$(age-keygen -y "$DIR/key.txt")

# measure LABEL OUTPUT CMD... → "wall cpu rss_mb out_mb"
measure() {
	local out=$1; shift
	rm -rf "$out"
	sync
	/usr/bin/time -f "%e %U %S %M" -o "$DIR/time.txt" "$@" >/dev/null 2>"$DIR/stderr.txt" || { cat "$DIR/stderr.txt"; exit 1; }
	read -r wall user sys rss < "$DIR/time.txt"
	local size=0
	[ -e "$out" ] && size=$(du -sb "$out" | cut -f1)
	awk -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v z="$size" 'BEGIN { printf "%.2f %.2f %.0f %.1f", w, u+s, r/1024, z/1048576 }'
}

row() { # name kuvert-result peer-result
	read -r kw kc kr ks <<<"$2"
	read -r pw pc pr ps <<<"$3"
	awk -v n="$1" -v kw="$kw" -v kc="$kc" -v kr="$kr" -v ks="$ks" -v pw="$pw" -v pc="$pc" -v pr="$pr" -v ps="$ps" 'BEGIN {
		printf "| %s | %.2f s / %.2f s | %.2f s / %.2f s | **%.2f×** | %.1f / %.1f MB (%.2f×) | %.0f / %.0f MB |\n", n, kw, kc, pw, pc, pw/kw, ks, ps, ks/ps, kr, pr }'
}

echo "| case | kuvert wall / CPU | peer wall / CPU | speed-up (peer/kuvert) | output kuvert / peer | peak RSS kuvert / peer |"
echo "|---|---|---|---|---|---|"

k=$(measure "$DIR/a.zip" "$KUVERT" encrypt -q -o "$DIR/a.zip" "$DIR/lonelista.csv")
p=$(measure "$DIR/b.zip" 7zz a -tzip -mem=AES256 "-p$PW" "$DIR/b.zip" "$DIR/lonelista.csv")
row "zip, 200 MB payroll CSV (7zz a -tzip -mem=AES256)" "$k" "$p"

k=$(measure "$DIR/ax" "$KUVERT" decrypt -q -o "$DIR/ax" "$DIR/a.zip")
p=$(measure "$DIR/bx" 7zz x "-p$PW" "-o$DIR/bx" "$DIR/b.zip")
row "unzip the same (7zz x)" "$k" "$p"

k=$(measure "$DIR/m.zip" "$KUVERT" encrypt -q -o "$DIR/m.zip" "$DIR/mix")
p=$(measure "$DIR/n.zip" 7zz a -tzip -mem=AES256 "-p$PW" "$DIR/n.zip" "$DIR/mix")
row "zip, 200 MB pdf/xlsx/jpg mix (7zz default)" "$k" "$p"

k=$(measure "$DIR/s.age" "$KUVERT" encrypt -q -r "$PUB" -o "$DIR/s.age" "$DIR/stor.bin")
p=$(measure "$DIR/t.age" age -r "$PUB" -o "$DIR/t.age" "$DIR/stor.bin")
row "age -r, 500 MB" "$k" "$p"

k=$(measure "$DIR/sx" "$KUVERT" decrypt -q -i "$DIR/key.txt" -o "$DIR/sx" "$DIR/s.age")
p=$(measure "$DIR/t.out" age -d -i "$DIR/key.txt" -o "$DIR/t.out" "$DIR/t.age")
row "age -d, 500 MB" "$k" "$p"

echo
echo "Peak RSS on a 2 GB input (kuvert only):"
k=$(measure "$DIR/j.zip" "$KUVERT" encrypt -q -o "$DIR/j.zip" "$DIR/jatte.bin"); echo "- encrypt zip: $k (wall s, CPU s, RSS MB, out MB)"
k=$(measure "$DIR/jx" "$KUVERT" decrypt -q -o "$DIR/jx" "$DIR/j.zip"); echo "- decrypt zip: $k"
k=$(measure "$DIR/j.age" "$KUVERT" encrypt -q -r "$PUB" -o "$DIR/j.age" "$DIR/jatte.bin"); echo "- encrypt age: $k"
k=$(measure "$DIR/jy" "$KUVERT" decrypt -q -i "$DIR/key.txt" -o "$DIR/jy" "$DIR/j.age"); echo "- decrypt age: $k"
k=$(measure "$DIR/p.age" "$KUVERT" encrypt -q --format age -o "$DIR/p.age" "$DIR/lonelista.csv"); echo "- age passphrase (scrypt 2^18) + 200 MB: $k"
rm -rf "$DIR"/*.zip "$DIR"/*.age "$DIR"/ax "$DIR"/bx "$DIR"/sx "$DIR"/jx "$DIR"/jy "$DIR"/t.out
