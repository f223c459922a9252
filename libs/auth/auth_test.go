package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/httpapi"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func openStore(t *testing.T) *Store {
	t.Helper()
	srv := testkit.RunJetStream(t)
	nc, js, err := bus.Connect(t.Context(), srv.ClientURL(), "test", zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	s, err := Open(t.Context(), js, bus.DefaultTopology())
	if err != nil {
		t.Fatal(err)
	}
	// A second replica shares the same signing key.
	s2, err := Open(t.Context(), js, bus.DefaultTopology())
	if err != nil {
		t.Fatal(err)
	}
	if string(s.key) != string(s2.key) {
		t.Fatal("two replicas made different session keys")
	}
	return s
}

func TestRoleIncludes(t *testing.T) {
	for _, tc := range []struct {
		have, want Role
		ok         bool
	}{
		{RoleSupport, RoleSupport, true}, {RoleSupport, RoleEngineer, false}, {RoleSupport, RoleAdmin, false},
		{RoleEngineer, RoleSupport, true}, {RoleEngineer, RoleEngineer, true}, {RoleEngineer, RoleAdmin, false},
		{RoleAdmin, RoleSupport, true}, {RoleAdmin, RoleAdmin, true}, {Role(""), RoleSupport, false}, {RoleAdmin, Role("x"), false},
		// Monitoring only reports alerts; engineers and admins may too.
		{RoleMonitoring, RoleMonitoring, true}, {RoleMonitoring, RoleSupport, false}, {RoleMonitoring, RoleEngineer, false},
		{RoleMonitoring, RoleAdmin, false}, {RoleSupport, RoleMonitoring, false}, {RoleEngineer, RoleMonitoring, true},
		{RoleAdmin, RoleMonitoring, true}, {Role(""), RoleMonitoring, false}, {RoleMonitoring, Role(""), false},
	} {
		if got := tc.have.Includes(tc.want); got != tc.ok {
			t.Errorf("%q includes %q = %v, want %v", tc.have, tc.want, got, tc.ok)
		}
	}
}

// Every way in and every way to be refused, for the API middleware.
func TestRequire(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	support, _, err := s.Issue(ctx, "sato", RoleSupport, 24*time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	engineer, _, _ := s.Issue(ctx, "kim", RoleEngineer, 24*time.Hour, "test")
	revoked, rt, _ := s.Issue(ctx, "gone", RoleEngineer, 24*time.Hour, "test")
	if _, err := s.Revoke(ctx, rt.ID, "test"); err != nil {
		t.Fatal(err)
	}
	expired, _, _ := s.Issue(ctx, "old", RoleEngineer, time.Hour, "test")
	s.now = func() time.Time { return time.Now().Add(2 * time.Hour) } // only "old"'s hour has passed
	fresh, _, _ := s.Issue(ctx, "fresh", RoleEngineer, 24*time.Hour, "test")
	_, sess, cookie, err := s.Login(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	csrf := s.CSRFToken(sess)
	forged := strings.Replace(cookie, cookie[len(cookie)-4:], "AAAA", 1)

	h := s.Require(RoleEngineer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := From(r.Context())
		httpapi.WriteJSON(w, http.StatusOK, p)
	}))
	for _, tc := range []struct {
		name, method, bearer, cookie, csrf string
		status                             int
		code                               httpapi.Code
	}{
		{name: "no credentials", method: "GET", status: 401, code: httpapi.CodeUnauthenticated},
		{name: "not a token", method: "GET", bearer: "hello", status: 401, code: httpapi.CodeUnauthenticated},
		{name: "wrong secret", method: "GET", bearer: engineer[:len(engineer)-2] + "xx", status: 401, code: httpapi.CodeUnauthenticated},
		{name: "revoked", method: "GET", bearer: revoked, status: 401, code: httpapi.CodeUnauthenticated},
		{name: "expired", method: "GET", bearer: expired, status: 401, code: httpapi.CodeUnauthenticated},
		{name: "wrong role", method: "GET", bearer: support, status: 403, code: httpapi.CodeForbidden},
		{name: "engineer", method: "POST", bearer: fresh, status: 200},
		{name: "session read", method: "GET", cookie: cookie, status: 200},
		{name: "session write with csrf", method: "POST", cookie: cookie, csrf: csrf, status: 200},
		{name: "session write without csrf", method: "POST", cookie: cookie, status: 403, code: httpapi.CodeCSRFFailed},
		{name: "session write forged csrf", method: "POST", cookie: cookie, csrf: csrf[:len(csrf)-3] + "abc", status: 403, code: httpapi.CodeCSRFFailed},
		{name: "forged cookie", method: "GET", cookie: forged, status: 401, code: httpapi.CodeUnauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/x", nil)
			if tc.bearer != "" {
				r.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: CookieName, Value: tc.cookie})
			}
			if tc.csrf != "" {
				r.Header.Set(CSRFHeader, tc.csrf)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.status || (tc.code != "" && !strings.Contains(rec.Body.String(), `"code":"`+string(tc.code)+`"`)) {
				t.Fatalf("status %d body %s, want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
			for _, secret := range []string{support, engineer, revoked, expired, fresh} {
				if strings.Contains(rec.Body.String(), secret) {
					t.Fatal("a token appears in the answer")
				}
			}
		})
	}

	// Revoking the token ends its session at once.
	if _, err := s.Revoke(ctx, sess.TokenID, "test"); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/x", nil)
	r.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "revoked") {
		t.Fatalf("session of a revoked token: %d %s", rec.Code, rec.Body)
	}
}

// Pages send people who are not signed in to the sign-in page.
func TestRequirePageRedirects(t *testing.T) {
	s := openStore(t)
	h := s.RequirePage(RoleEngineer, func(w http.ResponseWriter, r *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusForbidden)
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/queue?status=new", nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login?next="+url.QueryEscape("/queue?status=new") {
		t.Fatalf("status %d location %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestIssueRefusesBadInput(t *testing.T) {
	s := openStore(t)
	for _, tc := range []struct {
		name string
		role Role
		ttl  time.Duration
	}{
		{"", RoleSupport, time.Hour}, {"x", "root", time.Hour}, {"x", RoleSupport, 0}, {"x", RoleSupport, 400 * 24 * time.Hour},
	} {
		if _, _, err := s.Issue(context.Background(), tc.name, tc.role, tc.ttl, "test"); err == nil {
			t.Errorf("Issue(%q, %q, %s) accepted", tc.name, tc.role, tc.ttl)
		}
	}
	text, tok, err := s.Issue(context.Background(), "ok", RoleAdmin, time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tok.SecretHash, strings.SplitN(text, "_", 3)[2]) {
		t.Fatal("the stored record holds the secret")
	}
}

// Signing out ends the session everywhere: a copy of the cookie no longer
// works, though the token does.
func TestLogoutEndsTheSession(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	text, _, err := s.Issue(ctx, "kim", RoleEngineer, time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	_, sess, cookie, err := s.Login(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Require(RoleEngineer, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	get := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/x", nil)
		r.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	if rec := get(); rec.Code != http.StatusOK {
		t.Fatalf("before sign-out: %d", rec.Code)
	}
	if err := s.Logout(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if rec := get(); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "signed out") {
		t.Fatalf("a copy of the cookie after sign-out: %d %s", rec.Code, rec.Body)
	}
	if _, err := s.Verify(ctx, text); err != nil {
		t.Fatalf("the token itself stopped working: %v", err)
	}
}
