// Package cosmostest runs a simulated multi-region Azure Cosmos DB account
// on loopback, for tests, in the spirit of net/http/httptest.
//
// An Account has a global (account) endpoint and one endpoint per region,
// each a plain-HTTP server on its own 127.0.0.1 port, over one document
// store that every endpoint shares. It serves:
//
//	GET    /                                 the DatabaseAccount document
//	POST   /dbs/{db}/colls/{coll}/docs       create (201, 409 on a duplicate id);
//	                                         upsert with x-ms-documentdb-is-upsert: true (201 or 200);
//	                                         query with x-ms-documentdb-isquery: true (every document)
//	GET    /dbs/{db}/colls/{coll}/docs       read feed (every document)
//	GET    /dbs/{db}/colls/{coll}/docs/{id}  read (404 if absent)
//	PUT    /dbs/{db}/colls/{coll}/docs/{id}  replace (404 if absent)
//	DELETE /dbs/{db}/colls/{coll}/docs/{id}  delete (204)
//
// Any database and collection exist implicitly. Other paths get 404. A
// request passes these steps in order; the first that answers wins:
//
//  1. the master-key signature and x-ms-date (within MaxClockSkew): 401;
//  2. faults scripted with Account.Inject, then Account.Chaos;
//  3. routing (404, 405) and the body limit, MaxBodyBytes (413);
//  4. the write region: a write anywhere else gets 403 with substatus 3
//     (in a multi-write account, only a write without
//     x-ms-cosmos-allow-tentative-writes: true);
//  5. the store, which answers with x-ms-request-charge,
//     x-ms-session-token, x-ms-activity-id and, for documents, etag.
//
// Exactly one region accepts writes; the global endpoint writes as that
// region does. Account.Failover moves the write region, as a manual
// failover does, and Account.SetGlobalStale makes the global endpoint
// refuse writes, as during DNS lag after a failover. Account.Log records
// every request and Account.Commits counts each document's committed
// writes, so a test can prove which regions were tried and that nothing
// was written twice.
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
// Nothing in the account sleeps except a Fault's Delay, which is opt-in.
package cosmostest
