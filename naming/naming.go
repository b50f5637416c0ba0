// Package naming is kuvert's one rule for the archive names it proposes:
// `kuvert encrypt` without -o, the desktop app's seal form and every batch
// row without an output column name their archives here (three
// policies became this one).
//
// An archive's name travels in the clear (in the e-mail, in a zip's
// directory), so the package must never put any part of a personnummer or
// samordningsnummer into a name, masked or not, and never propose a name
// Windows cannot hold. It decides names only: where a file goes and
// whether it may be replaced are its callers' business. The crypto core
// (crypt) does not import it.
package naming

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/personnummer"
)

// Fallback is the stem of an archive whose label held nothing but a
// personnummer (or nothing at all).
const Fallback = "bilagor"

// windowsReserved are device names Windows refuses as a file's stem.
var windowsReserved = map[string]bool{"con": true, "prn": true, "aux": true, "nul": true,
	"com1": true, "com2": true, "com3": true, "com4": true, "com5": true, "com6": true, "com7": true, "com8": true, "com9": true,
	"lpt1": true, "lpt2": true, "lpt3": true, "lpt4": true, "lpt5": true, "lpt6": true, "lpt7": true, "lpt8": true, "lpt9": true,
	// The console and clock devices (the recipient page keeps the same list).
	"conin$": true, "conout$": true, "clock$": true}

// Stem makes label (a file name without its extension, or a person's
// name) fit to begin an archive's name: invisible format characters go
// ([StripFormat]: a right-to-left override makes "lön‮fdp.exe" show as
// "lönexe.pdf"), every personnummer is removed whole
// ([personnummer.Remove]), characters Windows forbids and control
// characters become "_", trailing dots and spaces go, and a Windows
// device name (CON, NUL, …) gets a "_". An empty result is [Fallback].
// Stem(Stem(s)) == Stem(s).
func Stem(label string) string {
	s := personnummer.Remove(StripFormat(label))
	s = strings.Map(func(c rune) rune {
		if strings.ContainsRune(`<>:"/\|?*`, c) || c < 32 || c == 0x7f {
			return '_'
		}
		return c
	}, s)
	s = strings.TrimRight(strings.TrimSpace(s), ". ")
	if s == "" {
		return Fallback
	}
	if windowsReserved[strings.ToLower(s)] {
		s += "_"
	}
	return s
}

// StripFormat removes the characters of Unicode category Cf: the
// bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
// U+061C), zero-width characters (U+200B–U+200D, U+2060, U+FEFF), soft
// hyphens and the like. None of them shows, so in a name they only hide
// or reorder what the reader sees (Unicode TR 36, section 2.3).
func StripFormat(s string) string {
	return strings.Map(func(c rune) rune {
		if unicode.Is(unicode.Cf, c) {
			return -1
		}
		return c
	}, s)
}

// ErrName is an archive name given by a person (a batch manifest's arkiv
// column) that cannot be used as it is.
var ErrName = errors.New("not a usable archive name")

// Archive checks an archive name a person chose and returns it as it will
// be written: invisible format characters are stripped ([StripFormat]);
// the name must end in .zip for zip and in .age for age, and its stem
// must already be what [Stem] would make of it — no control characters
// (a CR/LF would reach the e-mail), no characters Windows forbids, no
// personnummer, no trailing dot or space, no device name. The errors wrap
// [ErrName] and say what is wrong, without repeating the name.
func Archive(name string, f crypt.Format) (string, error) {
	s := StripFormat(name)
	ext := ".zip"
	if f == crypt.FormatAge {
		ext = ".age"
	}
	lower := strings.ToLower(s)
	if !strings.HasSuffix(lower, ext) {
		return "", fmt.Errorf("%w: it must end in %s for a %s archive", ErrName, ext, f)
	}
	stem := s[:len(s)-len(ext)]
	if inner := strings.ToLower(filepath.Ext(stem)); f == crypt.FormatAge && inner != "" {
		// LABEL.pdf.age or LABEL.zip.age: the inner extension is part of
		// the stem's rule too.
		stem = stem[:len(stem)-len(inner)]
		if inner != Stem(inner) || len(personnummer.FindAll(inner)) > 0 {
			return "", fmt.Errorf("%w: its inner extension holds characters a file name cannot", ErrName)
		}
	}
	switch {
	case strings.ContainsAny(stem, `/\`):
		return "", fmt.Errorf("%w: a file name, not a path", ErrName)
	case strings.IndexFunc(stem, unicode.IsControl) >= 0:
		return "", fmt.Errorf("%w: it holds a control character (a line break or tab)", ErrName)
	case strings.ContainsAny(stem, `<>:"|?*`):
		return "", fmt.Errorf("%w: it holds a character Windows forbids in file names (< > : \" | ? *)", ErrName)
	case len(personnummer.FindAll(stem)) > 0:
		return "", fmt.Errorf("%w: it holds a personnummer, and the name travels in the clear", ErrName)
	case strings.TrimSpace(stem) == "":
		return "", fmt.Errorf("%w: it has nothing before %s", ErrName, ext)
	case stem != Stem(stem):
		return "", fmt.Errorf("%w: it ends in a dot or space, or is a name Windows keeps for devices (CON, NUL, COM1, …)", ErrName)
	}
	return s, nil
}

// File returns the file name of an archive of inputs in format f, named
// after label (passed through [Stem]): LABEL.zip; for age, LABEL.EXT.age
// for one file, keeping its extension so that `age -d` gives back a file
// that opens (lönespec.pdf.age), or LABEL.zip.age when age wraps several
// files or a folder in a zip ([crypt.AgeBundle]).
func File(label string, inputs []crypt.Input, f crypt.Format) string {
	stem := Stem(label)
	switch {
	case f != crypt.FormatAge:
		return stem + ".zip"
	case len(inputs) == 0 || crypt.AgeBundle(inputs):
		return stem + ".zip.age"
	}
	ext := filepath.Ext(inputs[0].Name)
	if ext != Stem(ext) || len(personnummer.FindAll(ext)) > 0 {
		ext = "" // an extension no name may carry
	}
	return stem + ext + ".age"
}

// Beside returns the archive path proposed for inputs sealed from the
// paths the user gave (userPaths, as typed or dropped): in the folder of
// the first, named after it without its extension.
func Beside(inputs []crypt.Input, f crypt.Format, userPaths []string) string {
	first := filepath.Clean(userPaths[0])
	dir, base := filepath.Dir(first), filepath.Base(first)
	if abs, err := filepath.Abs(first); err == nil && (base == "." || base == string(filepath.Separator)) {
		dir, base = filepath.Dir(abs), filepath.Base(abs)
	}
	label := base
	if fi, err := os.Stat(first); err != nil || !fi.IsDir() {
		if stem := strings.TrimSuffix(base, filepath.Ext(base)); stem != "" {
			label = stem
		}
	}
	return filepath.Join(dir, File(label, inputs, f))
}

// Free returns path if nothing is there, else the first free
// "NAME (2).zip", "NAME (3).zip", … keeping the archive's whole extension
// (.zip.age stays together). For callers that must never replace a file
// and may choose another name (the desktop app).
func Free(path string) string {
	ext := filepath.Ext(path)
	for _, e := range []string{".zip.age", ".age", ".zip"} {
		if strings.HasSuffix(path, e) {
			ext = e
			break
		}
	}
	stem := strings.TrimSuffix(path, ext)
	out := path
	for i := 2; ; i++ {
		if _, err := os.Lstat(out); os.IsNotExist(err) {
			return out
		}
		out = fmt.Sprintf("%s (%d)%s", stem, i, ext)
	}
}
