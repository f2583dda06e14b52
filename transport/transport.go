package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/cosmosrt/cosmosrt/internal/instrument"
	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/region"
)

// Options configures New. The zero value of every field is its documented
// default; the zero Options give a chain that classifies, retries and
// breaks circuits, with the region features off.
type Options struct {
	// Endpoint is the account (global) endpoint, e.g.
	// "https://contoso.documents.azure.com:443/": an absolute http or https
	// URL without userinfo, whose host is a DNS name or an IP address,
	// with a port, if any, from 1 to 65535. Empty: no account; the chain
	// does not route, sign or fail over.
	Endpoint string

	// Key is the account's master key (base64). It signs DatabaseAccount
	// look-ups and requests that come without an Authorization header.
	// Required with Endpoint unless Credential is set. Options never print,
	// marshal or log it (see Format).
	Key string

	// Credential is used instead of Key when set (e.g. an Entra ID token
	// source); Key is then ignored.
	Credential region.Credential

	// PreferredRegions orders the read regions (names as the account
	// lists them, case-insensitive). Empty: the account's own order.
	PreferredRegions []string

	// RefreshInterval is how often the account document is re-read in the
	// background. 0: 5 minutes; negative: only on demand (first use and
	// failovers).
	RefreshInterval time.Duration

	// Base carries the attempts. nil: a new *http.Transport for this
	// chain, tuned for one account's traffic with the pool and timeouts of
	// azcosmos's own client: up to 100 idle connections per host (1000 in
	// all), closed after 90 s idle; 5 s to dial, TCP keep-alives every
	// 30 s; 10 s for the TLS handshake, TLS 1.2 or later, sessions
	// resumed; HTTP/2 when the server offers it, with a ping on a
	// connection that has received nothing for 5 s, closed if the answer
	// takes over 3 s; the proxy from the environment (HTTPS_PROXY,
	// NO_PROXY); no response-header timeout, as the call's context bounds
	// each wait. Pass your own Base to change these, to add a client
	// certificate or a dialer, or to share one pool among chains. Prefer an
	// *http.Transport: the chain watches its connections to tell a request
	// that was never sent from one that may have run; with any other Base
	// it judges from the error's type alone, conservatively, and resends
	// fewer failed writes.
	// Base must close every request body, as http.RoundTripper requires:
	// before resending a body the caller supplied (req.GetBody), the chain
	// waits until the last attempt's body was closed, or the request's
	// context ends.
	Base http.RoundTripper

	// Retry sets the retry rules; see policy.RetryOptions for defaults.
	Retry policy.RetryOptions

	// Breaker sets the per-endpoint circuit breakers; see
	// policy.BreakerOptions for defaults.
	Breaker policy.BreakerOptions

	// Partitions sets the partition circuits: one per partition key range
	// of a container in a region, so that one range's failures steer that
	// range's calls and never the region's; on by default, see
	// policy.PartitionOptions.
	Partitions policy.PartitionOptions

	// Throughput sets throughput control: groups of calls paced to a
	// target of request units per second (a call joins one with
	// RequestOptions.ThroughputGroup), and how calls wait after the
	// service throttles their partition key range. See
	// policy.ThroughputOptions for defaults.
	Throughput policy.ThroughputOptions

	// Hedge turns on hedged reads: a read whose region is slow to answer
	// is also sent to the next read region. Off by default; see
	// policy.HedgeOptions, and RequestOptions for one call.
	Hedge policy.HedgeOptions

	// TracerProvider, MeterProvider and Propagators default (nil) to the
	// otel globals, looked up when used rather than at New.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Propagators    propagation.TextMapPropagator

	// NoAttemptSpans leaves out the per-attempt HTTP spans, for a Base
	// that is already instrumented.
	NoAttemptSpans bool

	// Logger, when set, gets one entry for each call that ends failed,
	// slow or costly, with what each of its attempts met, whether or not
	// the call carries WithDiagnostics: a 429 that an SDK above reports
	// as one failed request shows here with its ten attempts. Log says
	// which calls count and how many entries a second are written. nil
	// (the default): nothing is logged, and nothing is recorded for it;
	// a Logger whose handler is not enabled at slog.LevelWarn is the same.
	//
	// A failed call is written at slog.LevelWarn with the message
	// "cosmosrt: failed call"; a slow one ("cosmosrt: slow call") or a
	// costly one ("cosmosrt: costly call") at slog.LevelInfo. The entry
	// is written when RoundTrip returns, before the caller reads the
	// body, with the call's context (its span, if traced), and has:
	// operation (the db.operation.name, such as "read_item"), database
	// and container when known, duration (until RoundTrip returned),
	// request_charge (every attempt's), then status and sub_status of the
	// response returned, or error_type (see AttemptDiagnostics.ErrorType)
	// and error, the error returned; tracking_id for a tracked write;
	// suppressed, the entries the rate left out since the last one
	// written, when there were any; attempt_count; and attempts, a group
	// with one group per attempt keyed "1", "2", … (its last 64, read-backs
	// included), each with region, duration, status, sub_status and
	// request_charge or error_type, and retry (the reason) and wait when
	// the chain retried after it, read_back for a read-back. Nothing in
	// an entry comes from a request's headers, URL query or body: no key,
	// signature or token. error is the text the caller gets, which names
	// hosts at most (a Base of your own answers for its errors' text).
	//
	// Cost: with Logger nil, nothing. With a Logger, every call records
	// its attempts as WithDiagnostics does: for a read that succeeds at
	// once, 2 allocations (about 0.7 KB). A call that is logged builds its
	// entry (3 allocations and 1 per attempt) and runs the handler in the
	// caller's goroutine; the README has measured times.
	//
	// Guarantees: one entry at most per call, never more entries than the
	// rate allows, and every call left out counted in the next entry
	// written. The log is the Transport's: a stand-alone Retry logs
	// nothing.
	Logger *slog.Logger

	// Log sets the thresholds of a slow or costly call and the rate of
	// Logger's entries; see policy.LogOptions for its defaults.
	Log policy.LogOptions
}

// Transport is the default composition of the chain:
//
//	retry loop (with the call's span) → breaker → attempt span → Base
//
// It is an http.RoundTripper, safe for concurrent use. Close stops the
// account's background refresh.
type Transport struct {
	retry   *Retry
	breaker *Breaker
	router  *account.Router
	tel     *instrument.Telemetry
	base    http.RoundTripper

	closeOnce sync.Once
	closing   chan struct{} // closed by Close
}

var _ http.RoundTripper = (*Transport)(nil)

// New builds the chain. It does no I/O: the account document is read on
// first use. Errors name the bad option and never contain the key.
func New(o Options) (*Transport, error) {
	endpoint, cred, err := accountOf(o)
	if err != nil {
		return nil, err
	}
	base := o.Base
	if base == nil {
		base = newDefaultBase()
	}
	tel := instrument.New(instrument.Options{
		TracerProvider: o.TracerProvider,
		MeterProvider:  o.MeterProvider,
		Propagators:    o.Propagators,
		NoAttemptSpans: o.NoAttemptSpans,
		Logger:         o.Logger,
		Log:            o.Log,
	})
	attempts := tel.Attempts(newPhases(base))

	t := &Transport{base: base, tel: tel, closing: make(chan struct{})}
	t.breaker = newBreaker(attempts, o.Breaker, func(endpoint string, from, to CircuitState) {
		tel.BreakerTransition(endpoint, from.String(), to.String())
	})
	tel.ObserveBreakers(func(yield func(string, int64)) {
		for endpoint, s := range t.breaker.states() {
			yield(endpoint, breakerGauge(s))
		}
	})
	_, closesBodies := base.(*http.Transport)
	deps := retryDeps{tel: tel, closing: t.closing, hedge: o.Hedge, closesBodies: closesBodies}
	if endpoint != nil {
		if deps.throttle, err = newThrottle(o.Throughput, cred); err != nil {
			tel.Close()
			return nil, err
		}
	} else if len(o.Throughput.Groups) > 0 {
		tel.Close()
		return nil, errors.New("transport: Options.Throughput.Groups need Options.Endpoint (a group paces an account's containers)")
	}
	if endpoint != nil {
		t.router, err = account.NewRouter(account.RouterOptions{
			Endpoint:         endpoint,
			Credential:       cred,
			PreferredRegions: o.PreferredRegions,
			Transport:        attempts,
			RefreshInterval:  o.RefreshInterval,
			Partitions:       o.Partitions,
			OnRefresh:        tel.OnRefresh,
			OnPartition:      partitionChanged(tel),
			OnProbe: func(ctx context.Context, e account.PartitionEvent) (context.Context, func(int, error)) {
				return tel.OnProbe(ctx, instrument.PartitionChange{Container: e.Container, Range: e.Range, Region: e.Region})
			},
		})
		if err != nil {
			tel.Close() // unregisters the breaker gauge's callback
			return nil, fmt.Errorf("transport: %w", err)
		}
		deps.router = t.router
		tel.ObservePartitions(func(yield func(string, int64)) {
			t.router.OpenPartitions(func(region string, n int) { yield(region, int64(n)) })
		})
	}
	t.retry = newRetry(t.breaker, o.Retry, deps)
	return t, nil
}

// partitionChanged records a partition circuit's change with tel.
func partitionChanged(tel *instrument.Telemetry) func(context.Context, account.PartitionEvent) {
	outcomes := map[account.PartitionChange]string{
		account.PartitionTripped:   instrument.PartitionTripped,
		account.PartitionReopened:  instrument.PartitionReopened,
		account.PartitionRecovered: instrument.PartitionRecovered,
	}
	return func(ctx context.Context, e account.PartitionEvent) {
		tel.PartitionChanged(ctx, instrument.PartitionChange{Container: e.Container, Range: e.Range, Region: e.Region, Outcome: outcomes[e.Change]})
	}
}

// accountOf returns the account endpoint of o and the credential that
// signs for it; a nil endpoint when o has none. Its errors name the
// option at fault and never contain the key.
func accountOf(o Options) (*url.URL, region.Credential, error) {
	if o.Endpoint == "" {
		return nil, nil, nil
	}
	u, _, err := wire.ParseEndpoint(o.Endpoint)
	if err != nil {
		return nil, nil, fmt.Errorf("transport: Options.Endpoint %w", err)
	}
	if o.Credential != nil {
		return u, o.Credential, nil
	}
	if o.Key == "" {
		return nil, nil, errors.New("transport: Options.Endpoint needs Options.Key or Options.Credential")
	}
	key, err := region.NewMasterKey(o.Key) // its error never contains the key
	if err != nil {
		return nil, nil, fmt.Errorf("transport: Options.Key: %w", err)
	}
	return u, key, nil
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.retry.RoundTrip(req)
}

// CloseIdleConnections closes Base's idle connections.
func (t *Transport) CloseIdleConnections() { wire.CloseIdle(t.base) }

// Close stops the account's background refresh, unregisters the chain's
// metric callbacks and closes idle connections. Calls in flight finish
// their current attempt and do not resend: one waiting to resend returns
// an error wrapping ErrClosed. Later calls fail with ErrClosed.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() { close(t.closing) })
	var errs []error
	if t.router != nil {
		errs = append(errs, t.router.Close())
	}
	errs = append(errs, t.tel.Close())
	t.CloseIdleConnections()
	return errors.Join(errs...)
}
