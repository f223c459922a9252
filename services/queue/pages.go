package queue

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
)

// webFiles are the web UI's templates, string tables and static files,
// built into the binary: a deployment serves the pages with nothing beside
// it, and no page loads anything from another site.
//
//go:embed web/templates/*.html web/i18n/*.json web/static/*
var webFiles embed.FS

// contentSecurityPolicy allows scripts, styles and connections from this
// origin only: the pages have no inline script or style, so injected markup
// cannot run, and no other site may frame them.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"

// defaultLanguage is the UI language when the browser asks for neither.
const defaultLanguage = "en"

// uiLanguages are the languages with a string table in web/i18n.
func uiLanguages() []string { return []string{"en", "ja"} }

// pageNames are the page templates in web/templates, besides the layout.
func pageNames() []string {
	return []string{"login", "submit", "my", "ticket", "queue", "incident", "incidents", "tokens", "error"}
}

// pages renders the web UI: each page's template parsed once per language
// (the string table's lookups are bound at parse time), and the static
// files with the content hashes that version their URLs.
type pages struct {
	s      *Service
	tmpl   map[string]map[string]*template.Template // language → page → template
	text   map[string]map[string]string             // language → key → text
	jsText map[string]map[string]string             // language → the "js." strings, for scripts
	assets map[string]asset
}

type asset struct {
	body []byte
	hash string // the start of its SHA-256: its URL's ?v=
}

// newPages parses the named page templates for every language and checks
// that every language's table has every key.
func newPages(s *Service, names ...string) (*pages, error) {
	pg := &pages{s: s, tmpl: map[string]map[string]*template.Template{}, text: map[string]map[string]string{},
		jsText: map[string]map[string]string{}, assets: map[string]asset{}}
	static, err := fs.Sub(webFiles, "web/static")
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	err = fs.WalkDir(static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		pg.assets[name] = asset{body: b, hash: hex.EncodeToString(sum[:6])}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	for _, lang := range uiLanguages() {
		b, err := webFiles.ReadFile("web/i18n/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("string table %s: %w", lang, err)
		}
		table := map[string]string{}
		if err := json.Unmarshal(b, &table); err != nil {
			return nil, fmt.Errorf("string table %s: %w", lang, err)
		}
		pg.text[lang] = table
		pg.jsText[lang] = map[string]string{}
		for k, v := range table {
			if name, ok := strings.CutPrefix(k, "js."); ok {
				pg.jsText[lang][name] = v
			}
		}
		base, err := template.New("layout").Funcs(pg.funcs(lang)).ParseFS(webFiles, "web/templates/layout.html")
		if err != nil {
			return nil, fmt.Errorf("layout: %w", err)
		}
		pg.tmpl[lang] = map[string]*template.Template{}
		for _, name := range names {
			t, err := base.Clone()
			if err == nil {
				t, err = t.ParseFS(webFiles, "web/templates/"+name+".html")
			}
			if err != nil {
				return nil, fmt.Errorf("page %s: %w", name, err)
			}
			pg.tmpl[lang][name] = t
		}
	}
	for _, lang := range uiLanguages() {
		for k := range pg.text[defaultLanguage] {
			if _, ok := pg.text[lang][k]; !ok {
				return nil, fmt.Errorf("string table %s lacks %q", lang, k)
			}
		}
		for k := range pg.text[lang] {
			if _, ok := pg.text[defaultLanguage][k]; !ok {
				return nil, fmt.Errorf("string table %s has %q, which %s lacks", lang, k, defaultLanguage)
			}
		}
	}
	return pg, nil
}

// translate looks a key up in a language's table; a missing key fails the
// page's rendering, so tests catch it.
func (pg *pages) translate(lang, key string, args ...any) (string, error) {
	s, ok := pg.text[lang][key]
	if !ok {
		return "", fmt.Errorf("no text %q in the %s table", key, lang)
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...), nil
	}
	return s, nil
}

// phrase puts a history phrase in a language's words, its vocabulary
// values as the language labels them.
func (pg *pages) phrase(lang string, p phrase) (string, error) {
	args := make([]any, len(p.Args))
	for i, a := range p.Args {
		args[i] = pg.label(lang, a.Kind, a.Value)
	}
	return pg.translate(lang, p.Key, args...)
}

// label names a value of a vocabulary (a status, queue, ...) in a
// language, or gives it as it is when the table lacks it.
func (pg *pages) label(lang, kind, v string) string {
	if s, ok := pg.text[lang][kind+"."+v]; ok && kind != "" {
		return s
	}
	return v
}

func (pg *pages) assetURL(name string) (string, error) {
	a, ok := pg.assets[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/static/" + name + "?v=" + a.hash, nil
}

func (pg *pages) funcs(lang string) template.FuncMap {
	t := func(key string, args ...any) (string, error) { return pg.translate(lang, key, args...) }
	return template.FuncMap{
		"t":     t,
		"asset": pg.assetURL,
		"label": func(kind, v string) string { return pg.label(lang, kind, v) },
		"say":   func(p phrase) (string, error) { return pg.phrase(lang, p) },
		// services names the services whose logs group an incident.
		"services": func(names []string) (string, error) {
			if len(names) == 0 {
				return t("incidents.unnamedService")
			}
			return strings.Join(names, ", "), nil
		},
		"transitions": transitions,
		"linkify":     linkParts,
		"iso":         func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		// when is the text a time shows until the script writes it in the
		// reader's own zone.
		"when":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"join":    strings.Join,
		"percent": func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
		"derefTime": func(t *time.Time) time.Time {
			if t == nil {
				return time.Time{}
			}
			return *t
		},
	}
}

// pageView is what every page's template gets.
type pageView struct {
	Name     string // the page template
	Lang     string
	Title    string
	Me       auth.Principal
	SignedIn bool
	// CSRF goes in the csrf-token meta tag and every form; scripts send it
	// as X-CSRF-Token.
	CSRF    string
	Scripts []string
	JSText  map[string]string
	Body    any
}

// Can reports whether the signed-in person has role.
func (v pageView) Can(role auth.Role) bool { return v.SignedIn && v.Me.Role.Includes(role) }

func (pg *pages) view(r *http.Request, name, titleKey string, body any, scripts ...string) pageView {
	lang := pickLanguage(r.Header.Get("Accept-Language"))
	v := pageView{Name: name, Lang: lang, JSText: pg.jsText[lang], Body: body, Scripts: scripts}
	v.Title, _ = pg.translate(lang, titleKey)
	if p, ok := auth.From(r.Context()); ok {
		v.Me, v.SignedIn = p, true
	}
	if sess, ok := auth.SessionFrom(r.Context()); ok {
		v.CSRF = pg.s.auth.CSRFToken(sess)
	}
	return v
}

// pickLanguage chooses the UI language from Accept-Language: the supported
// language the browser prefers most, else English.
func pickLanguage(header string) string {
	best, bestQ := defaultLanguage, 0.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			var err error
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if slices.Contains(uiLanguages(), primary) && q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

// securityHeaders are sent with every page.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	// Pages carry a CSRF token and customers' words: no cache keeps them.
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept-Language, Cookie")
}

// render writes a page, or with ?fragment=1 only its live part (what the
// scripts fetch to update the page in place). It renders into a buffer
// first, so a template error is a clean 500, never half a page.
func (pg *pages) render(w http.ResponseWriter, r *http.Request, status int, v pageView) {
	entry := "layout"
	if r.URL.Query().Get("fragment") == "1" {
		entry = "live"
	}
	var buf bytes.Buffer
	if err := pg.tmpl[v.Lang][v.Name].ExecuteTemplate(&buf, entry, v); err != nil {
		httpapi.WriteError(w, r, fmt.Errorf("render page %s: %w", v.Name, err))
		return
	}
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// pageRoutes are the web UI's pages. They read through the same service
// methods as the JSON API, and their buttons call that API.
func (s *Service) pageRoutes() []Route {
	pg := s.pages // parsed once, in New
	serve := func(h http.HandlerFunc) http.HandlerFunc { return h }
	page := func(method, pattern string, role auth.Role, h http.HandlerFunc) Route {
		return Route{Method: method, Pattern: pattern, Role: role, Page: true, handler: serve(h)}
	}
	return []Route{
		// "/" sends people to their role's home, or to sign in. It is listed
		// as public because the access test cannot request its pattern as a
		// path; RequirePage still asks for a session.
		{Method: http.MethodGet, Pattern: "/{$}", handler: s.auth.RequirePage(auth.RoleSupport, s.forbiddenPage, serve(pg.home)).ServeHTTP},
		{Method: http.MethodGet, Pattern: "/login", handler: serve(pg.loginForm)},
		{Method: http.MethodPost, Pattern: "/login", handler: serve(pg.login)},
		{Method: http.MethodGet, Pattern: "/static/{file...}", handler: serve(pg.static)},
		page(http.MethodPost, "/logout", auth.RoleSupport, pg.logout),
		page(http.MethodGet, "/submit", auth.RoleSupport, pg.submitPage),
		page(http.MethodGet, "/my", auth.RoleSupport, pg.myPage),
		page(http.MethodGet, "/tickets/{id}", auth.RoleSupport, pg.ticketPage),
		page(http.MethodGet, "/queue", auth.RoleEngineer, pg.queuePage),
		page(http.MethodGet, "/incidents", auth.RoleEngineer, pg.incidentsPage),
		page(http.MethodGet, "/incidents/{iid}", auth.RoleEngineer, pg.incidentPage),
		page(http.MethodGet, "/admin/tokens", auth.RoleAdmin, pg.tokensPage),
	}
}

// homeOf is where a role starts: support staff at their tickets, engineers
// and admins at the queue.
func homeOf(role auth.Role) string {
	if role.Includes(auth.RoleEngineer) {
		return "/queue"
	}
	return "/my"
}

func (pg *pages) home(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	http.Redirect(w, r, homeOf(p.Role), http.StatusSeeOther)
}

// static serves the embedded files. A URL with the file's current hash
// may be cached for good; any other is revalidated.
func (pg *pages) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	a, ok := pg.assets[name]
	if !ok {
		pg.s.notFoundPage(w, r)
		return
	}
	h := w.Header()
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		h.Set("Content-Type", ct)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", strconv.Quote(a.hash))
	if r.URL.Query().Get("v") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}

// --- sign-in ---

type loginBody struct {
	Next  string
	Error string
}

func (pg *pages) loginForm(w http.ResponseWriter, r *http.Request) {
	pg.render(w, r, http.StatusOK, pg.view(r, "login", "login.title", loginBody{Next: r.URL.Query().Get("next")}))
}

// login checks the token and opens a session. The form has no CSRF token
// (there is no session yet), so it refuses posts that the browser says
// came from another site: signing someone in as someone else is an attack
// too.
func (pg *pages) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		pg.fail(w, r, httpapi.Errorf(httpapi.CodeForbidden, "sign in through this site's own form"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		pg.fail(w, r, httpapi.Errorf(httpapi.CodeUnreadableBody, "the sign-in form could not be read: %v", err))
		return
	}
	next := r.PostForm.Get("next")
	p, sess, cookie, err := pg.s.auth.Login(r.Context(), r.PostForm.Get("token"))
	if errors.Is(err, auth.ErrUnauthenticated) {
		reason := strings.TrimPrefix(err.Error(), auth.ErrUnauthenticated.Error()+": ")
		pg.render(w, r, http.StatusUnauthorized, pg.view(r, "login", "login.title", loginBody{Next: next, Error: reason}))
		return
	}
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	auth.SetSessionCookie(w, r, cookie, sess)
	http.Redirect(w, r, localNext(next, p.Role), http.StatusSeeOther)
}

// sameOrigin reports whether a form post came from this site, as far as
// the browser tells (Sec-Fetch-Site, Origin); tools that send neither are
// let through.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err == nil && u.Host == r.Host
	}
	return true
}

// localNext is where to go after signing in: next if it is a path on this
// site (never another site's address, which would make the sign-in page a
// redirector), else the role's home.
func localNext(next string, role auth.Role) string {
	u, err := url.Parse(next)
	// Browsers read a backslash as a slash, and http.Redirect cleans the
	// path ("/./\\x" becomes "/\\x", that is "//x"): judge the cleaned path,
	// and refuse backslashes and control characters outright.
	if err != nil || next == "" || !strings.HasPrefix(next, "/") || strings.ContainsAny(next, "\\\x00\t\r\n") ||
		u.Scheme != "" || u.Host != "" || u.Opaque != "" {
		return homeOf(role)
	}
	clean := path.Clean(u.Path)
	if strings.HasPrefix(clean, "//") || clean == "/login" {
		return homeOf(role)
	}
	u.Path = clean
	return u.RequestURI()
}

// logout ends the session everywhere (a copied cookie stops working too),
// then clears the cookie.
func (pg *pages) logout(w http.ResponseWriter, r *http.Request) {
	if sess, ok := auth.SessionFrom(r.Context()); ok {
		if err := pg.s.auth.Logout(r.Context(), sess); err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
	}
	auth.ClearSessionCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// --- error pages ---

type errorBody struct {
	Status  int
	Code    httpapi.Code
	Message string
	// Needs is the role a refused page needs, when the refusal says.
	Needs string
}

// neededRole reads the role out of auth's refusal ("this needs the
// engineer role; ...") so the page can say it in the reader's language.
var neededRole = regexp.MustCompile(`needs the (\w+) role`)

// forbiddenPage answers a refused page: the wrong role, a failed CSRF
// check, or a state-changing request without a session. Scripts and API
// clients get the JSON error.
func (s *Service) forbiddenPage(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *httpapi.Error
	if wantsJSON(r) || !errors.As(err, &apiErr) {
		httpapi.WriteError(w, r, err)
		return
	}
	s.errorPage(w, r, apiErr)
}

func (s *Service) notFoundPage(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, httpapi.Errorf(httpapi.CodeNotFound, "no such page: %s", r.URL.Path))
}

// errorPage renders an error as a page.
func (s *Service) errorPage(w http.ResponseWriter, r *http.Request, e *httpapi.Error) {
	s.pages.errorPage(w, r, e)
}

func (pg *pages) errorPage(w http.ResponseWriter, r *http.Request, e *httpapi.Error) {
	body := errorBody{Status: e.Status, Code: e.Code, Message: e.Message}
	if m := neededRole.FindStringSubmatch(e.Message); m != nil {
		body.Needs = m[1]
	}
	titleKey := "error.title"
	switch e.Status {
	case http.StatusNotFound:
		titleKey = "error.notfound.title"
	case http.StatusForbidden:
		titleKey = "error.forbidden.title"
	case http.StatusUnauthorized:
		titleKey = "error.signin.title"
	}
	pg.render(w, r, e.Status, pg.view(r, "error", titleKey, body))
}

// fail shows an error as a page: an API error as it is, anything else as
// a 500 whose cause is logged under the reference the page shows.
func (pg *pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *httpapi.Error
	if errors.As(err, &apiErr) {
		pg.errorPage(w, r, apiErr)
		return
	}
	httpapi.WriteError(w, r, err)
}

func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") ||
		(strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html"))
}

// --- support pages ---

type submitBody struct {
	// IdempotencyKey is made once per form load, so a double click or a
	// retry of this form never makes two tickets.
	IdempotencyKey string
	Reporter       string
	IntakeURL      string
	Channels       []string
	// Declared are the incidents declared now: the form shows their
	// messages for support, the matching ones first as staff type.
	Declared []DeclaredNotice
}

func (pg *pages) submitPage(w http.ResponseWriter, r *http.Request) {
	var key [18]byte
	if _, err := rand.Read(key[:]); err != nil {
		pg.fail(w, r, fmt.Errorf("idempotency key: %w", err))
		return
	}
	p, _ := auth.From(r.Context())
	body := submitBody{IdempotencyKey: "web-" + base64.RawURLEncoding.EncodeToString(key[:]), Reporter: p.Name,
		IntakeURL: strings.TrimSuffix(pg.s.cfg.IntakeURL, "/"), Channels: []string{"phone", "email", "chat", "web"},
		Declared: pg.s.declaredNotices()}
	pg.render(w, r, http.StatusOK, pg.view(r, "submit", "submit.title", body, "submit.js"))
}

type myBody struct {
	Tickets []Summary
	Find    string
}

func (pg *pages) myPage(w http.ResponseWriter, r *http.Request) {
	if id := strings.TrimSpace(r.URL.Query().Get("ticket")); id != "" {
		http.Redirect(w, r, "/tickets/"+url.PathEscape(id), http.StatusSeeOther)
		return
	}
	p, _ := auth.From(r.Context())
	pg.render(w, r, http.StatusOK, pg.view(r, "my", "my.title", myBody{Tickets: pg.s.openTicketsOf(p)}))
}

// --- the ticket page ---

type ticketBody struct {
	// Kind is "pending" (not in a queue yet), "support" or "engineer".
	Kind string
	ID   string
	// ETag is the version actions send as If-Match.
	ETag string
	// Pending says where a ticket that is not in a queue yet is.
	Pending stage
	Support *SupportView
	Rec     *Record
	// SLAState is ok, due_soon or breached.
	SLAState string
	History  []HistoryEntry
	Comments []HistoryEntry
	CanClaim bool
	// CanRelease: the viewer owns the ticket (or is an admin).
	CanRelease bool
}

func (pg *pages) ticketPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	p, _ := auth.From(ctx)
	rec, _, err := pg.s.st.current(ctx, id)
	if errors.Is(err, errNoTicket) {
		st, err := pg.s.stageOf(ctx, id)
		switch {
		case err != nil:
			pg.fail(w, r, err)
		case st.Stage == "":
			pg.errorPage(w, r, httpapi.Errorf(httpapi.CodeTicketNotFound, "no ticket %s", id))
		default:
			pg.render(w, r, http.StatusOK, pg.view(r, "ticket", "ticket.pending.title",
				ticketBody{Kind: "pending", ID: id, Pending: st}, "ticket.js"))
		}
		return
	}
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	hist, err := pg.s.history(ctx, id, p)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	body := ticketBody{ID: id, ETag: etag(rec), SLAState: summarize(rec).SLAState(pg.s.now())}
	for _, h := range hist {
		if h.Type == "commented" {
			body.Comments = append(body.Comments, h)
		} else {
			body.History = append(body.History, h)
		}
	}
	if p.Role.Includes(auth.RoleEngineer) {
		body.Kind, body.Rec = "engineer", rec
		body.CanClaim = rec.Assignee == "" && rec.Open()
		body.CanRelease = rec.Assignee != "" && (rec.Assignee == p.Name || p.Role.Includes(auth.RoleAdmin))
	} else {
		sv := supportView(rec)
		body.Kind, body.Support = "support", &sv
	}
	v := pg.view(r, "ticket", "ticket.title", body, "ticket.js")
	v.Title = rec.Ticket.Subject
	pg.render(w, r, http.StatusOK, v)
}

// ticketIDPattern is what a ticket id can be; anything else is never
// looked up as a subject (a "*" would match every ticket's).
var ticketIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

// stage is how far a ticket that is not in a queue has come.
type stage struct {
	// Stage is submitted, logs_pending, enriched or routed; "" when no
	// such ticket was submitted.
	Stage   string
	At      time.Time
	Subject string
}

// stageOf reads how far a ticket has come through the pipeline from its
// own subjects, as intake's status does.
func (s *Service) stageOf(ctx context.Context, id string) (stage, error) {
	var st stage
	if !ticketIDPattern.MatchString(id) {
		return st, nil
	}
	subs, err := s.JS.Stream(ctx, bus.StreamSubmissions)
	if err != nil {
		return st, fmt.Errorf("open %s: %w", bus.StreamSubmissions, err)
	}
	for _, step := range []struct {
		stream  jetstream.Stream
		subject string
	}{
		{subs, events.SubjectSubmitted}, {s.st.stream, events.SubjectLogsPending},
		{s.st.stream, events.SubjectEnriched}, {s.st.stream, events.SubjectRouted},
	} {
		m, err := step.stream.GetLastMsgForSubject(ctx, events.TicketSubject(step.subject, id))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return st, fmt.Errorf("look up ticket %s: %w", id, err)
		}
		if st.Stage == "" {
			var ev events.TicketSubmitted
			if json.Unmarshal(m.Data, &ev) == nil {
				st.Subject = ev.Ticket.Subject
			}
		}
		st.Stage, st.At = strings.TrimPrefix(step.subject, "tickets."), m.Time
	}
	return st, nil
}

// textPart is a piece of a comment: plain text, or a link.
type textPart struct{ Text, URL string }

// urlPattern finds http(s) addresses in plain text; trailing punctuation
// is trimmed off after matching.
var urlPattern = regexp.MustCompile(`https?://[^\s<>"'「」『』（）]+`)

// linkParts splits plain text into text and links, so the template
// escapes every piece and only http(s) addresses become links.
func linkParts(s string) []textPart {
	var out []textPart
	for s != "" {
		loc := urlPattern.FindStringIndex(s)
		if loc == nil {
			out = append(out, textPart{Text: s})
			break
		}
		u := strings.TrimRight(s[loc[0]:loc[1]], ".,;:!?)]}。、")
		if loc[0] > 0 {
			out = append(out, textPart{Text: s[:loc[0]]})
		}
		out = append(out, textPart{Text: u, URL: u})
		s = s[loc[0]+len(u):]
	}
	return out
}

// --- the engineers' queue ---

type queueBody struct {
	Form       url.Values
	Queue      string
	Rows       []queueRow
	Counts     Counts
	NextURL    string
	FirstURL   string
	Error      string
	Statuses   []string
	Components []string
	// Incidents are the storms open now (escalation queue only).
	Incidents []events.Incident
	// FragmentURL is this listing's live part, refetched on every change.
	FragmentURL string
}

type queueRow struct {
	Summary
	SLA string
	// IncidentOpen: the ticket's incident is open (a group still
	// gathering its first tickets is not shown as one).
	IncidentOpen bool
}

// QueueURL is the listing with one filter changed (and the cursor reset).
func (b queueBody) QueueURL(key, value string) string {
	q := url.Values{}
	for k, v := range b.Form {
		q[k] = slices.Clone(v)
	}
	q.Del("cursor")
	q.Del("fragment")
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	return "/queue?" + q.Encode()
}

func (pg *pages) queuePage(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	form := url.Values{}
	for _, k := range []string{"queue", "status", "component", "assignee", "tenant", "incident", "limit", "cursor"} {
		if v := strings.TrimSpace(r.URL.Query().Get(k)); v != "" {
			form.Set(k, v)
		}
	}
	body := queueBody{Form: form, Statuses: Statuses(), Components: events.Components()}
	status := http.StatusOK
	f, limit, after, err := pg.s.filterFrom(r, p.Name)
	body.Queue = f.Queue
	var apiErr *httpapi.Error
	switch {
	case errors.As(err, &apiErr):
		body.Error, status = apiErr.Message, apiErr.Status
	case err != nil:
		pg.fail(w, r, err)
		return
	case !pg.s.view.isLoaded():
		body.Error, _ = pg.translate(pickLanguage(r.Header.Get("Accept-Language")), "queue.loading")
		status = http.StatusServiceUnavailable
	default:
		now := pg.s.now()
		open := map[string]bool{}
		if f.Queue == events.QueueEscalation {
			body.Incidents = pg.s.incidents.Live(now)
			for _, inc := range body.Incidents {
				open[inc.ID] = true
			}
		}
		list, next := pg.s.view.list(f, after, limit)
		for _, sm := range list {
			body.Rows = append(body.Rows, queueRow{Summary: sm, SLA: sm.SLAState(now), IncidentOpen: open[sm.Incident] || len(f.Incidents) > 0})
		}
		body.Counts = pg.s.view.count(f.Queue, now)
		if next != "" {
			body.NextURL = body.QueueURL("cursor", next)
		}
		if after != nil {
			body.FirstURL = body.QueueURL("cursor", "")
		}
	}
	frag := url.Values{}
	maps.Copy(frag, form)
	frag.Set("fragment", "1")
	body.FragmentURL = "/queue?" + frag.Encode()
	pg.render(w, r, status, pg.view(r, "queue", "queue.title", body, "queue.js"))
}

// --- admin: tokens ---

type tokenRow struct {
	auth.Token
	// State is active, expired or revoked.
	State string
}

type tokensBody struct {
	Tokens []tokenRow
	Roles  []auth.Role
}

func (pg *pages) tokensPage(w http.ResponseWriter, r *http.Request) {
	list, err := pg.s.auth.List(r.Context())
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	now := pg.s.now()
	body := tokensBody{Roles: auth.Roles()}
	for _, t := range list {
		state := "active"
		switch {
		case t.RevokedAt != nil:
			state = "revoked"
		case !now.Before(t.ExpiresAt):
			state = "expired"
		}
		t.SecretHash = ""
		body.Tokens = append(body.Tokens, tokenRow{Token: t, State: state})
	}
	pg.render(w, r, http.StatusOK, pg.view(r, "tokens", "tokens.title", body, "tokens.js"))
}

// --- incidents ---

type incidentsBody struct {
	Incidents  []IncidentView
	Components []string
	Severities []string
}

// incidentsPage lists the incidents open now and offers to declare one.
func (pg *pages) incidentsPage(w http.ResponseWriter, r *http.Request) {
	body := incidentsBody{Incidents: pg.s.liveViews(), Components: events.Components(), Severities: events.Severities()}
	pg.render(w, r, http.StatusOK, pg.view(r, "incidents", "incidents.title", body, "incident.js"))
}

type incidentBody struct {
	Inc IncidentView
	// State is live, ended, resolved or merged.
	State string
	// Mine: the viewer owns it (or is an admin and somebody does).
	Mine bool
	// MergeInto are the other incidents open now.
	MergeInto []events.Incident
}

func (pg *pages) incidentPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, _ := auth.From(ctx)
	inc, err := pg.s.incident(ctx, r.PathValue("iid"))
	var apiErr *httpapi.Error
	if errors.As(err, &apiErr) {
		pg.errorPage(w, r, apiErr)
		return
	}
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	now := pg.s.now()
	body := incidentBody{Inc: pg.s.viewOf(inc), State: "live",
		Mine: ownsIncident(&inc, p) == nil}
	switch {
	case inc.MergedInto != "":
		body.State = "merged"
	case inc.Resolution != nil:
		body.State = "resolved"
	case !inc.Live(now):
		body.State = "ended"
	}
	for _, other := range pg.s.incidents.Live(now) {
		if other.ID != inc.ID && !slices.Contains(inc.Merged, other.ID) {
			body.MergeInto = append(body.MergeInto, other)
		}
	}
	v := pg.view(r, "incident", "incident.title", body, "incident.js")
	pg.render(w, r, http.StatusOK, v)
}
