package transport

import (
	"context"
	"net/http"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
)

// armResult is what one arm of a hedged read returned.
type armResult struct {
	arm  int
	resp *http.Response
	err  error
}

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
func (r *Retry) hedged(ctx context.Context, c call, arms []account.Route, o policy.HedgeOptions) (*http.Response, error) {
	r.hedges.Read()
	results := make(chan armResult, len(arms))
	cancels := make([]context.CancelFunc, len(arms))
	done := make([]bool, len(arms))
	started, running := 0, 0
	start := func() {
		i := started
		actx, cancel := context.WithCancel(ctx)
		cancels[i] = cancel
		arm := call{req: c.req, desc: c.desc, body: c.body.fork(), route: arms[i], rec: c.rec}
		started++
		running++
		go func() {
			resp, err := r.run(actx, &arm)
			results <- armResult{arm: i, resp: resp, err: err}
		}()
	}

	start()
	timer := time.NewTimer(decide.HedgeDelay(o, 1))
	defer timer.Stop()
	var last, won *armResult
	for running > 0 && won == nil {
		select {
		case <-timer.C:
			if started < len(arms) && ctx.Err() == nil && !r.isClosed() && r.hedges.Take() {
				c.rec.Hedge(arms[started].Region())
				start()
				timer.Reset(o.Step)
			}
		case res := <-results:
			running--
			done[res.arm] = true
			if decide.HedgeFinal(res.resp, res.err) {
				won = &res
				break
			}
			if last != nil {
				r.discardArm(last, cancels)
			}
			last = &res
			if started < len(arms) && ctx.Err() == nil && !r.isClosed() {
				start()
				timer.Reset(o.Step)
			}
		}
	}

	if won != nil && won.arm > 0 {
		c.rec.HedgeWon(arms[won.arm].Region())
		if !done[0] { // the read's own region was still waiting when a hedge answered
			arms[0].Lost(o.DemoteAfter)
		}
	} else if won != nil {
		arms[0].Won()
	}
	// Cancel the arms still running and wait for them: nothing outlives the
	// call. Their answers are drained and closed.
	for i := range started {
		if !done[i] {
			cancels[i]()
		}
	}
	for ; running > 0; running-- {
		res := <-results
		r.discardArm(&res, cancels)
	}
	if won == nil {
		return keep(last.resp, cancels[last.arm]), last.err
	}
	if last != nil {
		r.discardArm(last, cancels)
	}
	return keep(won.resp, cancels[won.arm]), won.err
}

// discardArm drains and closes an arm's answer that the caller does not get,
// so that its connection can be reused, and ends the arm's context.
func (r *Retry) discardArm(res *armResult, cancels []context.CancelFunc) {
	if res.resp != nil {
		wire.Drain(res.resp, r.maxDrain, cancels[res.arm])
	}
	cancels[res.arm]()
}
