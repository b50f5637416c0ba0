package gui

import (
	"context"
	"errors"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/sms"
)

// start seals in the background; the window stays responsive and Cancel
// stops it, leaving nothing behind.
func (v *sealView) start() {
	form := v.snapshot()
	if len(form.Files) == 0 {
		v.status.SetText(lang.L("seal.nofiles"))
		return
	}
	cfg, err := v.u.loadConfig()
	if err != nil {
		v.showError(err)
		return
	}
	log, err := v.u.openLog()
	if err != nil {
		v.showError(err)
		return
	}
	// The demo provider's own printout (box drawing, meant for a
	// terminal) goes nowhere; the result shows the message it was given.
	var sent *sentMessage
	req, err := form.Request(requestEnv{
		OutputDir: cfg.OutputDir,
		Operator:  cfg.Operator,
		SMS: func() (smsSetup, error) {
			s, err := v.u.resolveSMSToSend(cfg)
			if err == nil {
				sent = &sentMessage{Sender: s.Sender}
				s.Sender = sent
			}
			return s, err
		},
	})
	if err != nil {
		v.showError(err)
		return
	}
	pw := req.Seal.Password
	var total int64
	for _, in := range req.Seal.Inputs {
		total += in.Size
	}

	ctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	v.busy = true
	v.primary.Disable()
	v.cancelBtn.Show()
	v.progress.SetValue(0)
	v.progress.Show()
	v.status.SetText(lang.L("seal.working"))
	v.result.RemoveAll()
	var done int64
	req.Seal.Progress = func(n int64) {
		done += n
		d := done
		if total > 0 {
			fyne.Do(func() { v.progress.SetValue(float64(d) / float64(total)) })
		}
	}
	v.work.Add(1)
	go func() {
		defer v.work.Done()
		res, err := app.Seal(ctx, log, req)
		v.u.shipInBackground(log, cfg)
		fyne.Do(func() {
			v.busy = false
			v.cancel = nil
			v.cancelBtn.Hide()
			v.progress.Hide()
			v.validate()
			// A failed (or cancelled) SMS with the user's own password
			// keeps its archive: say so rather than "nothing was saved".
			var smsErr *envelope.SMSError
			kept := errors.As(err, &smsErr) && smsErr.Kept != ""
			if errors.Is(err, context.Canceled) && !kept {
				v.status.SetText(lang.L("seal.cancelled"))
				return
			}
			if kept {
				msg := smsFailure(err, lang.L("err.sms.kept", map[string]any{"Path": smsErr.Kept}))
				dialog.ShowError(errors.New(msg), v.u.win)
				v.status.SetText(msg)
				return
			}
			if err != nil {
				v.status.SetText("")
				v.showError(err)
				return
			}
			v.last = res
			v.showResult(res, pw, sent)
			v.reset()
		})
	}()
}

func (v *sealView) doCancel() {
	if v.cancel != nil {
		v.cancel()
	}
}

// showError explains a failure in plain words with what to do next.
func (v *sealView) showError(err error) {
	dialog.ShowError(errors.New(friendly(err)), v.u.win)
	v.status.SetText(friendly(err))
}

// sentMessage passes messages to the provider and keeps the last one, so
// that a demo result can show the text that was not sent.
type sentMessage struct {
	sms.Sender
	mu   sync.Mutex
	last sms.Message
}

// Unwrap lets sms.IsDemo see the provider.
func (m *sentMessage) Unwrap() sms.Sender { return m.Sender }

func (s *sentMessage) Send(ctx context.Context, m sms.Message) (sms.Receipt, error) {
	s.mu.Lock()
	s.last = m
	s.mu.Unlock()
	return s.Sender.Send(ctx, m)
}

// Body is the text of the last message handed to the provider.
func (s *sentMessage) Body() string {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last.Body
}
