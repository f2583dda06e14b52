package transport

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
)

// hedged runs a read as arms, one per region (see account.Route.Arms):
// the first at once, the next after o.Threshold and each further one o.Step
// later, while the hedge budget allows; an arm that ends without a final
// answer starts the next at once (the read would have moved there anyway,
// so that costs no budget). The first final answer (decide.HedgeFinal) is
// returned; the other arms are cancelled, their answers drained and
// closed, and all of them have returned before hedged does. If no arm
// answers finally, the last answer is returned.
//
// Each arm is the retry loop pinned to its region: it keeps the in-region
// rules (a 429 waits and retries there) and ends where the read would
// move, so no region is tried twice and attempts never multiply.
//
// The first arm runs on the caller's goroutine and the later ones, when
// they start, on their own; the state of the read comes from a pool. A read
// answered before its first hedge is due pays only for the first arm's
// cancellable context, the body that ends it on Close, and the timer of
// the first hedge.
func (r *Retry) hedged(ctx context.Context, c *call, o policy.HedgeOptions) (resp *http.Response, err error, ok bool) {
	h := hedges.Get().(*hedge)
	if h.arms = c.route.Arms(o.MaxRegions, h.arms[:0]); h.arms == nil {
		hedges.Put(h)
		return nil, nil, false
	}
	r.hedges.Read()
	h.mu.Lock()
	h.begin(r, ctx, c, o)
	first := h.startLocked()
	h.timer = time.AfterFunc(decide.HedgeDelay(o, 1), h.fireFunc)
	h.armed = true
	h.mu.Unlock()

	resp, err = r.run(first.ctx, &first.call)
	h.ended(0, resp, err)
	// Wait for every arm started on its own goroutine; an arm that ends
	// without a final answer has started the next one, if any, before it
	// says so.
	var reusable bool
	for received := 0; ; received++ {
		h.mu.Lock()
		if received == h.spawned {
			h.closing = true
			// No fire may be left to run against a reused hedge.
			reusable = h.stale == 0 && (h.timer.Stop() || !h.armed)
			h.mu.Unlock()
			break
		}
		h.mu.Unlock()
		<-h.results
	}
	resp, err = h.finish()
	if reusable {
		h.reset()
		hedges.Put(h)
	}
	return resp, err, true
}

// hedges recycles the state of hedged reads. Timers and channels are made
// for each read, never kept: they belong to the testing/synctest bubble
// they were made in, if any.
var hedges = sync.Pool{New: func() any {
	h := new(hedge)
	h.fireFunc = h.fire
	return h
}}

// hedge is the state of one hedged read. Arms started after the first run
// on their own goroutines and carry out their own ends, so that a hedge
// that wins cancels the first arm at once.
type hedge struct {
	r        *Retry
	ctx      context.Context // the caller's
	read     call            // the read, whose request, record and body the arms share
	o        policy.HedgeOptions
	arms     []account.Route
	results  chan struct{} // one value per arm started on its own goroutine, once it ended; made with the first
	timer    *time.Timer   // fires the next hedge
	fireFunc func()        // fire, bound once

	mu      sync.Mutex // guards the fields below
	armed   bool       // the timer was set and fire has not run since
	stale   int        // fires that were due when the timer was set again: they are skipped
	closing bool       // the read has its answer: start no more arms
	started int
	spawned int   // arms started on their own goroutines
	runs    []arm // one per started arm; its capacity is len(arms), so an arm never moves
	won     int   // the arm that answered finally; -1: none
	last    int   // the arm that ended last without a final answer; -1: none
}

// arm is one arm of a hedged read: its retry loop's call, its context and
// its answer.
type arm struct {
	call
	ctx    context.Context
	cancel context.CancelFunc
	resp   *http.Response
	err    error
	done   bool
}

// begin prepares h for the read c, whose arms are h.arms.
func (h *hedge) begin(r *Retry, ctx context.Context, c *call, o policy.HedgeOptions) {
	h.r, h.ctx, h.read, h.o = r, ctx, *c, o
	h.won, h.last = -1, -1
	if cap(h.runs) < len(h.arms) {
		h.runs = make([]arm, 0, len(h.arms))
	}
}

// reset empties a hedge that ended, for its next read.
func (h *hedge) reset() {
	clear(h.runs)
	clear(h.arms)
	h.runs, h.arms = h.runs[:0], h.arms[:0]
	h.r, h.ctx, h.read, h.results, h.timer = nil, nil, call{}, nil, nil
	h.armed, h.closing = false, false
	h.started, h.spawned, h.stale = 0, 0, 0
}

// startLocked starts the next arm and returns it: the first runs on the
// caller's goroutine, the others on their own.
func (h *hedge) startLocked() *arm {
	i := h.started
	h.started++
	h.runs = append(h.runs, arm{call: call{req: h.read.req, desc: h.read.desc, body: h.read.body.fork(), route: h.arms[i], rec: h.read.rec, pacing: h.read.pacing}})
	a := &h.runs[i]
	a.ctx, a.cancel = context.WithCancel(h.ctx)
	if i > 0 {
		if h.results == nil {
			h.results = make(chan struct{}, len(h.arms))
		}
		h.spawned++
		go h.runArm(i, a)
	}
	return a
}

func (h *hedge) runArm(i int, a *arm) {
	resp, err := h.r.run(a.ctx, &a.call)
	h.ended(i, resp, err)
	h.results <- struct{}{}
}

// canStartLocked reports whether another arm may start.
func (h *hedge) canStartLocked() bool {
	return !h.closing && h.started < len(h.arms) && h.ctx.Err() == nil && !h.r.isClosed()
}

// armLocked sets the timer to fire after d. A fire that was already due
// (the timer expired, its func waiting for the lock) is counted stale, to
// be skipped.
func (h *hedge) armLocked(d time.Duration) {
	if !h.timer.Reset(d) && h.armed {
		h.stale++
	}
	h.armed = true
}

// fire is the timer's: the next hedge is due.
func (h *hedge) fire() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stale > 0 {
		h.stale--
		return
	}
	h.armed = false
	if !h.canStartLocked() || h.o.Ratio >= 0 && !h.r.hedges.Take() {
		return
	}
	h.read.rec.Hedge(h.arms[h.started].Region())
	h.startLocked()
	h.armLocked(h.o.Step)
}

// ended takes the answer of arm i: the first final one wins and the other
// arms are cancelled; one that is not final starts the next arm at once,
// and the answer it replaces as the last is discarded.
func (h *hedge) ended(i int, resp *http.Response, err error) {
	h.mu.Lock()
	a := &h.runs[i]
	a.resp, a.err, a.done = resp, err, true
	var stale *arm
	switch {
	case h.won >= 0:
		// Answered already: this one is discarded when the read ends.
	case decide.HedgeFinal(resp, err):
		h.won, h.closing = i, true
		h.recordWinLocked(i)
		for j := range h.runs {
			if !h.runs[j].done {
				h.runs[j].cancel()
			}
		}
	default:
		if h.last >= 0 {
			stale = &h.runs[h.last]
		}
		h.last = i
		if h.canStartLocked() {
			h.startLocked()
			h.armLocked(h.o.Step)
		}
	}
	h.mu.Unlock()
	if stale != nil {
		h.discardArm(stale)
	}
}

// recordWinLocked notes which region answered a hedged read first, and
// whether the read's own region lost it while still waiting.
func (h *hedge) recordWinLocked(i int) {
	if i == 0 {
		h.arms[0].Won()
		return
	}
	h.read.rec.HedgeWon(h.arms[i].Region())
	if !h.runs[0].done {
		h.arms[0].Lost(h.ctx, h.o.DemoteAfter, &h.runs[i].route) // arm i's route: its goroutine is this one
	}
}

// finish returns the read's answer, the winner's or else the last one,
// and discards every other arm's: drained, closed, its context ended. It
// runs once every arm has ended.
func (h *hedge) finish() (*http.Response, error) {
	kept := h.won
	if kept < 0 {
		kept = h.last
	}
	for i := range h.runs {
		if i != kept {
			h.discardArm(&h.runs[i])
		}
	}
	a := &h.runs[kept]
	return keep(a.resp, a.cancel), a.err
}

// discardArm drains and closes an arm's answer that the caller does not
// get, so that its connection can be reused, and ends the arm's context.
// An arm's answer is discarded once.
func (h *hedge) discardArm(a *arm) {
	if a.resp != nil {
		wire.Drain(a.resp, h.r.maxDrain, a.cancel)
		a.resp = nil
	}
	a.cancel()
}
