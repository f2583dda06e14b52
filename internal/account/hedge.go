package account

import (
	"cmp"
	"context"
	"math"
	"net/url"
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

// lost counts a hedged read of range rangeID of container that the region
// at ep lost (another region answered first while it had not), and
// returns what it did to the range's circuit: after demoteAfter in a row
// the range trips there, as after failures, and its test is a real read,
// which shows whether the region answers in time. A loss while the
// circuit is tested is the test's failure. Any success of the region
// for the range starts the count again.
func (p *partitions) lost(container, rangeID string, ep *url.URL, demoteAfter int) PartitionChange {
	if !p.on() || rangeID == "" || container == "" {
		return 0
	}
	p.mu.Lock()
	i := p.t.find(container, rangeID, ep.Host)
	if i == noIndex {
		var ok bool
		if i, ok = p.addLocked(container, rangeID, ep.Host); !ok {
			p.mu.Unlock()
			return 0
		}
	} else {
		p.t.touch(i)
	}
	c := p.t.at(i)
	var change PartitionChange
	switch {
	case c.until != 0 && c.flags&flagTesting != 0:
		change = PartitionReopened
		c.until, c.flags = p.reopenAt(), c.flags&^(flagTesting|flagProbing)|flagSlow
	case c.until == 0:
		if c.losses < math.MaxUint16 {
			c.losses++
		}
		if int(c.losses) >= demoteAfter {
			change = PartitionTripped
			c.flags |= flagSlow
		}
	}
	markRegion := change == PartitionTripped && p.tripLocked(i)
	p.mu.Unlock()
	if markRegion && p.mark != nil {
		p.mark(ep)
	}
	return change
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
// lost a hedged read to winner, a later arm that answered first. A read
// that can be routed by its partition key range before its first attempt
// (it names its range, or carries a partition key) counts the loss
// against that range in the region (see partitions.lost): after
// demoteAfter in a row (negative: never) the range's reads go elsewhere
// first, as when it trips on failures, while the region's other ranges
// stay. Any other read counts it against the region: after demoteAfter in
// a row the region is marked unavailable for reads, as a region that
// answers 503 is, so reads prefer the others until the mark expires. ctx
// is the read's.
func (rt *Route) Lost(ctx context.Context, demoteAfter int, winner *Route) {
	if rt.owner == nil || demoteAfter < 0 {
		return
	}
	if rangeID := rt.lostRange(winner); rangeID != "" {
		if change := rt.owner.parts.lost(rt.container, rangeID, rt.target, demoteAfter); change != 0 {
			rt.owner.partitionChanged(ctx, rt.container, rangeID, rt.target, change)
		}
		return
	}
	if rt.owner.hedges.lost(wire.EndpointOf(rt.target), demoteAfter) {
		rt.owner.markUnavailable(rt.target, false)
	}
}

// lostRange returns the partition key range a hedged read lost by this
// arm counts against: the one the winner's answer named, else the one
// known before the read, else the one the cache knows for its key. It
// returns "" for a read whose range cannot steer the reads to come: one
// without a partition key that does not name its range, one of a
// container whose ranges cannot be read (no partition key definition, no
// right to read them), or with partition circuits off.
func (rt *Route) lostRange(winner *Route) string {
	if rt.container == "" || !rt.owner.parts.on() {
		return ""
	}
	if rt.rangeID == "" {
		if rt.pk == "" {
			return ""
		}
		// Also starts loading the container's ranges, for the reads to come.
		known, _ := rt.owner.rangeOf(rt.container, rt.pk)
		if known == "" && rt.owner.rangesFailed(rt.container) {
			return ""
		}
		return cmp.Or(winner.answeredRange, known)
	}
	return cmp.Or(winner.answeredRange, rt.rangeID)
}

// Won records that this arm's region answered a hedged read first.
func (rt *Route) Won() {
	if rt.owner != nil {
		rt.owner.hedges.won(wire.EndpointOf(rt.target))
	}
}
