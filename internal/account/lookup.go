package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// maxFallbacks bounds the regional endpoints a look-up tries after the
// global one.
const maxFallbacks = 3

// lookup runs look-up f and publishes its result, then starts the forced
// look-up startRefresh queued behind it, if any.
func (r *Router) lookup(ctx context.Context, f *flight, forced bool) {
	defer r.wg.Done()
	var cancel context.CancelFunc
	if r.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	stop := context.AfterFunc(r.closeCtx, cancel)
	defer stop()

	var finish func(error)
	if r.onRefresh != nil {
		var hctx context.Context
		if hctx, finish = r.onRefresh(ctx, forced); hctx != nil {
			ctx = hctx
		}
	}
	a, err := r.fetchAccount(ctx)
	if err == nil {
		r.cache.update(a, r.now())
	}
	if finish != nil {
		finish(err)
	}
	r.mu.Lock()
	f.err, f.end = err, r.now()
	r.inflight, r.last = nil, f
	r.forcing.Store(false)
	if q := r.queued; q != nil {
		r.queued = nil
		_, _ = r.startLocked(q, true) // fails only once closed
	}
	r.mu.Unlock()
	close(f.done)
}

// fetchAccount reads the DatabaseAccount from the global endpoint and,
// when that fails, from the regional endpoints of the current account in
// turn (see lookupTargets), each signed by the router's credential and
// validated for the global endpoint, until one answers. It stops early
// when ctx ends. With more endpoints left to try, a try gets at most half
// of the time left before ctx's deadline, so that a stalled endpoint
// leaves time for the others; the last try gets all that is left.
func (r *Router) fetchAccount(ctx context.Context) (*Account, error) {
	targets := r.lookupTargets()
	var failed []endpointError
	for i, ep := range targets {
		tctx, cancel := tryContext(ctx, i == len(targets)-1)
		a, err := fetchFrom(tctx, r.rt, ep, r.endpoint, r.cred, r.now())
		cancel()
		if err == nil {
			return a, nil
		}
		failed = append(failed, endpointError{host: ep.Host, err: err})
		if ctx.Err() != nil || r.closeCtx.Err() != nil {
			break
		}
	}
	if len(failed) == 1 {
		return nil, failed[0].err
	}
	return nil, lookupFailures(failed)
}

// lookupTargets returns the endpoints a look-up tries, in order: the
// global endpoint, then at most maxFallbacks regional endpoints of the
// current account, read endpoints first, then write endpoints, both in
// the order requests use them, each once, the global one excluded.
func (r *Router) lookupTargets() []*url.URL {
	targets := []*url.URL{r.endpoint}
	rts := r.cache.routes(r.now())
	if rts.account == nil {
		return targets
	}
	seen := map[wire.Endpoint]bool{r.id: true}
	for _, list := range [][]*url.URL{rts.read, rts.write} {
		for _, ep := range list {
			if len(targets) > maxFallbacks {
				return targets
			}
			id, err := wire.CheckEndpoint(ep)
			if err != nil || seen[id] || !inAccount(r.endpoint, ep) {
				continue
			}
			seen[id] = true
			targets = append(targets, ep)
		}
	}
	return targets
}

// tryContext bounds one try of a look-up: half of the time left before
// ctx's deadline, or all of it for the last try or when ctx has none.
func tryContext(ctx context.Context, last bool) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok || last {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, time.Until(deadline)/2)
}

// An endpointError is one endpoint's failure in a look-up.
type endpointError struct {
	host string // the endpoint's host[:port]
	err  error
}

// lookupFailures reports a look-up that failed at every endpoint it tried.
// It unwraps to each endpoint's error.
type lookupFailures []endpointError

func (e lookupFailures) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "DatabaseAccount look-up failed at %d endpoints", len(e))
	for i, f := range e {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		b.WriteString(sep + f.host + ": " + describe(f.err))
	}
	return b.String()
}

func (e lookupFailures) Unwrap() []error {
	errs := make([]error, len(e))
	for i, f := range e {
		errs[i] = f.err
	}
	return errs
}

// describe returns err's message for a list of failures: a status as
// "503 Service Unavailable (substatus 0)", otherwise the message without
// what the list already says: "DatabaseAccount look-up: ", and the package
// prefix of region's sentinels (ErrBadAccount, ErrNoWriteRegion).
func describe(err error) string {
	var se *StatusError
	if errors.As(err, &se) {
		return fmt.Sprintf("%d %s (substatus %d)", se.Code, http.StatusText(se.Code), se.SubStatus)
	}
	msg := strings.TrimPrefix(err.Error(), "DatabaseAccount look-up: ")
	return strings.TrimPrefix(msg, "region: ")
}
