package envelope

import (
	"context"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/sms"
)

// keySender records the messages it is given.
type keySender struct{ got []sms.Message }

func (k *keySender) Name() string { return "keys" }
func (k *keySender) Send(_ context.Context, m sms.Message) (sms.Receipt, error) {
	k.got = append(k.got, m)
	return sms.Receipt{Provider: "keys", ID: "id", Status: sms.StatusQueued}, nil
}
func (k *keySender) Status(context.Context, string) (sms.Receipt, error) { return sms.Receipt{}, nil }

// Every text carries an idempotency key: the sealing's ID and the
// reference when the sealing is known, else a random one; a provider
// that sends once per key (the kuvert server) never texts one sealing's
// password twice.
func TestTextsCarryAKey(t *testing.T) {
	l, so, _ := setup(t)
	ks := &keySender{}
	res, err := Seal(context.Background(), l, Request{Seal: so, Case: "KS 2026/3", SMS: &SMS{Policy: pol(ks), To: "070-123 45 67"}})
	if err != nil {
		t.Fatal(err)
	}
	m := ks.got[0]
	if m.Key != res.Entry.ID+"/"+res.Delivery.Ref || m.Refers != res.Entry.ID || m.Ref != res.Delivery.Ref || m.Case != "KS 2026/3" {
		t.Fatalf("message %+v, sealing %s ref %s", m, res.Entry.ID, res.Delivery.Ref)
	}
	if _, err := SendPassword(context.Background(), l, pol(ks), PasswordSMS{To: "070-123 45 67", Password: so.Password.Value, Refers: res.Entry.ID, Ref: "abc234"}); err != nil {
		t.Fatal(err)
	}
	if k := ks.got[1].Key; k != res.Entry.ID+"/abc234" {
		t.Fatalf("SendPassword key %q", k)
	}
	for range 2 {
		if _, err := SendPassword(context.Background(), l, pol(ks), PasswordSMS{To: "070-123 45 67", Password: so.Password.Value}); err != nil {
			t.Fatal(err)
		}
	}
	a, b := ks.got[2].Key, ks.got[3].Key
	if a == "" || a == b || !strings.HasPrefix(a, "once/") {
		t.Fatalf("keys without a sealing: %q %q", a, b)
	}
}
