package auth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/triage-pipeline/triage/libs/httpapi"
)

// CookieName is the session cookie.
const CookieName = "triage_session"

// CSRFHeader carries the CSRF token on scripted requests; forms send the
// field CSRFField.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf"
)

type principalKey struct{}
type sessionCtxKey struct{}

// From returns the person a request was authenticated as.
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// SessionFrom returns the session of a request authenticated by cookie.
func SessionFrom(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(sessionCtxKey{}).(Session)
	return s, ok
}

// WithPrincipal returns ctx carrying p: the authenticated request's, or
// that of code acting for a person outside a request.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// identify authenticates a request by bearer token or session cookie. A
// cookie-authenticated request that changes state must carry the CSRF
// token.
func (s *Store) identify(r *http.Request) (*http.Request, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		text, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return r, errors.Join(ErrUnauthenticated, errors.New("use Authorization: Bearer <token>"))
		}
		p, err := s.Verify(ctx, text)
		if err != nil {
			return r, err
		}
		return r.WithContext(WithPrincipal(ctx, p)), nil
	}
	c, err := r.Cookie(CookieName)
	if err != nil {
		return r, errors.Join(ErrUnauthenticated, errors.New("send Authorization: Bearer <token>, or sign in"))
	}
	p, sess, err := s.session(ctx, c.Value)
	if err != nil {
		return r, err
	}
	if !safeMethod(r.Method) {
		presented := r.Header.Get(CSRFHeader)
		if presented == "" {
			presented = r.PostFormValue(CSRFField)
		}
		if err := s.checkCSRF(sess, presented); err != nil {
			return r, err
		}
	}
	return r.WithContext(context.WithValue(WithPrincipal(ctx, p), sessionCtxKey{}, sess)), nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// Require lets a request through only from a person whose role includes
// role: 401 without valid credentials, 403 with the wrong role or a
// missing CSRF token, both as the API's JSON errors.
func (s *Store) Require(role Role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := s.identify(r)
		if err == nil {
			err = allowed(r.Context(), role)
		}
		if err != nil {
			httpapi.WriteError(w, r, apiError(err))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// RequirePage is Require for web pages: a person who is not signed in is
// sent to the sign-in page (and back afterwards); the wrong role gets
// forbidden, rendered by the caller's page.
func (s *Store) RequirePage(role Role, forbidden func(http.ResponseWriter, *http.Request, error), h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := s.identify(r)
		if errors.Is(err, ErrUnauthenticated) && safeMethod(r.Method) {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err == nil {
			err = allowed(r.Context(), role)
		}
		if err != nil {
			forbidden(w, r, apiError(err))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func allowed(ctx context.Context, role Role) error {
	p, _ := From(ctx)
	if !p.Role.Includes(role) {
		return errors.Join(ErrForbidden, errors.New("this needs the "+string(role)+" role; you are signed in as "+p.Name+" ("+string(p.Role)+")"))
	}
	return nil
}

// apiError maps an authentication outcome to the API's error.
func apiError(err error) error {
	switch {
	case errors.Is(err, errCSRF):
		return httpapi.Errorf(httpapi.CodeCSRFFailed, "%s", errCSRF.Error())
	case errors.Is(err, ErrForbidden):
		return httpapi.Errorf(httpapi.CodeForbidden, "%s", strings.TrimPrefix(err.Error(), ErrForbidden.Error()+"\n"))
	case errors.Is(err, ErrUnauthenticated):
		return httpapi.Errorf(httpapi.CodeUnauthenticated, "%s", err.Error())
	}
	return err // the bucket could not be read: a 500, logged
}

// SetSessionCookie sets the session cookie: HttpOnly (scripts cannot read
// it), SameSite=Lax (other sites' forms do not carry it), Secure when the
// request came over TLS.
func SetSessionCookie(w http.ResponseWriter, r *http.Request, value string, sess Session) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: value, Path: "/", Expires: sess.Expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
	})
}

// ClearSessionCookie signs out.
func ClearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}
