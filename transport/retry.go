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
	"github.com/cosmosrt/cosmosrt/policy"
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
	next        http.RoundTripper
	policy      *decide.Policy
	trackWrites bool
	hedge       policy.HedgeOptions
	hedges      *decide.HedgeBudget
	maxBody     int64 // bodies up to this size are buffered to be replayed
	maxDrain    int64 // bytes of a discarded response read so its connection is reused
	retryDeps
}

// retryDeps are what New gives the loop beyond a stand-alone Retry: the
// account's router, telemetry, hedging, and the chain's closing.
type retryDeps struct {
	hedge   policy.HedgeOptions
	router  *account.Router // nil: no account
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
	p := decide.New(o, nil, nil)
	o = p.Options()
	return &Retry{
		next: next, policy: p, trackWrites: o.TrackWrites, maxBody: o.MaxBufferedBody, maxDrain: max(o.MaxDrain, 0), retryDeps: deps,
		hedge: deps.hedge, hedges: decide.NewHedgeBudget(deps.hedge),
	}
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
		defer func() { err = call.End(resp, err) }()
	}

	body, err := newReplayBody(req, r.maxBody)
	if err != nil {
		return nil, err
	}
	defer body.close()
	ro := requestOptionsOf(ctx)
	hedge := r.hedge
	if ro.Hedge != nil {
		hedge = *ro.Hedge
	}
	rt, arms := account.NewRoute(ctx, r.router, r.policy, req, ro.ExcludedRegions, hedge)
	if arms != nil && body.forkable() {
		return r.hedged(ctx, req, arms, &body, call, decide.HedgeDefaults(hedge))
	}
	trackWrites := r.trackWrites
	if ro.TrackWrites != nil {
		trackWrites = *ro.TrackWrites
	}
	return r.run(ctx, req, &rt, &body, call, r.track(req, &body, &rt, trackWrites))
}

// run is the retry loop of one call (or of one arm of a hedged read) on
// route rt.
//
// A tracked write (tr not nil) that made an attempt of doubtful outcome
// settles the doubt by reading its document back: before it resends a
// replace or an upsert, when a resent create meets 409 (or a replace 412),
// and when it gives up. If the document is the call's, the committed
// attempt's answer is returned instead of sending again.
func (r *Retry) run(ctx context.Context, req *http.Request, rt *account.Route, body *replayBody, call *instrument.Call, tr *tracking) (resp *http.Response, err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("transport: before attempt 1: %w", err)
	}
	b, err := body.next(ctx)
	if err != nil {
		return nil, fmt.Errorf("transport: request body for attempt 1: %w", err)
	}
	failover := false
	for attempt := 0; ; attempt++ {
		if tr != nil && tr.doubt && tr.kind != createDoc {
			if settled := r.settle(ctx, req, tr, rt, call); settled != nil {
				closeBody(b)
				return settled, nil
			}
		}
		// The attempt's own context: cancelling it ends a drain that
		// stalls; the caller's Close of a returned body releases it.
		actx, abort := context.WithCancel(call.Attempt(ctx, attempt, rt, failover))
		areq := req.WithContext(actx)
		areq.Body = b
		if body.length >= 0 {
			areq.ContentLength = body.length
		}
		if err := rt.Prepare(actx, areq); err != nil {
			closeBody(b)
			abort()
			if errors.Is(err, account.ErrAllExcluded) {
				return nil, fmt.Errorf("transport: %w (RequestOptions.ExcludedRegions)", err)
			}
			return nil, fmt.Errorf("transport: signing attempt %d: %w", attempt+1, err)
		}
		resp, err = r.next.RoundTrip(areq)
		d := rt.Answer(ctx, resp, err, body.replayable())
		call.Answered(actx, resp, err, d.Retry, d.Reason, d.Wait)
		if tr != nil && (d.Reason == decide.Ambiguous || d.Reason == decide.Unavailable || d.Reason == decide.RequestTimeout) {
			tr.doubt = true // the attempt may have committed
		}
		if tr != nil && tr.doubt && !d.Retry && ctx.Err() == nil && settles(resp, err) {
			if settled := r.settle(ctx, req, tr, rt, call); settled != nil {
				drain(resp, r.maxDrain, abort)
				abort()
				return settled, nil
			}
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
		drain(resp, r.maxDrain, abort)
		abort()
		if !early {
			if b, berr = body.next(ctx); berr != nil {
				return nil, fmt.Errorf("transport: request body for attempt %d: %w", attempt+2, berr)
			}
		}
		if err := r.wait(ctx, d.Wait); err != nil {
			closeBody(b)
			return nil, fmt.Errorf("transport: waiting %s to retry after %s: %w", d.Wait, d.Reason, err)
		}
		if failover, err = rt.Next(ctx, d); err != nil {
			closeBody(b)
			return nil, fmt.Errorf("transport: refreshing the account after %s: %w", d.Reason, err)
		}
	}
}

// settles reports whether a tracked write's last answer, after a doubtful
// attempt, can be settled by a read-back: a conflict (a resent create), a
// failed precondition (a resent replace), or a failure the call gives up
// on.
func settles(resp *http.Response, err error) bool {
	if err != nil || resp == nil {
		return true
	}
	switch resp.StatusCode {
	case http.StatusConflict, http.StatusPreconditionFailed, http.StatusServiceUnavailable, http.StatusRequestTimeout:
		return true
	}
	return false
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
