package envelope

import "github.com/kuvert-app/kuvert/fault"

// Codes of the envelope errors a person reads; each shell words them in
// its catalog. Fields are named in the comment; most wrap the cause.
const (
	CodeSMSNeedsPassword      fault.Code = "envelope.sms-needs-password"
	CodeNameHasPersonnummer   fault.Code = "envelope.name-has-personnummer" // name (masked as xxxx), masked
	CodeNotRecordedRemoved    fault.Code = "envelope.not-recorded-removed"  // the log failed: the archive went
	CodeDraftFailedKept       fault.Code = "envelope.draft-failed-kept"     // archive
	CodeDraftFailedRemoved    fault.Code = "envelope.draft-failed-removed"
	CodeDeliveryFailedKept    fault.Code = "envelope.delivery-failed-kept" // archive
	CodeDeliveryFailedRemoved fault.Code = "envelope.delivery-failed-removed"
	CodeSentNotLogged         fault.Code = "envelope.sent-not-logged" // id: the provider's message id
)
