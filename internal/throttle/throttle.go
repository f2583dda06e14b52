package throttle

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cosmosrt/cosmosrt/policy"
)

// Options configures New.
type Options struct {
	policy.ThroughputOptions
	// Now is the clock. nil: time.Now.
	Now func() time.Time
}

// Defaults and bounds.
const (
	// serveMargin is the least time a call must have left after its turn
	// for the turn to be worth waiting for: a turn later than that is
	// refused (a group's call) or not waited for (a call of no group).
	serveMargin       = 25 * time.Millisecond
	defaultQueueLimit = 1024
	maxHeld           = 10000 // held ranges remembered
)

// A Throttle is a transport's throughput control. It is safe for
// concurrent use.
type Throttle struct {
	groups     map[string]*Group // read-only after New
	queueLimit int
	noHold     bool
	now        func() time.Time

	holding atomic.Int64  // ranges held: 0 lets a call of no group skip everything
	lookups atomic.Uint64 // reservations while a range is held: every sweepEvery-th looks for quiet ones

	mu   sync.Mutex    // guards held and every held entry
	held map[Key]*held // bounded by maxHeld
}

// New returns the Throttle o describes, or an error naming what is wrong
// with its groups.
func New(o Options) (*Throttle, error) {
	t := &Throttle{
		groups: make(map[string]*Group, len(o.Groups)), queueLimit: o.QueueLimit, noHold: o.NoHold,
		now: o.Now, held: make(map[Key]*held),
	}
	switch {
	case t.queueLimit == 0:
		t.queueLimit = defaultQueueLimit
	case t.queueLimit < 0:
		t.queueLimit = math.MaxInt
	}
	if t.now == nil {
		t.now = time.Now
	}
	for i, g := range o.Groups {
		if err := checkGroup(g); err != nil {
			return nil, fmt.Errorf("Groups[%d]: %w", i, err)
		}
		if t.groups[g.Name] != nil {
			return nil, fmt.Errorf("Groups[%d]: the name %q is taken by another group", i, g.Name)
		}
		t.groups[g.Name] = newGroup(g)
	}
	return t, nil
}

func checkGroup(g policy.ThroughputGroup) error {
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	switch {
	case strings.TrimSpace(g.Name) == "":
		return errors.New("a group needs a Name")
	case !finite(g.TargetRU) || g.TargetRU < 0:
		return fmt.Errorf("group %q: TargetRU must be a positive number of RU/s", g.Name)
	case !finite(g.TargetShare) || g.TargetShare < 0 || g.TargetShare > 1:
		return fmt.Errorf("group %q: TargetShare must be between 0 and 1", g.Name)
	case !finite(g.ProvisionedRU) || g.ProvisionedRU < 0:
		return fmt.Errorf("group %q: ProvisionedRU must be a positive number of RU/s", g.Name)
	case g.TargetRU == 0 && g.TargetShare == 0:
		return fmt.Errorf("group %q: needs TargetRU or TargetShare", g.Name)
	case g.Priority != 0 && g.Priority != policy.PriorityHigh && g.Priority != policy.PriorityLow:
		return fmt.Errorf("group %q: Priority must be PriorityHigh or PriorityLow", g.Name)
	}
	return nil
}

// Group returns the group named name.
func (t *Throttle) Group(name string) (*Group, bool) {
	g, ok := t.groups[name]
	return g, ok
}

// Groups lists the groups, by name.
func (t *Throttle) Groups() []*Group {
	out := make([]*Group, 0, len(t.groups))
	for _, g := range t.groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *Group) int { return strings.Compare(a.name, b.name) })
	return out
}

// Holds reports whether a 429/3200 holds its range (ThroughputOptions.NoHold
// is not set).
func (t *Throttle) Holds() bool { return !t.noHold }

// Holding reports whether a range is held somewhere: while it is not, a
// call of no group has nothing to reserve.
func (t *Throttle) Holding() bool { return t.holding.Load() > 0 }

// A Call is what the transport knows of an attempt before it is sent.
type Call struct {
	Group       *Group  // nil: the call joins no group
	Provisioned float64 // the container's provisioned RU/s, for a group whose target is a share of it
	Key                 // Range "" when not known
	Ranges      int     // the container's ranges; 0: not known
	Kind        Kind
	Low         bool      // the call's priority is Low
	Deadline    time.Time // the call's; zero if none
}

// A Slot is an attempt's reservation. The zero value reserves nothing.
type Slot struct {
	g       *Group
	gc      *groupContainer
	gp      *pacer  // the group's pacer the attempt reserved on; nil: none
	held    *held   // the held range the attempt was paced by; nil: none
	paced   bool    // it reserved on the held lane's pace
	queued  *pacer  // counted among gp's waiters until Waited
	est     float64 // RU reserved on gp
	heldEst float64 // RU reserved on the held lane's pace
	kind    Kind
	low     bool
	key     Key
	Wait    time.Duration // how long the attempt waits before it is sent
}

// A NotInTime error is an attempt that cannot be served in time by its
// group: its turn comes after the call's deadline, or too many calls wait.
type NotInTime struct {
	Group, Container, Range string
	Wait                    time.Duration // how long it would have waited; 0 when the queue is full
	QueueFull               bool
	Held                    bool // the service throttled the range past the deadline, whatever the group's budget
}

func (e *NotInTime) Error() string {
	r := e.Range
	if r == "" {
		r = "(any)"
	}
	if e.Held {
		return fmt.Sprintf("throughput group %q: range %s of %s is throttled by the service past the call's deadline (it would wait %s)",
			e.Group, r, e.Container, e.Wait.Round(time.Millisecond))
	}
	if e.QueueFull {
		return fmt.Sprintf("throughput group %q: too many calls wait for range %s of %s", e.Group, r, e.Container)
	}
	return fmt.Sprintf("throughput group %q: range %s of %s cannot serve the call before its deadline (it would wait %s)",
		e.Group, r, e.Container, e.Wait.Round(time.Millisecond))
}

// Reserve reserves an attempt's estimated charge and returns, in s, how
// long it must wait before it is sent. Its error, a *NotInTime, is the
// group's refusal: nothing is reserved. A call of no group is never
// refused: when a held range would keep it past its deadline, it goes at
// once.
func (t *Throttle) Reserve(c Call, s *Slot) error {
	*s = Slot{kind: c.Kind, low: c.Low, key: c.Key, g: c.Group}
	if c.Group == nil && !t.Holding() {
		return nil
	}
	deadline := int64(math.MaxInt64)
	if !c.Deadline.IsZero() {
		// A turn is worth waiting for only if the attempt can still be
		// answered after it: it must come serveMargin before the deadline.
		deadline = c.Deadline.UnixNano() - int64(serveMargin)
	}
	if t.Holding() && t.lookups.Add(1)%sweepEvery == 0 {
		t.sweep(t.now().UnixNano())
	}
	var now, sendAt int64
	if t.Holding() && c.Range != "" {
		now, sendAt = t.reserveHeld(c, s, deadline)
	}
	if now == 0 && c.Group != nil {
		now = t.now().UnixNano()
	}
	sendAt = max(sendAt, now)
	if c.Group != nil && sendAt > now && sendAt > deadline {
		// Held by the service past the deadline: the group cannot help.
		t.Cancel(s)
		return &NotInTime{Group: c.Group.name, Container: c.Container, Range: c.Range, Wait: time.Duration(sendAt - now), Held: true}
	}
	if g := c.Group; g != nil {
		at, err := g.reserve(c, s, now, max(sendAt, now), deadline, t.queueLimit)
		if err != nil {
			t.Cancel(s)
			return err
		}
		sendAt = max(sendAt, at)
	}
	s.Wait = time.Duration(sendAt - now)
	return nil
}

// reserveHeld returns now and when the attempt may go by its range's
// hold, reserving on the held lane's pace; zeros when the range is not
// held (the clock is read only when it is), and now when the wait would
// pass the deadline of a call of no group.
func (t *Throttle) reserveHeld(c Call, s *Slot, deadline int64) (now, sendAt int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.held[c.Key]
	if h == nil {
		return 0, 0
	}
	now = t.now().UnixNano()
	if now-h.last > int64(quietForget) {
		t.forgetLocked(c.Key)
		return now, now
	}
	saved := h.lanes[laneOf(c.Low)].pace.tat
	cost := h.est[c.Kind]
	sendAt, paced := h.reserve(c.Low, now, cost)
	if sendAt > deadline {
		h.lanes[laneOf(c.Low)].pace.tat = saved
		if c.Group != nil {
			return now, sendAt // refused by Reserve
		}
		return now, now
	}
	s.held, s.paced, s.heldEst = h, paced, cost
	return now, sendAt
}

// reserve reserves the attempt's estimate on the group's pacer of its
// range in its container, not before notBefore.
func (g *Group) reserve(c Call, s *Slot, now, notBefore, deadline int64, queueLimit int) (int64, error) {
	target := g.target(c.Provisioned)
	if target <= 0 {
		return now, nil // nothing to pace by (the transport checks a share's throughput first)
	}
	rangeID, rate := c.Range, target
	if c.Ranges > 0 && rangeID != "" {
		rate = target / float64(c.Ranges)
	} else {
		rangeID = ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	gc := g.containerLocked(c.Container, now)
	gc.target = target
	p := gc.pacerLocked(rangeID, rate)
	est := gc.est[c.Kind]
	if p.waiting >= queueLimit && p.tat-p.tol > now {
		return 0, &NotInTime{Group: g.name, Container: c.Container, Range: rangeID, QueueFull: true}
	}
	saved := p.tat
	at := p.reserve(now, notBefore, est)
	if at > deadline {
		p.tat = saved
		return 0, &NotInTime{Group: g.name, Container: c.Container, Range: rangeID, Wait: time.Duration(at - now)}
	}
	s.gc, s.gp, s.est = gc, p, est
	if at > now {
		p.waiting++
		s.queued = p
	}
	return at, nil
}

// Reserved reports whether the slot holds a reservation that Settle or
// Cancel must end: a group's, or a held range's.
func (s *Slot) Reserved() bool { return s.gp != nil || s.held != nil }

// Waited ends the attempt's wait: it no longer counts in its queue.
func (t *Throttle) Waited(s *Slot) {
	if s.queued == nil {
		return
	}
	s.g.mu.Lock()
	s.queued.waiting--
	s.g.mu.Unlock()
	s.queued = nil
}

// Cancel gives back the reservation of an attempt that was not sent.
func (t *Throttle) Cancel(s *Slot) {
	t.Waited(s)
	now := t.now().UnixNano()
	if s.gp != nil {
		s.g.mu.Lock()
		s.gp.settle(s.est, 0, now)
		s.g.mu.Unlock()
	}
	if s.paced {
		t.mu.Lock()
		s.held.lanes[laneOf(s.low)].pace.settle(s.heldEst, 0, now)
		t.mu.Unlock()
	}
	*s = Slot{}
}

// An Answer is what an attempt's answer tells the throttle.
type Answer struct {
	Status, SubStatus int
	Charge            float64 // the answer's x-ms-request-charge
	Charged           bool    // the answer has a charge; false for an error or a missing header
	Hint              time.Duration
	Range             string // the range the answer names; "" if none
}

// Settle settles the attempt's reservation with its answer: the charge
// the answer names (or, for an attempt without one, the estimate), and,
// for a 429/3200, the hold of the range it names.
func (t *Throttle) Settle(s *Slot, a Answer) {
	t.Waited(s)
	now := t.now().UnixNano()
	charge := max(s.est, s.heldEst) // an attempt without an answer's charge may have cost what it reserved
	if a.Charged {
		charge = a.Charge
	}
	if s.gp != nil {
		s.g.mu.Lock()
		s.gp.settle(s.est, charge, now)
		if a.Charged && a.Status < 300 && charge > 0 {
			s.gc.est[s.kind] = charge
		}
		s.g.mu.Unlock()
	}
	throttled := a.Status == 429 && a.SubStatus == 3200 && !t.noHold
	if s.held == nil && !throttled {
		return
	}
	k := s.key
	if a.Range != "" {
		k.Range = a.Range
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.paced && a.Status != 429 {
		// A throttled attempt is not credited back: its turn went by with
		// the range's budget spent, and its resend must wait for another.
		s.held.lanes[laneOf(s.low)].pace.settle(s.heldEst, charge, now)
	}
	if s.held != nil && a.Status < 300 {
		s.held.served(s.low, charge)
		if a.Charged && charge > 0 {
			s.held.est[s.kind] = charge
		}
	}
	if throttled && k.Container != "" && k.Range != "" {
		h := t.held[k]
		if h == nil {
			if h = t.addLocked(k, now); h == nil {
				return
			}
		}
		h.throttled(s.low, now, a.Hint, max(s.est, s.heldEst, h.est[s.kind]))
	}
}

// Throttled records the answer a of an attempt that reserved nothing, to
// the range k (the range a names, if any, wins): a 429/3200 holds it.
func (t *Throttle) Throttled(k Key, low bool, kind Kind, a Answer) {
	s := Slot{key: k, low: low, kind: kind}
	t.Settle(&s, a)
}

// addLocked remembers a newly throttled range, forgetting the quiet ones
// first when there are too many; nil when every one is recent. t.mu is held.
func (t *Throttle) addLocked(k Key, now int64) *held {
	if len(t.held) >= maxHeld {
		for k2, h := range t.held {
			if now-h.last > int64(quietForget) {
				t.forgetLocked(k2)
			}
		}
		if len(t.held) >= maxHeld {
			return nil
		}
	}
	h := &held{last: now, est: firstEstimate}
	t.held[k] = h
	t.holding.Add(1)
	return h
}

// sweepEvery is how many reservations pass between two sweeps.
const sweepEvery = 256

// sweep forgets the ranges quiet for quietForget, so that once the service
// stops throttling, calls of no group stop paying for holds.
func (t *Throttle) sweep(now int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, h := range t.held {
		if now-h.last > int64(quietForget) {
			t.forgetLocked(k)
		}
	}
}

// forgetLocked forgets the held range k. t.mu is held.
func (t *Throttle) forgetLocked(k Key) {
	delete(t.held, k)
	t.holding.Add(-1)
}
