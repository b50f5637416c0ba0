package crypt

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/sethvargo/go-diceware/diceware"
)

func TestGenerateDefault(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		p, err := Generate(GenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Value) != 23 || strings.Count(p.Value, "-") != 3 {
			t.Fatalf("shape: %q", p.Value)
		}
		for _, r := range strings.ReplaceAll(p.Value, "-", "") {
			if !strings.ContainsRune(Alphabet, r) {
				t.Fatalf("character %q outside the alphabet", r)
			}
		}
		if seen[p.Value] {
			t.Fatal("repeated password")
		}
		seen[p.Value] = true
		if math.Abs(p.Bits-20*math.Log2(31)) > 1e-9 || p.Bits < 80 || p.Origin != "generated" {
			t.Fatalf("bits %v origin %s", p.Bits, p.Origin)
		}
	}
}

func TestAlphabetHasNoLookAlikes(t *testing.T) {
	if strings.ContainsAny(Alphabet, "0Oo1lIi") || len(Alphabet) != 31 {
		t.Fatalf("alphabet %q", Alphabet)
	}
}

// Every character of the alphabet is uniformly likely (chi-square over
// 62,000 draws; the bound fails by chance about once in 10^5 runs).
func TestGenerateUniform(t *testing.T) {
	counts := map[rune]int{}
	n := 0
	for i := 0; i < 2000; i++ {
		p, _ := Generate(GenOptions{Length: 31, GroupSize: -1})
		for _, r := range p.Value {
			counts[r]++
			n++
		}
	}
	exp := float64(n) / 31
	chi := 0.0
	for _, r := range Alphabet {
		d := float64(counts[r]) - exp
		chi += d * d / exp
	}
	if chi > 70 { // df = 30
		t.Fatalf("chi-square %.1f: not uniform", chi)
	}
}

func TestGenerateWords(t *testing.T) {
	p, err := Generate(GenOptions{Words: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(strings.Split(p.Value, "-")) < 7 || math.Abs(p.Bits-7*math.Log2(7776)) > 1e-9 {
		t.Fatalf("%q %v", p.Value, p.Bits)
	}
	if _, err := Generate(GenOptions{Words: 5}); !errors.Is(err, ErrWeakPassword) {
		t.Fatalf("5 words (64.6 bits) accepted: %v", err)
	}
	if _, err := Generate(GenOptions{Length: 12}); !errors.Is(err, ErrWeakPassword) {
		t.Fatalf("12 characters (59 bits) accepted: %v", err)
	}
}

func TestUserPassword(t *testing.T) {
	for _, c := range []struct {
		pw string
		ok bool
	}{
		{"Sommar2026!", false},
		{"password123456789", false},
		{"qwertyuiopasdfghjkl", false},
		{"lösenordlösenordlösenord", false},
		{"k7pq-x3mh-b9rt-w4nd-c8fz", true},
		{"correct-horse-battery-staple-cloud-lamp", true},
	} {
		p, err := UserPassword(c.pw, false)
		if c.ok != (err == nil) {
			t.Errorf("%q: err=%v bits=%.1f", c.pw, err, Estimate(c.pw))
		}
		if err != nil {
			if !errors.Is(err, ErrWeakPassword) || strings.Contains(err.Error(), c.pw) {
				t.Errorf("%q: bad error %v", c.pw, err)
			}
			continue
		}
		if p.Origin != "user" || p.Bits < MinPasswordBits {
			t.Errorf("%q: %+v", c.pw, p)
		}
	}
	if _, err := UserPassword("Sommar2026!", true); err != nil {
		t.Fatalf("weak allowed: %v", err)
	}
	if _, err := UserPassword("", true); err == nil {
		t.Fatal("empty accepted")
	}
}

func TestPasswordNeverPrinted(t *testing.T) {
	p, _ := Generate(GenOptions{})
	for _, s := range []string{p.String(), p.GoString()} {
		if strings.Contains(s, p.Value) {
			t.Fatal("password printed")
		}
	}
}

// Whatever kuvert generates fits a zip 7-Zip opens (at most
// MaxZipPasswordBytes): the worst case of MaxWords words is counted from
// the word list itself, and longer settings are refused.
func TestGeneratedFitsZip(t *testing.T) {
	wl := diceware.WordListEffLarge()
	longest, words := 0, 0
	for i := 11111; i <= 66666; i++ {
		if w := wl.WordAt(i); w != "" {
			longest, words = max(longest, len(w)), words+1
		}
	}
	if words != 7776 {
		t.Fatalf("read %d words of the EFF list, want 7776", words)
	}
	if worst := MaxWords*longest + MaxWords - 1; worst > MaxZipPasswordBytes {
		t.Fatalf("%d words of up to %d letters make %d bytes, over %d", MaxWords, longest, worst, MaxZipPasswordBytes)
	}
	for range 200 {
		p, err := Generate(GenOptions{Words: MaxWords})
		if err != nil || CheckZipPassword(p.Value) != nil {
			t.Fatalf("%d words: %d bytes, %v", MaxWords, len(p.Value), err)
		}
	}
	p, err := Generate(GenOptions{Length: MaxLength})
	if err != nil || len(p.Value) != MaxZipPasswordBytes {
		t.Fatalf("%d characters: %d bytes, %v", MaxLength, len(p.Value), err)
	}
	if _, err := Generate(GenOptions{Words: MaxWords + 1}); !errors.Is(err, ErrInput) {
		t.Fatalf("%d words accepted: %v", MaxWords+1, err)
	}
	if _, err := Generate(GenOptions{Length: MaxLength + 1}); !errors.Is(err, ErrInput) {
		t.Fatalf("%d characters accepted: %v", MaxLength+1, err)
	}
}
