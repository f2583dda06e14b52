package bench

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/budget"
	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/transport"
)

// The retry settings every contender gets, so that they retry 429 and 503
// comparably: three retries, backoff from 1 ms doubling to 4 ms. cosmosrt
// keeps its own 429 rules (the server's hint, up to 9 retries), which the
// scenarios never exhaust.
const (
	maxRetries = 3
	backoffMin = time.Millisecond
	backoffMax = 4 * time.Millisecond
)

// A contender builds an http.Client of one library over base: a clone of
// http.DefaultTransport that the caller owns, or an in-process fake.
type contender struct {
	name   string
	client func(tb testing.TB, base http.RoundTripper) *http.Client
}

// Every contender: bare net/http first, the reference.
var (
	netHTTP   = contender{"nethttp", newNetHTTP}
	cosmosrt  = contender{"cosmosrt", newCosmosrt}
	retryable = contender{"retryablehttp", newRetryable}
	failsafe  = contender{"failsafego", newFailsafe}
)

// retriers are the contenders that retry.
var retriers = []contender{cosmosrt, retryable, failsafe}

// all are every contender.
var all = []contender{netHTTP, cosmosrt, retryable, failsafe}

// newBase returns a fresh clone of http.DefaultTransport whose idle
// connections are closed when tb ends.
func newBase(tb testing.TB) *http.Transport {
	base := http.DefaultTransport.(*http.Transport).Clone()
	tb.Cleanup(base.CloseIdleConnections)
	return base
}

func newNetHTTP(_ testing.TB, base http.RoundTripper) *http.Client {
	return &http.Client{Transport: base}
}

// cosmosrtRetry is cosmosrt's retry configuration: defaults, with the
// unavailability backoff shortened like the peers'.
func cosmosrtRetry() policy.RetryOptions {
	return policy.RetryOptions{UnavailableInitial: backoffMin, UnavailableMax: backoffMax}
}

// newCosmosrt is transport.New without an Endpoint: classification, retry,
// retry budget and breaker, no routing or signing. No telemetry provider
// is given and the otel globals are left unset.
func newCosmosrt(tb testing.TB, base http.RoundTripper) *http.Client {
	return newCosmosrtWith(tb, base, transport.Options{Retry: cosmosrtRetry()})
}

func newCosmosrtWith(tb testing.TB, base http.RoundTripper, o transport.Options) *http.Client {
	o.Base = base
	rt, err := transport.New(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rt.Close() })
	return &http.Client{Transport: rt}
}

// newRetryable is go-retryablehttp's StandardClient: its default retry
// policy (429 and 5xx but 501) and default backoff (which reads
// Retry-After), with the logger off (by default it writes a line to stderr
// for every request) and the last response passed through when retries run
// out (by default it is drained and replaced by an error).
func newRetryable(_ testing.TB, base http.RoundTripper) *http.Client {
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Transport: base}
	c.Logger = nil
	c.RetryMax = maxRetries
	c.RetryWaitMin, c.RetryWaitMax = backoffMin, backoffMax
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return c.StandardClient()
}

// newFailsafe is failsafe-go's failsafehttp RoundTripper with its HTTP
// retry policy (429 and 5xx but 501, Retry-After in seconds as the delay),
// returning the last response when retries run out.
func newFailsafe(_ testing.TB, base http.RoundTripper) *http.Client {
	rp := failsafehttp.NewRetryPolicyBuilder().
		WithMaxRetries(maxRetries).
		WithBackoff(backoffMin, backoffMax).
		ReturnLastFailure().
		Build()
	return &http.Client{Transport: failsafehttp.NewRoundTripper(base, rp)}
}

// newFailsafeBudget is newFailsafe with failsafe-go's retry budget (its
// defaults: retries at most 20 % of the executions in flight, at least 3
// concurrent retries always allowed).
func newFailsafeBudget(_ testing.TB, base http.RoundTripper) *http.Client {
	rp := failsafehttp.NewRetryPolicyBuilder().
		WithMaxRetries(maxRetries).
		WithBackoff(backoffMin, backoffMax).
		ReturnLastFailure().
		WithBudget(budget.New()).
		Build()
	return &http.Client{Transport: failsafehttp.NewRoundTripper(base, rp)}
}

// call sends req with c and reads the whole answer. It fails tb unless the
// answer's status is want.
func call(tb testing.TB, c *http.Client, req *http.Request, want int) {
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != want {
		tb.Fatalf("status %d, want %d", resp.StatusCode, want)
	}
}

// getLoop times b.N GETs of url through client, each expecting status want.
func getLoop(b *testing.B, client *http.Client, url string, want int) {
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		call(b, client, req, want)
	}
	b.StopTimer()
}

// perOp reports n per benchmark iteration under unit.
func perOp(b *testing.B, n int64, unit string) {
	b.ReportMetric(float64(n)/float64(b.N), unit)
}

func name(c contender) string { return fmt.Sprintf("lib=%s", c.name) }
