package account

import (
	"container/list"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
)

// openRangesMarkRegion is how many tripped ranges in one region make the
// region's own failure: it is then marked unavailable for reads.
const openRangesMarkRegion = 3

// partitions keeps a circuit per partition key range of a container in a
// region (see policy.PartitionOptions): its consecutive failures, and
// until when a tripped range avoids the region. It is safe for concurrent
// use; a lookup while no circuit is open takes no lock.
type partitions struct {
	opts policy.PartitionOptions // with defaults
	now  func() time.Time
	mark func(u *url.URL) // marks a region unavailable for reads

	open    atomic.Int64 // circuits open (or testing) now: 0 lets lookups skip the lock
	failing atomic.Int64 // entries kept (ranges failing or open): 0 lets a success skip the lock

	mu      sync.Mutex // guards entries, lru, openIn, and every entry's fields
	entries map[rangeKey]*rangeCircuit
	lru     list.List      // of *rangeCircuit, most recently used first
	openIn  map[string]int // open circuits per region host
}

// rangeKey names one range of one container in one region.
type rangeKey struct {
	container string // "dbs/d/colls/c"
	rangeID   string
	host      string // the region's endpoint host
}

// rangeCircuit is one range's circuit in one region.
type rangeCircuit struct {
	key      rangeKey
	elem     *list.Element
	failures int       // in a row
	until    time.Time // zero: closed; else open until then, when one call tests it
	testing  bool      // a call is testing the region for the range
	testEnds time.Time // when a test that never reported is given up
}

// PartitionStatus is one open partition circuit, for an operator.
type PartitionStatus struct {
	Container, Range, Endpoint string
	Until                      time.Time // when a call tests the region again
	Testing                    bool      // a call is testing it now
}

func newPartitions(o policy.PartitionOptions, now func() time.Time, mark func(*url.URL)) *partitions {
	return &partitions{opts: decide.PartitionDefaults(o), now: now, mark: mark, entries: make(map[rangeKey]*rangeCircuit), openIn: make(map[string]int)}
}

// on reports whether partition circuits are on.
func (p *partitions) on() bool { return p != nil && p.opts.ConsecutiveFailures >= 0 }

// avoid reports whether a call of range rangeID of container should avoid
// the region at ep: its circuit is open and not yet due for a test. When
// the test is due, the first caller is let through as the test and the
// others keep avoiding the region until it reports.
func (p *partitions) avoid(container, rangeID string, ep *url.URL) bool {
	if !p.on() || p.open.Load() == 0 || rangeID == "" || container == "" {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.entries[rangeKey{container, rangeID, ep.Host}]
	if c == nil || c.until.IsZero() {
		return false
	}
	now := p.now()
	switch {
	case now.Before(c.until):
		return true
	case c.testing && now.Before(c.testEnds):
		return true // one test at a time, however long it takes
	}
	c.testing, c.testEnds = true, now.Add(p.testGiveUp())
	return false // this call tests the region
}

// record counts an answer of the region at ep for range rangeID of
// container: a failure, or a success when counted (see
// decide.PartitionVerdict). A range trips after ConsecutiveFailures in a
// row, and a test's failure trips it again at once; a success closes it
// and forgets it. Only failing and open ranges are kept, so that while
// none is, a success takes no lock.
func (p *partitions) record(container, rangeID string, ep *url.URL, failure, counted bool) {
	if !p.on() || rangeID == "" || container == "" || !failure && p.failing.Load() == 0 {
		return
	}
	k := rangeKey{container, rangeID, ep.Host}
	p.mu.Lock()
	c := p.entries[k]
	if !counted {
		if c != nil && c.testing {
			c.testing = false // the test said nothing (cancelled, never sent): the next call tests
		}
		p.mu.Unlock()
		return
	}
	if c == nil {
		if !failure {
			p.mu.Unlock()
			return // nothing to remember of a healthy range
		}
		c = p.addLocked(k)
	} else {
		p.lru.MoveToFront(c.elem)
	}
	var markRegion bool
	switch {
	case !failure:
		if !c.until.IsZero() {
			p.closedLocked(k.host)
		}
		p.removeLocked(c) // healthy again: nothing to remember
	case !c.until.IsZero() && c.testing:
		c.until, c.testing = p.reopenAt(), false // the test failed
	case c.until.IsZero():
		c.failures++
		if c.failures >= p.opts.ConsecutiveFailures {
			c.until = p.reopenAt()
			p.open.Add(1)
			p.openIn[k.host]++
			markRegion = p.openIn[k.host] >= openRangesMarkRegion
		}
	}
	p.mu.Unlock()
	if markRegion && p.mark != nil {
		p.mark(ep)
	}
}

// testGiveUp is how long a test that never reports (its call went
// elsewhere after all) holds the test back: far longer than an open
// period, so that a region that hangs rather than fails collects one stuck
// call per range, not one per open period.
func (p *partitions) testGiveUp() time.Duration {
	return max(10*p.opts.OpenTimeout, time.Minute)
}

// release ends the test of range rangeID of container in the region at ep
// without a verdict, when its call's answer named another range (a split
// the cached ranges do not know yet): the next call tests again.
func (p *partitions) release(container, rangeID string, ep *url.URL) {
	if !p.on() || p.open.Load() == 0 {
		return
	}
	p.mu.Lock()
	if c := p.entries[rangeKey{container, rangeID, ep.Host}]; c != nil {
		c.testing = false
	}
	p.mu.Unlock()
}

// reopenAt is when a range tripped now is tested again: OpenTimeout plus
// up to a fifth more, so that ranges tripped together are not tested
// together.
func (p *partitions) reopenAt() time.Time {
	d := p.opts.OpenTimeout
	return p.now().Add(d + time.Duration(rand.Int64N(int64(d)/5+1)))
}

// addLocked adds a closed circuit for k, forgetting the least recently
// used closed one when the cap is reached (or, if every one is open, the
// least recently used). p.mu is held.
func (p *partitions) addLocked(k rangeKey) *rangeCircuit {
	if len(p.entries) >= p.opts.MaxRanges {
		victim := p.lru.Back()
		for e := victim; e != nil; e = e.Prev() {
			if e.Value.(*rangeCircuit).until.IsZero() {
				victim = e
				break
			}
		}
		if victim != nil {
			v := victim.Value.(*rangeCircuit)
			if !v.until.IsZero() {
				p.closedLocked(v.key.host)
			}
			p.removeLocked(v)
		}
	}
	c := &rangeCircuit{key: k}
	c.elem = p.lru.PushFront(c)
	p.entries[k] = c
	p.failing.Add(1)
	return c
}

// removeLocked forgets c. p.mu is held.
func (p *partitions) removeLocked(c *rangeCircuit) {
	p.lru.Remove(c.elem)
	delete(p.entries, c.key)
	p.failing.Add(-1)
}

// closedLocked counts a circuit of the region at host that is open no
// more. p.mu is held.
func (p *partitions) closedLocked(host string) {
	p.open.Add(-1)
	if p.openIn[host]--; p.openIn[host] <= 0 {
		delete(p.openIn, host)
	}
}

// status lists the open circuits, for an operator.
func (p *partitions) status(nameOf func(host string) string) []PartitionStatus {
	if !p.on() || p.open.Load() == 0 {
		return nil
	}
	p.mu.Lock()
	var out []PartitionStatus
	for k, c := range p.entries {
		if c.until.IsZero() {
			continue
		}
		name := k.host
		if nameOf != nil {
			name = nameOf(k.host)
		}
		out = append(out, PartitionStatus{Container: k.container, Range: k.rangeID, Endpoint: name, Until: c.until, Testing: c.testing})
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b PartitionStatus) int {
		if a.Container != b.Container {
			return compareStrings(a.Container, b.Container)
		}
		if a.Range != b.Range {
			return compareStrings(a.Range, b.Range)
		}
		return compareStrings(a.Endpoint, b.Endpoint)
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// aroundTripped returns eps, the endpoints a call may use in order, with
// those where the call's partition key range is tripped moved to the end,
// so that the call goes elsewhere first without a failed attempt; eps
// itself when none is (it allocates only when one is).
func (rt *Route) aroundTripped(eps []*url.URL) []*url.URL {
	p := rt.owner.parts
	if rt.rangeID == "" || !p.on() || p.open.Load() == 0 {
		return eps
	}
	for i, ep := range eps {
		if !p.avoid(rt.container, rt.rangeID, ep) {
			if i == 0 {
				return eps
			}
			out := make([]*url.URL, 0, len(eps))
			out = append(out, eps[i:]...)
			return append(out, eps[:i]...) // tripped, kept as a last resort
		}
	}
	return eps // tripped everywhere: nowhere better to go
}

// recordPartition counts the answer of the call's last attempt (resp, or
// err) toward its range's circuit in the region it went to. The range is
// the one the answer names, else the one known before the attempt.
func (rt *Route) recordPartition(resp *http.Response, err error) {
	if rt.owner == nil || rt.container == "" || !rt.owner.parts.on() {
		return
	}
	if decide.RangeGone(resp) {
		rt.owner.rangeGone(rt.container) // split: the cached ranges are stale
	}
	// The range the answer names is the service's word; the one known
	// before the attempt stands in for an answer that names none (an
	// error), and may be stale after a split.
	rangeID := rt.rangeID
	if resp != nil {
		if v := resp.Header[wire.HeaderPartitionKeyRangeID]; len(v) > 0 {
			rangeID = v[0]
		}
	}
	if rangeID == "" {
		return
	}
	if rt.rangeID != "" && rangeID != rt.rangeID {
		// The ranges the call was routed by are stale (a split the answers
		// do not announce to point operations): read them again, and free
		// the test this call may have been for the range it expected.
		rt.owner.rangeGone(rt.container)
		rt.owner.parts.release(rt.container, rt.rangeID, rt.sent)
	}
	failure, counted := decide.PartitionVerdict(resp, err)
	rt.owner.parts.record(rt.container, rangeID, rt.sent, failure, counted)
	if failure && rt.rangeID == "" {
		// Warm the container's ranges, so that once the range trips the
		// next calls know their range before their first attempt.
		rt.owner.rangeOf(rt.container, rt.pk)
	}
}

// PartitionStatus lists the open partition circuits, for an operator.
func (r *Router) PartitionStatus() []PartitionStatus {
	return r.parts.status(r.nameOfHost)
}

// nameOfHost names the account's endpoint at host: its region's name, or
// host itself.
func (r *Router) nameOfHost(host string) string {
	if a := r.Account(); a != nil {
		for _, ls := range [][]Location{a.Read, a.Write} {
			for _, l := range ls {
				if l.Endpoint.Host == host {
					return l.Name
				}
			}
		}
	}
	return host
}
