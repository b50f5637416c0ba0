package auditlog

import (
	"io"
	"strconv"
	"strings"

	"github.com/kuvert-app/kuvert/internal/excelcsv"
)

var csvHeader = []string{"löpnummer", "id", "tid", "handläggare", "namn", "dator", "åtgärd", "format",
	"arkiv", "storlek_byte", "sha256", "filer", "lösenord", "styrka_bitar", "personnummer_antal",
	"diarienummer", "anteckning", "mottagare", "leverantör", "meddelande_id", "sms_status", "detaljer"}

// ExportCSV writes entries the way Swedish Excel opens them with a
// double-click: UTF-8 with BOM, semicolons, CRLF, Swedish column names,
// decimal commas, formula-looking cells defused.
func ExportCSV(w io.Writer, es []Entry) error {
	cw := excelcsv.New(w)
	cw.Write(csvHeader...)
	for _, e := range es {
		var files []string
		for _, f := range e.Files {
			files = append(files, f.Name)
		}
		row := []string{strconv.FormatInt(e.Seq, 10), e.ID, e.When().Local().Format("2006-01-02 15:04:05"),
			e.Operator, e.OperatorName, e.Host, e.Action, e.Format, "", "", "", strings.Join(files, " | "), "", "", "",
			e.Case, e.Note, "", "", "", "", e.Details}
		if e.Archive != nil {
			row[8], row[9], row[10] = e.Archive.Name, strconv.FormatInt(e.Archive.Size, 10), e.Archive.SHA256
		}
		if e.Password != nil {
			row[12], row[13] = e.Password.Origin, strings.Replace(strconv.FormatFloat(e.Password.Bits, 'f', 1, 64), ".", ",", 1)
		}
		if e.Personnummer != nil {
			row[14] = strconv.Itoa(*e.Personnummer)
		}
		if d := e.Delivery; d != nil {
			row[17], row[18], row[19], row[20] = d.To, d.Provider, d.MessageID, d.Status
		}
		cw.Write(row...)
	}
	return cw.Flush()
}
