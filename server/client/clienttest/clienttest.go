// Package clienttest holds what the tests of the server's client
// packages (the API client's users: the shipping queue, the seen heads,
// the SMS relay) set up alike: a local log, a sealing in it, a client.
// Tests only: nothing shipped imports it.
package clienttest

import (
	"path/filepath"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/client"
)

// Log opens a new local compliance log in a temporary folder.
func Log(t *testing.T) *auditlog.Log {
	t.Helper()
	dir := t.TempDir()
	l, err := auditlog.Open(auditlog.Options{Dir: filepath.Join(dir, "log"), KeyDir: filepath.Join(dir, "keys"), Tool: "kuvert test"})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Seal appends a sealing of case caseNo to l.
func Seal(t *testing.T, l *auditlog.Log, caseNo string) *auditlog.Entry {
	t.Helper()
	e, err := l.Append(auditlog.Entry{Action: auditlog.ActionSeal, Case: caseNo, Format: "zip"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Client makes a client for url with tok, or fails the test.
func Client(t *testing.T, url, tok string) *client.Client {
	t.Helper()
	c, err := client.New(url, tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
