// Package scan finds Swedish personnummer and samordningsnummer in the
// files staff send — text and CSV (UTF-8, UTF-16 or Windows-1252), xlsx,
// docx, odt and ods — and in file names, so kuvert can keep them out of
// everything that travels in the clear.
//
// It reports where a number is and its masked form (19850312-****), never
// the number. A format it cannot read is reported as not scanned, never
// as clean. Large text files are streamed.
package scan

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/kuvert-app/kuvert/personnummer"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// ErrSensitive: a personnummer where it must not be (a file name of the
// archive, an e-mail subject); `kuvert scan` also exits with it (code 7).
var ErrSensitive = errors.New("sensitive data found")

// Finding is one number found.
type Finding struct {
	Place        string `json:"place"`  // "line 12", "Blad1!C7", "paragraph 3", "file name"
	Masked       string `json:"masked"` // 19850312-****
	Coordination bool   `json:"samordningsnummer,omitempty"`
}

// Report is what a file holds.
type Report struct {
	File     string    `json:"file"`
	Format   string    `json:"format"` // text, csv, xlsx, docx, odt, ods, name-only
	Scanned  bool      `json:"scanned"`
	Reason   string    `json:"reason,omitempty"` // why not scanned
	Findings []Finding `json:"findings"`         // the first MaxFindings
	Total    int       `json:"count"`            // all findings
}

// Count is the number of numbers found.
func (r *Report) Count() int { return r.Total }

// MaxFindings caps what one report lists; the count goes on.
const MaxFindings = 1000

// Name scans a file name (its base name).
func Name(path string) []Finding {
	var out []Finding
	for _, m := range personnummer.FindAll(filepath.Base(path)) {
		out = append(out, Finding{Place: "file name", Masked: m.Masked, Coordination: m.Coordination})
	}
	return out
}

var textExt = map[string]bool{"txt": true, "csv": true, "tsv": true, "tab": true, "log": true, "md": true,
	"json": true, "xml": true, "html": true, "htm": true, "sql": true, "skv": true, "prn": true, "dat": true}

// binaryExt are formats kuvert does not read: reported as not scanned.
var binaryExt = map[string]bool{"pdf": true, "doc": true, "xls": true, "ppt": true, "pptx": true,
	"jpg": true, "jpeg": true, "png": true, "gif": true, "tif": true, "tiff": true, "heic": true,
	"zip": true, "7z": true, "rar": true, "gz": true, "msg": true, "eml": true, "mp4": true}

// File scans a file's name and content.
func File(path string) (*Report, error) {
	r := &Report{File: path, Findings: Name(path)}
	r.Total = len(r.Findings)
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	var err error
	switch {
	case ext == "xlsx" || ext == "xlsm":
		r.Format = "xlsx"
		err = scanXLSX(path, r)
	case ext == "docx":
		r.Format = "docx"
		err = scanOOXML(path, r, isDocxPart, "w:p")
	case ext == "odt" || ext == "ods" || ext == "odp":
		r.Format = ext
		err = scanOOXML(path, r, func(n string) bool { return n == "content.xml" }, "text:p")
	case binaryExt[ext]:
		r.Format = ext
		r.Reason = "kuvert cannot read " + ext + " files; check them yourself"
		return r, nil
	case textExt[ext]:
		r.Format = "text"
		if ext == "csv" || ext == "tsv" || ext == "skv" {
			r.Format = "csv"
		}
		err = scanText(path, r)
	default:
		// Unknown extension: text if it looks like text, else not scanned.
		ok, serr := looksLikeText(path)
		if serr != nil {
			return nil, serr
		}
		if !ok {
			r.Format = "binary"
			r.Reason = "not a format kuvert can read (pdf, images and other binary files are not scanned)"
			return r, nil
		}
		r.Format = "text"
		err = scanText(path, r)
	}
	if err != nil {
		r.Scanned = false
		r.Reason = err.Error()
		return r, nil
	}
	r.Scanned = true
	return r, nil
}

// add records the numbers in b; place is called only while the list has
// room, so a file with a million numbers costs no formatting.
func (r *Report) add(place func() string, b []byte) {
	if len(r.Findings) >= MaxFindings {
		r.Total += personnummer.Count(b)
		return
	}
	ms := personnummer.FindAllBytes(b)
	if len(ms) == 0 {
		return
	}
	where := place()
	for _, m := range ms {
		r.Total++
		if len(r.Findings) < MaxFindings {
			r.Findings = append(r.Findings, Finding{Place: where, Masked: m.Masked, Coordination: m.Coordination})
		}
	}
}

func looksLikeText(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 8192)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff}) {
		return true, nil
	}
	return !bytes.ContainsRune(head, 0), nil
}

// textReader decodes UTF-16 (by BOM) and Windows-1252 (when the start is
// not valid UTF-8) to UTF-8.
func textReader(f *os.File) (io.Reader, error) {
	br := bufio.NewReaderSize(f, 1<<20)
	head, _ := br.Peek(64 << 10)
	switch {
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}), bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return transform.NewReader(br, unicode.BOMOverride(unicode.UTF8.NewDecoder())), nil
	case !utf8.Valid(trimPartialRune(head)):
		return transform.NewReader(br, charmap.Windows1252.NewDecoder()), nil
	}
	return br, nil
}

// trimPartialRune drops a rune cut off at the end of a peeked buffer.
func trimPartialRune(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && i < len(b); i++ {
		if utf8.Valid(b[:len(b)-i]) {
			return b[:len(b)-i]
		}
	}
	return b
}

// scanText streams a text file line by line.
func scanText(path string, r *Report) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr, err := textReader(f)
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(tr, 1<<20)
	line := 0
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 {
			line++
			r.add(func() string { return fmt.Sprintf("line %d", line) }, b)
		}
		if err == bufio.ErrBufferFull {
			continue // a line over 1 MiB: scanned in pieces
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cannot read: %v", err)
		}
	}
}

func scanXLSX(path string, r *Report) error {
	x, err := excelize.OpenFile(path)
	if err != nil {
		return errors.New("not a readable xlsx workbook (password-protected or damaged?)")
	}
	defer x.Close()
	for _, sheet := range x.GetSheetList() {
		rows, err := x.Rows(sheet)
		if err != nil {
			return err
		}
		ri := 0
		for rows.Next() {
			ri++
			cols, err := rows.Columns(excelize.Options{RawCellValue: true})
			if err != nil {
				rows.Close()
				return err
			}
			for ci, v := range cols {
				if v == "" {
					continue
				}
				r.add(func() string { c, _ := excelize.CoordinatesToCellName(ci+1, ri); return sheet + "!" + c }, []byte(v))
			}
		}
		rows.Close()
	}
	return nil
}

func isDocxPart(name string) bool {
	return name == "word/document.xml" || strings.HasPrefix(name, "word/header") ||
		strings.HasPrefix(name, "word/footer") || name == "word/footnotes.xml" || name == "word/endnotes.xml"
}

// scanOOXML reads the text of paragraphs (para, e.g. "w:p" or "text:p")
// from the XML parts of an Office Open XML or OpenDocument file.
func scanOOXML(path string, r *Report, want func(string) bool, para string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return errors.New("not a readable document (damaged or encrypted?)")
	}
	defer zr.Close()
	local := para[strings.IndexByte(para, ':')+1:]
	for _, f := range zr.File {
		if !want(f.Name) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		dec := xml.NewDecoder(io.LimitReader(rc, 512<<20))
		var text bytes.Buffer
		n := 0
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				rc.Close()
				return fmt.Errorf("%s: damaged XML", f.Name)
			}
			switch t := tok.(type) {
			case xml.CharData:
				text.Write(t)
			case xml.StartElement:
				if t.Name.Local == "tab" || t.Name.Local == "s" {
					text.WriteByte(' ')
				}
			case xml.EndElement:
				if t.Name.Local == local {
					n++
					if text.Len() > 0 {
						r.add(func() string { return fmt.Sprintf("%s paragraph %d", f.Name, n) }, text.Bytes())
					}
					text.Reset()
				}
			}
		}
		rc.Close()
	}
	return nil
}
