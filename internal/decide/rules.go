package decide

import (
	"net/http"
	"time"
)

// rule returns what the rules say after an attempt of a read (write false)
// or a write whose outcome is o. resp is the attempt's response, or nil
// after a transport error. moves reports a write whose partition key range
// may move to a region the call has not tried (see
// Situation.PartitionFailover). Each decision that retries counts against
// the call's limits.
func (c *Call) rule(write bool, o Outcome, resp *http.Response, moves bool) Decision {
	stop := Decision{Reason: o}
	switch o {
	case throttled:
		return c.after429(resp)
	case retryWith:
		return c.after449(c.floor(resp))
	case unavailable:
		if write {
			return c.unavailability(o, NextRegion, false, c.floor(resp))
		}
		return c.unavailability(o, NextRegion, true, c.floor(resp))
	case NeverSent:
		return c.unavailability(o, NextRegion, true, 0)
	case Ambiguous:
		if write {
			return stop
		}
		return c.unavailability(o, NextRegion, true, 0)
	case serverError:
		if write {
			return stop
		}
		d := c.once(o, &c.serverErrorRetried)
		d.otherRegionOnly = d.Retry
		return d
	case requestTimeout:
		if write {
			return stop
		}
		return c.once(o, &c.timeoutRetried)
	case WriteForbidden:
		if !write {
			return stop
		}
		if moves && !c.failingOver {
			// The range's writes moved without the account: the next
			// region, at once. Once every region refused, the account.
			return Decision{Retry: true, Route: NextRegion, otherRegionOnly: true, Reason: o}
		}
		return c.failover(o)
	case regionNotFound:
		return c.failover(o)
	case sessionNotAvailable:
		if write || c.sessionRetries >= max(c.p.opts.MaxSessionRetries, 0) {
			return stop
		}
		c.sessionRetries++
		return Decision{Retry: true, Route: WriteRegion, Reason: o}
	case circuitOpen:
		if c.circuitRetries >= max(c.p.opts.MaxUnavailableRetries, 0) {
			return stop
		}
		c.circuitRetries++
		return Decision{Retry: true, Route: NextRegion, otherRegionOnly: true, Reason: o}
	default: // OK, Final, canceled, and values that are not outcomes
		return stop
	}
}

// unavailability decides a budgeted retry after o. If firstAtOnce, the
// call's first unavailability retry goes without waiting for backoff; the
// others wait the unavailability backoff. No wait is below floor.
func (c *Call) unavailability(o Outcome, route Route, firstAtOnce bool, floor time.Duration) Decision {
	stop := Decision{Reason: o}
	if c.unavailableRetries >= max(c.p.opts.MaxUnavailableRetries, 0) {
		return stop
	}
	wait := floor
	if !firstAtOnce || c.unavailableRetries > 0 {
		if c.p.opts.UnavailableInitial < 0 || c.p.opts.UnavailableMax < 0 {
			return stop
		}
		if c.backoff503 == nil {
			c.backoff503 = c.newBackOff(c.p.opts.UnavailableInitial, c.p.opts.UnavailableMax)
		}
		wait = max(c.jittered(min(c.backoff503.NextBackOff(), c.p.opts.UnavailableMax)), floor)
	}
	c.unavailableRetries++
	return Decision{Retry: true, Wait: wait, Route: route, budgeted: true, Reason: o}
}

// once decides the single, immediate, budgeted retry of a read after a 500
// or a 408.
func (c *Call) once(o Outcome, done *bool) Decision {
	if *done || c.unavailableRetries >= max(c.p.opts.MaxUnavailableRetries, 0) {
		return Decision{Reason: o}
	}
	*done = true
	c.unavailableRetries++
	return Decision{Retry: true, Route: NextRegion, budgeted: true, Reason: o}
}

func (c *Call) failover(o Outcome) Decision {
	stop := Decision{Reason: o}
	if c.p.opts.MaxFailoverWait < 0 {
		return stop
	}
	now := c.p.now()
	if !c.failingOver {
		c.failingOver, c.failoverStart = true, now
		return Decision{Retry: true, Route: Refresh, Reason: o}
	}
	if c.p.opts.FailoverInterval < 0 {
		return stop
	}
	elapsed := max(now.Sub(c.failoverStart), c.failoverWaited)
	if elapsed > c.p.opts.MaxFailoverWait || c.p.opts.FailoverInterval > c.p.opts.MaxFailoverWait-elapsed {
		return stop
	}
	c.failoverWaited = elapsed + c.p.opts.FailoverInterval
	return Decision{Retry: true, Wait: c.p.opts.FailoverInterval, Route: Refresh, Reason: o}
}
