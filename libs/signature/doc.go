// Package signature turns log messages into error signatures: message
// templates with the variable parts masked, such as
// "payment provider timeout after <*> ms for order <*>", each named by a short
// id derived from the template text alone.
//
// Two layers do the work. Template masks one message without any state:
// numbers, hex, UUIDs, IPs, URLs, paths with digits, e-mail addresses,
// durations and the demo world's identifiers become <*>, while error codes
// such as ORD-5002 stay, because they name the failure rather than vary
// within it. A Miner then groups a batch in the spirit of Drain (He et al.,
// ICWS 2017): messages are routed by token count and leading tokens, joined
// to the most similar group above a threshold, and a word position only turns
// into a variable when the batch shows enough distinct words there. Grouping
// depends only on the set of distinct masked messages, never on their order
// or how often each repeats, so a shuffled batch yields the same ids. A
// mined group's id can still differ between batches when a word position
// turns into a variable in one batch but not in another; ids of Template's
// output never do, which is why the signatures attached to tickets
// (Summarize) are Template's: they are the fingerprints that storms and bugs
// are grouped by.
//
// Miner.EvaluateLogHub measures Grouping Accuracy on the LogHub 2k samples
// with the LogPAI benchmark's definition.
package signature
