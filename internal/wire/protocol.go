// Package wire holds the facts of the Cosmos DB REST protocol that more than
// one package of the chain needs: header names, sub-status codes, what a
// request is (a read or a write, a query), how a path names a resource,
// what an endpoint is (Endpoint, CheckEndpoint), and how a response or a
// connection is let go (Drain, CloseIdle). It has no state; only Drain
// reads, and only the body it is given.
package wire

// APIVersion is the value of the x-ms-version header that the chain sends
// when it signs a request itself.
const APIVersion = "2018-12-31"

// Header names of the Cosmos DB REST protocol that the chain reads or sets,
// in canonical form.
const (
	HeaderDate                 = "X-Ms-Date"
	HeaderVersion              = "X-Ms-Version"
	HeaderSubStatus            = "X-Ms-Substatus"
	HeaderRetryAfterMs         = "X-Ms-Retry-After-Ms"
	HeaderIsQuery              = "X-Ms-Documentdb-Isquery"
	HeaderRequestCharge        = "X-Ms-Request-Charge"
	HeaderAllowTentativeWrites = "X-Ms-Cosmos-Allow-Tentative-Writes"
	HeaderIsUpsert             = "X-Ms-Documentdb-Is-Upsert"
	HeaderPriorityLevel        = "X-Ms-Cosmos-Priority-Level"
	HeaderIsBatch              = "X-Ms-Cosmos-Is-Batch-Request"
	HeaderBatchAtomic          = "X-Ms-Cosmos-Batch-Atomic"
	HeaderPartitionKey         = "X-Ms-Documentdb-Partitionkey"
	HeaderPartitionKeyRangeID  = "X-Ms-Documentdb-Partitionkeyrangeid"
	HeaderIncremental          = "A-Im"
	HeaderSessionToken         = "X-Ms-Session-Token"
	HeaderIfMatch              = "If-Match"
	HeaderETag                 = "Etag"
	HeaderPrefer               = "Prefer"
)

// Sub-status codes (x-ms-substatus) that change what a status means.
const (
	SubStatusWriteForbidden      = 3    // with 403: the region no longer accepts writes (failover)
	SubStatusRegionNotFound      = 1008 // with 403: the account is not (or no longer) in this region
	SubStatusSessionNotAvailable = 1002 // with 404: the region has not caught up with the session token
)
