package httpapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/shareddata"
)

// declared returns the constants of type typ declared in codes.go, name to
// value.
func declared(t *testing.T, typ string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
				continue
			}
			for i, name := range vs.Names {
				lit := vs.Values[i].(*ast.BasicLit)
				v, _ := strconv.Unquote(lit.Value)
				out[name.Name] = v
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s constants found in codes.go", typ)
	}
	return out
}

// Every code is declared once, listed once with a real status and a
// meaning, and documented in the README's table.
func TestCodesAreOneListMirroredInTheREADME(t *testing.T) {
	root, err := shareddata.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{} // code → status column, from "| `code` | 404 | …"
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| (\\d{3}|—) \\|").FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = m[2]
	}

	check := func(kind string, consts map[string]string, listed map[string]int, status func(string) string) {
		values := map[string]string{}
		for name, v := range consts {
			if other, dup := values[v]; dup {
				t.Errorf("%s %s and %s share the value %q", kind, name, other, v)
			}
			values[v] = name
			if listed[v] != 1 {
				t.Errorf("%s %s (%q) is listed %d times, want once", kind, name, v, listed[v])
			}
			got, ok := documented[v]
			switch {
			case !ok:
				t.Errorf("%s %q is missing from the README's table", kind, v)
			case got != status(v):
				t.Errorf("README says %q answers %s, the code says %s", v, got, status(v))
			}
		}
		for v := range listed {
			if _, ok := values[v]; !ok {
				t.Errorf("%s %q is listed but not declared as a constant", kind, v)
			}
		}
	}
	listed := map[string]int{}
	statuses := map[string]int{}
	for _, c := range Codes() {
		listed[string(c.Code)]++
		statuses[string(c.Code)] = c.Status
		if c.Status < 400 || http.StatusText(c.Status) == "" || c.Meaning == "" {
			t.Errorf("code %q has status %d and meaning %q", c.Code, c.Status, c.Meaning)
		}
	}
	check("code", declared(t, "Code"), listed, func(v string) string { return strconv.Itoa(statuses[v]) })
	fieldListed := map[string]int{}
	for _, c := range FieldCodes() {
		fieldListed[string(c.Code)]++
		if c.Meaning == "" {
			t.Errorf("field code %q has no meaning", c.Code)
		}
	}
	check("field code", declared(t, "FieldCode"), fieldListed, func(string) string { return "—" })
	for v := range documented {
		if listed[v] == 0 && fieldListed[v] == 0 {
			t.Errorf("the README documents %q, which no code declares", v)
		}
	}
}

func TestUnknownCodeIsAnInternalError(t *testing.T) {
	if got := Code("no_such_code").Status(); got != http.StatusInternalServerError {
		t.Fatalf("status of an unknown code = %d, want 500", got)
	}
	if got := CodeTicketNotFound.Status(); got != http.StatusNotFound {
		t.Fatalf("status of ticket_not_found = %d, want 404", got)
	}
}
