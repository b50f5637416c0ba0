package cli

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/internal/termsafe"
	"github.com/kuvert-app/kuvert/settings"
)

func newConfigCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the settings and where each comes from; store secrets / Inställningar",
	}
	cmd.AddCommand(newConfigShowCmd(f), newConfigSecretCmd(f))
	return cmd
}

// sourceWords names a source, Swedish first.
var sourceWords = map[settings.Source]string{
	settings.FromDefault: "standard / default",
	settings.FromPolicy:  "maskinpolicy / machine policy",
	settings.FromEnv:     "miljövariabel / environment",
	settings.FromFile:    "inställningsfil / settings file",
	settings.FromKeyring: "nyckelring / keyring",
	settings.FromOthers:  "härlett / inferred",
	settings.FromServer:  "organisationens server / organisation's server",
}

func newConfigShowCmd(f *Factory) *cobra.Command {
	s := f.IOStreams
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print every setting with where it came from / Visa inställningarna",
		Long: `Prints every setting kuvert uses with where its value came from: machine
policy, an environment variable, config.json, the OS keyring or the
built-in default. Secrets are shown only as stored or not stored.

Visar varje inställning och varifrån värdet kommer. Hemligheter visas bara
som sparade eller inte.`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{noShip: "1"},
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := f.resolve()
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(s, settingsJSON(st))
			}
			if err := printSettings(s.Out, st); err != nil {
				return err
			}
			for _, o := range st.Overrides {
				fmt.Fprintf(s.ErrOut, "kuvert: %s styrs av din organisations policy; %s ändrar inget / %s\n", o.Key, o.By, termsafe.Escape(o.Error()))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type settingJSON struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
	Where  string `json:"where,omitempty"`
}

type secretJSON struct {
	Key    string `json:"key"`
	Stored bool   `json:"stored"`
	Source string `json:"source,omitempty"`
	Where  string `json:"where,omitempty"`
	// Unknown: the OS keyring could not be read, so whether it holds the
	// secret is not known (stored is false).
	Unknown bool `json:"unknown,omitempty"`
}

func settingsJSON(st *settings.Settings) any {
	out := struct {
		Settings []settingJSON `json:"settings"`
		Secrets  []secretJSON  `json:"secrets"`
	}{Settings: []settingJSON{}, Secrets: []secretJSON{}}
	for _, v := range st.Values() {
		out.Settings = append(out.Settings, settingJSON{v.Key, shownValue(v), string(v.Source), v.Where})
	}
	for _, sec := range st.Secrets() {
		out.Secrets = append(out.Secrets, secretJSON{sec.Key, sec.Stored(), string(sec.Source()), sec.Where(), !sec.Stored() && sec.Unreadable() != nil})
	}
	return out
}

// printSettings writes the settings as a table: key, value, source.
func printSettings(w io.Writer, st *settings.Settings) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTÄLLNING / SETTING\tVÄRDE / VALUE\tKÄLLA / SOURCE")
	for _, v := range st.Values() {
		val := shownValue(v)
		if val == "" {
			val = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Key, termsafe.Escape(oneLine(val)), where(v.Source, v.Where))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "HEMLIGHET / SECRET\tSPARAD / STORED\tKÄLLA / SOURCE")
	for _, sec := range st.Secrets() {
		stored, src := "nej / no", "-"
		switch {
		case sec.Stored():
			stored, src = "ja / yes", where(sec.Source(), sec.Where())
		case sec.Unreadable() != nil:
			// It may be stored there: "no" would send the user to store
			// it again, into a keyring that cannot take it.
			stored, src = "okänt / unknown", "nyckelringen gick inte att läsa / the keyring could not be read"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", sec.Key, stored, src)
	}
	return tw.Flush()
}

// shownValue is what config show prints of a value: the enrollment code
// is a secret (it buys device tokens), so only that one is set.
func shownValue(v settings.Value) string {
	if v.Key == "enrollment_code" && v.Value != "" {
		return "(satt / set)"
	}
	return v.Value
}

func where(src settings.Source, at string) string {
	w := sourceWords[src]
	if at != "" {
		w += " (" + termsafe.Escape(at) + ")"
	}
	return w
}

// oneLine keeps a table row one row: a template may hold line breaks.
func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`, "\t", `\t`).Replace(s)
}

func newConfigSecretCmd(f *Factory) *cobra.Command {
	s := f.IOStreams
	names := strings.Join(settings.SecretKeys, ", ")
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Store or remove a secret in the OS keyring / Spara hemligheter i nyckelringen",
	}
	set := &cobra.Command{
		Use:   "set NAME",
		Short: "Store a secret read from standard input / Spara en hemlighet",
		Long: `Stores a secret in the OS keyring (Windows Credential Manager, macOS
Keychain, Secret Service), read from standard input or asked for on the
terminal, never from the command line. NAME is one of: ` + names + `.

Sparar en hemlighet i operativsystemets nyckelring. Den läses från
standard in eller frågas efter i terminalen, aldrig från kommandoraden.`,
		Args:        cobra.ExactArgs(1),
		Annotations: map[string]string{noShip: "1"},
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := secretName(args[0])
			if err != nil {
				return err
			}
			val, err := readSecretValue(s, name)
			if err != nil {
				return err
			}
			if err := f.Keyring.Set(settings.KeyringService, name, val); err != nil {
				return keyringError(err)
			}
			fmt.Fprintf(s.ErrOut, "%s sparad i nyckelringen / stored in the OS keyring\n", name)
			return nil
		},
	}
	del := &cobra.Command{
		Use:         "delete NAME",
		Short:       "Remove a secret from the OS keyring / Ta bort en hemlighet",
		Args:        cobra.ExactArgs(1),
		Annotations: map[string]string{noShip: "1"},
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := secretName(args[0])
			if err != nil {
				return err
			}
			if err := f.Keyring.Delete(settings.KeyringService, name); err != nil {
				return keyringError(err)
			}
			fmt.Fprintf(s.ErrOut, "%s borttagen ur nyckelringen / removed from the OS keyring\n", name)
			return nil
		},
	}
	cmd.AddCommand(set, del)
	return cmd
}

func secretName(name string) (string, error) {
	if !slices.Contains(settings.SecretKeys, name) {
		return "", usagef("unknown secret %q (use %s)", termsafe.Escape(name), strings.Join(settings.SecretKeys, ", "))
	}
	return name, nil
}

// readSecretValue asks on the terminal without echo, else reads one line
// of standard input.
func readSecretValue(s *IOStreams, name string) (string, error) {
	var val string
	if s.ReadPassword != nil {
		v, err := s.ReadPassword(name + ": ")
		if err != nil {
			return "", err
		}
		val = v
	} else {
		line, err := bufio.NewReader(io.LimitReader(s.In, 4096)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("cannot read the secret: %v", err)
		}
		val = line
	}
	val = strings.TrimSpace(val)
	if val == "" {
		return "", usagef("no secret on standard input (give it on one line, e.g. from a file: kuvert config secret set %s < FILE)", name)
	}
	if strings.ContainsAny(val, "\r\n\x00") {
		return "", usagef("a secret is one line")
	}
	return val, nil
}

// keyringError says that the OS keyring could not be used, without the
// secret.
func keyringError(err error) error {
	return withHint(fmt.Errorf("%s gick inte att använda / %s could not be used: %v", keyringSV, keyringEN, err),
		"on Windows the secret goes to Credential Manager; on Linux a Secret Service (GNOME Keyring, KWallet) must run; or set the environment variable instead (KUVERT_SERVER_TOKEN, KUVERT_SMTP_PASSWORD, TWILIO_AUTH_TOKEN)")
}
