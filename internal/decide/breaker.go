package decide

import (
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/sony/gobreaker/v2"
)

const (
	defaultConsecutiveFailures = 5
	defaultFailureRatio        = 0.5
	defaultMinRequests         = 20
	defaultBreakerInterval     = 10 * time.Second
	defaultOpenTimeout         = 30 * time.Second
	defaultHalfOpenProbes      = 1
	breakerBuckets             = 10
)

// errExcluded marks an outcome that is nobody's fault (the caller gave up,
// the service throttled): pass an error wrapping it to a breaker's done
// callback and the attempt counts neither as a success nor as a failure.
var errExcluded = errors.New("policy: outcome excluded from breaker counts")

// errBreakerFailure marks an outcome that counts as a failure.
var errBreakerFailure = errors.New("policy: outcome counts as a breaker failure")

// breakerDefaults returns a copy of o in which zero fields hold their
// defaults. Negative fields are kept.
func breakerDefaults(o policy.BreakerOptions) policy.BreakerOptions {
	orDefault(&o.ConsecutiveFailures, defaultConsecutiveFailures)
	orDefault(&o.FailureRatio, defaultFailureRatio)
	orDefault(&o.MinRequests, defaultMinRequests)
	orDefault(&o.Interval, defaultBreakerInterval)
	orDefault(&o.OpenTimeout, defaultOpenTimeout)
	orDefault(&o.HalfOpenProbes, defaultHalfOpenProbes)
	return o
}

// BreakerSettings returns gobreaker settings for the endpoint called name. With
// them a breaker counts done(nil) as a success, done(err) with err
// wrapping the error BreakerResult gives an excluded outcome as neither,
// and any other error as a failure. onChange, if not nil, is called on every state change,
// under the breaker's lock: it must only record, never call the breaker.
func BreakerSettings(o policy.BreakerOptions, name string, onChange func(name string, from, to gobreaker.State)) gobreaker.Settings {
	o = breakerDefaults(o)
	s := gobreaker.Settings{
		Name:          name,
		MaxRequests:   uint32(min(int64(max(o.HalfOpenProbes, 1)), math.MaxUint32)),
		ReadyToTrip:   func(c gobreaker.Counts) bool { return readyToTrip(o, c) },
		OnStateChange: onChange,
		IsSuccessful:  func(err error) bool { return err == nil },
		IsExcluded:    func(err error) bool { return errors.Is(err, errExcluded) },
	}
	if o.Interval > 0 {
		s.Interval = o.Interval
		s.BucketPeriod = o.Interval / breakerBuckets // zero (a fixed window) for tiny intervals
	}
	if o.OpenTimeout > 0 {
		s.Timeout = o.OpenTimeout
	} else {
		s.Timeout = time.Nanosecond // gobreaker reads zero as its own default
	}
	return s
}

// readyToTrip applies the two trip rules of o, which has its defaults.
func readyToTrip(o policy.BreakerOptions, c gobreaker.Counts) bool {
	if o.ConsecutiveFailures >= 0 && uint64(c.ConsecutiveFailures) >= uint64(o.ConsecutiveFailures) {
		return true
	}
	counted := uint64(c.TotalSuccesses) + uint64(c.TotalFailures)
	if o.FailureRatio < 0 || counted == 0 || counted < uint64(max(o.MinRequests, 0)) {
		return false
	}
	return float64(c.TotalFailures)/float64(counted) >= o.FailureRatio
}

// breakerVerdict says how an attempt with outcome o counts toward its
// endpoint's breaker. Failures are what a broken endpoint does: 500 and
// NeverSent transport errors. Excluded are the outcomes that say nothing
// certain about the endpoint: throttled (the caller's own throughput),
// unavailable (the service asks to be retried, and the retry loop already
// moves reads away and backs writes off; an open circuit would turn a
// write's safe retry into an error), Ambiguous (the request left, so the
// fault may be the network's or the caller's timeout), canceled (the caller
// gave up), circuitOpen (nothing was sent) and values that are not
// outcomes. Every other answer, 2xx to 4xx including 408, 449 and the
// failover sub-statuses, shows a live endpoint and is a success.
func breakerVerdict(o Outcome) (failure, excluded bool) {
	switch o {
	case serverError, NeverSent:
		return true, false
	case OK, Final, retryWith, requestTimeout, WriteForbidden, regionNotFound, sessionNotAvailable:
		return false, false
	default: // throttled, unavailable, Ambiguous, canceled, circuitOpen, unknown
		return false, true
	}
}

// BreakerResult classifies an attempt's answer and returns the error to
// pass to a breaker's done callback for it (see breakerVerdict): nil for a
// success, one error for every excluded outcome, another for a failure.
//
// A 500 that names the partition key range it came from
// (x-ms-documentdb-partitionkeyrangeid) is that range's failure, not the
// endpoint's (see PartitionVerdict): it is excluded, so that one range's
// failures never open the circuit of a whole region.
func BreakerResult(resp *http.Response, err error) error {
	o := classify(resp, err)
	if o == serverError && resp != nil && len(resp.Header[wire.HeaderPartitionKeyRangeID]) > 0 {
		return errExcluded
	}
	return breakerResult(o)
}

func breakerResult(o Outcome) error {
	switch failure, excluded := breakerVerdict(o); {
	case excluded:
		return errExcluded // static: no allocation per attempt
	case failure:
		return errBreakerFailure
	default:
		return nil
	}
}
