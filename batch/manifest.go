// Package batch seals a payroll run: one archive per manifest row, each
// with its own generated password texted to that row's mobile, every row
// logged, resumable after a crash without texting anyone twice.
package batch

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/naming"
	"github.com/kuvert-app/kuvert/personnummer"
	"github.com/kuvert-app/kuvert/sms"
	"golang.org/x/text/encoding/charmap"
)

// Row is one validated manifest row.
type Row struct {
	Num       int      // the spreadsheet row number (the header is row 1)
	Files     []string // absolute paths
	Phone     string   // E.164, "" with --no-sms
	Name      string
	Email     string
	Case      string
	Output    string // archive file name (in the out dir)
	Format    crypt.Format
	Recipient string // age recipient, instead of a password
}

// Problem is something wrong with one row (0: the header or the file).
type Problem struct {
	Row int    `json:"row"`
	Msg string `json:"problem"`
}

func (p Problem) String() string {
	if p.Row == 0 {
		return p.Msg
	}
	return fmt.Sprintf("row %d: %s", p.Row, p.Msg)
}

// Manifest is a parsed and validated manifest.
type Manifest struct {
	Path     string
	ID       string // first 12 hex digits of the manifest's SHA-256
	Rows     []Row  // valid rows
	Problems []Problem
	HasEmail bool // the manifest has an e-mail column (batch mails by default then)
}

// columns maps accepted header names (English and Swedish) to fields.
var columns = map[string]string{
	"file": "file", "files": "file", "fil": "file", "filer": "file",
	"phone": "phone", "mobile": "phone", "mobil": "phone", "mobilnummer": "phone", "telefon": "phone",
	"name": "name", "namn": "name",
	"email": "email", "e-mail": "email", "epost": "email", "e-post": "email",
	"case": "case", "diarienummer": "case", "dnr": "case",
	"output": "output", "arkiv": "output",
	"format":    "format",
	"recipient": "recipient", "mottagare": "recipient",
}

// LoadOptions say what a valid row needs.
type LoadOptions struct {
	NoSMS  bool         // phone numbers are not needed
	Format crypt.Format // default format
}

// Load reads and validates a manifest: CSV with a header row, UTF-8 (with
// or without BOM) or Windows-1252, "," or ";" — as Excel saves it in
// Sweden. Paths are relative to the manifest. Every problem is collected,
// with its row number, before anything is done.
func Load(path string, o LoadOptions) (*Manifest, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read the manifest %s", crypt.ErrInput, path)
	}
	sum := sha256.Sum256(raw)
	m := &Manifest{Path: path, ID: hex.EncodeToString(sum[:6])}
	text := bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(text) {
		if text, err = charmap.Windows1252.NewDecoder().Bytes(text); err != nil {
			return nil, fmt.Errorf("%w: the manifest is neither UTF-8 nor Windows-1252", crypt.ErrInput)
		}
	}
	first, _, _ := bytes.Cut(text, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(text))
	r.Comma = ','
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: the manifest has no header row", crypt.ErrInput)
	}
	idx := map[string]int{}
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(h))
		f, ok := columns[key]
		switch {
		case key == "":
		case !ok:
			m.Problems = append(m.Problems, Problem{1, fmt.Sprintf("unknown column %q (known: file/fil, phone/mobil, name/namn, email/epost, case/diarienummer, output, format, recipient)", h)})
		default:
			if _, dup := idx[f]; dup {
				m.Problems = append(m.Problems, Problem{1, fmt.Sprintf("column %q appears twice", h)})
			}
			idx[f] = i
		}
	}
	if _, ok := idx["file"]; !ok {
		m.Problems = append(m.Problems, Problem{1, "no file column (file or fil)"})
	}
	if _, ok := idx["phone"]; !ok && !o.NoSMS {
		m.Problems = append(m.Problems, Problem{1, "no phone column (phone or mobil)"})
	}
	_, m.HasEmail = idx["email"]
	if len(m.Problems) > 0 {
		return m, nil
	}
	dir := filepath.Dir(path)
	outputs := map[string]int{}
	num := 1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		num++
		if err != nil {
			m.Problems = append(m.Problems, Problem{num, "not valid CSV: " + err.Error()})
			continue
		}
		get := func(f string) string {
			if i, ok := idx[f]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue // an empty line, as Excel leaves at the end
		}
		row := Row{Num: num, Name: get("name"), Email: get("email"), Case: get("case"), Recipient: get("recipient")}
		var probs []string
		for _, f := range strings.Split(get("file"), "|") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			p := f
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			fh, err := os.Open(p)
			if err != nil {
				probs = append(probs, fmt.Sprintf("file %s: missing or unreadable", f))
				continue
			}
			st, err := fh.Stat()
			fh.Close()
			if err != nil || st.IsDir() {
				probs = append(probs, fmt.Sprintf("file %s: not a file", f))
				continue
			}
			row.Files = append(row.Files, p)
		}
		if len(row.Files) == 0 && len(probs) == 0 {
			probs = append(probs, "no file")
		}
		row.Format = o.Format
		if f := get("format"); f != "" {
			if row.Format, err = crypt.ParseFormat(f); err != nil {
				probs = append(probs, err.Error())
			}
		}
		if row.Recipient != "" {
			if _, err := crypt.ParseRecipient(row.Recipient); err != nil {
				probs = append(probs, "recipient: not an age public key")
			}
			row.Format = crypt.FormatAge
		}
		if ph := get("phone"); ph != "" && row.Recipient == "" {
			if row.Phone, err = sms.ParseMobile(ph); err != nil {
				probs = append(probs, err.Error())
			}
		} else if !o.NoSMS && row.Recipient == "" {
			probs = append(probs, "no mobile number")
		}
		row.Output = get("output")
		if row.Output == "" && len(row.Files) > 0 {
			row.Output = defaultName(row)
		}
		if row.Output != "" {
			if strings.ContainsAny(row.Output, `/\`) {
				probs = append(probs, "output must be a file name, not a path")
			} else if len(personnummer.FindAll(row.Output)) > 0 {
				probs = append(probs, "output name holds a personnummer")
			} else if OwnFile(row.Output) {
				probs = append(probs, fmt.Sprintf("output %s: the name is kept for the run's own files (state.json, report.csv, their backups, names starting with a dot); choose another name", row.Output))
			}
			key := strings.ToLower(row.Output)
			if prev, dup := outputs[key]; dup {
				probs = append(probs, fmt.Sprintf("output %s is also row %d's", row.Output, prev))
			}
			outputs[key] = num
		}
		if row.Email != "" {
			if a, err := mail.ParseAddress(row.Email); err != nil || a.Address != row.Email || a.Name != "" {
				probs = append(probs, fmt.Sprintf("e-mail %q is not an address (name@example.se)", row.Email))
			} else if len(personnummer.FindAll(row.Email)) > 0 {
				probs = append(probs, "e-mail address holds a personnummer")
			}
		}
		if len(probs) > 0 {
			for _, p := range probs {
				m.Problems = append(m.Problems, Problem{num, p})
			}
			continue
		}
		m.Rows = append(m.Rows, row)
	}
	if len(m.Rows) == 0 && len(m.Problems) == 0 {
		m.Problems = append(m.Problems, Problem{0, "the manifest has no rows"})
	}
	return m, nil
}

// defaultName: the row's archive name by the one naming rule
// ([naming.File]): after the name column, or else the first file, with
// the row number so that rows never share a name.
func defaultName(r Row) string {
	label := r.Name
	if label == "" {
		label = strings.TrimSuffix(filepath.Base(r.Files[0]), filepath.Ext(r.Files[0]))
	}
	ins := make([]crypt.Input, len(r.Files))
	for i, f := range r.Files {
		ins[i] = crypt.Input{Path: f, Name: filepath.Base(f)}
	}
	return naming.File(fmt.Sprintf("%s_rad%d", naming.Stem(label), r.Num), ins, r.Format)
}

// OwnFile reports whether name is one the run keeps for its own files in
// the output folder: state.json and report.csv, anything named after them
// (report.csv.bak, state.json.old) and names starting with a dot (the
// temporary files of atomic writes and of sealing). No archive may take
// such a name (issue 13, item 7: an archive named state.json was sealed,
// texted, then overwritten by the run's state).
func OwnFile(name string) bool {
	n := strings.ToLower(name)
	for _, own := range []string{"state.json", "report.csv"} {
		if n == own || strings.HasPrefix(n, own+".") {
			return true
		}
	}
	return strings.HasPrefix(n, ".")
}
