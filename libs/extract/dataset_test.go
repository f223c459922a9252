package extract

import (
	"encoding/csv"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// TestRealTicketsHaveNoDemoIDs runs the 45 public multilingual tickets
// (English, German, Spanish, French, Portuguese; none of the demo world's
// ids) through Extract: nothing may panic, offsets must hold, and none of
// the strict demo-world kinds may be invented from product names, version
// numbers, prices or dates in them.
func TestRealTicketsHaveNoDemoIDs(t *testing.T) {
	path := testkit.SharedPath(t, "datasets", "tickets", "customer_support_tickets_multilang_sample.csv")
	file, err := os.Open(path)
	if err != nil {
		t.Fatalf("open tickets: %v", err)
	}
	defer file.Close()
	rows, err := csv.NewReader(file).ReadAll()
	if err != nil {
		t.Fatalf("read tickets: %v", err)
	}
	if len(rows) < 2 || rows[0][0] != "subject" || rows[0][1] != "body" {
		t.Fatalf("unexpected header %v", rows[0])
	}
	strict := map[Kind]bool{KindTenant: true, KindUser: true, KindRequestID: true, KindTraceID: true,
		KindOrderID: true, KindDeviceID: true, KindErrorCode: true, KindAppVersion: true, KindID: true}
	var timed, withStatus int
	for i, row := range rows[1:] {
		in := Input{Subject: row[0], Description: row[1], SubmittedAt: morning}
		res := Extract(in)
		checkInvariants(t, in, res)
		if res.Language != "en" {
			t.Errorf("row %d: language %s for %s text", i+1, res.Language, row[6])
		}
		for _, it := range res.Items {
			if strict[it.Kind] {
				t.Errorf("row %d: invented %s %q from %q", i+1, it.Kind, it.Value, it.Source.Text)
			}
			if it.Kind == KindHTTPStatus {
				withStatus++
			}
		}
		if res.Window.Precision != PrecisionDefault {
			timed++
		}
	}
	t.Logf("%d tickets: %d with a time window from the text, %d HTTP statuses", len(rows)-1, timed, withStatus)
}

// TestPastedOpenStackLogs pastes the first 600 real OpenStack log lines
// (Loghub) into tickets, 20 lines each, as customers and staff do: every req-<uuid> must
// come out as a request id and every "status: NNN" as an HTTP status,
// checked against an independent reading of the same lines.
func TestPastedOpenStackLogs(t *testing.T) {
	path := testkit.SharedPath(t, "datasets", "loghub", "OpenStack", "OpenStack_2k.log")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read log: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	lines = lines[:min(600, len(lines))] // keeps the test fast under -race
	reqRe := regexp.MustCompile(`req-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`)
	statusRe := regexp.MustCompile(`status: ([0-9]{3})`)
	const perTicket = 20
	reqs, statuses := 0, 0
	for i := 0; i < len(lines); i += perTicket {
		paste := strings.Join(lines[i:min(i+perTicket, len(lines))], "\n")
		in := Input{Description: "ログを貼ります:\n" + paste, SubmittedAt: morning}
		res := Extract(in)
		checkInvariants(t, in, res)
		for _, m := range reqRe.FindAllStringSubmatch(paste, -1) {
			reqs++
			if !hasItem(res, itemWant{kind: KindRequestID, value: m[1]}) {
				t.Errorf("lines %d+: request id %s not found; got %s", i+1, m[1], dumpItems(res))
			}
		}
		for _, m := range statusRe.FindAllStringSubmatch(paste, -1) {
			statuses++
			if !hasItem(res, itemWant{kind: KindHTTPStatus, value: m[1]}) {
				t.Errorf("lines %d+: status %s not found; got %s", i+1, m[1], dumpItems(res))
			}
		}
	}
	if len(lines) < 600 || reqs < 500 || statuses < 250 {
		t.Fatalf("only %d lines, %d request ids, %d statuses checked", len(lines), reqs, statuses)
	}
	t.Logf("%d lines: %d request ids and %d statuses all found", len(lines), reqs, statuses)
}
