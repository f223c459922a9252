package extract

import (
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // America/Los_Angeles on machines without zoneinfo
	"unicode/utf8"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

// Reference submission times: a Sunday morning and the same evening, Tokyo.
var (
	jst     = tokyo()
	morning = time.Date(2026, 11, 22, 10, 30, 0, 0, jst)
	evening = time.Date(2026, 11, 22, 21, 0, 0, 0, jst)
)

// at parses "2006-01-02 15:04" in loc.
func at(tb testing.TB, loc *time.Location, s string) time.Time {
	tb.Helper()
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		tb.Fatalf("bad test time %q: %v", s, err)
	}
	return t
}

type itemWant struct {
	kind  Kind
	value string // "" in not: no item of this kind at all
	text  string // "" = not checked
}

type extractCase struct {
	name string
	in   Input
	want []itemWant
	not  []itemWant
	// from and to ("2006-01-02 15:04" in the case's zone) check the window
	// when set.
	from, to string
	prec     Precision
	lang     string
}

func desc(s string) Input { return Input{Description: s} }

func TestExtract(t *testing.T) {
	const uuidUpper = "7C9E6679-7425-40DE-944B-E07FC1F90AE7"
	const uuid = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}

	cases := []extractCase{
		// Identifiers.
		{name: "ja ids in Japanese punctuation",
			in: desc("店舗rst-0042のユーザーusr-104233。「ord_2611221053」、端末（tab-1a2b3c）とプリンタprn-9f00aaで失敗。"),
			want: []itemWant{{KindTenant, "rst-0042", "rst-0042"}, {KindUser, "usr-104233", ""},
				{KindOrderID, "ord_2611221053", "ord_2611221053"}, {KindDeviceID, "tab-1a2b3c", ""},
				{KindDeviceID, "prn-9f00aa", ""}},
			lang: "ja"},
		{name: "full-width error code and tenant",
			in:   desc("ＰＡＹ－１０４２　が　ｒｓｔ－００４２　で出ます"),
			want: []itemWant{{KindErrorCode, "PAY-1042", "ＰＡＹ－１０４２"}, {KindTenant, "rst-0042", "ｒｓｔ－００４２"}, {KindService, "payment-gateway", ""}}},
		{name: "long vowel mark typed for a hyphen",
			in:   desc("PAYー1042 がプリンターに出る"),
			want: []itemWant{{KindErrorCode, "PAY-1042", "PAYー1042"}, {KindService, "printer-bridge", "プリンター"}}},
		{name: "bare upper-case uuid is a generic id",
			in:   desc("the id was " + uuidUpper + "."),
			want: []itemWant{{KindID, uuid, uuidUpper}},
			not:  []itemWant{{KindRequestID, "", ""}}},
		{name: "ja request id label with full-width colon",
			in:   desc("リクエストＩＤ：「" + uuidUpper + "」"),
			want: []itemWant{{KindRequestID, uuid, uuidUpper}}},
		{name: "en request id header",
			in:   desc("x-request-id: " + uuid),
			want: []itemWant{{KindRequestID, uuid, ""}}},
		{name: "32 hex is a trace id, 16 hex span id is not",
			in:   desc("trace " + strings.ToUpper(trace) + " span 00f067aa0ba902b7"),
			want: []itemWant{{KindTraceID, trace, ""}, {KindID, "00f067aa0ba902b7", ""}},
			not:  []itemWant{{KindTraceID, "00f067aa0ba902b7", ""}}},
		{name: "traceparent header",
			in:   desc("traceparent: 00-" + trace + "-00f067aa0ba902b7-01"),
			want: []itemWant{{KindTraceID, trace, trace}, {KindID, "00f067aa0ba902b7", ""}}},
		{name: "http status forms",
			in: desc("HTTP 503 と 502 Bad Gateway、ステータス504、HTTPステータスコードは429、error 500"),
			want: []itemWant{{KindHTTPStatus, "503", "HTTP 503"}, {KindHTTPStatus, "502", "502 Bad Gateway"},
				{KindHTTPStatus, "504", "ステータス504"}, {KindHTTPStatus, "429", ""}, {KindHTTPStatus, "500", "error 500"}}},
		{name: "503 Service Unavailable",
			in:   desc("The tablet said 503 Service Unavailable again"),
			want: []itemWant{{KindHTTPStatus, "503", "503 Service Unavailable"}}},
		{name: "error code forms",
			in: desc("エラーコード PAY-1042、error code: ORD-5002 (MENU-3003) auth-4011 and prn-2001"),
			want: []itemWant{{KindErrorCode, "PAY-1042", "PAY-1042"}, {KindErrorCode, "ORD-5002", ""},
				{KindErrorCode, "MENU-3003", ""}, {KindErrorCode, "AUTH-4011", "auth-4011"}, {KindErrorCode, "PRN-2001", ""},
				{KindService, "order-api", ""}, {KindService, "menu-sync", ""}, {KindService, "auth", ""}},
			not: []itemWant{{KindDeviceID, "", ""}}},
		{name: "unknown prefix needs an error-code label",
			in:   desc("error code: CUST-0042. Dates follow ISO-8601 and RFC-3339."),
			want: []itemWant{{KindErrorCode, "CUST-0042", ""}},
			not:  []itemWant{{KindErrorCode, "ISO-8601", ""}, {KindErrorCode, "RFC-3339", ""}}},
		{name: "a year is not an http status",
			in:  desc("2026年11月から、in 2026 the HTTP client and status page"),
			not: []itemWant{{KindHTTPStatus, "", ""}, {KindErrorCode, "", ""}}},
		{name: "phone numbers are not order ids",
			in:  desc("お電話は 03-1234-5678 か 0312345678、携帯 090-1234-5678 まで。注文の件です"),
			not: []itemWant{{KindOrderID, "", ""}, {KindID, "", ""}, {KindHTTPStatus, "", ""}, {KindErrorCode, "", ""}}},
		{name: "bare order number after a label",
			in:   desc("注文番号：2611221053 / order # 2611221054"),
			want: []itemWant{{KindOrderID, "ord_2611221053", "2611221053"}, {KindOrderID, "ord_2611221054", ""}}},
		{name: "a time is not an id",
			in:   desc("19:05 に止まった"),
			want: []itemWant{{KindTime, "", "19:05"}},
			not:  []itemWant{{KindID, "", ""}, {KindHTTPStatus, "", ""}, {KindOrderID, "", ""}, {KindErrorCode, "", ""}}},
		{name: "card number is not a hex id",
			in:  desc("card 4111111111111111 declined"),
			not: []itemWant{{KindID, "", ""}, {KindTraceID, "", ""}}},
		{name: "app versions",
			in:   desc("アプリのバージョンは4.12.3、tablet on V4.12.4; router version 192.168.1.10"),
			want: []itemWant{{KindAppVersion, "v4.12.3", ""}, {KindAppVersion, "v4.12.4", "V4.12.4"}},
			not:  []itemWant{{KindAppVersion, "v192.168.1", ""}}},
		{name: "another product's version is not the app's",
			in:  desc("screen sharing fails in Zoom version 5.11.0 and iOSのバージョン17.1.2"),
			not: []itemWant{{KindAppVersion, "", ""}}},
		{name: "service words",
			in: desc("決済とメニューの同期、printer-bridge and login, in order to fix"),
			want: []itemWant{{KindService, "payment-gateway", "決済"}, {KindService, "menu-sync", "メニュー"},
				{KindService, "printer-bridge", "printer-bridge"}, {KindService, "auth", "login"}},
			not: []itemWant{{KindService, "order-api", ""}}},
		{name: "structured fields",
			in: Input{TenantID: " rst-0042 ", Identifiers: map[string][]string{
				"request_ids": {" " + uuidUpper + " "}, "trace_ids": {trace}, "order_ids": {"ord_2611221053"},
				"user_ids": {"usr-104233"}, "device_ids": {"prn-9f00aa"}}},
			want: []itemWant{{KindTenant, "rst-0042", "rst-0042"}, {KindRequestID, uuid, uuidUpper},
				{KindTraceID, trace, ""}, {KindOrderID, "ord_2611221053", ""}, {KindUser, "usr-104233", ""},
				{KindDeviceID, "prn-9f00aa", ""}}},
		{name: "bare numbers in the form's order and user fields",
			in:   Input{Identifiers: map[string][]string{"order_ids": {" 2611221053 "}, "user_ids": {"１０４２３３"}}},
			want: []itemWant{{KindOrderID, "ord_2611221053", "2611221053"}, {KindUser, "usr-104233", "１０４２３３"}}},
		{name: "tenant field in another format is kept",
			in:   Input{TenantID: "Tenant-A"},
			want: []itemWant{{KindTenant, "Tenant-A", "Tenant-A"}}},
		{name: "duplicates collapse",
			in:   desc("usr-104233 again USR-104233 and usr-104233"),
			want: []itemWant{{KindUser, "usr-104233", "usr-104233"}}},

		// Japanese times (submitted Sunday 10:30 unless said).
		{name: "ja 19:05頃から runs to submission", in: desc("19:05頃から決済エラー"),
			from: "2026-11-21 18:50", to: "2026-11-22 10:30", prec: PrecisionMinute},
		{name: "ja 19:05頃 ahead of submission means yesterday", in: desc("19:05頃に決済エラー"),
			from: "2026-11-21 18:50", to: "2026-11-21 19:20", prec: PrecisionMinute},
		{name: "ja full-width digits", in: desc("１９：０５頃に決済エラー"),
			want: []itemWant{{KindTime, "", "１９：０５頃"}},
			from: "2026-11-21 18:50", to: "2026-11-21 19:20", prec: PrecisionMinute},
		{name: "ja 19時5分ごろ", in: desc("19時5分ごろ印刷されない"),
			from: "2026-11-21 18:50", to: "2026-11-21 19:20", prec: PrecisionMinute},
		{name: "ja 19時ごろ", in: desc("19時ごろ印刷されない"),
			from: "2026-11-21 18:15", to: "2026-11-21 19:45", prec: PrecisionHour},
		{name: "ja 午後7時", in: desc("午後7時に注文が通らない"),
			from: "2026-11-21 18:15", to: "2026-11-21 19:45", prec: PrecisionHour},
		{name: "ja 今朝", in: desc("今朝レジが動かない"),
			from: "2026-11-22 06:00", to: "2026-11-22 10:35", prec: PrecisionPartOfDay},
		{name: "ja 朝", in: desc("朝は動いていた"),
			from: "2026-11-22 06:00", to: "2026-11-22 10:35", prec: PrecisionPartOfDay},
		{name: "ja 昼 before lunch means yesterday's", in: desc("昼に落ちた"),
			from: "2026-11-21 11:00", to: "2026-11-21 14:00", prec: PrecisionPartOfDay},
		{name: "ja ランチ in the evening", in: Input{Description: "ランチの時間に落ちた", SubmittedAt: evening},
			from: "2026-11-22 11:00", to: "2026-11-22 14:00", prec: PrecisionPartOfDay},
		{name: "ja 夕方", in: Input{Description: "夕方から遅い", SubmittedAt: evening},
			from: "2026-11-22 17:00", to: "2026-11-22 21:00", prec: PrecisionPartOfDay},
		{name: "ja 夜 in the morning is last night", in: desc("夜に落ちた"),
			from: "2026-11-21 18:00", to: "2026-11-22 06:00", prec: PrecisionPartOfDay},
		{name: "ja ディナー", in: Input{Description: "ディナーで決済できない", SubmittedAt: evening},
			from: "2026-11-22 17:00", to: "2026-11-22 21:05", prec: PrecisionPartOfDay},
		{name: "ja 昨日の夜", in: desc("昨日の夜、伝票が出ない"),
			from: "2026-11-21 18:00", to: "2026-11-22 06:00", prec: PrecisionPartOfDay},
		{name: "ja 昨夜", in: desc("昨夜、伝票が出ない"),
			from: "2026-11-21 18:00", to: "2026-11-22 06:00", prec: PrecisionPartOfDay},
		{name: "ja 昨日", in: desc("昨日ずっと遅い"),
			from: "2026-11-21 00:00", to: "2026-11-22 00:00", prec: PrecisionDay},
		{name: "ja 一昨日", in: desc("一昨日から"),
			from: "2026-11-20 00:00", to: "2026-11-22 10:30", prec: PrecisionDay},
		{name: "ja 今日", in: desc("今日はずっと"),
			from: "2026-11-22 00:00", to: "2026-11-22 10:35", prec: PrecisionDay},
		{name: "ja さっき", in: desc("さっき落ちました"),
			from: "2026-11-22 09:30", to: "2026-11-22 10:30", prec: PrecisionRecent},
		{name: "ja つい先ほど", in: desc("つい先ほど落ちました"),
			from: "2026-11-22 09:30", to: "2026-11-22 10:30", prec: PrecisionRecent},
		{name: "ja 10分前", in: desc("10分前に落ちました"),
			from: "2026-11-22 10:05", to: "2026-11-22 10:35", prec: PrecisionMinute},
		{name: "ja 1時間前", in: desc("1時間前に落ちました"),
			from: "2026-11-22 08:45", to: "2026-11-22 10:15", prec: PrecisionHour},
		{name: "ja 30分ほど前", in: desc("30分ほど前に落ちました"),
			from: "2026-11-22 09:45", to: "2026-11-22 10:15", prec: PrecisionMinute},
		{name: "ja 11月21日 19時", in: desc("11月21日　19時に障害"),
			want: []itemWant{{KindTime, "", "11月21日　19時"}},
			from: "2026-11-21 18:15", to: "2026-11-21 19:45", prec: PrecisionHour},
		{name: "ja 11/21 19:05", in: desc("11/21(土) 19:05 に障害"),
			from: "2026-11-21 18:50", to: "2026-11-21 19:20", prec: PrecisionMinute},
		{name: "ja range 19時〜20時", in: desc("19時〜20時に注文が落ちる"),
			from: "2026-11-21 18:15", to: "2026-11-21 20:45", prec: PrecisionHour},
		{name: "ja 昨日の夜7時頃から runs to submission", in: desc("昨日の夜7時頃から決済ができない"),
			from: "2026-11-21 18:15", to: "2026-11-22 10:30", prec: PrecisionHour},
		{name: "ja 夕方6時", in: desc("夕方6時に決済が止まった"),
			from: "2026-11-21 17:15", to: "2026-11-21 18:45", prec: PrecisionHour},
		{name: "ja 夜中の2時 is early this morning", in: desc("夜中の2時にプリンターが止まった"),
			from: "2026-11-22 01:15", to: "2026-11-22 02:45", prec: PrecisionHour},
		{name: "ja 正午", in: Input{Description: "正午ごろ注文が入らない", SubmittedAt: evening},
			from: "2026-11-22 11:15", to: "2026-11-22 12:45", prec: PrecisionHour},
		{name: "ja 19時台", in: desc("19時台に集中"),
			from: "2026-11-21 19:00", to: "2026-11-21 20:00", prec: PrecisionHour},

		// English times.
		{name: "en around 7pm", in: desc("Around 7pm the printer stopped"),
			from: "2026-11-21 18:15", to: "2026-11-21 19:45", prec: PrecisionHour, lang: "en"},
		{name: "en at 19:05", in: desc("it failed at 19:05"),
			from: "2026-11-21 18:50", to: "2026-11-21 19:20", prec: PrecisionMinute},
		{name: "en 7:05 pm", in: desc("at 7:05 pm a card was declined"),
			want: []itemWant{{KindTime, "", "7:05 pm"}},
			from: "2026-11-21 18:50", to: "2026-11-21 19:20", prec: PrecisionMinute},
		{name: "en this morning", in: desc("this morning the menu did not sync"),
			from: "2026-11-22 06:00", to: "2026-11-22 10:35", prec: PrecisionPartOfDay},
		{name: "en at lunch", in: Input{Description: "at lunch the tablets froze", SubmittedAt: evening},
			from: "2026-11-22 11:00", to: "2026-11-22 14:00", prec: PrecisionPartOfDay},
		{name: "en this evening", in: Input{Description: "this evening payments fail", SubmittedAt: evening},
			from: "2026-11-22 17:00", to: "2026-11-22 21:05", prec: PrecisionPartOfDay},
		{name: "en tonight", in: Input{Description: "tonight payments fail", SubmittedAt: evening},
			from: "2026-11-22 18:00", to: "2026-11-22 21:05", prec: PrecisionPartOfDay},
		{name: "en last night", in: desc("last night nothing printed"),
			from: "2026-11-21 18:00", to: "2026-11-22 06:00", prec: PrecisionPartOfDay},
		{name: "en yesterday", in: desc("yesterday the orders were slow"),
			from: "2026-11-21 00:00", to: "2026-11-22 00:00", prec: PrecisionDay},
		{name: "en yesterday evening", in: desc("yesterday evening the card reader failed"),
			from: "2026-11-21 17:00", to: "2026-11-21 22:00", prec: PrecisionPartOfDay},
		{name: "en 10 minutes ago", in: desc("10 minutes ago it crashed"),
			from: "2026-11-22 10:05", to: "2026-11-22 10:35", prec: PrecisionMinute},
		{name: "en an hour ago", in: desc("an hour ago it crashed"),
			from: "2026-11-22 08:45", to: "2026-11-22 10:15", prec: PrecisionHour},
		{name: "en just now", in: desc("it crashed just now"),
			from: "2026-11-22 09:30", to: "2026-11-22 10:30", prec: PrecisionRecent},
		{name: "en earlier today", in: desc("earlier today it crashed"),
			from: "2026-11-22 00:00", to: "2026-11-22 10:35", prec: PrecisionDay},
		{name: "en Nov 21 at 7pm", in: desc("On Nov 21 at 7pm every payment failed"),
			want: []itemWant{{KindTime, "", "Nov 21 at 7pm"}},
			from: "2026-11-21 18:15", to: "2026-11-21 19:45", prec: PrecisionHour},
		{name: "en ISO-8601 with offset", in: desc("logs from 2026-11-21T19:05:00+09:00 show it"),
			from: "2026-11-21 18:50", to: "2026-11-21 19:20", prec: PrecisionExact},
		{name: "ISO-8601 in UTC", in: desc("2026-11-21T10:05:00Z"),
			from: "2026-11-21 18:50", to: "2026-11-21 19:20", prec: PrecisionExact},
		{name: "en 23:00 submitted in the morning is yesterday", in: desc("at 23:00 the tablet froze"),
			from: "2026-11-21 22:45", to: "2026-11-21 23:15", prec: PrecisionMinute},
		{name: "en 7:05 without am/pm is the latest past reading (morning)", in: desc("at 7:05 it froze"),
			from: "2026-11-22 06:50", to: "2026-11-22 07:20", prec: PrecisionMinute},
		{name: "en 7:05 without am/pm is the latest past reading (evening)", in: Input{Description: "at 7:05 it froze", SubmittedAt: evening},
			from: "2026-11-22 18:50", to: "2026-11-22 19:20", prec: PrecisionMinute},
		{name: "en between 7pm and 8pm", in: desc("between 7pm and 8pm orders vanished"),
			from: "2026-11-21 18:15", to: "2026-11-21 20:45", prec: PrecisionHour},
		{name: "most precise mention wins", in: desc("昨日からおかしい。19:05頃に完全に止まった"),
			from: "2026-11-21 18:50", to: "2026-11-21 19:20", prec: PrecisionMinute},
		{name: "tenant zone Los Angeles", in: Input{Description: "around 7pm yesterday",
			SubmittedAt: time.Date(2026, 11, 22, 10, 30, 0, 0, la), Location: la},
			from: "2026-11-21 18:15", to: "2026-11-21 19:45", prec: PrecisionHour},
		{name: "occurred_at wins but text times stay", in: Input{Description: "19:05頃に止まった",
			OccurredAt: ptr(time.Date(2026, 11, 22, 8, 0, 0, 0, jst))},
			want: []itemWant{{KindTime, "", "19:05頃"}, {KindTime, "2026-11-22T07:45:00+09:00/2026-11-22T08:15:00+09:00", ""}},
			from: "2026-11-22 07:45", to: "2026-11-22 08:15", prec: PrecisionExact},
		{name: "occurred_at in the future is ignored", in: Input{Description: "19:05頃に止まった",
			OccurredAt: ptr(morning.Add(3 * time.Hour))},
			from: "2026-11-21 18:50", to: "2026-11-21 19:20", prec: PrecisionMinute},
		{name: "nothing found: two hours before submission", in: desc("The printer is broken."),
			from: "2026-11-22 08:30", to: "2026-11-22 10:30", prec: PrecisionDefault},

		// Time false positives.
		{name: "dish names and greetings are not times", in: desc("Good morning. ランチメニューが反映されない, dinner menu too"),
			not: []itemWant{{KindTime, "", ""}}, prec: PrecisionDefault},
		{name: "24時間 is a duration", in: desc("24時間営業の店舗です"),
			not: []itemWant{{KindTime, "", ""}}, prec: PrecisionDefault},
		{name: "a future dated year is ignored", in: desc("2027-01-01 に予約"),
			prec: PrecisionDefault},
		{name: "a fraction is not a recent date", in: desc("1/2 of the orders failed"),
			prec: PrecisionDefault},
		{name: "tonight said in the morning is not a window", in: desc("tonight we need the printer"),
			prec: PrecisionDefault},

		// Hostile input.
		{name: "query syntax stays text", in: desc(`tenant:* OR 1=1 {"query":{"match_all":{}}} AND labels.tenant_id:rst-*`),
			not: []itemWant{{KindTenant, "", ""}}, prec: PrecisionDefault},
		{name: "control characters and invalid UTF-8", in: desc("\x00\x07\x1b[31m usr-104233\xff\xfe\u200bprn-9F00AA\r\n"),
			want: []itemWant{{KindUser, "usr-104233", "usr-104233"}, {KindDeviceID, "prn-9f00aa", "prn-9F00AA"}}},
		{name: "detected English", in: desc("Printer down"), lang: "en"},
		{name: "given language wins", in: Input{Description: "Printer down", Language: "ja-JP"}, lang: "ja"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.SubmittedAt.IsZero() {
				in.SubmittedAt = morning
			}
			loc := in.Location
			if loc == nil {
				loc = jst
			}
			res := Extract(in)
			checkInvariants(t, in, res)
			for _, w := range tc.want {
				if !hasItem(res, w) {
					t.Errorf("missing %s %q (text %q); got %s", w.kind, w.value, w.text, dumpItems(res))
				}
			}
			for _, w := range tc.not {
				if hasItem(res, w) {
					t.Errorf("unexpected %s %q; got %s", w.kind, w.value, dumpItems(res))
				}
			}
			if tc.from != "" {
				if want := at(t, loc, tc.from); !res.Window.From.Equal(want) {
					t.Errorf("window from %s, want %s (%s)", res.Window.From, want, res.Window.Reason)
				}
				if want := at(t, loc, tc.to); !res.Window.To.Equal(want) {
					t.Errorf("window to %s, want %s (%s)", res.Window.To, want, res.Window.Reason)
				}
			}
			if tc.prec != "" && res.Window.Precision != tc.prec {
				t.Errorf("precision %s, want %s (%s)", res.Window.Precision, tc.prec, res.Window.Reason)
			}
			if tc.lang != "" && res.Language != tc.lang {
				t.Errorf("language %s, want %s", res.Language, tc.lang)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func hasItem(res Result, w itemWant) bool {
	for _, it := range res.Items {
		if it.Kind == w.kind && (w.value == "" || it.Value == w.value) && (w.text == "" || it.Source.Text == w.text) {
			return true
		}
	}
	return false
}

func dumpItems(res Result) string {
	var b strings.Builder
	for _, it := range res.Items {
		fmt.Fprintf(&b, "\n  %s %q from %s[%d:%d] %q", it.Kind, it.Value, it.Source.Field, it.Source.Start, it.Source.End, it.Source.Text)
	}
	return b.String()
}

// fieldText returns the original text an item's Source points into.
func fieldText(in Input, src Source) (string, bool) {
	switch {
	case src.Field == FieldSubject:
		return in.Subject, true
	case src.Field == FieldDescription:
		return in.Description, true
	case src.Field == FieldTenantID:
		return in.TenantID, true
	case strings.HasPrefix(src.Field, FieldIdentifiersPrefix):
		vs := in.Identifiers[strings.TrimPrefix(src.Field, FieldIdentifiersPrefix)]
		if src.Index < 0 || src.Index >= len(vs) {
			return "", false
		}
		return vs[src.Index], true
	}
	return "", false
}

// checkInvariants holds for every input: offsets slice back to the matched
// text, the window is ordered and never beyond submission plus five
// minutes, keywords are bounded, values are normalised.
func checkInvariants(tb testing.TB, in Input, res Result) {
	tb.Helper()
	for _, it := range res.Items {
		src := it.Source
		if src.Field == FieldOccurredAt {
			continue
		}
		text, ok := fieldText(in, src)
		if !ok {
			tb.Fatalf("item %s %q has unknown source %+v", it.Kind, it.Value, src)
		}
		if src.Start < 0 || src.End > len(text) || src.Start >= src.End {
			tb.Fatalf("item %s %q offsets [%d:%d] out of bounds of %d bytes", it.Kind, it.Value, src.Start, src.End, len(text))
		}
		if text[src.Start:src.End] != src.Text {
			tb.Fatalf("item %s %q: field[%d:%d] = %q, Text %q", it.Kind, it.Value, src.Start, src.End, text[src.Start:src.End], src.Text)
		}
		switch it.Kind {
		case KindRequestID, KindTraceID, KindID, KindOrderID, KindUser, KindDeviceID:
			if it.Value != strings.ToLower(it.Value) {
				tb.Errorf("%s %q not lower-case", it.Kind, it.Value)
			}
		case KindErrorCode:
			if it.Value != strings.ToUpper(it.Value) {
				tb.Errorf("error code %q not upper-case", it.Value)
			}
		}
	}
	limit := in.SubmittedAt.Add(5 * time.Minute)
	if in.SubmittedAt.IsZero() {
		limit = time.Now().Add(5 * time.Minute)
	}
	w := res.Window
	if !w.From.Before(w.To) || w.To.After(limit) {
		tb.Fatalf("window [%s, %s] not ordered or beyond %s (%s)", w.From, w.To, limit, w.Reason)
	}
	if w.Reason == "" {
		tb.Errorf("window without a reason")
	}
	if len(res.Keywords) > 12 {
		tb.Errorf("%d keywords, want at most 12", len(res.Keywords))
	}
	seen := map[string]bool{}
	for _, k := range res.Keywords {
		if len(k) == 0 || len(k) > 64 || seen[k] || !utf8.ValidString(k) {
			tb.Errorf("bad keyword %q (empty, over 64 bytes, repeated or invalid)", k)
		}
		seen[k] = true
	}
	if res.Language != "ja" && res.Language != "en" {
		tb.Errorf("language %q", res.Language)
	}
}
