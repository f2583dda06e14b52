package decide

import (
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
)

// Defaults of policy.RetryOptions.
const (
	defaultMaxThrottleRetries    = 9
	defaultMaxThrottleWait       = 30 * time.Second
	defaultRetryAfter            = 5 * time.Second
	defaultMaxRetryAfter         = 30 * time.Second
	defaultRetryWithInitial      = 10 * time.Millisecond
	defaultRetryWithMax          = time.Second
	defaultMaxRetryWithWait      = 30 * time.Second
	defaultUnavailableInitial    = 100 * time.Millisecond
	defaultUnavailableMax        = 2 * time.Second
	defaultMaxUnavailableRetries = 3
	defaultMaxFailoverWait       = 60 * time.Second
	defaultFailoverInterval      = time.Second
	defaultMaxSessionRetries     = 2
	defaultMaxBufferedBody       = 2<<20 + 64<<10
	defaultMaxDrain              = wire.MaxDrain
)

// retryDefaults returns a copy of o in which every zero field, Budget's
// included, holds its default. Negative fields are kept.
func retryDefaults(o policy.RetryOptions) policy.RetryOptions {
	orDefault(&o.MaxThrottleRetries, defaultMaxThrottleRetries)
	orDefault(&o.MaxThrottleWait, defaultMaxThrottleWait)
	orDefault(&o.DefaultRetryAfter, defaultRetryAfter)
	orDefault(&o.MaxRetryAfter, defaultMaxRetryAfter)
	orDefault(&o.RetryWithInitial, defaultRetryWithInitial)
	orDefault(&o.RetryWithMax, defaultRetryWithMax)
	orDefault(&o.MaxRetryWithWait, defaultMaxRetryWithWait)
	orDefault(&o.UnavailableInitial, defaultUnavailableInitial)
	orDefault(&o.UnavailableMax, defaultUnavailableMax)
	orDefault(&o.MaxUnavailableRetries, defaultMaxUnavailableRetries)
	orDefault(&o.MaxFailoverWait, defaultMaxFailoverWait)
	orDefault(&o.FailoverInterval, defaultFailoverInterval)
	orDefault(&o.MaxSessionRetries, defaultMaxSessionRetries)
	orDefault(&o.MaxBufferedBody, defaultMaxBufferedBody)
	orDefault(&o.MaxDrain, defaultMaxDrain)
	o.Budget = budgetDefaults(o.Budget)
	return o
}

// orDefault sets *p to d if *p is zero.
func orDefault[T comparable](p *T, d T) {
	var zero T
	if *p == zero {
		*p = d
	}
}
