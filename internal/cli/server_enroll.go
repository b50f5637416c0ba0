package cli

import (
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/server"
)

// newServerEnrollCodeCmd is `kuvert server enroll-code add|list|revoke`:
// codes a desktop trades, once each, for a device token of its own
// (`kuvert enroll`), instead of a token made by hand per computer.
func newServerEnrollCodeCmd(f *Factory) *cobra.Command {
	s := f.IOStreams
	cmd := &cobra.Command{
		Use:   "enroll-code",
		Short: "Codes desktops trade for device tokens of their own / Registreringskoder",
		Long: `An enrollment code lets up to --uses computers each get a device token of
their own, named --name-prefix + the computer's name, until it expires.
Give it to the desktops by machine policy (EnrollmentCode) or let staff
run 'kuvert enroll CODE'. A code only ever buys a device token.

En registreringskod låter upp till --uses datorer hämta en egen
enhetstoken var. Den databas som servern använder sparar bara kodens
SHA-256.`,
	}
	var prefix, expires string
	var uses int
	add := &cobra.Command{
		Use:   "add",
		Short: "Make a code; it is printed once, alone on the last line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := parseAge(expires)
			if err != nil {
				return err
			}
			if d <= 0 {
				return usagef("--expires måste vara en tid längre än noll / must be a period longer than zero (e.g. 14d)")
			}
			if uses < 1 || uses > server.MaxEnrollUses {
				return usagef("--uses måste vara 1 till %d / must be 1 to %d", server.MaxEnrollUses, server.MaxEnrollUses)
			}
			st, err := f.openServerStore(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer st.Close()
			code, ec, err := st.AddEnrollCode(cmd.Context(), prefix, uses, time.Now().Add(d))
			if err != nil {
				return usageError{err}
			}
			fmt.Fprintf(s.Out, "Registreringskod / enrollment code %d (%s, %d %s, giltig till / valid until %s) — visas bara nu / shown only now:\n%s\n",
				ec.ID, prefix, uses, plural(uses, "användning/use", "användningar/uses"), ec.Expires.Local().Format("2006-01-02 15:04"), code)
			return nil
		},
	}
	add.Flags().StringVar(&prefix, "name-prefix", "", "`PREFIX` of the device tokens' names, e.g. ekonomi-")
	add.Flags().IntVar(&uses, "uses", 1, "how many computers may enroll with the code")
	add.Flags().StringVar(&expires, "expires", "14d", "how long the code is valid: 14d, 2w, 36h")
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List codes (prefix, uses left, expiry; never the codes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := f.openServerStore(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer st.Close()
			cs, err := st.EnrollCodes(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if cs == nil {
					cs = []server.EnrollCode{}
				}
				return writeJSON(s, cs)
			}
			tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPREFIX\tKVAR/LEFT\tGÅR UT/EXPIRES\tÅTERKALLAD/REVOKED")
			for _, c := range cs {
				rev := "-"
				if c.Revoked != nil {
					rev = c.Revoked.Local().Format("2006-01-02 15:04")
				}
				exp := c.Expires.Local().Format("2006-01-02 15:04")
				if !c.Expires.After(time.Now()) {
					exp += " (utgången/expired)"
				}
				fmt.Fprintf(tw, "%d\t%s\t%d/%d\t%s\t%s\n", c.ID, c.Prefix, c.UsesLeft, c.UsesTotal, exp, rev)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	revoke := &cobra.Command{
		Use:   "revoke ID|PREFIX",
		Short: "Revoke a code (by ID) or every active code with a name prefix; tokens already bought stay valid",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := f.openServerStore(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.RevokeEnrollCode(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "Återkallade / revoked: %d %s (%s)\n", n, plural(int(n), "kod/code", "koder/codes"), args[0])
			return nil
		},
	}
	cmd.AddCommand(add, list, revoke)
	return cmd
}

// enrolledFrom names the code a token came from for `token list`.
func enrolledFrom(t server.Token) string {
	if t.EnrollCode == nil {
		return "-"
	}
	return t.EnrollPrefix + " (" + strconv.FormatInt(*t.EnrollCode, 10) + ")"
}
