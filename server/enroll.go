package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kuvert-app/kuvert/server/api"
)

// enrollSchema adds enrollment codes. A code is kept as its SHA-256 only,
// like a token: it is 128 random bits or more, so no slow hash is needed.
// A token made by enrollment names the code it came from.
const enrollSchema = `
CREATE TABLE IF NOT EXISTS enroll_codes (
	id         bigserial PRIMARY KEY,
	prefix     text NOT NULL,
	hash       bytea NOT NULL UNIQUE,
	uses_total int NOT NULL CHECK (uses_total > 0),
	uses_left  int NOT NULL CHECK (uses_left >= 0),
	expires    timestamptz NOT NULL,
	created    timestamptz NOT NULL DEFAULT now(),
	revoked    timestamptz
);
ALTER TABLE tokens ADD COLUMN IF NOT EXISTS enroll_code bigint REFERENCES enroll_codes (id);
`

// EnrollCode is an enrollment code's record; the code itself is never
// stored.
type EnrollCode struct {
	ID        int64      `json:"id"`
	Prefix    string     `json:"prefix"`
	UsesTotal int        `json:"uses_total"`
	UsesLeft  int        `json:"uses_left"`
	Expires   time.Time  `json:"expires"`
	Created   time.Time  `json:"created"`
	Revoked   *time.Time `json:"revoked,omitempty"`
}

// Refused enrollments, each with its own answer.
var (
	ErrEnrollUnknown = errors.New("no such enrollment code")
	ErrEnrollUsedUp  = errors.New("every use of the enrollment code is taken")
	ErrEnrollExpired = errors.New("the enrollment code has expired")
	ErrEnrollRevoked = errors.New("the enrollment code is revoked")
)

// codeAlphabet is GSM-7 basic, without look-alikes (0/o, 1/l/i) and
// quick to type: 31 symbols, 4.95 bits each.
const codeAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// codeSymbols × 4.95 bits = 138 bits, over the 128 an unguessable
// bearer secret needs; shown in groups of four.
const codeSymbols = 28

// newEnrollCode is a random code, e.g. "kve-k7pq-x3mh-…" (the "kve-"
// says what it is, as "kvt_" does for a token).
func newEnrollCode() string {
	var b strings.Builder
	b.WriteString("kve")
	for i := range codeSymbols {
		if i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(codeAlphabet[randIntn(len(codeAlphabet))])
	}
	return b.String()
}

// randIntn is uniform in [0, n) from crypto/rand (rejection sampling).
func randIntn(n int) int {
	limit := 256 - 256%n
	var c [1]byte
	for {
		rand.Read(c[:])
		if int(c[0]) < limit {
			return int(c[0]) % n
		}
	}
}

// NormalizeEnrollCode makes a typed or pasted code comparable: case,
// spaces and dashes do not matter.
func NormalizeEnrollCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, code)
}

// MaxEnrollUses bounds one code's uses: a code is for one roll-out.
const MaxEnrollUses = 100000

// AddEnrollCode makes a code that buys uses device tokens named prefix +
// the computer's name until expires, and returns it: the only time it
// exists outside the administrator's hands.
func (s *Store) AddEnrollCode(ctx context.Context, prefix string, uses int, expires time.Time) (string, EnrollCode, error) {
	prefix = strings.TrimSpace(prefix)
	if len(prefix) > 40 || strings.ContainsFunc(prefix, func(r rune) bool { return !nameRune(r) }) {
		return "", EnrollCode{}, fmt.Errorf("%w: namnprefixet får vara högst 40 bokstäver (a–z), siffror, '-', '_' eller '.' / the name prefix is at most 40 letters (a–z), digits, '-', '_' or '.'", errBadRequest)
	}
	if uses < 1 || uses > MaxEnrollUses {
		return "", EnrollCode{}, fmt.Errorf("%w: antalet användningar måste vara 1 till %d / uses must be 1 to %d", errBadRequest, MaxEnrollUses, MaxEnrollUses)
	}
	if !expires.After(s.now()) {
		return "", EnrollCode{}, fmt.Errorf("%w: koden måste gå ut i framtiden / the expiry must be in the future", errBadRequest)
	}
	code := newEnrollCode()
	ec := EnrollCode{Prefix: prefix, UsesTotal: uses, UsesLeft: uses, Expires: expires}
	err := s.pool.QueryRow(ctx, "INSERT INTO enroll_codes (prefix, hash, uses_total, uses_left, expires) VALUES ($1, $2, $3, $3, $4) RETURNING id, created",
		prefix, tokenHash(NormalizeEnrollCode(code)), uses, expires).Scan(&ec.ID, &ec.Created)
	if err != nil {
		return "", EnrollCode{}, dbErr(err)
	}
	return code, ec, nil
}

// EnrollCodes lists every code, revoked and used-up ones included.
func (s *Store) EnrollCodes(ctx context.Context) ([]EnrollCode, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, prefix, uses_total, uses_left, expires, created, revoked FROM enroll_codes ORDER BY id")
	if err != nil {
		return nil, dbErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (EnrollCode, error) {
		var c EnrollCode
		err := r.Scan(&c.ID, &c.Prefix, &c.UsesTotal, &c.UsesLeft, &c.Expires, &c.Created, &c.Revoked)
		return c, err
	})
	return out, dbErr(err)
}

// RevokeEnrollCode revokes the active code with ID idOrPrefix, or every
// active code with that name prefix, and says how many. Tokens already
// bought with it stay valid (revoke them by name).
func (s *Store) RevokeEnrollCode(ctx context.Context, idOrPrefix string) (int64, error) {
	q, arg := "UPDATE enroll_codes SET revoked = now() WHERE prefix = $1 AND revoked IS NULL", any(idOrPrefix)
	if id, err := strconv.ParseInt(idOrPrefix, 10, 64); err == nil {
		q, arg = "UPDATE enroll_codes SET revoked = now() WHERE id = $1 AND revoked IS NULL", id
	}
	tag, err := s.pool.Exec(ctx, q, arg)
	if err != nil {
		return 0, dbErr(err)
	}
	if tag.RowsAffected() == 0 {
		return 0, fmt.Errorf("%w: ingen aktiv registreringskod har id eller prefix %q / no active enrollment code has the ID or name prefix %[2]q", errNotFound, idOrPrefix)
	}
	return tag.RowsAffected(), nil
}

// Enroll trades one use of code for a new device token named prefix +
// computer (sanitised; "-2", "-3", … when the name is taken), in one
// transaction: the use is taken and the token made together, or neither.
// Two computers racing for a code's last use: the row lock makes the
// second wait, and it then finds no use left ([ErrEnrollUsedUp]).
// The role is always device, whatever the code or the request says.
func (s *Store) Enroll(ctx context.Context, code, computer string) (api.EnrollResponse, error) {
	hash := tokenHash(NormalizeEnrollCode(code))
	var res api.EnrollResponse
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		var prefix string
		err := tx.QueryRow(ctx, `UPDATE enroll_codes SET uses_left = uses_left - 1
			WHERE hash = $1 AND revoked IS NULL AND expires > $2 AND uses_left > 0 RETURNING id, prefix`, hash, s.now()).Scan(&id, &prefix)
		if errors.Is(err, pgx.ErrNoRows) {
			return s.whyRefused(ctx, tx, hash)
		}
		if err != nil {
			return dbErr(err)
		}
		base := prefix + SanitizeComputerName(computer)
		var b [32]byte
		rand.Read(b[:])
		tok := "kvt_" + base64.RawURLEncoding.EncodeToString(b[:])
		for n := 1; n <= 100; n++ {
			name := base
			if n > 1 {
				name = base + "-" + strconv.Itoa(n)
			}
			// A savepoint per try: a taken name aborts only the try.
			err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
				_, err := sp.Exec(ctx, "INSERT INTO tokens (name, role, hash, enroll_code) VALUES ($1, $2, $3, $4)", name, api.RoleDevice, tokenHash(tok), id)
				return err
			})
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				continue
			}
			if err != nil {
				return dbErr(err)
			}
			res = api.EnrollResponse{Token: tok, Name: name, Role: api.RoleDevice}
			return nil
		}
		return fmt.Errorf("%w: 100 devices are already named %s", ErrTokenExists, base)
	})
	return res, err
}

// whyRefused tells which of unknown, revoked, expired and used up a code
// is (in that order: a revoked code is revoked even when also expired).
func (s *Store) whyRefused(ctx context.Context, tx pgx.Tx, hash []byte) error {
	var left int
	var expires time.Time
	var revoked *time.Time
	err := tx.QueryRow(ctx, "SELECT uses_left, expires, revoked FROM enroll_codes WHERE hash = $1", hash).Scan(&left, &expires, &revoked)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ErrEnrollUnknown
	case err != nil:
		return dbErr(err)
	case revoked != nil:
		return ErrEnrollRevoked
	case !expires.After(s.now()):
		return ErrEnrollExpired
	}
	return ErrEnrollUsedUp
}

// SanitizeComputerName keeps a computer's name to letters, digits, '-',
// '_' and '.', lower-cased, at most 50 characters ("PC 0142" →
// "pc-0142"); an empty result is "dator".
func SanitizeComputerName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		switch {
		case nameRune(r):
			b.WriteRune(r)
		case unicode.IsSpace(r) || r == '/' || r == '\\':
			b.WriteByte('-')
		}
		if b.Len() >= 50 {
			break
		}
	}
	out := strings.Trim(b.String(), "-.")
	if out == "" {
		return "dator"
	}
	return out
}

// nameRune: the characters a device name is made of.
func nameRune(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || r == '-' || r == '_' || r == '.'
}
