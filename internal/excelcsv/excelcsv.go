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

// Safe prefixes a cell that starts like a formula (= + - @, tab, CR)
// with an apostrophe, so Excel shows it as text.
func Safe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
