package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/providers"
	"github.com/kuvert-app/kuvert/sms/relay"
	"github.com/spf13/cobra"
)

// smsPolicy builds the SMS policy from config.json, the environment and
// the command's --sender and --sms-lang: the one place where the CLI picks
// a provider and the words (providers.Build). The console demo prints to
// standard error.
func (f *Factory) smsPolicy(cfg *settings.Settings, org, lang string) (*sms.Policy, error) {
	return f.smsPolicyTo(f.IOStreams.ErrOut, cfg, org, lang)
}

// smsPolicyTo is smsPolicy with the demo provider's screen given: batch
// gives io.Discard, because a demo box shows the password and a batch's
// stderr goes to cron mail.
func (f *Factory) smsPolicyTo(console io.Writer, cfg *settings.Settings, org, lang string) (*sms.Policy, error) {
	// The organisation's words come from its server when one is
	// configured, so the text previewed here is the text its relay
	// sends; texting through the relay needs the device enrolled.
	cfg, serr := f.withServerSettings(context.Background(), cfg, cfg.SMSProvider.Value == relay.ProviderName)
	if serr != nil {
		return nil, serr
	}
	pol, err := providers.Build(cfg, providers.Options{Organisation: org, Lang: lang, Console: console})
	var locked *settings.LockedError
	if errors.As(err, &locked) {
		if locked.Key == cfg.Organisation.Key {
			locked.By = "--sender"
		}
		return nil, lockedError(locked)
	}
	if errors.Is(err, sms.ErrNoOrganisation) {
		return nil, withHint(usageError{fmt.Errorf("%w; kuvert does not text a password from an unnamed sender", err)},
			`name your organisation once in config.json ("organisation": "Sundsvalls kommun", at most 32 characters), or give --sender NAME`)
	}
	if err != nil {
		return nil, usageError{err}
	}
	return pol, nil
}

// demoNote tells, Swedish first, that the demo provider sent nothing.
const demoNote = "DEMO: inget sms skickades, mottagaren har inte fått något / no SMS was sent, the recipient got nothing\n" +
	"  Ställ in en sms-leverantör (docs/sms.md) eller ge lösenordet på annat sätt.\n" +
	"  Set up an SMS provider (docs/sms.md) or give the password another way.\n"

func newSMSCmd(f *Factory, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sms",
		Short: "Send a password again, check delivery, test the SMS set-up / Sms",
	}
	cmd.AddCommand(newSMSSendCmd(f, g), newSMSStatusCmd(f, g), newSMSTestCmd(f, g))
	return cmd
}

func smsFailed(err error) error {
	return codeError{withHint(fmt.Errorf("%w: %w", envelope.ErrSMS, err), smsHint(err)), ExitSMS}
}

func smsHint(err error) string {
	var pe *sms.ProviderError
	if errors.As(err, &pe) && pe.Hint != "" {
		return pe.Hint
	}
	return "see docs/sms.md"
}

func newSMSSendCmd(f *Factory, g *globalOptions) *cobra.Command {
	s := f.IOStreams
	var to, pwFile, from, lang, caseID string
	cmd := &cobra.Command{
		Use:   "send --to NUMBER --password-file FILE",
		Short: "Text a password (again), e.g. to a new number, and log it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if pwFile == "" {
				return usagef("--password-file is required (a password is never a command-line argument)")
			}
			pw, err := readSecret(f, pwFile)
			if err != nil {
				return err
			}
			l, cfg, err := f.openLog(g)
			if err != nil {
				return err
			}
			pol, err := f.smsPolicy(cfg, from, lang)
			if err != nil {
				return err
			}
			d, err := envelope.SendPassword(cmd.Context(), l, pol, envelope.PasswordSMS{To: to, Password: pw, Case: caseID, Event: auditlog.NewEvent(auditlog.CodeSMSResent)})
			if err != nil {
				return err
			}
			if d.Demo {
				fmt.Fprint(s.ErrOut, demoNote)
				fmt.Fprintf(s.Out, "DEMO: inte skickat / not sent: %s (ref %s)\n", d.To, d.Ref)
				return nil
			}
			fmt.Fprintf(s.Out, "Skickat / sent: %s till / to %s (id %s, ref %s)\n", d.Status, d.To, d.ID, d.Ref)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "mobile `NUMBER`")
	cmd.Flags().StringVar(&pwFile, "password-file", "", "read the password from `FILE` (- for standard input)")
	cmd.Flags().StringVar(&from, "sender", "", "your organisation's name as the SMS shows it (default: organisation in config.json)")
	cmd.Flags().StringVar(&lang, "sms-lang", "", "sv or en")
	cmd.Flags().StringVar(&caseID, "case", "", "case number for the log")
	cmd.MarkFlagRequired("to")
	return cmd
}

func newSMSStatusCmd(f *Factory, g *globalOptions) *cobra.Command {
	s := f.IOStreams
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Fetch a message's delivery status and record it in the log",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, cfg, err := f.openLog(g)
			if err != nil {
				return err
			}
			sender, err := providers.Select(cfg, s.ErrOut, providers.Options{})
			if err != nil {
				return usageError{err}
			}
			rc, err := sender.Status(cmd.Context(), args[0])
			if err != nil {
				return smsFailed(err)
			}
			if _, err := l.Append(auditlog.Entry{Action: auditlog.ActionSMSStatus, Delivery: &auditlog.Delivery{Provider: rc.Provider, MessageID: rc.ID, Status: auditlog.Status(rc.Status), To: "-"}}); err != nil {
				return err
			}
			if asJSON {
				return writeJSON(s, rc)
			}
			fmt.Fprintf(s.Out, "%s: %s\n", rc.ID, rc.Status)
			if rc.Status.Failed() {
				return codeError{fmt.Errorf("the SMS was not delivered (status %s, error %d)", rc.Status, rc.ErrorCode), ExitSMS}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newSMSTestCmd(f *Factory, g *globalOptions) *cobra.Command {
	s := f.IOStreams
	var to, from, lang string
	cmd := &cobra.Command{
		Use:   "test --to NUMBER",
		Short: "Send a harmless test message to check the set-up",
		Long: `Send a harmless test message (no password) to check the SMS set-up:
the provider, the credentials, the organisation name and the number.
Only the phone that shows the message proves the number works. With no
provider set up (the console demo) nothing is sent: exit 5.

Skickar ett ofarligt testmeddelande (inget lösenord). Bara telefonen som
visar meddelandet bevisar att numret fungerar. Utan sms-leverantör
(demo) skickas inget: slutkod 5.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Settings()
			if err != nil {
				return err
			}
			pol, err := f.smsPolicy(cfg, from, lang)
			if err != nil {
				return err
			}
			num, err := sms.ParseMobile(to)
			if err != nil {
				return usageError{err}
			}
			body, err := pol.TestText()
			if err != nil {
				return usageError{err}
			}
			if sms.IsDemo(pol.Sender) {
				return codeError{withHint(errors.New("DEMO: inget sms skickades, numret är inte testat / no SMS provider is set up: nothing was sent and the number was not tested"),
					"set up a provider (KUVERT_SMS_PROVIDER=twilio and its credentials): see docs/sms.md"), ExitSMS}
			}
			rc, err := pol.Sender.Send(cmd.Context(), sms.Message{To: num, Body: body})
			if err != nil {
				return smsFailed(err)
			}
			fmt.Fprintf(s.Out, "Testmeddelande lämnat till / test message handed to %s: %s till / to %s (id %s) %s\n", pol.Sender.Name(), rc.Status, sms.MaskNumber(num), rc.ID, time.Now().Format("15:04"))
			fmt.Fprintf(s.ErrOut, "  Fråga mottagaren om sms:et kom fram; 'kuvert sms status %s' visar leveransen.\n  Ask the recipient whether it arrived; 'kuvert sms status %s' shows the delivery.\n", rc.ID, rc.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "mobile `NUMBER`")
	cmd.Flags().StringVar(&from, "sender", "", "your organisation's name as the SMS shows it (default: organisation in config.json)")
	cmd.Flags().StringVar(&lang, "sms-lang", "", "sv or en")
	cmd.MarkFlagRequired("to")
	return cmd
}
