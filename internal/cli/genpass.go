package cli

import (
	"context"
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

func newGenpassCmd(s *IOStreams, runF func(context.Context, *GenpassOptions) error) *cobra.Command {
	o := &GenpassOptions{}
	cmd := &cobra.Command{
		Use:   "genpass",
		Short: "Generate strong passwords / Skapa starka lösenord",
		Long: `Generate passwords with the operating system's secure random source.

Default: 20 characters from ` + crypt.Alphabet + ` in groups of five
(99 bits). The characters are easy to read aloud and type on a phone and
cost one SMS character each. --words gives a passphrase from the EFF word
list instead (12.9 bits a word).

Standard: 20 tecken i grupper om fem (99 bitar), lätta att läsa upp och
skriva på en mobil.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runGenpass(s, o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Length, "length", crypt.DefaultLength, "number of characters (without the dashes)")
	f.IntVar(&o.Words, "words", 0, "a passphrase of `N` words instead")
	f.IntVarP(&o.Count, "count", "n", 1, "how many passwords")
	f.BoolVar(&o.JSON, "json", false, "print JSON: {\"password\", \"bits\"}, an array when --count > 1")
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
