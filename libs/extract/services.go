package extract

// serviceTerms maps words customers use to the demo world's services. ASCII
// terms match as whole words; Japanese terms anywhere.
var serviceTerms = map[string]string{
	"order-api": "order-api", "order api": "order-api", "order": "order-api", "orders": "order-api",
	"ordering": "order-api", "注文": "order-api", "オーダー": "order-api",
	// Receipts and loyalty points are order-api's work in the demo world.
	"receipt": "order-api", "receipts": "order-api", "レシート": "order-api", "領収": "order-api",
	"loyalty": "order-api", "points": "order-api", "ポイント": "order-api", "会員": "order-api",

	"payment-gateway": "payment-gateway", "payment gateway": "payment-gateway", "payment": "payment-gateway",
	"payments": "payment-gateway", "pay": "payment-gateway", "checkout": "payment-gateway",
	"card": "payment-gateway", "credit card": "payment-gateway", "card reader": "payment-gateway",
	"refund": "payment-gateway", "決済": "payment-gateway", "支払": "payment-gateway",
	"会計": "payment-gateway", "クレジット": "payment-gateway", "返金": "payment-gateway",

	"printer-bridge": "printer-bridge", "printer bridge": "printer-bridge", "printer": "printer-bridge",
	"printers": "printer-bridge", "print": "printer-bridge", "printing": "printer-bridge",
	"prints": "printer-bridge", "プリンター": "printer-bridge", "プリンタ": "printer-bridge",
	"印刷": "printer-bridge", "印字": "printer-bridge",

	"menu-sync": "menu-sync", "menu sync": "menu-sync", "menu": "menu-sync", "menus": "menu-sync",
	"メニュー": "menu-sync",

	"auth": "auth", "login": "auth", "log in": "auth", "logged out": "auth", "sign in": "auth",
	"password": "auth", "authentication": "auth", "ログイン": "auth", "ログアウト": "auth",
	"認証": "auth", "パスワード": "auth",
}

// serviceMatcher finds service words in a field.
type serviceMatcher struct {
	ascii, japanese literalSet
}

func newServiceMatcher() serviceMatcher {
	var ascii, ja []string
	for term := range serviceTerms {
		if isASCIIString(term) {
			ascii = append(ascii, term)
		} else {
			ja = append(ja, term)
		}
	}
	return serviceMatcher{ascii: newLiteralSet(ascii, true), japanese: newLiteralSet(ja, false)}
}

// scan returns one find per service word; the collector keeps the first per
// service. Service words claim nothing: they stay keywords too.
func (sm serviceMatcher) scan(f *field) []found {
	var out []found
	for _, ls := range []literalSet{sm.ascii, sm.japanese} {
		for _, m := range ls.find(f.lower) {
			term := f.lower[m[0]:m[1]]
			if !f.free(m[0], m[1]) {
				continue
			}
			// "in order to", "out of order" say nothing about orders.
			if term == "order" {
				before := tail(f.lower, m[0], 3)
				if before == "in " || before == "of " {
					continue
				}
			}
			out = append(out, found{kind: KindService, value: serviceTerms[term], start: m[0], end: m[1]})
		}
	}
	return out
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
