package instrument

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"
)

// Breaker states as reported by the cosmosrt.breaker.state gauge.
const (
	BreakerClosed   int64 = 0
	BreakerHalfOpen int64 = 1
	BreakerOpen     int64 = 2
)

// BreakerTransition counts one circuit breaker state change of endpoint
// (a URL or host[:port]; only its host and port are recorded) from state
// from to state to, as cosmosrt.breaker.transitions. It is cheap, never
// waits on I/O, and may be called from any goroutine.
func (t *Telemetry) BreakerTransition(endpoint, from, to string) {
	in := t.instruments()
	ctx := context.Background()
	if !in.transitions.Enabled(ctx) {
		return
	}
	attrs := append(endpointAttrs(endpoint), attrBreakerFrom.String(from), attrBreakerTo.String(to))
	in.transitions.Add(ctx, 1, metric.WithAttributes(attrs...))
}

// ObserveBreakers adds f to the sources of the cosmosrt.breaker.state gauge
// (BreakerClosed, BreakerHalfOpen or BreakerOpen per endpoint). At each
// collection f is called and must call yield once per endpoint; it runs on
// the collecting goroutine and must not block. The gauge callback is
// registered with the meter provider in use now, and again with a new
// provider when a later use finds that the provider has changed; Close
// unregisters it.
func (t *Telemetry) ObserveBreakers(f func(yield func(endpoint string, state int64))) {
	t.observe(&t.observers, f)
}

// observe adds f to the sources of a gauge, fs, and registers the gauges'
// callback with the meter provider in use now.
func (t *Telemetry) observe(fs *atomic.Pointer[[]func(yield func(string, int64))], f func(yield func(string, int64))) {
	if f == nil {
		return
	}
	t.mu.Lock()
	var list []func(yield func(string, int64))
	if old := fs.Load(); old != nil {
		list = append(list, *old...)
	}
	list = append(list, f)
	fs.Store(&list)
	t.mu.Unlock()

	in := t.instruments()
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed && t.inst.Load() == in {
		in.register(t)
	}
}

// splitEndpoint returns the host and port of a URL or host[:port]. The port
// is 0 when absent or not a number.
func splitEndpoint(endpoint string) (host string, port int) {
	if _, rest, ok := strings.Cut(endpoint, "://"); ok {
		endpoint = rest
	}
	if i := strings.IndexAny(endpoint, "/?#"); i >= 0 {
		endpoint = endpoint[:i]
	}
	if i := strings.LastIndexByte(endpoint, '@'); i >= 0 {
		endpoint = endpoint[i+1:] // never record user info
	}
	return splitHostPort(endpoint)
}

// splitHostPort splits host[:port], with IPv6 hosts in brackets. The port
// is 0 when absent or not a number.
func splitHostPort(hostport string) (host string, port int) {
	host = hostport
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		switch p, err := strconv.Atoi(hostport[i+1:]); {
		case err == nil && p > 0 && p < 65536:
			host, port = hostport[:i], p
		case i == len(hostport)-1:
			host = hostport[:i] // "host:" has no port
		}
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return host, port
}
