package auditlog

import (
	"testing"
)

// Targets (docs/performance.md): append under 5 ms and verify under 2 s with 100,000
// entries in the log. Run: go test -bench . -benchtime 20x ./auditlog

func bigLog(b *testing.B, n int) *Log {
	l, _ := newLog(b)
	l.testOnlyNoSync = true // building the fixture only
	appendN(b, l, n)
	l.testOnlyNoSync = false
	return l
}

func BenchmarkAppendAt100k(b *testing.B) {
	l := bigLog(b, 100_000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := l.Append(sealEntry(1)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify100k(b *testing.B) {
	l := bigLog(b, 100_000)
	b.ResetTimer()
	for b.Loop() {
		res, err := l.Verify("")
		if err != nil || res.Entries < 100_000 {
			b.Fatal(res, err)
		}
	}
}
