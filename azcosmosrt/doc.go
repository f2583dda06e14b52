// Package azcosmosrt builds an Azure Cosmos DB SDK client (azcosmos v1.5.0)
// on the cosmosrt chain from one endpoint and one credential, configured so
// that the chain is the one layer that retries, routes and signs:
//
//	key, err := region.NewMasterKey(os.Getenv("COSMOS_KEY"))
//	if err != nil { … }
//	client, err := azcosmosrt.NewClientWithKey("https://contoso.documents.azure.com:443/", key, &azcosmosrt.Options{
//		Chain: transport.Options{PreferredRegions: []string{"West US 2", "East US"}},
//	})
//	if err != nil { … }
//	defer client.Close()                                 // after every call has returned
//	orders, err := client.NewContainer("shop", "orders") // a Client embeds *azcosmos.Client
//
// With Microsoft Entra ID, NewClient takes an azcore.TokenCredential (from
// azidentity, say) instead of the key. Give every call a context deadline.
//
// # What the constructors set, and why
//
// The chain is azcosmos's transport: an *http.Client over it, without a
// Timeout. A call's deadline comes from its context, which the chain never
// sleeps past; a client Timeout would bound the whole call, the chain's
// retries and failover included.
//
// azcore's retries are off (Retry.MaxRetries -1). Otherwise azcore sends
// every 408, 429, 500, 502, 503 or 504 that the chain has given up on three
// more times, each time through the whole chain: throttling that outlasts
// the chain's 10 attempts would cost 40.
//
// Preferred regions go to the chain only (Options.Chain.PreferredRegions).
// The chain routes every request of the account, whichever regional URL
// azcosmos chose, so azcosmos's own list would not change where requests go,
// while azcosmos would retry a 503 once per preferred region it knows, each
// time through the whole chain.
//
// One credential signs everything. azcosmos's authorization policy cannot
// be removed, so azcosmos is built with a placeholder key (no secret: a
// request signed with it is refused), and a per-retry policy, which azcore
// runs after azcosmos's authorization policy and before the caller's own
// per-retry policies, removes the header azcosmos set. The chain then signs
// every attempt, azcosmos's DatabaseAccount reads and its own included, with
// the constructor's credential and a fresh x-ms-date. Hence:
//
//   - A key rotates with MasterKey.Update: the next signature, whichever
//     layer sent the request, uses the new key, and the Client is not built
//     again (azcosmos alone keeps a copy of the KeyCredential it is given).
//   - With Entra ID the chain sends the token as azcosmos does
//     (type=aad&ver=1.0&sig=<token>, URL-escaped), asked for the scope
//     azcosmos asks for. The Client keeps the token, as azcore's bearer-token
//     policies do, until 5 minutes before it expires (or its RefreshOn),
//     since not every credential caches tokens itself (azidentity's
//     AzureCLICredential does not).
//   - A policy in Options.SDK.PerRetryPolicies that sets Authorization
//     itself wins: the chain passes a request that is already signed on as
//     it is.
//   - The chain signs only requests to the account's own hosts; a request to
//     any other host would be sent unsigned.
//
// # What no option turns off: azcosmos's own retries
//
// azcosmos v1.5.0 keeps a retry policy of its own for 403 with sub-status 3
// or 1008, 404/1002, 408, 500, 502, 503, 504 and connection errors. The
// chain handles all of these itself, so that policy only sees what the chain
// returns after giving up. For connection errors it sees none: the errors
// the chain returns after its own retries (*transport.AttemptError,
// *transport.OutcomeUnknownError) keep the connection's error in Cause, out
// of reach of errors.Is and errors.As, so azcosmos neither resends nor
// sleeps. Measured against cosmostest (the tests of this package pin the
// numbers):
//
//   - A read whose connection drops every time, in every region: the chain's
//     own 4 attempts, region by region, and the caller gets an
//     *transport.AttemptError after about 0.2 s (before: 8 attempts, 4.2 s,
//     as azcosmos resent the chain's error 4 times, 1 s apart). Once the
//     retry budget is spent: 1 attempt.
//   - A write the service may have run (its answer was lost, or came as a
//     TLS record error) reaches the account once, and the caller gets
//     transport.ErrOutcomeUnknown (before: azcosmos took a TLS record error
//     for "not sent" and resent the write 3 times, 1 s apart).
//   - When the caller's context ends, azcore returns the bare context error:
//     errors.Is(err, context.DeadlineExceeded) holds, but ErrOutcomeUnknown
//     cannot reach the caller then, even for a write that may have run.
//
// By azcosmos's source, a 403.3 that the chain returns (after its 60 s
// MaxFailoverWait) is resent up to 120 more times, 1 s apart, and a 503
// once per preferred region it knows. Give every call a context deadline:
// azcosmos's sleeps end with it and the chain returns at once.
//
// # Slow and failed calls
//
// azcosmos sees one try per call: a 429 that the chain returns after its 10
// attempts is one failed request to azcosmos and its diagnostics. Set
// Options.Chain.Logger (a *slog.Logger) for an entry per call that ends
// failed, slow or costly, with every attempt the chain made (see
// transport.Options.Logger and policy.LogOptions); transport.WithDiagnostics
// gives the same for one call, through azcosmos's context.
//
// # Start-up
//
// azcosmos reads the DatabaseAccount itself before its first call, through
// the chain, which reads it too: two look-ups at start. When azcosmos's read
// fails (a wrong key, a credential that cannot get a token, an unreachable
// account), azcosmos v1.5.0 returns that failure to every call for 5 minutes
// without asking again, even once the cause is gone and the chain has
// recovered. Close the Client and build a new one to recover sooner;
// Client.Status().Account.LastError shows the chain's view of the account.
//
// # Closing
//
// Client.Close closes the azcosmos client and then the chain. Call it after
// every call made through the Client has returned, and before closing what
// the Client uses (a Chain.Base of your own); a defer right after the
// constructor does both.
package azcosmosrt
