package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/internal/atomicfile"
	"github.com/kuvert-app/kuvert/internal/termsafe"
	"github.com/kuvert-app/kuvert/opener"
	"github.com/kuvert-app/kuvert/server"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/providers"
)

const serverLong = `kuvert server is the organisation's side of kuvert: one compliance log
in PostgreSQL for every desktop and batch host, one SMS account that
devices text through (the Twilio token stays on the server), tokens for
devices and people, and the registrar's page.
kuvert server är organisationens del: en gemensam logg i PostgreSQL,
ett sms-konto, behörigheter och registratorns sida.

Environment / Miljö:
  KUVERT_DATABASE_URL        the PostgreSQL database (postgres://…); never a flag,
                             so its password stays out of process lists
  KUVERT_SERVER_SIGNING_KEY  the file with the server's signing key
                             (default $KUVERT_HOME/server-signing.key); every
                             server process on one database uses the same key
  KUVERT_SERVER_SECRETS      a file of KEY=VALUE lines (mode 0600) that may hold any
                             of the settings here but KUVERT_HOME (the database URL
                             with its password, TWILIO_*, KUVERT_SMS_FROM, …); the
                             environment comes first
  KUVERT_SMS_PROVIDER, KUVERT_SMS_FROM, TWILIO_MESSAGING_SERVICE_SID, KUVERT_TWILIO_API_URL
                             as for the CLI
  KUVERT_ORGANISATION, KUVERT_OPENER_URL
                             the name and recipient page the server's texts show
                             (--organisation, --opener-url)

See docs/server.md.`

func newServerCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "server",
		Short: "The organisation's central log, SMS relay and registrar's page / Organisationens server",
		Long:  serverLong,
	}
	cmd.AddCommand(newServerRunCmd(f), newServerTokenCmd(f), newServerPruneCmd(f), newServerVerifyCmd(f), newServerKeyCmd(f))
	return cmd
}

// databaseURL reads KUVERT_DATABASE_URL.
func (f *Factory) databaseURL() (string, error) {
	getenv, err := f.serverGetenv()
	if err != nil {
		return "", err
	}
	u := strings.TrimSpace(getenv("KUVERT_DATABASE_URL"))
	if u == "" {
		return "", withHint(usagef("KUVERT_DATABASE_URL är inte satt / KUVERT_DATABASE_URL is not set (the PostgreSQL database, e.g. postgres://kuvert:PASSWORD@db.example/kuvert)"),
			"put KUVERT_DATABASE_URL=… in the KUVERT_SERVER_SECRETS file (mode 0600), so that its password is in no process's environment listing or shell history")
	}
	return u, nil
}

// signingKeyPath is KUVERT_SERVER_SIGNING_KEY or the default file.
func (f *Factory) signingKeyPath() (string, error) {
	getenv, err := f.serverGetenv()
	if err != nil {
		return "", err
	}
	if p := getenv("KUVERT_SERVER_SIGNING_KEY"); p != "" {
		return p, nil
	}
	st, err := f.Settings()
	if err != nil {
		return "", err
	}
	return filepath.Join(st.Home.Value, "server-signing.key"), nil
}

// loadSigningKey reads the server's signing key; with create, a missing
// key is made (mode 0600) and announced.
func (f *Factory) loadSigningKey(create bool) (string, error) {
	s := f.IOStreams
	p, err := f.signingKeyPath()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) && create {
		skey, vkey, gerr := server.GenerateKey("")
		if gerr != nil {
			return "", gerr
		}
		if merr := os.MkdirAll(filepath.Dir(p), 0o700); merr != nil {
			return "", merr
		}
		if werr := atomicfile.WriteNew(p, []byte(skey+"\n"), 0o600); werr == nil {
			fmt.Fprintf(s.ErrOut, "kuvert server: ny signeringsnyckel / new signing key: %s\nkuvert server: verifieringsnyckel att publicera / verifier key to publish: %s\n", p, vkey)
		}
		b, err = os.ReadFile(p) // another process may have won the race
	}
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "", withHint(fmt.Errorf("signeringsnyckeln kan inte läsas / the server's signing key cannot be read: %w", err), ownerHint(p))
	case errors.Is(err, fs.ErrNotExist):
		return "", withHint(fmt.Errorf("signeringsnyckeln finns inte / the server's signing key is missing: %w", err),
			"make it with kuvert server key, or set KUVERT_SERVER_SIGNING_KEY to the key file every server process shares")
	case err != nil:
		return "", fmt.Errorf("the server's signing key: %w", err)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("%s can be read by others (mode %o); chmod 600 it", p, fi.Mode().Perm())
		}
	}
	return strings.TrimSpace(string(b)), nil
}

func (f *Factory) openServerStore(ctx context.Context, create bool) (*server.Store, error) {
	url, err := f.databaseURL()
	if err != nil {
		return nil, err
	}
	key, err := f.loadSigningKey(create)
	if err != nil {
		return nil, err
	}
	kp, err := f.signingKeyPath()
	if err != nil {
		return nil, err
	}
	// The last signed head is kept beside the key, where a database
	// administrator cannot write: a rolled-back database is refused.
	st, err := server.OpenStore(ctx, url, key, server.WithHeadFile(server.HeadFileFor(kp)))
	if err != nil {
		return nil, err
	}
	return st, nil
}

// secretKeys are the settings kuvert server reads: each may stand in the
// KUVERT_SERVER_SECRETS file as well as in the environment (the
// environment first). KUVERT_HOME is not one: it says where the server's
// files are, before any file is read.
var secretKeys = []string{
	"KUVERT_DATABASE_URL", "KUVERT_SERVER_SIGNING_KEY",
	"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "KUVERT_SMS_FROM", "TWILIO_MESSAGING_SERVICE_SID",
	"KUVERT_SMS_PROVIDER", "KUVERT_SMS_TIMEOUT", "KUVERT_TWILIO_API_URL",
	"KUVERT_ORGANISATION", "KUVERT_OPENER_URL",
}

// readSecrets reads KEY=VALUE lines (as systemd's EnvironmentFile) from
// a file only its owner can read. A key the server does not read is an
// error that names it, never silently ignored.
func readSecrets(path string) (map[string]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("KUVERT_SERVER_SECRETS: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s can be read by others (mode %o); chmod 600 it", path, fi.Mode().Perm())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, withHint(fmt.Errorf("KUVERT_SERVER_SECRETS: %w", err), ownerHint(path))
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			return nil, fmt.Errorf("%s rad %d är inte NYCKEL=VÄRDE / %s line %d is not KEY=VALUE", path, n, path, n)
		}
		k = strings.TrimSpace(k)
		if !slices.Contains(secretKeys, k) {
			return nil, withHint(fmt.Errorf("%s rad %d: servern läser inte %s / %s line %d: the server does not read %s", path, n, termsafe.Escape(k), path, n, termsafe.Escape(k)),
				"the file may hold "+strings.Join(secretKeys, ", "))
		}
		out[k] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return out, sc.Err()
}

// ownerHint is the hint for a server file this user cannot read: it
// belongs to another user (made by root, say), and the way out.
func ownerHint(path string) string {
	who := "this user"
	if u, err := user.Current(); err == nil {
		who = "user " + u.Username
	}
	return fmt.Sprintf("%s cannot read %s: give it to the user the server runs as (as root: kuvert server key --owner USER for the signing key, chown USER for other files)", who, path)
}

// serverGetenv is the server's settings: the environment, then the
// KUVERT_SERVER_SECRETS file.
func (f *Factory) serverGetenv() (func(string) string, error) {
	p := f.Getenv("KUVERT_SERVER_SECRETS")
	if p == "" {
		return f.Getenv, nil
	}
	sec, err := readSecrets(p)
	if err != nil {
		return nil, err
	}
	return func(k string) string {
		if v := f.Getenv(k); v != "" {
			return v
		}
		return sec[k]
	}, nil
}

// serverSender is the SMS provider the server texts with: Twilio (or an
// outbox file in tests), never the console demo, which would print
// passwords into the server's log. Nil when none is configured.
func (f *Factory) serverSender() (sms.Sender, error) {
	// The secrets file stands beside the environment for the Twilio
	// account; the environment comes first. A server reads no keyring.
	getenv, err := f.serverGetenv()
	if err != nil {
		return nil, err
	}
	st, err := settings.Resolve(settings.Sources{Getenv: getenv, Home: os.TempDir(), File: &config.Config{}})
	if err != nil {
		return nil, err
	}
	if st.SMSProvider.Value == "console" && st.SMSProvider.Source != settings.FromDefault {
		return nil, usagef("the console demo provider prints passwords; a server texts with twilio (or outbox:FILE in tests)")
	}
	snd, err := providers.Server(st)
	if err != nil {
		// A setting that is missing or wrong (the sender, say): exit 2, so
		// that a service manager does not restart it for ever.
		return nil, usageError{err}
	}
	return snd, nil
}

// relayWords are the server's SMS settings: the organisation's words and
// the countries it texts.
type relayWords struct {
	organisation, openerURL, lang, countries string
}

// relayFor builds the relay from its settings and checks them, so a
// server that would text without the organisation's name, or with a
// template that does not fit one SMS, does not start.
func relayFor(st *server.Store, sender sms.Sender, lim server.Limits, w relayWords, log *slog.Logger) (*server.Relay, error) {
	r := &server.Relay{Store: st, Sender: sender, Limits: lim, Log: log,
		Policy: &sms.Policy{Organisation: strings.TrimSpace(w.organisation), OpenerURL: strings.TrimSpace(w.openerURL), Lang: w.lang}}
	for _, c := range strings.Split(w.countries, ",") {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c != "" && c != server.HomeRegion {
			r.Countries = append(r.Countries, c)
		}
	}
	if err := r.Check(); err != nil {
		if errors.Is(err, sms.ErrNoOrganisation) {
			return nil, usagef("the server writes every text itself and needs the organisation's name: --organisation NAME or KUVERT_ORGANISATION")
		}
		return nil, usagef("%v", err)
	}
	return r, nil
}

func newServerRunCmd(f *Factory) *cobra.Command {
	s := f.IOStreams
	var listen, cert, key string
	lim := server.DefaultLimits
	words := relayWords{organisation: f.Getenv("KUVERT_ORGANISATION"), openerURL: f.Getenv("KUVERT_OPENER_URL"), lang: "sv", countries: server.HomeRegion}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Serve the API, the registrar's page and the opener page",
		Long: `Serve kuvert's API on --listen (default 127.0.0.1:8443): over TLS with
--tls-cert and --tls-key, or plain HTTP behind the organisation's reverse
proxy (docs/server.md). GET /healthz answers 200 while the database does.
Stops cleanly on SIGTERM or SIGINT.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (cert == "") != (key == "") {
				return usagef("--tls-cert and --tls-key go together")
			}
			getenv, err := f.serverGetenv()
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("organisation") {
				words.organisation = getenv("KUVERT_ORGANISATION")
			}
			if !cmd.Flags().Changed("opener-url") {
				words.openerURL = getenv("KUVERT_OPENER_URL")
			}
			ctx := cmd.Context()
			st, err := f.openServerStore(ctx, true)
			if err != nil {
				return err
			}
			defer st.Close()
			sender, err := f.serverSender()
			if err != nil {
				return err
			}
			logger := slog.New(slog.NewTextHandler(s.ErrOut, nil))
			h := &server.Handler{Store: st, Log: logger}
			// The recipient page it serves says whom it is from.
			if h.Opener, err = opener.Branded(opener.Brand{Organisation: strings.TrimSpace(words.organisation)}); err != nil {
				return usagef("organisationens namn kan inte stå på mottagarsidan (styrtecken, eller över %d tecken) / the organisation's name cannot go on the recipient page (control characters, or over %d characters)", opener.MaxOrganisationRune, opener.MaxOrganisationRune)
			}
			if sender != nil {
				if h.Relay, err = relayFor(st, sender, lim, words, logger); err != nil {
					return err
				}
			} else {
				logger.Warn("no SMS provider configured: devices cannot text through this server (set TWILIO_* or KUVERT_SERVER_SECRETS)")
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			scheme := "http"
			if cert != "" {
				scheme = "https"
			} else if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
				logger.Warn("plain HTTP on a non-loopback address: put a TLS reverse proxy in front, or use --tls-cert/--tls-key")
			}
			fmt.Fprintf(s.Out, "kuvert server: lyssnar på / listening on %s://%s\n", scheme, ln.Addr())
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute,
				ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
			done := make(chan error, 1)
			go func() {
				if cert != "" {
					done <- srv.ServeTLS(ln, cert, key)
				} else {
					done <- srv.Serve(ln)
				}
			}()
			select {
			case err := <-done:
				return err
			case <-ctx.Done():
				sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				srv.Shutdown(sctx)
				return nil
			}
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", "127.0.0.1:8443", "`ADDR`ess to listen on")
	fl.StringVar(&cert, "tls-cert", "", "TLS certificate `FILE` (PEM)")
	fl.StringVar(&key, "tls-key", "", "TLS private key `FILE` (PEM)")
	fl.IntVar(&lim.PerDevice, "sms-per-device", lim.PerDevice, "texts one device may send per hour (0: no limit)")
	fl.IntVar(&lim.PerAccount, "sms-per-account", lim.PerAccount, "texts all devices together may send per hour (0: no limit)")
	fl.IntVar(&lim.PerForeign, "sms-per-foreign", lim.PerForeign, "texts to numbers outside Sweden all devices together may send per hour (0: no limit)")
	fl.StringVar(&words.countries, "sms-countries", words.countries, "`LIST` of countries whose mobiles the server texts, e.g. SE,NO,DK,FI (Sweden always)")
	fl.StringVar(&words.organisation, "organisation", words.organisation, "the organisation's `NAME` every text shows (KUVERT_ORGANISATION)")
	fl.StringVar(&words.openerURL, "opener-url", words.openerURL, "the recipient page's public https `URL` the texts give (KUVERT_OPENER_URL; none: no link)")
	fl.StringVar(&words.lang, "sms-lang", words.lang, "the texts' language: sv or en")
	return cmd
}

func newServerTokenCmd(f *Factory) *cobra.Command {
	s := f.IOStreams
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Add, list and revoke the tokens of devices and people",
	}
	var role string
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Make a token; it is printed once, alone on the last line",
		Long: `Make a token for NAME with --role device (a desktop or batch host: ships
its own log entries and texts through the server), registrar (reads,
searches, exports and verifies the log) or admin (both). The token is
printed once, alone on the last line of standard output; the database
keeps only its SHA-256.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !server.ValidRole(role) {
				return usagef("--role must be device, registrar or admin")
			}
			st, err := f.openServerStore(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer st.Close()
			tok, err := st.AddToken(cmd.Context(), args[0], role)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "Token för / for %s (%s) — visas bara nu / shown only now:\n%s\n", args[0], role, tok)
			return nil
		},
	}
	add.Flags().StringVar(&role, "role", "", "device, registrar or admin")
	add.MarkFlagRequired("role")
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (names, roles, dates; never the tokens)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := f.openServerStore(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := st.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(s, ts)
			}
			tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAMN/NAME\tROLL/ROLE\tSKAPAD/CREATED\tÅTERKALLAD/REVOKED")
			for _, t := range ts {
				rev := "-"
				if t.Revoked != nil {
					rev = t.Revoked.Local().Format("2006-01-02 15:04")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Role, t.Created.Local().Format("2006-01-02 15:04"), rev)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke NAME's token; every server refuses it from the next request",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := f.openServerStore(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "Återkallad / revoked: %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(add, list, revoke)
	return cmd
}

func newServerPruneCmd(f *Factory) *cobra.Command {
	s := f.IOStreams
	older := "90d"
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove central entry bodies older than the retention period (gallring)",
		Long: `Remove the bodies of central log entries older than --older-than,
keeping their leaf hashes so the log still verifies, and record the
pruning (which entries, and the limit) in the log itself. Prune and
repair records are kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := parseAge(older)
			if err != nil {
				return err
			}
			st, err := f.openServerStore(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.Prune(cmd.Context(), time.Now().Add(-d), older)
			if err != nil {
				return err
			}
			// The prune record's new head is kept beside the key now,
			// not only when a server next serves the head.
			if _, err := st.Head(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "Gallrade / pruned: %d %s äldre än / older than %s\n", n, plural(n, "post/entry", "poster/entries"), older)
			return nil
		},
	}
	cmd.Flags().StringVar(&older, "older-than", older, "retention `PERIOD`: 90d, 12w, 36h")
	return cmd
}

func newServerVerifyCmd(f *Factory) *cobra.Command {
	s := f.IOStreams
	var asJSON bool
	var key string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify the whole central log in the database",
		Long: `Read the whole central log from the database and check it: the signed
tree head (with --key, the verifier key you kept; else the server's own),
every entry against its hash, the Merkle tree against the signed root and
every earlier head, and that every pruned entry is named by a prune
record. Exit code 6 when it does not verify.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkVerifierKey(key); err != nil {
				return err
			}
			st, err := f.openServerStore(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer st.Close()
			start := time.Now()
			res, err := st.Verify(cmd.Context(), key)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(s, res); err != nil {
					return err
				}
			} else if res.OK {
				fmt.Fprintf(s.Out, "Centralloggen verifierar / the central log verifies: %d poster/entries (%d gallrade/pruned), rot/root %s, nyckel/key %s (%.1f s)\n",
					res.Entries, res.Pruned, res.Head.Root, keyLabel(res.Key), time.Since(start).Seconds())
			}
			if !res.OK {
				return codeError{fmt.Errorf("the central log does not verify: %s", res.Problem), ExitLogInvalid}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&key, "key", "", "the verifier `KEY` to check the signed head with")
	return cmd
}

func keyLabel(vkey string) string {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) >= 2 {
		return parts[0] + "+" + parts[1]
	}
	return vkey
}

func newServerKeyCmd(f *Factory) *cobra.Command {
	s := f.IOStreams
	var owner string
	cmd := &cobra.Command{
		Use:   "key [--owner USER]",
		Short: "Print the verifier key of the server's signing key (creating the key if there is none)",
		Long: `Print the verifier key that checks this server's signed tree heads. Publish
it to clients and auditors (kuvert log verify --server URL --key KEY).
The signing key is created at KUVERT_SERVER_SIGNING_KEY (default
$KUVERT_HOME/server-signing.key, mode 0600) if it does not exist.
Run as root with --owner USER (the user the server runs as, e.g. kuvert),
the key and the files beside it are given to that user: without it, a key
made by root is one the server cannot read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var uid, gid int
			if owner != "" {
				var err error
				if uid, gid, err = lookupOwner(owner); err != nil {
					return err
				}
			}
			p, err := f.signingKeyPath()
			if err != nil {
				return err
			}
			_, statErr := os.Stat(filepath.Dir(p))
			skey, err := f.loadSigningKey(true)
			if err != nil {
				return err
			}
			if owner != "" {
				paths := []string{p, server.HeadFileFor(p), server.HeadFileFor(p) + ".lock"}
				if errors.Is(statErr, fs.ErrNotExist) {
					paths = append(paths, filepath.Dir(p)) // made just now, for the key
				}
				for _, q := range paths {
					if err := os.Lchown(q, uid, gid); err != nil && !errors.Is(err, fs.ErrNotExist) {
						return fmt.Errorf("kan inte ge %s till %s / cannot give %s to %s: %w", q, owner, q, owner, err)
					}
				}
			}
			vkey, err := server.VerifierKey(skey)
			if err != nil {
				return err
			}
			fmt.Fprintln(s.Out, vkey)
			return nil
		},
	}
	cmd.Flags().StringVar(&owner, "owner", "", "give the key and the files beside it to `USER` (run as root; the user the server runs as)")
	return cmd
}

// lookupOwner is the user and group ids of --owner USER.
func lookupOwner(name string) (uid, gid int, err error) {
	if runtime.GOOS == "windows" {
		return 0, 0, usagef("--owner finns inte på Windows / --owner is not for Windows: set the key file's permissions in Explorer")
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, usagef("användaren %s finns inte / no user %s: %v", termsafe.Escape(name), termsafe.Escape(name), err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid, nil
}
