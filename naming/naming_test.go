package naming

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/personnummer"
)

// A default name carries no part of a personnummer: not the last four
// digits and not the birth date either (intyg_811218-xxxx.zip).
func TestStemDropsPersonnummerWhole(t *testing.T) {
	for in, want := range map[string]string{
		"intyg_811218-9876":            "intyg",
		"811218-9876_intyg":            "intyg",
		"intyg 811218-9876 Andersson":  "intyg Andersson",
		"lönelista_19811218-9876":      "lönelista",
		"intyg 8112189876":             "intyg",
		"811278-9873":                  "bilagor", // samordningsnummer, nothing else
		"Åsa Öberg":                    "Åsa Öberg",
		"a 811218-9876 b 8112189876 c": "a b c",
		"ordernr 1234567890123":        "ordernr 1234567890123",
		`rapport: "Q1" <slut>?`:        "rapport_ _Q1_ _slut__",
		"con":                          "con_",
		"CONIN$":                       "CONIN$_",
		"conout$":                      "conout$_",
		"Clock$":                       "Clock$_",
		"trailing. ":                   "trailing",
		"":                             "bilagor",
	} {
		got := Stem(in)
		if got != want {
			t.Errorf("Stem(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "811218") || strings.Contains(got, "9876") || len(personnummer.FindAll(got)) > 0 {
			t.Errorf("Stem(%q) = %q keeps part of the number", in, got)
		}
		if Stem(got) != got {
			t.Errorf("Stem is not idempotent on %q", got)
		}
	}
}

func TestFile(t *testing.T) {
	one := []crypt.Input{{Name: "lönespec.pdf"}}
	two := []crypt.Input{{Name: "a.pdf"}, {Name: "b.pdf"}}
	folder := []crypt.Input{{Name: "mapp/a.pdf"}}
	for _, c := range []struct {
		label string
		ins   []crypt.Input
		f     crypt.Format
		want  string
	}{
		{"lönespec", one, crypt.FormatZip, "lönespec.zip"},
		{"lönespec", one, crypt.FormatAge, "lönespec.pdf.age"},
		{"lönespec", two, crypt.FormatAge, "lönespec.zip.age"},
		{"mapp", folder, crypt.FormatAge, "mapp.zip.age"},
		{"Åsa 811218-9876_rad2", one, crypt.FormatZip, "Åsa rad2.zip"},
		{"x", []crypt.Input{{Name: "intyg.811218-9876"}}, crypt.FormatAge, "x.age"},
	} {
		if got := File(c.label, c.ins, c.f); got != c.want {
			t.Errorf("File(%q, %v, %s) = %q, want %q", c.label, c.ins, c.f, got, c.want)
		}
	}
}

// Beside is what `kuvert encrypt` and the desktop app propose: next to the
// first path given, named after it.
func TestBeside(t *testing.T) {
	dir := t.TempDir()
	pnr := filepath.Join(dir, "lönelista_811218-9876.csv")
	os.WriteFile(pnr, []byte("x"), 0o644)
	ins, _, err := crypt.CollectInputs([]string{pnr})
	if err != nil {
		t.Fatal(err)
	}
	if got := Beside(ins, crypt.FormatZip, []string{pnr}); got != filepath.Join(dir, "lönelista.zip") {
		t.Fatalf("zip: %s", got)
	}
	if got := Beside(ins, crypt.FormatAge, []string{pnr}); got != filepath.Join(dir, "lönelista.csv.age") {
		t.Fatalf("age: %s", got)
	}
	sub := filepath.Join(dir, "mapp")
	os.MkdirAll(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "a.txt"), []byte("x"), 0o644)
	ins, _, _ = crypt.CollectInputs([]string{sub + string(filepath.Separator)})
	if got := Beside(ins, crypt.FormatAge, []string{sub + string(filepath.Separator)}); got != filepath.Join(dir, "mapp.zip.age") {
		t.Fatalf("folder: %s", got)
	}
}

// Free never proposes a name that is taken, and keeps .zip.age whole.
func TestFree(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "lista.zip.age")
	if Free(p) != p {
		t.Fatal("a free name changed")
	}
	os.WriteFile(p, nil, 0o600)
	os.WriteFile(filepath.Join(dir, "lista (2).zip.age"), nil, 0o600)
	if got := Free(p); got != filepath.Join(dir, "lista (3).zip.age") {
		t.Fatal(got)
	}
}

// Bidi controls and zero-width characters never reach a name: a
// right-to-left override would make "lön‮fdp.exe" display as
// "lönexe.pdf".
func TestStemStripsFormatCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"Anna\u202Efdp.exe":           "Annafdp.exe",
		"Bo\u200BBo\u2066x\u2069":     "BoBox",
		"\u200E\u200F\uFEFF":          Fallback,
		"Ove\u00ADson\u2060":          "Oveson",
		"Åsa\u061C Öberg\u202A\u202C": "Åsa Öberg",
	} {
		if got := Stem(in); got != want {
			t.Errorf("Stem(%q) = %q, want %q", in, got, want)
		}
	}
}

// A name a person chose for an archive passes one rule: format
// characters are stripped, the extension must fit the format, and
// anything Stem would change (CR/LF, characters Windows forbids, a
// personnummer, a device name) is refused with why.
func TestArchive(t *testing.T) {
	for _, c := range []struct {
		in   string
		f    crypt.Format
		want string // "" = refused
		why  string
	}{
		{"lön_mars.zip", crypt.FormatZip, "lön_mars.zip", ""},
		{"Lön.ZIP", crypt.FormatZip, "Lön.ZIP", ""},
		{"spec.pdf.age", crypt.FormatAge, "spec.pdf.age", ""},
		{"spec.zip.age", crypt.FormatAge, "spec.zip.age", ""},
		{"spec.age", crypt.FormatAge, "spec.age", ""},
		{"Anna\u202Efdp.exe.zip", crypt.FormatZip, "Annafdp.exe.zip", ""},
		{"a\u200Bb.zip", crypt.FormatZip, "ab.zip", ""},
		{"lön.exe", crypt.FormatZip, "", "must end in .zip"},
		{"lön.zip\u202E", crypt.FormatZip, "lön.zip", ""},
		{"lön.zip", crypt.FormatAge, "", "must end in .age"},
		{"lön.age", crypt.FormatZip, "", "must end in .zip"},
		{"lön\r\nBcc: x.zip", crypt.FormatZip, "", "control character"},
		{"lön\t.zip", crypt.FormatZip, "", "control character"},
		{"a|b.zip", crypt.FormatZip, "", "Windows forbids"},
		{"a:b.zip", crypt.FormatZip, "", "Windows forbids"},
		{"sub/a.zip", crypt.FormatZip, "", "not a path"},
		{`sub\a.zip`, crypt.FormatZip, "", "not a path"},
		{"intyg_811218-9876.zip", crypt.FormatZip, "", "personnummer"},
		{"CON.zip", crypt.FormatZip, "", "devices"},
		{"slut. .zip", crypt.FormatZip, "", "dot or space"},
		{".zip", crypt.FormatZip, "", "nothing before"},
		{"\u202E.zip", crypt.FormatZip, "", "nothing before"},
		{"x.p|f.age", crypt.FormatAge, "", "inner extension"},
	} {
		got, err := Archive(c.in, c.f)
		if c.want != "" {
			if err != nil || got != c.want {
				t.Errorf("Archive(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
			continue
		}
		if !errors.Is(err, ErrName) || !strings.Contains(err.Error(), c.why) || got != "" {
			t.Errorf("Archive(%q) = %q, %v; want an error saying %q", c.in, got, err, c.why)
		}
		if strings.Contains(err.Error(), "811218") || strings.Contains(err.Error(), "\r") {
			t.Errorf("the error repeats the name: %v", err)
		}
	}
}

// Whatever a manifest holds, an accepted archive name has no invisible or
// control characters, ends in the format's extension, and passes again
// unchanged.
func FuzzArchive(f *testing.F) {
	for _, s := range []string{"lön.zip", "a\u202Eb.zip", "x.pdf.age", "a\r\nb.zip", "CON.zip", ".zip"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, name string, age bool) {
		format := crypt.FormatZip
		if age {
			format = crypt.FormatAge
		}
		got, err := Archive(name, format)
		if err != nil {
			return
		}
		for _, c := range got {
			if unicode.Is(unicode.Cf, c) || unicode.IsControl(c) {
				t.Fatalf("Archive(%q) = %q keeps %U", name, got, c)
			}
		}
		if again, err := Archive(got, format); err != nil || again != got {
			t.Fatalf("Archive(%q) = %q, but again %q, %v", name, got, again, err)
		}
	})
}
