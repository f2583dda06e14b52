// Package account holds what the chain knows about a Cosmos DB account:
// which regions it has, which endpoint serves each attempt of a call, and
// how to sign requests for it (with a region.Credential).
//
//   - account.go, fetch.go, lookup.go: the DatabaseAccount document
//     (GET {account}/), fetched with a bounded body from the global
//     endpoint, or from the account's regional endpoints when that fails,
//     and validated by parseAccount.
//   - hostrule.go: inAccount, the rule that keeps signed requests inside
//     the account: a regional endpoint keeps the account's scheme and its
//     host is the account's host or a sibling of it (same parent domain),
//     or, for an IP address, the same address. Locations failing it are
//     dropped, never routed to.
//   - router.go, refresh.go, locations.go: Router, which owns every URL the
//     host rule accepts, loads the account lazily, refreshes it in the
//     background and on demand (one look-up in flight at a time, forced
//     look-ups never satisfied by an older one), orders read endpoints
//     (and the write endpoints of a multi-write account) by preferred
//     region and moves endpoints marked unavailable to the end until their
//     marks expire.
//   - route.go: Route, one call's way through the account. The transport's
//     loop asks it where each attempt goes (Prepare), gives it each answer
//     (Answer: the retry policy decides, and the route carries out what the
//     answer teaches the account: marks, look-ups) and asks it what next
//     (Next). The look-up protocol (epochs, forced look-ups) stays inside
//     this package. Arms splits a read into one pinned route per region for
//     hedging; hedge.go counts the hedges a region loses, per partition key
//     range when the read's range can steer the reads to come.
//   - ppaf.go: per-partition failover. In a single-write account whose
//     document says enablePerPartitionFailoverBehavior, a range's write
//     refused (403.3) or unavailable (503) moves to the range's next
//     region instead of the account's, and where one succeeded is
//     remembered (rangeMoves), bounded, for the range's next writes.
//   - partitions.go, circuits.go, ranges.go, probe.go: the partition
//     circuits, one per (container, partition key range, region), kept only
//     while failing or open, in a compact table (circuits.go: about 37
//     bytes each); the container's ranges read in the background
//     (ranges.go) so that a call knows its range before its first attempt;
//     the probes that test a due read circuit without a call (probe.go).
//   - sign.go: Sign. The host is not part of a request's signature, so a
//     signed request may be resent unchanged to another endpoint of the
//     same account.
//   - status.go: Router.Status, a snapshot for operators; StatusAs gives it
//     with transport's own endpoint type, for one conversion to the public
//     type; Router.PartitionStatus, the open partition circuits.
package account
