// Package demoworld generates the deterministic demo world of the triage
// pipeline: a restaurant point-of-sale SaaS whose ECS application logs hold
// a few injected incidents, and the support tickets restaurant staff file
// about them, labelled with what a good escalation engineer would do.
//
// Generate(Config{}) builds the default world (50 tenants, three days
// ending at DefaultEnd, about 50k logs, about 75 tickets) in well under a
// second. Everything is drawn from PCG streams seeded by Config.Seed; the
// same seed gives byte-identical WriteBulk output, and no wall clock is
// read. Tenants, the incident plan, the background traffic, the incident
// traffic, the optional Loghub noise and the tickets each use their own
// stream, so changing the noise volume does not move an incident.
//
// # Logs
//
// Logs are ECS documents (see Log) in daily indices logs-pos-YYYY.MM.DD.
// Background traffic follows each tenant's local business day (lunch
// 11:30–13:30 and dinner 17:30–21:00 peaks): orders, kitchen print jobs,
// card payments with occasional declines (warnings, not bugs), printer
// heartbeats, logins and token refreshes, menu edits and hourly menu syncs,
// plus platform logs without a tenant and a small rate of unrelated errors
// (ORD-5002, ORD-5007, CUS-6003, PAY-1301, AUTH-4003, ORD-5009), so that
// "the tenant has an error" never suffices to attach a log.
//
// # Incidents
//
//   - payment-provider-timeout-storm: for about 40 minutes at the Tokyo dinner
//     peak, at least 65% of tenants see payment-gateway ERROR "payment provider
//     timeout after 30000 ms …" (PAY-1042, ProviderTimeoutError, HTTP 504) and
//     order-api ERROR "payment step failed for order …" (PAY-1042, HTTP 503).
//   - printer-bridge-crash-loop: one Tokyo tenant's kitchen printer bridge
//     crashes (FATAL or ERROR "printer bridge crashed: …", PRN-2001) and
//     restarts every few minutes for two to four hours from lunch; print jobs
//     to that printer fail with PRN-2001.
//   - menu-sync-schema-mismatch: from a release late in the morning on, every
//     menu sync of tenants on BuggyMenuVersion fails with ERROR "menu sync
//     failed: schema mismatch …" (MENU-3003); other versions keep syncing.
//   - auth-token-expiry: staff of a few tenants get WARN "token expired before
//     refresh …" then ERROR "request rejected …: token expired before refresh"
//     (AUTH-4011, HTTP 401) at random business times.
//
// # Tickets
//
// About 60–120 tickets for the default world, 60% Japanese: a storm of P1
// payment tickets, printer, menu and auth tickets from the affected
// tenants, technical one-off tickets about background errors, display bugs
// with no logs, and non-technical tickets (how-to, billing, plan changes,
// feature requests, menu content the restaurant typed wrong, account
// changes, a customer's declined card). Texts are local to the tenant's time
// zone and point at time, if at all, as TimeHint says; Window is the search
// window that follows from the text (or from OccurredAt).
//
// # Labelling rule
//
// ExpectedLogIDs is what a search over (tenant, time window, ids, error
// level) reproduces; World.ExpectedLogIDs applies it to any ticket:
//
//  1. Only technical tickets get logs, and only logs of the ticket's tenant
//     from the 24 hours before SubmittedAt.
//  2. Every such log carrying an order id, request id or trace id the ticket
//     names (in Identifiers or in the text, see Mentioned) comes first.
//  3. Then the logs inside Window from the component's services
//     (ComponentServices) at the component's levels (ComponentLevels: ERROR
//     and FATAL, plus WARN for auth) whose error.code is one the ticket
//     names or, when it names none, starts with the component's prefix
//     (ComponentCodePrefix). A named user narrows auth tickets to that
//     user; a named device narrows printer tickets to that device.
//  4. Each group is ordered by distance to Window.Anchor (the moment the
//     text describes, or SubmittedAt when it gives no time), ties by log
//     order, and the whole list is cut at MaxExpectedLogs (20).
//
// Windows per TimeHint: a clock time ±15 min, a full hour ±30 min, "N
// minutes ago" ±10 min around SubmittedAt−N, today's lunch 11:00–14:30,
// tonight's dinner 17:00–22:00, last night 17:00–24:00 of the previous
// local day, only OccurredAt ±15 min, and no time at all the two hours
// before SubmittedAt; every window ends at SubmittedAt at the latest.
package demoworld
