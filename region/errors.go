package region

import "errors"

// ErrBadAccount reports a DatabaseAccount document that is not JSON, has
// the wrong shape or exceeds the chain's bounds (1 MiB, 64 regions, …). The
// chain keeps the account it had, and a call that needed the account
// returns an error wrapping this one.
var ErrBadAccount = errors.New("region: invalid DatabaseAccount document")

// ErrNoWriteRegion reports an account with no usable writable location.
var ErrNoWriteRegion = errors.New("region: account has no write region")
