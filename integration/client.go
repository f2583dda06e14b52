package integration

import (
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
)

// ClientOptions returns the azcosmos options that make rt (a cosmosrt
// chain, usually a *transport.Transport) the one layer that retries:
//
//   - Transport is an *http.Client over rt, without a Timeout: a call's
//     deadline comes from its context, which the chain never sleeps past.
//     (An http.Client Timeout would bound the whole call, retries included.)
//   - Retry.MaxRetries is -1, which azcore reads as one try and no retries.
//     Otherwise azcore's retry policy sends a 408, 429, 500, 502, 503 or 504
//     that the chain has given up on up to three more times, each time
//     through the whole chain: a persistent 429 costs 40 attempts instead
//     of 10.
//   - PreferredRegions is left empty: set it on the chain
//     (transport.Options.PreferredRegions), which routes every request to
//     the account. azcosmos retries a 503 once per preferred region it
//     knows, each time through the whole chain, so preferred regions given
//     to azcosmos multiply attempts and do not change where requests go.
//
// azcosmos keeps its own retry policy for 403.3, 404.1002, 408, 500, 502,
// 503, 504 and connection errors, which no option turns off; the chain
// handles these answers itself, so that policy only sees what the chain
// returns after giving up. Key and Entra ID authentication both work over
// plain http: azcosmos signs with its own policies, which do not check the
// scheme, so InsecureAllowCredentialWithHTTP is not needed.
//
// The options are a fresh value; the caller may change them before use.
func ClientOptions(rt http.RoundTripper) *azcosmos.ClientOptions {
	return &azcosmos.ClientOptions{
		ClientOptions: azcore.ClientOptions{
			Transport: &http.Client{Transport: rt},
			Retry:     policy.RetryOptions{MaxRetries: -1},
		},
	}
}
