package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The wrapper repeats a run only when Wine ended it with exit 1 before it
// wrote anything, once, with the same standard input; a run that said
// why, or that is silent twice, stands. Wine is played by a script that
// fails silently the first N times.
func TestWineWrapperRepeatsOnlySilentExits(t *testing.T) {
	for _, c := range []struct {
		name       string
		loader     string
		wantRC     int
		wantOut    string
		wantErr    string
		wantNotes  int
		wantStarts int
	}{
		{"silent once", `n=$(cat "$COUNT"); echo $((n+1)) > "$COUNT"; [ "$n" -lt 1 ] && exit 1; cat; echo ut >&2; exit 0`, 0, "lösenord från stdin\n", "ut\n", 1, 2},
		{"silent twice", `n=$(cat "$COUNT"); echo $((n+1)) > "$COUNT"; exit 1`, 1, "", "", 1, 2},
		{"says why", `n=$(cat "$COUNT"); echo $((n+1)) > "$COUNT"; echo "kuvert: fel" >&2; exit 1`, 1, "", "kuvert: fel\n", 0, 1},
		{"other code", `n=$(cat "$COUNT"); echo $((n+1)) > "$COUNT"; exit 2`, 2, "", "", 0, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			wrapper := filepath.Join(dir, "kuvert")
			loader := filepath.Join(dir, "wine")
			count := filepath.Join(dir, "count")
			notes := filepath.Join(dir, "silent.log")
			for p, body := range map[string]string{wrapper: wineWrapper, loader: "#!/bin/sh\nshift\n" + c.loader + "\n", count: "0\n"} {
				if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(wrapper, "encrypt", "--password-file", "-")
			cmd.Env = append(os.Environ(), "KUVERT_WINE_LOADER="+loader, "KUVERT_WINDOWS_EXE=kuvert.exe", "KUVERT_WINE_TMP="+dir, "KUVERT_WINE_SILENT="+notes, "COUNT="+count, "KUVERT_WRAP_EXEC=")
			cmd.Stdin = strings.NewReader("lösenord från stdin\n")
			var out, errOut strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errOut
			cmd.Run()
			if rc := cmd.ProcessState.ExitCode(); rc != c.wantRC || out.String() != c.wantOut || errOut.String() != c.wantErr {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", rc, out.String(), errOut.String(), c.wantRC, c.wantOut, c.wantErr)
			}
			b, _ := os.ReadFile(notes)
			if n := strings.Count(string(b), "kuvert encrypt --password-file -\n"); n != c.wantNotes {
				t.Errorf("%d notes, want %d:\n%s", n, c.wantNotes, b)
			}
			if b, _ := os.ReadFile(count); strings.TrimSpace(string(b)) != string(rune('0'+c.wantStarts)) {
				t.Errorf("started %s times, want %d", strings.TrimSpace(string(b)), c.wantStarts)
			}
		})
	}
}
