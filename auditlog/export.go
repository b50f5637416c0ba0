package auditlog

import (
	"io"
	"strconv"
	"strings"

	"github.com/kuvert-app/kuvert/internal/excelcsv"
)

var csvHeader = []string{"löpnummer", "id", "tid", "handläggare", "namn", "dator", "åtgärd", "format",
	"arkiv", "storlek_byte", "sha256", "filer", "antal_filer", "lösenord", "styrka_bitar", "personnummer_antal",
	"diarienummer", "anteckning", "mottagare", "leverantör", "meddelande_id", "sms_status", "referens",
	"utskick", "rad", "avser", "detaljer", "enhet", "samma_sms"}

var csvColumn = func() map[string]int {
	m := map[string]int{}
	for i, h := range csvHeader {
		m[h] = i
	}
	return m
}()

// ExportCSV writes entries for the registrar the way Swedish Excel opens
// them with a double-click (internal/excelcsv): Swedish column names and
// Swedish values (action, password origin, delivery state), decimal
// commas, the reference, batch and row of each sealing. The rows are the
// log's one fold ([View]): each sealing with its delivery's current
// state, one row per SMS, "samma_sms" naming the other entries that
// record the same text (the relaying server's, status checks).
//
// details words what an entry says beyond its fields (its [Event]) for
// the "detaljer" column: the shell's catalog; nil writes an older
// entry's Details and an event's machine text.
func ExportCSV(w io.Writer, rows []Row, details func(*Entry) string) error {
	if details == nil {
		details = machineDetails
	}
	cw := excelcsv.New(w)
	cw.Write(csvHeader...)
	for _, r := range rows {
		e := &r.Entry
		var files []string
		for _, f := range e.Files {
			files = append(files, f.Name)
		}
		if e.FileCount > len(e.Files) {
			files = append(files, "…")
		}
		row := make([]string, len(csvHeader))
		set := func(col, v string) { row[csvColumn[col]] = v }
		set("löpnummer", strconv.FormatInt(e.Seq, 10))
		set("id", e.ID)
		set("tid", e.When().Local().Format("2006-01-02 15:04:05"))
		set("handläggare", e.Operator)
		set("namn", e.OperatorName)
		set("dator", e.Host)
		set("åtgärd", e.Action.Swedish())
		set("format", e.Format)
		set("filer", strings.Join(files, " | "))
		if e.Archive != nil || len(e.Files) > 0 {
			set("antal_filer", strconv.Itoa(e.FilesTotal()))
		}
		set("diarienummer", e.Case)
		set("anteckning", e.Note)
		set("utskick", e.Batch)
		if e.Row > 0 {
			set("rad", strconv.Itoa(e.Row))
		}
		set("avser", e.Refers)
		set("detaljer", details(e))
		set("enhet", e.Device) // the device that shipped it to the central log (kuvert server); empty locally
		set("samma_sms", strings.Join(r.Folded, " | "))
		if a := e.Archive; a != nil {
			set("arkiv", a.Name)
			set("storlek_byte", strconv.FormatInt(a.Size, 10))
			set("sha256", a.SHA256)
		}
		if p := e.Password; p != nil {
			set("lösenord", p.Origin.Swedish())
			set("styrka_bitar", strings.Replace(strconv.FormatFloat(p.Bits, 'f', 1, 64), ".", ",", 1))
		}
		if e.Personnummer != nil {
			set("personnummer_antal", strconv.Itoa(*e.Personnummer))
		}
		if d := e.Delivery; d != nil {
			set("mottagare", d.To)
			set("leverantör", d.Provider)
			set("meddelande_id", d.MessageID)
			sv, _ := d.Words()
			set("sms_status", sv)
			set("referens", d.Ref)
		}
		cw.Write(row...)
	}
	return cw.Flush()
}

// machineDetails is an entry's Details, or its event as code and values.
func machineDetails(e *Entry) string {
	if e.Event == nil {
		return e.Details
	}
	return e.Event.String()
}
