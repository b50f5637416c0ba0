package fault_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/fault"
)

var errKind = errors.New("kind")

const (
	codeOuter fault.Code = "test.outer"
	codeInner fault.Code = "test.inner"
	codeBare  fault.Code = "test.bare"
)

func words(e *fault.Error, cause string) (string, bool) {
	switch e.Code {
	case codeOuter:
		return "outer " + e.Field("n") + " (" + cause + ")", true
	case codeInner:
		return "inner " + e.Field("file"), true
	}
	return "", false
}

func TestErrorIsMachineText(t *testing.T) {
	e := fault.New(codeOuter, "n", "3", "file", "a.pdf").Wrap(fs.ErrNotExist)
	if got, want := e.Error(), "test.outer{file=a.pdf n=3}: file does not exist"; got != want {
		t.Errorf("Error() %q, want %q", got, want)
	}
	if got := fault.New(codeBare).Error(); got != "test.bare" {
		t.Errorf("Error() %q", got)
	}
}

func TestIsAndAsSeeKindsAndCause(t *testing.T) {
	err := fmt.Errorf("row 2: %w", fault.New(codeInner, "file", "x").Also(errKind).Wrap(fs.ErrPermission))
	if !errors.Is(err, errKind) || !errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is through a fault: %v", err)
	}
	e, ok := fault.As(err)
	if !ok || e.Code != codeInner || e.Field("file") != "x" {
		t.Errorf("As: %v %v", e, ok)
	}
}

func TestTextRendersEveryFaultInPlace(t *testing.T) {
	inner := fault.New(codeInner, "file", "lön.pdf")
	outer := fault.New(codeOuter, "n", "2").Wrap(inner)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("plain"), "plain"},
		{inner, "inner lön.pdf"},
		{fmt.Errorf("row 3: %w", inner), "row 3: inner lön.pdf"},
		{outer, "outer 2 (inner lön.pdf)"},
		{fmt.Errorf("%w; %w", fault.New(codeInner, "file", "a"), fault.New(codeInner, "file", "b")), "inner a; inner b"},
		// A code the catalog lacks keeps its machine text, so nothing is lost.
		{fmt.Errorf("x: %w", fault.New(codeBare)), "x: test.bare"},
	} {
		if got := fault.Text(tc.err, words); got != tc.want {
			t.Errorf("Text(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if strings.Contains(fault.Text(outer, words), "test.") {
		t.Error("machine text left in a rendered message")
	}
}
