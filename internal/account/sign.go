package account

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/region"
)

// Sign sets x-ms-date (from now), x-ms-version (when absent) and
// Authorization on req, computed by cred from req's method and path.
// It modifies req's headers: callers sign their own copy.
func Sign(ctx context.Context, req *http.Request, cred region.Credential, now time.Time) error {
	rtype, link := wire.ResourceOf(req.URL.Path)
	return signAs(ctx, req, rtype, link, cred, now)
}

// signAs is Sign for a request whose path was already read: rtype and link
// are its resource type and link (see wire.Resource).
func signAs(ctx context.Context, req *http.Request, rtype, link string, cred region.Credential, now time.Time) error {
	date := now.UTC().Format(http.TimeFormat)
	auth, err := cred.Authorization(ctx, req.Method, rtype, link, date)
	if err != nil {
		return fmt.Errorf("getting the Authorization header: %w", err)
	}
	req.Header.Set(wire.HeaderDate, date)
	if req.Header.Get(wire.HeaderVersion) == "" {
		req.Header.Set(wire.HeaderVersion, wire.APIVersion)
	}
	req.Header.Set("Authorization", auth)
	return nil
}
