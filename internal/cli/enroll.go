package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/internal/termsafe"
	"github.com/kuvert-app/kuvert/server/client/clientenv"
)

func newEnrollCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "enroll [CODE]",
		Short: "Register this computer with the organisation's kuvert server / Registrera datorn",
		Long: `Trade an enrollment code from IT for this computer's own device token at the
configured kuvert server (server_url: machine policy ServerURL,
KUVERT_SERVER_URL or config.json). The token goes to the OS keyring
(Windows Credential Manager) and is never shown. The code comes from the
argument, else machine policy (EnrollmentCode) or KUVERT_ENROLLMENT_CODE,
else standard input (or the terminal). An argument shows in the
computer's process list while kuvert runs: prefer standard input.

With a server address and an enrollment code set by policy, kuvert
enrolls by itself the first time it needs the server; this command is
for a computer set up by hand.

Byter en registreringskod från IT mot datorns egen token hos
kuvert-servern. Token sparas i nyckelringen och visas aldrig.`,
		Args:        cobra.MaximumNArgs(1),
		Annotations: map[string]string{noShip: "1"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.runEnroll(cmd.Context(), args)
		},
	}
}

func (f *Factory) runEnroll(ctx context.Context, args []string) error {
	s := f.IOStreams
	env, err := f.serverEnv()
	if err != nil {
		return err
	}
	st, err := f.Settings()
	if err != nil {
		return err
	}
	if st.ServerURL.Value == "" {
		return withHint(usagef("ingen kuvert-server är inställd / no kuvert server is configured"),
			`IT sets ServerURL by policy; or set KUVERT_SERVER_URL, or "server_url" in config.json`)
	}
	if st.ServerToken.Stored() {
		fmt.Fprintf(s.Out, "Datorn är redan registrerad / this computer is already enrolled (%s)\n", termsafe.Escape(st.ServerToken.Where()))
		return nil
	}
	var code string
	switch {
	case len(args) == 1:
		code = args[0]
	case st.EnrollmentCode.Value != "":
		code = st.EnrollmentCode.Value
	case s.ReadPassword != nil:
		if code, err = s.ReadPassword("Registreringskod / enrollment code: "); err != nil {
			return err
		}
	default:
		line, rerr := bufio.NewReader(io.LimitReader(s.In, 4096)).ReadString('\n')
		if rerr != nil && rerr != io.EOF {
			return rerr
		}
		code = line
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return withHint(usagef("ingen registreringskod / no enrollment code"),
			"give the code from IT: kuvert enroll < code.txt, or type it when asked")
	}
	name, err := clientenv.Enroll(ctx, env, st.Home.Value, st.ServerURL.Value, code)
	if err != nil {
		return err
	}
	// The organisation's settings, fetched now, so the next command
	// (and `kuvert config show`) has them even offline.
	if _, _, err := f.ensureServer(ctx); err != nil {
		fmt.Fprintf(s.ErrOut, "kuvert: note: %s\n", termsafe.Escape(describe(err)))
	}
	if name == "" {
		fmt.Fprintln(s.Out, "Datorn är redan registrerad / this computer is already enrolled")
		return nil
	}
	fmt.Fprintf(s.Out, "Datorn är registrerad hos %s som %s / this computer is enrolled as %s; token sparad i nyckelringen / token kept in the OS keyring\n",
		termsafe.Escape(st.ServerURL.Value), termsafe.Escape(name), termsafe.Escape(name))
	return nil
}
