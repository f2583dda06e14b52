package decide

// MovesRange reports whether an answer of outcome o to a write of a
// partition key range, in a single-write account with per-partition
// failover, says that the range's writes may have moved to another region
// (see Situation.PartitionFailover): a 403.3 (the region no longer takes
// them) or a 503 (the range's primary is unavailable, which the service
// answers by moving it).
func MovesRange(o Outcome) bool { return o == WriteForbidden || o == unavailable }
