package throttle

import (
	"slices"
	"strings"
	"time"
)

// GroupStatus is a group's budget in one container, for an operator.
type GroupStatus struct {
	Group, Container string
	Rate             float64 // the group's RU/s in the container
	Debt             float64 // RU reserved beyond what the rate has paid for
	Queued           int     // calls waiting for their turn
}

// HeldStatus is a range the service throttled, for an operator.
type HeldStatus struct {
	Key
	Low   bool      // the lane of Low calls (High calls are not held by it)
	Until time.Time // calls of the lane wait until then
	Rate  float64   // RU/s the lane paces at now; 0 until learned
}

// GroupStatus lists every group's budget in each container it has paced.
func (t *Throttle) GroupStatus() []GroupStatus {
	now := t.now().UnixNano()
	var out []GroupStatus
	for _, g := range t.Groups() {
		g.mu.Lock()
		for name, c := range g.containers {
			s := GroupStatus{Group: g.name, Container: name, Rate: c.target}
			for _, p := range c.ranges {
				s.Debt += p.debt(now)
				s.Queued += p.waiting
			}
			out = append(out, s)
		}
		g.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b GroupStatus) int {
		if c := strings.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		return strings.Compare(a.Container, b.Container)
	})
	return out
}

// HeldStatus lists the ranges held now or pacing their calls.
func (t *Throttle) HeldStatus() []HeldStatus {
	if !t.Holding() {
		return nil
	}
	now := t.now().UnixNano()
	t.mu.Lock()
	var out []HeldStatus
	for k, h := range t.held {
		for i := range h.lanes {
			l := &h.lanes[i]
			if !l.started {
				continue
			}
			s := HeldStatus{Key: k, Low: i == 1, Until: time.Unix(0, l.until)}
			if l.rate > 0 {
				s.Rate = l.rateAt(now)
			}
			out = append(out, s)
		}
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b HeldStatus) int {
		for _, c := range []int{strings.Compare(a.Container, b.Container), strings.Compare(a.Range, b.Range), strings.Compare(a.Host, b.Host)} {
			if c != 0 {
				return c
			}
		}
		if a.Low == b.Low {
			return 0
		} else if a.Low {
			return 1
		}
		return -1
	})
	return out
}
