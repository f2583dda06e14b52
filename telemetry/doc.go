// Package telemetry is the manual of the OpenTelemetry spans and metrics
// that the chain built by transport.New records, following semantic
// conventions v1.43.0 for Azure Cosmos DB. Besides ScopeName it holds
// nothing to call: the library uses the OpenTelemetry API only, and the
// application chooses the SDK. It hands its providers to transport.Options
// (TracerProvider, MeterProvider, Propagators) or installs them as the
// OpenTelemetry globals; fields left nil mean the globals, looked up at
// each use, so that an SDK installed after transport.New is picked up.
// The names and values listed here are stable: dashboards and alerts may
// be built on them.
//
// # Spans
//
// One call (one RoundTrip of the chain, however many attempts it takes)
// makes this tree:
//
//	create_item orders           CLIENT    the call
//	 ├─ cosmosrt.account.refresh INTERNAL  a read of the database account, if the call causes one
//	 │   └─ HTTP GET             CLIENT    the read's request
//	 ├─ HTTP POST                CLIENT    the first attempt
//	 └─ HTTP POST                CLIENT    a resend, http.request.resend_count=1
//
// The call span is named "{db.operation.name} {target}", the target being
// the container, else the database, else nothing ("read_database_account").
// Its attributes: db.system.name=azure.cosmosdb, db.operation.name (see
// below), db.namespace, db.collection.name, server.address, server.port
// (when not 443), db.response.status_code (the final status),
// azure.cosmosdb.response.sub_status_code (the final x-ms-substatus),
// azure.cosmosdb.operation.request_charge (x-ms-request-charge summed over
// the attempts) and azure.cosmosdb.operation.contacted_regions (the
// regions the attempts went to, in first-contact order; a host stands for
// a region whose name is unknown). It has an event "retry" for each retry,
// with cosmosrt.retry.reason and cosmosrt.backoff.wait (the wait before the
// resend, in seconds), and an event "failover" each time a write is
// redirected to a new write region. An answer that changes a partition
// circuit (see policy.PartitionOptions) adds an event to the span of the
// call it answered (or of the probe, below): "partition.open" when the circuit of the call's
// partition key range in a region opens (cosmosrt.partition.outcome
// tripped, or reopened when the call tested the region and failed), and
// "partition.close" when the call's success closes it (recovered), each
// with cosmosrt.partition.container ("dbs/{db}/colls/{coll}"),
// cosmosrt.partition.range (the range id), cosmosrt.partition.region and
// cosmosrt.partition.outcome. A hedged read adds
// cosmosrt.hedge.regions (the regions its hedges went to, in order) and,
// when a hedge answered first, cosmosrt.hedge.winner (that region). A call failed, as the Cosmos DB
// conventions define it, when it ends with an error or a status of 400 or
// more; only then are error.type and the span status Error set.
//
// Each physical attempt is an otelhttp span "HTTP {method}", a child of
// the call span, with otelhttp's attributes (http.request.method,
// url.full, server.address, server.port, http.response.status_code,
// error.type as otelhttp names it: the status code, else the error's Go
// type, …) and http.request.resend_count from the second attempt of a
// call on. The propagators (transport.Options.Propagators, else the global
// ones) inject the trace context into each attempt's headers.
// transport.Options.NoAttemptSpans leaves these spans, and otelhttp's
// metrics, out, for a Base transport that is already instrumented.
//
// # Under azcosmos with azotel
//
// When the request's context already carries a recording CLIENT span of an
// Azure Cosmos DB SDK client (one whose az.namespace attribute is
// "Microsoft.DocumentDB", which azcore puts on every span of azcosmos's
// tracer, and which azotel passes on), that span already stands for the
// call: the chain starts no call span of its own. It records on that span
// instead the attributes of the outcome (db.response.status_code,
// azure.cosmosdb.response.sub_status_code,
// azure.cosmosdb.operation.request_charge,
// azure.cosmosdb.operation.contacted_regions, cosmosrt.hedge.*, and
// error.type on failure) and the "retry", "failover" and "partition.*"
// events, and the attempt spans are its children. It never renames or ends that span nor
// sets its status: those stay the SDK's. The metrics are recorded as
// usual. An azcosmos operation traced through azotel then makes this tree,
// with one operation span:
//
//	read_item orders             CLIENT  azcosmos: the operation
//	 └─ HTTP GET                 CLIENT  azcore: one request of its pipeline, with the
//	     │                               chain's attributes and events
//	     ├─ HTTP GET             CLIENT  the first attempt (503)
//	     └─ HTTP GET             CLIENT  the resend to the next region,
//	                                     http.request.resend_count=1
//
// where it used to have the chain's "read_item orders" span between
// azcore's span and the attempts. The span is recognised by its kind and
// attributes, read through the OpenTelemetry SDK's span (its SpanKind and
// Attributes methods), never by its name; spans of another implementation
// are not recognised, and the call then has its own span, as without
// azotel.
//
// A read of the database account is an INTERNAL span
// "cosmosrt.account.refresh" with cosmosrt.account.refresh.forced (true
// when an answer forced the read: a write refused with 403.3, a region
// that no longer serves the account (403.1008), a write that could not
// reach its endpoint; false for the first load and the periodic refresh),
// and error.type and status Error when the read failed. It is a child of the call that started the read;
// the periodic refresh is a root span.
//
// A probe of a partition circuit (see policy.PartitionOptions) is a root
// INTERNAL span "cosmosrt.partition.probe" with
// cosmosrt.partition.container, cosmosrt.partition.range and
// cosmosrt.partition.region, db.response.status_code when the probe got an
// answer, and error.type and status Error unless that answer was the 404
// a probe expects; its request is a child span, and the change it makes to
// the circuit ("partition.close" when it closes it, "partition.open" with
// outcome reopened when it fails) is an event on it.
//
// # Operation names
//
// db.operation.name is inferred from the request's method, path and
// headers, with the well-known values of the Cosmos DB conventions; for
// example:
//
//	POST   /dbs/shop/colls/orders/docs      create_item
//	       (+ x-ms-documentdb-is-upsert)    upsert_item
//	       (+ x-ms-documentdb-isquery or Content-Type application/query+json)
//	                                        query_items
//	       (+ x-ms-cosmos-is-batch-request) execute_batch (execute_bulk if not atomic)
//	GET    /dbs/shop/colls/orders/docs      read_all_items (query_change_feed with A-IM,
//	                                        read_all_items_of_logical_partition with a
//	                                        partition key)
//	GET    /dbs/shop/colls/orders/docs/42   read_item; PUT replace_item, PATCH patch_item,
//	                                        DELETE delete_item
//	POST   /dbs/shop/colls/orders/operations/partitionkeydelete
//	                                        delete_all_items_by_partition_key
//	POST   /dbs/shop/colls/orders/sprocs/p  execute_stored_procedure
//	GET    /dbs/shop                        read_database
//	GET    /                                read_database_account
//
// Databases, containers, stored procedures, triggers, user-defined
// functions, users, permissions, conflicts, client encryption keys,
// offers, partition key ranges and attachments are named in the same way
// (create_container, query_triggers, read_all_partition_key_ranges, …).
// Requests it does not recognise are named by their HTTP method ("GET",
// "POST", …, or "_OTHER" for a non-standard one), so the name stays of
// low cardinality. db.namespace and db.collection.name are the database
// and container names in the path.
//
// # error.type
//
// On a failed call, error.type is the first that applies of: the chain's
// own name, "circuit_open" (the endpoint's circuit breaker refused the
// call) or "closed" (the Transport was closed); the final status code
// ("429", "503", …); a name for the error's class. On a failed account
// read, it is the name for the error's class. That name is found with
// errors.Is and errors.As, never from the error's text; the first rule
// that matches wins:
//
//	timeout                     context.DeadlineExceeded
//	canceled                    context.Canceled
//	(its value)                 an error in the chain with a non-empty ErrorType() string method
//	server_certificate_invalid  the server's certificate failed verification
//	tls_handshake               any other TLS handshake failure
//	dns_not_found               a name that does not exist
//	dns_timeout                 a DNS look-up that timed out
//	dns_error                   any other DNS failure
//	connection_refused          ECONNREFUSED
//	connection_reset            ECONNRESET
//	connection_aborted          ECONNABORTED
//	broken_pipe                 EPIPE
//	host_unreachable            EHOSTUNREACH
//	network_unreachable         ENETUNREACH
//	timeout                     an I/O deadline, or any net.Error whose Timeout() is true
//	unexpected_eof              io.ErrUnexpectedEOF
//	eof                         io.EOF
//	connection_closed           net.ErrClosed
//	dial_error                  any other failure to dial
//	read_error                  any other failure to read
//	write_error                 any other failure to write
//	proxy_connect_error         a failed proxy CONNECT
//	network_error               any other *net.OpError
//	(status code)               a DatabaseAccount look-up answered with another
//	                            status than 200, such as "401"
//	(package path.Type)         the innermost error of an exported named type,
//	                            such as "crypto/tls.RecordHeaderError"
//	_OTHER                      anything else
//
// # Metrics
//
// Name, unit and kind; attributes; histogram bucket boundaries:
//
//	db.client.operation.duration                    s, histogram
//	    the call span's attributes, but the request charge
//	    0.001 0.005 0.01 0.05 0.1 0.5 1 5 10
//	azure.cosmosdb.client.operation.request_charge  {request_unit}, histogram
//	    the same attributes; recorded when an answer carried x-ms-request-charge
//	    1 5 10 25 50 100 250 500 1000
//	cosmosrt.retries                                {retry}, counter
//	    cosmosrt.retry.reason, db.operation.name
//	cosmosrt.backoff.wait                           s, histogram
//	    cosmosrt.retry.reason, db.operation.name
//	    0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 30
//	cosmosrt.failovers                              {failover}, counter
//	    db.operation.name
//	cosmosrt.hedges                                 {hedge}, counter
//	    cosmosrt.hedge.result, db.operation.name
//	cosmosrt.account.refreshes                      {refresh}, counter
//	    cosmosrt.account.refresh.forced, cosmosrt.account.refresh.outcome
//	cosmosrt.breaker.transitions                    {transition}, counter
//	    server.address, server.port, cosmosrt.breaker.from, cosmosrt.breaker.to
//	cosmosrt.breaker.state                          {state}, gauge
//	    server.address, server.port
//	cosmosrt.partition.transitions                  {transition}, counter
//	    cosmosrt.partition.region, cosmosrt.partition.outcome
//	cosmosrt.partition.open                         {circuit}, gauge
//	    cosmosrt.partition.region
//
// The attributes' values:
//
//	cosmosrt.retry.reason             what the retried attempt met: throttled (429),
//	                                  retry_with (449), unavailable (503), server_error
//	                                  (500), request_timeout (408), write_forbidden
//	                                  (403.3), region_not_found (403.1008),
//	                                  session_not_available (404.1002), never_sent (the
//	                                  request never left), ambiguous (the connection
//	                                  failed after the request may have been sent),
//	                                  circuit_open (the endpoint's breaker was open)
//	cosmosrt.hedge.result             started (a hedged read was sent to another region
//	                                  after the threshold) or won (it answered first)
//	cosmosrt.account.refresh.forced   true or false, as on the refresh span
//	cosmosrt.account.refresh.outcome  success or failure
//	cosmosrt.breaker.from, .to        closed, half-open or open
//	cosmosrt.breaker.state            0 closed, 1 half-open, 2 open (the gauge's value),
//	                                  one point per endpoint the chain has a breaker for
//	cosmosrt.partition.outcome        tripped (failures or lost hedges in a row opened a
//	                                  range's circuit in a region), reopened (its test
//	                                  failed), recovered (a success closed it)
//	cosmosrt.partition.region         the region's name as the account lists it (its
//	                                  host when the account names none)
//	cosmosrt.partition.open           the circuits open in a region (the gauge's value),
//	                                  one point per region with one open or more
//
// The partition metrics carry no container or range: a series per range
// would be unbounded. Those are on the span events.
//
// otelhttp adds its own http.client.request.duration and
// http.client.request.body.size for the attempts, under its own scope.
//
// # Secrets
//
// No header is recorded, neither by the chain nor by otelhttp, so
// Authorization values never reach a span or a metric; url.full on attempt
// spans has every query value replaced by "REDACTED". Error messages are
// recorded as span status descriptions.
//
// # Without tracing: diagnostics
//
// transport.WithDiagnostics gives a caller each attempt of its calls (the
// region, status, sub-status, duration, request charge, error.type of an
// attempt that got no response, the retry reason and wait) and the total
// request charge, with or without an SDK installed. An attempt's
// ErrorType takes the values of error.type below; its RetryReason those
// of cosmosrt.retry.reason.
//
// # Cost when nothing is recorded
//
// While no SDK is installed (the OpenTelemetry globals are no-ops) or the
// providers given are no-ops, and the call's context carries no
// diagnostics, the chain records nothing and sends attempts
// straight to Base; telemetry then costs a call a few atomic loads, and
// allocates nothing but one small context per resend (the attempt's
// number).
package telemetry
