package cli

// The OS keyring by the name a Windows user knows it: Control Panel calls
// it Autentiseringshanteraren in Swedish, Credential Manager in English.
const (
	keyringSV = "Autentiseringshanteraren i Windows"
	keyringEN = "Windows Credential Manager"
)
