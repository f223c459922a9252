package bus

// EnsureConsumerAt lets tests play a replica of another contract version.
var EnsureConsumerAt = ensureConsumerAt
