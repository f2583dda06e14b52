package account

import (
	"sync"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// maxHedgeHosts bounds the regions whose hedge losses are counted; an
// account has a handful.
const maxHedgeHosts = 256

// hedgeLosses counts, per region endpoint, the hedged reads it lost in a
// row. It is safe for concurrent use.
type hedgeLosses struct {
	mu     sync.Mutex            // guards byHost
	byHost map[wire.Endpoint]int // losses in a row, per endpoint
}

// lost records a loss of the endpoint host and reports whether host has now lost
// demoteAfter in a row, which restarts its count.
func (h *hedgeLosses) lost(host wire.Endpoint, demoteAfter int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byHost == nil || len(h.byHost) >= maxHedgeHosts {
		h.byHost = make(map[wire.Endpoint]int)
	}
	h.byHost[host]++
	if h.byHost[host] < demoteAfter {
		return false
	}
	delete(h.byHost, host)
	return true
}

// won records that host answered a hedged read first.
func (h *hedgeLosses) won(host wire.Endpoint) {
	h.mu.Lock()
	delete(h.byHost, host)
	h.mu.Unlock()
}

// Arms appends to into the routes of a hedged read and returns them: one
// per read region, in the order the read would try them, at most max (0:
// all), each pinned to its region with its own retry state. It returns nil
// when the call cannot be hedged: a write, an account not known, fewer
// than two regions.
func (rt *Route) Arms(max int, into []Route) []Route {
	if rt.write || !rt.known || rt.none || len(rt.eps) < 2 {
		return nil
	}
	n := len(rt.eps)
	if max > 0 {
		n = min(n, max)
	}
	if n < 2 {
		return nil
	}
	for i := range n {
		a := *rt
		a.pinned = true
		a.call = rt.policy.Call()
		a.eps, a.idx, a.tried = rt.eps[i:i+1], 0, 1
		a.target, a.sent = rt.eps[i], rt.eps[i]
		into = append(into, a)
	}
	return into
}

// Lost records that this arm's region, the one the read would have used,
// lost a hedged read: a later arm answered first. After demoteAfter losses
// in a row (negative: never) the region is marked unavailable for reads,
// as a region that answers 503 is, so reads prefer the others until the
// mark expires.
func (rt *Route) Lost(demoteAfter int) {
	if rt.owner == nil || demoteAfter < 0 {
		return
	}
	if rt.owner.hedges.lost(wire.EndpointOf(rt.target), demoteAfter) {
		rt.owner.markUnavailable(rt.target, false)
	}
}

// Won records that this arm's region answered a hedged read first.
func (rt *Route) Won() {
	if rt.owner != nil {
		rt.owner.hedges.won(wire.EndpointOf(rt.target))
	}
}
