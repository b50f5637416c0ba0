package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/auditlog"
)

// Both stores of the log format are checked by auditlog's one verifier:
// the same entries, tampered with the same way in the local files and in
// the central log's rows, give the same verdict (kind and first entry
// that does not verify). The conformance test restic's backends share.
func TestVerifierAgreesAcrossStores(t *testing.T) {
	ctx := context.Background()
	const n = 6
	for _, tc := range []struct {
		name string
		// prune appends a prune record naming these entries after the
		// n entries (signed: what a gallring that went wrong writes).
		prune string
		file  func(t *testing.T, lines [][]byte) [][]byte
		sql   []string
		key   bool // check with another key
		kind  auditlog.Kind
		bad   int64
	}{
		{name: "changed body",
			file: func(t *testing.T, lines [][]byte) [][]byte {
				lines[2] = mustReplace(t, lines[2], "KS 3", "KS 9")
				return lines
			},
			sql:  []string{`UPDATE entries SET body = convert_to(replace(convert_from(body, 'UTF8'), 'KS 3', 'KS 9'), 'UTF8') WHERE seq = 3`},
			kind: auditlog.KindChanged, bad: 3},
		{name: "deleted entry",
			file: func(t *testing.T, lines [][]byte) [][]byte { return append(lines[:2:2], lines[3:]...) },
			sql:  []string{`DELETE FROM entries WHERE seq = 3`},
			kind: auditlog.KindOrder, bad: 3},
		{name: "reordered entries",
			file: func(t *testing.T, lines [][]byte) [][]byte {
				lines[2], lines[3] = lines[3], lines[2]
				return lines
			},
			sql:  []string{`UPDATE entries SET seq = -3 WHERE seq = 3`, `UPDATE entries SET seq = 3 WHERE seq = 4`, `UPDATE entries SET seq = 4 WHERE seq = -3`},
			kind: auditlog.KindOrder, bad: 3},
		{name: "stub without prune record",
			file: func(t *testing.T, lines [][]byte) [][]byte { lines[2] = stubLine(3, lines[2]); return lines },
			sql:  []string{`UPDATE entries SET body = NULL WHERE seq = 3`},
			kind: auditlog.KindHidden, bad: 3},
		{name: "stub the prune record does not name", prune: "2",
			file: func(t *testing.T, lines [][]byte) [][]byte { lines[2] = stubLine(3, lines[2]); return lines },
			sql:  []string{`UPDATE entries SET body = NULL WHERE seq = 3`},
			kind: auditlog.KindHidden, bad: 3},
		{name: "stub the prune record names", prune: "2-3",
			file: func(t *testing.T, lines [][]byte) [][]byte { lines[2] = stubLine(3, lines[2]); return lines },
			sql:  []string{`UPDATE entries SET body = NULL WHERE seq = 3`}},
		{name: "malformed range", prune: "1-3x",
			file: func(t *testing.T, lines [][]byte) [][]byte { lines[2] = stubLine(3, lines[2]); return lines },
			sql:  []string{`UPDATE entries SET body = NULL WHERE seq = 3`},
			kind: auditlog.KindPruneList, bad: n + 1},
		{name: "malformed part beside a good one", prune: "3,x",
			file: func(t *testing.T, lines [][]byte) [][]byte { lines[2] = stubLine(3, lines[2]); return lines },
			sql:  []string{`UPDATE entries SET body = NULL WHERE seq = 3`},
			kind: auditlog.KindPruneList, bad: n + 1},
		{name: "wrong signature", key: true, kind: auditlog.KindSignature, bad: 0},
		{name: "truncated tree",
			file: func(t *testing.T, lines [][]byte) [][]byte { return lines[:4] },
			sql:  []string{`DELETE FROM entries WHERE seq > 4`},
			kind: auditlog.KindTruncated, bad: 5},
		{name: "untouched"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var es []auditlog.Entry
			for i := 1; i <= n; i++ {
				es = append(es, entry(auditlog.ActionSeal, fmt.Sprintf("KS %d", i)))
			}
			var rec *auditlog.Entry
			if tc.prune != "" {
				rec = &auditlog.Entry{Action: auditlog.ActionPrune, Prune: &auditlog.PruneRef{Through: n, Count: 1, Seqs: tc.prune}}
			}

			// The local files.
			dir := t.TempDir()
			l, err := auditlog.Open(auditlog.Options{Dir: filepath.Join(dir, "log"), KeyDir: filepath.Join(dir, "keys"), Tool: "kuvert test"})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				e.Seq = 0
				if _, err := l.Append(e); err != nil {
					t.Fatal(err)
				}
			}
			if rec != nil {
				if _, err := l.Append(*rec); err != nil {
					t.Fatal(err)
				}
			}
			if tc.file != nil {
				p := filepath.Join(dir, "log", "entries.jsonl")
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				lines := bytes.SplitAfter(b, []byte("\n"))
				lines = tc.file(t, lines[:len(lines)-1])
				if err := os.WriteFile(p, bytes.Join(lines, nil), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var fileKey string
			if tc.key {
				od := t.TempDir()
				ol, err := auditlog.Open(auditlog.Options{Dir: filepath.Join(od, "log"), KeyDir: filepath.Join(od, "keys"), Tool: "kuvert test"})
				if err != nil {
					t.Fatal(err)
				}
				fileKey = ol.VerifierKey()
			}
			fres, ferr := l.Verify(fileKey)
			var fp *auditlog.Problem
			if ferr != nil && !errors.As(ferr, &fp) {
				t.Fatalf("file log: %v", ferr)
			}

			// The central log's rows.
			s, _, _ := newStore(t)
			for _, e := range es {
				if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{e}); err != nil {
					t.Fatal(err)
				}
			}
			if rec != nil {
				appendOwn(t, s, *rec)
			}
			for _, q := range tc.sql {
				if _, err := s.pool.Exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			var sqlKey string
			if tc.key {
				if _, sqlKey, err = GenerateKey("kuvert-other"); err != nil {
					t.Fatal(err)
				}
			}
			sres, sp, err := s.verify(ctx, sqlKey)
			if err != nil {
				t.Fatal(err)
			}

			if tc.kind == "" {
				if ferr != nil || !sres.OK {
					t.Fatalf("a sound log does not verify: file %v; sql %q", ferr, sres.Problem)
				}
				return
			}
			if fp == nil || sp == nil || sres.OK {
				t.Fatalf("not caught: file %v; sql ok=%v %v", ferr, sres.OK, sp)
			}
			if fp.Kind != tc.kind || fres.FirstBad != tc.bad {
				t.Errorf("file log: %s at %d (%s), want %s at %d", fp.Kind, fres.FirstBad, fp.Text, tc.kind, tc.bad)
			}
			if sp.Kind != tc.kind || sres.FirstBad != tc.bad {
				t.Errorf("sql store: %s at %d (%s), want %s at %d", sp.Kind, sres.FirstBad, sp.Text, tc.kind, tc.bad)
			}
		})
	}
}

func mustReplace(t *testing.T, line []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(line, []byte(old)) {
		t.Fatalf("%q not in %s", old, line)
	}
	return bytes.Replace(line, []byte(old), []byte(new), 1)
}

// stubLine is the file log's pruned stub for line, kept leaf and all.
func stubLine(seq int64, line []byte) []byte {
	leaf := tlog.RecordHash(bytes.TrimSuffix(line, []byte("\n")))
	stub, _ := json.Marshal(auditlog.Entry{Seq: seq, Pruned: true, Leaf: base64.StdEncoding.EncodeToString(leaf[:])})
	return append(stub, '\n')
}

// appendOwn appends one of the server's own records as [Store.Prune]
// does, whatever it says.
func appendOwn(t *testing.T, s *Store, e auditlog.Entry) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var size int64
		if err := tx.QueryRow(ctx, "SELECT size FROM tree_head WHERE id = 1 FOR UPDATE").Scan(&size); err != nil {
			return err
		}
		ce, line := canonical(s.ownEntry(e), size+1, ServerDevice, s.now())
		return s.extend(ctx, tx, size, [][]byte{line}, func(int) []any { return entryRow(&ce, line, nil) })
	})
	if err != nil {
		t.Fatal(err)
	}
}
