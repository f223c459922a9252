package extract

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Identifier patterns run on field.lower (folded, ASCII lower-cased), in
// this order: an earlier pattern claims its bytes, so a UUID's pieces never
// become hex ids and an order id's digits never become an HTTP status. RE2's
// \b is an ASCII word boundary, which also holds between an id and Japanese
// text or punctuation (「ord_2611221053」、).
var (
	traceparentRe = guarded(`\b00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}\b`, hasHexRun(32))
	uuidRe        = guarded(`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`, hasHexRun(12))
	hexRe         = guarded(`\b[0-9a-f]{16,64}\b`, hasHexRun(16))
	tenantRe      = pat(`\brst-[0-9]{4}\b`, "rst-")
	userRe        = pat(`\busr-[0-9]{6}\b`, "usr-")
	orderRe       = pat(`\bord_[0-9]{10}\b`, "ord_")
	deviceRe      = pat(`\b(?:tab|prn)-[0-9a-f]{6}\b`, "tab-", "prn-")
	// A bare ten-digit number is an order id only right after an order
	// label; a phone number (starting with 0) never is.
	orderCtxRe = pat(`(?:注文番号|注文id|注文no\.?|オーダー番号|オーダーid|\border\s*(?:id|no\.?|number|#)?)\s*[:#=]?\s*(?:は|が)?\s*#?([1-9][0-9]{9})\b`,
		"注文", "オーダー", "order")
	// Error codes: component prefix, optional hyphen, four digits.
	errorCodeRe = guarded(`\b([a-z]{2,6})([-_]?)([0-9]{4})\b`, hasDigitRun(4))
	// errorCtxRe ends where the code may start; it is matched against the text
	// just before an unknown prefix.
	errorCtxRe = regexp.MustCompile(`(?:error\s*code|エラーコード|エラー\s*code|\bcode|コード)\s*[:=は]?\s*[(（「"']?\s*$`)
	versionRes = []pattern{
		pat(`\bv([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,4})\b`, "v"),
		// Without the v, only after a label naming our app: "Zoom version
		// 5.11.0" or "iOSのバージョン17.1.2" is someone else's.
		pat(`(?:\b(?:app|application|pos)\s*(?:version|ver\.?)|アプリ(?:の)?(?:バージョン|ver\.?))\s*[:=]?\s*(?:は|が)?\s*v?([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,4})\b`, "ver", "バージョン"),
	}
	httpStatusRes = []pattern{
		// HTTP 503, HTTP/1.1 503, HTTP503, HTTPステータス503, http status code: 503
		pat(`\bhttps?\s*(?:/\s*[0-9](?:\.[0-9])?)?\s*(?:status(?:\s*code)?|ステータス(?:コード)?)?\s*[:=]?\s*(?:は|が)?\s*([1-5][0-9]{2})\b`, "http"),
		// status 503, ステータス503, ステータスコードは503
		pat(`(?:\bstatus(?:\s*code)?|ステータス(?:コード)?|レスポンスコード|応答コード)\s*[:=]?\s*(?:は|が)?\s*([1-5][0-9]{2})\b`,
			"status", "ステータス", "コード"),
		// error 503, エラー503, エラーコード 503 (client and server errors only)
		pat(`(?:\berror|エラー)\s*(?:code|コード)?\s*[:=]?\s*(?:は|が)?\s*([45][0-9]{2})\b`, "error", "エラー"),
		// 503 error, 503エラー; "500 errors" is a count, so the singular only
		pat(`\b([45][0-9]{2})\s*(?:error\b|エラー)`, "error", "エラー"),
	}
	// "503 Service Unavailable": the number then its standard reason phrase,
	// checked against net/http.StatusText.
	statusPhraseRe = guarded(`\b([1-5][0-9]{2})\s+([a-z]+(?: [a-z]+){0,3})`, hasDigitRun(3))
	requestCtxRe   = regexp.MustCompile(`(?:request|リクエスト|\breq)[\s_-]*(?:id)?\s*[:=]?\s*(?:は|が)?\s*[(（「"']?\s*$`)
)

// errorCodeServices maps the known prefixes to the service that emits them.
var errorCodeServices = map[string]string{
	"ORD":  "order-api",
	"PAY":  "payment-gateway",
	"PRN":  "printer-bridge",
	"MENU": "menu-sync",
	"AUTH": "auth",
	"CUS":  "order-api", // customer and loyalty data, served by order-api
}

// scanTenantField reads the ticket's tenant_id: the rst-NNNN inside it, or
// else the trimmed value itself when it is a plain token, since the form's
// tenant is authoritative even in another format.
func (e *Extractor) scanTenantField(f *field) []found {
	var out []found
	tenantRe.each(f, func(m []int) {
		if out == nil {
			out = []found{{kind: KindTenant, value: f.lower[m[0]:m[1]], start: m[0], end: m[1]}}
		}
	})
	if out != nil {
		return out
	}
	s := strings.TrimLeft(f.lower, " \t\r\n")
	start := len(f.lower) - len(s)
	s = strings.TrimRight(s, " \t\r\n")
	if s == "" || len(s) > 64 {
		return nil
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) && s[i] != '-' && s[i] != '.' {
			return nil
		}
	}
	// The value keeps its case: only the demo format is known to be lower.
	return []found{{kind: KindTenant, value: f.norm[start : start+len(s)], start: start, end: start + len(s)}}
}

// scanIdentifiers finds every identifier in f and claims its bytes.
func (e *Extractor) scanIdentifiers(f *field) []found {
	var out []found
	t := f.lower
	emit := func(k Kind, v string, s, end int) {
		out = append(out, found{kind: k, value: v, start: s, end: end})
	}

	traceparentRe.each(f, func(m []int) {
		if f.claim(m[0], m[1]) {
			if !allZero(t[m[2]:m[3]]) {
				emit(KindTraceID, t[m[2]:m[3]], m[2], m[3])
			}
			emit(KindID, t[m[4]:m[5]], m[4], m[5])
		}
	})
	uuidRe.each(f, func(m []int) {
		v := t[m[0]:m[1]]
		if allZero(strings.ReplaceAll(v, "-", "")) || !f.claim(m[0], m[1]) {
			return
		}
		kind := KindID
		if f.hint == KindRequestID || requestCtxRe.MatchString(tail(t, m[0], 40)) {
			kind = KindRequestID
		}
		emit(kind, v, m[0], m[1])
	})
	hexRe.each(f, func(m []int) {
		v := t[m[0]:m[1]]
		hinted := f.hint == KindTraceID && len(v) == 32
		// In free text a run of digits (a card or phone number) or of letters
		// (a word) is not an id: demand both.
		if allZero(v) || (!hinted && !hasLetterAndDigit(v)) || !f.claim(m[0], m[1]) {
			return
		}
		kind := KindID
		if len(v) == 32 {
			kind = KindTraceID
		}
		emit(kind, v, m[0], m[1])
	})
	simple := []struct {
		re   pattern
		kind Kind
	}{
		{tenantRe, KindTenant},
		{userRe, KindUser},
		{orderRe, KindOrderID},
		{deviceRe, KindDeviceID},
	}
	for _, p := range simple {
		p.re.each(f, func(m []int) {
			if f.claim(m[0], m[1]) {
				emit(p.kind, t[m[0]:m[1]], m[0], m[1])
			}
		})
	}
	orderCtxRe.each(f, func(m []int) {
		if f.claim(m[2], m[3]) {
			emit(KindOrderID, "ord_"+t[m[2]:m[3]], m[2], m[3])
		}
	})
	errorCodeRe.each(f, func(m []int) {
		prefix := strings.ToUpper(t[m[2]:m[3]])
		hyphen := m[5] > m[4]
		known := e.prefixes[prefix]
		if !known {
			// Unknown prefixes (ISO-8601, RFC-3339) count only when written
			// in capitals with a hyphen right after an error-code label.
			if !hyphen || f.norm[m[2]:m[3]] != prefix || !errorCtxRe.MatchString(tail(t, m[0], 32)) {
				return
			}
		}
		if !f.claim(m[0], m[1]) {
			return
		}
		emit(KindErrorCode, prefix+"-"+t[m[6]:m[7]], m[0], m[1])
		if svc, ok := errorCodeServices[prefix]; ok {
			emit(KindService, svc, m[0], m[1])
		}
	})
	for _, re := range versionRes {
		re.each(f, func(m []int) {
			// 192.168.1.10 after "version" is an address, not a semver.
			if m[1]+1 < len(t) && t[m[1]] == '.' && isDigit(t[m[1]+1]) {
				return
			}
			if f.claim(m[0], m[1]) {
				emit(KindAppVersion, "v"+t[m[2]:m[3]], m[0], m[1])
			}
		})
	}
	for _, re := range httpStatusRes {
		re.each(f, func(m []int) {
			if f.claim(m[0], m[1]) {
				emit(KindHTTPStatus, t[m[2]:m[3]], m[0], m[1])
			}
		})
	}
	statusPhraseRe.each(f, func(m []int) {
		code, _ := strconv.Atoi(t[m[2]:m[3]])
		reason := strings.ToLower(http.StatusText(code))
		words := t[m[4]:m[5]]
		if reason == "" || !strings.HasPrefix(words, reason) ||
			(len(words) > len(reason) && words[len(reason)] != ' ') {
			return
		}
		end := m[4] + len(reason)
		if f.claim(m[0], end) {
			emit(KindHTTPStatus, t[m[2]:m[3]], m[0], end)
		}
	})
	// The form's order_ids and user_ids fields may hold the bare number.
	if len(out) == 0 {
		if prefix, n := bareIDFormat(f.hint); prefix != "" {
			v := strings.TrimSpace(t)
			if start := strings.Index(t, v); len(v) == n && isDigits(v) {
				emit(f.hint, prefix+v, start, start+n)
			}
		}
	}
	return out
}

// bareIDFormat is the prefix and digit count of an id kind whose bare
// number a form field may hold.
func bareIDFormat(k Kind) (string, int) {
	switch k {
	case KindOrderID:
		return "ord_", 10
	case KindUser:
		return "usr-", 6
	}
	return "", 0
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// tail returns up to n bytes of s before end, starting on a rune boundary.
func tail(s string, end, n int) string {
	start := max(end-n, 0)
	for start < end && start > 0 && s[start]&0xc0 == 0x80 {
		start++
	}
	return s[start:end]
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

func hasLetterAndDigit(s string) bool {
	var letter, digit bool
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			digit = true
		} else {
			letter = true
		}
	}
	return letter && digit
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }
