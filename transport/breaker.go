package transport

import (
	"container/list"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/instrument"
	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
)

// maxCircuits bounds the circuits a Breaker keeps. An account has a
// handful of endpoints; the bound is for a chain that is sent to many
// hosts (or to hosts an attacker names), which would otherwise keep a
// breaker, and a series of the cosmosrt.breaker.state gauge, for every
// host ever seen: 1 024 stays under the 2 000 series a metric stream gets
// by default in the OpenTelemetry SDK.
const maxCircuits = 1024

// Breaker is a RoundTripper with one circuit breaker per endpoint: the
// request URL's scheme, host (in lower case, without a trailing dot) and
// port (the scheme's default when absent), so "https://A:443" and
// "https://a." share one. An endpoint whose circuit is open is answered at
// once with a *CircuitOpenError, without touching the network.
//
// 500s that name no partition key range and transport errors from before
// the request was sent count as failures: what the endpoint itself does. A
// 500 that names its range (x-ms-documentdb-partitionkeyrangeid) is that
// range's, counted by the partition circuits (see
// policy.PartitionOptions), so that one range's failures never open the
// circuit of a whole region. Answers that say nothing certain about the endpoint count
// neither way: 429 (the caller's own throughput), 503 (the service asks
// to be retried; an open circuit would turn a write's safe retry into an
// error), transport errors after the request may have been sent (the
// fault may be the network's or the caller's timeout) and the caller's
// cancellation. Every other answer, 2xx to 4xx including 408, 449 and the
// failover sub-statuses, shows a live endpoint and counts as a success.
//
// A Breaker keeps at most 1 024 circuits. To make room for a new endpoint
// it forgets the closed circuit used least recently or, when there is
// none, an open or half-open circuit that no request has used for a whole
// OpenTimeout (its open period is over and no probe is under way, so
// forgetting it costs at most one probe's worth of protection). It never
// forgets a circuit that is open or half-open and in use. When every
// circuit is, a request to a new endpoint goes through without a circuit
// until room is made: forgetting a circuit in use would send traffic back
// to an endpoint known to be failing, while the untracked request costs
// only the protection of an endpoint not yet seen to fail.
//
// It is safe for concurrent use.
type Breaker struct {
	next http.RoundTripper
	opts policy.BreakerOptions

	// onTransition, when not nil, is told of every state change, outside
	// gobreaker's lock.
	onTransition func(endpoint string, from, to CircuitState)

	mu       sync.Mutex // guards circuits and idle
	circuits map[wire.Endpoint]*circuit
	idle     list.List // of *circuit, most recently used first
}

// CircuitState is the state of an endpoint's circuit.
type CircuitState uint8

// The states of a circuit.
const (
	// CircuitClosed: requests go through; failures are counted.
	CircuitClosed CircuitState = iota
	// CircuitHalfOpen: the open period is over; a few probes go through,
	// and their answers close the circuit or open it again.
	CircuitHalfOpen
	// CircuitOpen: requests are refused with a *CircuitOpenError until
	// the open period (policy.BreakerOptions.OpenTimeout) is over.
	CircuitOpen
)

// String returns "closed", "half-open" or "open" ("unknown" for a value
// that is none of the states).
func (s CircuitState) String() string {
	switch s {
	case CircuitClosed:
		return "closed"
	case CircuitHalfOpen:
		return "half-open"
	case CircuitOpen:
		return "open"
	}
	return "unknown"
}

// stateOf returns the CircuitState of a gobreaker state.
func stateOf(s gobreaker.State) CircuitState {
	switch s {
	case gobreaker.StateHalfOpen:
		return CircuitHalfOpen
	case gobreaker.StateOpen:
		return CircuitOpen
	}
	return CircuitClosed
}

var _ http.RoundTripper = (*Breaker)(nil)

// circuit is one endpoint's breaker and the transitions it recorded.
type circuit struct {
	id          wire.Endpoint
	key         string // id as a string, for telemetry and operators
	cb          *gobreaker.TwoStepCircuitBreaker[struct{}]
	openTimeout time.Duration
	elem        *list.Element // in Breaker.idle; guarded by Breaker.mu
	lastUsed    time.Time     // guarded by Breaker.mu

	mu       sync.Mutex // guards pending, state and openedAt; taken inside gobreaker's lock, so never held while calling out
	pending  []transition
	state    CircuitState // as of the last transition gobreaker reported
	openedAt time.Time
}

type transition struct{ from, to CircuitState }

// NewBreaker returns a Breaker in front of next (nil: http.DefaultTransport).
func NewBreaker(next http.RoundTripper, o policy.BreakerOptions) *Breaker {
	return newBreaker(next, o, nil)
}

// newBreaker is NewBreaker with onTransition, when not nil, told of every
// state change of every circuit, outside gobreaker's lock, on the
// goroutine of a request or of a look at the circuits.
func newBreaker(next http.RoundTripper, o policy.BreakerOptions, onTransition func(endpoint string, from, to CircuitState)) *Breaker {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Breaker{next: next, opts: o, onTransition: onTransition, circuits: make(map[wire.Endpoint]*circuit)}
}

// RoundTrip implements http.RoundTripper.
func (b *Breaker) RoundTrip(req *http.Request) (*http.Response, error) {
	c := b.circuit(wire.EndpointOf(req.URL))
	if c == nil {
		return b.next.RoundTrip(req) // no room: untracked, see Breaker
	}
	done, err := c.cb.Allow()
	b.flush(c)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &CircuitOpenError{Endpoint: req.URL.Host, Until: c.reopensAt()}
	}
	resp, err := b.next.RoundTrip(req)
	done(decide.BreakerResult(resp, err))
	b.flush(c)
	return resp, err
}

// State returns the state of endpoint's circuit (closed if it has none).
// endpoint is a URL such as "https://contoso.documents.azure.com:443/", or
// a host[:port], taken as https; it is normalised as request URLs are.
func (b *Breaker) State(endpoint string) CircuitState {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		u = &url.URL{Scheme: "https", Host: endpoint}
	}
	id := wire.EndpointOf(u)
	b.mu.Lock()
	c := b.circuits[id]
	b.mu.Unlock()
	if c == nil {
		return CircuitClosed
	}
	return stateOf(c.cb.State())
}

// states yields every endpoint that has a circuit (at most 1 024, named as
// "https://host:port") with its circuit's state, for the
// cosmosrt.breaker.state gauge.
func (b *Breaker) states() iter.Seq2[string, CircuitState] {
	return func(yield func(string, CircuitState) bool) {
		for _, c := range b.snapshot() {
			if !yield(c.key, stateOf(c.cb.State())) {
				return
			}
		}
	}
}

// openCircuits returns the circuits that are open or half-open, by
// endpoint, for an operator's status.
func (b *Breaker) openCircuits() []CircuitStatus {
	var out []CircuitStatus
	for _, c := range b.snapshot() {
		s := stateOf(c.cb.State()) // moves an open circuit whose time is up to half-open
		b.flush(c)
		if s == CircuitClosed {
			continue
		}
		out = append(out, CircuitStatus{Endpoint: c.key, HalfOpen: s == CircuitHalfOpen, Until: c.reopensAt()})
	}
	slices.SortFunc(out, func(a, b CircuitStatus) int { return strings.Compare(a.Endpoint, b.Endpoint) })
	return out
}

func (b *Breaker) snapshot() []*circuit {
	b.mu.Lock()
	defer b.mu.Unlock()
	cs := make([]*circuit, 0, len(b.circuits))
	for _, c := range b.circuits {
		cs = append(cs, c)
	}
	return cs
}

// CloseIdleConnections forwards to next.
func (b *Breaker) CloseIdleConnections() { wire.CloseIdle(b.next) }

// circuit returns id's circuit, made if need be, and marks it used; nil
// when there is no room for it.
func (b *Breaker) circuit(id wire.Endpoint) *circuit {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if c, ok := b.circuits[id]; ok {
		b.idle.MoveToFront(c.elem)
		c.lastUsed = now
		return c
	}
	if len(b.circuits) >= maxCircuits && !b.evictLocked(now) {
		return nil
	}
	c := &circuit{id: id, key: id.String(), lastUsed: now}
	st := decide.BreakerSettings(b.opts, c.key, c.record)
	c.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](st)
	c.openTimeout = st.Timeout
	c.elem = b.idle.PushFront(c)
	b.circuits[id] = c
	return c
}

// evictLocked forgets the closed circuit used least recently or, failing
// that, the one used least recently of those idle for at least their
// OpenTimeout, reporting whether there was one. b.mu is held.
func (b *Breaker) evictLocked(now time.Time) bool {
	var stale *circuit
	for e := b.idle.Back(); e != nil; e = e.Prev() {
		c := e.Value.(*circuit)
		if c.closed() {
			stale = c
			break
		}
		if stale == nil && now.Sub(c.lastUsed) >= c.openTimeout {
			stale = c
		}
	}
	if stale == nil {
		return false
	}
	b.idle.Remove(stale.elem)
	delete(b.circuits, stale.id)
	return true
}

// closed reports whether the circuit was closed at its last transition.
// An open circuit becomes half-open only when gobreaker is next asked, so
// this never takes an open circuit for a closed one.
func (c *circuit) closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == CircuitClosed
}

// record runs under gobreaker's lock: it only notes the change.
func (c *circuit) record(_ string, from, to gobreaker.State) {
	c.mu.Lock()
	c.pending = append(c.pending, transition{stateOf(from), stateOf(to)})
	c.state = stateOf(to)
	if to == gobreaker.StateOpen {
		c.openedAt = time.Now()
	}
	c.mu.Unlock()
}

// reopensAt is when an open circuit lets a probe through.
func (c *circuit) reopensAt() time.Time {
	if c.cb.State() != gobreaker.StateOpen { // not under c.mu: State takes gobreaker's lock
		return time.Time{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.openedAt.IsZero() {
		return time.Time{}
	}
	return c.openedAt.Add(c.openTimeout)
}

// flush reports recorded transitions, outside gobreaker's lock.
func (b *Breaker) flush(c *circuit) {
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	if b.onTransition == nil {
		return
	}
	for _, t := range pending {
		b.onTransition(c.key, t.from, t.to)
	}
}

// breakerGauge maps a circuit's state to the cosmosrt.breaker.state gauge.
func breakerGauge(s CircuitState) int64 {
	switch s {
	case CircuitHalfOpen:
		return instrument.BreakerHalfOpen
	case CircuitOpen:
		return instrument.BreakerOpen
	}
	return instrument.BreakerClosed
}
