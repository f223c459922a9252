package extract

import (
	"strings"
	"testing"
)

func BenchmarkExtract(b *testing.B) {
	hostileUnit := "19:05 rst-0042 7c9e6679-7425-40de-944b-e07fc1f90ae7 昨日の夜 HTTP 503 "
	cases := []struct {
		name string
		in   Input
	}{
		{"ja", Input{
			Subject:  "決済ができない（PAY-1042）",
			TenantID: "rst-0042",
			Description: "いつもお世話になっております。昨日の夜7時頃から、タブレット tab-1a2b3c で決済がエラーになります。" +
				"エラーコード PAY-1042、HTTP 503 が表示されます。注文番号 ord_2611221053 です。" +
				"リクエストID：7c9e6679-7425-40de-944b-e07fc1f90ae7。至急ご確認をお願いします。",
		}},
		{"en", Input{
			Subject:  "Kitchen printer not printing",
			TenantID: "rst-0042",
			Description: "Hi team, since around 7pm yesterday our kitchen printer prn-9f00aa stopped printing orders. " +
				"The tablet shows error code PRN-2001 and sometimes 503 Service Unavailable. App version v4.12.3. " +
				"Order ord_2611221053 never printed. Please help, dinner service is a mess.",
		}},
		{"hostile-64KiB", Input{Description: strings.Repeat(hostileUnit, (64<<10)/len(hostileUnit)+1)}},
	}
	for _, c := range cases {
		c.in.SubmittedAt = morning
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(min(len(c.in.Description), 64<<10) + len(c.in.Subject)))
			b.ReportAllocs()
			for b.Loop() {
				Extract(c.in)
			}
		})
	}
}
