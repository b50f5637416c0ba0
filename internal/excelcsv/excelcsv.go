// Package excelcsv writes CSV the way Swedish Excel opens it with a
// double-click: UTF-8 with a byte-order mark, semicolons, CRLF line ends,
// and every cell that Excel would evaluate as a formula defused (CSV
// injection through a crafted file or recipient name).
//
// Every CSV kuvert writes for people (the log export, the batch report)
// goes through [Writer]; it must never write a cell unescaped.
package excelcsv

import (
	"encoding/csv"
	"io"
	"strings"
)

// Writer writes rows; the BOM goes out with the first row.
type Writer struct {
	w       io.Writer
	cw      *csv.Writer
	started bool
	err     error
}

// New returns a Writer to w.
func New(w io.Writer) *Writer {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	return &Writer{w: w, cw: cw}
}

// NewContinued returns a Writer that adds rows to a CSV whose BOM and
// header are already written (a file appended to row by row).
func NewContinued(w io.Writer) *Writer {
	x := New(w)
	x.started = true
	return x
}

// Write writes one row, defusing each cell with [Safe].
func (w *Writer) Write(cells ...string) {
	if w.err != nil {
		return
	}
	if !w.started {
		w.started = true
		if _, err := io.WriteString(w.w, "\uFEFF"); err != nil {
			w.err = err
			return
		}
	}
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = Safe(c)
	}
	w.err = w.cw.Write(row)
}

// Flush writes what is buffered and returns the first error met.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.cw.Flush()
	return w.cw.Error()
}

// Safe defuses a cell that starts like a formula (= + - @, tab, CR), so
// that Excel shows it as text:
//
//   - A phone number in international form ("+46 73-123 45 67", or as the
//     log masks it, "+46 73-*** ** 67": a plus and a digit, then only
//     digits, spaces, dashes and stars, at most 32 characters) becomes
//     the formula ="+46 73-123 45 67", a string constant and nothing else.
//     Excel shows exactly the number, as text, with nothing in front;
//     as it stands Excel would read it as the formula =46 73-123 45 67
//     (the space is its intersection operator) and show #NULL!. The cell
//     can hold nothing but those characters: no quote, no name, no call.
//   - Any other such cell gets an apostrophe in front, which Excel shows:
//     a visible mark is the price of text that could be anything.
func Safe(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if isPhone(s) {
		return `="` + s + `"`
	}
	return "'" + s
}

// isPhone reports whether s is "+", a digit, then digits, spaces, dashes
// and stars (a masked number) ending in a digit or a star, at most 32
// bytes.
func isPhone(s string) bool {
	last := s[len(s)-1]
	if len(s) < 3 || len(s) > 32 || s[0] != '+' || !isDigit(s[1]) || !isDigit(last) && last != '*' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; !isDigit(c) && c != ' ' && c != '-' && c != '*' {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
