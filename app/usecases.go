package app

import (
	"context"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/scan"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/shipping"
)

// Seal seals req's files, texts or drafts what it asks for and records
// it all in the log l (from [App.OpenLog]: nothing is sealed without a
// record); see [envelope.Seal]. It, [Open], [Scan], [RunBatch] and [Sync]
// are functions, not methods of [App]: what they need from the machine
// (the log, the client) is handed in already opened.
func Seal(ctx context.Context, l *auditlog.Log, req envelope.Request) (*envelope.Result, error) {
	return envelope.Seal(ctx, l, req)
}

// Open extracts an archive; see [crypt.Extract]. A password pasted from
// the SMS is tried as given first, then as the generated password it
// holds ([crypt.TryPasted]), so the CLI and the desktop app forgive the
// same pastes.
func Open(ctx context.Context, archive string, o crypt.ExtractOptions) (*crypt.ExtractResult, error) {
	var res *crypt.ExtractResult
	err := crypt.TryPasted(o.Credentials.Password, func(pw string) error {
		try := o
		try.Credentials.Password = pw
		var err error
		res, err = crypt.Extract(ctx, archive, try)
		return err
	})
	return res, err
}

// Scan looks for personnummer in one file; see [scan.File].
func Scan(path string) (*scan.Report, error) {
	return scan.File(path)
}

// RunBatch runs manifest m as o says (o.Log from [App.OpenLog], the
// run chosen with [batch.SelectRun] when the manifest was read, so that
// rows already delivered are not sent again); see [batch.Run].
func RunBatch(ctx context.Context, m *batch.Manifest, o batch.Options) (*batch.Summary, error) {
	return batch.Run(ctx, m, o)
}

// Sync ships the log's waiting entries to the kuvert server c in the
// log's order, waiting up to wait for another process shipping the same
// log; a failure is kept for `log status` in the shell's words; see
// [shipping.Queue.Ship].
func Sync(ctx context.Context, l *auditlog.Log, c *client.Client, wait time.Duration, words func(error) string) (shipping.Result, error) {
	return (&shipping.Queue{Log: l, Client: c, Wait: wait, Words: words}).Ship(ctx)
}
