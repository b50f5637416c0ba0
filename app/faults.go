package app

import "github.com/kuvert-app/kuvert/fault"

// Codes of the central log's check ([App.VerifyServer]) when the server
// cannot be trusted; each is also [client.ErrTampered]. Each shell words
// them in its catalog; the fields are named in the comment.
const (
	// key: the key the server reports now; the heads this computer saw
	// are signed by another.
	CodeServerKeySwapped fault.Code = "app.server-key-swapped"
	// seq, id: the entry shipped; message: the queue's record of why.
	CodeUploadUnproved fault.Code = "app.upload-unproved"
	// entry: where the server's own check failed; problem: its words.
	CodeServerCheckFailed fault.Code = "app.server-check-failed"
	// key: the key the server reports, not the one given.
	CodeServerKeyDiffers fault.Code = "app.server-key-differs"
)
