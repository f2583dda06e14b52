package account

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/region"
)

// maxAccountBytes bounds a DatabaseAccount response body.
const maxAccountBytes = 1 << 20

// A StatusError reports a DatabaseAccount look-up answered with a status
// other than 200 OK.
type StatusError struct {
	Code      int // the HTTP status code
	SubStatus int // the x-ms-substatus header, 0 when absent or malformed
}

// Error implements error. The message names the status only.
func (e *StatusError) Error() string {
	return fmt.Sprintf("DatabaseAccount look-up answered %d %s (substatus %d)",
		e.Code, http.StatusText(e.Code), e.SubStatus)
}

// fetchFrom reads the DatabaseAccount from the endpoint from, an endpoint
// of the account that inAccount accepts: a GET of its root path ("/", on
// from's scheme and host), signed by cred with now as x-ms-date (resource
// type and link are empty), sent through rt. The response is validated by
// parseAccount for the account endpoint account.
//
// A status other than 200 gives a *StatusError; a body over 1 MiB gives an
// error wrapping ErrBadAccount; when ctx ends first the error wraps
// ctx.Err(). Errors never contain the Authorization value. The response
// body is always closed, after draining (wire.Drain) at most 64 KiB of a
// discarded one for at most 100 ms.
func fetchFrom(ctx context.Context, rt http.RoundTripper, from, account *url.URL, cred region.Credential, now time.Time) (*Account, error) {
	// The request's own context: cancelling it ends a drain that stalls.
	rctx, abort := context.WithCancel(ctx)
	defer abort()
	root := &url.URL{Scheme: from.Scheme, Host: from.Host, Path: "/"}
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, root.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("building the DatabaseAccount look-up: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if err := Sign(ctx, req, cred, now); err != nil {
		return nil, fmt.Errorf("DatabaseAccount look-up: %w", err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, lookupError(ctx, err)
	}
	defer wire.Drain(resp, wire.MaxDrain, abort)
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Code: resp.StatusCode, SubStatus: wire.SubStatus(resp.Header)}
	}
	if resp.ContentLength > maxAccountBytes {
		return nil, fmt.Errorf("%w: body of %d bytes exceeds %d", region.ErrBadAccount, resp.ContentLength, maxAccountBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAccountBytes+1))
	if err != nil {
		return nil, lookupError(ctx, err)
	}
	if len(body) > maxAccountBytes {
		return nil, fmt.Errorf("%w: body exceeds %d bytes", region.ErrBadAccount, maxAccountBytes)
	}
	return parseAccount(body, account)
}

// lookupError wraps a transport or body-read error, making sure it wraps
// ctx.Err() when the context has ended.
func lookupError(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("DatabaseAccount look-up: %w (%w)", cerr, err)
	}
	return fmt.Errorf("DatabaseAccount look-up: %w", err)
}
