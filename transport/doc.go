// Package transport holds the chain's RoundTrippers and their default
// composition, New:
//
//	http.Client / SDK
//	 └─ Retry        the one retry loop: the call's span, classify → decide →
//	    │            wait → route the next attempt; body replay; deadline;
//	    │            retry budget; signing of unsigned account requests
//	    └─ Breaker   one circuit per endpoint; open → ErrCircuitOpen at once
//	       └─ attempt span (otelhttp), http.request.resend_count
//	          └─ phases  how far the attempt got on its connection
//	             │       (httptrace): decides whether a failed attempt
//	             │       was sent
//	             └─ Base   *http.Transport
//
// Retry and Breaker are usable alone (NewRetry, NewBreaker). Only Retry
// retries: the account's regions are a router it consults, not a second
// loop, so attempts never multiply.
//
//	rt, err := transport.New(transport.Options{
//		Endpoint:         "https://contoso.documents.azure.com:443/",
//		Key:              os.Getenv("COSMOS_KEY"),
//		PreferredRegions: []string{"West US 2", "East US"},
//	})
//	if err != nil { … }
//	defer rt.Close()
//	client := &http.Client{Transport: rt}
package transport
