// Package policy holds the options of the cosmosrt chain's decisions: the
// retry rules (RetryOptions), the retry budget shared by a transport's calls
// (BudgetOptions), the circuit breaker that guards each endpoint
// (BreakerOptions), hedged reads (HedgeOptions), the partition circuits
// (PartitionOptions), throughput groups and priority (ThroughputOptions,
// ThroughputGroup, Priority), and which calls the transport's logger
// writes as failed, slow or costly (LogOptions). Give
// them to transport.New through transport.Options; the retry rules and the
// breaker also to the stand-alone stages transport.NewRetry and
// transport.NewBreaker.
//
// Every field's zero value is its documented default; a negative value turns
// off what the field's comment says. The zero options are the behaviour of
// the official SDKs, tightened where they are loose. What the chain does
// with each answer is summed up in the README's table; the full rules, which
// these options tune, are stated once, in the documentation of the module's
// internal/decide package.
//
// Retries caused by unavailability (503, 500, 408, transport errors) draw
// on the budget, which successes and time refill: a short burst is
// retried, and so is a quiet client's brownout; a sustained outage costs a
// busy client about one attempt per call, and any transport at most about
// BudgetOptions.PerSecond retries a second (N transports, N times that).
package policy
