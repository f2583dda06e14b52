package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/instrument"
	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/region"
)

// Retry is the chain's one retry loop. For each attempt it classifies the
// answer (policy.Classify), asks the call's policy.Retrier what to do, waits
// (never past the request's deadline, returning at once when the context
// ends), and, when the chain knows the account, asks the router which
// endpoint serves the next attempt. When retries run out the last response
// comes back as it came, with a nil error. It is safe for concurrent use.
type Retry struct {
	next   http.RoundTripper
	opts   policy.RetryOptions
	budget *policy.Budget
	retryDeps
}

// headerAllowTentativeWrites lets any write region of a multi-write
// account take a write.
const headerAllowTentativeWrites = "X-Ms-Cosmos-Allow-Tentative-Writes"

// retryDeps are what New gives the loop beyond a stand-alone Retry: the
// account's router and credential, telemetry, and the chain's closing.
type retryDeps struct {
	router  *region.Router
	cred    region.Credential
	tel     *instrument.Telemetry
	closing <-chan struct{} // closed by Transport.Close; nil: never
}

var _ http.RoundTripper = (*Retry)(nil)

// NewRetry returns a Retry in front of next (nil: http.DefaultTransport).
// Without an account it retries every attempt at the request's own URL,
// does not sign, and returns a 403.3 or 403.1008 at once (there is no
// account to learn the new region from; a client above may).
func NewRetry(next http.RoundTripper, o policy.RetryOptions) *Retry {
	return newRetry(next, o, retryDeps{})
}

func newRetry(next http.RoundTripper, o policy.RetryOptions, deps retryDeps) *Retry {
	if next == nil {
		next = http.DefaultTransport
	}
	o = o.WithDefaults()
	return &Retry{next: next, opts: o, budget: policy.NewBudget(o.Budget), retryDeps: deps}
}

// CloseIdleConnections forwards to next.
func (r *Retry) CloseIdleConnections() { closeIdle(r.next) }

// RoundTrip implements http.RoundTripper. It never modifies req. A request
// net/http would refuse (see ErrInvalidRequest) is refused at once.
func (r *Retry) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if err := checkRequest(req); err != nil {
		closeRequestBody(req)
		return nil, err
	}
	if r.isClosed() {
		closeRequestBody(req)
		return nil, ErrClosed
	}
	ctx := req.Context()
	var call *instrument.Call
	if r.tel != nil {
		ctx, call = r.tel.StartCall(ctx, req)
		defer func() { call.End(resp, err, errorType(err)) }()
	}

	body, err := newReplayBody(req, r.opts.MaxBufferedBody)
	if err != nil {
		return nil, err
	}
	defer body.close()

	write := policy.IsWrite(req)
	var owner *region.Router
	if r.router != nil && r.router.Owns(req.URL) {
		owner = r.router
	}
	rt := newRoute(ctx, owner, req.URL, write)
	sign := owner != nil && r.cred != nil && req.Header.Get("Authorization") == ""
	var retrier *policy.Retrier // made at the first answer that may call for a retry
	maxDrain := max(r.opts.MaxDrain, 0)

	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("transport: before attempt 1: %w", err)
	}
	b, err := body.next(ctx)
	if err != nil {
		return nil, fmt.Errorf("transport: request body for attempt 1: %w", err)
	}
	for attempt := 0; ; attempt++ {
		// The attempt's own context: cancelling it ends a drain that
		// stalls; the caller's Close of a returned body releases it.
		actx, abort := context.WithCancel(ctx)
		areq, err := r.attemptRequest(actx, req, &rt, b, body.length, attempt, sign)
		if err != nil {
			abort()
			return nil, err
		}
		if call != nil { // naming the region scans the account: only when recorded
			call.Attempt(rt.regionName())
		}
		resp, err = r.next.RoundTrip(areq)
		var answered uint64 // look-ups started by the time of the answer
		if r.router != nil {
			answered = r.router.Epoch()
		}
		outcome := policy.Classify(resp, err)
		if errors.Is(err, ErrCircuitOpen) {
			outcome = policy.CircuitOpen
		}
		call.Charge(resp)
		r.account(outcome, err)

		if outcome == policy.OK || outcome == policy.Final {
			return keep(resp, abort), err // the happy path: no retry state needed
		}
		if retrier == nil {
			retrier = policy.NewRetrier(r.opts, nil, nil)
		}
		d := retrier.Decide(write, outcome, resp)
		resend := r.shouldRetry(ctx, d, &rt, &body)
		rt.observe(ctx, outcome, answered, resend)
		if resend && d.Route == policy.Refresh && !rt.known {
			// Only the account can say where this goes: learn it now, or
			// return the answer rather than resend it where it was refused.
			resend = rt.lookUp(ctx, answered) == nil && rt.known
		}
		if !resend {
			return keep(resp, abort), err
		}
		// Take the next attempt's body before draining the answer when the
		// last attempt has released it: if the caller's GetBody fails, the
		// caller still gets the answer as it came.
		var berr error
		early := body.released()
		if early {
			if b, berr = body.next(ctx); berr != nil {
				return keep(resp, abort), err
			}
		}
		drain(resp, maxDrain, abort)
		abort()
		if !early {
			if b, berr = body.next(ctx); berr != nil {
				return nil, fmt.Errorf("transport: request body for attempt %d: %w", attempt+2, berr)
			}
		}
		call.Retry(d.Reason.String(), d.Wait)
		if err := r.wait(ctx, d.Wait); err != nil {
			closeBody(b)
			return nil, fmt.Errorf("transport: waiting %s to retry after %s: %w", d.Wait, d.Reason, err)
		}
		if err := rt.advance(ctx, d, answered); err != nil {
			closeBody(b)
			return nil, fmt.Errorf("transport: refreshing the account after %s: %w", d.Reason, err)
		}
		if d.Reason == policy.WriteForbidden && !sameEndpoint(rt.sent, rt.target) {
			call.Failover()
		}
	}
}

// keep returns resp to the caller with its attempt's context alive until
// the body is closed; with no body to read, the context ends now.
func keep(resp *http.Response, cancel context.CancelFunc) *http.Response {
	if resp == nil || resp.Body == nil || resp.Body == http.NoBody {
		cancel()
		return resp
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp
}

// cancelOnClose is a response body that ends its attempt's context when
// closed, as http.Client does for a request with a timeout.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// shouldRetry applies what the decision alone cannot know: the body, the
// regions left, the shared budget and the deadline.
func (r *Retry) shouldRetry(ctx context.Context, d policy.Decision, rt *route, body *replayBody) bool {
	if !d.Retry || !body.replayable() {
		return false
	}
	if d.OtherRegionOnly && !rt.hasOther() {
		return false
	}
	if d.Route == policy.Refresh && !rt.canRefresh() {
		return false // no account to learn the new region from: a client above may know
	}
	if d.Budgeted && !r.budget.Allow() {
		return false
	}
	if dl, ok := ctx.Deadline(); ok && time.Now().Add(d.Wait).After(dl) {
		return false
	}
	return true
}

// account feeds the retry budget: unavailability drains it, an answer from
// the service refills it. Errors that are nobody's fault (the caller's
// cancellation, a request refused before it was sent) leave it alone.
func (r *Retry) account(o policy.Outcome, err error) {
	switch {
	case policy.Unavailability(o):
		r.budget.Failure()
	case err == nil && (o == policy.OK || o == policy.Final):
		r.budget.Success() // the endpoint answered
	}
}

// attemptRequest builds one attempt's request: a shallow copy of the
// caller's, moved to the route's endpoint, with the body b (of length
// length; -1: the request's own ContentLength) and, when the
// chain signs, its own headers. It closes b if it fails.
func (r *Retry) attemptRequest(ctx context.Context, req *http.Request, rt *route, b io.ReadCloser, length int64, attempt int, sign bool) (*http.Request, error) {
	if r.tel != nil {
		ctx = instrument.WithAttempt(ctx, attempt)
	}
	areq := req.WithContext(ctx)
	if u := rt.urlFor(); u != req.URL {
		areq.URL = u
		areq.Host = ""
	}
	areq.Body = b
	if length >= 0 {
		areq.ContentLength = length
	}
	if sign || rt.tentative() {
		areq.Header = req.Header.Clone()
	}
	if rt.tentative() {
		areq.Header.Set(headerAllowTentativeWrites, "true")
	}
	if sign {
		if err := region.Sign(ctx, areq, r.cred, time.Now()); err != nil {
			closeBody(b)
			return nil, fmt.Errorf("transport: signing attempt %d: %w", attempt+1, err)
		}
	}
	return areq, nil
}

// isClosed reports whether the Transport that owns r was closed.
func (r *Retry) isClosed() bool {
	select {
	case <-r.closing:
		return true
	default:
		return false
	}
}

// wait sleeps for d, returning early with the context's error, or
// ErrClosed when the chain is closed.
func (r *Retry) wait(ctx context.Context, d time.Duration) error {
	if r.isClosed() {
		return ErrClosed
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-r.closing:
		return ErrClosed
	case <-t.C:
		return nil
	}
}

func closeBody(b io.ReadCloser) {
	if b != nil {
		b.Close()
	}
}

// errorType names a final error for telemetry's error.type when the
// error's type alone would not say it; "" lets telemetry decide.
func errorType(err error) string {
	switch {
	case errors.Is(err, ErrCircuitOpen):
		return "circuit_open"
	case errors.Is(err, ErrClosed):
		return "closed"
	}
	return ""
}
