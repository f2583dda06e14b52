package account

import (
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// A mark records until when an endpoint is considered unavailable.
type mark struct {
	read, write time.Time // zero: not marked for that operation
}

// routes is an immutable snapshot of where requests go, valid until
// expires (the earliest mark expiry; zero: until the next change).
type routes struct {
	account   *Account
	write     []*url.URL                 // write endpoints in the order used, the usable ones first
	read      []*url.URL                 // read endpoints by preference, the usable ones first
	writeLocs []Location                 // the locations of write, in the same order
	readLocs  []Location                 // the locations of read, in the same order
	known     map[wire.Endpoint]struct{} // the endpoints of every location of account
	expires   time.Time
}

// locationCache holds the current account, the preferred regions and the
// unavailability marks, and publishes routes computed from them. It is
// safe for concurrent use; routes is lock-free while nothing changes.
type locationCache struct {
	preferred        []string      // lower-cased region names, in preference order
	preferredAsGiven []string      // the same names as given, trimmed
	ttl              time.Duration // how long a mark lasts; <= 0: marks are ignored

	mu      sync.Mutex // guards account and marks, and serialises publishing snap
	account *Account
	marks   map[wire.Endpoint]mark // only endpoints of account

	snap atomic.Pointer[routes]
}

func newLocationCache(preferred []string, ttl time.Duration) *locationCache {
	c := &locationCache{ttl: ttl, marks: make(map[wire.Endpoint]mark)}
	for _, p := range preferred {
		if p = strings.TrimSpace(p); p != "" {
			c.preferred = append(c.preferred, strings.ToLower(p))
			c.preferredAsGiven = append(c.preferredAsGiven, p)
		}
	}
	c.snap.Store(&routes{})
	return c
}

// update installs a newly fetched account. Marks of endpoints the account
// still lists survive; the others are forgotten.
func (c *locationCache) update(a *Account, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.account = a
	c.publishLocked(now)
}

// mark records u as unavailable for writes (write) or reads until ttl has
// elapsed from now. Endpoints the account does not list are ignored.
func (c *locationCache) mark(u *url.URL, write bool, now time.Time) {
	c.markFor(u, write, now, c.ttl)
}

// markFor is mark for ttl instead of the cache's own (which, when
// negative, turns marks off): a mark no longer than ttl.
func (c *locationCache) markFor(u *url.URL, write bool, now time.Time, ttl time.Duration) {
	if c.ttl <= 0 {
		return
	}
	ttl = min(ttl, c.ttl)
	key, err := wire.CheckEndpoint(u)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, known := c.snap.Load().known[key]; !known {
		return
	}
	m := c.marks[key]
	if write {
		m.write = now.Add(ttl)
	} else {
		m.read = now.Add(ttl)
	}
	c.marks[key] = m
	c.publishLocked(now)
}

// routes returns the snapshot valid at now, rebuilding it only when a mark
// has expired since it was built.
func (c *locationCache) routes(now time.Time) *routes {
	r := c.snap.Load()
	if r.expires.IsZero() || now.Before(r.expires) {
		return r
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.routesLocked(now)
}

// routesLocked is routes with c.mu held.
func (c *locationCache) routesLocked(now time.Time) *routes {
	r := c.snap.Load()
	if !r.expires.IsZero() && !now.Before(r.expires) {
		r = c.publishLocked(now)
	}
	return r
}

// publishLocked drops expired marks and publishes the routes of the
// current account and marks at now.
func (c *locationCache) publishLocked(now time.Time) *routes {
	r := &routes{account: c.account, known: make(map[wire.Endpoint]struct{})}
	if a := c.account; a != nil {
		for _, list := range [][]Location{a.Write, a.Read} {
			for _, l := range list {
				r.known[wire.EndpointOf(l.Endpoint)] = struct{}{}
			}
		}
		for key, m := range c.marks {
			if _, ok := r.known[key]; !ok {
				delete(c.marks, key)
				continue
			}
			m = mark{read: live(m.read, now), write: live(m.write, now)}
			if m.read.IsZero() && m.write.IsZero() {
				delete(c.marks, key)
				continue
			}
			c.marks[key] = m
			for _, t := range []time.Time{m.read, m.write} {
				if !t.IsZero() && (r.expires.IsZero() || t.Before(r.expires)) {
					r.expires = t
				}
			}
		}
		// A single-write account writes to its first writable location
		// only; the others take over after a failover.
		r.writeLocs = c.order(a.Write, a.MultipleWriteLocations, true)
		readable := a.Read
		if len(readable) == 0 {
			readable = a.Write
		}
		r.readLocs = c.order(readable, true, false)
		r.write, r.read = endpoints(r.writeLocs), endpoints(r.readLocs)
	}
	c.snap.Store(r)
	return r
}

// live returns t if it is still in the future at now, else the zero time.
func live(t, now time.Time) time.Time {
	if now.Before(t) {
		return t
	}
	return time.Time{}
}

// order returns locs by preferred region first when prefer is set
// (unlisted regions after, in the account's order), then with the
// endpoints marked for the operation (write or read) moved to the end,
// keeping their relative order.
func (c *locationCache) order(locs []Location, prefer, write bool) []Location {
	ordered := make([]Location, 0, len(locs))
	if prefer {
		taken := make([]bool, len(locs))
		for _, p := range c.preferred {
			for i, l := range locs {
				if !taken[i] && strings.ToLower(l.Name) == p {
					taken[i] = true
					ordered = append(ordered, l)
				}
			}
		}
		for i, l := range locs {
			if !taken[i] {
				ordered = append(ordered, l)
			}
		}
	} else {
		ordered = append(ordered, locs...)
	}
	usable := make([]Location, 0, len(ordered))
	var marked []Location
	for _, l := range ordered {
		m := c.marks[wire.EndpointOf(l.Endpoint)]
		if (write && !m.write.IsZero()) || (!write && !m.read.IsZero()) {
			marked = append(marked, l)
		} else {
			usable = append(usable, l)
		}
	}
	return append(usable, marked...)
}

// endpoints returns the endpoints of locs, in order.
func endpoints(locs []Location) []*url.URL {
	out := make([]*url.URL, len(locs))
	for i, l := range locs {
		out[i] = l.Endpoint
	}
	return out
}
