// Package throttle paces a transport's calls by request units, per
// partition key range: throughput groups (policy.ThroughputGroup) spend
// at most their target in each container, split over its ranges, and a
// range the service throttled (429 with sub-status 3200) holds back the
// calls of the same or a lower priority until the service's hint, then
// lets them through at the rate the range was seen to serve.
//
// The transport asks before each attempt and tells after it:
//
//	wait, err := t.Reserve(call, &slot) // err: cannot be served in time; nothing reserved
//	// wait, then send (or t.Cancel(&slot) if the attempt is not sent); t.Waited(&slot) after the wait
//	t.Settle(&slot, answer)             // the real charge, and what a 429 teaches
//
// A call that joins no group while no range is held costs one atomic load
// (see Holding). Every map is bounded.
package throttle
