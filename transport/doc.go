// Package transport makes any HTTP client of Azure Cosmos DB behave like a
// well-built driver: New returns an http.RoundTripper to put under an
// http.Client or an SDK (azcosmos) that retries what the service says is
// safe to retry, waits as long as the service asks, keeps away from
// endpoints that keep failing, and follows a manual failover to the new
// write region.
//
//	rt, err := transport.New(transport.Options{
//		Endpoint:         "https://contoso.documents.azure.com:443/",
//		Key:              os.Getenv("COSMOS_KEY"),
//		PreferredRegions: []string{"West US 2", "East US"},
//	})
//	if err != nil { … }
//	defer rt.Close()
//	client := &http.Client{Transport: rt}
//
// The chain, outer to inner:
//
//	http.Client / SDK
//	 └─ Retry        the one retry loop: the call's span; the retry policy
//	    │            decides after each answer, the call's route says where
//	    │            each attempt goes (and signs unsigned account requests);
//	    │            body replay; deadline; the retry budget; the
//	    │            partition circuits, which order a call's regions;
//	    │            throughput control, which paces each attempt by its
//	    │            group and the ranges the service throttled
//	    └─ Breaker   one circuit per endpoint; open → ErrCircuitOpen at once
//	       └─ attempt span (otelhttp), http.request.resend_count
//	          └─ how far each attempt got on its connection (httptrace),
//	             │ which decides whether a failed attempt was sent
//	             └─ Base   *http.Transport
//
// Only Retry retries: the account's regions are a route the loop follows,
// not a second loop, so attempts never multiply. The rules it applies are
// tuned by policy.RetryOptions and stated once, with every cap, in the
// documentation of the module's internal/decide package; in short,
// throttling (429) waits the server's hint, 449 and 503 back off, reads move
// to the next preferred region, a write is never resent once it may have
// run, and a write refused during a failover (403 sub-status 3) is resent
// to the new write region once the account says which it is. When retries
// run out the last response comes back as it came (status, headers, body)
// with a nil error, so an SDK above sees the real status; a write that may
// or may not have run ends with ErrOutcomeUnknown instead.
//
// Errors a caller can branch on: ErrCircuitOpen (a *CircuitOpenError says
// which endpoint and until when), ErrClosed, ErrInvalidRequest, the account
// errors of package region, and context.Canceled or
// context.DeadlineExceeded when the request's context ended. Errors never
// hold a key, a token or an Authorization value. When the call is traced or
// carries diagnostics (WithDiagnostics), or the chain has a Logger, its
// error also names its attempts and their regions: "… (after 3 attempts:
// West US 2, East US, North Europe)". WithDiagnostics gives, after the
// call, each attempt's region, status, sub-status, duration, wait and
// request charge, without tracing. Options.Logger logs the same, client
// wide, for each call that ends failed, slow or costly (policy.LogOptions),
// rate-limited.
//
// Retry and Breaker are also usable alone (NewRetry, NewBreaker); each one's
// documentation says what it cannot do without the rest of the chain.
// Transport.Status is a snapshot for operators: the account as the chain
// knows it and the circuits that are not closed. Package telemetry lists
// the spans and metrics the chain records.
package transport
