package decide

import (
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/policy"
)

// breaker is a gobreaker set up the way the transport sets up one per
// endpoint, recording its state changes.
type breaker struct {
	cb      *gobreaker.TwoStepCircuitBreaker[any]
	changes []string
}

func newBreaker(o policy.BreakerOptions) *breaker {
	b := &breaker{}
	b.cb = gobreaker.NewTwoStepCircuitBreaker[any](BreakerSettings(o, "east", func(name string, from, to gobreaker.State) {
		b.changes = append(b.changes, fmt.Sprintf("%s %s→%s", name, from, to))
	}))
	return b
}

// attempt runs one attempt with outcome o through the breaker; it returns
// the breaker's refusal, if any.
func (b *breaker) attempt(o Outcome) error {
	done, err := b.cb.Allow()
	if err != nil {
		return err
	}
	done(breakerResult(o))
	return nil
}

func (b *breaker) run(t *testing.T, outcomes ...Outcome) {
	t.Helper()
	for _, o := range outcomes {
		require.NoError(t, b.attempt(o), "attempt %s", o)
	}
}

func repeat(o Outcome, n int) []Outcome {
	s := make([]Outcome, n)
	for i := range s {
		s[i] = o
	}
	return s
}

func TestBreakerTripsAfterConsecutiveFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(policy.BreakerOptions{})
		b.run(t, repeat(serverError, 4)...)
		assert.Equal(t, gobreaker.StateClosed, b.cb.State())
		b.run(t, serverError)
		assert.Equal(t, gobreaker.StateOpen, b.cb.State())
		assert.ErrorIs(t, b.attempt(OK), gobreaker.ErrOpenState)
		assert.Equal(t, []string{"east closed→open"}, b.changes)
	})
}

func TestBreakerFailureKinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(policy.BreakerOptions{})
		b.run(t, NeverSent, serverError, NeverSent, serverError)
		b.run(t, Ambiguous, unavailable) // excluded: they neither count nor break the run
		assert.Equal(t, gobreaker.StateClosed, b.cb.State())
		b.run(t, NeverSent)
		assert.Equal(t, gobreaker.StateOpen, b.cb.State())
	})
}

func TestBreakerSuccessResetsTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(policy.BreakerOptions{FailureRatio: -1}) // the consecutive rule alone
		for _, ok := range []Outcome{OK, Final, requestTimeout, retryWith, WriteForbidden, sessionNotAvailable} {
			b.run(t, repeat(serverError, 4)...)
			b.run(t, ok)
		}
		assert.Equal(t, gobreaker.StateClosed, b.cb.State())
	})
}

func TestBreakerExcludedOutcomesNeitherCountNorReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(policy.BreakerOptions{})
		b.run(t, repeat(serverError, 4)...)
		b.run(t, repeat(throttled, 50)...)
		b.run(t, canceled, circuitOpen)
		assert.Equal(t, gobreaker.StateClosed, b.cb.State())
		b.run(t, serverError)
		assert.Equal(t, gobreaker.StateOpen, b.cb.State())
	})
}

func TestBreakerCustomConsecutiveFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(policy.BreakerOptions{ConsecutiveFailures: 2})
		b.run(t, serverError, serverError)
		assert.Equal(t, gobreaker.StateOpen, b.cb.State())
	})
}

func TestBreakerFailureRatio(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(policy.BreakerOptions{ConsecutiveFailures: -1})
		b.run(t, repeat(throttled, 30)...) // excluded: not requests of the ratio rule
		for i := range 20 {
			assert.Equal(t, gobreaker.StateClosed, b.cb.State(), "after %d outcomes", i)
			if i%2 == 0 {
				b.run(t, OK)
			} else {
				b.run(t, serverError)
			}
		}
		assert.Equal(t, gobreaker.StateOpen, b.cb.State(), "10 failures in 20")
	})
}

func TestBreakerRatioBelowThreshold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(policy.BreakerOptions{ConsecutiveFailures: -1})
		for range 30 {
			b.run(t, OK, OK, serverError)
		}
		assert.Equal(t, gobreaker.StateClosed, b.cb.State())
	})
}

func TestBreakerRulesOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(policy.BreakerOptions{ConsecutiveFailures: -1, FailureRatio: -1})
		b.run(t, repeat(serverError, 100)...)
		assert.Equal(t, gobreaker.StateClosed, b.cb.State())

		b = newBreaker(policy.BreakerOptions{ConsecutiveFailures: -1, MinRequests: -1})
		b.run(t, OK, serverError)
		assert.Equal(t, gobreaker.StateOpen, b.cb.State(), "no minimum: 1 failure in 2")
	})
}

func TestBreakerHalfOpens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(policy.BreakerOptions{})
		b.run(t, repeat(serverError, 5)...)
		time.Sleep(30*time.Second - time.Millisecond)
		assert.ErrorIs(t, b.attempt(OK), gobreaker.ErrOpenState, "still open before OpenTimeout")
		time.Sleep(time.Millisecond + time.Nanosecond)

		done, err := b.cb.Allow()
		require.NoError(t, err, "one probe")
		_, err = b.cb.Allow()
		assert.ErrorIs(t, err, gobreaker.ErrTooManyRequests, "only one probe")
		done(breakerResult(OK))
		assert.Equal(t, gobreaker.StateClosed, b.cb.State())
		assert.Equal(t, []string{"east closed→open", "east open→half-open", "east half-open→closed"}, b.changes)
	})
}

func TestBreakerFailedProbeReopens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(policy.BreakerOptions{OpenTimeout: time.Minute, HalfOpenProbes: 2})
		b.run(t, repeat(NeverSent, 5)...)
		time.Sleep(time.Minute + time.Nanosecond)
		b.run(t, OK)
		assert.Equal(t, gobreaker.StateHalfOpen, b.cb.State(), "two successes needed")
		b.run(t, serverError)
		assert.Equal(t, gobreaker.StateOpen, b.cb.State())
	})
}

func TestBreakerNoOpenPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(policy.BreakerOptions{OpenTimeout: -1})
		b.run(t, repeat(serverError, 5)...)
		assert.Equal(t, []string{"east closed→open"}, b.changes)
		time.Sleep(time.Microsecond)
		assert.Equal(t, gobreaker.StateHalfOpen, b.cb.State())
	})
}

func TestBreakerWindowRolls(t *testing.T) {
	// Six old successes, then 3 failures in 4: trips only once the
	// successes have left the window.
	sequence := func(t *testing.T, o policy.BreakerOptions, gap time.Duration) gobreaker.State {
		b := newBreaker(o)
		b.run(t, repeat(OK, 6)...)
		time.Sleep(gap)
		b.run(t, serverError, serverError, OK, serverError)
		return b.cb.State()
	}
	o := policy.BreakerOptions{ConsecutiveFailures: -1, MinRequests: 4}
	synctest.Test(t, func(t *testing.T) {
		assert.Equal(t, gobreaker.StateClosed, sequence(t, o, 5*time.Second), "inside the window: 3 in 10")
	})
	synctest.Test(t, func(t *testing.T) {
		assert.Equal(t, gobreaker.StateOpen, sequence(t, o, 11*time.Second), "outside the window: 3 in 4")
	})
	synctest.Test(t, func(t *testing.T) {
		o := o
		o.Interval = -1
		assert.Equal(t, gobreaker.StateClosed, sequence(t, o, time.Hour), "no window: counts kept")
	})
}

func TestBreakerSettings(t *testing.T) {
	s := BreakerSettings(policy.BreakerOptions{}, "west", nil)
	assert.Equal(t, "west", s.Name)
	assert.Equal(t, uint32(1), s.MaxRequests)
	assert.Equal(t, 10*time.Second, s.Interval)
	assert.Equal(t, time.Second, s.BucketPeriod, "a rolling window of ten steps")
	assert.Equal(t, 30*time.Second, s.Timeout)
	assert.Nil(t, s.OnStateChange)
	assert.True(t, s.IsExcluded(fmt.Errorf("wrapped: %w", errExcluded)))
	assert.False(t, s.IsExcluded(errors.New("boom")))
	assert.True(t, s.IsSuccessful(nil))
	assert.False(t, s.IsSuccessful(errors.New("boom")))

	s = BreakerSettings(policy.BreakerOptions{HalfOpenProbes: -1, Interval: -1, OpenTimeout: 5 * time.Second}, "x", nil)
	assert.Equal(t, uint32(1), s.MaxRequests)
	assert.Equal(t, time.Duration(0), s.Interval)
	assert.Equal(t, 5*time.Second, s.Timeout)

	want := policy.BreakerOptions{ConsecutiveFailures: 5, FailureRatio: 0.5, MinRequests: 20, Interval: 10 * time.Second, OpenTimeout: 30 * time.Second, HalfOpenProbes: 1}
	assert.Equal(t, want, breakerDefaults(policy.BreakerOptions{}))
}

func TestBreakerVerdict(t *testing.T) {
	type verdict struct{ failure, excluded bool }
	var (
		success  = verdict{}
		failure  = verdict{failure: true}
		excluded = verdict{excluded: true}
	)
	want := map[Outcome]verdict{
		OK:                  success,
		Final:               success,
		throttled:           excluded,
		retryWith:           success,
		unavailable:         excluded,
		serverError:         failure,
		requestTimeout:      success,
		WriteForbidden:      success,
		regionNotFound:      success,
		sessionNotAvailable: success,
		NeverSent:           failure,
		Ambiguous:           excluded,
		canceled:            excluded,
		circuitOpen:         excluded,
		Outcome(99):         excluded,
	}
	for o, v := range want {
		f, e := breakerVerdict(o)
		assert.Equal(t, v, verdict{f, e}, "%s", o)

		err := breakerResult(o)
		switch v {
		case success:
			assert.NoError(t, err, "%s", o)
		case excluded:
			assert.ErrorIs(t, err, errExcluded, "%s", o)
		case failure:
			require.Error(t, err, "%s", o)
			assert.NotErrorIs(t, err, errExcluded, "%s", o)
		}
	}
}
