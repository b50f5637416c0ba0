// Command gendata writes benchmark inputs: a payroll-like CSV, a mix of
// already-compressed attachments, or random bytes. It is used by
// scripts/bench.sh only.
//
//	go run ./scripts/gendata csv 200M out.csv
//	go run ./scripts/gendata mix 200M outdir
//	go run ./scripts/gendata random 2G out.bin
//	go run ./scripts/gendata files 1000x100K outdir   (already-compressed attachments)
//	go run ./scripts/gendata csvs 20x20M outdir       (payroll CSVs)
package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: gendata csv|mix|random SIZE OUT")
		os.Exit(2)
	}
	var err error
	if os.Args[1] == "files" || os.Args[1] == "csvs" {
		count, each, ok := strings.Cut(os.Args[2], "x")
		n, _ := strconv.Atoi(count)
		if !ok || n <= 0 {
			fmt.Fprintln(os.Stderr, "gendata: want COUNTxSIZE, e.g. 1000x100K")
			os.Exit(2)
		}
		err = writeFiles(os.Args[3], n, parseSize(each), os.Args[1] == "csvs")
		if err != nil {
			fmt.Fprintln(os.Stderr, "gendata:", err)
			os.Exit(1)
		}
		return
	}
	size := parseSize(os.Args[2])
	switch os.Args[1] {
	case "csv":
		err = writeCSV(os.Args[3], size)
	case "mix":
		err = writeMix(os.Args[3], size)
	case "random":
		err = writeRandom(os.Args[3], size)
	default:
		err = fmt.Errorf("unknown kind %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

func parseSize(s string) int64 {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	return n * mult
}

var (
	first = []string{"Åsa", "Örjan", "Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Per", "Ingrid", "Mohammed", "Fatima", "Björn", "Linnéa"}
	last  = []string{"Öberg", "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Ali", "Persson", "Svensson", "Gustafsson", "Pettersson", "Jönsson"}
	units = []string{"Förskola Solrosen", "Hemtjänst Norr", "Ekonomienheten", "Gymnasiet", "Socialtjänsten", "Räddningstjänsten", "IT-avdelningen"}
)

// writeCSV writes rows like a municipal payroll export: names, ids, units,
// amounts, dates. It compresses about as well as the real thing (~4×).
func writeCSV(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	var n int64
	k, _ := w.WriteString("anställningsnummer;förnamn;efternamn;enhet;befattning;månadslön;tillägg;utbetalningsdag;kontonummer\n")
	n += int64(k)
	for i := 0; n < size; i++ {
		line := fmt.Sprintf("%d;%s;%s;%s;%s;%d;%d.%02d;2026-%02d-25;%04d-%08d\n",
			100000+i, first[r.IntN(len(first))], last[r.IntN(len(last))], units[r.IntN(len(units))],
			[]string{"Lärare", "Undersköterska", "Handläggare", "Chef", "Ekonom"}[r.IntN(5)],
			22000+r.IntN(40000), r.IntN(5000), r.IntN(100), 1+r.IntN(12), 3000+r.IntN(6000), r.IntN(1e8))
		k, _ := w.WriteString(line)
		n += int64(k)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Close()
}

// writeMix writes already-compressed attachments (random bytes named like
// PDFs, xlsx, jpg) of 1–9 MB each.
func writeMix(dir string, size int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(3, 4))
	exts := []string{"pdf", "xlsx", "jpg", "docx", "png"}
	var n int64
	for i := 0; n < size; i++ {
		sz := min(int64(1+r.IntN(9))<<20, size-n)
		if err := writeRandom(filepath.Join(dir, fmt.Sprintf("bilaga_%03d.%s", i, exts[i%len(exts)])), sz); err != nil {
			return err
		}
		n += sz
	}
	return nil
}

func writeRandom(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	r := rand.NewChaCha8([32]byte{byte(size), byte(len(path))})
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		k := min(int64(len(buf)), left)
		r.Read(buf[:k])
		if _, err := f.Write(buf[:k]); err != nil {
			return err
		}
		left -= k
	}
	return f.Close()
}

// writeFiles writes n files of size bytes each into dir: payroll CSVs, or
// already-compressed attachments (random bytes named pdf, xlsx, jpg, docx,
// png) like payslips.
func writeFiles(dir string, n int, size int64, csv bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	exts := []string{"pdf", "xlsx", "jpg", "docx", "png"}
	for i := 0; i < n; i++ {
		var err error
		if csv {
			err = writeCSV(filepath.Join(dir, fmt.Sprintf("lonelista_%04d.csv", i)), size)
		} else {
			err = writeRandom(filepath.Join(dir, fmt.Sprintf("bilaga_%04d.%s", i, exts[i%len(exts)])), size)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
