// Package extract finds, in a support ticket written in Japanese or English,
// everything that can locate the customer's logs: tenant, user, request,
// trace, order and device ids, error codes, HTTP statuses, app versions,
// services, and when the trouble happened as a search window.
//
// Every extracted item keeps its source (field, byte offsets, matched text)
// so an escalation engineer can see why a log matched. Values are normalised
// (lower-case ids, upper-case error codes), deduplicated and returned in a
// stable order: structured fields first (tenant_id, identifiers.* by key),
// then subject and description in text order.
//
// Text is folded before matching: full-width ASCII (U+FF01–U+FF5E) becomes
// ASCII, the ideographic space a space, dash look-alikes a hyphen, and
// control characters spaces; a katakana long-vowel mark between ASCII letters
// or digits (an IME slip for a hyphen, as in "PAYー1042") counts as a hyphen.
// Each folded rune maps back to one original rune, so offsets always slice
// the original field.
//
// Times are read relative to SubmittedAt in the tenant's zone (Asia/Tokyo
// when none is given) and become Result.Window: OccurredAt wins when given
// (±15 min); otherwise the most precise mention in the text, the first
// among equals: a time to the minute gives ±15 min, to the hour ±45 min, a
// part of the day its range (morning 06–11, lunch 11–14, afternoon 12–17,
// evening 17–22, night 18–24, a past night until 06:00), a day the whole
// day, "さっき" or "just now" the last hour; "から", "以降" or "since" run
// the window up to submission and "19時〜20時" spans both. A time of day
// still ahead of submission means the day before; a date without a year
// ahead of submission means last year's. With nothing found the window is
// the two hours before submission. No window reaches past SubmittedAt plus
// five minutes. Config holds every one of these figures.
//
// Hostile input is bounded: only the first Config.MaxFieldBytes (64 KiB by
// default) of each field are read, at most Config.MaxIdentifierValues values
// per identifiers key, and at most Config.MaxItemsPerKind items of one kind
// are kept. Patterns are RE2 expressions (linear time) or fixed-word
// searches, run over chunks of about 1 KiB, so 64 KiB of dense hostile text
// costs tens of milliseconds and a typical ticket about a tenth of one.
//
// Not understood (documented limits): kanji numerals (七時), weekday names
// (月曜日, on Monday), dates more than Config.MaxLookback before submission,
// and "7時" without 午前/午後 is read as the latest past 07:00 or 19:00.
// A bare 32-hex value is taken for a trace id and a v-prefixed semver for
// the app version even when it belongs to another product.
package extract
