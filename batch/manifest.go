// Package batch seals a payroll run: one archive per manifest row, each
// with its own generated password texted to that row's mobile, every row
// logged, resumable after a crash without texting anyone twice.
package batch

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/mailrelay"
	"github.com/kuvert-app/kuvert/naming"
	"github.com/kuvert-app/kuvert/personnummer"
	"github.com/kuvert-app/kuvert/sms"
	"golang.org/x/text/encoding/charmap"
)

// Row is one validated manifest row.
type Row struct {
	Num       int      // the spreadsheet row number (the header is row 1)
	Files     []string // absolute paths
	Inputs    []string // the same files as named in the manifest, relative to its folder
	Phone     string   // E.164, "" with --no-sms
	Name      string
	Email     string
	Case      string
	Output    string // archive file name (in the out dir)
	Format    crypt.Format
	Recipient string // age recipient, instead of a password
}

// Problem is something wrong with one row (0: the header or the file).
// Err is a [fault.Error] where batch has a code for it; the shells word
// it.
type Problem struct {
	Row int
	Err error
	// The row's cells as written, so a shell can show which row it is
	// (a bad row is not among Rows).
	Name, File, Phone string
}

// Manifest is a parsed and validated manifest.
type Manifest struct {
	Path     string
	ID       string // first 12 hex digits of the manifest's SHA-256
	Rows     []Row  // valid rows
	Problems []Problem
	HasEmail bool // the manifest has an e-mail column (batch mails by default then)

	dir  string // the manifest's folder, absolute: every input lies in it
	home string // kuvert's own folder (LoadOptions.Home): no input lies in it
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
	// Home is kuvert's own folder (KUVERT_HOME: the log, its signing
	// key, the settings). No input may lie in it, whatever the manifest
	// says. Empty: no such folder to keep out.
	Home string
}

// ErrEncoding: the manifest is not UTF-8 and does not read as
// Windows-1252 either (a Mac Roman file decodes to Œ Š š where it had
// å ä ö). Nothing is sealed: the names and case numbers would be wrong.
var ErrEncoding = errors.New("the manifest's character encoding cannot be told")

// Load reads and validates a manifest: CSV with a header row, UTF-8 (with
// or without BOM) or Windows-1252, "," or ";" — as Excel saves it in
// Sweden — or the first sheet of an Excel workbook (.xlsx). Paths are relative to the manifest. Every problem is collected,
// with its row number, before anything is done.
func Load(path string, o LoadOptions) (*Manifest, error) {
	raw, err := os.ReadFile(path)
	if le := crypt.LockedFile(err); le != nil {
		return nil, le // Excel has the list open
	}
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read the manifest %s", crypt.ErrInput, path)
	}
	sum := sha256.Sum256(raw)
	m := &Manifest{Path: path, ID: hex.EncodeToString(sum[:6])}
	var r records
	if isWorkbook(path, raw) {
		if r, err = workbookRecords(raw); err != nil {
			return nil, err
		}
	} else {
		text, err := decodeManifest(raw)
		if err != nil {
			return nil, err
		}
		first, _, _ := bytes.Cut(text, []byte("\n"))
		c := csv.NewReader(bytes.NewReader(text))
		c.Comma = ','
		if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
			c.Comma = ';'
		}
		c.FieldsPerRecord = -1
		c.TrimLeadingSpace = true
		r = c
	}
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
			m.Problems = append(m.Problems, Problem{Row: 1, Err: fault.New(CodeUnknownColumn, "column", strconv.Quote(h))})
		default:
			if _, dup := idx[f]; dup {
				m.Problems = append(m.Problems, Problem{Row: 1, Err: fault.New(CodeColumnTwice, "column", strconv.Quote(h))})
			}
			idx[f] = i
		}
	}
	if _, ok := idx["file"]; !ok {
		m.Problems = append(m.Problems, Problem{Row: 1, Err: fault.New(CodeNoFileColumn)})
	}
	if _, ok := idx["phone"]; !ok && !o.NoSMS {
		m.Problems = append(m.Problems, Problem{Row: 1, Err: fault.New(CodeNoPhoneColumn)})
	}
	_, m.HasEmail = idx["email"]
	if len(m.Problems) > 0 {
		return m, nil
	}
	if m.dir, err = filepath.Abs(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("%w: cannot read the manifest %s", crypt.ErrInput, path)
	}
	m.home = o.Home
	root, err := os.OpenRoot(m.dir)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read the manifest's folder %s", crypt.ErrInput, m.dir)
	}
	defer root.Close()
	outputs := map[string]int{}
	num := 1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		num++
		if err != nil {
			m.Problems = append(m.Problems, Problem{Row: num, Err: fault.New(CodeRowNotCSV).Wrap(err)})
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
		var probs []error
		for _, f := range strings.Split(get("file"), "|") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			p, rel, err := m.input(root, f)
			if err != nil {
				probs = append(probs, err)
				continue
			}
			row.Files = append(row.Files, p)
			row.Inputs = append(row.Inputs, rel)
		}
		if len(row.Files) == 0 && len(probs) == 0 {
			probs = append(probs, fault.New(CodeRowNoFile))
		}
		row.Format = o.Format
		if f := get("format"); f != "" {
			if row.Format, err = crypt.ParseFormat(f); err != nil {
				probs = append(probs, fault.New(CodeRowFormat, "format", strconv.Quote(f)))
			}
		}
		if row.Recipient != "" {
			if _, err := crypt.ParseRecipient(row.Recipient); err != nil {
				probs = append(probs, fault.New(CodeRowRecipient))
			}
			row.Format = crypt.FormatAge
		}
		if ph := get("phone"); ph != "" && row.Recipient == "" {
			if row.Phone, err = sms.ParseMobile(ph); err != nil {
				probs = append(probs, err)
			}
		} else if !o.NoSMS && row.Recipient == "" {
			probs = append(probs, fault.New(CodeRowNoMobile))
		}
		row.Output = get("output")
		if row.Output == "" && len(row.Files) > 0 {
			row.Output = defaultName(row)
		}
		if row.Output != "" {
			if out, err := naming.Archive(row.Output, row.Format); err != nil {
				probs = append(probs, fault.New(CodeRowOutput).Wrap(err))
			} else if row.Output = out; OwnFile(row.Output) {
				probs = append(probs, fault.New(CodeRowOutputOwn, "output", row.Output))
			}
			key := strings.ToLower(row.Output)
			if prev, dup := outputs[key]; dup {
				probs = append(probs, fault.New(CodeRowOutputTwice, "output", row.Output, "row", strconv.Itoa(prev)))
			}
			outputs[key] = num
		}
		if row.Email != "" {
			if len(personnummer.FindAll(row.Email)) > 0 {
				probs = append(probs, fault.New(CodeRowEmailPnr))
			} else if ascii, err := mailrelay.Address(row.Email); err != nil {
				probs = append(probs, fault.New(CodeRowEmail, "email", strconv.Quote(row.Email)).Wrap(err))
			} else {
				// The form that goes on the wire and into the report: an
				// internationalised domain in punycode shows what it is.
				row.Email = ascii
			}
		}
		if len(probs) > 0 {
			for _, p := range probs {
				m.Problems = append(m.Problems, Problem{Row: num, Err: p, Name: row.Name, File: get("file"), Phone: get("phone")})
			}
			continue
		}
		m.Rows = append(m.Rows, row)
	}
	if len(m.Rows) == 0 && len(m.Problems) == 0 {
		m.Problems = append(m.Problems, Problem{Row: 0, Err: fault.New(CodeNoRows)})
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
// such a name (an archive named state.json would be sealed,
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

// decodeManifest returns the manifest as UTF-8 text: UTF-8 (with or
// without a BOM) as it is, anything else read as Windows-1252 (Swedish
// Excel's "CSV") — but only if the result is probable text. A Mac Roman
// file (Excel for Mac's "CSV") also decodes as Windows-1252, without an
// error, into Œ Š š € … where it had å ä ö Ä Ö: such a result is refused
// with a request for "CSV UTF-8", which every Excel writes.
func decodeManifest(raw []byte) ([]byte, error) {
	text := bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if utf8.Valid(text) {
		if line, c := firstImprobable(text, false); c != 0 {
			return nil, fmt.Errorf("%w: %w: %w", crypt.ErrInput, ErrEncoding, fault.New(CodeEncodingReplaced, "line", strconv.Itoa(line), "char", fmt.Sprintf("%q", c)))
		}
		return text, nil
	}
	dec, err := charmap.Windows1252.NewDecoder().Bytes(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %w", crypt.ErrInput, ErrEncoding, fault.New(CodeEncodingUnknown))
	}
	if line, c := firstImprobable(dec, true); c != 0 {
		return nil, fmt.Errorf("%w: %w: %w", crypt.ErrInput, ErrEncoding, fault.New(CodeEncodingImprobable, "line", strconv.Itoa(line), "char", fmt.Sprintf("%q", c)))
	}
	return dec, nil
}

// firstImprobable returns the line and character of the first character
// a Swedish manifest would not hold, or 0. Always improbable: U+FFFD (a
// byte the encoding does not define) and control characters other than
// tab, CR and LF. After a Windows-1252 decoding (cp1252) also the
// characters of its bytes 0x80–0x9F, where Mac Roman keeps Ä Å Ç É Ñ Ö Ü
// á à â ä ã å ç é …, except those Swedish text does use: ‘ ’ “ ” – —,
// and € and … when not followed by a letter (Mac Roman's Ä and Ö are
// 1252's € and …: "…berg" is "Öberg"). Latin-1 letters and punctuation
// (U+00A0–U+00FF) are probable either way: only they make up å ä ö é ü.
func firstImprobable(text []byte, cp1252 bool) (line int, c rune) {
	line = 1
	rs := []rune(string(text))
	for i, r := range rs {
		switch {
		case r == '\n':
			line++
			continue
		case r == utf8.RuneError:
			return line, r
		case r < 0x20 && r != '\t' && r != '\r', r >= 0x7f && r < 0xa0:
			return line, r
		}
		if !cp1252 || r < 0x100 {
			continue
		}
		switch r {
		case '‘', '’', '“', '”', '–', '—':
			continue
		case '€', '…':
			if i+1 == len(rs) || !unicode.IsLetter(rs[i+1]) {
				continue
			}
		}
		return line, r
	}
	return line, 0
}

// input resolves one file of a row (f, as the manifest names it) and
// returns its absolute path and its path relative to the manifest's
// folder. The file must be a regular file in that folder or below it,
// reached through os.Root (no "..", no absolute path, no link out of the
// folder), not a symbolic link itself, and not in kuvert's own folder
// (KUVERT_HOME: the log's signing key). Its type is read before it is
// opened, and it is opened without blocking, so a named pipe can never
// hang the check.
func (m *Manifest) input(root *os.Root, f string) (abs, rel string, err error) {
	if filepath.IsAbs(f) || filepath.VolumeName(f) != "" || strings.HasPrefix(f, `\`) || strings.HasPrefix(f, "/") {
		return "", "", fault.New(CodeFileAbsolute, "file", f)
	}
	rel = filepath.Clean(filepath.FromSlash(f))
	if !filepath.IsLocal(rel) {
		return "", "", fault.New(CodeFileOutside, "file", f)
	}
	fi, err := root.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", "", fault.New(CodeFileMissing, "file", f)
	case err != nil && strings.Contains(err.Error(), "escapes"):
		return "", "", fault.New(CodeFileViaLink, "file", f)
	case crypt.LockedFile(err) != nil:
		return "", "", fault.New(CodeFileHeld, "file", f)
	case err != nil:
		return "", "", fault.New(CodeFileNotFound, "file", f)
	case fi.Mode()&fs.ModeSymlink != 0:
		return "", "", fault.New(CodeFileSymlink, "file", f)
	case !fi.Mode().IsRegular():
		return "", "", fault.New(CodeFileNotRegular, "file", f)
	}
	fh, err := root.OpenFile(rel, os.O_RDONLY|openNonblock, 0)
	if crypt.LockedFile(err) != nil {
		return "", "", fault.New(CodeFileHeld, "file", f)
	}
	if err != nil {
		return "", "", fault.New(CodeFileUnreadable, "file", f)
	}
	st, err := fh.Stat()
	fh.Close()
	if err != nil || !st.Mode().IsRegular() || !os.SameFile(fi, st) {
		return "", "", fault.New(CodeFileChanging, "file", f)
	}
	abs = filepath.Join(m.dir, rel)
	if m.home != "" {
		if inside, err := within(abs, m.home); err != nil || inside {
			return "", "", fault.New(CodeFileInHome, "file", f)
		}
	}
	return abs, rel, nil
}

// within reports whether the file at path, with every link resolved, lies
// in the folder dir or below it. Folders are compared as files
// (os.SameFile), so other spellings of dir (case, links, bind mounts)
// count too.
func within(path, dir string) (bool, error) {
	ds, err := os.Stat(dir)
	if err != nil {
		return false, nil // no such folder: nothing lies in it
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false, err
	}
	for p := filepath.Dir(real); ; p = filepath.Dir(p) {
		if ps, err := os.Stat(p); err == nil && os.SameFile(ps, ds) {
			return true, nil
		}
		if filepath.Dir(p) == p {
			return false, nil
		}
	}
}

// Recheck checks row r's files again as [Load] did (regular files in the
// manifest's folder, not in kuvert's own), right before they are sealed:
// the folder may be shared, and a file may have become a link or a pipe
// since the manifest was read.
func (m *Manifest) Recheck(r Row) error {
	if m.dir == "" {
		return nil // a Manifest not made by Load: nothing to compare with
	}
	root, err := os.OpenRoot(m.dir)
	if err != nil {
		return fmt.Errorf("%w: cannot read the manifest's folder %s", crypt.ErrInput, m.dir)
	}
	defer root.Close()
	for i, f := range r.Inputs {
		abs, _, err := m.input(root, f)
		if err != nil {
			return fmt.Errorf("%w: %w", crypt.ErrInput, err)
		}
		if abs != r.Files[i] {
			return fmt.Errorf("%w: %w", crypt.ErrInput, fault.New(CodeFileSwapped, "file", f))
		}
	}
	return nil
}
