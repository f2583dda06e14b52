// Package partition knows where a partition key lives: it computes the
// effective partition key (EPK) of the x-ms-documentdb-partitionkey header
// as the service does, and finds the partition key range of a container
// that holds it, from a cache of each container's definition and ranges,
// without blocking the call that asks.
//
//	x-ms-documentdb-partitionkey: ["eu"]
//	   │ parseKey (key.go): a strict JSON array of strings, numbers,
//	   │ true, false, null and {} (undefined), parsed without allocating
//	   ▼
//	EPK (epk.go) by the container's Definition (definition.go):
//	   Hash v1    MurmurHash3 x86-32, strings cut to 100 UTF-16 units;
//	              the hash as a number, then the components, in an
//	              order-preserving binary encoding
//	   Hash v2    MurmurHash3 x64-128 of all components, big-endian,
//	              top two bits cleared (below "FF", the end of the space)
//	   MultiHash  one v2 hash per level, concatenated; a prefix of the
//	              levels covers [EPK, EPK+"FF") and may span ranges
//	   ▼
//	RangeMap (ranges.go): the pkranges feed, checked (no gap, no overlap,
//	   "" to "FF") and packed; binary search with CompareEPK's order
//	   (compare.go), in which "0A" equals "0A00"
//	   ▼
//	range id "3"
//
// Cache (cache.go, load.go) holds, per container link, the definition and
// the RangeMap in an immutable table behind an atomic pointer, so a lookup
// takes no lock: about 70 ns and no allocation for a one-string key. A
// container not yet loaded answers false at once and is loaded in the
// background by the Loader the caller gives, which does the I/O (the
// container document and its pkranges feed): one load per container at a
// time, bounded retries that honour a 429's RetryAfter, a growing pause
// after a failed load, a reload after a split (Invalidate), at most
// MaxContainers containers (least recently used out), and Close. KeyIn
// (probe.go) finds a partition key that a given range holds, for a
// request that must reach that range.
//
//	c := partition.NewCache(load, partition.CacheOptions{})
//	defer c.Close()
//	if id, ok := c.Lookup(partition.ContainerLink(link), req.Header.Get(wire.HeaderPartitionKey)); ok {
//		// the call's range is known before its first attempt
//	}
//
// Test vectors come from the Java, Rust and Python SDKs' tests and the
// hash baselines that azcosmos checks itself against (epk_test.go says
// which); cosmostest's account, an independent implementation of the
// version 2 hash, agrees at the wire (wire_test.go).
package partition
