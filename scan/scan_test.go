package scan

import (
	"archive/zip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/personnummer"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
)

// makePnr returns a valid 10-digit personnummer for date (YYMMDD) and a
// three-digit birth number, computing the Luhn check digit.
func makePnr(date string, nnn int) string {
	nine := fmt.Sprintf("%s%03d", date, nnn)
	for c := 0; c <= 9; c++ {
		if personnummer.Valid(nine + fmt.Sprint(c)) {
			return nine[:6] + "-" + nine[6:] + fmt.Sprint(c)
		}
	}
	panic("no check digit")
}

func TestPositives(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	found, total := 0, 0
	for i := 0; i < 2000; i++ {
		y, m, d := r.IntN(100), 1+r.IntN(12), 1+r.IntN(28)
		if i%5 == 0 {
			d += 60 // samordningsnummer
		}
		p := makePnr(fmt.Sprintf("%02d%02d%02d", y, m, d), r.IntN(1000))
		century := "19"
		if y < 20 {
			century = "20"
		}
		for _, form := range []string{p, strings.ReplaceAll(p, "-", ""), century + p, century + strings.ReplaceAll(p, "-", ""), strings.ReplaceAll(p, "-", "+")} {
			total++
			text := "Namn: Åsa Öberg;" + form + ";Förskola"
			ms := personnummer.FindAll(text)
			datePart := strings.TrimRight(form[:len(form)-4], "-+")
			if len(ms) == 1 && ms[0].Masked[:len(datePart)] == datePart && strings.HasSuffix(ms[0].Masked, "****") && len(ms[0].Masked) == len(datePart)+5 {
				found++
			} else {
				t.Errorf("%q: %+v", form, ms)
			}
		}
	}
	t.Logf("positives: %d of %d found", found, total)
}

// Look-alikes: formatted phone numbers, dates, amounts, postcodes,
// organisation numbers and bank accounts never fire; random 10-digit
// numbers and bare mobile numbers fire only when they happen to be a
// valid date with a valid check digit — measured here.
func TestLookAlikes(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	never := 0
	for i := 0; i < 5000; i++ {
		mob := fmt.Sprintf("07%d%07d", []int{0, 2, 3, 6, 9}[r.IntN(5)], r.IntN(1e7))
		for _, s := range []string{
			mob[:3] + "-" + mob[3:6] + " " + mob[6:8] + " " + mob[8:],
			"+46 " + mob[1:3] + " " + mob[3:6] + " " + mob[6:8] + " " + mob[8:],
			"+46" + mob[1:],
			fmt.Sprintf("2026-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28)),
			fmt.Sprintf("%02d/%02d/2026", 1+r.IntN(28), 1+r.IntN(12)),
			fmt.Sprintf("%d %03d,%02d kr", r.IntN(100), r.IntN(1000), r.IntN(100)),
			fmt.Sprintf("%03d %02d Sundsvall", 100+r.IntN(900), r.IntN(100)),
			fmt.Sprintf("%d%d%d%d%d-%04d", 2+r.IntN(8), r.IntN(10), 2+r.IntN(8), r.IntN(10), r.IntN(10), r.IntN(1e4)) + "0"[:0], // organisationsnummer: 3rd digit ≥ 2
			fmt.Sprintf("%013d", r.Int64N(1e13)),
			fmt.Sprintf("%09d", r.IntN(1e9)),
			fmt.Sprintf("8327-9, %03d %03d %03d-%d", r.IntN(1000), r.IntN(1000), r.IntN(1000), r.IntN(10)),
		} {
			if ms := personnummer.FindAll("x " + s + " y"); len(ms) > 0 {
				never++
				t.Errorf("%q fired: %+v", s, ms)
			}
		}
	}
	hits10, hitsMob := 0, 0
	const n = 100000
	for i := 0; i < n; i++ {
		if personnummer.Count([]byte(fmt.Sprintf("order %010d.", r.Int64N(1e10)))) > 0 {
			hits10++
		}
		mob := fmt.Sprintf("07%d%07d", []int{0, 2, 3, 6, 9}[r.IntN(5)], r.IntN(1e7))
		if personnummer.Count([]byte("tel "+mob)) > 0 {
			hitsMob++
		}
	}
	rate10, rateMob := float64(hits10)/n, float64(hitsMob)/n
	t.Logf("false positives: random 10-digit numbers %.2f%%, bare mobile numbers %.2f%%, formatted look-alikes %d", rate10*100, rateMob*100, never)
	if rate10 > 0.015 || rateMob > 0.03 {
		t.Fatalf("false-positive rate too high: %.3f %.3f", rate10, rateMob)
	}
}

const p1 = "811218-9876" // valid

var p2 = "19" + makePnr("850312", 313)

func TestFormats(t *testing.T) {
	if !personnummer.Valid(p2) {
		t.Fatalf("fixture %s invalid", p2)
	}
	dir := t.TempDir()
	w := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	csv := "namn;personnummer;telefon\nÅsa Öberg;" + p1 + ";070-123 45 67\nÖrjan;" + p2 + ";08-123 456 78\n"
	cp1252, _ := charmap.Windows1252.NewEncoder().String(csv)
	utf16 := "\xff\xfe"
	for _, r := range csv {
		utf16 += string([]byte{byte(r), byte(r >> 8)})
	}
	cases := map[string]struct {
		path   string
		format string
		want   int
		place  string
	}{
		"utf8 csv":   {w("a.csv", []byte(csv)), "csv", 2, "line 2"},
		"1252 csv":   {w("b.csv", []byte(cp1252)), "csv", 2, "line 3"},
		"utf16 txt":  {w("c.txt", []byte(utf16)), "text", 2, "line 2"},
		"no ext":     {w("export", []byte(csv)), "text", 2, "line 2"},
		"name":       {w("lönelista_"+strings.ReplaceAll(p1, "-", "")+".pdf", []byte("%PDF-1.4\x00\x01")), "pdf", 1, "file name"},
		"unknown":    {w("data.bin", []byte("\x00\x01\x02")), "binary", 0, ""},
		"xlsx":       {makeXLSX(t, dir), "xlsx", 2, "Personal!B3"},
		"docx":       {makeDocx(t, dir, "word/document.xml", "w"), "docx", 1, "word/document.xml paragraph 2"},
		"odt":        {makeDocx(t, dir, "content.xml", "text"), "odt", 1, "content.xml paragraph 2"},
		"clean text": {w("d.txt", []byte("inga nummer här 070-123 45 67 2026-03-12\n")), "text", 0, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := File(c.path)
			if err != nil {
				t.Fatal(err)
			}
			if r.Format != c.format || r.Count() != c.want {
				t.Fatalf("format %s count %d: %+v", r.Format, r.Count(), r)
			}
			if c.place != "" {
				ok := false
				for _, f := range r.Findings {
					ok = ok || f.Place == c.place
				}
				if !ok {
					t.Fatalf("no finding at %s: %+v", c.place, r.Findings)
				}
			}
			for _, f := range r.Findings {
				if strings.Contains(f.Masked, "9876") || strings.Contains(f.Masked, p2[9:]) {
					t.Fatal("report holds a full number")
				}
			}
			if (c.format == "binary" || c.format == "pdf") && (r.Scanned || r.Reason == "") {
				t.Fatal("binary reported as scanned")
			}
			if c.format != "binary" && c.format != "pdf" && !r.Scanned {
				t.Fatalf("not scanned: %s", r.Reason)
			}
		})
	}
}

func makeXLSX(t *testing.T, dir string) string {
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", "Personal")
	f.SetSheetRow("Personal", "A1", &[]any{"Namn", "Personnummer", "Lön"})
	f.SetSheetRow("Personal", "A2", &[]any{"Åsa", "ingen", 34500})
	f.SetSheetRow("Personal", "A3", &[]any{"Örjan", p1, 36200})
	n, _ := strconv.ParseInt(strings.ReplaceAll(p2, "-", ""), 10, 64)
	f.SetSheetRow("Personal", "A4", &[]any{"Eva", n, 31000}) // a number cell
	p := filepath.Join(dir, "lista.xlsx")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func makeDocx(t *testing.T, dir, part, ns string) string {
	name := "brev.docx"
	if ns == "text" {
		name = "brev.odt"
	}
	p := filepath.Join(dir, name)
	f, _ := os.Create(p)
	zw := zip.NewWriter(f)
	w, _ := zw.Create(part)
	if ns == "w" {
		fmt.Fprintf(w, `<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Hej</w:t></w:r></w:p><w:p><w:r><w:t>Personnr 8112</w:t></w:r><w:r><w:t>18-9876 här</w:t></w:r></w:p></w:body></w:document>`)
	} else {
		fmt.Fprintf(w, `<office:document-content xmlns:office="o" xmlns:text="t"><office:body><text:p>Hej</text:p><text:p>Personnr 811218-<text:span>9876</text:span></text:p></office:body></office:document-content>`)
	}
	zw.Close()
	f.Close()
	return p
}

func BenchmarkScanCSV(b *testing.B) {
	dir := b.TempDir()
	p := filepath.Join(dir, "big.csv")
	f, _ := os.Create(p)
	r := rand.New(rand.NewPCG(3, 3))
	var size int64
	for size < 100<<20 {
		n, _ := fmt.Fprintf(f, "%d;Åsa Öberg;%s;070-%03d %02d %02d;Förskola Solrosen;%d\n", r.IntN(1e6), makePnr(fmt.Sprintf("%02d%02d%02d", r.IntN(100), 1+r.IntN(12), 1+r.IntN(28)), r.IntN(1000)), r.IntN(1000), r.IntN(100), r.IntN(100), 20000+r.IntN(30000))
		size += int64(n)
	}
	f.Close()
	b.SetBytes(size)
	for b.Loop() {
		rep, err := File(p)
		if err != nil || rep.Count() == 0 {
			b.Fatal(err)
		}
	}
}
