package cosmostest

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// Headers of the enforcement of provisioned throughput.
const (
	headerPriority   = "X-Ms-Cosmos-Priority-Level"
	headerRetryAfter = "X-Ms-Retry-After-Ms"
)

// subRateTooLarge is the substatus of a 429 answered because a partition
// key range spent its provisioned throughput.
const subRateTooLarge = 3200

// lowPriorityReserve is the share of a bucket's capacity that Low
// priority requests leave to High priority ones: a Low priority request
// is admitted only while its bucket holds more.
const lowPriorityReserve = 0.1

// A bucket is the budget of one partition key range in one region. It
// fills at the range's RU/s (its share of the container's) up to one
// second's worth, its capacity; a request admitted takes its charge from
// it, going into debt if the bucket holds less.
type bucket struct {
	tokens float64   // RU held; negative: debt
	at     time.Time // when tokens was brought up to date
}

// bucketKey names a bucket of a container.
type bucketKey struct{ rangeID, region string }

// bucket returns the bucket of range rangeID in region, brought up to
// now at rate RU/s. A new bucket starts full.
func (c *container) bucket(rangeID, region string, rate float64, now time.Time) *bucket {
	k := bucketKey{rangeID, region}
	b := c.buckets[k]
	if b == nil {
		if c.buckets == nil {
			c.buckets = make(map[bucketKey]*bucket)
		}
		b = &bucket{tokens: rate, at: now}
		c.buckets[k] = b
	}
	if now.After(b.at) { // requests that arrived together may be served out of order
		b.tokens += rate * now.Sub(b.at).Seconds()
		b.at = now
	}
	b.tokens = min(b.tokens, rate)
	return b
}

// floor is the level a bucket of rate RU/s must hold more than to admit
// a request of this priority.
func floor(rate float64, low bool) float64 {
	if low {
		return lowPriorityReserve * rate
	}
	return 0
}

// until returns how long, in whole milliseconds and at least one, the
// bucket takes to hold more than level at rate RU/s, the tokens it holds
// now left alone: a request sent that much later is admitted.
func (b *bucket) until(level, rate float64) time.Duration {
	d := time.Duration(math.Floor((level-b.tokens)/rate*1000)+1) * time.Millisecond
	for b.tokens+rate*d.Seconds() <= level { // the same sum bucket will do
		d += time.Millisecond
	}
	return d
}

// servingRegion returns the region whose budgets a request to the
// endpoint called name spends: the global endpoint's are the write
// region's. a.mu must be held.
func (a *Account) servingRegion(name string) string {
	if name == Global {
		return a.writeRegion
	}
	return name
}

// spend admits a request for items of a container with provisioned
// throughput, op answered by ans at the endpoint called name, and takes
// its charge from its budgets, marking ans budgeted. It returns the 429 to
// answer instead, and false, if a budget refuses it; the request's staged
// writes must then be dropped. A request reaches the ranges its answer names (every range,
// for a cross-partition page); it is admitted when each of their buckets
// in the serving region holds more than 0 RU, or, at Low priority, more
// than lowPriorityReserve of its capacity. A read is charged in the
// serving region only, a write in every region. Requests that reach no
// range (metadata, failures before a range is known) and containers
// without throughput are neither refused nor charged. a.mu must be held.
func (a *Account) spend(name string, op operation, ans *answer, now time.Time) (answer, bool) {
	ck := collKey{op.db, op.coll}
	coll := a.store.container(ck)
	if !op.inItems() || coll == nil {
		return answer{}, true
	}
	c := coll.def
	rate := a.store.rate(ck, c)
	charges := ans.spread
	if charges == nil && ans.rangeID != "" {
		charges = map[string]float64{ans.rangeID: ans.charge}
	}
	if rate <= 0 || charges == nil {
		return answer{}, true
	}
	region := a.servingRegion(name)
	var wait time.Duration
	for id := range charges {
		r := c.ranges.byID(id)
		b := c.bucket(id, region, rate*r.fraction, now)
		if level := floor(rate*r.fraction, op.low); b.tokens <= level {
			wait = max(wait, b.until(level, rate*r.fraction))
		}
	}
	if wait > 0 {
		return tooManyRequests(ans.rangeID, wait), false
	}
	regions := []string{region}
	if op.class == WriteOps {
		regions = a.regions
	}
	for id, ru := range charges {
		r := c.ranges.byID(id)
		for _, reg := range regions {
			c.bucket(id, reg, rate*r.fraction, now).tokens -= ru
		}
	}
	ans.budgeted = true
	return answer{}, true
}

// tooManyRequests is the answer to a request refused for throughput: 429
// with substatus 3200, charge 0, and the wait after which it would be
// admitted.
func tooManyRequests(rangeID string, wait time.Duration) answer {
	ans := errorAnswer(http.StatusTooManyRequests, subRateTooLarge,
		"Request rate is large. More Request Units may be needed, so no changes were made. Please retry this request later.")
	ans.rangeID = rangeID
	ans.header = http.Header{headerRetryAfter: {strconv.FormatInt(wait.Milliseconds(), 10)}}
	return ans
}
