// Package instrument records the chain's OpenTelemetry spans and metrics
// for package transport. What it records is a promise to users, written
// down in package telemetry's documentation; that package also owns the
// instrumentation scope name (telemetry.ScopeName) used here. It exports
// only what package transport calls.
//
// Where it sits in the chain:
//
//	StartCall ... Call.End       one CLIENT span "read_item orders" per logical call
//	  │                          (or, under an Azure SDK span, that span: azureSDKSpan),
//	  │                          db.client.operation.duration, request charge
//	  ├─ Call.Attempt/Answered/Hedge   regions, cosmosrt.retries, backoff, failovers,
//	  │                          each attempt in the context's Diagnostics
//	  ├─ Call.End (describe)     the final error, naming the attempts and regions
//	  └─ Attempts(base)          one otelhttp CLIENT span per physical attempt,
//	                             http.request.resend_count from the second on;
//	                             what base returned, for Diagnostics
//	OnRefresh                    INTERNAL span "cosmosrt.account.refresh", cosmosrt.account.refreshes
//	BreakerTransition            cosmosrt.breaker.transitions
//	ObserveBreakers              cosmosrt.breaker.state (0 closed, 1 half-open, 2 open)
//	PartitionChanged             "partition.open"/"partition.close" on the call's span,
//	                             cosmosrt.partition.transitions
//	ObservePartitions            cosmosrt.partition.open (per region)
//	OnProbe                      INTERNAL span "cosmosrt.partition.probe"
//
// # Cost when nothing is recorded
//
// Providers left nil are looked up at each use, so an SDK installed after
// New is picked up. While the globals are still OpenTelemetry's no-op
// stand-ins, or the providers are no-ops, and the call's context carries
// no Diagnostics, StartCall returns a nil *Call, the Call methods,
// OnRefresh and BreakerTransition return at once, and Attempts calls the
// base transport directly: the chain pays a few atomic loads and context
// look-ups and no allocation. Metric instruments are asked through their
// Enabled method; tracers, which have no such method, are recognised by
// type (the noop package's, and the global stand-in's, which the global
// hands out only until an SDK is installed).
package instrument
