// Package policy holds the options of the cosmosrt chain's decisions: the
// retry rules (RetryOptions), the retry budget shared by a transport's calls
// (BudgetOptions) and the circuit breaker that guards each endpoint
// (BreakerOptions). Give them to transport.New through transport.Options, or
// to the stand-alone stages transport.NewRetry and transport.NewBreaker.
//
// Every field's zero value is its documented default; a negative value turns
// off what the field's comment says. The zero options are the behaviour of
// the official SDKs, tightened where they are loose:
//
//	answer                 reads                                writes
//	429                    wait the server's hint, same endpoint (≤ 9 times, ≤ 30 s)
//	449                    exponential 10 ms ×2 → 1 s, ≤ 30 s    same
//	503, never sent        next read region at once, backoff    backoff, same write endpoint
//	500, 408               once, on another region if any       returned
//	ambiguous (sent, lost) retried                              returned: never run twice
//	403.3, 403.1008        —                                    resent to the new write region
//	                                                            (≤ 60 s, spaced 1 s)
//	404.1002               on the write region (≤ 2 times)      —
//
// Retries caused by unavailability (503, 500, 408, transport errors) draw
// on the budget: a short burst is retried, a sustained outage costs about
// one attempt per call.
package policy
