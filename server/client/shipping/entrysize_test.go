package shipping

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/client/clienttest"
	"github.com/kuvert-app/kuvert/server/servertest"
)

// A batch host that seals folders of many files with long names writes
// entries of tens of kilobytes; 500 of them are more than the server reads
// in one request (16 MB). The queue must still ship them all instead of
// sending the same oversized batch forever (the server answered 400 "not
// valid JSON", which the queue took as a refusal and stopped at).
func TestQueueShipsMaxSizeEntries(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	l := clienttest.Log(t)
	name := strings.Repeat("lönespecifikation-förvaltning-", 14) // ~450 bytes
	var n int
	for i := 0; i < 520; i++ {
		files := make([]auditlog.FileRef, auditlog.MaxFiles)
		for j := range files {
			files[j] = auditlog.FileRef{Name: fmt.Sprintf("%s%03d-%03d.pdf", name, i, j), Size: 123456, SHA256: strings.Repeat("ab", 32)}
		}
		if _, err := l.Append(auditlog.Entry{Action: auditlog.ActionSeal, Case: "KS 2026/5", Format: "zip", Files: files}); err != nil {
			t.Fatal(err)
		}
		n++
	}
	q := &Queue{Log: l, Client: clienttest.Client(t, srv.URL, srv.Device)}
	res, err := q.Ship(context.Background())
	if err != nil {
		t.Fatalf("ship: %v (shipped %d of %d)", err, res.Shipped, n)
	}
	if res.Shipped != n || res.Waiting != 0 {
		t.Fatalf("shipped %d, waiting %d; want %d, 0", res.Shipped, res.Waiting, n)
	}
	if got := central(t, srv); len(got) != n {
		t.Fatalf("central log holds %d of pc1's entries, want %d", len(got), n)
	}
}
