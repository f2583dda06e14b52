// Package telemetry records the chain's OpenTelemetry spans and metrics,
// following semantic conventions v1.43.0 for Azure Cosmos DB. It uses the
// OpenTelemetry API only; the application chooses the SDK.
//
// Where it sits in the chain:
//
//	StartCall ... Call.End       one CLIENT span "read_item orders" per logical call,
//	  │                          db.client.operation.duration, request charge
//	  ├─ Call.Attempt/Retry/Failover/Charge   regions, cosmosrt.retries, backoff, failovers
//	  └─ Attempts(base)          one otelhttp CLIENT span per physical attempt,
//	                             http.request.resend_count from the second on
//	OnRefresh                    INTERNAL span "cosmosrt.account.refresh", cosmosrt.account.refreshes
//	BreakerTransition            cosmosrt.breaker.transitions
//	ObserveBreakers              cosmosrt.breaker.state (0 closed, 1 half-open, 2 open)
//
// # Call spans
//
// Attributes: db.system.name=azure.cosmosdb, db.operation.name (see
// Operation), db.namespace, db.collection.name, server.address,
// server.port (when not 443), db.response.status_code (the final status),
// azure.cosmosdb.response.sub_status_code (x-ms-substatus),
// azure.cosmosdb.operation.request_charge (x-ms-request-charge summed over
// the attempts) and azure.cosmosdb.operation.contacted_regions. A call
// failed, as the Cosmos DB conventions define it, when it ends with an
// error or a status of 400 or more; only then are error.type and span
// status Error set. error.type is the chain's own name such as
// "circuit_open", else the status code, else a name for the error's class,
// found with errors.Is and errors.As and never from the error's text, the
// first that applies of: "timeout" and "canceled" for the context errors;
// the value of an ErrorType() string method in the error's chain; a
// snake_case name for a well-known failure ("eof", "unexpected_eof",
// "connection_refused", "connection_reset", "connection_aborted",
// "broken_pipe", "host_unreachable", "network_unreachable",
// "dns_not_found", "dns_timeout", "dns_error",
// "server_certificate_invalid", "tls_handshake", "timeout",
// "connection_closed", "dial_error", "read_error", "write_error",
// "proxy_connect_error", "network_error"); "package/path.Type" for an
// error of an exported named type; "_OTHER". The account refresh span's
// error.type follows the same rules. Attempt spans and otelhttp's
// http.client.* metrics keep otelhttp's own error.type, named after the
// error's Go type.
//
// # Metrics
//
//	db.client.operation.duration                    s, histogram; the call span's attributes
//	                                                but the charge
//	azure.cosmosdb.client.operation.request_charge  {request_unit}, histogram; same attributes
//	cosmosrt.retries                                {retry}; cosmosrt.retry.reason, db.operation.name
//	cosmosrt.backoff.wait                           s, histogram; same attributes
//	cosmosrt.failovers                              {failover}; db.operation.name
//	cosmosrt.account.refreshes                      {refresh}; cosmosrt.account.refresh.forced,
//	                                                cosmosrt.account.refresh.outcome
//	cosmosrt.breaker.transitions                    {transition}; server.address, server.port,
//	                                                cosmosrt.breaker.from, cosmosrt.breaker.to
//	cosmosrt.breaker.state                          {state}, gauge; server.address, server.port
//
// # Secrets
//
// No header is recorded (neither here nor by otelhttp), so Authorization
// values never reach a span or metric; url.full on attempt spans has every
// query value replaced by "REDACTED".
//
// # Cost when nothing is recorded
//
// Providers left nil are looked up at each use, so an SDK installed after
// New is picked up. While the globals are still OpenTelemetry's no-op
// stand-ins, or the providers are no-ops, StartCall returns a nil *Call,
// the Call methods, OnRefresh and BreakerTransition return at once, and
// Attempts calls the base transport directly: the chain pays a few atomic
// loads and no allocation. Metric instruments are asked through their
// Enabled method; tracers, which have no such method, are recognised by
// type (the noop package's, and the global stand-in's, which the global
// hands out only until an SDK is installed).
package telemetry
