package account

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
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
// region (see policy.PartitionOptions): its failures and lost hedges in a
// row, and until when a tripped range avoids the region. Only failing and
// open circuits are kept, in a circuitTable, at most MaxRanges of them. It
// is safe for concurrent use; a lookup while no circuit is open, and a
// success while none is failing, take no lock. Its tests by probes are in
// probe.go, its count of lost hedges in hedge.go, its status in status.go.
type partitions struct {
	opts  policy.PartitionOptions // with defaults
	now   func() time.Time
	epoch time.Time        // the origin of the times kept: nanoseconds since then, by now's monotonic reading
	wall  bool             // now's times have no monotonic reading (a test's clock): subtract Unix times, faster than Sub
	mark  func(u *url.URL) // marks a region unavailable for reads

	open    atomic.Int64 // circuits open (or testing) now: 0 lets lookups skip the lock
	failing atomic.Int64 // circuits kept (failing or open): 0 lets a success skip the lock

	probing bool // a probe may test a read circuit (see Router.probe)

	mu     sync.Mutex // guards t, openIn, probes
	t      circuitTable
	openIn []int32 // open circuits per host id of t
	probes int     // probes in flight
}

// A PartitionChange is what an answer did to its range's circuit in a
// region.
type PartitionChange uint8

// The changes of a partition circuit; 0 is none.
const (
	PartitionTripped   PartitionChange = iota + 1 // closed to open: failures or lost hedges in a row
	PartitionReopened                             // its test failed: open again
	PartitionRecovered                            // a success closed it
)

func (c PartitionChange) String() string {
	switch c {
	case PartitionTripped:
		return "tripped"
	case PartitionReopened:
		return "reopened"
	case PartitionRecovered:
		return "recovered"
	}
	return "none"
}

// A PartitionEvent is a change of one range's circuit in one region, for
// telemetry (RouterOptions.OnPartition).
type PartitionEvent struct {
	Container string // "dbs/{db}/colls/{coll}"
	Range     string
	Region    string // the region's name, or its endpoint's host
	Change    PartitionChange
}

// A verdict is how an answer counts toward its range's circuit (see
// decide.PartitionVerdict).
type verdict uint8

const (
	notCounted   verdict = iota // says nothing of the range: never sent, cancelled, routing answers
	readSuccess                 // a read's success: it cannot show that a region failing writes takes them again
	success                     // the range answered in the region (a write, or a probe)
	readFailure                 // a read's failure
	writeFailure                // a write's failure: only a write can show that the region is back
	unclear                     // a probe's answer that says nothing of the range (401, 403: its credential may not read)
)

func newPartitions(o policy.PartitionOptions, now func() time.Time, mark func(*url.URL)) *partitions {
	epoch := now()
	return &partitions{opts: decide.PartitionDefaults(o), now: now, epoch: epoch, wall: epoch == epoch.Round(0), mark: mark}
}

// on reports whether partition circuits are on.
func (p *partitions) on() bool { return p != nil && p.opts.ConsecutiveFailures >= 0 }

// clock returns the time now as kept: nanoseconds since p.epoch, at least 1.
func (p *partitions) clock() int64 {
	if p.wall {
		return max(p.now().UnixNano()-p.epoch.UnixNano(), 1)
	}
	return max(int64(p.now().Sub(p.epoch)), 1)
}

// timeOf returns the time t kept by clock.
func (p *partitions) timeOf(t int64) time.Time { return p.epoch.Add(time.Duration(t)) }

// avoid reports whether a call of range rangeID of container should avoid
// the region at ep: its circuit is open and not yet due for a test. When
// the test is due, the first caller is let through as the test and the
// others keep avoiding the region until it reports.
func (p *partitions) avoid(container, rangeID string, ep *url.URL) bool {
	avoid, _ := p.check(container, rangeID, ep, false)
	return avoid
}

// trippedAt reports whether the circuit of range rangeID of container is
// open (or being tested) in the region at host; it changes nothing.
func (p *partitions) trippedAt(container, rangeID, host string) bool {
	if !p.on() || p.open.Load() == 0 || rangeID == "" || container == "" {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.t.find(container, rangeID, host)
	return i != noIndex && p.t.at(i).until != 0
}

// check is avoid for a call that may leave the test to a probe, a read
// (read): when the circuit can be probed, the caller keeps avoiding the
// region and must start the probe (probe), whose end it reports to
// probeEnded.
func (p *partitions) check(container, rangeID string, ep *url.URL, read bool) (avoid, probe bool) {
	if !p.on() || p.open.Load() == 0 || rangeID == "" || container == "" {
		return false, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.t.find(container, rangeID, ep.Host)
	if i == noIndex {
		return false, false
	}
	c := p.t.at(i)
	if c.until == 0 {
		return false, false
	}
	now := p.clock()
	if now < c.until {
		return true, false // open, or tested by a call or probe still under way however long it takes
	}
	c.until = now + int64(p.testGiveUp())
	if read && p.probing && c.flags&(flagWritten|flagSlow|flagNoProbe) == 0 && p.probes < maxProbes {
		c.flags |= flagTesting | flagProbing
		p.probes++
		return true, true // a probe tests the region
	}
	c.flags = c.flags&^flagProbing | flagTesting
	return false, false // this call tests the region
}

// record counts an answer of the region at ep for range rangeID of
// container, and returns what it did to the range's circuit. A range
// trips after ConsecutiveFailures in a row, and a test's failure trips it
// again at once; a success closes it and forgets it. Only failing and
// open ranges are kept, so that while none is, a success takes no lock.
func (p *partitions) record(container, rangeID string, ep *url.URL, v verdict) PartitionChange {
	if !p.on() || rangeID == "" || container == "" || v <= success && p.failing.Load() == 0 {
		return 0
	}
	p.mu.Lock()
	i := p.t.find(container, rangeID, ep.Host)
	if i == noIndex && v <= success {
		p.mu.Unlock()
		return 0 // nothing to remember of a healthy range
	}
	change, markRegion := p.recordLocked(i, container, rangeID, ep.Host, v)
	p.mu.Unlock()
	if markRegion && p.mark != nil {
		p.mark(ep)
	}
	return change
}

// recordLocked is record for circuit i of (container, rangeID, host),
// noIndex if it is not kept yet; markRegion reports that the region now
// has enough tripped ranges to be marked. p.mu is held.
func (p *partitions) recordLocked(i uint32, container, rangeID, host string, v verdict) (change PartitionChange, markRegion bool) {
	if v == notCounted {
		// If it was the test, it said nothing (cancelled, never sent):
		// the next call tests. A probe's test is the probe's to end.
		if c := p.t.at(i); c.flags&flagProbing == 0 {
			p.releaseLocked(c)
		}
		return 0, false
	}
	if i == noIndex {
		var ok bool
		if i, ok = p.addLocked(container, rangeID, host); !ok {
			return 0, false
		}
	} else {
		p.t.touch(i)
	}
	c := p.t.at(i)
	if v == writeFailure {
		c.flags |= flagWritten
	}
	switch {
	case v == readSuccess && c.flags&flagWritten != 0:
		// A region whose writes failed may still serve reads: a read
		// neither resets the writes' count nor closes their circuit, and
		// if it was let through as the test, a write tests instead.
		if c.flags&flagTesting != 0 && c.flags&flagProbing == 0 {
			p.releaseLocked(c)
		}
	case v <= success:
		if c.until != 0 {
			change = PartitionRecovered
			p.closedLocked(c.key.host())
		}
		p.removeLocked(i) // healthy again: nothing to remember
	case c.until != 0 && c.flags&flagTesting != 0:
		change = PartitionReopened // the test failed
		c.until, c.flags = p.reopenAt(), c.flags&^(flagTesting|flagProbing)
	case c.until == 0:
		if c.failures < math.MaxUint16 {
			c.failures++
		}
		if int(c.failures) >= p.opts.ConsecutiveFailures {
			change = PartitionTripped
			markRegion = p.tripLocked(i)
		}
	}
	return change, markRegion
}

// tripLocked opens circuit i, closed until now, and reports whether its
// region now has enough tripped ranges to be marked. p.mu is held.
func (p *partitions) tripLocked(i uint32) bool {
	c := p.t.at(i)
	c.until, c.failures, c.losses = p.reopenAt(), 0, 0
	p.t.opened(i)
	p.open.Add(1)
	h := c.key.host()
	if int(h) >= len(p.openIn) {
		p.openIn = append(p.openIn, make([]int32, int(h)+1-len(p.openIn))...)
	}
	p.openIn[h]++
	return p.openIn[h] >= openRangesMarkRegion
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
	if i := p.t.find(container, rangeID, ep.Host); i != noIndex && p.t.at(i).flags&flagProbing == 0 {
		p.releaseLocked(p.t.at(i))
	}
	p.mu.Unlock()
}

// releaseLocked ends c's test without a verdict: the test is due again at
// once. p.mu is held.
func (p *partitions) releaseLocked(c *circuit) {
	if c.flags&flagTesting != 0 {
		c.flags &^= flagTesting | flagProbing
		c.until = p.clock()
	}
}

// reopenAt is when a range tripped now is tested again: OpenTimeout plus
// up to a fifth more, so that ranges tripped together are not tested
// together.
func (p *partitions) reopenAt() int64 {
	d := p.opts.OpenTimeout
	return p.clock() + int64(d) + rand.Int64N(int64(d)/5+1)
}

// addLocked adds a closed circuit for (container, rangeID, host) and
// returns its index, forgetting the least recently used closed one when
// the cap is reached (or, if every one is open, the least recently used
// open one); false if its names do not fit in the tables. p.mu is held.
func (p *partitions) addLocked(container, rangeID, host string) (uint32, bool) {
	if p.t.count >= min(p.opts.MaxRanges, maxEntries) {
		victim := p.t.closed.tail
		if victim == noIndex {
			victim = p.t.open.tail
			p.closedLocked(p.t.at(victim).key.host())
		}
		p.removeLocked(victim)
	}
	i, ok := p.t.add(container, rangeID, host)
	if ok {
		p.failing.Add(1)
	}
	return i, ok
}

// removeLocked forgets circuit i. p.mu is held.
func (p *partitions) removeLocked(i uint32) {
	p.t.remove(i)
	p.failing.Add(-1)
	if p.t.count == 0 {
		p.openIn = nil
	}
}

// forget forgets the circuits of range rangeID of container in every
// region: the range is gone (split), and no call will test them again.
func (p *partitions) forget(container, rangeID string) {
	if !p.on() || rangeID == "" || container == "" || p.failing.Load() == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	hosts := make([]string, 0, len(p.t.hosts.list))
	for _, h := range p.t.hosts.list {
		if h.refs > 0 {
			hosts = append(hosts, h.s)
		}
	}
	for _, host := range hosts {
		i := p.t.find(container, rangeID, host)
		if i == noIndex {
			continue
		}
		c := p.t.at(i)
		if c.flags&flagProbing != 0 {
			continue // the probe's end settles it
		}
		if c.until != 0 {
			p.closedLocked(c.key.host())
		}
		p.removeLocked(i)
	}
}

// closedLocked counts a circuit of the region of host id h that is open no
// more. p.mu is held.
func (p *partitions) closedLocked(h uint32) {
	p.open.Add(-1)
	p.openIn[h]--
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
		avoid, probe := p.check(rt.container, rt.rangeID, ep, !rt.write)
		if probe {
			rt.owner.startProbe(rt.container, rt.rangeID, ep)
		}
		if !avoid {
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
// err) toward its range's circuit in the region it went to, and reports
// a change of the circuit to telemetry with ctx, the call's. The range is
// the one the answer names, else the one known before the attempt.
func (rt *Route) recordPartition(ctx context.Context, resp *http.Response, err error) {
	if rt.owner == nil || rt.container == "" || !rt.owner.parts.on() {
		return
	}
	if decide.RangeGone(resp) {
		rt.owner.rangeGone(rt.container) // split: the cached ranges are stale
		gone := rt.rangeID
		if v := resp.Header[wire.HeaderPartitionKeyRangeID]; len(v) > 0 {
			gone = v[0]
		}
		rt.owner.parts.forget(rt.container, gone)
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
	rt.answeredRange = rangeID
	if rt.rangeID != "" && rangeID != rt.rangeID {
		// The ranges the call was routed by are stale (a split the answers
		// do not announce to point operations): read them again, and free
		// the test this call may have been for the range it expected.
		rt.owner.rangeGone(rt.container)
		rt.owner.parts.release(rt.container, rt.rangeID, rt.sent)
		rt.owner.parts.forget(rt.container, rt.rangeID)
	}
	failure, counted := decide.PartitionVerdict(resp, err)
	v := notCounted
	switch {
	case failure && rt.write:
		v = writeFailure
	case failure:
		v = readFailure
	case counted && rt.write:
		v = success
	case counted:
		v = readSuccess
	}
	if change := rt.owner.parts.record(rt.container, rangeID, rt.sent, v); change != 0 {
		rt.owner.partitionChanged(ctx, rt.container, rangeID, rt.sent, change)
	}
	if failure && rt.rangeID == "" {
		// Warm the container's ranges, so that once the range trips the
		// next calls know their range before their first attempt.
		rt.owner.rangeOf(rt.container, rt.pk)
	}
}

// partitionChanged reports a change of the circuit of range rangeID of
// container in the region at ep to telemetry, if it listens.
func (r *Router) partitionChanged(ctx context.Context, container, rangeID string, ep *url.URL, change PartitionChange) {
	if r.onPartition != nil {
		r.onPartition(ctx, PartitionEvent{Container: container, Range: rangeID, Region: r.nameOfHost(ep.Host), Change: change})
	}
}

// trippedEverywhere reports whether the range of the call's last answer
// (the one it names, else the one known before the attempt) is tripped in
// every region the call may use: its endpoints by preference, or, for a
// write to a single write region, the endpoint it went to.
func (rt *Route) trippedEverywhere(resp *http.Response) bool {
	p := rt.owner.parts
	if rt.container == "" || !p.on() || p.open.Load() == 0 {
		return false
	}
	rangeID := rt.rangeID
	if resp != nil {
		if v := resp.Header[wire.HeaderPartitionKeyRangeID]; len(v) > 0 {
			rangeID = v[0]
		}
	}
	if len(rt.eps) == 0 || rt.write && !rt.multi {
		return p.trippedAt(rt.container, rangeID, rt.sent.Host)
	}
	for _, ep := range rt.eps {
		if !p.trippedAt(rt.container, rangeID, ep.Host) {
			return false
		}
	}
	return true
}
