package demoworld

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// traffic writes the logs of one stream (background or incidents).
type traffic struct {
	g   *generator
	rng *rand.Rand
	ids *idSource
	// recentOrders remembers paid orders per tenant for refunds.
	recentOrders map[string][]string
}

// order is what the tablet knows about one order while it is served.
type order struct {
	t      *Tenant
	id     string
	user   string
	tablet string
	table  int
	items  int
	total  int // minor currency units
}

var (
	menuItemsJa = [...]string{"生ビール", "唐揚げ定食", "特上にぎり", "醤油らーめん", "抹茶ラテ", "ハイボール", "焼き鳥盛り合わせ", "天ざる", "ロースかつ定食", "枝豆"}
	menuItemsEn = [...]string{"Spicy Tuna Roll", "Cheeseburger", "Iced Latte", "Carne Asada Taco", "Miso Ramen", "Caesar Salad", "Craft IPA", "Fish & Chips"}
)

// base is a tenant-scoped log carrying the tenant's labels.
func (tr *traffic) base(t *Tenant, at time.Time, service, level, msg string) Log {
	return Log{
		Timestamp: ECSTime{at},
		Message:   msg,
		Log:       LogFields{Level: level},
		Service:   Service{Name: service},
		Labels:    Labels{TenantID: t.ID, AppVersion: t.AppVersion},
	}
}

// platform is a log not tied to a tenant (shared infrastructure).
func platform(at time.Time, service, level, msg string) Log {
	return Log{Timestamp: ECSTime{at}, Message: msg, Log: LogFields{Level: level}, Service: Service{Name: service}}
}

func withError(l Log, code, typ, msg string, status int) Log {
	l.Error = ErrorInfo{Type: typ, Message: msg, Code: code}
	if status != 0 {
		l.HTTP.Response.StatusCode = status
	}
	return l
}

func isTokyoStyle(t *Tenant) bool { return t.TimeZone == ReferenceZone }

func money(t *Tenant, minor int) string {
	if isTokyoStyle(t) {
		return fmt.Sprintf("%d JPY", minor)
	}
	return fmt.Sprintf("%d.%02d USD", minor/100, minor%100)
}

func provider(t *Tenant) string {
	if isTokyoStyle(t) {
		return stormProviderJapan
	}
	return stormProviderAmerica
}

// menuItem names a dish as written in lang.
func menuItem(rng *rand.Rand, lang string) string {
	if lang == LangJapanese {
		return pick(rng, menuItemsJa[:])
	}
	return pick(rng, menuItemsEn[:])
}

func (tr *traffic) newOrder(t *Tenant) order {
	o := order{
		t:      t,
		id:     tr.ids.orderID(),
		user:   pick(tr.rng, t.Users),
		tablet: pick(tr.rng, t.Tablets()),
		table:  1 + tr.rng.IntN(24),
		items:  1 + tr.rng.IntN(7),
	}
	if isTokyoStyle(t) {
		o.total = (880 + tr.rng.IntN(17000)) / 10 * 10
	} else {
		o.total = 850 + tr.rng.IntN(14000)
	}
	return o
}

// request is one HTTP request's correlation ids.
type request struct{ id, trace string }

func (tr *traffic) request() request {
	return request{id: tr.ids.requestID(), trace: tr.ids.traceID()}
}

func (o order) log(tr *traffic, at time.Time, service, level, msg string, r request) Log {
	l := tr.base(o.t, at, service, level, msg)
	l.Labels.OrderID = o.id
	l.HTTP.Request.ID = r.id
	l.Trace.ID = r.trace
	if service == ServiceOrderAPI {
		l.User.ID = o.user
		l.Labels.DeviceID = o.tablet
	}
	return l
}

// noise writes the background traffic: per tenant a budget of logs spread
// over the business curve, plus scheduled menu syncs and platform logs.
func (tr *traffic) noise() {
	g := tr.g
	tr.recentOrders = map[string][]string{}
	for i := range g.w.Tenants {
		t := &g.w.Tenants[i]
		budget := g.cfg.Days*g.cfg.LogsPerTenantDay - tr.scheduledSyncs(t)
		for budget > 0 {
			at := sampleBusinessTime(tr.rng, g.start, g.end, t.loc)
			budget -= tr.activity(t, at)
		}
	}
	tr.platformNoise()
}

// activity writes one thing a restaurant does at at and returns how many
// logs it kept.
func (tr *traffic) activity(t *Tenant, at time.Time) int {
	before := len(tr.g.w.Logs)
	if businessWeight(localHour(at, t.loc)) < 0.1 {
		// Closed: only machines talk.
		switch r := tr.rng.Float64(); {
		case r < 0.7:
			tr.heartbeat(t, at)
		case r < 0.9:
			tr.auth(t, at)
		default:
			tr.emit(tr.base(t, at, ServiceOrderAPI, LevelInfo,
				fmt.Sprintf("daily sales report generated for %s: %d orders in %d ms", t.ID, 40+tr.rng.IntN(300), 200+tr.rng.IntN(3000))))
		}
		return len(tr.g.w.Logs) - before
	}
	switch r := tr.rng.Float64(); {
	case r < 0.55:
		tr.orderFlow(t, at)
	case r < 0.67:
		tr.heartbeat(t, at)
	case r < 0.82:
		tr.auth(t, at)
	case r < 0.85:
		tr.menuEdit(t, at)
	case r < 0.87:
		tr.refund(t, at)
	default:
		r := tr.request()
		l := tr.base(t, at, ServiceOrderAPI, LevelDebug,
			fmt.Sprintf("GET /v1/orders?status=open returned %d orders in %d ms", tr.rng.IntN(30), 8+tr.rng.IntN(120)))
		l.User.ID, l.Labels.DeviceID = pick(tr.rng, t.Users), pick(tr.rng, t.Tablets())
		l.HTTP.Request.ID, l.Trace.ID = r.id, r.trace
		l.HTTP.Response.StatusCode = 200
		tr.emit(l)
	}
	return len(tr.g.w.Logs) - before
}

func (tr *traffic) emit(l Log) bool { return tr.g.emit(l) }

// orderFlow is one table's order from creation to payment.
func (tr *traffic) orderFlow(t *Tenant, at time.Time) {
	o := tr.newOrder(t)
	r := tr.request()
	if chance(tr.rng, 0.006) {
		// The tablet shows an error and the staff send the order again.
		tr.emit(withError(o.log(tr, at, ServiceOrderAPI, LevelError,
			fmt.Sprintf("could not save order %s: database deadlock detected (attempt 3/3)", o.id), r),
			CodeOrderDeadlock, "OrderPersistenceError", "pq: deadlock detected", 500))
		at = at.Add(jitter(tr.rng, 15*time.Second, 90*time.Second))
		r = tr.request()
	}
	created := o.log(tr, at, ServiceOrderAPI, LevelInfo,
		fmt.Sprintf("order %s created: table %d, %d items, total %s", o.id, o.table, o.items, money(t, o.total)), r)
	created.HTTP.Response.StatusCode = 201
	tr.emit(created)
	if chance(tr.rng, 0.08) {
		member := fmt.Sprintf("%04d-%04d", tr.rng.IntN(10000), tr.rng.IntN(10000))
		if chance(tr.rng, 0.08) {
			tr.emit(withError(o.log(tr, at.Add(jitter(tr.rng, 5*time.Second, 6*time.Second)), ServiceOrderAPI, LevelError,
				fmt.Sprintf("loyalty lookup failed for order %s: customer-id upstream returned 502 after %d ms", o.id, 5000+tr.rng.IntN(20)), r),
				CodeLoyaltyLookup, "LoyaltyLookupError", "customer-id: bad gateway for member "+member, 502))
		} else {
			tr.emit(o.log(tr, at.Add(jitter(tr.rng, 50*time.Millisecond, 400*time.Millisecond)), ServiceOrderAPI, LevelInfo,
				fmt.Sprintf("loyalty member %s attached to order %s (%d points)", member, o.id, tr.rng.IntN(5000)), r))
		}
	}
	tr.printJob(o, at.Add(jitter(tr.rng, 300*time.Millisecond, 3*time.Second)), r)
	if chance(tr.rng, 0.5) {
		upd := at.Add(jitter(tr.rng, 3*time.Minute, 25*time.Minute))
		added := 1 + tr.rng.IntN(3)
		o.items += added
		tr.emit(o.log(tr, upd, ServiceOrderAPI, LevelDebug,
			fmt.Sprintf("order %s updated: %d items added (rev %d)", o.id, added, 2+tr.rng.IntN(3)), tr.request()))
	}
	payAt := at.Add(jitter(tr.rng, 25*time.Minute, 80*time.Minute))
	switch {
	case chance(tr.rng, 0.03):
		tr.emit(o.log(tr, payAt, ServiceOrderAPI, LevelInfo,
			fmt.Sprintf("order %s cancelled by %s (reason: %s)", o.id, o.user, pick(tr.rng, []string{"customer left", "duplicate order", "wrong table"})), tr.request()))
	case chance(tr.rng, cashShare(t)):
		tr.emit(o.log(tr, payAt, ServiceOrderAPI, LevelInfo,
			fmt.Sprintf("order %s paid: cash, %s", o.id, money(t, o.total)), tr.request()))
	default:
		tr.payCard(o, payAt)
	}
}

func cashShare(t *Tenant) float64 {
	if isTokyoStyle(t) {
		return 0.35
	}
	return 0.12
}

// payCard authorises and captures a card payment, unless the provider is
// timing out for this tenant right now.
func (tr *traffic) payCard(o order, at time.Time) {
	if tr.g.plan.stormAt(o.t.ID, at) && chance(tr.rng, 0.85) {
		tr.stormPayment(o, at)
		return
	}
	r := tr.request()
	latency := jitter(tr.rng, 250*time.Millisecond, 1600*time.Millisecond)
	if chance(tr.rng, 0.03) {
		// A declined card is the customer's bank saying no, not a bug.
		tr.emit(withError(o.log(tr, at.Add(latency), ServicePaymentGateway, LevelWarn,
			fmt.Sprintf("payment declined for order %s: card_declined (issuer code %s)", o.id, pick(tr.rng, []string{"05", "51", "54"})), r),
			CodeCardDeclined, "CardDeclinedError", "issuer declined the authorisation", 402))
		tr.emit(o.log(tr, at.Add(latency+20*time.Millisecond), ServiceOrderAPI, LevelInfo,
			fmt.Sprintf("payment for order %s declined by issuer, tablet asked for another payment method", o.id), r))
		tr.emit(o.log(tr, at.Add(jitter(tr.rng, time.Minute, 3*time.Minute)), ServiceOrderAPI, LevelInfo,
			fmt.Sprintf("order %s paid: cash, %s", o.id, money(o.t, o.total)), tr.request()))
		return
	}
	tr.emit(o.log(tr, at.Add(latency), ServicePaymentGateway, LevelInfo,
		fmt.Sprintf("payment authorised for order %s: %s via %s in %d ms", o.id, money(o.t, o.total), provider(o.t), latency.Milliseconds()), r))
	capAt := at.Add(latency + jitter(tr.rng, 40*time.Millisecond, 300*time.Millisecond))
	tr.emit(o.log(tr, capAt, ServicePaymentGateway, LevelInfo,
		fmt.Sprintf("payment captured for order %s (auth %s)", o.id, fmt.Sprintf("%06X", tr.rng.IntN(1<<24))), r))
	paid := o.log(tr, capAt.Add(15*time.Millisecond), ServiceOrderAPI, LevelInfo,
		fmt.Sprintf("order %s paid: card, %s", o.id, money(o.t, o.total)), r)
	tr.emit(paid)
	if chance(tr.rng, 0.005) {
		tr.emit(withError(o.log(tr, capAt.Add(time.Second), ServiceOrderAPI, LevelError,
			fmt.Sprintf("receipt rendering failed for order %s: template field 'tax_breakdown' missing", o.id), r),
			CodeReceiptRender, "ReceiptRenderError", "template: receipt:14: missing key tax_breakdown", 500))
	}
	if tr.recentOrders != nil {
		recent := append(tr.recentOrders[o.t.ID], o.id)
		if len(recent) > 20 {
			recent = recent[1:]
		}
		tr.recentOrders[o.t.ID] = recent
	}
}

// printJob sends the kitchen ticket of an order to the tenant's printer.
func (tr *traffic) printJob(o order, at time.Time, r request) {
	prn := o.t.Printers()[0]
	job := "j-" + tr.ids.shortHex(6)
	l := o.log(tr, at, ServicePrinterBridge, LevelInfo, "", r)
	l.Labels.DeviceID = prn
	if tr.g.plan.printerDown(o.t.ID, prn, at) {
		l.Log.Level = LevelError
		l.Message = fmt.Sprintf("print job %s for order %s failed: printer bridge not connected to %s", job, o.id, prn)
		tr.emit(withError(l, CodePrinterCrash, "BridgeUnavailableError", "bridge process not running", 503))
		tr.emit(o.log(tr, at.Add(5*time.Second), ServiceOrderAPI, LevelWarn,
			fmt.Sprintf("kitchen ticket for order %s not acknowledged by printer-bridge, queued for retry", o.id), r))
		return
	}
	if chance(tr.rng, 0.004) {
		l.Log.Level = LevelWarn
		l.Message = fmt.Sprintf("print job %s for order %s delayed: %s reports paper low", job, o.id, prn)
		tr.emit(l)
		return
	}
	l.Message = fmt.Sprintf("print job %s for order %s printed on %s in %d ms", job, o.id, prn, 60+tr.rng.IntN(400))
	tr.emit(l)
}

func (tr *traffic) heartbeat(t *Tenant, at time.Time) {
	prn := pick(tr.rng, t.Printers())
	if tr.g.plan.printerDown(t.ID, prn, at) {
		return
	}
	l := tr.base(t, at, ServicePrinterBridge, LevelDebug,
		fmt.Sprintf("heartbeat from %s ok (queue=%d, paper=%s, rssi=-%d dBm)", prn, tr.rng.IntN(3), pick(tr.rng, []string{"ok", "ok", "ok", "low"}), 40+tr.rng.IntN(40)))
	l.Labels.DeviceID = prn
	tr.emit(l)
}

func (tr *traffic) auth(t *Tenant, at time.Time) {
	user, tab := pick(tr.rng, t.Users), pick(tr.rng, t.Tablets())
	r := tr.request()
	var l Log
	switch x := tr.rng.Float64(); {
	case x < 0.005:
		l = withError(tr.base(t, at, ServiceAuth, LevelError,
			fmt.Sprintf("session store unavailable while refreshing token for %s: dial tcp 10.0.3.12:6379: i/o timeout", user)),
			CodeSessionStore, "SessionStoreError", "redis: i/o timeout", 503)
	case x < 0.35:
		l = tr.base(t, at, ServiceAuth, LevelInfo, fmt.Sprintf("login succeeded for %s on %s (method=pin)", user, tab))
	case x < 0.8:
		l = tr.base(t, at, ServiceAuth, LevelDebug, fmt.Sprintf("access token refreshed for %s (expires in 3600 s)", user))
	case x < 0.92:
		l = tr.base(t, at, ServiceAuth, LevelWarn, fmt.Sprintf("login failed for %s on %s: wrong pin (attempt %d/5)", user, tab, 1+tr.rng.IntN(4)))
		l.HTTP.Response.StatusCode = 401
	default:
		l = tr.base(t, at, ServiceAuth, LevelInfo, fmt.Sprintf("%s logged out from %s", user, tab))
	}
	l.User.ID = user
	l.Labels.DeviceID = tab
	l.HTTP.Request.ID = r.id
	l.Trace.ID = r.trace
	tr.emit(l)
}

func (tr *traffic) menuEdit(t *Tenant, at time.Time) {
	user := pick(tr.rng, t.Users)
	item := menuItem(tr.rng, t.Language)
	old := 300 + tr.rng.IntN(2000)
	l := tr.base(t, at, ServiceMenuSync, LevelInfo,
		fmt.Sprintf("menu item %q updated by %s: price %s -> %s", item, user, money(t, old), money(t, old+10*(1+tr.rng.IntN(20)))))
	l.User.ID = user
	tr.emit(l)
	if chance(tr.rng, 0.03) {
		w := withError(tr.base(t, at.Add(time.Second), ServiceMenuSync, LevelWarn,
			fmt.Sprintf("image fetch for menu item %q failed: cdn returned 404, using placeholder", item)),
			CodeMenuImage, "ImageFetchError", "GET cdn image: 404 Not Found", 0)
		tr.emit(w)
	}
	tr.syncRun(t, at.Add(jitter(tr.rng, 2*time.Second, 10*time.Second)), "manual")
}

// scheduledSyncs writes the hourly menu syncs (09:00–23:00 local) and
// returns how many logs they took.
func (tr *traffic) scheduledSyncs(t *Tenant) int {
	before := len(tr.g.w.Logs)
	minute := tr.rng.IntN(60)
	for _, day := range localDays(tr.g.start, tr.g.end, t.loc) {
		for hour := 9; hour <= 23; hour++ {
			tr.syncRun(t, localClock(day, t.loc, hour, minute).Add(jitter(tr.rng, 0, 20*time.Second)), "scheduled")
		}
	}
	return len(tr.g.w.Logs) - before
}

func (tr *traffic) syncRun(t *Tenant, at time.Time, trigger string) {
	items := t.menuItems
	rev := fmt.Sprintf("%s.%d", at.In(t.loc).Format("2006-01-02"), 1+tr.rng.IntN(6))
	tr.emit(tr.base(t, at, ServiceMenuSync, LevelInfo,
		fmt.Sprintf("menu sync started for %s (trigger=%s, menu rev %s, %d items)", t.ID, trigger, rev, items)))
	took := jitter(tr.rng, 150*time.Millisecond, 1500*time.Millisecond)
	if tr.g.plan.menuBroken(t, at) {
		tr.emit(withError(tr.base(t, at.Add(took), ServiceMenuSync, LevelError,
			fmt.Sprintf("menu sync failed: schema mismatch: field 'allergens' expected array, got string (menu rev %s, app %s)", rev, t.AppVersion)),
			CodeMenuSchema, "SchemaMismatchError", "decode menu item 0: allergens: cannot unmarshal string into []string", 0))
		return
	}
	tr.emit(tr.base(t, at.Add(took), ServiceMenuSync, LevelInfo,
		fmt.Sprintf("menu sync completed for %s: %d items, %d changed in %d ms", t.ID, items, tr.rng.IntN(6), took.Milliseconds())))
}

func (tr *traffic) refund(t *Tenant, at time.Time) {
	recent := tr.recentOrders[t.ID]
	if len(recent) == 0 {
		tr.orderFlow(t, at)
		return
	}
	o := tr.newOrder(t)
	o.id = pick(tr.rng, recent)
	r := tr.request()
	amount := money(t, 100*(1+tr.rng.IntN(20)))
	if chance(tr.rng, 0.12) {
		tr.emit(withError(o.log(tr, at, ServicePaymentGateway, LevelError,
			fmt.Sprintf("refund failed for order %s: idempotency key conflict with refund rf_%s", o.id, tr.ids.shortHex(8)), r),
			CodeRefundConflict, "RefundConflictError", "provider rejected duplicate idempotency key", 409))
		return
	}
	tr.emit(o.log(tr, at, ServicePaymentGateway, LevelInfo,
		fmt.Sprintf("refund of %s issued for order %s (reason: %s)", amount, o.id, pick(tr.rng, []string{"wrong item", "customer complaint", "double charge"})), r))
}

// platformNoise writes logs of shared infrastructure, tied to no tenant;
// some are errors, so an error near a ticket is not evidence by itself.
func (tr *traffic) platformNoise() {
	g := tr.g
	for at := g.start.Add(jitter(tr.rng, 0, 10*time.Minute)); at.Before(g.end); at = at.Add(jitter(tr.rng, 5*time.Minute, 20*time.Minute)) {
		var l Log
		switch x := tr.rng.Float64(); {
		case x < 0.04:
			l = withError(platform(at, ServiceOrderAPI, LevelError,
				fmt.Sprintf("redis: connection pool exhausted (size 64), request waited %d ms", 5000+tr.rng.IntN(50))),
				CodeRedisPool, "PoolTimeoutError", "redis: connection pool timeout", 503)
		case x < 0.1:
			l = platform(at, ServiceOrderAPI, LevelWarn, fmt.Sprintf("slow query orders_by_tenant took %d ms", 1000+tr.rng.IntN(3000)))
		case x < 0.4:
			l = platform(at, ServiceOrderAPI, LevelInfo, fmt.Sprintf("db pool stats: %d open, %d idle, wait %d ms", 20+tr.rng.IntN(40), tr.rng.IntN(20), tr.rng.IntN(40)))
		case x < 0.7:
			if g.plan.storm.contains(at) {
				continue
			}
			l = platform(at, ServicePaymentGateway, LevelInfo, fmt.Sprintf("provider %s health ok (p95 %d ms)", stormProviderJapan, 300+tr.rng.IntN(500)))
		default:
			l = platform(at, ServicePrinterBridge, LevelInfo, fmt.Sprintf("%d bridges connected, %d reconnects in the last 5 min", 40+tr.rng.IntN(30), tr.rng.IntN(4)))
		}
		tr.emit(l)
	}
}
