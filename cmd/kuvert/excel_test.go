package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
)

// cp1252 SRC DST writes SRC as Swedish Excel's "CSV" saves it: Windows-1252,
// CRLF line ends, no BOM.
func cmdCP1252(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: cp1252 src dst")
	}
	text := strings.ReplaceAll(strings.ReplaceAll(ts.ReadFile(args[0]), "\r\n", "\n"), "\n", "\r\n")
	b, err := charmap.Windows1252.NewEncoder().String(text)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(b), 0o644))
}

var allDigits = regexp.MustCompile(`^[0-9]{1,15}$`)

// mkxlsx DST SRC writes the ;-separated rows of SRC as the first sheet of
// an Excel workbook; a cell of digits only becomes a number, as Excel
// makes of a mobile number typed without formatting.
func cmdMkxlsx(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mkxlsx dst.xlsx src.csv")
	}
	x := excelize.NewFile()
	defer x.Close()
	sheet := x.GetSheetName(0)
	for i, line := range strings.Split(strings.TrimSpace(ts.ReadFile(args[1])), "\n") {
		var row []any
		for _, c := range strings.Split(strings.TrimRight(line, "\r"), ";") {
			if allDigits.MatchString(c) {
				n, _ := strconv.Atoi(c)
				row = append(row, n)
				continue
			}
			row = append(row, c)
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		ts.Check(x.SetSheetRow(sheet, cell, &row))
	}
	ts.Check(x.SaveAs(ts.MkAbs(args[0])))
}
