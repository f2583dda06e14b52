package cosmostest

import (
	"math"
	"strconv"
)

// Request charges, in request units (RU). The account answers every
// request it runs with its charge in x-ms-request-charge, rounded to
// hundredths; in a container with provisioned throughput, a request for
// items also takes it from its partition key range's budget (see
// throughput.go). A KB is 1024 bytes of an item's stored JSON, system
// properties included; a charge by size counts every started KB, and at
// least one.
//
//	point read                          1 RU per KB of the item read
//	create, upsert, replace, patch      5.71 RU per KB of the item written
//	delete                              5.71 RU per KB of the item deleted
//	transactional batch                 the sum of its operations' charges
//	query or read feed, per page        1 RU per KB of the documents it
//	                                    returns from each range it reads
//	a request for items that fails      1 RU (a read that finds nothing: 404)
//	metadata (account, databases,       1 RU to read, 5.71 RU to write
//	containers, pkranges, offers)
//
// A page thus costs what one read of its documents, laid end to end,
// would (at least 1 RU for each range it reads, even if it returns
// nothing), so that it grows with the documents it returns. An operation
// of a batch that fails costs 1 RU, and a batch charges the operations it
// ran, up to and including the one that failed.
const (
	readRU   = 1    // a point read of a 1 KB item; a KB a page returns
	writeRU  = 5.71 // a write of a 1 KB item
	failedRU = 1    // a request or operation for items that fails
)

// kilobytes returns how many started KB n bytes are, at least 1.
func kilobytes(n int) float64 { return max(1, math.Ceil(float64(n)/1024)) }

// itemCharge returns what one item operation cost, alone or in a batch:
// r is its outcome, write whether it writes.
func itemCharge(write bool, r opResult) float64 {
	size := r.size
	if r.doc != nil {
		size = len(r.doc.body)
	}
	switch {
	case r.status >= 400:
		return failedRU
	case write:
		return roundCharge(writeRU * kilobytes(size))
	}
	return roundCharge(readRU * kilobytes(size))
}

// pageCharge returns what a page of a query or read feed that returned
// docs cost. A page read in one range, or in a collection without ranges,
// costs readRU per KB of its documents together. A cross-partition page
// reads every range of the container: ranges is not nil, and each range
// is charged readRU per KB of the documents it gave, which byRange holds
// by range id.
func pageCharge(ranges *rangeSet, docs []*storedDoc) (total float64, byRange map[string]float64) {
	if ranges == nil {
		n := 0
		for _, d := range docs {
			n += len(d.body)
		}
		return readRU * kilobytes(n), nil
	}
	bytes := make(map[string]int, len(ranges.ranges))
	for _, d := range docs {
		bytes[ranges.holding(d.epk).id] += len(d.body)
	}
	byRange = make(map[string]float64, len(ranges.ranges))
	for _, r := range ranges.ranges {
		byRange[r.id] = readRU * kilobytes(bytes[r.id])
		total += byRange[r.id]
	}
	return total, byRange
}

// requestCharge returns the charge of op answered by ans: metadata by its
// class, a failed request for items failedRU, any other what the store
// found it cost.
func requestCharge(op operation, ans answer) float64 {
	switch {
	case !op.inItems() && op.class == WriteOps:
		return writeRU
	case !op.inItems():
		return readRU
	case ans.status >= 400:
		return failedRU
	}
	return ans.charge
}

// roundCharge rounds a charge to hundredths, as the service reports it.
func roundCharge(ru float64) float64 { return math.Round(ru*100) / 100 }

// formatCharge formats a request charge as the service does.
func formatCharge(ru float64) string { return strconv.FormatFloat(ru, 'f', -1, 64) }
