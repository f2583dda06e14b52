package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/partition"
	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/region"
)

// errClosed reports a look-up requested from a closed Router.
var errClosed = errors.New("no more account look-ups: closed")

// Defaults of RouterOptions.
const (
	defaultRefreshInterval = 5 * time.Minute
	defaultMarkTTL         = 5 * time.Minute
	defaultRefreshTimeout  = 10 * time.Second
)

// RouterOptions configures a Router. The zero value of each field is its
// documented default; Endpoint and Credential are required.
type RouterOptions struct {
	// Endpoint is the account (global) endpoint, an absolute http or https
	// URL. Required.
	Endpoint *url.URL
	// Credential signs the DatabaseAccount look-ups. Required.
	Credential region.Credential
	// PreferredRegions orders read endpoints, and the write endpoints of a
	// multi-write account: the listed regions first, in this order (names
	// compared case-insensitively), then the others in the account's
	// order.
	PreferredRegions []string
	// Transport carries the look-ups; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// RefreshInterval is the period of the background refresh; 0 means
	// defaultRefreshInterval, negative means no background refresh.
	RefreshInterval time.Duration
	// MarkTTL is how long markUnavailable's marks last; 0 means
	// defaultMarkTTL, negative means marks are ignored.
	MarkTTL time.Duration
	// RefreshTimeout bounds one look-up, the tries of regional endpoints
	// included (see Router); 0 means defaultRefreshTimeout, negative means
	// no bound other than Close, in which case a stalled endpoint stalls
	// the look-up.
	RefreshTimeout time.Duration
	// Partitions configures the partition circuits (see
	// policy.PartitionOptions).
	Partitions policy.PartitionOptions
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnRefresh, if set, is called when a look-up starts, with the
	// look-up's context and whether a caller forced it (refresh) rather
	// than ensure or the background refresh. The look-up runs on the
	// returned context (nil: the one given), which should derive from the
	// given one so that the look-up stays bounded; the returned function,
	// if not nil, is called with the look-up's result. Telemetry starts a
	// span here. It must not block.
	OnRefresh func(ctx context.Context, forced bool) (context.Context, func(err error))
	// OnPartition, if set, is called when a partition circuit changes
	// (see PartitionChange), with the context of the call whose answer
	// changed it. Telemetry adds a span event and counts the change. It
	// must not block.
	OnPartition func(ctx context.Context, e PartitionEvent)
	// OnProbe, if set, is called when a probe of a partition circuit
	// starts (see partitions.check), with the range's container, range and
	// region in e (no Change). The probe runs on the returned context,
	// which should derive from the given one; the returned function, if
	// not nil, is called once with the status the probe met (0: none) and
	// the error that ended it. Telemetry starts a span here. It must not
	// block.
	OnProbe func(ctx context.Context, e PartitionEvent) (context.Context, func(status int, err error))
}

// A Router knows the account's regions and says which endpoint serves an
// attempt. It loads the DatabaseAccount lazily (ensure), refreshes it in
// the background and on demand (refresh, startRefresh), with at most one
// look-up in flight at a time, and keeps unavailability marks per
// endpoint. A failed look-up keeps the previous account. A Router is safe
// for concurrent use.
//
// A look-up reads the DatabaseAccount from the global endpoint. When that
// fails (a transport error, any status but 200, a body that cannot be
// read or is not a valid document) and the look-up has neither timed out
// nor been ended by Close, it asks the regional endpoints of the current
// account in turn, as the official SDKs do: the read endpoints in the
// order readEndpoints gives, then the write endpoints, each once, at most
// three, signed by the same credential, their documents validated for the
// global endpoint. While more endpoints remain, a try gets at most half of
// the time left before RefreshTimeout, so a stalled global endpoint uses
// at most half of it and leaves the rest to the others; the last try gets
// all that is left. With no account loaded yet only the global endpoint
// is asked. When every endpoint fails, the error names each endpoint's
// host and failure (never the Authorization value) and unwraps to each
// failure, for errors.Is and errors.As.
type Router struct {
	endpoint  *url.URL
	id        wire.Endpoint // endpoint's identity
	cred      region.Credential
	rt        http.RoundTripper
	now       func() time.Time
	timeout   time.Duration
	onRefresh func(context.Context, bool) (context.Context, func(error))
	cache     *locationCache
	hedges    hedgeLosses
	parts     *partitions
	moves     *rangeMoves      // where the writes of ranges that moved on their own go (per-partition failover)
	ranges    *partition.Cache // the partition key ranges of containers, loaded when a call needs its range

	throughputs throughputs // the provisioned throughput of containers, read for throughput groups

	onPartition func(context.Context, PartitionEvent)                                     // RouterOptions.OnPartition
	onProbe     func(context.Context, PartitionEvent) (context.Context, func(int, error)) // RouterOptions.OnProbe

	closeCtx context.Context // cancelled by Close; ends look-ups
	cancel   context.CancelFunc
	wg       sync.WaitGroup // the background refresh, running look-ups and probes

	started atomic.Uint64 // look-ups started; written under mu
	forcing atomic.Bool   // a forced look-up is in flight or queued; written under mu

	mu       sync.Mutex      // guards inflight, last, queued and closed
	inflight *flight         // the running look-up, nil if none
	last     *flight         // the latest completed look-up, nil if none
	queued   context.Context // non-nil: a forced look-up to start when inflight completes
	closed   bool
}

// NewRouter returns a Router for the account at o.Endpoint. It does no
// I/O: the account is loaded by the first ensure or refresh. If the
// background refresh is on, NewRouter starts its goroutine, which first
// looks the account up one RefreshInterval after NewRouter and then every
// RefreshInterval; Close stops it.
func NewRouter(o RouterOptions) (*Router, error) {
	id, err := wire.CheckEndpoint(o.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("the account endpoint %w", err)
	}
	if o.Credential == nil {
		return nil, errors.New("no credential to sign the account look-ups")
	}
	r := &Router{
		endpoint:  o.Endpoint,
		id:        id,
		cred:      o.Credential,
		rt:        o.Transport,
		now:       o.Now,
		timeout:   durationOr(o.RefreshTimeout, defaultRefreshTimeout),
		onRefresh: o.OnRefresh,
		cache:     newLocationCache(o.PreferredRegions, durationOr(o.MarkTTL, defaultMarkTTL)),
	}
	if r.rt == nil {
		r.rt = http.DefaultTransport
	}
	if r.now == nil {
		r.now = time.Now
	}
	// Ranges tripped in a region mark it for reads only for their open
	// period: then their circuits are tested (a region marked for the
	// cache's own five minutes would keep every read away long after a
	// short fault, and its tripped ranges untested).
	r.parts = newPartitions(o.Partitions, r.now, func(u *url.URL) {
		r.cache.markFor(u, false, r.now(), r.parts.opts.OpenTimeout)
	})
	r.moves = newRangeMoves(r.parts.opts.MaxRanges, r.now)
	r.ranges = partition.NewCache(r.loadRanges, partition.CacheOptions{Now: r.now})
	r.onPartition, r.onProbe = o.OnPartition, o.OnProbe
	r.parts.probing = r.parts.on()
	r.closeCtx, r.cancel = context.WithCancel(context.Background())
	if every := durationOr(o.RefreshInterval, defaultRefreshInterval); every > 0 {
		r.wg.Add(1)
		go r.refreshEvery(every)
	}
	return r, nil
}

// durationOr returns d, or def when d is 0.
func durationOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Close stops the background refresh, any look-up and any probe of a
// partition circuit in flight, and waits for them. Later ensure and refresh calls fail with ErrClosed; the
// endpoints already known stay available. Close always returns nil.
func (r *Router) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	if r.ranges != nil {
		r.ranges.Close()
	}
	return nil
}

// Owns reports whether u targets this account, that is whether
// inAccount(RouterOptions.Endpoint, u) holds: u keeps the global
// endpoint's scheme and names its host or a sibling of it (any port but
// 0). The answer does not depend on the account document, so a regional
// URL is owned before the account was ever loaded. Requests the router
// owns may be routed, signed and resent to any endpoint of the account.
// Owns does not allocate when u's host is spelt as the global
// endpoint's, nor for any lower-case host.
func (r *Router) Owns(u *url.URL) bool {
	if u == nil {
		return false
	}
	if u.Host == r.endpoint.Host && u.Scheme == r.endpoint.Scheme && u.User == nil && u.Opaque == "" {
		return true
	}
	return inAccount(r.endpoint, u)
}

// WriteEndpoint returns the endpoint for the next write, the first of
// WriteEndpoints, and false before the account is loaded. The URL must
// not be modified.
func (r *Router) WriteEndpoint() (*url.URL, bool) {
	rt := r.cache.routes(r.now())
	if len(rt.write) == 0 {
		return nil, false
	}
	return rt.write[0], true
}

// writeEndpoints returns the write endpoints in the order writes use
// them, those marked unavailable for writes moved to the end (or all in
// that order if all are marked). In a single-write account they keep the
// account's order, whose first is the write region. In a multi-write
// account (Account.MultipleWriteLocations) they follow
// RouterOptions.PreferredRegions as readEndpoints do: the listed regions
// first, in that order, then the others in the account's order. It is
// empty before the account is loaded. The slice is shared and
// precomputed: callers must not modify it or its URLs.
func (r *Router) writeEndpoints() []*url.URL {
	return r.cache.routes(r.now()).write
}

// readEndpoints returns the read endpoints in preference order (see
// RouterOptions.PreferredRegions), those marked unavailable for reads
// moved to the end; the writable locations stand in when the account lists
// no readable one. It is empty before the account is loaded. The slice is
// shared and precomputed: callers must not modify it or its URLs.
func (r *Router) readEndpoints() []*url.URL {
	return r.cache.routes(r.now()).read
}

// markUnavailable marks the endpoint u unavailable for writes (write) or
// for reads until MarkTTL has elapsed; marking again extends the mark.
// Endpoints the current account does not list are ignored.
func (r *Router) markUnavailable(u *url.URL, write bool) {
	r.cache.mark(u, write, r.now())
}

// Account returns the current account, nil before the first successful
// look-up. The Account is immutable.
func (r *Router) Account() *Account {
	return r.cache.snap.Load().account
}

// NameOfHost names the account's endpoint at host: its region's name, or
// host itself.
func (r *Router) NameOfHost(host string) string { return r.nameOfHost(host) }
