package batch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/fault"
)

// records is where a manifest's rows come from: a CSV reader, or the
// first sheet of an Excel workbook.
type records interface {
	Read() ([]string, error)
}

// ErrWorkbook: an .xlsx manifest that cannot be read (damaged, or
// protected with a password). Nothing is sealed.
var ErrWorkbook = errors.New("the manifest workbook cannot be read")

// isWorkbook reports whether a manifest is an Excel workbook: by its
// name, or by the zip signature every .xlsx starts with (a CSV never
// does).
func isWorkbook(path string, raw []byte) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx", ".xlsm":
		return true
	}
	return bytes.HasPrefix(raw, []byte("PK\x03\x04"))
}

// workbookRecords reads the first sheet of an .xlsx workbook (the clerk's
// list as Excel keeps it) as the values Excel shows: a phone number typed
// as a number reads as its digits, a date as Excel formats it.
func workbookRecords(raw []byte) (records, error) {
	x, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %w", crypt.ErrInput, ErrWorkbook, fault.New(CodeWorkbookUnreadable))
	}
	defer x.Close()
	sheets := x.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("%w: %w: %w", crypt.ErrInput, ErrWorkbook, fault.New(CodeWorkbookNoSheet))
	}
	rows, err := x.GetRows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %v", crypt.ErrInput, ErrWorkbook, err)
	}
	return &sliceRecords{rows: rows}, nil
}

type sliceRecords struct {
	rows [][]string
	next int
}

func (s *sliceRecords) Read() ([]string, error) {
	if s.next >= len(s.rows) {
		return nil, io.EOF
	}
	s.next++
	return s.rows[s.next-1], nil
}
