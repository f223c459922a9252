package logsearch

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// DiscoverURL opens the same search in Kibana Discover: the tenant and time
// window as filters, the ids as a KQL query. Values are quoted for KQL and
// the state is encoded in rison, as Discover expects.
func DiscoverURL(cfg Config, p Plan) string {
	f := cfg.Fields
	clauses := []string{fmt.Sprintf("%s:%s", f.Tenant, kqlQuote(p.TenantID))}
	var ids []string
	for _, field := range []string{f.TraceID, f.RequestID, f.OrderID, f.User, f.DeviceID, f.ErrorCode} {
		for _, v := range p.Wanted[field] {
			ids = append(ids, fmt.Sprintf("%s:%s", field, kqlQuote(v)))
		}
	}
	if len(ids) > 0 {
		clauses = append(clauses, "("+strings.Join(ids, " or ")+")")
	} else {
		clauses = append(clauses, fmt.Sprintf("%s:(error or fatal or warn)", f.Level))
	}
	query := strings.Join(clauses, " and ")
	g := fmt.Sprintf("(time:(from:%s,to:%s))",
		risonString(p.Window.From.UTC().Format(time.RFC3339)), risonString(p.Window.To.UTC().Format(time.RFC3339)))
	a := fmt.Sprintf("(query:(language:kuery,query:%s))", risonString(query))
	if cfg.KibanaDataView != "" {
		a = fmt.Sprintf("(dataSource:(dataViewId:%s,type:dataView),query:(language:kuery,query:%s))", risonString(cfg.KibanaDataView), risonString(query))
	}
	return strings.TrimRight(cfg.KibanaURL, "/") + "/app/discover#/?_g=" + url.QueryEscape(g) + "&_a=" + url.QueryEscape(a)
}

// kqlQuote makes v a KQL quoted string: only " and \ need escaping inside.
func kqlQuote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// risonString quotes s for rison: ' and ! are escaped with !.
func risonString(s string) string {
	return "'" + strings.NewReplacer("!", "!!", "'", "!'").Replace(s) + "'"
}
