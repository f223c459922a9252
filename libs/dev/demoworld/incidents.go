package demoworld

import (
	"fmt"
	"time"
)

// incidents writes the logs of the injected incidents on top of the
// background traffic (which already fails where the plan says so).
func (tr *traffic) incidents() {
	tr.stormTraffic()
	tr.printerCrashLoop()
	tr.menuRelease()
	tr.tokenExpiries()
}

// stormTraffic adds the dinner-peak card payments that time out at every
// affected tenant, and the platform's own view of the failing provider.
func (tr *traffic) stormTraffic() {
	p := &tr.g.plan
	if p.storm.from.IsZero() {
		return
	}
	for i := range tr.g.w.Tenants {
		t := &tr.g.w.Tenants[i]
		if !p.stormTenants[t.ID] {
			continue
		}
		// A busy restaurant brings a bill to the card reader every minute or two.
		for at := p.storm.from.Add(jitter(tr.rng, 0, 2*time.Minute)); at.Before(p.storm.to); at = at.Add(jitter(tr.rng, 40*time.Second, 200*time.Second)) {
			o := tr.newOrder(t)
			r := tr.request()
			created := at.Add(-jitter(tr.rng, 15*time.Minute, 70*time.Minute))
			l := o.log(tr, created, ServiceOrderAPI, LevelInfo,
				fmt.Sprintf("order %s created: table %d, %d items, total %s", o.id, o.table, o.items, money(t, o.total)), r)
			l.HTTP.Response.StatusCode = 201
			tr.emit(l)
			tr.stormPayment(o, at)
		}
	}
	for at := p.storm.from.Add(20 * time.Second); at.Before(p.storm.to); at = at.Add(time.Minute) {
		tr.emit(withError(platform(at, ServicePaymentGateway, LevelError,
			fmt.Sprintf("provider %s health check failed: timeout after 5000 ms", stormProviderJapan)),
			CodeProviderTimeout, "ProviderTimeoutError", "health probe deadline exceeded", 504))
	}
	tr.emit(platform(p.storm.from.Add(3*time.Minute), ServicePaymentGateway, LevelWarn,
		fmt.Sprintf("circuit breaker for provider %s opened: 48%% of calls timed out in the last 60 s", stormProviderJapan)))
	tr.emit(platform(p.storm.to.Add(time.Minute), ServicePaymentGateway, LevelInfo,
		fmt.Sprintf("circuit breaker for provider %s closed: provider healthy again", stormProviderJapan)))
}

// stormPayment is a card payment during the storm: one to three attempts
// that each wait out the 30 s provider timeout, then cash or an open bill.
func (tr *traffic) stormPayment(o order, at time.Time) {
	attempts := 1 + tr.rng.IntN(3)
	for a := 1; a <= attempts; a++ {
		r := tr.request()
		if chance(tr.rng, 0.4) {
			tr.emit(o.log(tr, at.Add(10*time.Second), ServicePaymentGateway, LevelWarn,
				fmt.Sprintf("payment provider %s slow: no response after 10000 ms (order %s)", provider(o.t), o.id), r))
		}
		gw := at.Add(30*time.Second + jitter(tr.rng, 0, 40*time.Millisecond))
		tr.emit(withError(o.log(tr, gw, ServicePaymentGateway, LevelError,
			fmt.Sprintf("payment provider timeout after 30000 ms (provider=%s, order=%s, attempt %d)", provider(o.t), o.id, a), r),
			CodeProviderTimeout, "ProviderTimeoutError", "context deadline exceeded awaiting authorisation from "+provider(o.t), 504))
		tr.emit(withError(o.log(tr, gw.Add(jitter(tr.rng, 5*time.Millisecond, 30*time.Millisecond)), ServiceOrderAPI, LevelError,
			fmt.Sprintf("payment step failed for order %s: payment-gateway returned 503 after %d ms", o.id, 30000+tr.rng.IntN(60)), r),
			CodeProviderTimeout, "PaymentStepError", "upstream payment-gateway: "+CodeProviderTimeout+" provider timeout", 503))
		at = gw.Add(jitter(tr.rng, 20*time.Second, 90*time.Second))
	}
	switch x := tr.rng.Float64(); {
	case x < 0.6:
		tr.emit(o.log(tr, at, ServiceOrderAPI, LevelInfo, fmt.Sprintf("order %s paid: cash, %s", o.id, money(o.t, o.total)), tr.request()))
	default:
		tr.emit(o.log(tr, at, ServiceOrderAPI, LevelWarn,
			fmt.Sprintf("order %s left unpaid after %d failed card attempts", o.id, attempts), tr.request()))
	}
}

// printerCrashLoop makes one tenant's kitchen printer bridge crash and
// restart every few minutes for a few hours.
func (tr *traffic) printerCrashLoop() {
	p := &tr.g.plan
	if p.printer.from.IsZero() {
		return
	}
	i := tr.g.tenantIndex(p.printerTenant)
	t := &tr.g.w.Tenants[i]
	prn := p.printerDevice
	deviceLog := func(at time.Time, level, msg string) Log {
		l := tr.base(t, at, ServicePrinterBridge, level, msg)
		l.Labels.DeviceID = prn
		return l
	}
	restarts := 0
	for at := p.printer.from; at.Before(p.printer.to); at = at.Add(jitter(tr.rng, 90*time.Second, 9*time.Minute)) {
		restarts++
		if chance(tr.rng, 0.65) {
			tr.emit(withError(deviceLog(at, LevelFatal,
				fmt.Sprintf("printer bridge crashed: panic: runtime error: index out of range [%d] with length %d (device %s)", 4+tr.rng.IntN(3), 4, prn)),
				CodePrinterCrash, "runtime.boundsError", "index out of range in escpos.(*Encoder).WriteRaster", 0))
		} else {
			tr.emit(withError(deviceLog(at, LevelError,
				fmt.Sprintf("printer bridge crashed: connection to %s lost: read tcp 192.168.10.%d:9100: connection reset by peer", prn, 20+tr.rng.IntN(200))),
				CodePrinterCrash, "net.OpError", "read: connection reset by peer", 0))
		}
		backoff := min(5<<min(restarts-1, 3), 60)
		tr.emit(deviceLog(at.Add(jitter(tr.rng, 200*time.Millisecond, 2*time.Second)), LevelInfo,
			fmt.Sprintf("printer bridge restarting for %s (attempt %d, backoff %ds)", prn, restarts, backoff)))
		tr.emit(deviceLog(at.Add(time.Duration(backoff)*time.Second+jitter(tr.rng, time.Second, 4*time.Second)), LevelInfo,
			fmt.Sprintf("printer bridge started for %s (firmware %s)", prn, printerFirmware)))
		if restarts%5 == 0 {
			tr.emit(deviceLog(at.Add(time.Duration(backoff+5)*time.Second), LevelWarn,
				fmt.Sprintf("printer bridge restart loop detected for %s: %d restarts since %s", prn, restarts, p.printer.from.In(t.loc).Format("15:04"))))
		}
	}
}

// menuRelease records the menu-sync deploy that starts the schema bug; the
// failing syncs themselves are written by scheduledSyncs and menuEdit.
func (tr *traffic) menuRelease() {
	p := &tr.g.plan
	if p.menu.from.IsZero() {
		return
	}
	tr.emit(platform(p.menu.from.Add(-2*time.Minute), ServiceMenuSync, LevelInfo, "deployed "+menuSyncBuggyRelease))
}

// tokenExpiries makes staff of a few tenants lose their session at random
// business times: the token expires before the scheduled refresh.
func (tr *traffic) tokenExpiries() {
	g := tr.g
	for i := range g.w.Tenants {
		t := &g.w.Tenants[i]
		if !g.plan.authTenants[t.ID] {
			continue
		}
		n := g.cfg.Days * (3 + tr.rng.IntN(4))
		for range n {
			at := sampleBusinessTime(tr.rng, g.start, g.end, t.loc)
			user, tab := pick(tr.rng, t.Users), pick(tr.rng, t.Tablets())
			r := tr.request()
			mk := func(at time.Time, level, msg string) Log {
				l := tr.base(t, at, ServiceAuth, level, msg)
				l.User.ID, l.Labels.DeviceID = user, tab
				l.HTTP.Request.ID, l.Trace.ID = r.id, r.trace
				return l
			}
			expired := 5 + tr.rng.IntN(90)
			tr.emit(withError(mk(at, LevelWarn,
				fmt.Sprintf("token expired before refresh for %s on %s (expired %d s ago, refresh was due in %d s)", user, tab, expired, 10+tr.rng.IntN(60))),
				CodeTokenExpired, "TokenExpiredError", "jwt: token is expired", 401))
			tr.emit(withError(mk(at.Add(jitter(tr.rng, 20*time.Millisecond, 900*time.Millisecond)), LevelError,
				fmt.Sprintf("request rejected for %s: token expired before refresh (%s)", user, pick(tr.rng, []string{"GET /v1/orders/open", "POST /v1/orders", "POST /v1/payments"}))),
				CodeTokenExpired, "TokenExpiredError", "jwt: token is expired", 401))
			tr.emit(mk(at.Add(jitter(tr.rng, 20*time.Second, 3*time.Minute)), LevelInfo,
				fmt.Sprintf("login succeeded for %s on %s (method=pin)", user, tab)))
		}
	}
}

func (g *generator) tenantIndex(id string) int {
	for i := range g.w.Tenants {
		if g.w.Tenants[i].ID == id {
			return i
		}
	}
	return -1
}
