package training

import (
	"bytes"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/services/router"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

// The targets hold on tickets each fold's model never saw: 5-fold,
// stratified, seed 1 (the figures `triage eval` prints).
func TestCrossValidatedTargets(t *testing.T) {
	examples, err := Dev()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := router.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := router.CrossValidate(examples, rules, router.DefaultTrainOptions(), 5, router.ClassifierConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var tech, comp, sev, nsev int
	for i, d := range ds {
		ex := examples[i]
		if d.Routing.Technical == ex.Technical {
			tech++
		}
		if d.Routing.Component == ex.Component {
			comp++
		}
		if ex.Technical {
			nsev++
			if d.Severity == ex.Severity {
				sev++
			}
		}
	}
	n := float64(len(examples))
	for _, m := range []struct {
		name      string
		got, want float64
	}{
		{"technical or not", float64(tech) / n, 0.90},
		{"component", float64(comp) / n, 0.80},
		{"severity of technical tickets", float64(sev) / float64(nsev), 0.65},
	} {
		if m.got < m.want {
			t.Errorf("cross-validated %s accuracy %.3f, want at least %.2f", m.name, m.got, m.want)
		}
		t.Logf("cross-validated %s: %.3f", m.name, m.got)
	}
}

// The shipped model.json is exactly what `go generate ./services/router`
// makes from the shipped data, rules and default options.
func TestShippedModelIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the full model")
	}
	examples, err := Dev()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := router.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	m, err := router.Train(examples, rules, router.DefaultTrainOptions())
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, router.DefaultModelJSON()) {
		t.Fatal("model.json is stale: run `go generate ./services/router` after changing the rules, the training data or the trainer")
	}
}
