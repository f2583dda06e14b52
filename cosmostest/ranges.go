package cosmostest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"net/http"
	"strconv"
	"strings"
)

// epkEnd is the maxExclusive of a container's last range: the end of the
// effective partition key space.
const epkEnd = "FF"

// A pkRange is a partition key range of a container: the items whose
// effective partition key (EPK) is in [min, max).
type pkRange struct {
	id       string
	min, max string   // "" is the start of the space, epkEnd its end
	parents  []string // the ranges it was split from, oldest first
	fraction float64  // its share of the container's throughput
	lsn      uint64   // the version of the ranges that made it
}

// rangeID returns r's id, or "" for no range.
func rangeID(r *pkRange) string {
	if r == nil {
		return ""
	}
	return r.id
}

// holds reports whether epk falls in r.
func (r *pkRange) holds(epk string) bool {
	return compareEPK(r.min, epk) <= 0 && compareEPK(epk, r.max) < 0
}

// rangeSet is a container's partition key ranges. Split replaces one by
// two; no range id is ever used twice.
type rangeSet struct {
	ranges  []*pkRange // ordered by min, covering the space
	next    int        // the next unused id
	version uint64     // the feed's etag: 1, and one more per split
}

// defaultRanges is how many partition key ranges a new container starts
// with when Options.InitialRanges is 0.
const defaultRanges = 2

// newRangeSet returns the ranges of a new container by default: "0" and
// "1", split at EPK 20.
func newRangeSet() rangeSet { return evenRanges(defaultRanges) }

// evenRanges returns n ranges, "0" to "n-1", that slice the space of
// effective partition keys into n equal spans, each with throughput
// fraction 1/n. Keys hash below 40 00…, so the space is [0, 40 00…) and
// the bounds of n ranges are i × 40 00… / n: 2 ranges split at 20, 4 at
// 10, 20 and 30. The last range ends at FF, the end of the space.
func evenRanges(n int) rangeSet {
	space := new(big.Int).Lsh(big.NewInt(0x40), 120)
	s := rangeSet{next: n, version: 1}
	lo := ""
	for i := range n {
		hi := epkEnd
		if i < n-1 {
			b := new(big.Int).Mul(space, big.NewInt(int64(i+1)))
			hi = formatBound(b.Div(b, big.NewInt(int64(n))))
		}
		s.ranges = append(s.ranges, &pkRange{id: strconv.Itoa(i), min: lo, max: hi,
			parents: []string{}, fraction: 1 / float64(n), lsn: 1})
		lo = hi
	}
	return s
}

// byID returns the range with this id, or nil if there is none now.
func (s *rangeSet) byID(id string) *pkRange {
	for _, r := range s.ranges {
		if r.id == id {
			return r
		}
	}
	return nil
}

// holding returns the range that holds epk.
func (s *rangeSet) holding(epk string) *pkRange {
	for _, r := range s.ranges {
		if r.holds(epk) {
			return r
		}
	}
	return s.ranges[len(s.ranges)-1] // unreachable: the ranges cover the space
}

// Why split fails.
var (
	errNoRange     = errors.New("no such range (a range that was split is gone)")
	errRangeNarrow = errors.New("the range is too narrow to split")
)

// split replaces the range id by two children that halve its span.
func (s *rangeSet) split(id string) error {
	i := -1
	for j, r := range s.ranges {
		if r.id == id {
			i = j
		}
	}
	if i < 0 {
		return errNoRange
	}
	p := s.ranges[i]
	mid, ok := midpoint(p.min, p.max)
	if !ok {
		return errRangeNarrow
	}
	s.version++
	parents := append(append([]string{}, p.parents...), p.id)
	child := func(min, max string) *pkRange {
		s.next++
		return &pkRange{id: strconv.Itoa(s.next - 1), min: min, max: max, parents: parents, fraction: p.fraction / 2, lsn: s.version}
	}
	lo := child(p.min, mid)
	hi := child(mid, p.max)
	s.ranges = append(s.ranges[:i], append([]*pkRange{lo, hi}, s.ranges[i+1:]...)...)
	return nil
}

// Split splits the partition key range rangeID of container coll in
// database db in two, as the service does when a partition grows. The
// children take the next two ids the container has not used, the lower
// half first (the first split of a container makes "2" and "3"), list
// rangeID and its own parents in the feed, and halve its span of
// effective partition keys at the midpoint (the end of the space, FF,
// counting as 40, since keys hash below it). From then on a request that
// names rangeID in x-ms-documentdb-partitionkeyrangeid gets 410 with
// substatus 1002, point operations reach the child that holds their key,
// and the pkranges feed lists the children instead of rangeID, under a new
// etag. Stored items stay where they are: each is in the child that holds
// its key. Split fails if there is no such container or range (one that
// was split already is gone).
func (a *Account) Split(db, coll, rangeID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.store.container(collKey{db, coll})
	if c == nil {
		return fmt.Errorf("cosmostest: splitting range %q of %s/%s: no such container", rangeID, db, coll)
	}
	if err := c.def.ranges.split(rangeID); err != nil {
		return fmt.Errorf("cosmostest: splitting range %q of %s/%s: %w", rangeID, db, coll, err)
	}
	return nil
}

// feed answers GET .../pkranges: every current range. Read as a change
// feed (A-IM: Incremental Feed) with the current etag in If-None-Match,
// it answers 304; with any other etag, every current range, which holds
// every change since.
func (s *rangeSet) feed(c *container, h http.Header) answer {
	etag := `"` + strconv.FormatUint(s.version, 10) + `"`
	hdr := http.Header{"Etag": {etag}}
	if strings.EqualFold(h.Get("A-Im"), "Incremental Feed") && h.Get("If-None-Match") == etag {
		return answer{status: http.StatusNotModified, header: hdr}
	}
	ranges := make([]map[string]any, 0, len(s.ranges))
	for _, r := range s.ranges {
		n, _ := strconv.Atoi(r.id)
		ranges = append(ranges, map[string]any{
			"id": r.id, "_rid": c.rid + "-" + r.id, "_etag": `"` + strconv.FormatUint(r.lsn, 10) + `"`,
			"minInclusive": r.min, "maxExclusive": r.max, "ridPrefix": n,
			"_self": c.self + "pkranges/" + r.id + "/", "throughputFraction": r.fraction,
			"status": "online", "parents": r.parents, "_ts": c.ts, "lsn": r.lsn,
		})
	}
	body, _ := json.Marshal(map[string]any{"_rid": c.rid, "PartitionKeyRanges": ranges, "_count": len(ranges)})
	hdr.Set("X-Ms-Item-Count", strconv.Itoa(len(ranges)))
	return answer{status: http.StatusOK, body: body, header: hdr}
}

// compareEPK compares two effective partition keys or range bounds, hex
// strings of any length, as numbers whose digits are read from the left:
// "2" and "20" are equal and both less than "2F".
func compareEPK(a, b string) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		x, y := byte('0'), byte('0')
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// midpoint returns the bound halfway between min and max, or false if
// none lies strictly between them. It is spelled in upper-case hex with
// trailing zero bytes dropped, as the service's bounds often are.
func midpoint(min, max string) (string, bool) {
	loHi, loLo := boundValue(min)
	hiHi, hiLo := boundValue(max)
	sumLo, carry := bits.Add64(loLo, hiLo, 0)
	sumHi, _ := bits.Add64(loHi, hiHi, carry) // both below 2^127: no overflow
	midHi, midLo := sumHi>>1, sumLo>>1|sumHi<<63
	if midHi == loHi && midLo == loLo {
		return "", false
	}
	return trimBound(fmt.Sprintf("%016X%016X", midHi, midLo)), true
}

// formatBound spells a 128-bit bound as midpoint does.
func formatBound(b *big.Int) string { return trimBound(fmt.Sprintf("%032X", b)) }

// trimBound drops the trailing zero bytes of a bound of 32 hex digits,
// keeping at least one byte.
func trimBound(s string) string {
	for len(s) > 2 && strings.HasSuffix(s, "00") {
		s = s[:len(s)-2]
	}
	return s
}

// boundValue reads a range bound as a 128-bit number. The end of the
// space counts as 40 00…: keys hash below it.
func boundValue(b string) (hi, lo uint64) {
	if b == epkEnd {
		return 0x40 << 56, 0
	}
	b = (b + strings.Repeat("0", 32))[:32]
	hi, _ = strconv.ParseUint(b[:16], 16, 64) // bounds are the account's own hex
	lo, _ = strconv.ParseUint(b[16:], 16, 64)
	return hi, lo
}
