package crypt

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age/armor"
)

// scryptAgeFile crafts the header of a passphrase age file whose scrypt
// stanza asks for work factor logN ("-> scrypt SALT LOGN"), with random
// body and MAC. Making a real one at 21 or more costs gigabytes, and the
// point is that kuvert refuses before doing any of that work, so the
// stanza text is all a test needs.
func scryptAgeFile(t *testing.T, logN int, armored bool) string {
	t.Helper()
	b64 := base64.RawStdEncoding.EncodeToString
	var b bytes.Buffer
	b.WriteString("age-encryption.org/v1\n")
	b.WriteString("-> scrypt " + b64(randomBytes(t, 16)) + " " + strconv.Itoa(logN) + "\n")
	b.WriteString(b64(randomBytes(t, 32)) + "\n")
	b.WriteString("--- " + b64(randomBytes(t, 32)) + "\n")
	b.Write(randomBytes(t, 16+64))
	data := b.Bytes()
	name := "x.csv.age"
	if armored {
		var a bytes.Buffer
		w := armor.NewWriter(&a)
		w.Write(data)
		w.Close()
		data, name = a.Bytes(), "x.csv.age.asc"
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A hostile age file's work factor is refused before
// any scrypt work, with a message that says why, whether or not a
// password is given (the CLI should not even ask for one).
func TestScryptWorkFactorCapped(t *testing.T) {
	for _, logN := range []int{30, 23, 22, 21} {
		for _, armored := range []bool{false, true} {
			p := scryptAgeFile(t, logN, armored)
			if _, err := Inspect(p); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "work factor "+strconv.Itoa(logN)) {
				t.Fatalf("inspect logN=%d armored=%v: err = %v, want ErrUnsafe naming the work factor", logN, armored, err)
			}
			if _, err := Verify(t.Context(), p, OpenOptions{Credentials: Credentials{Password: "pw"}}); !errors.Is(err, ErrUnsafe) {
				t.Fatalf("verify logN=%d armored=%v: err = %v, want ErrUnsafe", logN, armored, err)
			}
			dest := filepath.Join(t.TempDir(), "out")
			if _, err := extractTo(p, dest, "pw", Limits{}); !errors.Is(err, ErrUnsafe) {
				t.Fatalf("extract logN=%d: err = %v, want ErrUnsafe", logN, err)
			}
			assertNothingLeft(t, dest)
		}
	}
}

// What kuvert and age write (18) passes, with a margin up to
// MaxScryptWorkFactor; the check reads only the stanza.
func TestScryptWorkFactorPolicy(t *testing.T) {
	if MaxScryptWorkFactor < 18 || MaxScryptWorkFactor > 20 {
		t.Fatalf("MaxScryptWorkFactor = %d: age writes 18; more than 20 costs gigabytes", MaxScryptWorkFactor)
	}
	for logN := 1; logN <= MaxScryptWorkFactor; logN++ {
		p := scryptAgeFile(t, logN, false)
		info, err := Inspect(p)
		if err != nil || !info.Passphrase || info.ScryptWorkFactor != logN {
			t.Fatalf("logN=%d: %+v %v", logN, info, err)
		}
	}
	// A real file kuvert wrote reads as 18.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), []byte("hej"), time.Time{})
	out := filepath.Join(dir, "a.txt.age")
	sealFiles(t, out, FormatAge, mustPassword(t), filepath.Join(dir, "a.txt"))
	if info, err := Inspect(out); err != nil || info.ScryptWorkFactor != 18 {
		t.Fatalf("kuvert's own file: %+v %v", info, err)
	}
}
