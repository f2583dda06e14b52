package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/region"
	"github.com/cosmosrt/cosmosrt/telemetry"
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

	// Set by New; nil in a stand-alone Retry.
	router *region.Router
	cred   region.Credential
	tel    *telemetry.Telemetry
}

var _ http.RoundTripper = (*Retry)(nil)

// NewRetry returns a Retry in front of next (nil: http.DefaultTransport).
// Without an account it retries every attempt at the request's own URL.
func NewRetry(next http.RoundTripper, o policy.RetryOptions) *Retry {
	if next == nil {
		next = http.DefaultTransport
	}
	o = o.WithDefaults()
	return &Retry{next: next, opts: o, budget: policy.NewBudget(o.Budget)}
}

// CloseIdleConnections forwards to next.
func (r *Retry) CloseIdleConnections() { closeIdle(r.next) }

// RoundTrip implements http.RoundTripper. It never modifies req.
func (r *Retry) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	ctx := req.Context()
	var call *telemetry.Call
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
	owned := r.router != nil && r.router.Owns(req.URL)
	rt := newRoute(ctx, r.router, owned, req.URL, write)
	sign := owned && r.cred != nil && req.Header.Get("Authorization") == ""
	var retrier *policy.Retrier // made at the first answer that may call for a retry
	maxDrain := max(r.opts.MaxDrain, 0)

	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("transport: before attempt %d: %w", attempt+1, err)
		}
		areq, err := r.attemptRequest(ctx, req, &rt, &body, attempt, sign)
		if err != nil {
			return nil, err
		}
		if call != nil { // naming the region scans the account: only when recorded
			call.Attempt(rt.regionName())
		}
		resp, err = r.next.RoundTrip(areq)
		outcome := policy.Classify(resp, err)
		if errors.Is(err, ErrCircuitOpen) {
			outcome = policy.CircuitOpen
		}
		var epoch uint64
		if r.router != nil {
			epoch = r.router.Epoch()
		}
		call.Charge(resp)
		r.account(outcome)

		if outcome == policy.OK || outcome == policy.Final {
			return resp, err // the happy path: no retry state needed
		}
		if retrier == nil {
			retrier = policy.NewRetrier(r.opts, nil, nil)
		}
		d := retrier.Decide(write, outcome, resp)
		if !r.shouldRetry(ctx, d, &rt, &body) {
			return resp, err
		}
		drain(resp, maxDrain)
		call.Retry(d.Reason.String(), d.Wait)
		if err := wait(ctx, d.Wait); err != nil {
			return nil, fmt.Errorf("transport: waiting %s to retry after %s: %w", d.Wait, d.Reason, err)
		}
		before := rt.target
		if err := rt.advance(ctx, d, epoch); err != nil {
			return nil, fmt.Errorf("transport: refreshing the account after %s: %w", d.Reason, err)
		}
		if d.Reason == policy.WriteForbidden && !sameEndpoint(before, rt.target) {
			call.Failover()
		}
	}
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
	if d.Budgeted && !r.budget.Allow() {
		return false
	}
	if dl, ok := ctx.Deadline(); ok && time.Now().Add(d.Wait).After(dl) {
		return false
	}
	return true
}

// account feeds the retry budget: unavailability drains it, success refills it.
func (r *Retry) account(o policy.Outcome) {
	switch {
	case policy.Unavailability(o):
		r.budget.Failure()
	case o == policy.OK || o == policy.Final:
		r.budget.Success() // the endpoint answered
	}
}

// attemptRequest builds one attempt's request: a shallow copy of the
// caller's, moved to the route's endpoint, with its own body and, when the
// chain signs, its own headers.
func (r *Retry) attemptRequest(ctx context.Context, req *http.Request, rt *route, body *replayBody, attempt int, sign bool) (*http.Request, error) {
	if r.tel != nil {
		ctx = telemetry.WithAttempt(ctx, attempt)
	}
	areq := req.WithContext(ctx)
	if u := rt.urlFor(); u != req.URL {
		areq.URL = u
		areq.Host = ""
	}
	b, err := body.next(ctx)
	if err != nil {
		return nil, fmt.Errorf("transport: request body for attempt %d: %w", attempt+1, err)
	}
	areq.Body = b
	if n := body.length; n >= 0 {
		areq.ContentLength = n
	}
	if sign {
		areq.Header = req.Header.Clone()
		if err := region.Sign(ctx, areq, r.cred, time.Now()); err != nil {
			if b != nil {
				b.Close()
			}
			return nil, err
		}
	}
	return areq, nil
}

// wait sleeps for d, returning early with the context's error.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errorType names a final error for telemetry's error.type when the
// error's type alone would not say it; "" lets telemetry decide.
func errorType(err error) string {
	if errors.Is(err, ErrCircuitOpen) {
		return "circuit_open"
	}
	return ""
}
