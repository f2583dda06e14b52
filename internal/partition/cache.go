package partition

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A Loader reads a container's partition key definition (its document,
// see ParseContainer) and all its partition key ranges (its pkranges feed,
// every page, see ParseRanges). container is the container's link,
// "dbs/{db}/colls/{coll}". The cache calls it from its own goroutines, one
// at a time per container, with a context that ends at the attempt's
// timeout or when the cache closes. To say how to retry, it may return a
// *LoadError. The cache keeps what it returns, which it must not change
// afterwards.
type Loader func(ctx context.Context, container string) (Definition, []Range, error)

// A LoadError is an error a Loader returns to say how the cache should
// retry: no sooner than RetryAfter (a 429's x-ms-retry-after-ms; at most
// 30 seconds is honoured), or, if Final, not within this load at all (a
// 404, 401 or 403, which retrying at once will not change).
type LoadError struct {
	Err        error
	RetryAfter time.Duration
	Final      bool
}

func (e *LoadError) Error() string {
	if e.Err == nil {
		return "partition: load failed"
	}
	return e.Err.Error()
}

func (e *LoadError) Unwrap() error { return e.Err }

// CacheOptions configure a Cache. The zero value of each field is its
// default; a negative duration or count turns its feature off.
type CacheOptions struct {
	// MaxContainers bounds the containers the cache keeps; when a new one
	// would exceed it, the least recently looked up goes (recency is
	// measured in insertions: containers looked up since the last one was
	// inserted tie). Below 1: 1000.
	MaxContainers int
	// Attempts is how many times one load calls the Loader before it
	// gives up. 0: 3; negative: 1, no retry.
	Attempts int
	// RetryDelay is the wait before a load's second attempt, doubled for
	// each later one up to 5 s (or RetryDelay, if longer), with up to
	// 10 % of jitter added; a LoadError's RetryAfter, if longer, is waited
	// instead. 0: 250 ms; negative: no wait beyond RetryAfter.
	RetryDelay time.Duration
	// FailureBackoff is how long after a failed load (every attempt
	// failed) the container is not loaded again, doubled for each
	// consecutive failed load up to 5 minutes (or FailureBackoff, if
	// longer), with up to 10 % of jitter added, and never less than the
	// last RetryAfter. Meanwhile lookups answer from the ranges loaded
	// before, if any, or false at once; the first lookup after it starts
	// the next load. 0: 5 s; negative: the next lookup may start it.
	FailureBackoff time.Duration
	// AttemptTimeout bounds each call of the Loader. 0: 10 s; negative:
	// only Close ends it.
	AttemptTimeout time.Duration
	// Now is the clock for FailureBackoff. nil: time.Now. Waits between
	// attempts use the runtime's timers (testing/synctest controls them).
	Now func() time.Time
}

// Defaults and bounds of CacheOptions.
const (
	defaultMaxContainers  = 1000
	defaultAttempts       = 3
	defaultRetryDelay     = 250 * time.Millisecond
	maxRetryDelay         = 5 * time.Second
	defaultFailureBackoff = 5 * time.Second
	maxFailureBackoff     = 5 * time.Minute
	defaultAttemptTimeout = 10 * time.Second
	maxRetryAfter         = 30 * time.Second
	maxLinkLen            = 1024
)

// A Cache maps (container, partition key header) to the partition key
// range that holds the key, from each container's definition and ranges,
// which it loads in the background with a Loader. Lookups never wait:
// until a container is loaded, Lookup answers false and starts the load.
// A Cache is safe for concurrent use. Close stops its loads.
//
// Lookups read an immutable snapshot (a map of containers, each with an
// immutable table) through atomic pointers, without a lock; the mutex
// serializes what changes the snapshot and each entry's load state.
type Cache struct {
	load Loader
	opts CacheOptions // with defaults applied
	now  func() time.Time

	snap atomic.Pointer[map[string]*entry] // never nil; replaced, never modified
	tick atomic.Uint64                     // advanced by each insertion: the recency clock of the LRU

	ctx    context.Context // ends at Close; every load runs under it
	cancel context.CancelFunc
	wg     sync.WaitGroup // the load goroutines

	mu     sync.Mutex // guards closed, snap's replacement and the entries' fields marked "under mu"
	closed bool
}

// entry is one container of the cache.
type entry struct {
	link    string
	table   atomic.Pointer[table] // nil until the first load succeeds
	used    atomic.Uint64         // the tick of the last lookup
	loading atomic.Bool           // a load is running; set under mu
	stale   atomic.Bool           // Invalidate was called since the last load that succeeded; set under mu
	retryAt atomic.Int64          // no load before this (unix ns) after a failure; set under mu

	again    bool               // under mu: load again when the running load ends (Invalidate)
	failures int                // under mu: consecutive failed loads
	err      error              // under mu: the last load's error, nil if it succeeded
	cancel   context.CancelFunc // under mu: stops the running load
}

// table is what a load produces: immutable.
type table struct {
	def    Definition
	ranges *RangeMap
	plain  int // 1, 2: Lookup's fast path computes a one-string key's EPK by version 1, 2; 0: no fast path
}

// NewCache returns a cache that loads containers with load, which must not
// be nil.
func NewCache(load Loader, opts CacheOptions) *Cache {
	if load == nil {
		panic("partition: NewCache with a nil Loader")
	}
	if opts.MaxContainers < 1 {
		opts.MaxContainers = defaultMaxContainers
	}
	switch {
	case opts.Attempts == 0:
		opts.Attempts = defaultAttempts
	case opts.Attempts < 0:
		opts.Attempts = 1
	}
	if opts.RetryDelay == 0 {
		opts.RetryDelay = defaultRetryDelay
	}
	if opts.FailureBackoff == 0 {
		opts.FailureBackoff = defaultFailureBackoff
	}
	if opts.AttemptTimeout == 0 {
		opts.AttemptTimeout = defaultAttemptTimeout
	}
	c := &Cache{load: load, opts: opts, now: opts.Now}
	if c.now == nil {
		c.now = time.Now
	}
	empty := map[string]*entry{}
	c.snap.Store(&empty)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// Lookup returns the id of the partition key range of container
// ("dbs/{db}/colls/{coll}") that holds the key pkHeader names (the
// x-ms-documentdb-partitionkey header as sent, such as ["eu"]). It returns
// false when it cannot say: the container is not loaded (Lookup then
// starts its load, unless one is running or a failed one is backing off),
// the header is not a valid key for the container, or the key is a prefix
// of a hierarchical key (or []) whose EPKs span more than one range. It
// never blocks and never does I/O; for a loaded container and a short key
// it does not allocate. After Invalidate, the ranges loaded before keep
// answering until a reload succeeds.
func (c *Cache) Lookup(container, pkHeader string) (rangeID string, ok bool) {
	t := c.table(container)
	if t == nil {
		return "", false
	}
	if s, ok := plainString(pkHeader); ok && t.plain != 0 {
		// The EPK of one string needs no parsing or decoding of the header.
		var i int
		if t.plain == 2 {
			// Its first 8 bytes (two top bits cleared) are the second half
			// of the hash, the rest the first half.
			var h1, h2 uint64
			if len(s) <= maxShortString {
				h1, h2 = murmurShortString(s)
			} else {
				var in [maxPlain + 2]byte
				h1, h2 = murmur128(append(append(append(in[:0], markerString), s...), 0xFF))
			}
			var tail [8]byte
			binary.BigEndian.PutUint64(tail[:], h1)
			i = t.ranges.searchSplit(h2&(1<<62-1), tail[:])
		} else {
			var ebuf [maxPlain + 16]byte
			i = t.ranges.search(appendPlainV1(ebuf[:0], s))
		}
		if i == t.ranges.Len() {
			return "", false
		}
		return t.ranges.id(i), true
	}
	return t.lookup(pkHeader)
}

// lookup is Lookup's general path, for any header.
func (t *table) lookup(pkHeader string) (string, bool) {
	var k key
	var sbuf [128]byte
	buf, err := parseKey(pkHeader, &k, sbuf[:0])
	if err != nil {
		return "", false
	}
	var ebuf [80]byte
	epk, complete, err := appendEPK(ebuf[:0], &t.def, &k, buf)
	if err != nil {
		return "", false
	}
	i := t.ranges.search(epk)
	if i == t.ranges.Len() {
		return "", false
	}
	if !complete {
		if head, tail := splitEPK(append(epk, 0xFF)); t.ranges.compare(head, tail, i) > 0 {
			return "", false // the prefix's EPKs go on past this range
		}
	}
	return t.ranges.id(i), true
}

// maxPlain is the longest string plainString accepts.
const maxPlain = 46

// plainString returns s if h is exactly ["s"], s being at most maxPlain
// bytes of printable ASCII other than a quote and a backslash: the
// typical header, whose string needs no decoding.
func plainString(h string) (string, bool) {
	n := len(h)
	if n < 4 || n > maxPlain+4 || h[0] != '[' || h[1] != '"' || h[n-2] != '"' || h[n-1] != ']' {
		return "", false
	}
	s := h[2 : n-2]
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7E || c == '"' || c == '\\' {
			return "", false
		}
	}
	return s, true
}

// LookupAll is Lookup for a key that may span several ranges: it appends
// to dst the ids of every range that holds one of the key's EPKs, in
// order of EPK, and returns false, with dst unchanged, where Lookup does
// for other reasons than the span.
func (c *Cache) LookupAll(container, pkHeader string, dst []string) ([]string, bool) {
	t := c.table(container)
	if t == nil {
		return dst, false
	}
	var k key
	buf, err := parseKey(pkHeader, &k, nil)
	if err != nil {
		return dst, false
	}
	epk, complete, err := appendEPK(nil, &t.def, &k, buf)
	if err != nil {
		return dst, false
	}
	if complete {
		i := t.ranges.search(epk)
		if i == t.ranges.Len() {
			return dst, false
		}
		return append(dst, t.ranges.id(i)), true
	}
	for i := range t.ranges.overlapping(epk, append(epk[:len(epk):len(epk)], 0xFF)) {
		dst = append(dst, t.ranges.id(i))
	}
	return dst, true
}

// table returns container's table, or nil if it has none yet, and starts
// its load when one is due (none loaded, or Invalidate called, and no
// load running or backing off). It marks the container as used.
func (c *Cache) table(container string) *table {
	e := (*c.snap.Load())[container]
	if e == nil {
		c.insert(container)
		return nil
	}
	if tick := c.tick.Load(); e.used.Load() != tick { // read first: no cache-line ping-pong when unchanged
		e.used.Store(tick)
	}
	t := e.table.Load()
	if (t == nil || e.stale.Load()) && !e.loading.Load() && c.now().UnixNano() >= e.retryAt.Load() {
		c.mu.Lock()
		if !c.closed && !e.loading.Load() && (*c.snap.Load())[container] == e {
			c.startLocked(e)
		}
		c.mu.Unlock()
	}
	return t
}

// insert adds container to the cache, evicting the least recently used
// container if the cache is full, and starts its load.
func (c *Cache) insert(container string) {
	if container == "" || len(container) > maxLinkLen {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.snap.Load()
	if c.closed || old[container] != nil {
		return
	}
	e := &entry{link: strings.Clone(container)} // not the caller's string, which may hold a whole path
	// The new entry takes the tick before the one that lookups from now on
	// stamp, so that a container looked up after this insertion counts as
	// more recent than this one until this one is looked up.
	e.used.Store(c.tick.Add(2) - 1)
	m := make(map[string]*entry, len(old)+1)
	var victim *entry
	for link, x := range old {
		m[link] = x
		if victim == nil || x.used.Load() < victim.used.Load() {
			victim = x
		}
	}
	if len(m) >= c.opts.MaxContainers && victim != nil {
		delete(m, victim.link)
		victim.again = false
		if victim.cancel != nil {
			victim.cancel()
		}
	}
	m[e.link] = e
	c.snap.Store(&m)
	c.startLocked(e)
}

// Invalidate reloads container, after an answer said its ranges changed
// (410 with substatus 1002: a split or merge). The ranges loaded before
// keep answering until a reload succeeds. If a load is running, one more
// follows it (that load may have read the ranges before the change), and
// further calls meanwhile add nothing. After a failed load, the reload
// waits for the failure's backoff and starts with the first lookup after
// it. A container that is not cached is left alone: its first lookup
// loads it.
func (c *Cache) Invalidate(container string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := (*c.snap.Load())[container]
	if c.closed || e == nil {
		return
	}
	e.stale.Store(true)
	switch {
	case e.loading.Load():
		e.again = true
	case c.now().UnixNano() >= e.retryAt.Load():
		c.startLocked(e)
	}
}

// Err returns the error of container's last load, or nil if that load
// succeeded, none has ended yet, or the container is not cached.
func (c *Cache) Err(container string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := (*c.snap.Load())[container]; e != nil {
		return e.err
	}
	return nil
}

// Close stops the loads in progress and waits for their goroutines to
// end. Afterwards Lookup still answers from what is loaded but starts no
// load. Close returns nil; it may be called more than once.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return nil
}

// Ranges returns how many partition key ranges container has, from its
// loaded ranges; 0 when none are loaded. Like Lookup it never blocks, and
// starts a load that is due.
func (c *Cache) Ranges(container string) int {
	t := c.table(container)
	if t == nil {
		return 0
	}
	return t.ranges.Len()
}
