package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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
	if err := st.bulkLoad(context.Background(), n); err != nil {
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

// bulkLoad fills an empty central log with n entries (benchmarks only):
// the tree in memory, COPY for rows and hashes, one signed head.
func (s *Store) bulkLoad(ctx context.Context, n int) error {
	var stored auditlog.Hashes
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		const chunk = 50_000
		for from := 0; from < n; from += chunk {
			to := min(from+chunk, n)
			rows := make([][]any, 0, to-from)
			base := int64(len(stored))
			for i := from; i < to; i++ {
				e := entry(auditlog.ActionSeal, fmt.Sprintf("KS 2026/%d", i%5000))
				e.Files = []auditlog.FileRef{{Name: fmt.Sprintf("lönelista-%d.xlsx", i), Size: 123456, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}
				e.Archive = &auditlog.FileRef{Name: fmt.Sprintf("lönelista-%d.zip", i), Size: 45678, SHA256: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"}
				e.Delivery = &auditlog.Delivery{Provider: "kuvert-server", To: "+46 70-*** ** 50", Status: auditlog.StatusPending, Ref: "ab2cd3"}
				ce, line := canonical(e, int64(i)+1, fmt.Sprint("pc", i%200), time.Now())
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
