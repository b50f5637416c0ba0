package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/internal/termsafe"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/heads"
)

// serverConfigured is --server's value when given without one: the
// configured server.
const serverConfigured = "configured"

// serverOpts are the flags of the commands that read the central log.
type serverOpts struct {
	URL       string
	Sender    string
	Recipient string
	Limit     int
}

// addServerFlag adds --server[=URL]. With no value it means the
// configured server; pflag then does not take the next word as its
// value, so `--server URL` leaves URL as a positional argument, which
// [serverArgs] takes back as the address (these commands have none of
// their own).
func (o *serverOpts) add(cmd *cobra.Command, search bool) {
	cmd.Flags().StringVar(&o.URL, "server", "", "read the central log on the kuvert server at `URL` (no value: the configured server) with a registrar token (KUVERT_SERVER_TOKEN)")
	cmd.Flags().Lookup("server").NoOptDefVal = serverConfigured
	if search {
		cmd.Flags().StringVar(&o.Sender, "sender", "", "with --server: only entries by this operator or device")
		cmd.Flags().StringVar(&o.Recipient, "recipient", "", "with --server: only texts to this number (as masked, or its last digits)")
		cmd.Flags().IntVar(&o.Limit, "limit", 0, "with --server: at most `N` entries (server default 500, at most 10000)")
	}
	cmd.Args = o.args
}

func (o *serverOpts) args(cmd *cobra.Command, args []string) error {
	if len(args) == 1 && o.URL == serverConfigured && cmd.Flags().Changed("server") {
		o.URL = args[0]
		return nil
	}
	return cobra.NoArgs(cmd, args)
}

func (o *serverOpts) on() bool { return o.URL != "" }

func (o *serverOpts) checkLocal(cmd *cobra.Command) error {
	for _, f := range []string{"sender", "recipient", "limit"} {
		if cmd.Flags().Changed(f) {
			return usagef("--%s searches the central log: add --server", f)
		}
	}
	return nil
}

// serverQuery maps the local filter onto the server's search: days only
// (the server searches whole days), no batch.
func (o *serverOpts) query(f *logFilter) (client.Query, error) {
	q := client.Query{Case: f.Case, Ref: f.Ref, Sender: o.Sender, Recipient: o.Recipient, Limit: o.Limit}
	if f.Batch != "" {
		return q, usagef("--batch cannot be searched on the server; use --case or --ref")
	}
	if f.Since != "" {
		t, err := parseDate(f.Since, false)
		if err != nil {
			return q, err
		}
		q.From = t.Local().Format("2006-01-02")
	}
	if f.Until != "" {
		t, err := parseDate(f.Until, true)
		if err != nil {
			return q, err
		}
		q.To = t.Add(-time.Nanosecond).Local().Format("2006-01-02")
	}
	if o.Limit < 0 || o.Limit > 10000 {
		return q, usagef("--limit must be 1 to 10000")
	}
	return q, nil
}

// dial reads the settings and makes the client of the server --server
// names (or the configured one).
func (o *serverOpts) dial(f *Factory) (*client.Client, error) {
	return f.serverFor(o.URL)
}

func serverReadHint(err error) error {
	switch {
	case errors.Is(err, client.ErrForbidden):
		return withHint(err, "reading the central log needs a registrar (or admin) token in KUVERT_SERVER_TOKEN")
	case errors.Is(err, client.ErrUnauthorized):
		return withHint(err, "the token is unknown or revoked; ask the server's administrator")
	case errors.Is(err, client.ErrUnreachable):
		return withHint(err, "check the address and that the server runs ('kuvert log status')")
	}
	return err
}

// listServer is `kuvert log list --server`.
func listServer(cmd *cobra.Command, f *Factory, lf *logFilter, o *serverOpts, asJSON bool) error {
	q, err := o.query(lf)
	if err != nil {
		return err
	}
	c, err := o.dial(f)
	if err != nil {
		return err
	}
	res, err := c.Search(cmd.Context(), q)
	if err != nil {
		return serverReadHint(err)
	}
	s := f.IOStreams
	// The server's answer is the log's fold already (each sealing in its
	// current state, one row per SMS): print it as the local list does.
	if res.Truncated {
		fmt.Fprintf(s.ErrOut, "kuvert: warning: fler poster matchar / more entries match than shown (%d); narrow the search or raise --limit\n", len(res.Entries))
	}
	return printRows(s, res.Entries, asJSON)
}

// exportServer is `kuvert log export --server`: the server's own CSV
// export (the same columns as the local one), or its entries as JSON.
func exportServer(cmd *cobra.Command, f *Factory, w io.Writer, lf *logFilter, o *serverOpts, format string) error {
	q, err := o.query(lf)
	if err != nil {
		return err
	}
	c, err := o.dial(f)
	if err != nil {
		return err
	}
	if format == "csv" {
		return serverReadHint(c.ExportCSV(cmd.Context(), q, w))
	}
	if q.Limit == 0 {
		q.Limit = 10000
	}
	res, err := c.Search(cmd.Context(), q)
	if err != nil {
		return serverReadHint(err)
	}
	return encodeJSON(w, res.Entries)
}

// verifyServer is `kuvert log verify --server [--key VERIFIER]`: the
// server's signed head checked with the key and proved consistent with
// every head this computer saw before, then the server's own full check
// of its log (with a registrar token). The checks, and the rule for a
// server that swapped its key, are [app.App.VerifyServer]'s; this prints.
func verifyServer(cmd *cobra.Command, f *Factory, g *globalOptions, o *serverOpts, key string, asJSON bool) error {
	s := f.IOStreams
	c, err := o.dial(f)
	if err != nil {
		return err
	}
	if err := checkVerifierKey(key); err != nil {
		return err
	}
	a, err := f.App(g)
	if err != nil {
		return err
	}
	v, err := a.VerifyServer(cmd.Context(), c, key)
	if v == nil {
		return serverReadHint(err)
	}
	type result struct {
		OK       bool             `json:"ok"`
		Head     *heads.HeadCheck `json:"head,omitempty"`
		Server   any              `json:"server_verify,omitempty"`
		Problem  string           `json:"problem,omitempty"`
		Warnings []string         `json:"warnings,omitempty"`
	}
	out := result{OK: err == nil, Head: v.Head, Warnings: serverWarnings(v)}
	if v.Server != nil {
		out.Server = v.Server
	}
	if err != nil {
		out.Problem = describe(err)
		if asJSON {
			if jerr := writeJSON(s, out); jerr != nil {
				return jerr
			}
		}
		if errors.Is(err, auditlog.ErrTampered) {
			return codeError{withHint(err, "keep the server's database as it is and tell whoever is responsible for information security"), ExitLogInvalid}
		}
		return serverReadHint(err)
	}
	if asJSON {
		return writeJSON(s, out)
	}
	hc, vr := v.Head, v.Server
	fmt.Fprintf(s.Out, "OK: centrala loggen / central log %s: %d poster / entries, signerad / signed %s\n", termsafe.Escape(c.URL()), hc.Head.Size, localTime(hc.Head.Time))
	if hc.Previous != nil {
		fmt.Fprintf(s.Out, "OK: stämmer med förra kontrollen / consistent with the last check (%d poster / entries)\n", *hc.Previous)
	} else {
		fmt.Fprintln(s.Out, "Första kontrollen från denna dator / first check from this computer: the head is kept for the next one")
	}
	if hc.Shipped != nil {
		fmt.Fprintf(s.Out, "OK: innehåller det denna dator skickat / contains what this computer shipped (head of %d entries)\n", *hc.Shipped)
	}
	if vr != nil {
		fmt.Fprintf(s.Out, "OK: serverns fullständiga kontroll / the server's full check: %d poster / entries (%d gallrade / pruned)\n", vr.Entries, vr.Pruned)
	}
	for _, w := range out.Warnings {
		fmt.Fprintf(s.ErrOut, "kuvert: warning: %s\n", termsafe.Escape(w))
	}
	return nil
}

// serverWarnings puts a server check's warnings into words, Swedish
// first.
func serverWarnings(v *app.ServerCheck) []string {
	var out []string
	for _, w := range v.Warnings {
		switch w {
		case app.KeyFromServer:
			out = append(out, "kontrollerat med nyckeln servern själv uppger / checked with the key the server itself reports; give --key with the verifier key published by its administrator for an independent check")
		case app.OtherKeys:
			out = append(out, "servern har tidigare signerat med en annan nyckel / this server signed with another key before ("+strings.Join(v.OtherKeys, ", ")+"): a new key means a new log")
		case app.ShippedOtherKey:
			out = append(out, "huvudet som kön fick är inte signerat med denna nyckel / the head this computer's queue received when it shipped is not signed by this key: that what it shipped is still in the log was not checked")
		case app.NotFullCheck:
			out = append(out, "hela loggen kontrollerades inte / the whole log was not checked: that needs a registrar token; the signed head was")
		}
	}
	return out
}

// openOutput opens -o FILE (or standard output) for an export.
func openOutput(s *IOStreams, out string, force bool) (io.Writer, *os.File, error) {
	if (out == "" || out == "-") && s.OutTTY {
		return nil, nil, withHint(usagef("the export is for a file, not the terminal"), "add -o logg.csv (or pipe it: kuvert log export | …); 'kuvert log list' shows the log on screen")
	}
	if out == "" || out == "-" {
		return s.Out, nil, nil
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	file, err := os.OpenFile(out, flag, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, nil, withHint(fmt.Errorf("file already exists: %s", out), "use --force to replace it")
		}
		return nil, nil, err
	}
	return file, file, nil
}

// checkVerifierKey refuses a --key that is not a verifier key at all (a
// typo, a truncated copy) as a usage error (2), before any check: only
// a key that parses can tell a tampered log (6) from a wrong argument.
func checkVerifierKey(key string) error {
	if key == "" {
		return nil
	}
	if _, err := note.NewVerifier(strings.TrimSpace(key)); err != nil {
		return usagef("--key %q is not a verifier key (kuvert server key prints it, e.g. kuvert-server+1a2b3c4d+A…)", key)
	}
	return nil
}
