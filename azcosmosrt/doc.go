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
// returns after giving up; then it multiplies the chain's attempts. Measured
// against cosmostest (the tests of this package pin the numbers):
//
//   - A read whose connection drops every time, in every region: azcosmos
//     sends it through the chain 5 times (3 in-region retries and 1
//     cross-region retry, each after sleeping 1 s). On a fresh Client the
//     chain retries the first of them 3 times, region by region, and then,
//     its retry budget spent, none of the others: 8 attempts, and the caller
//     gets the error after about 4.2 s. Once the budget is spent: 5 attempts,
//     4 s. (net/http adds a resend of its own when a GET drops on a reused
//     connection.)
//   - A read that drops once costs one more attempt, made by the chain in
//     the next region; azcosmos sees the answer and neither retries nor
//     sleeps. A write that drops after it was sent is sent once by both
//     layers: it may have run.
//
// By azcosmos's source, a 403.3 that the chain returns (after its 60 s
// MaxFailoverWait) is resent up to 120 more times, 1 s apart, and a write
// that never left (a refused connection) 3 more times, 1 s apart.
//
// What a caller can do: give every call a context deadline. azcosmos's
// sleeps end with it and the chain returns at once with the context's error,
// so a dropped read given 1.5 s costs 1.5 s. A negative
// Chain.Retry.MaxUnavailableRetries leaves connection errors to azcosmos
// alone (5 attempts, 4 s, all in the same region), at the price of the
// chain's retries for 503, 500 and 408 too.
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
