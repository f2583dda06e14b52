package partition

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"
)

// startLocked starts a load of e in its own goroutine. c.mu is held.
func (c *Cache) startLocked(e *entry) {
	ctx, cancel := context.WithCancel(c.ctx)
	e.loading.Store(true)
	e.cancel = cancel
	c.wg.Add(1)
	go c.run(ctx, e)
}

// run loads e, again while Invalidate asked for it during the load, and
// records the outcome: the new table, or the failure and when the next
// load may start.
func (c *Cache) run(ctx context.Context, e *entry) {
	defer c.wg.Done()
	for {
		t, hint, err := c.fetch(ctx, e.link)
		c.mu.Lock()
		e.err = err
		if err == nil {
			e.table.Store(t)
			e.failures = 0
			e.retryAt.Store(0)
			if e.again && ctx.Err() == nil {
				e.again = false
				c.mu.Unlock()
				continue // this load may have read the ranges from before the change
			}
			e.stale.Store(false)
		} else {
			e.failures++
			wait := max(c.failureBackoff(e.failures), hint)
			e.retryAt.Store(c.now().Add(wait).UnixNano())
		}
		e.again = false
		e.loading.Store(false)
		e.cancel()
		e.cancel = nil
		c.mu.Unlock()
		return
	}
}

// fetch runs one load of container: up to Attempts calls of the Loader,
// spaced by RetryDelay or the Loader's RetryAfter, whichever is longer. It
// returns the table, or the last error and the last RetryAfter.
func (c *Cache) fetch(ctx context.Context, container string) (*table, time.Duration, error) {
	for attempt := 1; ; attempt++ {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if c.opts.AttemptTimeout > 0 {
			actx, cancel = context.WithTimeout(ctx, c.opts.AttemptTimeout)
		}
		def, ranges, err := c.load(actx, container)
		cancel()
		var t *table
		if err == nil {
			if t, err = newTable(def, ranges); err == nil {
				return t, 0, nil
			}
		}
		err = &loadFailure{container: container, err: err}
		var hint time.Duration
		final := errors.Is(err, ErrDefinition) // retrying cannot change the container's definition
		if le := (*LoadError)(nil); errors.As(err, &le) {
			hint = min(max(le.RetryAfter, 0), maxRetryAfter)
			final = final || le.Final
		}
		if final || attempt >= c.opts.Attempts || ctx.Err() != nil {
			return nil, hint, err
		}
		wait := max(c.retryDelay(attempt), hint)
		if err := sleep(ctx, wait); err != nil {
			return nil, hint, &loadFailure{container: container, err: err}
		}
	}
}

// loadFailure is the error of a failed load: the container and the cause.
type loadFailure struct {
	container string
	err       error
}

func (e *loadFailure) Error() string {
	// Say "partition" once, whether the cause is ours or the Loader's.
	return "partition: loading " + e.container + ": " + strings.TrimPrefix(e.err.Error(), "partition: ")
}

func (e *loadFailure) Unwrap() error { return e.err }

// newTable checks a load's result and makes it a table.
func newTable(def Definition, ranges []Range) (*table, error) {
	if err := def.check(); err != nil {
		return nil, err
	}
	m, err := NewRangeMap(ranges)
	if err != nil {
		return nil, err
	}
	t := &table{def: def, ranges: m}
	switch {
	case def.Kind == Hash && def.Version == 1:
		t.plain = 1
	case def.Kind == Hash || len(def.Paths) == 1: // a MultiHash key of one level hashes as version 2
		t.plain = 2
	}
	return t, nil
}

// retryDelay is the wait after failed attempt n (1, 2, ...) of a load.
func (c *Cache) retryDelay(n int) time.Duration {
	if c.opts.RetryDelay < 0 {
		return 0
	}
	return jitter(double(c.opts.RetryDelay, n-1, maxRetryDelay))
}

// failureBackoff is how long no load starts after the nth consecutive
// failed load.
func (c *Cache) failureBackoff(n int) time.Duration {
	if c.opts.FailureBackoff < 0 {
		return 0
	}
	return jitter(double(c.opts.FailureBackoff, n-1, maxFailureBackoff))
}

// double returns d doubled n times, at most limit, or d if d is above it.
func double(d time.Duration, n int, limit time.Duration) time.Duration {
	limit = max(limit, d)
	for ; n > 0 && d < limit; n-- {
		d *= 2
	}
	return min(d, limit)
}

// jitter adds up to 10 % to d, so that many clients failing together do
// not retry together; never less than d.
func jitter(d time.Duration) time.Duration {
	if d < 10 {
		return d
	}
	return d + rand.N(d/10)
}

// sleep waits d, or until ctx ends, then returns ctx's error.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
