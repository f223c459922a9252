// Package auth is who may do what: people authenticate with tokens an admin
// issues (kept hashed in JetStream KV, revocable, with an expiry), the web
// UI turns a token into a signed session cookie, state-changing requests
// made with that cookie carry a CSRF token, and handlers require a role.
//
// Tokens look like trg_<id>_<secret>. The id is public (logs and the admin
// page name tokens by it); only a SHA-256 of the secret is stored, so the
// bucket never holds a usable token, and a token is shown once, when issued.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role is what a person may do. Each person's role includes the ones
// before it: an engineer can do what support staff do, an admin what
// engineers do. Monitoring stands apart: a system's role (Alertmanager)
// that may only report alerts, which engineers and admins may also do.
type Role string

// Roles.
const (
	RoleSupport    Role = "support"
	RoleEngineer   Role = "engineer"
	RoleAdmin      Role = "admin"
	RoleMonitoring Role = "monitoring"
)

// Roles lists the roles: people's, least first, then monitoring.
func Roles() []Role { return []Role{RoleSupport, RoleEngineer, RoleAdmin, RoleMonitoring} }

// rank orders people's roles; monitoring has none.
func (r Role) rank() int {
	switch r {
	case RoleSupport:
		return 1
	case RoleEngineer:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r.rank() > 0 || r == RoleMonitoring }

// Includes reports whether a holder of role r may act as role want.
func (r Role) Includes(want Role) bool {
	switch {
	case r == RoleMonitoring:
		return want == RoleMonitoring
	case want == RoleMonitoring:
		return r.Includes(RoleEngineer)
	}
	return r.rank() >= want.rank() && want.Valid()
}

// Principal is the person behind a request.
type Principal struct {
	TokenID string `json:"token_id"`
	Name    string `json:"name"`
	Role    Role   `json:"role"`
}

// Token is an issued token as stored: never the secret itself.
type Token struct {
	SchemaVersion int        `json:"schema_version"`
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Role          Role       `json:"role"`
	SecretHash    string     `json:"secret_hash"`
	CreatedAt     time.Time  `json:"created_at"`
	CreatedBy     string     `json:"created_by"`
	ExpiresAt     time.Time  `json:"expires_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	RevokedBy     string     `json:"revoked_by,omitempty"`
}

// Usable reports why the token cannot be used at now, or nil.
func (t Token) Usable(now time.Time) error {
	switch {
	case t.RevokedAt != nil:
		return fmt.Errorf("%w: token %s was revoked", ErrUnauthenticated, t.ID)
	case !now.Before(t.ExpiresAt):
		return fmt.Errorf("%w: token %s expired at %s", ErrUnauthenticated, t.ID, t.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// Principal is the person the token speaks for.
func (t Token) Principal() Principal { return Principal{TokenID: t.ID, Name: t.Name, Role: t.Role} }

// ErrUnauthenticated: no credentials, or credentials that are not (or no
// longer) valid. Answered 401.
var ErrUnauthenticated = errors.New("not signed in")

// ErrForbidden: signed in, but the role does not allow it. Answered 403.
var ErrForbidden = errors.New("not allowed")

const tokenPrefix = "trg_"

// idEncoding makes ids that are safe as KV keys and easy to read aloud.
var idEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// newSecret returns a token's id, its full text, and the hash to store.
func newSecret() (id, text, hash string, err error) {
	var idb [10]byte
	var sec [32]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return "", "", "", fmt.Errorf("token id: %w", err)
	}
	if _, err := rand.Read(sec[:]); err != nil {
		return "", "", "", fmt.Errorf("token secret: %w", err)
	}
	id = idEncoding.EncodeToString(idb[:])
	secret := base64.RawURLEncoding.EncodeToString(sec[:])
	return id, tokenPrefix + id + "_" + secret, hashSecret(secret), nil
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// parseToken splits a token's text into id and secret.
func parseToken(text string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(text), tokenPrefix)
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || id == "" || secret == "" || len(id) > 32 {
		return "", "", false
	}
	return id, secret, true
}

// matches compares a presented secret with the stored hash in constant
// time.
func (t Token) matches(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(t.SecretHash)) == 1
}
