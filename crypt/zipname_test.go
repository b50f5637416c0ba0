package crypt

import (
	stdzip "archive/zip"
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// An AES zip whose names are in the OEM code page without the UTF-8
// flag, as 7-Zip and Windows' own zip write them on a Swedish desktop,
// opens with the names the sender saw. bsdtar writes such archives
// (hdrcharset=CP850); 7-Zip on Linux always sets the flag.
func TestOpenOEMNames(t *testing.T) {
	bt := needTool(t, "bsdtar")
	dir := t.TempDir()
	mtime := time.Date(2025, 11, 1, 14, 2, 4, 0, time.Local)
	files := map[string][]byte{
		"lönelista_åäö ÅÄÖ.csv": csvLike(20 << 10),
		"ärenden/översikt.txt":  []byte("ett två tre"),
	}
	for n, b := range files {
		writeFile(t, filepath.Join(dir, "src", filepath.FromSlash(n)), b, mtime)
	}
	pw := "Rodbeta-Kanel-Fyrtorn-71"
	arch := filepath.Join(dir, "oem.zip")
	run(t, filepath.Join(dir, "src"), bt, "--format", "zip", "--options", "zip:encryption=aes256,zip:hdrcharset=CP850", "--passphrase", pw, "-cf", arch, "lönelista_åäö ÅÄÖ.csv", "ärenden/översikt.txt")

	// The archive is what the test means: no UTF-8 flag, CP850 bytes.
	zr, err := stdzip.OpenReader(arch)
	if err != nil {
		t.Fatal(err)
	}
	raw := zr.File[0].Name
	flags := zr.File[0].Flags
	zr.Close()
	if flags&utf8NameFlag != 0 || raw != "l\x94nelista_\x86\x84\x94 \x8f\x8e\x99.csv" {
		t.Fatalf("bsdtar wrote %q with flags %#x; the test needs CP850 without the UTF-8 flag", raw, flags)
	}

	entries, err := List(arch, OpenOptions{Credentials: Credentials{Password: pw}})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || entries[0].Name != "lönelista_åäö ÅÄÖ.csv" {
		t.Errorf("listed %+v", entries)
	}
	res, err := Extract(context.Background(), arch, ExtractOptions{Dest: filepath.Join(dir, "ut"), OpenOptions: OpenOptions{Credentials: Credentials{Password: pw}}})
	if err != nil {
		t.Fatal(err)
	}
	for n, b := range files {
		got, err := os.ReadFile(filepath.Join(res.Dest, filepath.FromSlash(n)))
		if err != nil || string(got) != string(b) {
			t.Errorf("%s: %v (%d bytes)", n, err, len(got))
		}
	}
}

func TestEntryName(t *testing.T) {
	cp850 := "l\x94nelista.csv"
	unicodeField := func(version byte, forName, u string) []byte {
		b := make([]byte, 9, 9+len(u))
		binary.LittleEndian.PutUint16(b, 0x7075)
		binary.LittleEndian.PutUint16(b[2:], uint16(5+len(u)))
		b[4] = version
		binary.LittleEndian.PutUint32(b[5:], crc32.ChecksumIEEE([]byte(forName)))
		return append(b, u...)
	}
	for _, c := range []struct {
		what  string
		name  string
		flags uint16
		extra []byte
		want  string
	}{
		{"the UTF-8 flag", "lönelista.csv", utf8NameFlag, nil, "lönelista.csv"},
		{"UTF-8 without the flag (macOS)", "lönelista.csv", 0, nil, "lönelista.csv"},
		{"CP850 (7-Zip on Swedish Windows)", cp850, 0, nil, "lönelista.csv"},
		{"CP850 capitals", "\x8f\x8e\x99.txt", 0, nil, "ÅÄÖ.txt"},
		{"ASCII", "lista.csv", 0, nil, "lista.csv"},
		{"Unicode Path field for this name", cp850, 0, unicodeField(1, cp850, "lönelista (1).csv"), "lönelista (1).csv"},
		{"Unicode Path field for another name", cp850, 0, unicodeField(1, "annan.csv", "fel.csv"), "lönelista.csv"},
		{"Unicode Path field of an unknown version", cp850, 0, unicodeField(2, cp850, "fel.csv"), "lönelista.csv"},
		{"Unicode Path field that is not UTF-8", cp850, 0, unicodeField(1, cp850, "\xff.csv"), "lönelista.csv"},
		{"Unicode Path field cut short", cp850, 0, unicodeField(1, cp850, "lönelista.csv")[:7], "lönelista.csv"},
		{"the flag wins over the field", "lönelista.csv", utf8NameFlag, unicodeField(1, "lönelista.csv", "fel.csv"), "lönelista.csv"},
	} {
		f := &stdzip.File{FileHeader: stdzip.FileHeader{Name: c.name, Flags: c.flags, Extra: c.extra}}
		if got := entryName(f); got != c.want {
			t.Errorf("%s: %q, want %q", c.what, got, c.want)
		}
	}
}
