package gui

import (
	"encoding/csv"
	"errors"

	"fyne.io/fyne/v2/lang"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/fault"
)

// describe is err in the window's language: each fault the core returned
// in the app's catalog (translations/*.json, key "fault.<code>", fields
// as {{.name}}, the wrapped cause as {{.cause}}), the rest as the error
// reads. Swedish only in Swedish, English only in English — the CLI's
// two-language lines are the CLI's.
//
// Where err holds a fault the window has words for, those words are the
// message: the sentinels around it ("invalid input: …") are the core's
// machine text, in English.
func describe(err error) string {
	if e, ok := fault.As(err); ok {
		cause := ""
		if e.Err != nil {
			cause = describe(e.Err)
		}
		if s, ok := faultWords(e, cause); ok {
			return s
		}
	}
	return fault.Text(err, faultWords)
}

func faultWords(e *fault.Error, cause string) (string, bool) {
	key := "fault." + string(e.Code)
	if e.Code == batch.CodeRowNotCSV {
		// The CSV reader's reason, in the window's words where it is
		// one a clerk can fix; its own English never.
		if r := csvReason(e.Err); r != "" {
			key, cause = "batch.csv.row", lang.L("batch.csv."+r)
		}
	}
	data := map[string]any{"cause": cause}
	for n, v := range e.Fields {
		data[n] = v
	}
	s := lang.L(key, data)
	if s == key {
		return "", false
	}
	return s, true
}

// entryDetails is what a log entry says beyond its fields, in the window's
// language: its event through the catalog, or an older entry's prose as
// it is.
func entryDetails(e *auditlog.Entry) string {
	if e.Event == nil {
		return e.Details
	}
	if s, ok := faultWords(&fault.Error{Code: e.Event.Code, Fields: e.Event.Fields}, ""); ok {
		return s
	}
	return e.Event.String()
}

// csvReason names what the CSV reader stumbled on, for the catalog's
// "batch.csv.<reason>": a quote out of place, or a quoted field not
// closed; "" for anything else.
func csvReason(err error) string {
	switch {
	case errors.Is(err, csv.ErrBareQuote):
		return "bare-quote"
	case errors.Is(err, csv.ErrQuote):
		return "quote"
	}
	return ""
}
