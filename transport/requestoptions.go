package transport

import (
	"context"

	"github.com/cosmosrt/cosmosrt/policy"
)

// RequestOptions change how the chain handles one call, through its
// context (see WithRequestOptions). The zero value changes nothing.
type RequestOptions struct {
	// ExcludedRegions names regions (as the account lists them,
	// case-insensitive) this call is never sent to. A call left with no
	// region fails at once with an error saying so. It applies to calls
	// the chain routes, once the account is known.
	ExcludedRegions []string
	// Hedge, when not nil, replaces Options.Hedge for this call: e.g.
	// &policy.HedgeOptions{} turns hedging off for a read that must not
	// cost extra request units. Its Ratio and Burst cannot make a budget
	// of the call's own, since a budget is an allowance over many calls: a
	// negative Ratio exempts the call's hedges from the budget (each may
	// go), any other value has them draw on the transport's, which
	// Options.Hedge sizes (with its defaults, also when Options.Hedge
	// leaves hedging off).
	Hedge *policy.HedgeOptions
	// TrackWrites, when not nil, replaces Options.Retry.TrackWrites for
	// this call (see policy.RetryOptions.TrackWrites).
	TrackWrites *bool
	// TrackingID, when not empty, is the tracking id of this call's
	// tracked write, in place of a fresh random one: it must be unique to
	// the call (a caller's idempotency key, say), since a read-back that
	// finds it takes the write as this call's. It is ignored when the call
	// is not a tracked write.
	TrackingID string
	// ThroughputGroup, when not empty, makes the call one of the named
	// group of Options.Throughput.Groups: its attempts are paced to the
	// group's target (see policy.ThroughputGroup). A name the transport
	// does not have fails the call at once with a *ThroughputError.
	ThroughputGroup string
	// Priority, when not 0, is the call's priority in place of its
	// group's (see policy.Priority). A PriorityLow call carries
	// x-ms-cosmos-priority-level: Low. A priority header the request
	// already has (set by the caller, or by azcosmos's PriorityLevel
	// option) wins over both: the chain neither changes nor adds one, and
	// ranks the call by it.
	Priority policy.Priority
}

type requestOptionsKey struct{}

// WithRequestOptions returns ctx carrying o for the calls made with it.
func WithRequestOptions(ctx context.Context, o RequestOptions) context.Context {
	return context.WithValue(ctx, requestOptionsKey{}, o)
}

// requestOptionsOf returns the RequestOptions ctx carries, if any.
func requestOptionsOf(ctx context.Context) RequestOptions {
	o, _ := ctx.Value(requestOptionsKey{}).(RequestOptions)
	return o
}
