package partition

import (
	"strconv"
	"strings"
)

// keyPrefix starts the string values of the keys KeyIn finds.
const keyPrefix = "cosmosrt-probe-"

// KeyIn returns a partition key header whose key container holds in its
// range rangeID, such as ["cosmosrt-probe-41"] (one value per level of a
// hierarchical key), so that a request can be sent to that range: a probe
// of the range's health, a point read of an id no item has. The search is
// deterministic (the same key each time for the same ranges) and bounded:
// about 16 candidate keys per range of the container, so that a range of
// an even share of the key space is found but for a chance of e^-16; a
// range far narrower than its share may not be. It returns false when the
// container is not loaded (KeyIn then starts its load), has no such range,
// or the search found none. It never does I/O, and costs about a
// look-up per candidate.
func (c *Cache) KeyIn(container, rangeID string) (string, bool) {
	t := c.table(container)
	if t == nil || !t.ranges.has(rangeID) {
		return "", false
	}
	levels := len(t.def.Paths)
	if t.def.Kind != MultiHash {
		levels = 1
	}
	tries := min(16*t.ranges.Len()+64, 1<<22)
	var b strings.Builder
	for n := range tries {
		b.Reset()
		b.WriteByte('[')
		for l := range levels {
			if l > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + keyPrefix)
			b.WriteString(strconv.Itoa(n))
			b.WriteByte('"')
		}
		b.WriteByte(']')
		h := b.String()
		if id, ok := t.lookup(h); ok && id == rangeID {
			return h, true
		}
	}
	return "", false
}

// has reports whether the map has a range with id.
func (m *RangeMap) has(id string) bool {
	for i := range m.Len() {
		if m.id(i) == id {
			return true
		}
	}
	return false
}
