// Package cli is the kuvert command line: cobra commands over the core
// packages. It holds no sealing, opening or logging logic of its own; each
// verb parses flags into an options struct and calls its run function,
// which tests can call directly.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/internal/termsafe"
	"github.com/kuvert-app/kuvert/scan"
	"github.com/kuvert-app/kuvert/sms"
)

// Exit codes, documented in docs/exit-codes.md and `kuvert --help`.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitWrongSecret = 3
	ExitDamaged     = 4
	ExitSMS         = 5
	ExitLogInvalid  = 6
	ExitSensitive   = 7
	ExitPartial     = 8 // batch: not every row delivered (some failed, skipped or demo)
)

// Version is set at build time with -ldflags "-X ...cli.Version=…".
var Version = "0.1.0-dev"

// IOStreams is where a command reads and writes. Results go to Out,
// messages and progress to ErrOut; commands never touch os.Stdout.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutTTY and ErrTTY say whether Out and ErrOut are terminals.
	OutTTY, ErrTTY bool
	// ReadPassword asks for a secret on the terminal without echo; nil
	// when there is no terminal.
	ReadPassword func(prompt string) (string, error)
}

func systemStreams() *IOStreams {
	s := &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		s.ReadPassword = func(prompt string) (string, error) {
			fmt.Fprint(os.Stderr, prompt)
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			fmt.Fprintln(os.Stderr)
			return string(b), err
		}
	}
	return s
}

// Main runs kuvert with the process's arguments and streams and returns
// the exit code.
func Main() int {
	ctx, stop := withSignals(context.Background())
	defer stop()
	f := systemFactory()
	interruptible(ctx, f.IOStreams)
	return Run(ctx, os.Args[1:], f)
}

// usageError marks errors in how kuvert was called (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// hintError carries a next step for the user.
type hintError struct {
	err  error
	hint string
}

func (e hintError) Error() string { return e.err.Error() }
func (e hintError) Unwrap() error { return e.err }

func withHint(err error, hint string) error { return hintError{err, hint} }

// Run executes one command line with the dependencies f hands in.
func Run(ctx context.Context, args []string, f *Factory) int {
	s := f.IOStreams
	root := newRootCmd(f)
	root.SetArgs(args)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	cmd, err := root.ExecuteContextC(ctx)
	afterCommand(ctx, f, cmd, err)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	if in, ok := signalCause(ctx); ok {
		// The command stopped because of the signal and cleaned up
		// after itself; say so rather than "context canceled".
		code = signalExitCode(in.sig)
		if errors.Is(err, context.Canceled) {
			err = in
		}
	}
	err = explainHeld(err)
	// Messages may name entries, files and arguments that came from
	// outside; each is one line with nothing a terminal acts on.
	msg := termsafe.Escape(describe(err))
	fmt.Fprintf(s.ErrOut, "kuvert: %s\n", strings.TrimSuffix(msg, "."))
	for _, h := range hints(err) {
		fmt.Fprintf(s.ErrOut, "kuvert: hint: %s\n", termsafe.Escape(h))
	}
	return code
}

func exitCode(err error) int {
	var ue usageError
	var ce codeError
	switch {
	case errors.As(err, &ce):
		return ce.code
	case errors.As(err, &ue):
		return ExitUsage
	}
	for _, r := range exitTable {
		if r.code != 0 && errors.Is(err, r.err) {
			return r.code
		}
	}
	return ExitFailure
}

// codeError forces an exit code (log verification, SMS, sensitive data).
type codeError struct {
	err  error
	code int
}

func (e codeError) Error() string { return e.err.Error() }
func (e codeError) Unwrap() error { return e.err }

// exitRule is what the CLI does with an error the core returns: the
// exit code of docs/exit-codes.md and the hint printed under it.
type exitRule struct {
	err  error // a sentinel, matched with errors.Is
	code int   // 0: none of its own (ExitFailure unless another rule matches)
	hint string
	// hintFor gives the hint from the error itself (the SMS provider's
	// own advice); it overrides hint.
	hintFor func(error) string
	// coded: a command that forced the exit code (codeError) has already
	// said what to do, so the default hint is left out.
	coded bool
}

// exitTable is the one map from the core's errors to exit codes and
// default hints (restic's and gh's habit: one place, documented in
// docs/exit-codes.md; TestExitTableMatchesDoc keeps the two together).
// The first rule that matches and has a code gives the exit code; the
// first that matches and has a hint gives the hint.
var exitTable = []exitRule{
	{err: batch.ErrRowsFailed, code: ExitSMS},
	{err: batch.ErrPartial, code: ExitPartial},
	{err: batch.ErrNotOurs, hint: "kuvert batch ersätter aldrig en fil den inte själv skrivit: välj en ny --out-dir eller flytta filerna / kuvert batch never replaces a file it did not write: choose a new --out-dir or move those files away"},
	{err: crypt.ErrWrongPassword, code: ExitWrongSecret, hint: "check the password: it is case-sensitive, and the dashes between groups belong to it"},
	{err: crypt.ErrDamaged, code: ExitDamaged, hint: "the file was changed or cut off on its way; ask the sender to send it again"},
	{err: crypt.ErrUnsafe, code: ExitDamaged, hint: "kuvert refused to open it to protect this computer; nothing was written"},
	{err: crypt.ErrUnsupported, code: ExitDamaged},
	{err: crypt.ErrExists, hint: "use --force to replace it, or -o to choose another name"},
	{err: crypt.ErrInput, code: ExitUsage},
	{err: crypt.ErrWeakPassword, code: ExitUsage, hint: "leave out --password-file and --password-env to get a generated password, or add --weak-password-ok if you must"},
	{err: crypt.ErrNeedPassword, code: ExitUsage, hint: "give the password with --password-file FILE or KUVERT_PASSWORD (encrypt reads it with --password-env), or run kuvert in a terminal to be asked"},
	// An SMS whose failure the log could not record is both ErrSMS and
	// the log's error: the tampered log's exit code wins, the SMS hint
	// comes first (so ErrTampered has two rules).
	{err: auditlog.ErrTampered, code: ExitLogInvalid},
	{err: scan.ErrSensitive, code: ExitSensitive},
	{err: envelope.ErrSMS, code: ExitSMS, hintFor: smsHint, coded: true},
	{err: sms.ErrNotDelivered, code: ExitSMS},
	{err: auditlog.ErrUnavailable, hint: "check that the log folder exists, is writable and the disk is not full (--log-dir or KUVERT_HOME)"},
	{err: auditlog.ErrTampered, hint: "run 'kuvert log verify' and tell whoever is responsible for information security", coded: true},
}

func hints(err error) []string {
	var out []string
	var he hintError
	if errors.As(err, &he) && he.hint != "" {
		out = append(out, he.hint)
	}
	coded := errors.As(err, new(codeError))
	for _, r := range exitTable {
		if r.hint == "" && r.hintFor == nil || r.coded && coded || !errors.Is(err, r.err) {
			continue
		}
		if r.hintFor != nil {
			return append(out, r.hintFor(err))
		}
		return append(out, r.hint)
	}
	return out
}

const rootLong = `kuvert seals attachments so that only someone with the password can open
them: AES-256 zip (opens in 7-Zip and WinZip) or age.
kuvert förseglar bilagor så att bara den som har lösenordet kan öppna dem.

Send the archive by e-mail and the password another way (SMS).
Skicka arkivet med e-post och lösenordet på annat sätt (sms).

Exit codes / Slutkoder:
  0  ok
  1  other failure / annat fel
  2  usage error / fel användning
  3  wrong password or key / fel lösenord eller nyckel
  4  damaged, tampered or unsafe input / skadad eller manipulerad fil
  5  SMS not delivered / sms kunde inte levereras
  6  log verification failed / loggen klarade inte kontrollen
  7  sensitive data found / känsliga uppgifter hittades
  8  batch: not every row delivered / inte alla rader levererade
  129, 130, 143  stopped by SIGHUP, SIGINT, SIGTERM / avbruten`

func newRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "kuvert",
		Short:         "Seal attachments with a password / Försegla bilagor med lösenord",
		Long:          rootLong,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	g := &globalOptions{}
	root.PersistentFlags().StringVar(&g.LogDir, "log-dir", "", "compliance log folder for this command (default $KUVERT_HOME/log)")
	root.AddCommand(
		newEncryptCmd(f, g, nil),
		newLogCmd(f, g),
		newSMSCmd(f, g),
		newScanCmd(f),
		newBatchCmd(f, g),
		newResendCmd(f, g),
		newDecryptCmd(f, nil),
		newVerifyCmd(f, nil),
		newGenpassCmd(f, nil),
		newOpenerCmd(f, nil),
		newServerCmd(f),
		newConfigCmd(f),
		newEnrollCmd(f),
	)
	root.CompletionOptions.DisableDefaultCmd = true
	structureUsage(root)
	return root
}

// structureUsage makes every wrong call cobra detects a usageError (exit
// 2) by construction, not by the words of cobra's messages:
// flag errors through the root's SetFlagErrorFunc (inherited by every
// command), argument validators wrapped, required flags and flag groups
// checked first thing in PreRunE. Every command with subcommands gets a
// RunE (help when called bare) so that cobra does not answer an unknown
// subcommand with help and exit 0 — `kuvert log verfy` in a cron job must
// fail — and an Args validator that rejects it with
// cobra's suggestion as a hint. It walks the finished tree, so commands
// added later are covered without doing anything.
func structureUsage(c *cobra.Command) {
	for _, sub := range c.Commands() {
		structureUsage(sub)
	}
	if c.HasSubCommands() {
		c.Args = unknownSubcommand
		if c.SuggestionsMinimumDistance <= 0 {
			c.SuggestionsMinimumDistance = 2 // cobra's own default, set where it reads it
		}
		if c.Run == nil && c.RunE == nil {
			c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
		}
	} else if valid := c.Args; valid != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := valid(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	pre, preE := c.PreRun, c.PreRunE
	c.PreRun = nil
	c.PreRunE = func(cmd *cobra.Command, args []string) error {
		if err := cmd.ValidateRequiredFlags(); err != nil {
			return usageError{err}
		}
		if err := cmd.ValidateFlagGroups(); err != nil {
			return usageError{err}
		}
		if preE != nil {
			return preE(cmd, args)
		}
		if pre != nil {
			pre(cmd, args)
		}
		return nil
	}
}

// unknownSubcommand is the Args of every command that has subcommands:
// any argument left over is a subcommand that does not exist.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	err := fmt.Errorf("unknown command \"%s\" for \"%s\"", termsafe.Escape(args[0]), cmd.CommandPath())
	hint := fmt.Sprintf("run '%s --help' to see its commands", cmd.CommandPath())
	if sug := cmd.SuggestionsFor(args[0]); len(sug) > 0 {
		hint = fmt.Sprintf("did you mean \"%s\"?", strings.Join(sug, "\" or \""))
	}
	return usageError{withHint(err, hint)}
}
