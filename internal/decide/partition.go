package decide

import (
	"errors"
	"net/http"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
)

// Defaults of policy.PartitionOptions.
const (
	defaultPartitionFailures    = 10
	defaultPartitionOpenTimeout = 5 * time.Second
	defaultPartitionMaxRanges   = 100_000
)

// PartitionDefaults returns o with zero (and, for OpenTimeout, negative)
// fields set to their defaults.
func PartitionDefaults(o policy.PartitionOptions) policy.PartitionOptions {
	orDefault(&o.ConsecutiveFailures, defaultPartitionFailures)
	if o.OpenTimeout <= 0 {
		o.OpenTimeout = defaultPartitionOpenTimeout
	}
	if o.MaxRanges <= 0 {
		o.MaxRanges = defaultPartitionMaxRanges
	}
	return o
}

// Sub-statuses of 410 that say the request went to the wrong place, not
// that the partition failed: the client's routing must be refreshed.
const (
	subStatusNameCacheStale     = 1000
	subStatusRangeGone          = 1002
	subStatusCompletingSplit    = 1007
	subStatusCompletingMigrate  = 1008
	subStatusSystemResourceBusy = 3092
)

// PartitionVerdict says how an attempt's answer (resp, or err) counts
// toward the circuit of its partition key range in the region that gave
// it (see policy.PartitionOptions): failure, or success when counted;
// neither when not counted.
func PartitionVerdict(resp *http.Response, err error) (failure, counted bool) {
	if err != nil {
		var open circuitOpener
		switch {
		case errors.As(err, &open), errors.Is(err, errExcluded):
			return false, false
		}
		left := classifyError(err) == Ambiguous
		return left, left
	}
	if resp == nil {
		return false, false
	}
	// The sub-status is read only for the answers it changes: a success
	// pays nothing for it.
	switch resp.StatusCode {
	case http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusRequestTimeout:
		return true, true
	case http.StatusGone:
		switch wire.SubStatus(resp.Header) {
		case subStatusNameCacheStale, subStatusRangeGone, subStatusCompletingSplit, subStatusCompletingMigrate:
			return false, false
		}
		return true, true
	case http.StatusTooManyRequests:
		busy := wire.SubStatus(resp.Header) == subStatusSystemResourceBusy
		return busy, busy
	}
	return false, true
}

// RangeGone reports an answer that says the request's partition key range
// was split or moved (410 with sub-status 1002): the container's ranges
// must be read again.
func RangeGone(resp *http.Response) bool {
	return resp != nil && resp.StatusCode == http.StatusGone && wire.SubStatus(resp.Header) == subStatusRangeGone
}
