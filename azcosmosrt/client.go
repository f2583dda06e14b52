package azcosmosrt

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/cosmosrt/cosmosrt/region"
	"github.com/cosmosrt/cosmosrt/transport"
)

// Options configures NewClient and NewClientWithKey. The zero value (or a
// nil *Options) is the recommended configuration: the chain's defaults
// under azcosmos's defaults, with azcore's retries off.
type Options struct {
	// Chain configures the cosmosrt chain: PreferredRegions, Retry,
	// Breaker, Base, the telemetry providers and the rest, each with the
	// default its comment in package transport states. Endpoint, Key and
	// Credential must be left empty: the constructor sets them from its
	// arguments, so that the chain and azcosmos name the same account and
	// share one credential.
	Chain transport.Options

	// SDK configures the azcosmos client: its per-call and per-retry
	// policies, logging, tracing, telemetry, Cloud (whose Cosmos DB
	// audience, if set, is the Entra ID scope),
	// EnableContentResponseOnWrite, PriorityLevel, ThroughputBucket.
	// Three fields must be left zero, or the constructor returns an error:
	//   - Transport: the constructor sets an *http.Client over the chain,
	//     without a Timeout; give the chain your own RoundTripper as
	//     Chain.Base instead.
	//   - Retry: the constructor sets MaxRetries to -1, so that azcore
	//     sends each call through the chain once (a negative MaxRetries is
	//     accepted, as it means the same).
	//   - PreferredRegions: set Chain.PreferredRegions instead.
	SDK azcosmos.ClientOptions
}

// Client is an azcosmos client on a cosmosrt chain. Use the embedded
// *azcosmos.Client as usual (NewContainer, NewDatabase, CreateDatabase,
// …); Close closes both. It is safe for concurrent use.
type Client struct {
	*azcosmos.Client

	chain *transport.Transport
}

// NewClientWithKey returns a Client for the account at endpoint (its global
// endpoint, e.g. "https://contoso.documents.azure.com:443/") that signs
// every request with key. key stays the caller's: key.Update(newKey) rotates
// the key for every request from then on, azcosmos's included, without
// building the client again. o may be nil.
func NewClientWithKey(endpoint string, key *region.MasterKey, o *Options) (*Client, error) {
	if key == nil {
		return nil, errors.New("azcosmosrt: nil master key")
	}
	return newClient(endpoint, key, o)
}

// NewClient returns a Client for the account at endpoint that authorizes
// every request with a Microsoft Entra ID token from cred, asked for the
// scope azcosmos uses: the audience of o.SDK.Cloud's Cosmos DB service
// (azcosmos.ServiceName) followed by "/.default" when it is set, otherwise
// "{scheme}://{host}/.default" of endpoint. The Client keeps the token it
// got until 5 minutes before it expires (or until its RefreshOn, when set),
// as azcore's bearer-token policies do, so cred is asked once per token
// whatever the request rate. o may be nil.
func NewClient(endpoint string, cred azcore.TokenCredential, o *Options) (*Client, error) {
	if cred == nil {
		return nil, errors.New("azcosmosrt: nil token credential")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("azcosmosrt: endpoint: %w", err)
	}
	var sdk azcosmos.ClientOptions
	if o != nil {
		sdk = o.SDK
	}
	return newClient(endpoint, newEntraToken(cred, entraScope(u, sdk.Cloud)).credential(), o)
}

func newClient(endpoint string, cred region.Credential, o *Options) (*Client, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if err := opts.check(); err != nil {
		return nil, err
	}

	chainOpts := opts.Chain
	chainOpts.Endpoint, chainOpts.Credential = endpoint, cred
	chain, err := transport.New(chainOpts)
	if err != nil {
		return nil, err
	}

	sdk := opts.SDK
	sdk.Transport = &http.Client{Transport: chain} // no Timeout: it would bound the chain's retries too
	sdk.Retry = azpolicy.RetryOptions{MaxRetries: -1}
	// First among the caller's per-retry policies, which azcore runs after
	// azcosmos's own authorization policy.
	sdk.PerRetryPolicies = append([]azpolicy.Policy{chainSigns{}}, opts.SDK.PerRetryPolicies...)
	placeholder, err := azcosmos.NewKeyCredential(placeholderKey)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("azcosmosrt: %w", err), chain.Close())
	}
	client, err := azcosmos.NewClientWithKey(endpoint, placeholder, &sdk)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("azcosmosrt: %w", err), chain.Close())
	}
	return &Client{Client: client, chain: chain}, nil
}

// check reports the options the constructors set themselves.
func (o *Options) check() error {
	var errs []error
	if o.Chain.Endpoint != "" {
		errs = append(errs, errors.New("azcosmosrt: Options.Chain.Endpoint must be empty: the endpoint is the constructor's argument"))
	}
	if o.Chain.Key != "" || o.Chain.Credential != nil {
		errs = append(errs, errors.New("azcosmosrt: Options.Chain.Key and Credential must be empty: the credential is the constructor's argument"))
	}
	if o.SDK.Transport != nil {
		errs = append(errs, errors.New("azcosmosrt: Options.SDK.Transport must be nil: the chain is the transport (set Options.Chain.Base instead)"))
	}
	if r := o.SDK.Retry; r.MaxRetries > 0 || r.TryTimeout != 0 || r.RetryDelay != 0 || r.MaxRetryDelay != 0 ||
		r.StatusCodes != nil || r.ShouldRetry != nil {
		errs = append(errs, errors.New("azcosmosrt: Options.SDK.Retry must be zero: the chain retries, azcore does not"))
	}
	if len(o.SDK.PreferredRegions) > 0 {
		errs = append(errs, errors.New("azcosmosrt: Options.SDK.PreferredRegions must be empty: set Options.Chain.PreferredRegions"))
	}
	return errors.Join(errs...)
}

// Close closes the azcosmos client (releasing the caches it shares with
// other clients of the account) and then the chain. Call it once every call
// made through the Client, or through the database and container clients
// made from it, has returned: a call still in flight finishes its current
// attempt but is not resent, and fails with an error wrapping
// transport.ErrClosed, as does every later call. Close the Client before
// anything it uses, such as a Chain.Base of your own. Close is idempotent.
func (c *Client) Close() error {
	c.Client.Close()
	return c.chain.Close()
}

// Status returns a snapshot of the chain for operators (see
// transport.Transport.Status): the account as the chain knows it, the last
// look-up's error (a 401 there after a key rotation the Client missed), and
// the circuits that are not closed. It does no I/O.
func (c *Client) Status() transport.Status {
	return c.chain.Status()
}
