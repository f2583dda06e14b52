package account

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// A flight is one look-up; n is its number (the epoch it started).
type flight struct {
	n    uint64
	done chan struct{} // closed when the look-up has completed
	err  error         // the look-up's result; read after done
	end  time.Time     // when it completed; read after done

	forced bool // started because an answer called for it (403.3, an unreachable write region)
}

// ensureBackoff is how long ensure answers with the last failed look-up's
// error instead of starting another, so that a broken or unreachable
// account costs one look-up per period rather than one per request.
const ensureBackoff = 5 * time.Second

// ensure loads the account if it has never been loaded, joining the
// look-up in flight if there is one; once an account is loaded it returns
// nil at once. If ctx ends first, ensure returns an error wrapping
// ctx.Err() and the look-up goes on for the others. Without an account
// and a look-up in flight, a call starts one, unless the last look-up
// failed less than 5 seconds ago: then it returns that look-up's error.
func (r *Router) ensure(ctx context.Context) error {
	if r.Account() != nil {
		return nil
	}
	r.mu.Lock()
	f := r.inflight
	if f == nil {
		if r.Account() != nil { // loaded since the check above
			r.mu.Unlock()
			return nil
		}
		if r.last != nil && r.last.err != nil && r.now().Sub(r.last.end) < ensureBackoff {
			err := r.last.err
			r.mu.Unlock()
			return err
		}
		var err error
		if f, err = r.startLocked(ctx, false); err != nil {
			r.mu.Unlock()
			return err
		}
	}
	r.mu.Unlock()
	return wait(ctx, f)
}

// epoch returns the number of look-ups started so far. A caller that
// observes a response calling for a refresh (403.3) reads it and passes it
// to refresh.
func (r *Router) epoch() uint64 { return r.started.Load() }

// refresh forces a look-up of the account and returns when a look-up that
// started after epoch seen (see epoch) has completed, with that look-up's
// error. It joins the look-up in flight if that one started after seen;
// if the one in flight is older (it may predate what the caller saw), it
// waits for it and then starts a new one, so that many callers failing
// together cause at most two look-ups. The look-up does not depend on any
// single caller's context (it runs on context.WithoutCancel of the
// starter's context, bounded by RefreshTimeout and Close): a caller whose
// ctx ends gets an error wrapping ctx.Err() at once and the others still
// get the result. A failed look-up keeps the previous account. refresh is
// not held back by ensure's pause after a failure: a caller that met 403.3
// before any account was loaded can force a look-up at once.
func (r *Router) refresh(ctx context.Context, seen uint64) error {
	// Two rounds suffice. Look-ups run one at a time and seen is at most
	// the number of the last one started, so at worst the first round
	// waits for the look-up in flight, numbered seen, and the second
	// returns the result of one that started after it (completed, joined
	// or started). The third round is a margin that, by this reasoning,
	// never runs; the error after it guards the reasoning, not a case.
	for range 3 {
		r.mu.Lock()
		if started := r.started.Load(); seen > started {
			seen = started // a future epoch: any new look-up will do
		}
		if r.last != nil && r.last.n > seen {
			err := r.last.err
			r.mu.Unlock()
			return err
		}
		f := r.inflight
		if f == nil {
			var err error
			if f, err = r.startLocked(ctx, true); err != nil {
				r.mu.Unlock()
				return err
			}
		}
		r.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the account look-up: %w", ctx.Err())
		}
		if f.n > seen {
			return f.err
		}
	}
	return errors.New("account refresh did not settle")
}

// startRefresh forces a look-up of the account as refresh does, but
// returns at once, without waiting for it. It starts nothing if a look-up
// that started after epoch seen (see epoch) is in flight or has
// completed; if an older look-up is in flight, the forced one starts as
// soon as that one completes. The look-up runs on the router's own
// goroutine, on context.WithoutCancel(ctx), bounded by RefreshTimeout and
// Close, like every look-up; it is not held back by ensure's 5-second
// pause after a failure. After Close, startRefresh does nothing. A caller
// that later needs the result calls refresh with the same seen, which
// joins the look-up instead of starting another.
func (r *Router) startRefresh(ctx context.Context, seen uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if started := r.started.Load(); seen > started {
		seen = started // a future epoch: any new look-up will do
	}
	switch {
	case r.closed:
	case r.last != nil && r.last.n > seen: // a look-up after seen has completed
	case r.inflight == nil:
		_, _ = r.startLocked(ctx, true)
	case r.inflight.n <= seen && r.queued == nil: // an older one is in flight
		r.queued = ctx
		r.forcing.Store(true)
	}
	// Otherwise the look-up in flight started after seen, or a forced one
	// is already queued behind it.
}

// wait returns f's error when f completes, or an error wrapping ctx.Err()
// if ctx ends first.
func wait(ctx context.Context, f *flight) error {
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return fmt.Errorf("waiting for the account look-up: %w", ctx.Err())
	}
}

// startLocked starts look-up number started+1 in its own goroutine, on a
// context detached from ctx's cancellation but keeping its values.
func (r *Router) startLocked(ctx context.Context, forced bool) (*flight, error) {
	if r.closed {
		return nil, errClosed
	}
	f := &flight{n: r.started.Add(1), done: make(chan struct{}), forced: forced}
	r.inflight = f
	if forced {
		r.forcing.Store(true)
	}
	r.wg.Add(1)
	go r.lookup(context.WithoutCancel(ctx), f, forced)
	return f, nil
}

// refreshEvery looks the account up every interval until Close, joining a
// look-up already in flight rather than starting another.
func (r *Router) refreshEvery(every time.Duration) {
	defer r.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.closeCtx.Done():
			return
		case <-t.C:
		}
		r.mu.Lock()
		f := r.inflight
		if f == nil {
			f, _ = r.startLocked(r.closeCtx, false)
		}
		r.mu.Unlock()
		if f == nil { // closed
			return
		}
		select {
		case <-f.done:
		case <-r.closeCtx.Done():
			return
		}
	}
}

// awaitForced waits, at most until ctx ends, for the forced look-ups in
// flight or queued (started because an endpoint refused a write with
// 403.3, or the write region could not be reached), so that a write that
// starts meanwhile goes where they say rather than where writes were just
// refused. It returns at once, without locking, when there is none.
func (r *Router) awaitForced(ctx context.Context) {
	if !r.forcing.Load() {
		return
	}
	r.mu.Lock()
	f := r.inflight
	seen := uint64(0)
	switch {
	case f == nil:
		r.mu.Unlock()
		return
	case r.queued != nil:
		seen = f.n // the queued one starts after the one in flight
	case f.forced:
		seen = f.n - 1
	default:
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	_ = r.refresh(ctx, seen) // a failure keeps the account as it was
}
