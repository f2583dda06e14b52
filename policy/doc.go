// Package policy holds the pure decisions of the cosmosrt chain: what an
// answer from Azure Cosmos DB means, whether and how to try again, and how
// the shared retry budget and the per-endpoint circuit breakers are set up.
// Nothing in it sends a request, sleeps or starts a goroutine; time enters
// as a Clock and randomness as a function, so every rule is table-testable.
//
// The retry loop of package transport uses it once per attempt:
//
//	r := policy.NewRetrier(opts, nil, nil) // one per call
//	for {
//		resp, err := next.RoundTrip(attempt)
//		o := policy.Classify(resp, err)
//		d := r.Decide(policy.IsWrite(req), o, resp)
//		if !d.Retry || (d.Budgeted && !budget.Allow()) {
//			return resp, err // the last answer, as it came
//		}
//		// drain and close resp, wait d.Wait, ask the router for d.Route
//	}
//
// Classify maps a response or a transport error to an Outcome; Retrier
// turns an Outcome into a Decision (retry or not, after how long, where);
// RetryAfter reads the service's throttling hints; Budget caps retries
// caused by unavailability across calls; BreakerOptions.Settings configures
// a gobreaker circuit breaker and BreakerVerdict says how an Outcome counts
// toward it.
package policy
