package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Session is what the session cookie carries, signed: the token it was
// opened with (checked again on every request, so revoking the token ends
// the session) and a nonce the CSRF token is derived from.
type Session struct {
	TokenID string    `json:"t"`
	Expires time.Time `json:"e"`
	Nonce   string    `json:"n"`
}

// MaxSession bounds a session; it also ends with its token.
const MaxSession = 12 * time.Hour

// Login checks a token's text and opens a session for it, returning the
// cookie value. A monitoring token cannot sign in: it is a system's.
func (s *Store) Login(ctx context.Context, text string) (Principal, Session, string, error) {
	t, err := s.verify(ctx, text)
	if err != nil {
		return Principal{}, Session{}, "", err
	}
	if t.Role == RoleMonitoring {
		return Principal{}, Session{}, "", fmt.Errorf("%w: a monitoring token only reports alerts (Alertmanager); it cannot sign in to the pages", ErrUnauthenticated)
	}
	p := t.Principal()
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return Principal{}, Session{}, "", fmt.Errorf("session nonce: %w", err)
	}
	exp := s.now().UTC().Add(MaxSession)
	if t.ExpiresAt.Before(exp) {
		exp = t.ExpiresAt
	}
	sess := Session{TokenID: p.TokenID, Expires: exp.Truncate(time.Second), Nonce: base64.RawURLEncoding.EncodeToString(n[:])}
	b, err := json.Marshal(sess)
	if err != nil {
		return Principal{}, Session{}, "", fmt.Errorf("encode session: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	return p, sess, payload + "." + s.sign("session|"+payload), nil
}

func (s *Store) sign(msg string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// session checks a cookie's signature and expiry, then its token.
func (s *Store) session(ctx context.Context, cookie string) (Principal, Session, error) {
	payload, sig, ok := strings.Cut(cookie, ".")
	if !ok || subtle.ConstantTimeCompare([]byte(sig), []byte(s.sign("session|"+payload))) != 1 {
		return Principal{}, Session{}, fmt.Errorf("%w: the session cookie is not valid; sign in again", ErrUnauthenticated)
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	var sess Session
	if err == nil {
		err = json.Unmarshal(b, &sess)
	}
	if err != nil {
		return Principal{}, Session{}, fmt.Errorf("%w: the session cookie is not valid; sign in again", ErrUnauthenticated)
	}
	if !s.now().Before(sess.Expires) {
		return Principal{}, Session{}, fmt.Errorf("%w: the session expired; sign in again", ErrUnauthenticated)
	}
	if _, err := s.signedOut.Get(ctx, sess.Nonce); err == nil {
		return Principal{}, Session{}, fmt.Errorf("%w: you signed out of this session; sign in again", ErrUnauthenticated)
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return Principal{}, Session{}, fmt.Errorf("check the session: %w", err)
	}
	p, err := s.active(ctx, sess.TokenID)
	if err != nil {
		return Principal{}, Session{}, err
	}
	return p, sess, nil
}

// Logout ends a session on every replica (a copy of its cookie no longer
// works), until it would have expired anyway.
func (s *Store) Logout(ctx context.Context, sess Session) error {
	if _, err := s.signedOut.Put(ctx, sess.Nonce, []byte(sess.TokenID)); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// CSRFToken is the token forms and scripts send back with a state-changing
// request made with the session cookie: derived from the session's nonce,
// so another site can neither read nor forge it.
func (s *Store) CSRFToken(sess Session) string { return s.sign("csrf|" + sess.Nonce) }

// checkCSRF compares a presented CSRF token with the session's.
func (s *Store) checkCSRF(sess Session, presented string) error {
	if presented == "" || subtle.ConstantTimeCompare([]byte(presented), []byte(s.CSRFToken(sess))) != 1 {
		return errCSRF
	}
	return nil
}

var errCSRF = errors.New("the form's CSRF token is missing or does not match this session; reload the page and try again")
