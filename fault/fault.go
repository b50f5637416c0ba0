// Package fault is kuvert's domain error: a stable machine code, the
// named values it is about and the cause it wraps. The core packages
// (batch, envelope, …) return it for the errors a person reads; each
// shell turns the code into its own words through its catalog (the CLI's
// two-language lines, the desktop app's Swedish or English).
//
// It must never hold words for people, a password or anything a shell
// would have to parse: fields are values (a file name, a row number), not
// sentences. Codes are constants of type [Code] in their domain package,
// so a test can find every one of them (see [faulttest]). The log's
// events (auditlog.Event: what an entry says, in a code and values) use
// the same [Code], so one catalog per shell words both.
package fault

import (
	"errors"
	"sort"
	"strings"
)

// Code names one kind of failure, stable across versions and languages:
// "<package>.<what>", e.g. "batch.file-missing". A catalog key.
type Code string

// Error is a domain error. Its Error method is machine text (the code,
// its fields and the cause), for logs and tests; people read the
// shells' rendering of it ([Text]).
type Error struct {
	Code   Code
	Fields map[string]string
	// Kinds are the sentinels it also is (crypt.ErrInput, …), so that
	// errors.Is and the exit-code table keep working.
	Kinds []error
	// Err is the cause, read with errors.Is/As; may be nil.
	Err error
}

// New returns an error of code with fields given as name, value pairs.
func New(code Code, kv ...string) *Error {
	e := &Error{Code: code}
	if len(kv) > 0 {
		e.Fields = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			e.Fields[kv[i]] = kv[i+1]
		}
	}
	return e
}

// Wrap sets the cause and returns e.
func (e *Error) Wrap(cause error) *Error { e.Err = cause; return e }

// Also adds sentinels e also is and returns e.
func (e *Error) Also(kinds ...error) *Error { e.Kinds = append(e.Kinds, kinds...); return e }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if len(e.Fields) > 0 {
		names := make([]string, 0, len(e.Fields))
		for n := range e.Fields {
			names = append(names, n)
		}
		sort.Strings(names)
		b.WriteByte('{')
		for i, n := range names {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(n + "=" + e.Fields[n])
		}
		b.WriteByte('}')
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap gives the kinds and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	out := append([]error(nil), e.Kinds...)
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// Field is the named value, "" when e has none of that name.
func (e *Error) Field(name string) string { return e.Fields[name] }

// Words renders one fault for a shell: its own line, given the cause
// already rendered ("" when it has none). ok is false when the shell's
// catalog lacks the code; [Text] then keeps the machine text.
type Words func(e *Error, cause string) (line string, ok bool)

// Text is err's message with each fault in it rendered by words: the
// text around a fault (a "row 3: " prefix that wraps it with %w) stays
// as it is, and a fault's cause is rendered the same way before words
// sees it. An error holding no fault reads as err.Error().
func Text(err error, words Words) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	for _, e := range outermost(err) {
		cause := Text(e.Err, words)
		line, ok := words(e, cause)
		if !ok {
			continue
		}
		msg = strings.Replace(msg, e.Error(), line, 1)
	}
	return msg
}

// outermost lists the faults in err's tree that no other fault wraps.
func outermost(err error) []*Error {
	if e, ok := err.(*Error); ok {
		return []*Error{e}
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if w := u.Unwrap(); w != nil {
			return outermost(w)
		}
	case interface{ Unwrap() []error }:
		var out []*Error
		for _, w := range u.Unwrap() {
			out = append(out, outermost(w)...)
		}
		return out
	}
	return nil
}

// As is errors.As for a fault: the first one in err's tree.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
