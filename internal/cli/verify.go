package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/spf13/cobra"
)

func newVerifyCmd(f *Factory, runF func(context.Context, *DecryptOptions) error) *cobra.Command {
	o := &DecryptOptions{}
	cmd := &cobra.Command{
		Use:   "verify [flags] ARCHIVE",
		Short: "Check password and integrity, write nothing / Kontrollera ett arkiv",
		Long: `Check that the password (or key) opens every entry and that nothing was
changed, without writing any plaintext to disk.

Kontrollerar att lösenordet öppnar alla filer och att inget har ändrats,
utan att skriva något okrypterat till disken.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Archive = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runVerify(cmd.Context(), f, o)
		},
	}
	addOpenFlags(cmd, o)
	return cmd
}

func runVerify(ctx context.Context, f *Factory, o *DecryptOptions) error {
	s := f.IOStreams
	info, err := crypt.Inspect(o.Archive)
	if err != nil {
		return err
	}
	cred, err := credentials(f, o, info.Passphrase)
	if err != nil {
		return err
	}
	prog := newProgress(s, o.Quiet || o.JSON, archiveSize(o.Archive), "Kontrollerar / Verifying")
	entries, err := crypt.Verify(ctx, o.Archive, crypt.OpenOptions{Credentials: cred, Progress: prog.add})
	prog.done()
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(s, map[string]any{"archive": o.Archive, "ok": true, "files": entries})
	}
	if !o.Quiet {
		fmt.Fprintf(s.Out, "OK: %d %s kontrollerade / verified\n", len(entries), plural(len(entries), "fil/file", "filer/files"))
	}
	return nil
}

func archiveSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
