package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/demoworld"
	"github.com/triage-pipeline/triage/libs/dev/harness/demoeval"
	"github.com/triage-pipeline/triage/libs/dev/shareddata"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/extract"
	"github.com/triage-pipeline/triage/libs/logsearch"
	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/libs/signature"
	"github.com/triage-pipeline/triage/services/router"
	"github.com/triage-pipeline/triage/services/router/training"
)

type evalCmd struct {
	LogHub  string   `name:"loghub" type:"path" help:"LogHub samples folder (default: ../shared/datasets/loghub beside the repository)."`
	Tickets string   `name:"tickets" type:"path" help:"Labelled tickets folder (default: ../shared/datasets/tickets beside the repository)."`
	Seeds   []uint64 `name:"seeds" default:"1,2,3" help:"Demo worlds to score the log search and routing on."`
	Folds   int      `name:"folds" default:"5" help:"Folds of the cross-validation on the development tickets."`
}

// Run prints signature Grouping Accuracy on LogHub, the recall and
// precision of attached logs and the routing on labelled demo tickets, and
// the routing on the labelled development tickets (cross-validated) and on
// the public multilingual sample, each beside a keyword baseline.
func (c *evalCmd) Run() error {
	ctx, stop := service.SignalContext(context.Background())
	defer stop()
	dir := c.LogHub
	if dir == "" {
		shared, err := shareddata.Dir()
		if err != nil {
			return fmt.Errorf("find the LogHub samples (or pass --loghub): %w", err)
		}
		dir = filepath.Join(shared, "datasets", "loghub")
	}
	fmt.Println("== error signatures: Grouping Accuracy on LogHub 2k samples (one configuration)")
	sigErr := signature.RunEval(ctx, dir, os.Stdout)
	cl, err := router.DefaultClassifier()
	if err != nil {
		return err
	}
	baseline, err := training.KeywordBaseline()
	if err != nil {
		return err
	}
	for _, seed := range c.Seeds {
		fmt.Printf("\n== log search and routing on demo world seed %d\n", seed)
		if err := evalDemo(ctx, seed, cl, baseline); err != nil {
			return err
		}
	}
	tickets := c.Tickets
	if tickets == "" {
		shared, err := shareddata.Dir()
		if err != nil {
			return fmt.Errorf("find the labelled tickets (or pass --tickets): %w", err)
		}
		tickets = filepath.Join(shared, "datasets", "tickets")
	}
	if err := evalDev(os.Stdout, filepath.Join(tickets, "pos-tickets-dev.jsonl"), cl, baseline, c.Folds); err != nil {
		return err
	}
	if err := evalMultilang(os.Stdout, filepath.Join(tickets, "customer_support_tickets_multilang_sample.csv"), cl, baseline); err != nil {
		return err
	}
	return sigErr
}

func evalDemo(ctx context.Context, seed uint64, cl *router.Classifier, baseline *router.Rules) error {
	d, stop, err := demoeval.Serve(ctx, demoworld.Config{Seed: seed})
	if err != nil {
		return err
	}
	defer stop()
	w, srv := d.World, d.Server
	before := srv.Stats().ByEndpoint["msearch"]
	rep, err := demoeval.Evaluate(ctx, w, d.Finder)
	if err != nil {
		return err
	}
	rep.Print(os.Stdout)
	fmt.Printf("Elasticsearch requests: %d _msearch for %d tickets\n", srv.Stats().ByEndpoint["msearch"]-before, len(w.Tickets))
	evalDemoRouting(os.Stdout, w, rep, cl, baseline)
	return nil
}

// scored is one labelled ticket and what a router said.
type scored struct {
	id, subject                 string
	technical                   bool
	component, severity         string // labels ("" unknown)
	got                         events.Routing
	gotSeverity                 string // the severity head's answer, also for tickets routed to support
	baseTechnical               bool
	baseComponent, baseSeverity string
}

// evalDemoRouting scores the router (built-in rules and model) against the
// demo labels, with the logs the finder attached.
func evalDemoRouting(out io.Writer, w *demoworld.World, rep demoeval.Report, cl *router.Classifier, baseline *router.Rules) {
	var rows []scored
	var items []router.Routed
	label := map[string]string{}
	for _, t := range w.Tickets {
		tk, enr := demoeval.Ticket(t), rep.Enrichments[t.ID]
		d := cl.Classify(tk, enr)
		items = append(items, router.Routed{Ticket: tk, Enrichment: enr, Routing: d.Routing})
		label[t.ID] = t.Incident
		b := baseline.KeywordDecide(tk, enr)
		rows = append(rows, scored{id: t.ID, subject: t.Subject, technical: t.Technical, component: t.Component, severity: t.Severity,
			got: d.Routing, gotSeverity: d.Severity, baseTechnical: b.Technical, baseComponent: b.Component, baseSeverity: b.Severity})
	}
	m, base := techMetrics(rows, false), techMetrics(rows, true)
	fmt.Fprintf(out, "demo routing accuracy: %.3f (technical or not, %d tickets; keyword baseline %.3f)\n", m.accuracy(), len(rows), base.accuracy())
	fmt.Fprintf(out, "  severity %.3f, component %.3f (baseline %.3f, %.3f); needs triage: %d tickets, of which %d were wrong guesses\n",
		sevAccuracy(rows, false), compAccuracy(rows, false), sevAccuracy(rows, true), compAccuracy(rows, true), m.needsTriage, m.triagedWrong)
	shown := 0
	for _, r := range rows {
		if r.got.Technical != r.technical && shown < 5 {
			fmt.Fprintf(out, "  labelled technical=%v, routed %s (confidence %.2f%s): %s\n", r.technical, r.got.Queue, r.got.Confidence, triageNote(r.got), r.subject)
			shown++
		}
	}
	evalStorms(out, "the demo tickets (with the logs the finder attached)", items, label)
}

func triageNote(r events.Routing) string {
	if r.NeedsTriage {
		return ", needs triage"
	}
	return ""
}

// binary is the technical-or-not confusion of one router.
type binary struct {
	tp, fp, tn, fn            int
	needsTriage, triagedWrong int
}

func techMetrics(rows []scored, baseline bool) binary {
	var b binary
	for _, r := range rows {
		got := r.got.Technical
		if baseline {
			got = r.baseTechnical
		} else if r.got.NeedsTriage {
			b.needsTriage++
			if got != r.technical {
				b.triagedWrong++
			}
		}
		switch {
		case got && r.technical:
			b.tp++
		case got:
			b.fp++
		case r.technical:
			b.fn++
		default:
			b.tn++
		}
	}
	return b
}

func (b binary) accuracy() float64  { return ratio(b.tp+b.tn, b.tp+b.tn+b.fp+b.fn) }
func (b binary) precision() float64 { return ratio(b.tp, b.tp+b.fp) }
func (b binary) recall() float64    { return ratio(b.tp, b.tp+b.fn) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// sevAccuracy scores severity on the tickets labelled technical, with the
// severity head's answer (a ticket wrongly sent to support still has one).
func sevAccuracy(rows []scored, baseline bool) float64 {
	var ok, n int
	for _, r := range rows {
		if !r.technical || r.severity == "" {
			continue
		}
		n++
		got := r.gotSeverity
		if baseline {
			got = r.baseSeverity
		}
		if got == r.severity {
			ok++
		}
	}
	return ratio(ok, n)
}

func compAccuracy(rows []scored, baseline bool) float64 {
	var ok, n int
	for _, r := range rows {
		if r.component == "" {
			continue
		}
		n++
		got := r.got.Component
		if baseline {
			got = r.baseComponent
		}
		if got == r.component {
			ok++
		}
	}
	return ratio(ok, n)
}

// evalDev cross-validates the model on the development tickets and prints
// the figures beside the keyword baseline (which learns nothing, so it is
// scored on every ticket as it is).
func evalDev(out io.Writer, path string, cl *router.Classifier, baseline *router.Rules, folds int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("development tickets: %w", err)
	}
	defer f.Close()
	examples, err := training.Read(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	opts := router.DefaultTrainOptions()
	ds, err := router.CrossValidate(examples, cl.Rules(), opts, folds, router.ClassifierConfig{})
	if err != nil {
		return err
	}
	rows := make([]scored, len(examples))
	for i, ex := range examples {
		b := baseline.KeywordDecide(ex.Ticket, ex.Enrichment)
		rows[i] = scored{id: ex.ID, subject: ex.Ticket.Subject, technical: ex.Technical, component: ex.Component, severity: ex.Severity,
			got: ds[i].Routing, gotSeverity: ds[i].Severity, baseTechnical: b.Technical, baseComponent: b.Component, baseSeverity: b.Severity}
	}
	fmt.Fprintf(out, "\n== routing on the development tickets (%s): %d tickets, %d-fold cross-validation (stratified, seed %d): every ticket decided by a model trained without it\n",
		filepath.Base(path), len(examples), folds, opts.Seed)
	fmt.Fprintf(out, "keyword baseline: the router's keyword rules of %s, no model\n", baseline.Version)
	m, base := techMetrics(rows, false), techMetrics(rows, true)
	printTechTable(out, m, base)
	fmt.Fprintf(out, "needs triage (confidence below %.2f): %d tickets (%.0f%%); the router's guess was wrong on %d of them; accuracy on the other %d: %.3f\n",
		cl.Threshold(), m.needsTriage, 100*ratio(m.needsTriage, len(rows)), m.triagedWrong, len(rows)-m.needsTriage,
		ratio(m.tp+m.tn-(m.needsTriage-m.triagedWrong), len(rows)-m.needsTriage))
	fmt.Fprintf(out, "severity on the %d technical tickets: model %.3f, keyword baseline %.3f\n", m.tp+m.fn, sevAccuracy(rows, false), sevAccuracy(rows, true))
	printConfusion(out, "severity (technical tickets), model", router.Severities(), rows, func(r scored) (string, string, bool) {
		return r.severity, r.gotSeverity, r.technical
	})
	printConfusion(out, "severity (technical tickets), keyword baseline", router.Severities(), rows, func(r scored) (string, string, bool) {
		return r.severity, r.baseSeverity, r.technical
	})
	fmt.Fprintf(out, "component on all %d tickets: model %.3f, keyword baseline %.3f\n", len(rows), compAccuracy(rows, false), compAccuracy(rows, true))
	printConfusion(out, "component, model", router.Components(), rows, func(r scored) (string, string, bool) {
		return r.component, r.got.Component, true
	})
	printConfusion(out, "component, keyword baseline", router.Components(), rows, func(r scored) (string, string, bool) {
		return r.component, r.baseComponent, true
	})
	evalDevStorms(out, examples, ds)
	// The two halves were written by two people: training on one and
	// scoring the other says how well the model carries over to new
	// wording.
	half := len(examples) / 2
	for _, split := range [][2][]router.Example{{examples[:half], examples[half:]}, {examples[half:], examples[:half]}} {
		mdl, err := router.Train(split[0], cl.Rules(), opts)
		if err != nil {
			return err
		}
		c := router.NewClassifier(cl.Rules(), mdl, router.ClassifierConfig{})
		var tech, comp, sev, nsev int
		for _, ex := range split[1] {
			d := c.Classify(ex.Ticket, ex.Enrichment)
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
		fmt.Fprintf(out, "across writers: trained on %s…%s, scored on %s…%s: technical %.3f, component %.3f, severity %.3f\n",
			split[0][0].ID, split[0][len(split[0])-1].ID, split[1][0].ID, split[1][len(split[1])-1].ID,
			ratio(tech, len(split[1])), ratio(comp, len(split[1])), ratio(sev, nsev))
	}
	return nil
}

func printTechTable(out io.Writer, m, base binary) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "technical or not\taccuracy\tprecision\trecall\tTP\tFP\tTN\tFN")
	for _, r := range []struct {
		name string
		b    binary
	}{{"model + rules", m}, {"keyword baseline", base}} {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\t%d\n", r.name, r.b.accuracy(), r.b.precision(), r.b.recall(), r.b.tp, r.b.fp, r.b.tn, r.b.fn)
	}
	_ = tw.Flush()
}

// printConfusion prints rows = label, columns = answer.
func printConfusion(out io.Writer, title string, classes []string, rows []scored, pick func(scored) (label, got string, use bool)) {
	counts := map[[2]string]int{}
	for _, r := range rows {
		label, got, use := pick(r)
		if use && label != "" {
			counts[[2]string{label, got}]++
		}
	}
	fmt.Fprintf(out, "%s (rows: label, columns: answer)\n", title)
	tw := tabwriter.NewWriter(out, 0, 4, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, c := range classes {
		fmt.Fprintf(tw, "%s\t", c)
	}
	fmt.Fprint(tw, "right\t\n")
	for _, l := range classes {
		fmt.Fprintf(tw, "%s\t", l)
		total := 0
		for _, c := range classes {
			total += counts[[2]string{l, c}]
			fmt.Fprintf(tw, "%d\t", counts[[2]string{l, c}])
		}
		fmt.Fprintf(tw, "%d/%d\t\n", counts[[2]string{l, l}], total)
	}
	_ = tw.Flush()
}

// multilangTechnical maps the public sample's queues to technical or not.
var multilangTechnical = map[string]bool{
	"Technical Support": true, "IT Support": true, "Product Support": true, "Service Outages and Maintenance": true,
	"Billing and Payments": false, "Customer Service": false, "General Inquiry": false, "Returns and Exchanges": false,
}

// evalMultilang scores technical-or-not on the public multilingual sample
// with the shipped model (it never saw these tickets).
func evalMultilang(out io.Writer, path string, cl *router.Classifier, baseline *router.Rules) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("multilingual tickets: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	col := func(name string) int { return slices.Index(header, name) }
	subj, body, queue, lang := col("subject"), col("body"), col("queue"), col("language")
	if subj < 0 || body < 0 || queue < 0 || lang < 0 {
		return fmt.Errorf("%s: want columns subject, body, queue, language; got %v", path, header)
	}
	var rows []scored
	byLang := map[string][2]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		tech, ok := multilangTechnical[rec[queue]]
		if !ok {
			continue // a queue the sample does not hold (Sales, HR)
		}
		t := events.Ticket{Subject: rec[subj], Description: rec[body], Language: rec[lang]}
		enr := events.Enrichment{LogsStatus: events.LogsNotConfigured}
		d := cl.Classify(t, enr)
		b := baseline.KeywordDecide(t, enr)
		rows = append(rows, scored{subject: t.Subject, technical: tech, got: d.Routing, baseTechnical: b.Technical})
		c := byLang[rec[lang]]
		c[1]++
		if d.Routing.Technical == tech {
			c[0]++
		}
		byLang[rec[lang]] = c
	}
	fmt.Fprintf(out, "\n== technical or not on the public multilingual sample (%s): %d tickets; no logs; the shipped model, which never saw them\n", filepath.Base(path), len(rows))
	fmt.Fprintln(out, "queues mapped: Technical Support, IT Support, Product Support, Service Outages and Maintenance -> technical; Billing and Payments, Customer Service, General Inquiry, Returns and Exchanges -> not")
	m, base := techMetrics(rows, false), techMetrics(rows, true)
	printTechTable(out, m, base)
	var langs []string
	for l := range byLang {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	var parts []string
	for _, l := range langs {
		parts = append(parts, fmt.Sprintf("%s %d/%d", l, byLang[l][0], byLang[l][1]))
	}
	fmt.Fprintf(out, "by language (model right/total): %s; needs triage: %d\n", strings.Join(parts, ", "), m.needsTriage)
	fmt.Fprintln(out, "(no severity or component here: the sample's priorities and queues are another product's)")
	return nil
}

// evalDevStorms groups the development tickets into incidents as the
// router would, from their cross-validated decisions. They carry no logs,
// so the component and a quoted error code stand for the symptom.
func evalDevStorms(out io.Writer, examples []router.Example, ds []router.Decision) {
	items := make([]router.Routed, len(examples))
	label := map[string]string{}
	for i, e := range examples {
		// The enricher attaches what it extracts from the text (error
		// codes among it) even when it finds no logs.
		enr := e.Enrichment
		enr.Evidence = logsearch.Evidence(extract.Extract(extract.Input{Subject: e.Ticket.Subject, Description: e.Ticket.Description,
			Language: e.Ticket.Language, SubmittedAt: e.Ticket.SubmittedAt, TenantID: e.Ticket.TenantID}))
		items[i] = router.Routed{Ticket: e.Ticket, Enrichment: enr, Routing: ds[i].Routing}
		label[e.ID] = e.Incident
	}
	evalStorms(out, "the development tickets (no logs: by component and quoted error code)", items, label)
}

// evalStorms groups routed tickets into incidents as the router does as
// they arrive, and scores the incidents of several tickets against the
// labelled storms (label: ticket id → storm, "" for none).
func evalStorms(out io.Writer, what string, items []router.Routed, label map[string]string) {
	cfg := router.DefaultIncidentConfig()
	storms := map[string]int{}
	for _, storm := range label {
		if storm != "" {
			storms[storm]++
		}
	}
	// One P1 ticket opens an incident on its own; storms are the groups.
	var groups []events.Incident
	singles := 0
	for _, inc := range router.GroupTickets(items, cfg) {
		switch {
		case !inc.Open:
		case inc.Count > 1:
			groups = append(groups, inc)
		default:
			singles++
		}
	}
	p := scoreGrouping(groups, label, storms)
	fmt.Fprintf(out, "storms on %s, window %s (%s for a signature), threshold %d or one P1: %d labelled storms (%d tickets); %d incidents of several tickets holding %d tickets, and %d single P1 tickets opened as incidents\n",
		what, cfg.Window, cfg.SignatureWindow, cfg.Threshold, len(storms), p.stormTickets, len(groups), p.grouped, singles)
	fmt.Fprintf(out, "storm grouping: purity %.3f (share of grouped tickets in an incident whose majority storm is theirs), completeness %.3f (mean share of a storm's tickets in its largest incident); %d tickets of no storm grouped with others\n",
		p.purity, p.completeness, p.strays)
	// Where each storm's tickets went: which incidents split it, and how
	// many were left out of every incident of several tickets.
	first, last := map[string]time.Time{}, map[string]time.Time{}
	for _, it := range items {
		storm, at := label[it.Ticket.ID], it.Ticket.SubmittedAt
		if f, ok := first[storm]; !ok || at.Before(f) {
			first[storm] = at
		}
		if at.After(last[storm]) {
			last[storm] = at
		}
	}
	for _, storm := range slices.Sorted(maps.Keys(storms)) {
		var parts []string
		in := 0
		for _, inc := range groups {
			n := 0
			for _, id := range inc.Tickets {
				if label[id] == storm {
					n++
				}
			}
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%d (%s)", n, inc.Key))
				in += n
			}
		}
		fmt.Fprintf(out, "  storm %s: %d tickets over %s; in incidents: %s; in none: %d\n", storm, storms[storm],
			last[storm].Sub(first[storm]).Round(time.Minute), cmp.Or(strings.Join(parts, ", "), "-"), storms[storm]-in)
	}
}

type groupingScore struct {
	purity, completeness          float64
	grouped, stormTickets, strays int
}

// scoreGrouping compares incidents with labelled storms (label maps ticket
// to storm, "" for none; storms counts each storm's tickets).
func scoreGrouping(incs []events.Incident, label map[string]string, storms map[string]int) groupingScore {
	var sc groupingScore
	best := map[string]int{} // storm → its tickets in its largest incident
	pure := 0
	for _, inc := range incs {
		counts := map[string]int{}
		for _, id := range inc.Tickets {
			counts[label[id]]++
		}
		major := 0
		for storm, n := range counts {
			if storm != "" {
				major = max(major, n)
				best[storm] = max(best[storm], n)
			}
		}
		pure += major
		sc.grouped += len(inc.Tickets)
		sc.strays += counts[""]
	}
	sc.purity = ratio(pure, sc.grouped)
	for storm, n := range storms {
		sc.stormTickets += n
		sc.completeness += ratio(best[storm], n) / float64(len(storms))
	}
	return sc
}
