package decide

import (
	"net/http"
	"sync"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
)

// Defaults of policy.HedgeOptions.
const (
	defaultHedgeRatio       = 0.1
	defaultHedgeBurst       = 10
	defaultHedgeDemoteAfter = 5
)

// HedgeDefaults returns a copy of o in which zero fields hold their
// defaults (Step: Threshold). Negative fields are kept.
func HedgeDefaults(o policy.HedgeOptions) policy.HedgeOptions {
	orDefault(&o.Step, o.Threshold)
	orDefault(&o.Ratio, defaultHedgeRatio)
	orDefault(&o.Burst, defaultHedgeBurst)
	orDefault(&o.DemoteAfter, defaultHedgeDemoteAfter)
	return o
}

// Hedges reports whether o hedges at all.
func Hedges(o policy.HedgeOptions) bool {
	return o.Threshold > 0 && (o.MaxRegions == 0 || o.MaxRegions > 1)
}

// HedgeFinal reports whether an arm's answer ends a hedged read: a status
// below 400, or 400, 401, 404 with no sub-status, 405, 409, 412 or 413.
// Every other answer (403.x, other 404s, 408, 410, 429, 449, 500, 503) and
// every transport error lets the other arms go on.
func HedgeFinal(resp *http.Response, err error) bool {
	if err != nil || resp == nil {
		return false
	}
	switch s := resp.StatusCode; {
	case s < 400:
		return true
	case s == http.StatusNotFound:
		return wire.SubStatus(resp.Header) == 0
	case s == http.StatusBadRequest, s == http.StatusUnauthorized, s == http.StatusMethodNotAllowed,
		s == http.StatusConflict, s == http.StatusPreconditionFailed, s == http.StatusRequestEntityTooLarge:
		return true
	}
	return false
}

// A HedgeBudget caps the extra reads hedging sends: every read puts ratio
// in, every hedge takes one out, and the bucket holds at most burst. Over
// time hedges stay below ratio per read. It starts full. A HedgeBudget is
// safe for concurrent use; a nil one allows every hedge.
type HedgeBudget struct {
	ratio, burst float64

	mu     sync.Mutex
	tokens float64 // guarded by mu
}

// NewHedgeBudget returns a full budget for o (with defaults), or nil when
// o's Ratio is negative.
func NewHedgeBudget(o policy.HedgeOptions) *HedgeBudget {
	o = HedgeDefaults(o)
	if o.Ratio < 0 {
		return nil
	}
	return &HedgeBudget{ratio: o.Ratio, burst: max(o.Burst, 1), tokens: max(o.Burst, 1)}
}

// Read records a read that could be hedged.
func (b *HedgeBudget) Read() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.tokens = min(b.tokens+b.ratio, b.burst)
	b.mu.Unlock()
}

// Take takes one hedge from the budget and reports whether it could.
func (b *HedgeBudget) Take() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// HedgeDelay returns how long after the read started arm n (0 for the
// first) may go: 0, Threshold, Threshold+Step, … for o with defaults.
func HedgeDelay(o policy.HedgeOptions, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return o.Threshold + time.Duration(n-1)*o.Step
}
