package server

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/internal/groupcommit"
	"github.com/kuvert-app/kuvert/server/api"
)

// schema is created on first start (and is a no-op afterwards). Every
// statement kuvert sends is parameterised; this is the only SQL built
// without parameters, and it holds no input.
const schema = `
CREATE TABLE IF NOT EXISTS kuvert_meta (
	key   text PRIMARY KEY,
	value text NOT NULL
);
CREATE TABLE IF NOT EXISTS tree_head (
	id     int PRIMARY KEY CHECK (id = 1),
	size   bigint NOT NULL,
	root   bytea NOT NULL,
	note   text NOT NULL,
	signed timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
	seq       bigint PRIMARY KEY,
	id        text NOT NULL UNIQUE,
	device    text NOT NULL,
	at        timestamptz,
	action    text NOT NULL,
	case_no   text NOT NULL DEFAULT '',
	ref       text NOT NULL DEFAULT '',
	operator  text NOT NULL DEFAULT '',
	recipient text NOT NULL DEFAULT '',
	refers    text NOT NULL DEFAULT '',
	body      bytea,
	leaf      bytea NOT NULL,
	shipped   bytea,
	received  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE entries ADD COLUMN IF NOT EXISTS shipped bytea;
CREATE INDEX IF NOT EXISTS entries_at ON entries (at);
CREATE INDEX IF NOT EXISTS entries_case ON entries (lower(case_no)) WHERE case_no <> '';
CREATE INDEX IF NOT EXISTS entries_ref ON entries (lower(ref)) WHERE ref <> '';
CREATE INDEX IF NOT EXISTS entries_refers ON entries (refers) WHERE refers <> '';
CREATE TABLE IF NOT EXISTS tree_hashes (
	idx  bigint PRIMARY KEY,
	hash bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
	size   bigint PRIMARY KEY,
	root   bytea NOT NULL,
	note   text NOT NULL,
	signed timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
	id      bigserial PRIMARY KEY,
	name    text NOT NULL,
	role    text NOT NULL,
	hash    bytea NOT NULL UNIQUE,
	created timestamptz NOT NULL DEFAULT now(),
	revoked timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS tokens_active_name ON tokens (name) WHERE revoked IS NULL;
CREATE TABLE IF NOT EXISTS sms_sends (
	key        text PRIMARY KEY,
	device     text NOT NULL,
	ref        text NOT NULL DEFAULT '',
	state      text NOT NULL,
	provider   text NOT NULL DEFAULT '',
	message_id text NOT NULL DEFAULT '',
	status     text NOT NULL DEFAULT '',
	error      text NOT NULL DEFAULT '',
	created    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sms_sends_device ON sms_sends (device, created);
CREATE INDEX IF NOT EXISTS sms_sends_created ON sms_sends (created);
ALTER TABLE sms_sends ADD COLUMN IF NOT EXISTS region text NOT NULL DEFAULT '';
ALTER TABLE sms_sends ADD COLUMN IF NOT EXISTS pending bytea;
`

// Advisory lock keys (pg_advisory_xact_lock): the schema's creation and
// the SMS rate limit's count-then-insert.
const (
	lockSchema = 0x6b75766572740001
	lockSMS    = 0x6b75766572740002
)

// ServerDevice is the device name of entries the server writes itself
// (SMS it relayed, prunings).
const ServerDevice = auditlog.CentralServerDevice

// ErrUnavailable: the database does not answer.
var ErrUnavailable = errors.New("the database does not answer")

// Store is the central log, tokens and SMS records in PostgreSQL. Every
// server process opens its own Store on the same database; the tree is
// serialised in the database (the tree_head row, locked FOR UPDATE), so
// any number of processes keep one consistent tree.
type Store struct {
	pool     *pgxpool.Pool
	signer   note.Signer
	verifier note.Verifier
	vkey     string
	now      func() time.Time
	gc       groupcommit.Queue[*appendReq]
	headFile string // the last signed head, outside the database ("" none)
	// testOnlyInAppend runs inside each append transaction, before the
	// entries are written; a test makes the database fail there for one
	// request. Never set outside tests.
	testOnlyInAppend func(ctx context.Context, tx pgx.Tx, batch []*appendReq) error
}

// OpenStore connects to the database at url, creates the schema if it is
// new and checks that the log there is signed by this key: a second
// server with a different key is refused, not allowed to fork the log.
//
// With [WithHeadFile], a database whose log is older than the last head
// this server signed is refused ([ErrRolledBack]).
func OpenStore(ctx context.Context, url string, signingKey string, opts ...Option) (*Store, error) {
	signer, err := note.NewSigner(signingKey)
	if err != nil {
		return nil, errors.New("the server's signing key is damaged")
	}
	vkey, err := verifierOf(signingKey)
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("KUVERT_DATABASE_URL is not a PostgreSQL URL: %v", redactURLError(err))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, redactURLError(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("PostgreSQL (KUVERT_DATABASE_URL): %w", oneLine(dbErr(err)))
	}
	s := &Store{pool: pool, signer: signer, verifier: verifier, vkey: vkey, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.checkDBHead(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// oneLine keeps err (for errors.Is) but puts the driver's list of
// addresses tried (one per line) on one line, with no password.
func oneLine(err error) error {
	msg := redactURLError(err)
	msg = strings.Join(strings.Fields(strings.NewReplacer(":\n\t", ": ", "\n\t", "; ").Replace(msg)), " ")
	return &flatError{msg: msg, err: err}
}

type flatError struct {
	msg string
	err error
}

func (e *flatError) Error() string { return e.msg }
func (e *flatError) Unwrap() error { return e.err }

// redactURLError keeps a database password out of an error.
func redactURLError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "://"); i >= 0 {
		if j := strings.Index(msg[i:], "@"); j >= 0 {
			msg = msg[:i+3] + "…" + msg[i+j:]
		}
	}
	return msg
}

// Close closes the connections.
func (s *Store) Close() { s.pool.Close() }

// VerifierKey is the public key that checks this server's tree heads.
func (s *Store) VerifierKey() string { return s.vkey }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(lockSchema)); err != nil {
			return dbErr(err)
		}
		if _, err := tx.Exec(ctx, schema+enrollSchema); err != nil {
			return dbErr(err)
		}
		var have string
		err := tx.QueryRow(ctx, "SELECT value FROM kuvert_meta WHERE key = 'verifier_key'").Scan(&have)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := tx.Exec(ctx, "INSERT INTO kuvert_meta (key, value) VALUES ('verifier_key', $1)", s.vkey); err != nil {
				return dbErr(err)
			}
			root, _ := tlog.TreeHash(0, nil)
			msg, err := auditlog.SignTreeHead(s.signer, auditlog.CentralOrigin, 0, root)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, "INSERT INTO tree_head (id, size, root, note, signed) VALUES (1, 0, $1, $2, $3)", root[:], string(msg), s.now())
			return dbErr(err)
		case err != nil:
			return dbErr(err)
		case have != s.vkey:
			return fmt.Errorf("the log in this database is signed by key %s, but this server has key %s: start every server with the same signing key", keyName(have), keyName(s.vkey))
		}
		return nil
	})
}

func keyName(vkey string) string {
	name, _, _ := strings.Cut(vkey, "+")
	parts := strings.Split(vkey, "+")
	if len(parts) >= 2 {
		return name + "+" + parts[1]
	}
	return name
}

// dbErr marks connection failures as ErrUnavailable (503, retry later)
// and leaves other errors as they are.
func dbErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrRolledBack) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || pgErr.Code == "53300" {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// syncCommit makes the transaction's commit wait until PostgreSQL has
// written its WAL, whatever the database's default: an answer to a
// device ("your entries are in") or a claimed SMS key must survive a
// crash of the database, or the device would never ship them again. A
// test that crashes PostgreSQL mid-run lost acknowledged entries before
// this (with synchronous_commit off).
func syncCommit(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SET LOCAL synchronous_commit TO on")
	return err
}

// Head returns the current signed tree head.
func (s *Store) Head(ctx context.Context) (api.Head, error) {
	var h api.Head
	var root []byte
	var signed time.Time
	kept, err := s.keptHead()
	if err != nil {
		return h, err
	}
	err = s.pool.QueryRow(ctx, "SELECT size, root, note, signed FROM tree_head WHERE id = 1").Scan(&h.Size, &root, &h.Note, &signed)
	if err != nil {
		return h, dbErr(err)
	}
	// Never serve a head older than one this server signed: a client
	// that has not seen the newer one could not tell.
	if err := s.checkHead(kept, []byte(h.Note)); err != nil {
		return api.Head{}, err
	}
	h.Root = base64.StdEncoding.EncodeToString(root)
	h.Time = signed.UTC().Format(time.RFC3339)
	return h, nil
}

// dbHashes reads the tree's stored hashes from the database (in a
// transaction or the pool).
type dbHashes struct {
	ctx context.Context
	q   interface {
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	}
}

func (r dbHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	rows, err := r.q.Query(r.ctx, "SELECT idx, hash FROM tree_hashes WHERE idx = ANY($1)", idx)
	if err != nil {
		return nil, dbErr(err)
	}
	got := make(map[int64]tlog.Hash, len(idx))
	var i int64
	var b []byte
	_, err = pgx.ForEachRow(rows, []any{&i, &b}, func() error {
		var h tlog.Hash
		copy(h[:], b)
		got[i] = h
		return nil
	})
	if err != nil {
		return nil, dbErr(err)
	}
	out := make([]tlog.Hash, len(idx))
	for k, x := range idx {
		h, ok := got[x]
		if !ok {
			return nil, fmt.Errorf("tree hash %d is missing from the database", x)
		}
		out[k] = h
	}
	return out, nil
}

// Proof returns a consistency proof between tree sizes old and new (new
// 0: the current head).
func (s *Store) Proof(ctx context.Context, old, new int64) (api.Proof, error) {
	if new == 0 {
		h, err := s.Head(ctx)
		if err != nil {
			return api.Proof{}, err
		}
		new = h.Size
	}
	if old < 0 || old > new {
		return api.Proof{}, fmt.Errorf("%w: old must be between 0 and new", errBadRequest)
	}
	var size int64
	if err := s.pool.QueryRow(ctx, "SELECT size FROM tree_head WHERE id = 1").Scan(&size); err != nil {
		return api.Proof{}, dbErr(err)
	}
	if new > size {
		return api.Proof{}, fmt.Errorf("%w: the log has only %d entries", errBadRequest, size)
	}
	p := api.Proof{Old: old, New: new, Hashes: []string{}}
	if old == 0 || old == new {
		return p, nil
	}
	proof, err := tlog.ProveTree(new, old, dbHashes{ctx, s.pool})
	if err != nil {
		return p, dbErr(err)
	}
	for _, h := range proof {
		p.Hashes = append(p.Hashes, base64.StdEncoding.EncodeToString(h[:]))
	}
	return p, nil
}

var errBadRequest = errors.New("bad request")

// GenerateKey makes a new server signing key; it returns the private key
// (keep it secret, the same on every server process) and its verifier
// key (publish it: auditors and clients check heads with it).
func GenerateKey(name string) (skey, vkey string, err error) {
	if name == "" {
		name = "kuvert-server"
	}
	return note.GenerateKey(rand.Reader, name)
}

// VerifierKey is the verifier key of a signing key.
func VerifierKey(skey string) (string, error) { return verifierOf(skey) }

// verifierOf derives the verifier key from a private key.
func verifierOf(skey string) (string, error) {
	// A note private key is PRIVATE+KEY+name+hash+base64(alg||seed); the
	// verifier is name+hash+base64(alg||public), which note does not
	// expose: sign a probe and find the matching verifier by
	// re-generating from the seed.
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("the server's signing key is damaged")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		return "", errors.New("the server's signing key is damaged")
	}
	return ed25519Verifier(parts[2], raw[1:])
}

// ownEntry stamps an entry the server writes itself.
func (s *Store) ownEntry(e auditlog.Entry) auditlog.Entry {
	now := s.now()
	var b [8]byte
	rand.Read(b[:])
	e.ID = now.Format("20060102") + "-" + hex.EncodeToString(b[:])
	e.Time = now.Format(time.RFC3339)
	e.Operator, e.Host, e.Tool = cmp.Or(e.Operator, ServerDevice), ServerDevice, "kuvert server"
	return e
}

// tokenHash is what the database keeps of a token.
func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func ed25519Verifier(name string, seed []byte) (string, error) {
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(name, pub)
}
