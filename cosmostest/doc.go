// Package cosmostest runs a simulated multi-region Azure Cosmos DB account
// on loopback, for tests, in the spirit of net/http/httptest.
//
// An Account has a global (account) endpoint and one endpoint per region,
// each a plain-HTTP server on its own 127.0.0.1 port, over one store of
// databases, containers and documents that every endpoint shares. It
// serves:
//
//	GET    /                                     the DatabaseAccount document
//	POST   /dbs                                  create a database (201, 409 if it exists),
//	                                             with shared throughput (see "Throughput")
//	GET    /dbs/{db}                             read a database (404 unless created)
//	DELETE /dbs/{db}                             delete a database with all it holds (204)
//	POST   /dbs/{db}/colls                       create a container, with its partition key
//	                                             definition {"paths":["/pk"],"kind":"Hash"} (201, 409)
//	                                             and its throughput (see "Throughput")
//	GET    /dbs/{db}/colls/{coll}                read a container, partitionKey included
//	DELETE /dbs/{db}/colls/{coll}                delete a container and its documents (204)
//	GET    /dbs/{db}/colls/{coll}/pkranges       the container's partition key ranges
//	POST   /dbs/{db}/colls/{coll}/docs           create (201, 409 on a duplicate id);
//	                                             upsert with x-ms-documentdb-is-upsert: true (201 or 200);
//	                                             query with x-ms-documentdb-isquery: true;
//	                                             batch with x-ms-cosmos-is-batch-request: true
//	GET    /dbs/{db}/colls/{coll}/docs           read feed
//	GET    /dbs/{db}/colls/{coll}/docs/{id}      read (404 if absent)
//	PUT    /dbs/{db}/colls/{coll}/docs/{id}      replace (404 if absent)
//	PATCH  /dbs/{db}/colls/{coll}/docs/{id}      patch: add, set, replace, remove, incr
//	DELETE /dbs/{db}/colls/{coll}/docs/{id}      delete (204)
//	GET    /offers                               every offer (provisioned throughput)
//	POST   /offers                               query the offers
//	GET    /offers/{rid}                         read an offer (404 if absent)
//	PUT    /offers/{rid}                         replace an offer's throughput
//
// Other paths get 404, other methods 405. A request passes these steps in
// order; the first that answers wins:
//
//  1. the master-key signature and x-ms-date (within MaxClockSkew): 401;
//  2. faults scripted with Account.Inject, then Account.Chaos, each
//     limited to some requests by its Ops, Container, Range and
//     PartitionKey (a DropAfterCommit fault lets the request through the
//     steps below and closes the connection instead of answering);
//  3. routing (404, 405) and the body limit, MaxBodyBytes (413);
//  4. the write region: a write anywhere else gets 403 with substatus 3
//     and x-ms-request-charge 0 (in a multi-write account, only a write
//     without x-ms-cosmos-allow-tentative-writes: true);
//  5. the store, which answers with x-ms-request-charge (see "Request
//     charges"), x-ms-session-token, x-ms-activity-id and, for documents,
//     etag;
//  6. provisioned throughput: a request for items of a container with
//     provisioned throughput whose partition key range has spent its
//     budget in the serving region gets 429 with substatus 3200 and
//     x-ms-retry-after-ms instead of the store's answer, and its writes
//     are not committed (see "Throughput").
//
// Every answer to a request that reaches one partition key range, from
// whichever step, names that range in x-ms-documentdb-partitionkeyrangeid
// (see below); a 401 or a dropped connection names nothing.
//
// # Containers and partition keys
//
// A container created with POST /dbs/{db}/colls has a partition key: one
// path, kind Hash, version 2 (hierarchical keys, kind MultiHash, and
// version 1 get 400). Its items are named by id and partition key value,
// which requests carry in x-ms-documentdb-partitionkey as a JSON array
// such as ["eu"]: the same id under two values is two items, and a read,
// replace, patch or delete that names another value gets 404 (400 without
// the header). A written document must hold the value the header names
// (400 with substatus 1001 otherwise); a create or upsert without the
// header takes the value from the document.
//
// A collection that was never created is implicit, as every collection
// was before containers could be created: documents in it work, in any
// database, created or not. It has no partition key: the header is
// ignored and the id alone names an item, as in a legacy non-partitioned
// container. It has no ranges, and GET of it or of its pkranges answers
// 404, so SDK features that read them (ReadManyItems) need the container
// created. Creating a container whose implicit collection already holds
// documents gets 409. After a container or database is deleted, its
// document paths answer 404 with substatus 1003 until it is created again.
//
// # Partition key ranges
//
// A container starts with two partition key ranges, "0" and "1", which
// split the space of effective partition keys (EPKs: the hash, in
// upper-case hex, that azcosmos computes to route ReadManyItems) at 20;
// the last range ends at FF. With Options.InitialRanges set to n it starts
// with n ranges, "0" to "n-1", that slice the space (keys hash below 40)
// into equal spans, each with throughputFraction 1/n: four ranges start at
// "", 10, 20 and 30. A request reaches one range when it
// addresses a container's items and names the range in
// x-ms-documentdb-partitionkeyrangeid (a query or read feed of one range)
// or, without that header, a partition key in x-ms-documentdb-partitionkey
// (point operations, batches, queries in a partition): the range that
// holds the key's EPK. Its answer names that range in
// x-ms-documentdb-partitionkeyrangeid, as the service's does, whether
// the store, the write region check or a fault gave it, and so does its
// Entry.Range in the log; the answer to a create or upsert that leaves the
// key to the document names the range the document went to. A request to
// a collection without a partition key, a cross-partition query or read
// feed, and a request for the pkranges feed or the container itself reach
// no range: their answers name none, and no fault limited by Range or
// PartitionKey matches them. A request that names a range the container
// does not have gets 410 with substatus 1002 (PartitionKeyRangeGone).
//
// Account.Split splits a range in two, as the service does when a
// partition grows: the children take new ids and list their ancestors as
// parents, a request that names the old range gets 410 with substatus
// 1002, the others reach the child that holds their key, and stored items
// stay where they are. Ranges never merge. GET .../pkranges lists the
// current ranges under an etag that changes with each split; read as a
// change feed (A-IM: Incremental Feed) with the current etag in
// If-None-Match it answers 304, with any other etag every current range.
//
// # Queries, patches and batches
//
// Read feeds and queries serve documents oldest write first, in pages of
// at most x-ms-max-item-count documents (all of them when the header is
// absent or not positive), with x-ms-continuation to ask for the next
// page. Queries are a small part of the SQL: SELECT * FROM c [WHERE ...]
// with =, !=, <, <=, >, >=, IN, IS_NULL, IS_DEFINED, NOT, AND, OR,
// literals and @parameters; anything else gets 400 saying what is
// supported. In a container, a query with a partition key header runs in
// that partition, one with x-ms-documentdb-partitionkeyrangeid in that
// range, and any other needs x-ms-documentdb-query-enablecrosspartition:
// true. A patch applies up to 10 operations on JSON-pointer paths, after
// its optional condition ("FROM c WHERE ...") holds (412 otherwise). A
// transactional batch runs up to 100 operations in one partition and
// commits all of them (200) or none (207, with 424 for the operations
// that did not fail).
//
// # Request charges
//
// Every answer of the store carries its charge in x-ms-request-charge, in
// request units (RU), rounded to hundredths. A KB is 1024 bytes of an
// item's stored JSON, system properties included, and a charge by size
// counts every started KB, at least one:
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
// So a point read of an item up to 1 KB costs 1 RU, and writing it 5.71;
// a page costs what one read of its
// documents laid end to end would, and a cross-partition page reads every
// range, 1 RU at least from each. A batch's operations each report their
// own charge in the answer's requestCharge; an operation that fails costs
// 1 RU, and a batch charges what it ran, up to and including the failure.
//
// # Throughput
//
// A container created with x-ms-offer-throughput: N has N RU/s of manual
// throughput; one created with x-ms-cosmos-offer-autopilot-settings:
// {"maxThroughput": M} has autoscale throughput up to M RU/s, and the
// model runs it at M at once: it scales up instantly and never down, so
// autoscale is enforced as manual throughput at its maximum. The
// service's minimums and steps (400 RU/s, multiples of 100 or 1000) are
// not enforced, so that tests can provision a few RU/s. A database created
// with either header has shared throughput, which its containers that
// have none of their own split equally: 60 RU/s shared by three such
// containers gives each 20 RU/s, and a container created or deleted
// changes the others' share. A container with neither is unlimited, as
// is every container of a serverless account (Options.Serverless) and
// every collection that was never created. Account.SetThroughput changes
// a container's manual throughput, or removes it, from a test.
//
// A container's throughput is divided among its partition key ranges by
// their throughputFraction (1/n for n initial ranges, halved by a split),
// and each range has a budget in each region: a bucket that fills at its
// share of the RU/s, up to one second's worth, by Options.Now. A new
// bucket, a split's children's included, starts full. A request for items
// that reaches a range (a point operation, a batch, a query or read feed
// in one partition or one range) is admitted when its range's bucket in
// the region that serves it (the write region's for the global endpoint)
// holds more than 0 RU; a request with x-ms-cosmos-priority-level: Low
// (in any case) only when it holds more than a tenth of its capacity, so
// that Low priority is throttled first and High priority keeps the last
// tenth. A cross-partition query or read feed page reads every range, and
// is admitted only when each of their buckets would admit it. An
// admitted request runs, and then its charge is taken from the bucket,
// which may go into debt: a read's from the serving region's bucket only,
// a write's (run once) from the range's bucket in every region, as
// replication costs the same everywhere; a cross-partition page takes
// from each range the part of the charge its documents make. A request
// refused gets 429 with substatus 3200, x-ms-request-charge 0, and
// x-ms-retry-after-ms: the whole milliseconds, at least 1, until its
// bucket holds more than it needs, so that the same request sent that
// much later (and nothing else spending in between) is admitted. It runs
// nothing and commits nothing. Requests for metadata (the account,
// databases, containers, pkranges, offers) are never refused nor charged
// to a budget, and faults come first: a faulted request spends nothing.
// Entry.Charge shows what each request took from the budgets, and
// Entry.LowPriority its priority.
//
// Each database or container with throughput has an offer, as in the
// service: a document with id and _rid (four characters), _self
// (offers/{rid}/), _etag, _ts, offerVersion "V2", offerType "Invalid",
// offerResourceId and resource (the _rid and _self of its database or
// container) and content {"offerThroughput": N}, for autoscale with
// "offerAutopilotSettings": {"maxThroughput": M} and an offerThroughput of
// M/10, what the service shows at rest. Offers hold whole RU/s. GET
// /offers lists them all, oldest first, in one page; POST /offers queries
// them, as azcosmos's ReadThroughput does with SELECT * FROM c WHERE
// c.offerResourceId = '{rid}', in the query language above; GET
// /offers/{rid} reads one, and PUT /offers/{rid} replaces its content
// (offerThroughput, or offerAutopilotSettings for autoscale), honouring
// If-Match. A container that shares its database's throughput has no
// offer of its own. A request for one offer is signed, as the service and
// azcosmos sign it, with resource type "offers" and the offer's _rid,
// lower-cased, as resource link; the feed and queries with an empty link.
// A serverless account answers every request for offers with 400, "Reading
// or replacing offers is not supported for serverless accounts.", and a
// request that creates a database or container with throughput with 400,
// as the service does.
//
// Not simulated: the change feed, stored procedures, triggers, users,
// indexing, TTL, unique keys, Prefer: return=minimal (writes always
// answer with the document), query projections, ORDER BY, TOP, JOIN and
// aggregates, throughput buckets (429 with substatus 3212), burst
// capacity, and autoscale's scaling.
//
// Exactly one region accepts writes; the global endpoint writes as that
// region does. Account.Failover moves the write region, as a manual
// failover does, and Account.SetGlobalStale makes the global endpoint
// refuse writes, as during DNS lag after a failover. Account.Log records
// every request (the latest Options.LogLimit of them) and Account.Commits
// counts each document's committed writes, so a test can prove which
// regions (and partition key ranges) were tried and that nothing was
// written twice.
//
// With Options.MultipleWriteLocations the account is multi-write, as one
// with multi-region writes enabled: the DatabaseAccount document says
// enableMultipleWriteLocations and lists every region as writable, the
// hub (the write region) first and then the others in region order. Any
// region accepts a write that carries x-ms-cosmos-allow-tentative-writes:
// true, the header the SDKs send to every region of such an account; the
// hub alone accepts a write without it, which the other regions refuse
// with 403 and substatus 3, as the service does. Account.Failover moves
// the hub. All regions still share one store, so a write accepted
// anywhere is seen everywhere at once: the account has no replication lag
// and no conflicts.
//
// With Options.PerPartitionFailover the DatabaseAccount document says
// enablePerPartitionFailoverBehavior, and Account.FailoverRange moves one
// partition key range's writes to another region, as the service's
// per-partition automatic failover does: every other endpoint refuses
// them with 403 and substatus 3, while the document still names the
// account's write region.
//
// A test typically points the code under test at the account and shapes
// its behaviour:
//
//	acct := cosmostest.NewAccount(cosmostest.Options{})
//	defer acct.Close()
//	acct.Inject("West US 2", cosmostest.Fault{Status: 503, Ops: cosmostest.WriteOps, Count: 2})
//	rt, err := transport.New(transport.Options{Endpoint: acct.Endpoint(), Key: acct.Key()})
//	// ... run the code under test with &http.Client{Transport: rt} ...
//	if got := acct.Commits("db", "orders", "1"); got != 1 {
//		t.Errorf("order 1 committed %d times, want 1", got)
//	}
//
// Nothing in the account sleeps except a Fault's Delay and Chaos's
// RateSlow, which are opt-in, and nothing waits for the test but a
// Fault's Hold.
package cosmostest
