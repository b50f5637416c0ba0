package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/internal/termsafe"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/clientenv"
	"github.com/kuvert-app/kuvert/server/client/shipping"
	"github.com/kuvert-app/kuvert/settings"
)

// noShip marks commands after which kuvert does not ship in passing
// (they ship themselves, or only read the queue).
const noShip = "kuvert/no-ship"

// serverFor makes the client for rawURL, or the configured server when
// rawURL is empty (or the --server flag's "configured" value).
func (f *Factory) serverFor(rawURL string) (*client.Client, error) {
	a, err := f.App(nil)
	if err != nil {
		return nil, err
	}
	var locked *settings.LockedError
	if rawURL != serverConfigured && errors.As(a.Settings.ServerURL.Check("--server", rawURL), &locked) {
		return nil, lockedError(locked)
	}
	if rawURL == serverConfigured || rawURL == a.Settings.ServerURL.Value {
		rawURL = ""
	}
	var c *client.Client
	if rawURL == "" && a.Settings.ServerURL.Value != "" {
		// The configured server: enroll first if a code is configured.
		_, c, err = f.ensureServer(context.Background())
		if errors.Is(err, clientenv.ErrNoEnrollment) {
			err = client.ErrNoToken
		}
		if errors.Is(err, client.ErrEnrollRefused) {
			return nil, err
		}
	} else {
		c, err = a.Server(rawURL)
	}
	if errors.Is(err, app.ErrNoServer) {
		return nil, withHint(usagef("no kuvert server is configured"),
			`set KUVERT_SERVER_URL, or "server_url" in config.json, or give --server URL`)
	}
	if errors.Is(err, client.ErrNoToken) {
		return nil, withHint(usageError{err}, "set KUVERT_SERVER_TOKEN, or save the token in the desktop app's settings (it goes to the OS keyring)")
	}
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

func newLogSyncCmd(f *Factory, g *globalOptions) *cobra.Command {
	s := f.IOStreams
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Ship the entries that wait to the kuvert server now / Skicka loggen till servern",
		Long: `Ship every entry of the local log that the central log on the kuvert
server does not have yet, in the local log's order. kuvert also does this
in passing after every command, briefly; 'sync' waits for it and says
how it went.

Exit code 1 when entries still wait because the server could not be
reached or refused one ('kuvert log status' tells which and why).

Skicka de poster som väntar till kuvert-servern nu.`,
		Annotations: map[string]string{noShip: "1"},
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, _, err := f.openLog(g)
			if err != nil {
				return err
			}
			c, err := f.serverFor("")
			if err != nil {
				return err
			}
			res, err := app.Sync(cmd.Context(), l, c, 30*time.Second, describe)
			if errors.Is(err, shipping.ErrBusy) {
				return withHint(err, "wait a minute and try again")
			}
			if asJSON {
				out := struct {
					OK bool `json:"ok"`
					shipping.Result
					Error string `json:"error,omitempty"`
				}{OK: err == nil, Result: res}
				if err != nil {
					out.Error = describe(err)
				}
				if jerr := writeJSON(s, out); jerr != nil {
					return jerr
				}
			} else {
				fmt.Fprintf(s.Out, "Skickade / shipped: %d %s (%d fanns redan / already there, %d gallrade hoppades över / pruned skipped); väntar / waiting: %d\n",
					res.Shipped, plural(res.Shipped, "post", "poster"), res.Duplicates, res.Pruned, res.Waiting)
			}
			if err != nil {
				if res.Waiting == 0 && client.Temporary(err) {
					fmt.Fprintf(s.ErrOut, "kuvert: warning: %s\n", termsafe.Escape(describe(err)))
					return nil
				}
				return codeError{withHint(err, syncHint(err)), ExitFailure}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func syncHint(err error) string {
	switch {
	case errors.Is(err, shipping.ErrStuck):
		return "the entry waits; tell the server's administrator ('kuvert log status' names it); sealing still works meanwhile"
	case errors.Is(err, client.ErrUnauthorized):
		return "ask the administrator for a new device token and save it in the settings (or KUVERT_SERVER_TOKEN)"
	}
	return "the entries wait in the local log and go when the server answers; sealing still works meanwhile"
}

func newLogStatusCmd(f *Factory, g *globalOptions) *cobra.Command {
	s := f.IOStreams
	var asJSON bool
	cmd := &cobra.Command{
		Use:         "status",
		Short:       "Say how the shipping to the kuvert server goes / Hur det går att skicka loggen",
		Annotations: map[string]string{noShip: "1"},
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, cfg, err := f.openLog(g)
			if err != nil {
				return err
			}
			a, _ := f.App(g) // resolved by openLog above
			q := &shipping.Queue{Log: l}
			var cerr error
			if cfg.ServerURL.Value != "" {
				q.Client, cerr = a.Server("")
				if cerr != nil {
					// Status still tells what waits; the address is shown
					// as configured.
					q.Client = nil
				}
			}
			st, err := q.Status()
			if err != nil {
				return err
			}
			if st.Server == "" {
				st.Server = cfg.ServerURL.Value
			}
			if asJSON {
				out := struct {
					Configured bool `json:"configured"`
					*shipping.Status
					Problem string `json:"problem,omitempty"`
				}{Configured: st.Server != "", Status: st}
				if cerr != nil {
					out.Problem = describe(cerr)
				}
				return writeJSON(s, out)
			}
			w := s.Out
			if st.Server == "" {
				fmt.Fprintln(w, "Server: ingen är inställd / none configured (KUVERT_SERVER_URL or server_url in config.json)")
				return nil
			}
			fmt.Fprintf(w, "Server: %s\n", termsafe.Escape(st.Server))
			if cerr != nil {
				fmt.Fprintf(w, "Problem: %s\n", termsafe.Escape(describe(cerr)))
			}
			fmt.Fprintf(w, "Väntar / waiting: %d %s\n", st.Waiting, plural(st.Waiting, "post", "poster"))
			fmt.Fprintf(w, "Skickade / shipped: %d (gallrade innan de skickades / pruned before shipping: %d)\n", st.Shipped, st.Pruned)
			fmt.Fprintf(w, "Senaste synk / last sync: %s\n", orNever(st.LastSync))
			if st.LastError != "" {
				fmt.Fprintf(w, "Senaste fel / last error: %s (%s)\n", termsafe.Escape(st.LastError), localTime(st.LastErrorAt))
			}
			if st.Stuck != nil {
				fmt.Fprintf(w, "Stoppad vid / stuck at: post / entry %d (%s): servern nekade / the server refused it; the entries after it wait too\n", st.Stuck.Seq, termsafe.Escape(st.Stuck.ID))
			}
			if st.Head != nil {
				fmt.Fprintf(w, "Centrala loggen / central log: %d poster / entries (%s)\n", st.Head.Size, localTime(st.Head.Time))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func orNever(t string) string {
	if t == "" {
		return "aldrig / never"
	}
	return localTime(t)
}

func localTime(t string) string {
	if tt, err := time.Parse(time.RFC3339, t); err == nil {
		return tt.Local().Format("2006-01-02 15:04:05")
	}
	return termsafe.Escape(t)
}

// passingTimeout bounds the shipping after a command: the user waits for
// it, so it is short; what does not go now goes next time.
var passingTimeout = 5 * time.Second

// shipInPassing ships waiting entries after a command when a server is
// configured. It never fails the command and says nothing unless entries
// are left waiting because something is wrong: then one line on stderr.
// It calls the server only when entries wait.
func shipInPassing(ctx context.Context, f *Factory, logDir string) {
	if ctx.Err() != nil {
		return
	}
	s := f.IOStreams
	a, err := f.App(&globalOptions{LogDir: logDir})
	if err != nil || a.Settings.ServerURL.Value == "" {
		return
	}
	note := func(msg string) {
		fmt.Fprintf(s.ErrOut, "kuvert: note: %s\n", termsafe.Escape(msg))
	}
	l, _, err := a.OpenLog()
	if err != nil {
		return
	}
	q := &shipping.Queue{Log: l, Words: describe}
	st, serr := q.Status()
	if serr != nil || st.Waiting == 0 {
		return
	}
	// Entries wait: now the server is needed (enrolling first, once).
	_, c, err := f.ensureServer(ctx)
	if errors.Is(err, clientenv.ErrNoEnrollment) {
		err = client.ErrNoToken
	}
	q.Client = c
	if err != nil {
		note(fmt.Sprintf("%d %s väntar på att skickas till servern / %d %s for the server: %v", st.Waiting, plural(st.Waiting, "post", "poster"), st.Waiting, plural(st.Waiting, "entry waits", "entries wait"), describe(err)))
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), passingTimeout)
	defer cancel()
	res, err := q.Ship(ctx)
	if err == nil || errors.Is(err, shipping.ErrBusy) || res.Waiting == 0 {
		return
	}
	why := describe(err)
	if errors.Is(err, context.DeadlineExceeded) {
		why = "servern hann inte ta emot allt / the server did not take everything in time"
	}
	note(fmt.Sprintf("%d %s väntar på att skickas till servern / %d %s for the server (kuvert log sync; kuvert log status): %s",
		res.Waiting, plural(res.Waiting, "post", "poster"), res.Waiting, plural(res.Waiting, "entry waits", "entries wait"), strings.TrimSuffix(why, ".")))
}

// afterCommand ships in passing after a command that ran (not after a
// usage error, help, or the commands marked noShip).
func afterCommand(ctx context.Context, f *Factory, cmd *cobra.Command, err error) {
	if cmd == nil || !cmd.HasParent() || cmd.HasSubCommands() || cmd.Name() == "help" || cmd.Annotations[noShip] != "" || errors.As(err, new(usageError)) {
		return
	}
	if h, _ := cmd.Flags().GetBool("help"); h {
		return
	}
	dir := ""
	if f := cmd.Flags().Lookup("log-dir"); f != nil {
		dir = f.Value.String()
	}
	shipInPassing(ctx, f, dir)
}
