package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/internal/atomicfile"
	"github.com/kuvert-app/kuvert/opener"
	"github.com/spf13/cobra"
)

// OpenerOptions are the flags of `kuvert opener`.
type OpenerOptions struct {
	Output       string
	Organisation string // "": the configured organisation
	OrgSet       bool   // --organisation given (even as "": no name on the page)
	Logo         string // a PNG or JPEG file
	Force        bool
	SHA256       bool // print only the page's SHA-256
	JSON         bool
}

func newOpenerCmd(f *Factory, runF func(context.Context, *OpenerOptions) error) *cobra.Command {
	s := f.IOStreams
	o := &OpenerOptions{}
	cmd := &cobra.Command{
		Use:   "opener [--organisation NAME] [--logo FILE] -o FILE",
		Short: "Write the recipient page / Skriv mottagarsidan",
		Long: `Write the recipient page, "Öppna krypterad bilaga / Open encrypted attachment":
one self-contained HTML file that opens kuvert's AES-256 zips and age files
in any modern browser, on a phone too, with only the password. Nothing the
recipient opens leaves their device. Publish it on the organisation's
website or intranet together with the SHA-256 printed here, so that anyone
can check that the page served is this one. See docs/opener.md.

The page says whom it is from: the organisation's name (--organisation,
by default the configured one) and, with --logo, its logo (PNG or JPEG,
at most 64 kB; SVG is refused because it can carry script). The SHA-256
is that of the page with them.

Skriver mottagarsidan: en fristående HTML-fil som öppnar krypterade bilagor
i webbläsaren med bara lösenordet. Sidan visar organisationens namn
(--organisation, annars det inställda) och logga (--logo, PNG eller JPEG).
Publicera den med kontrollsumman (SHA-256).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.OrgSet = cmd.Flags().Changed("organisation")
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			if !o.OrgSet {
				cfg, err := f.Settings()
				if err != nil {
					return err
				}
				o.Organisation = cfg.Organisation.Value
			}
			return runOpener(s, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.Output, "output", "o", "", "write the page to `FILE` (e.g. "+opener.FileName+"); without it, to standard output when that is not a terminal")
	fl.StringVar(&o.Organisation, "organisation", "", "the organisation's `NAME` the page shows (default: the configured organisation; \"\" for none)")
	fl.StringVar(&o.Logo, "logo", "", "the organisation's logo, a PNG or JPEG `FILE` of at most 64 kB, embedded in the page")
	fl.BoolVar(&o.Force, "force", false, "replace an existing output file")
	fl.BoolVar(&o.SHA256, "sha256", false, "print only the page's SHA-256 and write nothing")
	fl.BoolVar(&o.JSON, "json", false, "print JSON: {\"file\", \"size\", \"sha256\"}")
	return cmd
}

func runOpener(s *IOStreams, o *OpenerOptions) error {
	brand := opener.Brand{Organisation: o.Organisation}
	if o.Logo != "" {
		if strings.TrimSpace(o.Organisation) == "" {
			return usagef("en logga behöver organisationens namn: --organisation NAMN / a logo needs the organisation's name: --organisation NAME")
		}
		fi, err := os.Stat(o.Logo)
		if err != nil {
			return err
		}
		if fi.Size() > opener.MaxLogoBytes {
			return usagef("loggan %s är %d byte, högst %d / the logo %s is %d bytes, at most %d", o.Logo, fi.Size(), opener.MaxLogoBytes, o.Logo, fi.Size(), opener.MaxLogoBytes)
		}
		if brand.Logo, err = os.ReadFile(o.Logo); err != nil {
			return err
		}
	}
	page, err := opener.Branded(brand)
	switch {
	case errors.Is(err, opener.ErrOrganisation):
		return usagef("organisationens namn får inte vara tomt, ha styrtecken eller vara längre än %d tecken / the organisation's name must not be blank, hold control characters or be longer than %d characters", opener.MaxOrganisationRune, opener.MaxOrganisationRune)
	case errors.Is(err, opener.ErrLogoType):
		return withHint(usagef("loggan %s är inte en hel PNG- eller JPEG-bild / the logo %s is not a whole PNG or JPEG picture", o.Logo, o.Logo),
			"SVG tas inte emot eftersom den kan bära skript; spara loggan som PNG / SVG is refused because it can carry script: save the logo as PNG")
	case errors.Is(err, opener.ErrLogoSize):
		return usagef("loggan %s är för stor: högst %d byte och %d bildpunkter per sida / the logo %s is too large: at most %d bytes and %d pixels a side",
			o.Logo, opener.MaxLogoBytes, opener.MaxLogoSide, o.Logo, opener.MaxLogoBytes, opener.MaxLogoSide)
	case err != nil:
		return err
	}
	sum := opener.SHA256Of(page)
	if o.SHA256 {
		if o.Output != "" {
			return usagef("--sha256 writes nothing: leave out -o")
		}
		fmt.Fprintln(s.Out, sum)
		return nil
	}
	if o.Output == "" || o.Output == "-" {
		if s.OutTTY {
			return withHint(usagef("refusing to print the page to a terminal"), "give -o "+opener.FileName+" to write it to a file")
		}
		if o.JSON {
			return usagef("--json needs -o FILE")
		}
		if _, err := s.Out.Write(page); err != nil {
			return err
		}
		fmt.Fprintf(s.ErrOut, "sha256 %s\n", sum)
		return nil
	}
	if err := writeNew(o.Output, page, o.Force); err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(s, map[string]any{"file": o.Output, "size": len(page), "sha256": sum})
	}
	fmt.Fprintf(s.Out, "%s: %d bytes, sha256 %s\n", o.Output, len(page), sum)
	if s.ErrTTY {
		fmt.Fprintln(s.ErrOut, "Publicera kontrollsumman bredvid sidan / publish the SHA-256 beside the page (docs/opener.md)")
	}
	return nil
}

// writeNew writes data to path through a temporary file in the same
// folder, refusing to replace an existing file unless force is set.
func writeNew(path string, data []byte, force bool) error {
	if fi, err := os.Stat(path); err == nil {
		if !force {
			return fmt.Errorf("%w: %s", crypt.ErrExists, path)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", path)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if force {
		return atomicfile.WriteFile(path, data, 0o644) // a public page
	}
	if err := atomicfile.WriteNew(path, data, 0o644); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", crypt.ErrExists, path)
	} else {
		return err
	}
}
