package transport

import (
	"container/list"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/instrument"
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
// request URL's scheme, host (in lower case) and port (the scheme's
// default when absent), so "https://A:443" and "https://a" share one. An
// endpoint whose circuit is open is answered at once with a
// *CircuitOpenError, without touching the network. 500s and never-sent
// transport errors count as failures, throttling and the caller's
// cancellation are not counted, all other answers count as successes (see
// decide.BreakerVerdict).
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

	// onTransition, when set, is told of every state change, outside
	// gobreaker's lock.
	onTransition func(endpoint string, from, to gobreaker.State)

	mu       sync.Mutex // guards circuits and idle
	circuits map[endpoint]*circuit
	idle     list.List // of *circuit, most recently used first
}

var _ http.RoundTripper = (*Breaker)(nil)

// circuit is one endpoint's breaker and the transitions it recorded.
type circuit struct {
	id          endpoint
	key         string // id as a string, for telemetry and operators
	cb          *gobreaker.TwoStepCircuitBreaker[struct{}]
	openTimeout time.Duration
	elem        *list.Element // in Breaker.idle; guarded by Breaker.mu
	lastUsed    time.Time     // guarded by Breaker.mu

	mu       sync.Mutex // guards pending, state and openedAt; taken inside gobreaker's lock, so never held while calling out
	pending  []transition
	state    gobreaker.State // as of the last transition gobreaker reported
	openedAt time.Time
}

type transition struct{ from, to gobreaker.State }

// circuitStatus is what an operator sees of a circuit that is not closed.
type circuitStatus struct {
	endpoint string          // the circuit's endpoint key, e.g. "https://contoso-westus.documents.azure.com:443"
	state    gobreaker.State // open or half-open
	until    time.Time       // when an open circuit lets a probe through; zero when half-open
}

// NewBreaker returns a Breaker in front of next (nil: http.DefaultTransport).
func NewBreaker(next http.RoundTripper, o policy.BreakerOptions) *Breaker {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Breaker{next: next, opts: o, circuits: make(map[endpoint]*circuit)}
}

// RoundTrip implements http.RoundTripper.
func (b *Breaker) RoundTrip(req *http.Request) (*http.Response, error) {
	c := b.circuit(endpointOf(req.URL))
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
	done(decide.BreakerResult(decide.Classify(resp, err)))
	b.flush(c)
	return resp, err
}

// State returns the state of endpoint's circuit (closed if it has none).
// endpoint is a URL such as "https://contoso.documents.azure.com:443/", or
// a host[:port], taken as https; it is normalised as request URLs are.
func (b *Breaker) State(endpoint string) gobreaker.State {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		u = &url.URL{Scheme: "https", Host: endpoint}
	}
	id := endpointOf(u)
	b.mu.Lock()
	c := b.circuits[id]
	b.mu.Unlock()
	if c == nil {
		return gobreaker.StateClosed
	}
	return c.cb.State()
}

// States calls yield with every endpoint that has a circuit (at most
// 1 024, named as "https://host:port") and its circuit's state.
func (b *Breaker) States(yield func(endpoint string, state gobreaker.State)) {
	for _, c := range b.snapshot() {
		yield(c.key, c.cb.State())
	}
}

// openCircuits returns the circuits that are open or half-open, by
// endpoint, for an operator's status.
func (b *Breaker) openCircuits() []circuitStatus {
	var out []circuitStatus
	for _, c := range b.snapshot() {
		s := c.cb.State() // moves an open circuit whose time is up to half-open
		b.flush(c)
		if s == gobreaker.StateClosed {
			continue
		}
		out = append(out, circuitStatus{endpoint: c.key, state: s, until: c.reopensAt()})
	}
	slices.SortFunc(out, func(a, b circuitStatus) int { return strings.Compare(a.endpoint, b.endpoint) })
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
func (b *Breaker) CloseIdleConnections() { closeIdle(b.next) }

// circuit returns id's circuit, made if need be, and marks it used; nil
// when there is no room for it.
func (b *Breaker) circuit(id endpoint) *circuit {
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
	return c.state == gobreaker.StateClosed
}

// record runs under gobreaker's lock: it only notes the change.
func (c *circuit) record(_ string, from, to gobreaker.State) {
	c.mu.Lock()
	c.pending = append(c.pending, transition{from, to})
	c.state = to
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

// An endpoint identifies a circuit: scheme, lower-case host (without
// brackets) and port, the scheme's default when the URL has none. Made
// from a URL already in lower case, it costs no allocation.
type endpoint struct{ scheme, host, port string }

func endpointOf(u *url.URL) endpoint {
	e := endpoint{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(u.Hostname()), port: u.Port()}
	if e.port == "" {
		switch e.scheme {
		case "https":
			e.port = "443"
		case "http":
			e.port = "80"
		}
	}
	return e
}

// String names the endpoint as "https://a:443" (IPv6 hosts in brackets).
func (e endpoint) String() string {
	if e.port == "" {
		host := e.host
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		return e.scheme + "://" + host
	}
	return e.scheme + "://" + net.JoinHostPort(e.host, e.port)
}

func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// breakerGauge maps a circuit's state to the cosmosrt.breaker.state gauge.
func breakerGauge(s gobreaker.State) int64 {
	switch s {
	case gobreaker.StateHalfOpen:
		return instrument.BreakerHalfOpen
	case gobreaker.StateOpen:
		return instrument.BreakerOpen
	}
	return instrument.BreakerClosed
}
