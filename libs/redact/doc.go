// Package redact makes text safe to send to GitHub. The bugfiler builds
// issue bodies and comments from customers' tickets, engineers' notes and
// application log lines (DESIGN.md, "Text bound for GitHub"); an issue is
// read by people outside the support team and is hard to unpublish, so
// nothing secret or personal may reach it, and customer text must not ping
// people, link or close other issues, or break the body's layout.
//
// Two steps, in this order:
//
//  1. Redactor.Redact replaces secrets and personal data with stable
//     placeholders. Secrets are found by gitleaks' default rules (used as a
//     library) plus rules of our own (GitHub tokens of every prefix, bearer
//     and Authorization headers, key=value credentials, AWS keys, JWTs,
//     private key blocks, URL credentials, cookies); personal data by rules
//     of our own (e-mail, phone numbers in Japanese, international, US and
//     European formats, Luhn-valid card numbers, IPv4 and IPv6 addresses)
//     and the configured customer names.
//  2. CodeBlock, Inline or Markdown place the redacted text into markdown:
//     logs in a fence no line can close, short values in prose, multi-line
//     prose with its line breaks. They neutralise @mentions, issue
//     references and closing keywords with a zero-width space (a backslash
//     does not stop GitHub's mention filter), and remove raw HTML (so no
//     image, no <details>, and no HTML comment that could hide text or forge
//     the bugfiler's hidden marker) and markdown images.
//
// # Placeholders
//
// Personal data becomes [kind:xxxxxxxx], eight hex digits of
// HMAC-SHA256(Config.Key, kind and normalised value): the same e-mail,
// phone, card, IP or customer always gets the same placeholder, so an
// engineer can still see that two log lines concern one customer. A plain
// hash would not do: phone and card numbers have few enough possibilities to
// be brute-forced from it. Without a configured key each Redactor draws a
// random one, and placeholders are stable only within that Redactor.
//
// Secrets become [secret:<rule id>] with no digest at all: nobody debugging
// a bug needs to know that two tokens were equal, and any function of a
// weak password is a dictionary-attack oracle the day the key leaks.
//
// Redact is idempotent: placeholders are never redacted again.
//
// # Limits
//
// Rules are patterns, so some personal data will not be recognised (a name
// in free text, an address, a phone number glued to letters such as
// "TEL0312345678") and some harmless values will be replaced (a Luhn-valid
// 16-digit order number starting with 2–6, "Token: expired"). Redact costs
// a few milliseconds per kilobyte (gitleaks' rule set dominates), so callers
// cap what they pass in: an issue body needs a few kilobytes of log excerpt,
// not megabytes.
package redact
