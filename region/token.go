package region

import (
	"context"
	"errors"
	"fmt"
	"net/url"
)

// ErrEmptyToken reports a TokenFunc that returned an empty token.
var ErrEmptyToken = errors.New("region: empty token")

// TokenFunc is a Credential for Microsoft Entra ID: it returns an access
// token for the account's data plane (scope "https://{account}/.default"
// or "https://cosmos.azure.com/.default"), typically from an
// azcore.TokenCredential that caches and renews it. It is safe for
// concurrent use when the function is.
type TokenFunc func(ctx context.Context) (string, error)

// Authorization implements Credential. Entra ID tokens do not depend on
// the verb, resource or date.
func (f TokenFunc) Authorization(ctx context.Context, _, _, _, _ string) (string, error) {
	tok, err := f(ctx)
	if err != nil {
		return "", fmt.Errorf("region: getting a token: %w", err)
	}
	if tok == "" {
		return "", ErrEmptyToken
	}
	return url.QueryEscape("type=aad&ver=1.0&sig=" + tok), nil
}
