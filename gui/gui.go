// Package gui is kuvert's desktop app: fyne views over the same core,
// envelope, SMS and log code as the CLI. It holds no business logic: it
// gathers what the user chose and calls envelope.Seal, crypt.Extract, the
// log and the application layer (package app: resend, the central log's
// check), and shows the outcome in plain Swedish (English when the OS
// locale is English or the user chose English in Settings).
//
// It must not import fyne.io/fyne/v2/app, so that its tests run headless
// with CGO_ENABLED=0 through fyne.io/fyne/v2/test; cmd/kuvert-gui starts
// the real driver.
package gui

import (
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"github.com/jeandeaual/go-locale"
	"github.com/zalando/go-keyring"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/internal/desktop"
	"github.com/kuvert-app/kuvert/server/client/clientenv"
	"github.com/kuvert-app/kuvert/settings"
)

//go:embed translations
var translations embed.FS

// The window is Swedish unless the OS language is English or the user
// chose a language in Settings (config.AppLanguage). fyne matches the OS
// locale against the languages it knows and uses English for strings the
// chosen language lacks; so the chosen texts go under "sv", "en" and the
// OS's own language alike, and the last ones added win. A German, Finnish
// or bare "C" desktop thus sees Swedish (fyne's own dialog buttons still
// follow the OS).
//
// uiLang is the language the window's texts are in ("sv" or "en").
var uiLang = "sv"

// applyLanguage loads the window's texts: choice "sv" or "en", anything
// else follows the OS. New calls it before building the widgets.
func applyLanguage(choice string) {
	osLang, _ := locale.GetLanguage()
	if choice != "sv" && choice != "en" {
		choice = "sv"
		if osLang == "en" {
			choice = "en"
		}
	}
	uiLang = choice
	data, err := translations.ReadFile("translations/" + choice + ".json")
	if err != nil {
		panic(err) // embedded at build time
	}
	tags := []fyne.Locale{"sv", "en"}
	if len(osLang) >= 2 && osLang != "sv" && osLang != "en" && !strings.ContainsAny(osLang, "._@") {
		tags = append(tags, fyne.Locale(osLang))
	}
	for _, l := range tags {
		if err := lang.AddTranslationsForLocale(data, l); err != nil {
			fyne.LogError("kuvert translations", err)
		}
	}
}

// Keyring keeps the Twilio credentials out of plain files.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	// Delete removes a secret; removing one that is not there is no error.
	Delete(service, user string) error
}

type osKeyring struct{}

func (osKeyring) Get(s, u string) (string, error) { return keyring.Get(s, u) }
func (osKeyring) Set(s, u, p string) error        { return keyring.Set(s, u, p) }
func (osKeyring) Delete(s, u string) error {
	if err := keyring.Delete(s, u); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return err
	}
	return nil
}

const keyringService = settings.KeyringService

// Deps is what the app needs from the machine.
type Deps struct {
	Home    string // kuvert's state folder ($KUVERT_HOME)
	Keyring Keyring
	// Getenv reads the environment (KUVERT_SERVER_URL, KUVERT_SMTP_URL,
	// …; see package settings); nil is an empty environment.
	Getenv func(string) string
	// Policy reads machine policy (settings.MachinePolicy); nil is none.
	Policy func() (settings.Layer, error)
	// OpenFolder shows a folder in the OS file manager; nil uses the
	// app's OpenURL.
	OpenFolder func(dir string) error
	// OpenFile opens a file with its type's default program (the e-mail
	// draft with the mail program); an error matching
	// desktop.ErrNoAssociation means no program takes the type. nil uses
	// the app's OpenURL.
	OpenFile func(path string) error
	// ShowFile shows a file selected in the file manager (Explorer on
	// Windows); nil shows its folder through OpenFolder.
	ShowFile func(path string) error
	// Clipboard, if set, replaces the app's (tests).
	Clipboard fyne.Clipboard
	// Picker shows the OS's file dialogs; nil uses fyne's (picker.go).
	Picker Picker
}

// SystemDeps are the real ones: $KUVERT_HOME or the OS config folder, and
// the OS keyring (Windows Credential Manager, macOS Keychain, Secret
// Service on Linux).
func SystemDeps() Deps {
	home, _ := config.Home()
	return Deps{Home: home, Keyring: osKeyring{}, Getenv: os.Getenv,
		Policy:   func() (settings.Layer, error) { return settings.MachinePolicy(os.Getenv) },
		OpenFile: desktop.Open, ShowFile: desktop.Reveal}
}

// UI is the app's window content and state.
type UI struct {
	app  fyne.App
	win  fyne.Window
	deps Deps
	tabs *container.AppTabs

	seal     *sealView
	batch    *batchView
	open     *openView
	logv     *logView
	settings *settingsView

	// shipWork is the log's shipping to the kuvert server under way in
	// the background (server_sync.go), for tests to wait on.
	shipWork sync.WaitGroup
	// pickWork is a native file dialog open (picker.go), for tests.
	pickWork sync.WaitGroup
}

// New builds the window's content.
func New(a fyne.App, w fyne.Window, d Deps) (*UI, error) {
	if d.Home == "" {
		return nil, fmt.Errorf("no folder for kuvert's settings and log; set KUVERT_HOME")
	}
	if d.Keyring == nil {
		d.Keyring = osKeyring{}
	}
	if d.Clipboard == nil {
		d.Clipboard = a.Clipboard()
	}
	u := &UI{app: a, win: w, deps: d}
	applyLanguage(u.config().AppLanguage)
	if u.deps.OpenFolder == nil {
		u.deps.OpenFolder = func(dir string) error { return a.OpenURL(folderURL(dir)) }
	}
	if u.deps.OpenFile == nil {
		u.deps.OpenFile = func(p string) error { return a.OpenURL(folderURL(p)) }
	}
	if u.deps.ShowFile == nil {
		u.deps.ShowFile = func(p string) error { return u.deps.OpenFolder(filepath.Dir(p)) }
	}
	w.SetTitle(lang.L("app.title"))
	u.seal = newSealView(u)
	u.batch = newBatchView(u)
	u.open = newOpenView(u)
	u.logv = newLogView(u)
	u.settings = newSettingsView(u)
	u.tabs = container.NewAppTabs(
		container.NewTabItem(lang.L("tab.seal"), u.seal.content),
		container.NewTabItem(lang.L("tab.batch"), u.batch.content),
		container.NewTabItem(lang.L("tab.open"), u.open.content),
		container.NewTabItem(lang.L("tab.log"), u.logv.content),
		container.NewTabItem(lang.L("tab.settings"), u.settings.content),
	)
	u.tabs.OnSelected = func(t *container.TabItem) {
		switch t.Content {
		case u.logv.content:
			u.logv.refresh()
		case u.seal.content:
			u.seal.refreshProvider()
		case u.batch.content:
			u.batch.update()
		}
	}
	w.SetContent(u.tabs)
	if _, err := u.loadConfig(); err != nil {
		u.seal.status.SetText(friendly(err))
		dialog.ShowError(errors.New(friendly(err)), w)
	}
	return u, nil
}

// folderURL is a file URL for a folder: file:///home/a/b on Unix,
// file:///C:/Users/a on Windows (the drive needs the third slash).
func folderURL(dir string) *url.URL {
	p := filepath.ToSlash(dir)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return &url.URL{Scheme: "file", Path: p}
}

// SelectTab shows a tab by name: seal, batch, open, log, settings.
func (u *UI) SelectTab(name string) {
	i := map[string]int{"seal": 0, "batch": 1, "open": 2, "log": 3, "settings": 4}[strings.ToLower(name)]
	u.tabs.SelectIndex(i)
}

// AddFiles puts files and folders in the Seal list, as a drop does.
func (u *UI) AddFiles(paths []string) { u.seal.addPaths(paths) }

// SetPhone types a recipient number into the Seal view.
func (u *UI) SetPhone(s string) { u.seal.phone.SetText(s) }

// PressSeal presses the Seal view's main button, as the clerk does.
func (u *UI) PressSeal() {
	if b := u.seal.primary; !b.Disabled() && b.OnTapped != nil {
		b.OnTapped()
	}
}

// SetArchiveName types an archive name into the Seal view.
func (u *UI) SetArchiveName(s string) { u.seal.archive.SetText(s) }

// SearchLog types a search into the Log view.
func (u *UI) SearchLog(q string) { u.logv.refresh(); u.logv.search.SetText(q) }

// LoadManifest chooses a batch manifest in the Massutskick view.
func (u *UI) LoadManifest(path string) { u.batch.LoadManifest(path) }

// OnDropped takes files and folders dropped on the window: archives go to
// the Open view when it is showing, everything else to the Seal list.
func (u *UI) OnDropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, uri := range uris {
		if uri != nil && uri.Scheme() == "file" {
			paths = append(paths, localPath(uri))
		}
	}
	if len(paths) == 0 {
		return
	}
	if u.tabs.Selected() != nil && u.tabs.Selected().Content == u.open.content {
		u.open.setArchive(paths[0])
		return
	}
	u.tabs.SelectIndex(0)
	u.seal.addPaths(paths)
}

// configError is a config.json that exists but cannot be read. The app
// shows it and never saves over it: the file may hold the provider, the
// sender and the template someone set up.
type configError struct {
	Path string
	Err  error
}

func (e *configError) Error() string { return e.Err.Error() }
func (e *configError) Unwrap() error { return e.Err }

// loadConfig reads config.json afresh; a missing file is the defaults, an
// unreadable one a *configError.
func (u *UI) loadConfig() (*config.Config, error) {
	c, err := config.Load(u.deps.Home)
	if err != nil {
		return nil, &configError{Path: config.Path(u.deps.Home), Err: err}
	}
	return c, nil
}

// settingsFor resolves every setting with cfg standing for config.json
// (the file as just read, or a form's unsaved values): the environment
// and the keyring as the CLI reads them (package settings).
func (u *UI) settingsFor(cfg *config.Config) (*settings.Settings, error) {
	return u.resolveWith(cfg, u.deps.Keyring)
}

// resolveWith is settingsFor with another keyring (the settings form's
// unsaved secrets).
func (u *UI) resolveWith(cfg *config.Config, kr Keyring) (*settings.Settings, error) {
	src, err := u.sources(cfg, kr)
	if err != nil {
		return nil, err
	}
	// With the organisation's settings last cached from its server.
	return clientenv.Env{Sources: src}.Resolve()
}

// sources is what the app's settings are resolved from: machine policy,
// the environment, cfg and the keyring kr.
func (u *UI) sources(cfg *config.Config, kr Keyring) (settings.Sources, error) {
	src := settings.Sources{Getenv: u.deps.Getenv, Keyring: kr, KeyringMissing: clientenv.KeyringMissing, Home: u.deps.Home, File: cfg}
	if u.deps.Policy != nil {
		pol, err := u.deps.Policy()
		if err != nil {
			return src, err
		}
		src.Policy = pol
	}
	return src, nil
}

// config is the settings for showing: the defaults when config.json
// cannot be read. Whatever acts on the settings (sealing, saving) uses
// loadConfig and stops on its error instead.
func (u *UI) config() *config.Config {
	c, err := u.loadConfig()
	if err != nil {
		return &config.Config{}
	}
	return c
}

// saveConfig reads config.json, lets change edit it and writes it back.
// It refuses while the file cannot be read, so a broken file is never
// replaced by defaults.
func (u *UI) saveConfig(change func(*config.Config)) error {
	c, err := u.loadConfig()
	if err != nil {
		return err
	}
	change(c)
	return config.Save(u.deps.Home, c)
}

func (u *UI) openLog() (*auditlog.Log, error) {
	return auditlog.Open(auditlog.Options{Dir: filepath.Join(u.deps.Home, "log"), KeyDir: filepath.Join(u.deps.Home, "keys"), Tool: "kuvert-gui"})
}
