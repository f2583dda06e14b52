package policy

import "time"

// LogOptions says which calls a transport logs through its logger
// (transport.Options.Logger), and how many entries a second it may write.
// A call is logged when it ends failed, slow or costly:
//
//   - failed: it ended with an error, or with a status of 400 or more,
//     except 404, 409 and 412 with no sub-status (an absent item, a
//     duplicate id, an etag that did not match: answers applications
//     expect). A 429 that ends a call counts as failed whatever its
//     sub-status (Java's default leaves out 429/3200): the chain's
//     throttling retries ran out;
//   - slow: it took longer than PointLatency (a point operation: read,
//     create, upsert, replace, patch or delete of one item) or
//     OtherLatency (every other operation: queries, feeds, batches,
//     metadata);
//   - costly: its attempts were charged more than RequestCharge request
//     units in all.
//
// The zero value is the default of every field: for each field 0 means
// its default and a negative value turns off what its comment says. The
// thresholds' defaults are those of the Java SDK's
// CosmosDiagnosticsThresholds (.NET's CosmosThresholdOptions has the same
// latencies; its request charge threshold is off by default). The rate
// limit is the chain's own: the SDKs have none. A transport's log is its
// own, with its own rate.
type LogOptions struct {
	// PointLatency is how long a point operation may take before it is
	// logged as slow. Default 1s; negative: point operations are never
	// logged for their latency.
	PointLatency time.Duration
	// OtherLatency is how long any other operation may take before it is
	// logged as slow. Default 3s; negative: never logged for their
	// latency.
	OtherLatency time.Duration
	// RequestCharge is how many request units a call may be charged, over
	// all its attempts, before it is logged as costly. Default 1000;
	// negative: never logged for their charge.
	RequestCharge float64

	// Rate is how many entries a second the transport writes, over time:
	// a token bucket that refills at Rate and holds at most Burst. An
	// entry that finds the bucket empty is not written but counted, and
	// the next entry written says how many were left out. Default 5;
	// negative: no limit.
	Rate float64
	// Burst is the most entries the transport writes at once, after a
	// quiet spell. Default 10; negative: 1.
	Burst int
}
