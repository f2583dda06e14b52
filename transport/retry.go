package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/instrument"
	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/region"
)

// Retry is the chain's one retry loop. For each attempt it asks the call's
// route where the attempt goes, sends it, and asks the retry policy what
// the answer means and what to do: whether, when and where to try again,
// and what the answer teaches the account. It carries the decision out:
// it waits (never past the request's deadline, returning at once when the
// context ends), moves the route and replays the body. When retries run out
// the last response comes back as it came, with a nil error. It is safe
// for concurrent use.
type Retry struct {
	next   http.RoundTripper
	policy *decide.Policy
	retryDeps
}

// retryDeps are what New gives the loop beyond a stand-alone Retry: the
// account's router and credential, telemetry, and the chain's closing.
type retryDeps struct {
	router  *account.Router // nil: no account
	cred    region.Credential
	tel     *instrument.Telemetry
	closing <-chan struct{} // closed by Transport.Close; nil: never
}

var _ http.RoundTripper = (*Retry)(nil)

// NewRetry returns a Retry in front of next (nil: http.DefaultTransport).
// A stand-alone Retry classifies, retries and replays bodies as the
// options say, with its own retry budget. It has no account: it sends
// every attempt to the request's own URL, does not sign, records no
// telemetry, and returns a 403.3 or 403.1008 at once (there is no account
// to learn the new region from; a client above may). New builds the Retry
// that has them.
func NewRetry(next http.RoundTripper, o policy.RetryOptions) *Retry {
	return newRetry(next, o, retryDeps{})
}

func newRetry(next http.RoundTripper, o policy.RetryOptions, deps retryDeps) *Retry {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Retry{next: next, policy: decide.New(o, nil, nil), retryDeps: deps}
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

	opts := r.policy.Options()
	body, err := newReplayBody(req, opts.MaxBufferedBody)
	if err != nil {
		return nil, err
	}
	defer body.close()

	write := wire.IsWrite(req)
	rt := account.NewRoute(ctx, r.router, req.URL, write)
	sign := rt.Owned() && r.cred != nil && req.Header.Get("Authorization") == ""
	retries := r.policy.Call()
	deadline, _ := ctx.Deadline()
	maxDrain := max(opts.MaxDrain, 0)

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
			call.Attempt(rt.Region())
		}
		resp, err = r.next.RoundTrip(areq)
		rt.Answered()
		outcome := r.policy.Judge(resp, err)
		call.Charge(resp)
		if outcome == decide.OK || outcome == decide.Final {
			return keep(resp, abort), err // the happy path: no retry state needed
		}

		d := retries.Decide(outcome, resp, decide.Situation{
			Write:       write,
			MultiWrite:  rt.MultiWrite(),
			Replayable:  body.replayable(),
			OtherRegion: rt.OtherRegion(),
			Account:     rt.Owned(),
			Deadline:    deadline,
		})
		rt.Teach(ctx, d)
		if d.Retry && d.Route == decide.Refresh {
			// Only the account can say where this goes: learn it now, or
			// return the answer rather than resend it where it was refused.
			d.Retry = rt.Learn(ctx)
		}
		if !d.Retry {
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
		if err := rt.Next(ctx, d.Route); err != nil {
			closeBody(b)
			return nil, fmt.Errorf("transport: refreshing the account after %s: %w", d.Reason, err)
		}
		if d.Reason == decide.WriteForbidden && rt.Moved() {
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

// attemptRequest builds one attempt's request: a shallow copy of the
// caller's, moved to the route's endpoint, with the body b (of length
// length; -1: the request's own ContentLength) and, when the
// chain signs, its own headers. It closes b if it fails.
func (r *Retry) attemptRequest(ctx context.Context, req *http.Request, rt *account.Route, b io.ReadCloser, length int64, attempt int, sign bool) (*http.Request, error) {
	if r.tel != nil {
		ctx = instrument.WithAttempt(ctx, attempt)
	}
	areq := req.WithContext(ctx)
	if u := rt.URL(); u != req.URL {
		areq.URL = u
		areq.Host = ""
	}
	areq.Body = b
	if length >= 0 {
		areq.ContentLength = length
	}
	if sign || rt.MultiWrite() {
		areq.Header = req.Header.Clone()
	}
	if rt.MultiWrite() {
		areq.Header.Set(wire.HeaderAllowTentativeWrites, "true")
	}
	if sign {
		if err := account.Sign(ctx, areq, r.cred, time.Now()); err != nil {
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
