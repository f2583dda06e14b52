package account

import "context"

// ForceRefresh forces a look-up of r's account and waits for it, for the
// tests outside the package.
func ForceRefresh(ctx context.Context, r *Router) error { return r.refresh(ctx, r.epoch()) }

// Ensure loads r's account if it has never been loaded.
func Ensure(ctx context.Context, r *Router) error { return r.ensure(ctx) }
