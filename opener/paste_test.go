package opener

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/crypt"
)

// The password as a recipient pastes it on a phone: the whole SMS, or
// capitals and spaces for dashes. The page tries the input, then the
// generated password in it (the rule of crypt.PasteCandidates); a password
// that is not the archive's still says "Fel lösenord".
func TestPastedPasswordOpens(t *testing.T) {
	// The fixtures' zips are sealed with testPassword, a generated one.
	pw := crypt.Password{Value: testPassword, Origin: "generated"}
	files := []file{{"lönelista.csv", payroll(4<<10, 31)}}
	zip := seal(t, filepath.Join(t.TempDir(), "lönelista.zip"), files, crypt.SealOptions{Password: pw})
	ageArch := seal(t, filepath.Join(t.TempDir(), "lönelista.csv.age"), files, crypt.SealOptions{Format: crypt.FormatAge, Password: pw})
	sms := "Lösenord till krypterad bilaga i e-post från Sundsvalls kommun. Svara aldrig med lösenordet. Ref abc234: " + pw.Value
	for _, c := range []struct {
		name, arch, typed string
	}{
		{"whole SMS, zip", zip, sms},
		{"capitals and spaces, zip", zip, " " + strings.ToUpper(strings.ReplaceAll(pw.Value, "-", " ")) + " "},
		{"no dashes, age", ageArch, strings.ReplaceAll(pw.Value, "-", "")},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := newTab(t, tabOptions{width: 390, height: 844, mobile: true})
			r := tb.open(c.arch, c.typed, "")
			if r.Error != "" || len(r.Entries) != 1 {
				t.Fatalf("got %+v", r)
			}
			want(t, tb.save(1), files)
		})
	}
	tb := newTab(t, tabOptions{})
	wrong := []byte(pw.Value)
	wrong[0] ^= 1
	if r := tb.open(zip, " "+string(wrong)+" ", ""); !strings.Contains(r.Error, msgWrongPassword) || len(r.Entries) != 0 {
		t.Fatalf("another password: %+v", r)
	}
}
