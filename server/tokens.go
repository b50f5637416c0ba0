package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kuvert-app/kuvert/server/api"
)

// Token is a token's record; the token itself is never stored.
type Token struct {
	ID      int64      `json:"id"`
	Name    string     `json:"name"`
	Role    string     `json:"role"`
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked,omitempty"`
	// EnrollCode and EnrollPrefix name the enrollment code a device
	// token was bought with (nil, "" for a token made by hand).
	EnrollCode   *int64 `json:"enroll_code,omitempty"`
	EnrollPrefix string `json:"enroll_prefix,omitempty"`
}

// ErrUnauthorized: no token, or one that is unknown or revoked.
var ErrUnauthorized = errors.New("no valid token")

// ErrTokenExists: an active token already has this name.
var ErrTokenExists = errors.New("an active token already has this name")

// ValidRole reports whether role is one a token can have.
func ValidRole(role string) bool {
	return role == api.RoleDevice || role == api.RoleRegistrar || role == api.RoleAdmin
}

// AddToken makes a token for name with role and returns it: the only
// time it exists outside the holder's hands (the database keeps its
// SHA-256; a token is 256 random bits, so no slow hash is needed).
func (s *Store) AddToken(ctx context.Context, name, role string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 || name == ServerDevice || strings.ContainsAny(name, "\n\r\t") {
		return "", fmt.Errorf("%w: a token needs a name (not %q), at most 100 characters", errBadRequest, ServerDevice)
	}
	if !ValidRole(role) {
		return "", fmt.Errorf("%w: role must be device, registrar or admin", errBadRequest)
	}
	var b [32]byte
	rand.Read(b[:])
	tok := "kvt_" + base64.RawURLEncoding.EncodeToString(b[:])
	_, err := s.pool.Exec(ctx, "INSERT INTO tokens (name, role, hash) VALUES ($1, $2, $3)", name, role, tokenHash(tok))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return "", fmt.Errorf("%w: %s (revoke it first)", ErrTokenExists, name)
	}
	if err != nil {
		return "", dbErr(err)
	}
	return tok, nil
}

// Tokens lists every token, revoked ones included.
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT t.id, t.name, t.role, t.created, t.revoked, t.enroll_code, coalesce(c.prefix, '')
		FROM tokens t LEFT JOIN enroll_codes c ON c.id = t.enroll_code ORDER BY t.id`)
	if err != nil {
		return nil, dbErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Token, error) {
		var t Token
		err := r.Scan(&t.ID, &t.Name, &t.Role, &t.Created, &t.Revoked, &t.EnrollCode, &t.EnrollPrefix)
		return t, err
	})
	return out, dbErr(err)
}

// RevokeToken revokes the active token named name; it is refused from
// the next request on.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, "UPDATE tokens SET revoked = now() WHERE name = $1 AND revoked IS NULL", name)
	if err != nil {
		return dbErr(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("no active token is named %q", name)
	}
	return nil
}

// Authenticate finds the active token's name and role. Every request
// asks the database, so a revoked token is refused at once, by every
// server process.
func (s *Store) Authenticate(ctx context.Context, token string) (name, role string, err error) {
	if !strings.HasPrefix(token, "kvt_") || len(token) > 100 {
		return "", "", ErrUnauthorized
	}
	err = s.pool.QueryRow(ctx, "SELECT name, role FROM tokens WHERE hash = $1 AND revoked IS NULL", tokenHash(token)).Scan(&name, &role)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", ErrUnauthorized
	}
	return name, role, dbErr(err)
}
