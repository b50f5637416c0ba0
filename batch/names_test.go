package batch

import (
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/crypt"
)

// Names and addresses that lie are stopped at the manifest: a bidi
// override in the name column never reaches an archive's name, a CR/LF
// in the arkiv column is refused (it would reach the file name and the
// mail), and look-alike, zero-width and IP-literal addresses are refused.
func TestManifestNamesAndAddresses(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.pdf"), []byte("x"), 0o600)
	man := "fil;mobil;namn;arkiv;epost\n" +
		"a.pdf;070-123 45 62;Anna\u202Efdp.exe;;anna@kommun.se\n" + // 2: stripped
		"a.pdf;070-123 45 63;;\"lön\r\nBcc: x@y.se.zip\";\n" + // 3: CR/LF
		"a.pdf;070-123 45 64;;lön\u202Efdp.exe.zip;\n" + // 4: stripped
		"a.pdf;070-123 45 65;;lön.pdf;\n" + // 5: not .zip
		"a.pdf;070-123 45 66;;;anna@k\u043emmun.se\n" + // 6: Cyrillic о
		"a.pdf;070-123 45 67;;;an\u200Bna@kommun.se\n" + // 7: zero-width
		"a.pdf;070-123 45 68;;;anna@[192.0.2.1]\n" + // 8: IP literal
		"a.pdf;070-123 45 69;;;anna@växjö.se\n" // 9: IDN: punycode
	p := filepath.Join(dir, "m.csv")
	os.WriteFile(p, []byte(man), 0o600)
	m, err := Load(p, LoadOptions{Format: crypt.FormatZip})
	if err != nil {
		t.Fatal(err)
	}
	probs := map[int]string{}
	for _, pr := range m.Problems {
		probs[pr.Row] += pr.Err.Error()
	}
	for row, want := range map[int]string{3: "control character", 5: "must end in .zip", 6: "mixes alphabets", 7: "invisible", 8: "IP address"} {
		if !strings.Contains(probs[row], want) {
			t.Errorf("row %d: %q, want %q", row, probs[row], want)
		}
	}
	if len(m.Rows) != 3 {
		t.Fatalf("rows %+v, problems %v", m.Rows, m.Problems)
	}
	for _, r := range m.Rows {
		if strings.ContainsAny(r.Output, "\u202E\r\n") {
			t.Errorf("row %d: output %q", r.Num, r.Output)
		}
	}
	if m.Rows[0].Output != "Annafdp.exe_rad2.zip" || m.Rows[1].Output != "lönfdp.exe.zip" || m.Rows[2].Email != "anna@xn--vxj-qla6g.se" {
		t.Fatalf("%+v", m.Rows)
	}
}

// An internationalised address is mailed in its ASCII form (no raw UTF-8
// in RCPT TO) and shown so in the report.
func TestIDNAddressMailedAsPunycode(t *testing.T) {
	e := newEnv(t)
	relay, r := startRelay(t)
	os.WriteFile(filepath.Join(e.dir, "a.pdf"), []byte("x"), 0o600)
	p := filepath.Join(e.dir, "m.csv")
	os.WriteFile(p, []byte("fil;mobil;namn;epost\na.pdf;070-123 45 67;Åsa;åsa.berg@växjö.se\na.pdf;070-123 45 68;Bo;bo@växjö.se\n"), 0o600)
	m, err := Load(p, LoadOptions{Format: crypt.FormatZip})
	if err != nil || len(m.Problems) != 1 || !strings.Contains(m.Problems[0].Err.Error(), "not plain ASCII") || len(m.Rows) != 1 {
		t.Fatalf("%v %v", err, m.Problems)
	}
	sum, err := e.runMail(m, r)
	if !errors.Is(err, ErrPartial) || sum.Done != 1 || sum.Skipped != 1 {
		t.Fatalf("%v %+v", err, sum)
	}
	msgs := relay.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "bo@xn--vxj-qla6g.se" {
		t.Fatalf("%+v", msgs)
	}
	h, _, _, _ := mailParts(t, msgs[0].Data)
	if to := h.Get("To"); !strings.Contains(to, "bo@xn--vxj-qla6g.se") {
		t.Fatalf("To: %q", to)
	}
	raw, _ := os.ReadFile(filepath.Join(e.dir, "ut", "report.csv"))
	rd := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\uFEFF")))
	rd.Comma = ';'
	recs, err := rd.ReadAll()
	if err != nil || len(recs) != 3 || recs[2][0] != "3" || recs[2][9] != "b***@xn--vxj-qla6g.se" {
		t.Fatalf("%v %q", err, recs)
	}
}
