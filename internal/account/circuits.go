package account

import (
	"strconv"
	"strings"
)

// The storage of the partition circuits (see partitions). A circuit that
// is failing or open costs 32 bytes in a page of entries and a 4-byte slot
// of an open-addressing index (about 37 bytes in all); its key packs the
// container, the range and the region's host as small integers, each
// string kept once in a bounded table however many circuits name it, and
// the least recently used lists are links between entries, not
// allocations of their own. A slot holds a few bits of its entry's hash
// beside its index, so that a look-up reads the entries it may have found,
// not every entry on its way.

// Bounds of the tables; a circuit whose names do not fit is not kept (its
// answers count for nothing, as with partition circuits off).
const (
	hostBits      = 8
	containerBits = 24
	maxHosts      = 1 << hostBits      // region hosts: an account has a handful
	maxContainers = 1 << containerBits // containers with a circuit kept
	namedRange    = 1 << 31            // a range id that is not a small decimal: an index in the ranges' names
	maxRangeNames = 1 << 20            // such ids kept
	pageLen       = 1024               // entries per page
	noIndex       = ^uint32(0)
	indexBits     = 24               // a slot's index+1; the bits above are its tag
	maxEntries    = 1<<indexBits - 1 // entries a table holds
)

// A circuitKey is a (container, range, host) triple as ids: the host in
// the top 8 bits, the container in the next 24, the range in the low 32.
type circuitKey uint64

func makeKey(host, container, rng uint32) circuitKey {
	return circuitKey(uint64(host)<<(64-hostBits) | uint64(container)<<32 | uint64(rng))
}

func (k circuitKey) host() uint32      { return uint32(k >> (64 - hostBits)) }
func (k circuitKey) container() uint32 { return uint32(k>>32) & (maxContainers - 1) }
func (k circuitKey) rng() uint32       { return uint32(k) }

// circuitFlags are a circuit's state beside its times and counts.
type circuitFlags uint8

const (
	flagTesting circuitFlags = 1 << iota // a call or a probe tests the region for the range
	flagProbing                          // the test is a probe of the chain's own
	flagWritten                          // a write's failure counted: only a real write can test it
	flagSlow                             // tripped by lost hedges: its test is a real (hedged) read
	flagNoProbe                          // a probe could not say: real calls test it
)

// A circuit is one range's circuit in one region: 32 bytes.
type circuit struct {
	key circuitKey
	// until is, on the partitions' clock (nanoseconds): 0 while closed;
	// else until when it is open, or, while it is tested, when the test is
	// given up.
	until      int64
	prev, next uint32 // neighbours in its list (the free list: next only)
	failures   uint16 // failures in a row, saturated
	losses     uint16 // hedged reads lost in a row, saturated
	flags      circuitFlags
}

// A circuitList is a least recently used list of circuits, linked
// through their prev and next: the most recently used at head.
type circuitList struct{ head, tail uint32 }

// circuitTable holds the circuits kept. Its zero value is empty, and
// holds no memory. It is not safe for concurrent use: partitions guards it.
type circuitTable struct {
	pages  []*[pageLen]circuit
	used   uint32   // entries handed out so far, free ones included
	free   uint32   // the first free entry (0: none; else index+1)
	count  int      // entries in use
	slots  []uint32 // the index: 0 empty, else an entry's index+1; its length a power of two
	closed circuitList
	open   circuitList // circuits with until != 0

	hosts, containers, ranges nameTable
}

// at returns entry i.
func (t *circuitTable) at(i uint32) *circuit { return &t.pages[i/pageLen][i%pageLen] }

// list returns the list c belongs to: open or closed.
func (t *circuitTable) list(c *circuit) *circuitList {
	if c.until != 0 {
		return &t.open
	}
	return &t.closed
}

// keyOf returns the key of (container, rangeID, host) if each name is
// known: it looks up, never adds, and does not allocate.
func (t *circuitTable) keyOf(container, rangeID, host string) (circuitKey, bool) {
	h, ok := t.hosts.scan(host)
	if !ok {
		return 0, false
	}
	c, ok := t.containers.id(container)
	if !ok {
		return 0, false
	}
	r, ok := rangeNumber(rangeID)
	if !ok {
		if r, ok = t.ranges.id(rangeID); !ok {
			return 0, false
		}
		r |= namedRange
	}
	return makeKey(h, c, r), true
}

// find returns the index of the entry of (container, rangeID, host), or
// noIndex.
func (t *circuitTable) find(container, rangeID, host string) uint32 {
	if t.count == 0 {
		return noIndex
	}
	k, ok := t.keyOf(container, rangeID, host)
	if !ok {
		return noIndex
	}
	mask := uint32(len(t.slots) - 1)
	s, tag := home(k, mask)
	for ; ; s = (s + 1) & mask {
		switch v := t.slots[s]; {
		case v == 0:
			return noIndex
		case v>>indexBits == tag && t.at(v&maxEntries-1).key == k:
			return v&maxEntries - 1
		}
	}
}

// add adds a closed entry for (container, rangeID, host), which must not
// be there, at the head of the closed list, and returns its index; false
// when a table of names is full.
func (t *circuitTable) add(container, rangeID, host string) (uint32, bool) {
	if t.slots == nil {
		t.closed, t.open = circuitList{noIndex, noIndex}, circuitList{noIndex, noIndex}
		t.grow()
	}
	h, ok := t.hosts.add(host, maxHosts)
	if !ok {
		return noIndex, false
	}
	c, ok := t.containers.add(container, maxContainers)
	if !ok {
		t.hosts.release(h)
		return noIndex, false
	}
	r, ok := rangeNumber(rangeID)
	if !ok {
		if r, ok = t.ranges.add(rangeID, maxRangeNames); !ok {
			t.hosts.release(h)
			t.containers.release(c)
			return noIndex, false
		}
		r |= namedRange
	}
	i := t.alloc()
	*t.at(i) = circuit{key: makeKey(h, c, r)}
	t.count++
	if t.count > len(t.slots)/8*7 {
		t.grow()
	}
	t.place(i)
	t.push(&t.closed, i)
	return i, true
}

// remove forgets entry i. When none is left the table gives its memory
// back.
func (t *circuitTable) remove(i uint32) {
	c := t.at(i)
	t.unlink(t.list(c), i)
	t.unplace(i)
	t.hosts.release(c.key.host())
	t.containers.release(c.key.container())
	if r := c.key.rng(); r&namedRange != 0 {
		t.ranges.release(r &^ namedRange)
	}
	if t.count--; t.count == 0 {
		*t = circuitTable{}
		return
	}
	*c = circuit{next: t.free}
	t.free = i + 1
}

// names returns the container, range id and host of key k.
func (t *circuitTable) names(k circuitKey) (container, rangeID, host string) {
	container, host = t.containers.name(k.container()), t.hosts.name(k.host())
	if r := k.rng(); r&namedRange != 0 {
		rangeID = t.ranges.name(r &^ namedRange)
	} else {
		rangeID = strconv.FormatUint(uint64(r), 10)
	}
	return container, rangeID, host
}

// alloc returns a free entry's index, a new one if none is free.
func (t *circuitTable) alloc() uint32 {
	if t.free != 0 {
		i := t.free - 1
		t.free = t.at(i).next
		return i
	}
	i := t.used
	if i%pageLen == 0 {
		t.pages = append(t.pages, new([pageLen]circuit))
	}
	t.used++
	return i
}

// home is key k's first slot in an index of mask+1 slots, at most
// 1<<indexBits, and its tag (Fibonacci hashing: the top bits of a
// multiplication).
func home(k circuitKey, mask uint32) (slot, tag uint32) {
	h := uint64(k) * 0x9E3779B97F4A7C15
	return uint32(h>>32) & mask, uint32(h >> (64 - (32 - indexBits)))
}

// place puts entry i in the index.
func (t *circuitTable) place(i uint32) {
	mask := uint32(len(t.slots) - 1)
	s, tag := home(t.at(i).key, mask)
	for t.slots[s] != 0 {
		s = (s + 1) & mask
	}
	t.slots[s] = tag<<indexBits | (i + 1)
}

// unplace takes entry i out of the index, shifting back the entries
// after it that would no longer be found (linear probing's deletion).
func (t *circuitTable) unplace(i uint32) {
	mask := uint32(len(t.slots) - 1)
	s, _ := home(t.at(i).key, mask)
	for t.slots[s]&maxEntries != i+1 {
		s = (s + 1) & mask
	}
	for j := (s + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		h, _ := home(t.at(t.slots[j]&maxEntries-1).key, mask)
		// The entry at j stays if its home is cyclically in (s, j].
		if s <= j && s < h && h <= j || s > j && (s < h || h <= j) {
			continue
		}
		t.slots[s] = t.slots[j]
		s = j
	}
	t.slots[s] = 0
}

// grow doubles the index (64 slots at first) and places every entry
// again; an index of 1<<indexBits slots, more than maxEntries, stays.
func (t *circuitTable) grow() {
	if len(t.slots) >= 1<<indexBits {
		return
	}
	n := max(2*len(t.slots), 64)
	t.slots = make([]uint32, n)
	for i := t.closed.head; i != noIndex; i = t.at(i).next {
		t.place(i)
	}
	for i := t.open.head; i != noIndex; i = t.at(i).next {
		t.place(i)
	}
}

// push puts entry i at the head of l.
func (t *circuitTable) push(l *circuitList, i uint32) {
	c := t.at(i)
	c.prev, c.next = noIndex, l.head
	if l.head != noIndex {
		t.at(l.head).prev = i
	} else {
		l.tail = i
	}
	l.head = i
}

// unlink takes entry i out of l.
func (t *circuitTable) unlink(l *circuitList, i uint32) {
	c := t.at(i)
	if c.prev != noIndex {
		t.at(c.prev).next = c.next
	} else {
		l.head = c.next
	}
	if c.next != noIndex {
		t.at(c.next).prev = c.prev
	} else {
		l.tail = c.prev
	}
}

// touch makes entry i the most recently used of its list.
func (t *circuitTable) touch(i uint32) {
	if l := t.list(t.at(i)); l.head != i {
		t.unlink(l, i)
		t.push(l, i)
	}
}

// opened moves entry i, whose until was just set, from the closed list
// to the open one.
func (t *circuitTable) opened(i uint32) {
	t.unlink(&t.closed, i)
	t.push(&t.open, i)
}

// rangeNumber returns a range id that is a decimal number below
// namedRange, written without a leading zero, as a number: what the
// service's range ids are.
func rangeNumber(id string) (uint32, bool) {
	if id == "" || len(id) > 10 || len(id) > 1 && id[0] == '0' {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(id); i++ {
		d := id[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + uint64(d)
	}
	if n >= namedRange {
		return 0, false
	}
	return uint32(n), true
}

// nameTable is a bounded table of strings and their small ids, each with the
// count of entries that use it: an id whose count falls to zero is
// forgotten and used again. It remembers the last string it found, as
// calls of one container come together.
type nameTable struct {
	ids  map[string]uint32
	list []named
	free []uint32

	last   string // the last string id found, "" if none
	lastID uint32
}

type named struct {
	s    string
	refs uint32
}

// id returns s's id, if s is in the table. It does not allocate.
func (n *nameTable) id(s string) (uint32, bool) {
	if s == n.last && s != "" {
		return n.lastID, true
	}
	id, ok := n.ids[s]
	if ok {
		n.last, n.lastID = n.list[id].s, id
	}
	return id, ok
}

// scan is id for a table of a few strings: it compares them in turn,
// which for a handful costs less than hashing s.
func (n *nameTable) scan(s string) (uint32, bool) {
	for i := range n.list {
		if n.list[i].s == s && s != "" {
			return uint32(i), true
		}
	}
	return 0, false
}

// add returns s's id and counts one more use of it, adding s (a copy of
// it: the caller's string may hold a whole path) if it is not there yet;
// false if it is not and limit ids are in use.
func (n *nameTable) add(s string, limit int) (uint32, bool) {
	if id, ok := n.ids[s]; ok {
		n.list[id].refs++
		return id, true
	}
	var id uint32
	if k := len(n.free); k > 0 {
		id, n.free = n.free[k-1], n.free[:k-1]
	} else {
		if len(n.list) >= limit {
			return 0, false
		}
		id = uint32(len(n.list))
		n.list = append(n.list, named{})
	}
	s = strings.Clone(s)
	n.list[id] = named{s: s, refs: 1}
	if n.ids == nil {
		n.ids = make(map[string]uint32)
	}
	n.ids[s] = id
	return id, true
}

// release counts one use of id less.
func (n *nameTable) release(id uint32) {
	e := &n.list[id]
	if e.refs--; e.refs == 0 {
		if id == n.lastID {
			n.last = ""
		}
		delete(n.ids, e.s)
		e.s = ""
		n.free = append(n.free, id)
	}
}

// name returns id's string.
func (n *nameTable) name(id uint32) string { return n.list[id].s }
