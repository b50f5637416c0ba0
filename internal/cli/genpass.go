package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/spf13/cobra"
)

// GenpassOptions are the flags of `kuvert genpass`.
type GenpassOptions struct {
	Length int
	Words  int
	Count  int
	JSON   bool
}

func newGenpassCmd(f *Factory, runF func(context.Context, *GenpassOptions) error) *cobra.Command {
	s := f.IOStreams
	o := &GenpassOptions{}
	cmd := &cobra.Command{
		Use:   "genpass",
		Short: "Generate strong passwords / Skapa starka lösenord",
		Long: `Generate passwords with the operating system's secure random source.

Default: 20 characters from ` + crypt.Alphabet + ` in groups of five
(99 bits). The characters are easy to read aloud and type on a phone and
cost one SMS character each. --words gives a passphrase from the EFF word
list instead (12.9 bits a word), at most 10 words (129 bits): a longer
password can pass 99 bytes, more than 7-Zip takes for a zip.

Standard: 20 tecken i grupper om fem (99 bitar), lätta att läsa upp och
skriva på en mobil. Högst 10 ord (--words): ett längre lösenord kan bli
mer än 99 byte, och det tar inte 7-Zip för en zip.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runGenpass(s, o)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&o.Length, "length", crypt.DefaultLength, "number of characters (without the dashes)")
	fl.IntVar(&o.Words, "words", 0, "a passphrase of `N` words instead (at most 10, so that it fits a zip)")
	fl.IntVarP(&o.Count, "count", "n", 1, "how many passwords")
	fl.BoolVar(&o.JSON, "json", false, "print JSON: {\"password\", \"bits\"}, an array when --count > 1")
	return cmd
}

type genpassResult struct {
	Password string  `json:"password"`
	Bits     float64 `json:"bits"`
}

func runGenpass(s *IOStreams, o *GenpassOptions) error {
	if o.Count < 1 || o.Count > 10000 {
		return usagef("--count must be between 1 and 10000")
	}
	if err := checkGenSize(o.Length, o.Words); err != nil {
		return err
	}
	var out []genpassResult
	for i := 0; i < o.Count; i++ {
		p, err := crypt.Generate(crypt.GenOptions{Length: o.Length, Words: o.Words})
		if err != nil {
			return usageError{err}
		}
		out = append(out, genpassResult{p.Value, float64(int(p.Bits*10)) / 10})
	}
	if o.JSON {
		if o.Count == 1 {
			return writeJSON(s, out[0])
		}
		return writeJSON(s, out)
	}
	for _, r := range out {
		fmt.Fprintln(s.Out, r.Password)
	}
	if s.ErrTTY {
		fmt.Fprintf(s.ErrOut, "(%.0f bitar / bits)\n", out[0].Bits)
	}
	return nil
}

// checkGenSize refuses generated passwords too long for a zip before any
// is made: whatever kuvert generates must open in 7-Zip.
func checkGenSize(length, words int) error {
	switch {
	case words > crypt.MaxWords:
		return refusal(fmt.Sprintf("högst %d ord: ett längre lösenord kan bli mer än %d byte, och det tar inte 7-Zip för en zip", crypt.MaxWords, crypt.MaxZipPasswordBytes),
			fmt.Sprintf("at most %d words: a longer password can pass %d bytes, more than 7-Zip takes for a zip", crypt.MaxWords, crypt.MaxZipPasswordBytes),
			fmt.Sprintf("--words %d gives %.0f bits, far more than any attacker can try", crypt.MaxWords, float64(crypt.MaxWords)*12.9))
	case length > crypt.MaxLength:
		return refusal(fmt.Sprintf("högst %d tecken: med bindestrecken blir ett längre lösenord mer än %d byte, och det tar inte 7-Zip för en zip", crypt.MaxLength, crypt.MaxZipPasswordBytes),
			fmt.Sprintf("at most %d characters: with the dashes a longer password passes %d bytes, more than 7-Zip takes for a zip", crypt.MaxLength, crypt.MaxZipPasswordBytes),
			"the default 20 characters give 99 bits, far more than any attacker can try")
	}
	return nil
}

// zipPasswordRefusal words the core's *crypt.ZipPasswordError for staff,
// Swedish first; it never shows the password.
func zipPasswordRefusal(err error) error {
	var ze *crypt.ZipPasswordError
	if !errors.As(err, &ze) {
		return err
	}
	if ze.NonASCII {
		return refusal("ett zip-lösenord får bara ha a–z, A–Z, siffror och skiljetecken: 7-Zip kan inte öppna en zip vars lösenord har å, ä eller ö",
			"a zip password may hold only ASCII letters (a–z, A–Z), digits and punctuation: 7-Zip cannot open a zip whose password has å, ä or ö",
			"change the password, use --format age, or leave out --password-file/--password-env to get a generated one")
	}
	return refusal(fmt.Sprintf("lösenordet är %d byte, men 7-Zip öppnar bara en zip med ett lösenord på högst %d", ze.Bytes, crypt.MaxZipPasswordBytes),
		fmt.Sprintf("the password is %d bytes, but 7-Zip opens a zip only with a password of at most %d", ze.Bytes, crypt.MaxZipPasswordBytes),
		"shorten the password, use --format age, or leave out --password-file/--password-env to get a generated one")
}
