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
	"github.com/cosmosrt/cosmosrt/internal/throttle"
	"github.com/cosmosrt/cosmosrt/internal/wire"
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
	next                  http.RoundTripper
	policy                *decide.Policy
	track                 bool          // writes are tracked unless a call's options say otherwise
	readLimit, writeLimit time.Duration // the time limits of calls without a deadline; 0: none
	maxBody               int64         // bodies up to this size are buffered to be replayed
	maxDrain              int64         // bytes of a discarded response read so its connection is reused
	hedges                *decide.HedgeBudget
	retryDeps
}

// retryDeps are what New gives the loop beyond a stand-alone Retry: the
// account's router, telemetry, hedging, and the chain's closing.
type retryDeps struct {
	hedge    policy.HedgeOptions
	router   *account.Router    // nil: no account
	throttle *throttle.Throttle // nil: no throughput control
	tel      *instrument.Telemetry
	closing  <-chan struct{} // closed by Transport.Close; nil: never

	// closesBodies says that the response bodies of next may be closed
	// while a read of them blocks, as net/http's may: a drain that stalls
	// is then cut off by closing the body, and an attempt needs no context
	// of its own.
	closesBodies bool
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
		next: next, policy: p, track: o.TrackWrites, maxBody: o.MaxBufferedBody, maxDrain: max(o.MaxDrain, 0),
		readLimit: max(o.ReadTimeLimit, 0), writeLimit: max(o.WriteTimeLimit, 0),
		hedges: decide.NewHedgeBudget(deps.hedge), retryDeps: deps,
	}
}

// CloseIdleConnections forwards to next.
func (r *Retry) CloseIdleConnections() { wire.CloseIdle(r.next) }

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
	c := call{req: req, desc: wire.Describe(req)}
	ctx := req.Context()
	if r.tel != nil {
		ctx, c.rec = r.tel.StartCall(ctx, req, &c.desc)
		defer func() { err = c.rec.End(resp, err) }()
	}
	// After the record, so that it records the end the limit made.
	if limit := r.limitOf(&c.desc); limit > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var stop context.CancelFunc
			ctx, stop = context.WithTimeoutCause(ctx, limit, ErrTimeLimit)
			defer func() { resp, err = limited(ctx, limit, stop, resp, err) }()
		}
	}
	if c.body, err = newReplayBody(req, r.maxBody); err != nil {
		return nil, err
	}
	c.body.closing = r.closing
	defer c.body.close()
	ro := requestOptionsOf(ctx)
	if c.pacing, err = r.pacingOf(&c, ro); err != nil {
		return nil, err
	}
	c.route = account.NewRoute(ctx, r.router, r.policy, req, &c.desc, ro.ExcludedRegions)
	if h := r.hedgeOf(ro); decide.Hedges(h) && !c.desc.Write {
		if !c.body.forkable() {
			// A query's body from GetBody (azcore's rewinds one reader):
			// read once, within MaxBufferedBody, and forked from the buffer.
			c.body.content(r.maxBody)
		}
		if c.body.forkable() {
			if resp, err, ok := r.hedged(ctx, &c, decide.HedgeDefaults(h)); ok {
				return resp, err
			}
		}
	}
	if r.tracks(ro) {
		c.track = r.startTracking(&c, ro)
	}
	return r.run(ctx, &c)
}

// run is the retry loop of call c (or of one arm of a hedged read): it
// sends each attempt where the route says, asks the route what the answer
// means (the retry policy's decision, see decide.Decision), and carries
// the decision out: it ends the call, or drains the answer, waits, moves
// the route and resends.
func (r *Retry) run(ctx context.Context, c *call) (*http.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("transport: before attempt 1: %w", err)
	}
	var err error
	if c.next, err = c.body.next(ctx); err != nil {
		return nil, fmt.Errorf("transport: request body for attempt 1: %w", err)
	}
	for ; ; c.n++ {
		if err := r.pace(ctx, c); err != nil {
			return r.unpaced(ctx, c, err)
		}
		areq, err := r.prepare(ctx, c)
		if err != nil {
			r.cancelPace(c)
			return nil, err
		}
		resp, err := r.next.RoundTrip(areq)
		r.settlePace(c, resp, err)
		d := c.route.Answer(ctx, resp, err, c.body.replayable())
		c.rec.Answered(areq.Context(), resp, err, d.Retry, d.Reason, d.Wait)
		if !d.Retry {
			return r.end(ctx, c, d, resp, err)
		}
		if resp, err, done := r.resend(ctx, c, d, resp, err); done {
			return resp, err
		}
	}
}

// end ends call c with the last attempt's answer (resp, or err) as
// decision d says: a write in doubt first reads its item back, and ends
// with its committed attempt's success if the item is the call's, else
// with the unknown outcome; a delete in doubt whose item is gone ends
// done; an error ends as the chain's own (see AttemptError); any other
// answer is returned as it came.
func (r *Retry) end(ctx context.Context, c *call, d decide.Decision, resp *http.Response, err error) (*http.Response, error) {
	var rb *readBack
	if d.ReadBack {
		rb = r.readBack(ctx, c)
		if c.route.Settle(rb.found, false) == decide.Acknowledge {
			r.discard(resp, c.abort)
			cancel(c.abort)
			return c.success(rb), nil
		}
	}
	switch {
	case d.Unknown:
		e := c.unknown(ctx, answerOf(resp), err, rb)
		r.discard(resp, c.abort)
		cancel(c.abort)
		return nil, e
	case d.Gone:
		done := c.gone(resp)
		r.discard(resp, c.abort)
		cancel(c.abort)
		return done, nil
	case err != nil:
		cancel(c.abort)
		return nil, c.failed(ctx, err)
	}
	return keep(resp, c.abort), nil
}

// lastAnswer is the status and sub-status of an answer the call discards.
type lastAnswer struct{ status, sub int }

// answerOf returns resp's status and sub-status; zero for no response.
func answerOf(resp *http.Response) lastAnswer {
	if resp == nil {
		return lastAnswer{}
	}
	sub, _ := wire.LookupSubStatus(resp.Header)
	return lastAnswer{resp.StatusCode, sub}
}

// unknown returns the error of call c, a write that may or may not have
// run, ending after its last answer (last, or the error err); rb is its
// last read-back, nil if none ran. It says why the outcome is unknown, and
// is also the caller's context's error once that has ended, or ErrClosed
// when Close ended the call.
func (c *call) unknown(ctx context.Context, last lastAnswer, err error, rb *readBack) error {
	e := &OutcomeUnknownError{Attempts: c.n + 1, Status: last.status, SubStatus: last.sub, cause: err}
	if c.track != nil {
		e.TrackingID = c.track.id
	}
	e.also = alsoIs(ctx, err)
	closed := rb != nil && errors.Is(rb.stopped, ErrClosed)
	if e.also == nil && closed {
		e.also = ErrClosed
	}
	switch {
	case ctx.Err() != nil && (rb != nil || c.route.InDoubt()):
		e.Reason = "the call's context ended before its doubt was settled"
	case ctx.Err() != nil:
		e.Reason = "the call's context ended after the request was sent"
	case closed || errors.Is(err, ErrClosed):
		e.Reason = "the transport was closed before the doubt was settled"
	case rb != nil:
		e.Reason = foundReason(rb.found)
	case errors.As(err, new(*ThroughputError)):
		e.Reason = "its throughput group could not serve the resend in time"
	case err != nil:
		e.Reason = "the connection failed after the request was sent"
	default:
		e.Reason = "the write met a doubt it could not settle"
	}
	return e
}

// failed returns the error that ends call c after its last attempt failed
// with err: the chain's own errors as they are, any other in an
// *AttemptError.
func (c *call) failed(ctx context.Context, err error) error {
	var open *CircuitOpenError
	var body *requestBodyError
	switch {
	case errors.As(err, &open), errors.Is(err, ErrClosed):
		return err
	case errors.As(err, &body):
		return body
	}
	return &AttemptError{
		Attempts: c.n + 1, Sent: decide.MayHaveRun(err),
		cause: err, also: alsoIs(ctx, err), name: instrument.ErrorType(err),
	}
}

// alsoIs returns the error of the chain's own that an error ending a call
// after err also is: the caller's context's error once it has ended, or
// ErrClosed.
func alsoIs(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if errors.Is(err, ErrClosed) {
		return ErrClosed
	}
	return nil
}

// prepare makes attempt c.n's request: its context (see retryDeps), the
// next body, and what the route gives it (endpoint, headers, signature).
// Its error ends the call: nothing was sent.
func (r *Retry) prepare(ctx context.Context, c *call) (*http.Request, error) {
	switch {
	case c.route.AllExcluded():
		closeBody(c.next)
		return nil, ErrAllExcluded // before the attempt is recorded: none is made
	case r.isClosed():
		// Closed while the call waited (to resend, or for a look-up before
		// its first attempt): nothing more goes.
		closeBody(c.next)
		if c.route.InDoubt() {
			return nil, c.unknown(ctx, lastAnswer{}, ErrClosed, nil)
		}
		return nil, fmt.Errorf("transport: before attempt %d: %w", c.n+1, ErrClosed)
	}
	actx := c.rec.Attempt(ctx, c.n, c.region(), c.failover)
	// An attempt has a context of its own only where cancelling it is how
	// a drain that stalls is cut off; the caller's Close of a returned
	// body releases it.
	c.abort = nil
	if !r.closesBodies {
		actx, c.abort = context.WithCancel(actx)
	}
	a := c.attempt(actx)
	areq := &a.req
	if c.pacing.header {
		areq.Header = areq.Header.Clone()
		areq.Header[wire.HeaderPriorityLevel] = []string{"Low"}
	}
	if t := c.track; t != nil && (t.asCreate || t.guarded) {
		areq.Header = areq.Header.Clone()
		if t.asCreate {
			wire.Delete(areq.Header, wire.HeaderIsUpsert)
		}
		if t.guarded {
			wire.Delete(areq.Header, wire.HeaderIfMatch)
			areq.Header[wire.HeaderIfMatch] = []string{t.ifMatch}
		}
	}
	areq.Body, c.next = c.next, nil
	if !c.body.shared {
		// net/http rewinds a body through GetBody to resend a request that
		// never left on a connection that died: it must get this body, not
		// the caller's (a tracked write's has its id).
		areq.GetBody = c.body.getBody
	}
	if c.body.length >= 0 {
		areq.ContentLength = c.body.length
	}
	if err := c.route.Prepare(actx, areq, &a.url); err != nil {
		closeBody(areq.Body)
		cancel(c.abort)
		if errors.Is(err, account.ErrAllExcluded) {
			return nil, ErrAllExcluded
		}
		return nil, fmt.Errorf("transport: signing attempt %d: %w", c.n+1, err)
	}
	return areq, nil
}

// resend carries out decision d, to try again after the answer (resp,
// err): it takes the next attempt's body, discards the answer, settles a
// tracked write's doubt where d says (which may end the call, or resend an
// upsert as a create), waits and moves the route. done says the call ends
// with the response and error resend returns instead.
func (r *Retry) resend(ctx context.Context, c *call, d decide.Decision, resp *http.Response, err error) (*http.Response, error, bool) {
	// Take the next attempt's body before draining the answer when the
	// last attempt has released it: if the caller's GetBody fails, the
	// caller still gets the answer as it came.
	var berr error
	early := c.body.released()
	if early {
		if c.next, berr = c.body.next(ctx); berr != nil {
			resp, err := r.end(ctx, c, c.route.Unable(d, resp), resp, err)
			return resp, err, true
		}
	}
	last := answerOf(resp) // for the unknown outcome, once resp is gone
	r.discard(resp, c.abort)
	cancel(c.abort)
	if !early {
		if c.next, berr = c.body.next(ctx); berr != nil {
			return nil, fmt.Errorf("transport: request body for attempt %d: %w", c.n+2, berr), true
		}
	}
	if d.ReadBack {
		rb := r.readBack(ctx, c)
		switch c.route.Settle(rb.found, true) {
		case decide.Acknowledge:
			closeBody(c.next)
			return c.success(rb), nil, true
		case decide.Unknown:
			closeBody(c.next)
			return nil, c.unknown(ctx, last, err, rb), true
		case decide.ResendAsCreate:
			c.route.AsCreate()
			c.track.asCreate = true
		case decide.ResendIfMatch:
			c.route.Guarded()
			c.track.guarded, c.track.ifMatch = true, c.track.base
		}
	}
	if werr := r.wait(ctx, d.Wait); werr != nil {
		closeBody(c.next)
		if c.route.InDoubt() {
			return nil, c.unknown(ctx, last, werr, nil), true
		}
		return nil, fmt.Errorf("transport: waiting %s to retry after %s: %w", d.Wait, d.Reason, werr), true
	}
	var ferr error
	if c.failover, ferr = c.route.Next(ctx, d); ferr != nil {
		closeBody(c.next)
		if c.route.InDoubt() {
			return nil, c.unknown(ctx, last, ferr, nil), true
		}
		return nil, fmt.Errorf("transport: refreshing the account after %s: %w", d.Reason, ferr), true
	}
	return nil, nil, false
}

// limitOf returns the time limit of call d when its context has no
// deadline; 0: none.
func (r *Retry) limitOf(d *wire.Request) time.Duration {
	if d.Write {
		return r.writeLimit
	}
	return r.readLimit
}

// limited ends a call that ran under the time limit of the chain's (ctx,
// stopped by stop): a response keeps the limit until its body is closed,
// and an error the limit caused says so (see ErrTimeLimit) instead of
// being the context's.
func limited(ctx context.Context, limit time.Duration, stop context.CancelFunc, resp *http.Response, err error) (*http.Response, error) {
	if err == nil {
		return keep(resp, stop), nil
	}
	stop()
	if !errors.Is(context.Cause(ctx), ErrTimeLimit) {
		return nil, err
	}
	var unknown *OutcomeUnknownError
	if errors.As(err, &unknown) {
		unknown.also = ErrTimeLimit
		if unknown.cause != nil && errors.Is(unknown.cause, context.DeadlineExceeded) {
			unknown.Reason = "the call's time limit ran out after the request was sent"
		}
		return nil, err
	}
	return nil, &TimeLimitError{Limit: limit, cause: err}
}

// hedgeOf returns the hedging options of a call with options ro.
func (r *Retry) hedgeOf(ro RequestOptions) policy.HedgeOptions {
	if ro.Hedge != nil {
		return *ro.Hedge
	}
	return r.hedge
}

// tracks reports whether a call with options ro tracks its writes.
func (r *Retry) tracks(ro RequestOptions) bool {
	if ro.TrackWrites != nil {
		return *ro.TrackWrites
	}
	return r.track
}

// keep returns resp to the caller with its attempt's context, if it has
// one (cancel not nil), alive until the body is closed; with no body to
// read, the context ends now.
func keep(resp *http.Response, cancel context.CancelFunc) *http.Response {
	if cancel == nil {
		return resp
	}
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

// discard drains and closes a response the caller does not get, so that
// its connection can be reused (see wire.Drain). A drain that stalls is
// cut off by abort, the cancellation of the attempt's context, or, for an
// attempt without one (see retryDeps.closesBodies), by closing the body.
func (r *Retry) discard(resp *http.Response, abort context.CancelFunc) {
	if resp == nil || resp.Body == nil {
		return
	}
	if abort == nil {
		body := resp.Body
		abort = func() { body.Close() }
	}
	wire.Drain(resp, r.maxDrain, abort)
}

// cancel calls f unless it is nil.
func cancel(f context.CancelFunc) {
	if f != nil {
		f()
	}
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
