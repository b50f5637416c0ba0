package sms

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"crypto/rand"
)

// Console is the embedded default when no provider is configured: it
// prints the message to the terminal, clearly marked as not sent, so that
// kuvert's main job runs on a fresh machine without any account.
type Console struct {
	W  io.Writer
	mu sync.Mutex
}

var _ Sender = (*Console)(nil)

func (c *Console) Name() string { return "console" }

// Demo is true: the console sends nothing.
func (c *Console) Demo() bool { return true }

func (c *Console) Send(ctx context.Context, m Message) (Receipt, error) {
	if err := ctx.Err(); err != nil {
		return Receipt{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id := "demo-" + randHex(6)
	fmt.Fprintf(c.W, "\n┌─ DEMO: inget sms skickades / no SMS was sent ─────────────\n│ till / to: %s\n│ %s\n└─ Ställ in en sms-leverantör: se docs/sms.md / configure a provider\n\n", MaskNumber(m.To), m.Body)
	return Receipt{Provider: c.Name(), ID: id, Status: StatusDemo}, nil
}

func (c *Console) Status(ctx context.Context, id string) (Receipt, error) {
	return Receipt{Provider: c.Name(), ID: id, Status: StatusDemo}, nil
}

// Outbox appends each message as a JSON line to a file. It is for tests
// and dry runs only: it writes passwords to disk (mode 0600).
type Outbox struct {
	Path string
	mu   sync.Mutex
}

var _ Sender = (*Outbox)(nil)

// OutboxRecord is one line of an outbox file.
type OutboxRecord struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	To   string    `json:"to"`
	Body string    `json:"body"`
}

func (o *Outbox) Name() string { return "outbox" }

func (o *Outbox) Send(ctx context.Context, m Message) (Receipt, error) {
	if err := ctx.Err(); err != nil {
		return Receipt{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	rec := OutboxRecord{ID: "outbox-" + randHex(8), Time: time.Now(), To: m.To, Body: m.Body}
	b, _ := json.Marshal(rec)
	f, err := os.OpenFile(o.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return Receipt{}, &ProviderError{Message: "cannot write the outbox file " + o.Path}
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return Receipt{}, &ProviderError{Message: "cannot write the outbox file " + o.Path}
	}
	return Receipt{Provider: o.Name(), ID: rec.ID, Status: StatusOutbox}, nil
}

func (o *Outbox) Status(ctx context.Context, id string) (Receipt, error) {
	return Receipt{Provider: o.Name(), ID: id, Status: StatusOutbox}, nil
}

// ReadOutbox returns the records of an outbox file, for tests.
func ReadOutbox(path string) ([]OutboxRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []OutboxRecord
	dec := json.NewDecoder(f)
	for dec.More() {
		var r OutboxRecord
		if err := dec.Decode(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var _ Finder = (*Outbox)(nil)

// FindRef looks for a message to to whose text carries "ref REF".
func (o *Outbox) FindRef(ctx context.Context, to, ref string) (Receipt, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	recs, err := ReadOutbox(o.Path)
	if os.IsNotExist(err) {
		return Receipt{}, false, nil
	}
	if err != nil {
		return Receipt{}, false, err
	}
	for _, r := range recs {
		if r.To == to && HasRef(r.Body, ref) {
			return Receipt{Provider: o.Name(), ID: r.ID, Status: StatusOutbox}, true, nil
		}
	}
	return Receipt{}, false, nil
}
