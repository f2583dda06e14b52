package throttle

import (
	"sync"
	"time"

	"github.com/cosmosrt/cosmosrt/policy"
)

// Kind is the kind of operation whose last charge estimates the next one's.
type Kind uint8

const (
	Read Kind = iota
	Write
	Query
	Batch
	kinds
)

// firstEstimate is what an attempt of each kind reserves before the group
// has seen one answered in the container: a small item's charge.
var firstEstimate = [kinds]float64{Read: 1, Write: 6, Query: 3, Batch: 10}

// groupTolerance is the burst a group's range lets through at once.
const groupTolerance = 100 * time.Millisecond

// A Group is one throughput group (see policy.ThroughputGroup). It is safe
// for concurrent use.
type Group struct {
	name        string
	ru, share   float64
	provisioned float64
	low         bool

	mu         sync.Mutex                 // guards containers and everything in it
	containers map[string]*groupContainer // bounded by maxContainers
}

// groupContainer is a group's budget in one container.
type groupContainer struct {
	target float64 // RU/s in the container, as of the last reservation
	est    [kinds]float64
	ranges map[string]*pacer // "" is the whole container, for calls whose range is not known
	used   int64             // unix ns of the last reservation
}

// Name returns the group's name.
func (g *Group) Name() string { return g.name }

// Low reports a group of PriorityLow.
func (g *Group) Low() bool { return g.low }

// NeedsThroughput reports whether the group's target is a share of the
// container's provisioned throughput that the transport must read (no
// TargetRU, no ProvisionedRU).
func (g *Group) NeedsThroughput() bool {
	return g.ru <= 0 && g.provisioned <= 0
}

// target is the group's RU/s in a container with provisioned RU/s
// (0: not known).
func (g *Group) target(provisioned float64) float64 {
	switch {
	case g.ru > 0:
		return g.ru
	case g.provisioned > 0:
		return g.share * g.provisioned
	}
	return g.share * provisioned
}

func newGroup(o policy.ThroughputGroup) *Group {
	return &Group{
		name: o.Name, ru: o.TargetRU, share: o.TargetShare, provisioned: o.ProvisionedRU,
		low: o.Priority == policy.PriorityLow, containers: make(map[string]*groupContainer),
	}
}

// container returns the group's budget in container, making it (and
// forgetting the least recently used one when there are too many). g.mu is
// held.
func (g *Group) containerLocked(container string, now int64) *groupContainer {
	c := g.containers[container]
	if c == nil {
		if len(g.containers) >= maxContainers {
			var victim string
			oldest := now
			for k, v := range g.containers {
				if v.used <= oldest && !v.busy() {
					victim, oldest = k, v.used
				}
			}
			delete(g.containers, victim)
		}
		c = &groupContainer{est: firstEstimate, ranges: make(map[string]*pacer)}
		g.containers[container] = c
	}
	c.used = now
	return c
}

// busy reports whether calls wait on one of c's ranges.
func (c *groupContainer) busy() bool {
	for _, p := range c.ranges {
		if p.waiting > 0 {
			return true
		}
	}
	return false
}

// pacerLocked returns c's pacer of rangeID at rate, making it; "" is the
// whole container. g.mu is held.
func (c *groupContainer) pacerLocked(rangeID string, rate float64) *pacer {
	p := c.ranges[rangeID]
	if p == nil {
		if len(c.ranges) >= maxRangesPerContainer {
			for k, v := range c.ranges {
				if v.waiting == 0 {
					delete(c.ranges, k)
					break
				}
			}
		}
		p = &pacer{tol: int64(groupTolerance)}
		if whole := c.ranges[""]; whole != nil && rangeID != "" {
			// The ranges just became known: what the container's calls
			// reserved before counts against each range, not afresh.
			p.tat = whole.tat
		}
		c.ranges[rangeID] = p
	}
	p.rate = rate
	return p
}

// Bounds on what a group keeps.
const (
	maxContainers         = 1024
	maxRangesPerContainer = 4096
)
