package account

import (
	"container/list"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// Per-partition failover: in a single-write account whose document says
// enablePerPartitionFailoverBehavior, the service may move one partition's
// writes to another region on its own, and says so only by refusing them
// (403.3) where they were; the account's document keeps naming the write
// region. A write of a known partition key range that meets a 403.3 or a
// 503 moves to the range's next region (see decide.Situation.PartitionFailover)
// instead of reading the account, and once one succeeds away from the write
// region, the range's next writes go there first.

// rangeMoveTTL is how long a range's region is remembered after the last
// write that succeeded there: a range written no more is forgotten, and
// its next write tries the write region first.
const rangeMoveTTL = 5 * time.Minute

// rangeMoves remembers, per partition key range of a container, the region
// other than the write region where the range's writes last succeeded. It
// keeps at most max ranges, forgetting the least recently used first. It is
// safe for concurrent use; a lookup while no range has moved takes no lock.
type rangeMoves struct {
	max int
	now func() time.Time

	n atomic.Int64 // entries kept: 0 lets lookups skip the lock

	mu      sync.Mutex // guards entries, lru and every entry's fields
	entries map[rangeMoveKey]*rangeMove
	lru     list.List // of *rangeMove, most recently used first
}

// rangeMoveKey names one range of one container.
type rangeMoveKey struct{ container, rangeID string }

// rangeMove is where one range's writes go.
type rangeMove struct {
	key   rangeMoveKey
	elem  *list.Element
	host  string    // the region's endpoint host
	until time.Time // forgotten then
}

func newRangeMoves(max int, now func() time.Time) *rangeMoves {
	return &rangeMoves{max: max, now: now, entries: make(map[rangeMoveKey]*rangeMove)}
}

// any reports whether some range is remembered.
func (m *rangeMoves) any() bool { return m.n.Load() > 0 }

// regionOf returns the host of the region where the writes of range rangeID
// of container last succeeded, if it is remembered.
func (m *rangeMoves) regionOf(container, rangeID string) (string, bool) {
	if !m.any() {
		return "", false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[rangeMoveKey{container, rangeID}]
	if e == nil {
		return "", false
	}
	if !m.now().Before(e.until) {
		m.removeLocked(e)
		return "", false
	}
	m.lru.MoveToFront(e.elem)
	return e.host, true
}

// wrote records that a write of range rangeID of container succeeded at
// host: remembered, or forgotten when host is the account's write region
// (home).
func (m *rangeMoves) wrote(container, rangeID, host string, home bool) {
	if home && !m.any() {
		return
	}
	k := rangeMoveKey{container, rangeID}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[k]
	switch {
	case home:
		if e != nil {
			m.removeLocked(e)
		}
		return
	case e == nil:
		if len(m.entries) >= m.max {
			m.removeLocked(m.lru.Back().Value.(*rangeMove))
		}
		e = &rangeMove{key: k}
		e.elem = m.lru.PushFront(e)
		m.entries[k] = e
		m.n.Add(1)
	default:
		m.lru.MoveToFront(e.elem)
	}
	e.host, e.until = host, m.now().Add(rangeMoveTTL)
}

// removeLocked forgets e. m.mu is held.
func (m *rangeMoves) removeLocked(e *rangeMove) {
	m.lru.Remove(e.elem)
	delete(m.entries, e.key)
	m.n.Add(-1)
}

// movesRanges reports whether the route's account moves a partition's
// writes on their own: a single-write account with per-partition failover,
// with partition circuits on.
func (rt *Route) movesRanges() bool {
	a := rt.owner.Account()
	return a != nil && a.PerPartitionFailover && !a.MultipleWriteLocations && rt.owner.parts.on()
}

// rangeWrites returns the endpoints the call's write of range rangeID
// tries in order: the region where the range's writes last succeeded, if
// remembered, then the write region, then the other regions as reads use
// them (all regions of such an account can take the writes of a range
// that moved); without the regions the call excludes, and with those
// where the range is tripped last.
func (rt *Route) rangeWrites(rangeID string) []*url.URL {
	r := rt.owner
	writes, reads := r.writeEndpoints(), r.readEndpoints()
	eps := make([]*url.URL, 0, len(writes)+len(reads))
	if host, ok := r.moves.regionOf(rt.container, rangeID); ok {
		for _, ep := range reads {
			if ep.Host == host {
				eps = append(eps, ep)
				break
			}
		}
	}
	for _, list := range [][]*url.URL{writes, reads} {
		for _, ep := range list {
			if !containsEndpoint(eps, ep) {
				eps = append(eps, ep)
			}
		}
	}
	return rt.aroundTripped(rt.allowed(eps))
}

// containsEndpoint reports whether eps holds ep.
func containsEndpoint(eps []*url.URL, ep *url.URL) bool {
	for _, e := range eps {
		if sameEndpoint(e, ep) {
			return true
		}
	}
	return false
}

// moveRange makes the call a write of range rangeID that may move between
// regions (rt.moving), from eps (from rangeWrites): the endpoint its last
// attempt went to, if eps holds it, counts as tried, and the next attempt
// goes to the first of the others (the region where the range's writes
// last succeeded, if remembered). It reports false, changing nothing, when
// eps is empty.
func (rt *Route) moveRange(rangeID string, eps []*url.URL) bool {
	if len(eps) == 0 {
		return false
	}
	rt.moving, rt.eps, rt.idx, rt.tried = rangeID, eps, -1, 0
	for i, ep := range eps {
		if sameEndpoint(ep, rt.sent) {
			if i > 0 {
				// Tried already: first, so that the next attempt goes to
				// the first region of the range's order.
				rt.eps = append(append(append(make([]*url.URL, 0, len(eps)), ep), eps[:i]...), eps[i+1:]...)
			}
			rt.idx, rt.tried = 0, 1
			break
		}
	}
	return true
}

// answerRange returns the partition key range of the call's last answer:
// the one it names, else the one known before the attempt.
func (rt *Route) answerRange(resp *http.Response) string {
	if resp != nil {
		if v := resp.Header[wire.HeaderPartitionKeyRangeID]; len(v) > 0 && v[0] != "" {
			return v[0]
		}
	}
	if rt.moving != "" {
		return rt.moving
	}
	return rt.rangeID
}

// rangeMayMove reports whether the call's write, whose last answer was
// resp of outcome o, is one whose range moves between regions (see
// decide.Situation.PartitionFailover). It makes the call one when the
// answer says the range may have moved (decide.MovesRange) and its range is
// known.
func (rt *Route) rangeMayMove(o decide.Outcome, resp *http.Response) bool {
	switch {
	case rt.moving != "":
		return true
	case rt.settled || !rt.write || rt.multi || !rt.known || rt.pinned || rt.container == "" || !decide.MovesRange(o) || !rt.movesRanges():
		return false
	}
	rangeID := rt.answerRange(resp)
	return rangeID != "" && rt.moveRange(rangeID, rt.rangeWrites(rangeID))
}

// wroteRange records where the call's write of a range succeeded (resp its
// answer): the range's writes go there first from now on, or, at the
// account's write region, as the account's do.
func (rt *Route) wroteRange(resp *http.Response) {
	if !rt.write || rt.owner == nil || rt.container == "" || rt.moving == "" && !rt.owner.moves.any() {
		return
	}
	rangeID := rt.answerRange(resp)
	if rangeID == "" {
		return
	}
	w, ok := rt.owner.WriteEndpoint()
	home := ok && sameEndpoint(rt.sent, w)
	if !home && rt.moving == "" {
		return // moved by the caller's excluded regions, not by the service
	}
	rt.owner.moves.wrote(rt.container, rangeID, rt.sent.Host, home)
	if !home && rt.rangeID == "" {
		// Warm the container's ranges, so that its next writes know their
		// range, and so where to go, before their first attempt.
		rt.owner.rangeOf(rt.container, rt.pk)
	}
}

// resetRange points the call, a write, at the first region of its range's
// writes when they move between regions: a call whose range moved already
// (after a look-up), or one whose range is known before its first attempt
// and whose writes went elsewhere or may be tripped somewhere. It reports
// whether it did; otherwise the call writes as the account's writes do.
func (rt *Route) resetRange() bool {
	if rt.settled || !rt.movesRanges() {
		rt.moving = ""
		return false
	}
	rangeID := rt.moving
	if rangeID == "" {
		if rt.rangeID == "" || rt.container == "" {
			return false
		}
		if _, ok := rt.owner.moves.regionOf(rt.container, rt.rangeID); !ok && rt.owner.parts.open.Load() == 0 {
			return false
		}
		rangeID = rt.rangeID
	}
	eps := rt.rangeWrites(rangeID)
	if len(eps) == 0 {
		return false
	}
	rt.moving, rt.multi = rangeID, false
	rt.eps, rt.idx, rt.tried, rt.target = eps, 0, 1, eps[0]
	return true
}
