package envelope

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gomail "github.com/emersion/go-message/mail"
	"github.com/kuvert-app/kuvert/scan"
)

// The draft parses as MIME, carries the archive byte for byte, is marked
// unsent for Outlook, and holds no password.
func TestDraft(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "lönelista_811218-xxxx.zip")
	content := bytes.Repeat([]byte{0, 1, 2, 0xff}, 5000)
	os.WriteFile(arch, content, 0o600)
	out, err := WriteDraft(arch, Draft{To: "Åsa Öberg <asa.oberg@example.se>", Ref: "k7pq2x"})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(out)
	defer f.Close()
	mr, err := gomail.CreateReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if mr.Header.Get("X-Unsent") != "1" {
		t.Fatal("no X-Unsent")
	}
	subj, _ := mr.Header.Subject()
	if subj != "Krypterad bilaga (ref k7pq2x)" {
		t.Fatalf("subject %q", subj)
	}
	to, _ := mr.Header.AddressList("To")
	if len(to) != 1 || to[0].Address != "asa.oberg@example.se" || to[0].Name != "Åsa Öberg" {
		t.Fatalf("to %v", to)
	}
	var body string
	var att []byte
	var name string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch h := p.Header.(type) {
		case *gomail.InlineHeader:
			b, _ := io.ReadAll(p.Body)
			body = string(b)
		case *gomail.AttachmentHeader:
			name, _ = h.Filename()
			att, _ = io.ReadAll(p.Body)
		}
	}
	if sha256.Sum256(att) != sha256.Sum256(content) || name != "lönelista_811218-xxxx.zip" {
		t.Fatalf("attachment %q differs", name)
	}
	for _, want := range []string{"ref", "k7pq2x", "7-Zip", "sms", "English", "bilagor.zip"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q", want)
		}
	}
	if _, err := WriteDraft(arch, Draft{To: "a@example.se"}); err == nil {
		t.Fatal("overwrote a draft without force")
	}
	if _, err := WriteDraft(arch, Draft{To: "a@example.se", Subject: "Lön för 811218-9876", Force: true}); !errors.Is(err, scan.ErrSensitive) {
		t.Fatalf("personnummer in subject: %v", err)
	}
	if _, err := WriteDraft(arch, Draft{To: "inte en adress", Force: true}); err == nil {
		t.Fatal("bad address accepted")
	}
}

// With the recipient page published, the draft explains it first and 7-Zip
// second, in both languages; an address that is not plain https is
// refused before anything is written.
func TestDraftWithOpener(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "lista.zip")
	os.WriteFile(arch, []byte("x"), 0o600)
	for _, lang := range []string{"sv", "en"} {
		out, err := WriteDraft(arch, Draft{To: "a@example.se", Lang: lang, OpenerURL: "https://kommun.se/oppna", Force: true})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(out)
		body := string(b)
		page, sevenZip := strings.Index(body, "https://kommun.se/oppna"), strings.Index(body, "7-Zip")
		if page < 0 || sevenZip < 0 || page > sevenZip {
			t.Fatalf("%s: page at %d, 7-Zip at %d:\n%s", lang, page, sevenZip, body)
		}
	}
	if err := CheckDraft(filepath.Join(dir, "ny.zip"), Draft{To: "a@example.se", OpenerURL: "http://kommun.se/oppna"}); err == nil {
		t.Fatal("http address accepted")
	}
}
