package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/bus"
)

// tokenSchemaVersion is the version of Token records this code writes.
const tokenSchemaVersion = 1

// Store keeps tokens in the tokens bucket and the session signing key in
// the secrets bucket. Every check reads the bucket, so a revocation counts
// on every replica at once.
type Store struct {
	tokens    jetstream.KeyValue
	signedOut jetstream.KeyValue
	key       []byte
	now       func() time.Time
}

// sessionKeyName is the secrets bucket's key for the session cookie's
// signing key, made once by the first service that needs it.
const sessionKeyName = "session-hmac"

// Open ensures the buckets and loads (or makes) the signing key.
func Open(ctx context.Context, js jetstream.JetStream, topo bus.Topology) (*Store, error) {
	tokens, err := bus.EnsureBucket(ctx, js, topo.TokensBucket())
	if err != nil {
		return nil, err
	}
	secrets, err := bus.EnsureBucket(ctx, js, topo.SecretsBucket())
	if err != nil {
		return nil, err
	}
	key, err := sessionKey(ctx, secrets)
	if err != nil {
		return nil, err
	}
	signedOut, err := bus.EnsureBucket(ctx, js, topo.SignedOutBucket())
	if err != nil {
		return nil, err
	}
	return &Store{tokens: tokens, signedOut: signedOut, key: key, now: time.Now}, nil
}

// sessionKey reads the shared signing key, creating it if no replica has:
// every replica must sign and check cookies with the same key.
func sessionKey(ctx context.Context, kv jetstream.KeyValue) ([]byte, error) {
	for {
		e, err := kv.Get(ctx, sessionKeyName)
		if err == nil {
			if len(e.Value()) < 32 {
				return nil, fmt.Errorf("session key in bucket %s is too short", bus.BucketSecrets)
			}
			return e.Value(), nil
		}
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, fmt.Errorf("read session key: %w", err)
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("make session key: %w", err)
		}
		if _, err := kv.Create(ctx, sessionKeyName, key); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fmt.Errorf("store session key: %w", err)
		}
		// Created here or by another replica meanwhile: read what won.
	}
}

// Issue makes a token for name with role, valid for ttl, and returns its
// text (shown once, never stored) and record.
func (s *Store) Issue(ctx context.Context, name string, role Role, ttl time.Duration, by string) (string, Token, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "" || len(name) > 100:
		return "", Token{}, fmt.Errorf("a token needs a name of 1-100 characters (the person it is for)")
	case !role.Valid():
		return "", Token{}, fmt.Errorf("role %q is not one of %v", role, Roles())
	case ttl <= 0 || ttl > 366*24*time.Hour:
		return "", Token{}, fmt.Errorf("a token's lifetime must be positive and at most a year, got %s", ttl)
	}
	id, text, hash, err := newSecret()
	if err != nil {
		return "", Token{}, err
	}
	now := s.now().UTC()
	t := Token{SchemaVersion: tokenSchemaVersion, ID: id, Name: name, Role: role, SecretHash: hash,
		CreatedAt: now, CreatedBy: by, ExpiresAt: now.Add(ttl)}
	b, err := json.Marshal(t)
	if err != nil {
		return "", Token{}, fmt.Errorf("encode token: %w", err)
	}
	if _, err := s.tokens.Create(ctx, id, b); err != nil {
		return "", Token{}, fmt.Errorf("store token %s: %w", id, err)
	}
	return text, t, nil
}

// ErrNoToken: no token has that id.
var ErrNoToken = errors.New("no such token")

// Get reads a token's record by id.
func (s *Store) Get(ctx context.Context, id string) (Token, uint64, error) {
	e, err := s.tokens.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return Token{}, 0, fmt.Errorf("%w: %s", ErrNoToken, id)
	}
	if err != nil {
		return Token{}, 0, fmt.Errorf("read token %s: %w", id, err)
	}
	var t Token
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		return Token{}, 0, fmt.Errorf("decode token %s: %w", id, err)
	}
	return t, e.Revision(), nil
}

// Revoke ends a token at once, on every replica.
func (s *Store) Revoke(ctx context.Context, id, by string) (Token, error) {
	for {
		t, rev, err := s.Get(ctx, id)
		if err != nil {
			return Token{}, err
		}
		if t.RevokedAt != nil {
			return t, nil
		}
		now := s.now().UTC()
		t.RevokedAt, t.RevokedBy = &now, by
		b, err := json.Marshal(t)
		if err != nil {
			return Token{}, fmt.Errorf("encode token: %w", err)
		}
		_, err = s.tokens.Update(ctx, id, b, rev)
		if err == nil {
			return t, nil
		}
		if !bus.IsConflict(err) {
			return Token{}, fmt.Errorf("revoke token %s: %w", id, err)
		}
	}
}

// List returns every token, newest first.
func (s *Store) List(ctx context.Context) ([]Token, error) {
	keys, err := s.tokens.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out := []Token{}
	for id := range keys.Keys() {
		t, _, err := s.Get(ctx, id)
		if errors.Is(err, ErrNoToken) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Token) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// Verify checks a token's text and returns whom it speaks for.
func (s *Store) Verify(ctx context.Context, text string) (Principal, error) {
	t, err := s.verify(ctx, text)
	if err != nil {
		return Principal{}, err
	}
	return t.Principal(), nil
}

// verify returns the usable token whose text this is.
func (s *Store) verify(ctx context.Context, text string) (Token, error) {
	id, secret, ok := parseToken(text)
	if !ok {
		return Token{}, fmt.Errorf("%w: that is not a triage token (they look like trg_…)", ErrUnauthenticated)
	}
	t, _, err := s.Get(ctx, id)
	if errors.Is(err, ErrNoToken) || (err == nil && !t.matches(secret)) {
		return Token{}, fmt.Errorf("%w: unknown token", ErrUnauthenticated)
	}
	if err != nil {
		return Token{}, err
	}
	if err := t.Usable(s.now()); err != nil {
		return Token{}, err
	}
	return t, nil
}

// active checks that the token behind a session is still usable.
func (s *Store) active(ctx context.Context, id string) (Principal, error) {
	t, _, err := s.Get(ctx, id)
	if errors.Is(err, ErrNoToken) {
		return Principal{}, fmt.Errorf("%w: the session's token no longer exists", ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, err
	}
	if err := t.Usable(s.now()); err != nil {
		return Principal{}, err
	}
	return t.Principal(), nil
}
