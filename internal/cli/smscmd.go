package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/providers"
	"github.com/spf13/cobra"
)

// smsRequest builds the SMS part of a sealing from flags and settings.
func smsRequest(s *IOStreams, cfg *config.Config, to, from, lang string) (*envelope.SMS, error) {
	sender, err := providers.Select(cfg.SMS, s.ErrOut, nil)
	if err != nil {
		return nil, usageError{err}
	}
	tmpl, err := smsTemplate(cfg, lang)
	if err != nil {
		return nil, err
	}
	if from == "" {
		from = cfg.SMS.Sender
	}
	if from == "" {
		from = cfg.Operator
	}
	if from == "" {
		from = "kuvert"
	}
	return &envelope.SMS{Sender: sender, To: to, Template: tmpl, From: from}, nil
}

func smsTemplate(cfg *config.Config, lang string) (string, error) {
	if cfg.SMS.Template != "" && lang == "" {
		return cfg.SMS.Template, nil
	}
	if lang == "" {
		lang = cfg.SMS.Language
	}
	if lang == "" {
		lang = "sv"
	}
	t, ok := sms.Templates[lang]
	if !ok {
		return "", usagef("unknown SMS language %q (use sv or en)", lang)
	}
	return t, nil
}

func newSMSCmd(s *IOStreams, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sms",
		Short: "Send a password again, check delivery, test the SMS set-up / Sms",
	}
	cmd.AddCommand(newSMSSendCmd(s, g), newSMSStatusCmd(s, g), newSMSTestCmd(s, g))
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

func newSMSSendCmd(s *IOStreams, g *globalOptions) *cobra.Command {
	var to, pwFile, from, lang, caseID string
	cmd := &cobra.Command{
		Use:   "send --to NUMBER --password-file FILE",
		Short: "Text a password (again), e.g. to a new number, and log it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if pwFile == "" {
				return usagef("--password-file is required (a password is never a command-line argument)")
			}
			pw, err := readSecret(s, pwFile)
			if err != nil {
				return err
			}
			l, cfg, err := openLog(g)
			if err != nil {
				return err
			}
			req, err := smsRequest(s, cfg, to, from, lang)
			if err != nil {
				return err
			}
			num, err := sms.ParseMobile(to)
			if err != nil {
				return usageError{err}
			}
			if _, err := sms.CheckTemplate(req.Template, req.From, len(pw)); err != nil {
				return usageError{err}
			}
			ref := sms.NewRef()
			body, _ := sms.Render(req.Template, map[string]string{"sender": req.From, "ref": ref, "password": pw})
			rc, err := req.Sender.Send(cmd.Context(), sms.Message{To: num, Body: body})
			del := &auditlog.Delivery{Provider: req.Sender.Name(), To: sms.MaskNumber(num), Ref: ref, MessageID: rc.ID, Status: auditlog.Status(rc.Status)}
			if err != nil {
				del.Status, del.Error = "failed", err.Error()
			}
			if _, lerr := l.Append(auditlog.Entry{Action: auditlog.ActionSMS, Delivery: del, Case: caseID, Details: "password sent with kuvert sms send"}); lerr != nil {
				return lerr
			}
			if err != nil {
				return smsFailed(err)
			}
			fmt.Fprintf(s.Out, "Skickat / sent: %s till / to %s (id %s, ref %s)\n", rc.Status, del.To, rc.ID, ref)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "mobile `NUMBER`")
	cmd.Flags().StringVar(&pwFile, "password-file", "", "read the password from `FILE` (- for standard input)")
	cmd.Flags().StringVar(&from, "sender", "", "your name or unit as the SMS shows it")
	cmd.Flags().StringVar(&lang, "sms-lang", "", "sv or en")
	cmd.Flags().StringVar(&caseID, "case", "", "case number for the log")
	cmd.MarkFlagRequired("to")
	return cmd
}

func newSMSStatusCmd(s *IOStreams, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Fetch a message's delivery status and record it in the log",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, cfg, err := openLog(g)
			if err != nil {
				return err
			}
			sender, err := providers.Select(cfg.SMS, s.ErrOut, nil)
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

func newSMSTestCmd(s *IOStreams, g *globalOptions) *cobra.Command {
	var to, from, lang string
	cmd := &cobra.Command{
		Use:   "test --to NUMBER",
		Short: "Send a harmless test message to check the set-up",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := config.Home()
			if err != nil {
				return err
			}
			cfg, err := config.Load(home)
			if err != nil {
				return err
			}
			sender, err := providers.Select(cfg.SMS, s.ErrOut, nil)
			if err != nil {
				return usageError{err}
			}
			num, err := sms.ParseMobile(to)
			if err != nil {
				return usageError{err}
			}
			if lang == "" {
				lang = "sv"
			}
			if from == "" {
				from = cfg.SMS.Sender
			}
			body, _ := sms.Render(sms.TestTemplate[lang], map[string]string{"sender": from})
			rc, err := sender.Send(cmd.Context(), sms.Message{To: num, Body: body})
			if err != nil {
				return smsFailed(err)
			}
			fmt.Fprintf(s.Out, "Testmeddelande / test message: %s till / to %s via %s (id %s) %s\n", rc.Status, sms.MaskNumber(num), sender.Name(), rc.ID, time.Now().Format("15:04"))
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "mobile `NUMBER`")
	cmd.Flags().StringVar(&from, "sender", "", "your name or unit")
	cmd.Flags().StringVar(&lang, "sms-lang", "", "sv or en")
	cmd.MarkFlagRequired("to")
	return cmd
}
