package extract

import (
	"strings"
	"testing"
	"time"
)

// FuzzExtract: any subject, description, tenant, identifier and submission
// time must not panic, and every offset must stay inside its field and slice
// back to the item's text (checkInvariants).
func FuzzExtract(f *testing.F) {
	seeds := []string{
		"昨日の夜7時頃から決済ができません。エラーコード PAY-1042、HTTP 503",
		"ＰＡＹ－１０４２「ord_2611221053」リクエストＩＤ：7C9E6679-7425-40DE-944B-E07FC1F90AE7（１９：０５頃）",
		"Around 7pm yesterday: 503 Service Unavailable (PRN-2001), v4.12.3, tab-1a2b3c",
		"between 7pm and 8pm / 19時〜20時 / 11/21(土) 19:05 / 2026-11-21T19:05:00+09:00",
		`tenant:* OR 1=1 {"query":{"match_all":{}}}`,
		"\x00\xff\xfe\u200bPAYー1042\u3000ー",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 since 7 p.m.",
	}
	for i, s := range seeds {
		f.Add(s, s[:len(s)/2], "rst-0042", "7c9e6679-7425-40de-944b-e07fc1f90ae7", int64(i)*7919)
	}
	base := time.Date(2026, 11, 22, 10, 30, 0, 0, jst)
	f.Fuzz(func(t *testing.T, description, subject, tenant, ident string, offsetMinutes int64) {
		in := Input{
			Subject:     subject,
			Description: description,
			TenantID:    tenant,
			Identifiers: map[string][]string{"request_ids": {ident}, "trace_ids": {strings.ToUpper(ident)}},
			SubmittedAt: base.Add(time.Duration(offsetMinutes%(2*366*24*60)) * time.Minute),
		}
		res := Extract(in)
		checkInvariants(t, in, res)
	})
}
