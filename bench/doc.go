// Package bench compares the cosmosrt chain with bare net/http,
// go-retryablehttp and failsafe-go on loopback: the cost of a call that
// succeeds at once, and what each library does with throttling and with a
// sustained outage (attempts, waits, connections); and hedged reads from a
// simulated account with a slow preferred region, beside azcosmos alone. It
// holds only tests and benchmarks; BENCHMARKS.md at the repository's root
// reports the numbers.
package bench
