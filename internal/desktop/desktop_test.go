package desktop

import "testing"

func TestExplorerSelect(t *testing.T) {
	got := explorerSelect(`C:\Users\åsa\Lönelistor för maj\Åsa Öberg lön.zip`)
	want := `explorer.exe /select,"C:\Users\åsa\Lönelistor för maj\Åsa Öberg lön.zip"`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
