package opener

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"image"
	_ "image/jpeg" // logos: JPEG
	_ "image/png"  // logos: PNG
	"strings"
	"unicode"
	"unicode/utf8"
)

// Brand is what an organisation puts on its copy of the page: its name and,
// if it has one, its logo. The recipient sees who the page is from.
type Brand struct {
	Organisation string
	// Logo is a PNG or JPEG of at most [MaxLogoBytes] bytes and
	// [MaxLogoSide] pixels a side, embedded as a data: URL.
	//
	// SVG is refused: an SVG is a document that can carry script and
	// references to other addresses. The page shows the logo as an <img>,
	// where browsers run neither, but the page is published under its
	// SHA-256 as something that runs nothing it was not built with, and a
	// sanitiser for SVG would be a second program to trust. A PNG or JPEG
	// is decoded here first, so what is embedded is a picture.
	Logo []byte
}

// Limits on the logo and the name.
const (
	MaxLogoBytes        = 64 << 10
	MaxLogoSide         = 1024
	MaxOrganisationRune = 100
)

// Errors of [Branded]; the shells say them in their words.
var (
	ErrOrganisation = errors.New("opener: organisation name is empty, too long or has control characters")
	ErrLogoType     = errors.New("opener: logo is not a PNG or JPEG picture")
	ErrLogoSize     = errors.New("opener: logo too large")
)

// marker is the place in the built page that a brand fills: an HTML
// comment, so the page without one is exactly the built page.
const marker = "<!--kuvert:from-->"

// Branded returns the page with b's name and logo. An empty Brand gives
// [Page] byte for byte; any other gives a page with its own SHA-256 (see
// [SHA256Of]), which is the one the organisation publishes.
func Branded(b Brand) ([]byte, error) {
	if b.Organisation == "" && len(b.Logo) == 0 {
		return Page(), nil
	}
	name := strings.TrimSpace(b.Organisation)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxOrganisationRune ||
		strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) >= 0 {
		return nil, ErrOrganisation
	}
	var img string
	if len(b.Logo) > 0 {
		if len(b.Logo) > MaxLogoBytes {
			return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrLogoSize, len(b.Logo), MaxLogoBytes)
		}
		cfg, kind, err := image.DecodeConfig(bytes.NewReader(b.Logo))
		if err != nil || (kind != "png" && kind != "jpeg") {
			return nil, ErrLogoType
		}
		if cfg.Width > MaxLogoSide || cfg.Height > MaxLogoSide || cfg.Width < 1 || cfg.Height < 1 {
			return nil, fmt.Errorf("%w: %d×%d pixels, at most %d a side", ErrLogoSize, cfg.Width, cfg.Height, MaxLogoSide)
		}
		// The whole picture must decode, not only its header.
		if _, _, err := image.Decode(bytes.NewReader(b.Logo)); err != nil {
			return nil, ErrLogoType
		}
		img = `<img class="logo" data-testid="logo" alt="" src="data:image/` + kind + `;base64,` + base64.StdEncoding.EncodeToString(b.Logo) + `">`
	}
	from := `<header class="from" data-testid="from">` + img +
		`<p><span data-i18n="from">Från</span> <strong id="organisation">` + html.EscapeString(name) + `</strong></p></header>`
	if bytes.Count(page, []byte(marker)) != 1 {
		return nil, errors.New("opener: the built page has no place for the organisation")
	}
	return bytes.Replace(Page(), []byte(marker), []byte(from), 1), nil
}

// SHA256Of is the hex SHA-256 of a page, the value published beside it.
func SHA256Of(p []byte) string {
	sum := sha256.Sum256(p)
	return hex.EncodeToString(sum[:])
}
