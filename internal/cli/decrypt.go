package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/internal/bytesize"
	"github.com/kuvert-app/kuvert/internal/termsafe"
)

// DecryptOptions are the flags of `kuvert decrypt` and `kuvert verify`.
type DecryptOptions struct {
	Archive      string
	Output       string
	Identities   []string
	PasswordFile string
	Force        bool
	List         bool
	JSON         bool
	Quiet        bool
}

func newDecryptCmd(f *Factory, runF func(context.Context, *DecryptOptions) error) *cobra.Command {
	o := &DecryptOptions{}
	cmd := &cobra.Command{
		Use:   "decrypt [flags] ARCHIVE",
		Short: "Open an archive into a folder / Öppna ett arkiv",
		Long: `Open a kuvert archive, an AES zip from 7-Zip or WinZip, or an age file.

The files go into a new folder beside the archive unless -o names one.
Nothing is kept from an archive that fails its integrity check, and no
entry may write outside the folder.

Filerna hamnar i en ny mapp bredvid arkivet om inte -o anger en annan.
Inget sparas från ett arkiv som inte klarar kontrollen.`,
		Example: `  kuvert decrypt lönelista.zip
  kuvert decrypt -i nyckel.txt rapport.pdf.age
  kuvert decrypt --list bilagor.zip`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Archive = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runDecrypt(cmd.Context(), f, o)
		},
	}
	addOpenFlags(cmd, o)
	fl := cmd.Flags()
	fl.StringVarP(&o.Output, "output", "o", "", "extract into `DIR` (default: a new folder beside the archive)")
	fl.BoolVar(&o.Force, "force", false, "replace files that already exist in the output folder")
	fl.BoolVarP(&o.List, "list", "l", false, "list the entries without extracting")
	return cmd
}

func addOpenFlags(cmd *cobra.Command, o *DecryptOptions) {
	fl := cmd.Flags()
	fl.StringArrayVarP(&o.Identities, "identity", "i", nil, "age identity `FILE` (secret key or SSH private key)")
	fl.StringVar(&o.PasswordFile, "password-file", "", "read the password from `FILE` (- for standard input)")
	fl.BoolVar(&o.JSON, "json", false, "print the result as JSON")
	fl.BoolVarP(&o.Quiet, "quiet", "q", false, "print nothing but errors")
}

// credentials gathers identities and the password, asking on the terminal
// only when the archive needs a password and none was given otherwise.
func credentials(f *Factory, o *DecryptOptions, needPassword bool) (crypt.Credentials, error) {
	s := f.IOStreams
	var c crypt.Credentials
	for _, path := range o.Identities {
		ids, err := crypt.ReadIdentitiesFile(path)
		if err != nil {
			return c, err
		}
		c.Identities = append(c.Identities, ids...)
	}
	pw, err := readSecret(f, o.PasswordFile)
	if err != nil {
		return c, err
	}
	if pw == "" && needPassword && len(c.Identities) == 0 {
		if s.ReadPassword == nil {
			return c, crypt.ErrNeedPassword
		}
		pw, err = s.ReadPassword("Lösenord / Password: ")
		if err != nil {
			return c, fmt.Errorf("cannot read the password from the terminal: %v", err)
		}
		if pw == "" {
			return c, crypt.ErrNeedPassword
		}
	}
	c.Password = pw
	return c, nil
}

func runDecrypt(ctx context.Context, f *Factory, o *DecryptOptions) error {
	s := f.IOStreams
	info, err := crypt.Inspect(o.Archive)
	if err != nil {
		return err
	}
	if o.List {
		return runList(ctx, f, o, info)
	}
	cred, err := credentials(f, o, info.Passphrase)
	if err != nil {
		return err
	}
	prog := newProgress(s, o.Quiet || o.JSON, archiveSize(o.Archive), "Öppnar / Opening")
	res, err := app.Open(ctx, o.Archive, crypt.ExtractOptions{
		OpenOptions: crypt.OpenOptions{Credentials: cred, Progress: prog.add},
		Dest:        o.Output, Force: o.Force,
	})
	prog.done()
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(s, res)
	}
	if !o.Quiet {
		fmt.Fprintf(s.ErrOut, "Öppnat / Opened: %d %s i / in %s\n", len(res.Files), plural(len(res.Files), "fil/file", "filer/files"), termsafe.Escape(res.Dest))
		for _, f := range res.Files {
			fmt.Fprintf(s.Out, "%s\n", termsafe.Escape(f.Name))
		}
	}
	return nil
}

func runList(ctx context.Context, f *Factory, o *DecryptOptions, info crypt.Info) error {
	s := f.IOStreams
	var cred crypt.Credentials
	if info.Kind != crypt.KindZip { // a zip's directory is readable without the password
		var err error
		if cred, err = credentials(f, o, info.Passphrase); err != nil {
			return err
		}
	}
	entries, err := crypt.List(o.Archive, crypt.OpenOptions{Credentials: cred})
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(s, entries)
	}
	for _, e := range entries {
		fmt.Fprintf(s.Out, "%10s  %s  %s\n", bytesize.Human(e.Size), e.Modified.Local().Format("2006-01-02 15:04"), termsafe.Escape(e.Name))
	}
	return nil
}
