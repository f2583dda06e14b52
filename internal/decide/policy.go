package decide

import (
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/cosmosrt/cosmosrt/policy"
)

// A Policy is the whole retry decision of one transport: it classifies
// each answer, keeps the retry budget its calls share, and tells each call
// whether to try again, when, where, and what the answer teaches the
// account (marks, a look-up). The transport carries its decisions out and
// decides nothing itself. A Policy is safe for concurrent use; its Calls
// are not.
type Policy struct {
	opts   policy.RetryOptions // with defaults
	budget *budget
	now    func() time.Time
	random func() float64
}

// New returns the Policy of a transport configured by o. now is the clock
// of its decisions, the budget's refill by time included; a nil now means
// time.Now; a nil random means math/rand/v2's Float64. random should
// return values in [0, 1) (others are clamped); it draws the jitter of
// every wait.
func New(o policy.RetryOptions, now func() time.Time, random func() float64) *Policy {
	o = retryDefaults(o)
	if now == nil {
		now = time.Now
	}
	if random == nil {
		random = rand.Float64
	}
	return &Policy{opts: o, budget: newBudget(o.Budget, now), now: now, random: random}
}

// Options returns the options the Policy applies, with their defaults.
func (p *Policy) Options() policy.RetryOptions { return p.opts }

// Judge returns the Outcome of one attempt (see classify) and feeds the
// retry budget with it: unavailability drains it, an answer from the
// service refills it, and errors that are nobody's fault (the caller's
// cancellation, a request refused before it was sent) leave it alone.
func (p *Policy) Judge(resp *http.Response, err error) Outcome {
	return p.judge(resp, err, true)
}

// JudgeTripped is Judge for an attempt to a partition key range tripped
// in every region the call may use: its unavailability is the range's,
// already known, and does not drain the budget the other calls share.
func (p *Policy) JudgeTripped(resp *http.Response, err error) Outcome {
	return p.judge(resp, err, false)
}

func (p *Policy) judge(resp *http.Response, err error, drains bool) Outcome {
	o := classify(resp, err)
	switch {
	case isUnavailability(o):
		if drains {
			p.budget.failure()
		}
	case err == nil && (o == OK || o == Final):
		p.budget.success()
	}
	return o
}
