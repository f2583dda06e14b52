package policy

import "time"

// HedgeOptions configures hedged reads: when a read's region is slow to
// answer, the same read is also sent to the next read region, and the first
// final answer wins (a status below 400, or 400, 401, 404 without
// sub-status, 405, 409, 412, 413). The zero value turns hedging off.
//
// Hedging helps when a region is slow rather than failing: a region that
// answers 503 is already left at once by the retry rules. It costs request
// units: every hedge is a read the account charges, so hedges draw on a
// budget, and a region that keeps losing hedges is avoided for a while (for
// the partition key range that lost them, or for all reads: see
// DemoteAfter), so that a slow partition or a whole-region brownout costs
// a few hedges rather than one per call.
type HedgeOptions struct {
	// Threshold is how long a read waits for its first region before it is
	// also sent to the next one. 0: no hedging (the default); negative: the
	// same.
	Threshold time.Duration
	// Step is how long each further region waits after the one before.
	// 0: Threshold.
	Step time.Duration
	// MaxRegions is how many read regions one read may use, the first
	// included. 0: all of them; 1 or negative: no hedging.
	MaxRegions int
	// Ratio is how many hedges per read the budget allows over time: each
	// read adds Ratio to the budget, each hedge takes 1, and the budget
	// holds at most Burst. 0: 0.1 (at most about 10 % extra reads);
	// negative: no budget, every hedge may go.
	Ratio float64
	// Burst is the most hedges the budget saves up. 0: 10.
	Burst float64
	// DemoteAfter is how many hedges in a row a region may lose (a later
	// region answered first) before reads avoid it. For reads that name
	// their partition key range or carry a partition key, the losses are
	// counted per range: after DemoteAfter in a row that range's circuit
	// in the region opens (see PartitionOptions), so its reads go to the
	// next region first, without waiting for Threshold, and one real read
	// tests the region again after the open period; the region's other
	// ranges stay. For other reads (or with partition circuits off) the
	// region is demoted for all reads, as a region marked unavailable is,
	// until the mark expires. A win by the region starts its count again.
	// 0: 5; negative: never.
	DemoteAfter int
}
