package crypt

import (
	"crypto/rand"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/ccojocar/zxcvbn-go"
	"github.com/sethvargo/go-diceware/diceware"
)

// Alphabet is the character set of generated passwords: GSM-7 basic (one
// SMS character each), lower case only, and without the look-alikes
// 0 O o 1 l I i, so a recipient can read it from a phone and type it.
const Alphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// MinPasswordBits is the floor for a user-chosen password, as estimated by
// zxcvbn. A GPU tries about 10^7 WinZip-AES passwords a second; 2^64
// guesses take it some 58,000 years.
const MinPasswordBits = 64

// Default sizes of generated secrets.
const (
	DefaultLength    = 20 // 20 × log2(31) ≈ 99 bits
	DefaultGroupSize = 5
	DefaultWords     = 7 // 7 × log2(7776) ≈ 90 bits
	MinGeneratedBits = 80
	// MaxWords and MaxLength are the largest generated passwords that
	// still fit [MaxZipPasswordBytes], so that whatever kuvert generates
	// seals a zip 7-Zip opens: 10 EFF words of at most 9 letters with 9
	// dashes are 99 bytes (129 bits); 83 characters with 16 dashes are 99.
	MaxWords  = 10
	MaxLength = 83
)

// Password is a generated or user-supplied secret with its strength.
type Password struct {
	Value string
	// Bits is the entropy of a generated password, computed from the
	// alphabet or word list; for a user's password it is zxcvbn's estimate.
	Bits float64
	// Origin is "generated" or "user".
	Origin string
}

// String hides the value, so a Password printed by mistake leaks nothing.
func (p Password) String() string { return "[password redacted]" }

// GoString hides the value from %#v as well.
func (p Password) GoString() string { return "crypt.Password{[redacted]}" }

// GenOptions selects what [Generate] makes. The zero value gives the
// default: 20 characters from [Alphabet] in groups of 5.
type GenOptions struct {
	Length    int // characters, without group separators
	GroupSize int // 0 = default; negative = no grouping
	Words     int // >0: a passphrase of that many EFF large-list words
}

// Generate makes a password with crypto/rand. It refuses settings that give
// fewer than [MinGeneratedBits] bits.
func Generate(o GenOptions) (Password, error) {
	if o.Words > MaxWords {
		return Password{}, fmt.Errorf("%w: at most %d words: more can pass %d bytes, longer than 7-Zip takes for a zip", ErrInput, MaxWords, MaxZipPasswordBytes)
	}
	if o.Length > MaxLength {
		return Password{}, fmt.Errorf("%w: at most %d characters: more pass %d bytes with the dashes, longer than 7-Zip takes for a zip", ErrInput, MaxLength, MaxZipPasswordBytes)
	}
	if o.Words > 0 {
		bits := float64(o.Words) * math.Log2(7776)
		if bits < MinGeneratedBits {
			return Password{}, fmt.Errorf("%w: %d words give %.0f bits, at least %d are needed", ErrWeakPassword, o.Words, bits, MinGeneratedBits)
		}
		words, err := diceware.Generate(o.Words)
		if err != nil {
			return Password{}, err
		}
		return Password{Value: strings.Join(words, "-"), Bits: bits, Origin: "generated"}, nil
	}
	n := o.Length
	if n == 0 {
		n = DefaultLength
	}
	bits := float64(n) * math.Log2(float64(len(Alphabet)))
	if bits < MinGeneratedBits {
		return Password{}, fmt.Errorf("%w: %d characters give %.0f bits, at least %d are needed", ErrWeakPassword, n, bits, MinGeneratedBits)
	}
	group := o.GroupSize
	if group == 0 {
		group = DefaultGroupSize
	}
	var b strings.Builder
	max := big.NewInt(int64(len(Alphabet)))
	for i := 0; i < n; i++ {
		if group > 0 && i > 0 && i%group == 0 {
			b.WriteByte('-')
		}
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return Password{}, err
		}
		b.WriteByte(Alphabet[k.Int64()])
	}
	return Password{Value: b.String(), Bits: bits, Origin: "generated"}, nil
}

// Estimate rates a user-chosen password with zxcvbn (dictionary words,
// keyboard walks, dates, repeats), so "Sommar2026!" scores what it is
// worth and not what its length suggests.
func Estimate(pw string) float64 {
	if pw == "" {
		return 0
	}
	return zxcvbn.PasswordStrength(pw, []string{"kuvert", "lösenord", "losenord"}).Entropy
}

// UserPassword wraps a password the user chose, after checking it against
// [MinPasswordBits] unless allowWeak. The error never contains the password.
func UserPassword(pw string, allowWeak bool) (Password, error) {
	if pw == "" {
		return Password{}, fmt.Errorf("%w: the password is empty", ErrInput)
	}
	if strings.ContainsAny(pw, "\r\n") {
		return Password{}, fmt.Errorf("%w: the password contains a line break", ErrInput)
	}
	bits := Estimate(pw)
	if bits < MinPasswordBits && !allowWeak {
		return Password{}, fmt.Errorf("%w: about %.0f bits of guessing, at least %d needed", ErrWeakPassword, bits, MinPasswordBits)
	}
	return Password{Value: pw, Bits: bits, Origin: "user"}, nil
}
