package azcosmosrt

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/cosmosrt/cosmosrt/region"
)

// placeholderKey is the key azcosmos is built with: its authorization
// policy cannot be removed, so it signs with a key that is no secret and
// that chainSigns then removes. A request signed with it would get 401.
const placeholderKey = "YXpjb3Ntb3NydCBwbGFjZWhvbGRlciBrZXk6IHRoZSBjaGFpbiBzaWducw==" // "azcosmosrt placeholder key: the chain signs"

// chainSigns is an azcore per-retry policy that runs after azcosmos's own
// authorization policy and removes the Authorization header it set, so that
// the chain signs the request, attempt by attempt, with the credential the
// Client was built with.
type chainSigns struct{}

func (chainSigns) Do(req *azpolicy.Request) (*http.Response, error) {
	req.Raw().Header.Del("Authorization")
	return req.Next()
}

// entraScope returns the scope azcosmos v1.5.0 asks Entra ID tokens for:
// the Cosmos DB audience of c, if set, else the endpoint's origin.
func entraScope(endpoint *url.URL, c cloud.Configuration) string {
	if svc, ok := c.Services[azcosmos.ServiceName]; ok && svc.Audience != "" {
		return svc.Audience + "/.default"
	}
	return endpoint.Scheme + "://" + endpoint.Hostname() + "/.default"
}

// refreshBackoff is how long an early refresh that failed holds off the
// next one, while the token in hand is still valid (azcore's value).
const refreshBackoff = 30 * time.Second

// entraToken keeps the last token an azcore.TokenCredential returned and
// asks for a new one when it is due, as azcore's bearer-token policies do:
// an SDK client is expected to cache tokens, and some credentials (the
// Azure CLI's) do not. One call at a time asks the credential; while it
// does, calls with a valid token use it and the others wait, each for as
// long as its context allows. It is safe for concurrent use.
type entraToken struct {
	cred azcore.TokenCredential
	opts azpolicy.TokenRequestOptions

	mu       sync.Mutex         // guards the fields below
	tok      azcore.AccessToken // Token "" until the first success
	fetching chan struct{}      // closed when the request in flight ends; nil when none
	lastTry  time.Time          // when the last request started
}

// Format implements fmt.Formatter so that printing an entraToken, with
// any verb, never shows the token it holds.
func (e *entraToken) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "azcosmosrt.entraToken(redacted)")
}

func newEntraToken(cred azcore.TokenCredential, scope string) *entraToken {
	return &entraToken{cred: cred, opts: azpolicy.TokenRequestOptions{Scopes: []string{scope}}}
}

// credential returns the chain's credential for the token.
func (e *entraToken) credential() region.Credential { return region.TokenFunc(e.get) }

// get returns a valid token, asking the credential for one when the token
// in hand has expired or is due for refresh.
func (e *entraToken) get(ctx context.Context) (string, error) {
	for {
		e.mu.Lock()
		now := time.Now()
		valid := e.tok.Token != "" && now.Before(e.tok.ExpiresOn)
		if valid && (!e.due(now) || e.fetching != nil || now.Sub(e.lastTry) < refreshBackoff) {
			tok := e.tok.Token
			e.mu.Unlock()
			return tok, nil
		}
		if !valid && e.fetching != nil {
			wait := e.fetching
			e.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return "", fmt.Errorf("azcosmosrt: waiting for an Entra ID token: %w", ctx.Err())
			}
		}
		done := make(chan struct{})
		e.fetching, e.lastTry = done, now
		old := e.tok.Token
		e.mu.Unlock()

		tk, err := e.cred.GetToken(ctx, e.opts)

		e.mu.Lock()
		if err == nil {
			e.tok = tk
		}
		e.fetching = nil
		close(done)
		e.mu.Unlock()
		switch {
		case err == nil:
			return tk.Token, nil
		case valid:
			return old, nil // an early refresh failed; the token in hand still works
		default:
			return "", fmt.Errorf("azcosmosrt: getting an Entra ID token: %w", err)
		}
	}
}

// due reports whether the token should be refreshed although still valid:
// from its RefreshOn when the credential set one, else from 5 minutes
// before it expires.
func (e *entraToken) due(now time.Time) bool {
	if !e.tok.RefreshOn.IsZero() {
		return !now.Before(e.tok.RefreshOn)
	}
	return !now.Before(e.tok.ExpiresOn.Add(-5 * time.Minute))
}
