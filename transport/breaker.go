package transport

import (
	"net/http"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/telemetry"
)

// Breaker is a RoundTripper with one circuit breaker per endpoint (the
// request URL's host). An endpoint whose circuit is open is answered at once
// with a *CircuitOpenError, without touching the network. 500s and
// never-sent transport errors count as failures, throttling and the
// caller's cancellation are not counted, all other answers count as
// successes (see policy.BreakerVerdict). It is safe for concurrent use.
type Breaker struct {
	next http.RoundTripper
	opts policy.BreakerOptions

	// onTransition, when set, is told of every state change, outside
	// gobreaker's lock.
	onTransition func(endpoint string, from, to gobreaker.State)

	mu       sync.Mutex // guards circuits
	circuits map[string]*circuit
}

var _ http.RoundTripper = (*Breaker)(nil)

// circuit is one endpoint's breaker and the transitions it recorded.
type circuit struct {
	cb          *gobreaker.TwoStepCircuitBreaker[struct{}]
	openTimeout time.Duration

	mu       sync.Mutex // guards pending and openedAt; taken inside gobreaker's lock, so never held while calling out
	pending  []transition
	openedAt time.Time
}

type transition struct{ from, to gobreaker.State }

// NewBreaker returns a Breaker in front of next (nil: http.DefaultTransport).
func NewBreaker(next http.RoundTripper, o policy.BreakerOptions) *Breaker {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Breaker{next: next, opts: o, circuits: make(map[string]*circuit)}
}

// RoundTrip implements http.RoundTripper.
func (b *Breaker) RoundTrip(req *http.Request) (*http.Response, error) {
	c := b.circuit(req.URL.Host)
	done, err := c.cb.Allow()
	b.flush(req.URL.Host, c)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &CircuitOpenError{Endpoint: req.URL.Host, Until: c.reopensAt()}
	}
	resp, err := b.next.RoundTrip(req)
	done(policy.BreakerResult(policy.Classify(resp, err)))
	b.flush(req.URL.Host, c)
	return resp, err
}

// State returns the state of endpoint's circuit (closed if never used).
func (b *Breaker) State(endpoint string) gobreaker.State {
	b.mu.Lock()
	c := b.circuits[endpoint]
	b.mu.Unlock()
	if c == nil {
		return gobreaker.StateClosed
	}
	return c.cb.State()
}

// States calls yield with every known endpoint and its circuit's state.
func (b *Breaker) States(yield func(endpoint string, state gobreaker.State)) {
	b.mu.Lock()
	hosts := make([]string, 0, len(b.circuits))
	cs := make([]*circuit, 0, len(b.circuits))
	for h, c := range b.circuits {
		hosts = append(hosts, h)
		cs = append(cs, c)
	}
	b.mu.Unlock()
	for i, c := range cs {
		yield(hosts[i], c.cb.State())
	}
}

// CloseIdleConnections forwards to next.
func (b *Breaker) CloseIdleConnections() { closeIdle(b.next) }

func (b *Breaker) circuit(host string) *circuit {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.circuits[host]; ok {
		return c
	}
	c := &circuit{}
	st := b.opts.Settings(host, c.record)
	c.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](st)
	c.openTimeout = st.Timeout
	b.circuits[host] = c
	return c
}

// record runs under gobreaker's lock: it only notes the change.
func (c *circuit) record(_ string, from, to gobreaker.State) {
	c.mu.Lock()
	c.pending = append(c.pending, transition{from, to})
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
func (b *Breaker) flush(host string, c *circuit) {
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	if b.onTransition == nil {
		return
	}
	for _, t := range pending {
		b.onTransition(host, t.from, t.to)
	}
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
		return telemetry.BreakerHalfOpen
	case gobreaker.StateOpen:
		return telemetry.BreakerOpen
	}
	return telemetry.BreakerClosed
}
