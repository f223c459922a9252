package queue

import (
	"errors"
	"net/http"
	"time"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/httpapi"
)

// TokenRequest is the body of POST /api/v1/admin/tokens.
type TokenRequest struct {
	Name string        `json:"name"`
	Role auth.Role     `json:"role"`
	TTL  time.Duration `json:"ttl"`
}

// IssuedToken is the answer: the token's text, shown this once.
type IssuedToken struct {
	Token  string     `json:"token"`
	Record auth.Token `json:"record"`
}

const defaultTokenTTL = 90 * 24 * time.Hour

func (s *Service) listTokens(w http.ResponseWriter, r *http.Request) {
	list, err := s.auth.List(r.Context())
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	for i := range list {
		list[i].SecretHash = "" // not a secret, but no reason to hand it out
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"tokens": list})
}

func (s *Service) issueToken(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	if err := decodeBody(r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	text, rec, err := s.issue(r, req)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	rec.SecretHash = ""
	httpapi.WriteJSON(w, http.StatusCreated, IssuedToken{Token: text, Record: rec})
}

func (s *Service) issue(r *http.Request, req TokenRequest) (string, auth.Token, error) {
	p, _ := auth.From(r.Context())
	if req.TTL == 0 {
		req.TTL = defaultTokenTTL
	}
	if !req.Role.Valid() {
		return "", auth.Token{}, fieldErr("role", httpapi.FieldInvalidValue, "must be one of %v", auth.Roles())
	}
	text, rec, err := s.auth.Issue(r.Context(), req.Name, req.Role, req.TTL, p.Name)
	if err != nil && (req.Name == "" || len(req.Name) > 100) {
		return "", auth.Token{}, fieldErr("name", httpapi.FieldInvalidValue, "%v", err)
	}
	if err != nil && (req.TTL <= 0 || req.TTL > 366*24*time.Hour) {
		return "", auth.Token{}, fieldErr("ttl", httpapi.FieldInvalidValue, "%v", err)
	}
	return text, rec, err
}

func (s *Service) revokeToken(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	rec, err := s.auth.Revoke(r.Context(), r.PathValue("tid"), p.Name)
	if errors.Is(err, auth.ErrNoToken) {
		err = httpapi.Errorf(httpapi.CodeTokenNotFound, "no token %q", r.PathValue("tid"))
	}
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	rec.SecretHash = ""
	httpapi.WriteJSON(w, http.StatusOK, rec)
}
