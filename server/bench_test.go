package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/serverproc"
)

// durableCluster is a PostgreSQL with fsync on, for numbers that mean
// something; started by the first benchmark that needs it.
var (
	durableOnce    sync.Once
	durableCluster *pgtest.Cluster
	durableErr     error
)

func durableDB(b *testing.B) string {
	durableOnce.Do(func() { durableCluster, durableErr = pgtest.Start(pgtest.Options{Durable: true}) })
	if durableErr != nil {
		b.Fatal(durableErr)
	}
	return pgtest.DB(b, durableCluster)
}

// BenchmarkAppend measures appends through real `kuvert server run`
// processes on one database (fsync on): 32 clients each ship one
// sealing's entry per request, as a desktop does in passing. It reports
// appends per second and the 99th-percentile latency.
func BenchmarkAppend(b *testing.B) {
	for _, procs := range []int{1, 2} {
		b.Run(fmt.Sprintf("servers=%d", procs), func(b *testing.B) {
			url := durableDB(b)
			home := b.TempDir()
			key := filepath.Join(home, "server-signing.key")
			env := []string{"KUVERT_DATABASE_URL=" + url, "KUVERT_SERVER_SIGNING_KEY=" + key, "KUVERT_HOME=" + home}
			var servers []*serverproc.Proc
			for i := 0; i < procs; i++ {
				servers = append(servers, serverproc.Start(b, env))
			}
			skey, _ := os.ReadFile(key)
			st, err := OpenStore(context.Background(), url, string(bytes.TrimSpace(skey)))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			const clients = 32
			var toks []string
			for c := 0; c < clients; c++ {
				tok, err := st.AddToken(context.Background(), fmt.Sprint("pc", c), "device")
				if err != nil {
					b.Fatal(err)
				}
				toks = append(toks, tok)
			}
			tr := &http.Transport{MaxIdleConnsPerHost: clients}
			hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			var next atomic.Int64
			lat := make([][]time.Duration, clients)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func(c int) {
					defer wg.Done()
					srv := servers[c%procs]
					for next.Add(1) <= int64(b.N) {
						e := entry(auditlog.ActionSeal, "KS 2026/1")
						body, _ := json.Marshal(api.AppendRequest{Entries: []auditlog.Entry{e}})
						req, _ := http.NewRequest("POST", srv.URL+"/api/v1/entries", bytes.NewReader(body))
						req.Header.Set("Authorization", "Bearer "+toks[c])
						t0 := time.Now()
						resp, err := hc.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						resp.Body.Close()
						if resp.StatusCode != 200 {
							b.Errorf("status %d", resp.StatusCode)
							return
						}
						lat[c] = append(lat[c], time.Since(t0))
					}
				}(c)
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			var all []time.Duration
			for _, l := range lat {
				all = append(all, l...)
			}
			slices.Sort(all)
			if len(all) > 0 {
				b.ReportMetric(float64(len(all))/el.Seconds(), "appends/s")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
			}
			hd, _ := st.Head(context.Background())
			if hd.Size != int64(len(all)) {
				b.Fatalf("head %d, appended %d", hd.Size, len(all))
			}
		})
	}
}

// BenchmarkVerify1M measures `kuvert server verify`'s check of a central
// log of 1,000,000 entries (loaded in bulk, as devices would have shipped
// them).
func BenchmarkVerify1M(b *testing.B) {
	const n = 1_000_000
	url := durableDB(b)
	st := openStore(b, url, testKey(b))
	t0 := time.Now()
	if err := st.bulkLoad(context.Background(), n, payrollSealing); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d entries in %s", n, time.Since(t0).Round(time.Second))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := st.Verify(context.Background(), "")
		if err != nil || !res.OK || res.Entries != n {
			b.Fatalf("%+v %v", res, err)
		}
	}
}

// BenchmarkSearch measures the registrar's search (the page's list and
// its export run the same [Store.Search]) on a central log of 100,000
// entries ([aYearOfSealings]). Search decides on each entry's verified
// body, newest first, until it has limit+1 matches or the log ends, so
// a search that matches fewer than its limit reads every body its
// digits pre-filter lets through; "none" is that worst case. It
// reports, beside time and allocations, the rows each answer holds.
func BenchmarkSearch(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	st := openStore(b, durableDB(b), testKey(b))
	log := aYearOfSealings(n)
	t0 := time.Now()
	if err := st.bulkLoad(ctx, n, func(i int) (auditlog.Entry, string) { return log[i].e, log[i].device }); err != nil {
		b.Fatal(err)
	}
	// As autovacuum would have left a server's table.
	if _, err := st.pool.Exec(ctx, "VACUUM (ANALYZE) entries"); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d entries in %s", n, time.Since(t0).Round(time.Second))
	// A sealing halfway through the year without an SMS entry (its
	// reference is on it alone), and one with a five-digit case number.
	mid := n / 2
	for log[mid].e.Action != auditlog.ActionSeal || log[mid+1].e.Action == auditlog.ActionSMS {
		mid++
	}
	late := mid
	for len(longestDigits(log[late].e.Case)) < 5 {
		late++
	}
	m := log[mid].e
	to := digits(m.Delivery.To)
	day := m.When().In(Zone)
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, Zone)
	for _, c := range []struct {
		name string
		q    Search
	}{
		{"default", Search{}},
		{"case", Search{Case: m.Case}},
		{"case-5-digits", Search{Case: log[late].e.Case}},
		{"ref", Search{Ref: m.Delivery.Ref}},
		{"recipient", Search{Recipient: to[len(to)-2:]}},
		{"day", Search{From: day, To: day}},
		{"none", Search{Case: "BUN 2026/17"}},
	} {
		c.q.Limit = 500 // as ParseSearch sets it
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			rows := 0
			for i := 0; i < b.N; i++ {
				res, err := st.Search(ctx, c.q)
				if err != nil {
					b.Fatal(err)
				}
				rows = len(res.Entries)
			}
			if (rows == 0) != (c.name == "none") {
				b.Fatalf("%+v: %d rows", c.q, rows)
			}
			b.ReportMetric(float64(rows), "rows")
		})
	}
}

// shippedEntry is an entry and the device that shipped it.
type shippedEntry struct {
	e      auditlog.Entry
	device string
}

// aYearOfSealings is n entries of one municipality's year 2026 (in
// [Zone]), evenly spread, in the order devices ship them: sealings of
// one to three files, five to a case number (KS 2026/1 and up), each
// with a masked Swedish mobile number and its own reference; every
// fourth password is sent by the server's relay, whose SMS entry
// follows its sealing. The same n give the same entries.
func aYearOfSealings(n int) []shippedEntry {
	rng := rand.New(rand.NewPCG(2026, 22))
	const refAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"
	refs := map[string]bool{}
	newRef := func() string {
		for {
			var r [6]byte
			for i := range r {
				r[i] = refAlphabet[rng.IntN(len(refAlphabet))]
			}
			if !refs[string(r[:])] {
				refs[string(r[:])] = true
				return string(r[:])
			}
		}
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, Zone)
	step := start.AddDate(1, 0, 0).Sub(start) / time.Duration(n)
	out := make([]shippedEntry, 0, n)
	for k := 0; len(out) < n; k++ {
		at := start.Add(time.Duration(len(out)) * step)
		device := fmt.Sprintf("pc%03d", rng.IntN(200))
		e := auditlog.Entry{
			ID:       fmt.Sprintf("%s-%016x", at.Format("20060102"), rng.Uint64()),
			Time:     at.Format(time.RFC3339),
			Operator: fmt.Sprintf("handl%02d", rng.IntN(60)),
			Host:     strings.ToUpper(device),
			Tool:     "kuvert 1.4.0",
			Action:   auditlog.ActionSeal,
			Format:   "zip-aes256",
			Case:     fmt.Sprintf("KS 2026/%d", k/5+1),
			Delivery: &auditlog.Delivery{
				Provider: "kuvert-server",
				To:       fmt.Sprintf("+46 7%c-*** ** %02d", "02369"[rng.IntN(5)], rng.IntN(100)),
				Status:   auditlog.StatusPending,
				Ref:      newRef(),
			},
		}
		for f := 0; f <= rng.IntN(3); f++ {
			e.Files = append(e.Files, auditlog.FileRef{Name: fmt.Sprintf("beslut-%d-%d.pdf", k, f), Size: 40_000 + rng.Int64N(400_000), SHA256: fmt.Sprintf("%016x%016x%016x%016x", rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64())})
		}
		e.Archive = &auditlog.FileRef{Name: fmt.Sprintf("beslut-%d.zip", k), Size: 50_000 + rng.Int64N(400_000), SHA256: fmt.Sprintf("%016x%016x%016x%016x", rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64())}
		out = append(out, shippedEntry{e, device})
		if k%4 != 0 || len(out) == n {
			continue
		}
		d := *e.Delivery
		d.Provider, d.Status, d.MessageID = "46elks", auditlog.StatusSent, fmt.Sprintf("s%016x", rng.Uint64())
		out = append(out, shippedEntry{auditlog.Entry{
			ID:       fmt.Sprintf("%s-%016x", at.Format("20060102"), rng.Uint64()),
			Time:     at.Add(step).Format(time.RFC3339),
			Operator: device,
			Host:     "kuvert-server",
			Tool:     "kuvert server",
			Action:   auditlog.ActionSMS,
			Case:     e.Case,
			Refers:   e.ID,
			Delivery: &d,
		}, device})
	}
	return out
}

// payrollSealing is the i'th of a million alike sealings (one payroll
// run's archives, five thousand case numbers, one masked number).
func payrollSealing(i int) (auditlog.Entry, string) {
	e := entry(auditlog.ActionSeal, fmt.Sprintf("KS 2026/%d", i%5000))
	e.Files = []auditlog.FileRef{{Name: fmt.Sprintf("lönelista-%d.xlsx", i), Size: 123456, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}
	e.Archive = &auditlog.FileRef{Name: fmt.Sprintf("lönelista-%d.zip", i), Size: 45678, SHA256: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"}
	e.Delivery = &auditlog.Delivery{Provider: "kuvert-server", To: "+46 70-*** ** 50", Status: auditlog.StatusPending, Ref: "ab2cd3"}
	return e, fmt.Sprint("pc", i%200)
}

// bulkLoad fills an empty central log with n entries, the i'th made by
// gen with the device that shipped it (benchmarks only): the tree in
// memory, COPY for rows and hashes, one signed head.
func (s *Store) bulkLoad(ctx context.Context, n int, gen func(i int) (auditlog.Entry, string)) error {
	var stored auditlog.Hashes
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		const chunk = 50_000
		for from := 0; from < n; from += chunk {
			to := min(from+chunk, n)
			rows := make([][]any, 0, to-from)
			base := int64(len(stored))
			for i := from; i < to; i++ {
				e, device := gen(i)
				ce, line := canonical(e, int64(i)+1, device, time.Now())
				leaf := tlog.RecordHash(line)
				hs, err := tlog.StoredHashesForRecordHash(int64(i), leaf, stored)
				if err != nil {
					return err
				}
				stored = append(stored, hs...)
				rows = append(rows, entryRow(&ce, line, nil))
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"entries"},
				entryColumns,
				pgx.CopyFromRows(rows)); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"tree_hashes"}, []string{"idx", "hash"},
				pgx.CopyFromSlice(len(stored)-int(base), func(i int) ([]any, error) {
					h := stored[base+int64(i)]
					return []any{base + int64(i), h[:]}, nil
				})); err != nil {
				return err
			}
		}
		root, err := tlog.TreeHash(int64(n), stored)
		if err != nil {
			return err
		}
		msg, err := auditlog.SignTreeHead(s.signer, auditlog.CentralOrigin, int64(n), root)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE tree_head SET size = $1, root = $2, note = $3, signed = now() WHERE id = 1", n, root[:], string(msg)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO checkpoints (size, root, note, signed) VALUES ($1, $2, $3, now())", n, root[:], string(msg))
		return err
	})
}

// longestDigits is the longest run of ASCII digits in s.
func longestDigits(s string) string {
	best, cur := "", 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			cur++
			continue
		}
		if cur > len(best) {
			best = s[i-cur : i]
		}
		cur = 0
	}
	return best
}
