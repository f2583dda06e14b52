package cosmostest

import (
	"errors"
	"fmt"
	"slices"
)

// rangeOf names one partition key range of a container.
type rangeOf struct{ db, coll, rangeID string }

// Why FailoverRange fails.
var (
	errNoPerPartitionFailover = errors.New("the account was not made with Options.PerPartitionFailover")
	errMultiWriteRange        = errors.New("per-partition failover is for single-write accounts")
)

// FailoverRange moves the writes of one partition key range, rangeID of
// container coll in database db, to region, as the service's per-partition
// automatic failover does when that partition's write replica set fails
// over on its own: from now on a write that reaches the range is accepted
// only at region's endpoint, and refused everywhere else, the write
// region and the global endpoint included, with 403 and substatus 3
// (WriteForbidden), naming the range in x-ms-documentdb-partitionkeyrangeid.
// Other ranges, reads, and the DatabaseAccount document are unaffected:
// the writable locations still name the account's write region, so a
// client learns of the move only from the refusals. Failing the range over
// to the write region moves it back. A range split from a failed-over
// range writes where its parent did until it is failed over itself;
// Account.Failover, which moves every partition's writes, forgets every
// range's own region.
//
// A write that reaches no range before it runs (a create that leaves its
// partition key to the document, a write of a database or container)
// follows the account's write region. FailoverRange fails unless the
// account was made with Options.PerPartitionFailover and is single-write,
// and if there is no such region, container or range (one that was split
// is gone).
func (a *Account) FailoverRange(db, coll, rangeID, region string) error {
	wrap := func(err error) error {
		return fmt.Errorf("cosmostest: failing range %q of %s/%s over to %q: %w", rangeID, db, coll, region, err)
	}
	switch {
	case !a.ppaf:
		return wrap(errNoPerPartitionFailover)
	case a.multi:
		return wrap(errMultiWriteRange)
	case !slices.Contains(a.regions, region):
		return wrap(errors.New("no such region"))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.store.container(collKey{db, coll})
	if c == nil || c.def == nil {
		return wrap(errors.New("no such container"))
	}
	if c.def.ranges.byID(rangeID) == nil {
		return wrap(errNoRange)
	}
	if a.rangeRegions == nil {
		a.rangeRegions = make(map[rangeOf]string)
	}
	// The range's own entry, even to the write region: it overrides one a
	// parent of the range may have.
	a.rangeRegions[rangeOf{db, coll, rangeID}] = region
	return nil
}

// rangeWriteRegion returns the region that accepts the writes of rng, a
// range of op's container, when the range (or the range it was split
// from) was failed over on its own. a.mu must be held.
func (a *Account) rangeWriteRegion(op operation, rng *pkRange) (string, bool) {
	if len(a.rangeRegions) == 0 || rng == nil {
		return "", false
	}
	if r, ok := a.rangeRegions[rangeOf{op.db, op.coll, rng.id}]; ok {
		return r, true
	}
	for _, p := range slices.Backward(rng.parents) {
		if r, ok := a.rangeRegions[rangeOf{op.db, op.coll, p}]; ok {
			return r, true
		}
	}
	return "", false
}
