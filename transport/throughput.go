package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/throttle"
	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/region"
)

// ErrThroughputLimit is wrapped by the error of a call its throughput
// group could not serve in time (see policy.ThroughputGroup): its turn for
// its range's request units came after its deadline, too many calls of
// the group waited for the range, or the group's target could not be
// known. Nothing was sent. The error is a *ThroughputError; it is not a
// 429, and azcore's retry policy does not resend it.
var ErrThroughputLimit = errors.New("transport: the call's throughput group could not serve it in time")

// A ThroughputError is the error of a call that its throughput group
// could not serve (see ErrThroughputLimit), or that names a group the
// transport does not have.
type ThroughputError struct {
	// Group is the call's throughput group.
	Group string
	// Container is the container the call is about ("dbs/{db}/colls/{coll}"),
	// and Range its partition key range, "" when not known.
	Container, Range string
	// Wait is how long the call would have waited for its turn; 0 when it
	// was refused for another reason.
	Wait time.Duration
	// Reason says why, e.g. "its turn comes after its deadline".
	Reason string

	cause error
}

func (e *ThroughputError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "transport: throughput group %q", e.Group)
	if e.Container != "" {
		b.WriteString(" in " + e.Container)
		if e.Range != "" {
			b.WriteString(" range " + e.Range)
		}
	}
	b.WriteString(": " + e.Reason)
	if e.Wait > 0 {
		b.WriteString(" (it would wait " + e.Wait.Round(time.Millisecond).String() + ")")
	}
	if e.cause != nil {
		b.WriteString(": " + e.cause.Error())
	}
	return b.String()
}

// Is reports whether target is ErrThroughputLimit; an unknown group is not.
func (e *ThroughputError) Is(target error) bool {
	return target == ErrThroughputLimit && e.Reason != reasonUnknownGroup
}

// Unwrap returns why the group's target could not be known, if that is
// why the call was refused.
func (e *ThroughputError) Unwrap() error { return e.cause }

// NonRetriable marks the error as final for azcore's retry policy.
func (e *ThroughputError) NonRetriable() {}

// ErrorType names the end for telemetry and diagnostics (error.type
// "throughput_limit").
func (e *ThroughputError) ErrorType() string { return "throughput_limit" }

const reasonUnknownGroup = "no such group in Options.Throughput.Groups"

// serveMargin is the least time a group's call must have left when its
// turn comes to be sent (the throttle refuses turns later than that).
const serveMargin = 25 * time.Millisecond

// pacing is what a call knows of its throughput control: its group and
// priority.
type pacing struct {
	group   *throttle.Group // nil: none
	low     bool            // the call's priority is Low
	header  bool            // the chain adds x-ms-cosmos-priority-level: Low to its attempts
	checked bool            // low is known; else it is the request's own header's (see lowPriority)
}

// lowPriority reports whether call c is of Low priority: its options' or
// group's, else what its request's own priority header says, read the
// first time it matters (a call nothing paces never reads it).
func (c *call) lowPriority() bool {
	if !c.pacing.checked {
		v := wire.Values(c.req.Header, wire.HeaderPriorityLevel)
		c.pacing.low = len(v) > 0 && strings.EqualFold(strings.TrimSpace(v[0]), "low")
		c.pacing.checked = true
	}
	return c.pacing.low
}

// pacingOf returns the pacing of call c with options ro; an error for a
// group the transport does not have. The priority the request's own
// x-ms-cosmos-priority-level header says wins over the options'.
func (r *Retry) pacingOf(c *call, ro RequestOptions) (pacing, error) {
	var p pacing
	if r.throttle == nil {
		return p, nil
	}
	prio := ro.Priority
	if ro.ThroughputGroup != "" {
		g, ok := r.throttle.Group(ro.ThroughputGroup)
		if !ok {
			return p, &ThroughputError{Group: ro.ThroughputGroup, Reason: reasonUnknownGroup}
		}
		p.group = g
		if prio == 0 && g.Low() {
			prio = policy.PriorityLow
		}
	}
	if p.group == nil && prio == 0 {
		return p, nil // the request's own header, if any, decides (see lowPriority)
	}
	p.checked = true
	if v := wire.Values(c.req.Header, wire.HeaderPriorityLevel); len(v) > 0 {
		p.low = strings.EqualFold(strings.TrimSpace(v[0]), "low")
		return p, nil
	}
	p.low = prio == policy.PriorityLow
	p.header = p.low
	return p, nil
}

// kindOf is the kind of operation whose last charge estimates the call's.
func kindOf(d *wire.Request) throttle.Kind {
	switch {
	case d.Batch:
		return throttle.Batch
	case d.Query || d.Feed:
		return throttle.Query
	case d.Write:
		return throttle.Write
	}
	return throttle.Read
}

// pace waits for call c's next attempt's turn by its throughput group and
// the holds of ranges the service throttled, having reserved it in c.slot.
// Its error ends the call before the attempt: the group cannot serve it in
// time, the context ended or the transport closed while it waited.
func (r *Retry) pace(ctx context.Context, c *call) error {
	if r.throttle == nil || (c.pacing.group == nil && !r.throttle.Holding()) {
		return nil
	}
	container, rangeID, ranges, host := c.route.Pacing(c.pacing.group != nil)
	if container == "" {
		return nil
	}
	tc := throttle.Call{
		Group: c.pacing.group, Key: throttle.Key{Container: container, Range: rangeID, Host: host},
		Ranges: ranges, Kind: kindOf(&c.desc), Low: c.lowPriority(),
	}
	tc.Deadline, _ = ctx.Deadline()
	if g := c.pacing.group; g != nil && g.NeedsThroughput() {
		ru, err := r.router.Provisioned(ctx, container)
		if err != nil {
			closeBody(c.next)
			switch {
			case errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(context.Cause(ctx), ErrTimeLimit):
				return &ThroughputError{Group: g.Name(), Container: container,
					Reason: "its TargetShare needs the container's provisioned throughput, which could not be read before its deadline"}
			case ctx.Err() != nil:
				return fmt.Errorf("transport: waiting for the provisioned throughput of %s before attempt %d: %w", container, c.n+1, ctx.Err())
			}
			return &ThroughputError{
				Group: g.Name(), Container: container, cause: err,
				Reason: "its TargetShare needs the container's provisioned throughput, which could not be read",
			}
		}
		tc.Provisioned = ru
	}
	if err := r.throttle.Reserve(tc, &c.slot); err != nil {
		var late *throttle.NotInTime
		if errors.As(err, &late) {
			reason := "its turn comes after its deadline"
			switch {
			case late.QueueFull:
				reason = "too many of its calls wait for the range (Options.Throughput.QueueLimit)"
			case late.Held:
				reason = "the service throttles its range past its deadline"
			case late.Wait <= 0:
				reason = "too little time is left before its deadline to be served"
			}
			closeBody(c.next)
			return &ThroughputError{Group: late.Group, Container: late.Container, Range: late.Range, Wait: late.Wait, Reason: reason}
		}
		return err
	}
	if c.slot.Wait <= 0 {
		return nil
	}
	groupName := ""
	if c.pacing.group != nil {
		groupName = c.pacing.group.Name()
	}
	wait := c.slot.Wait
	c.rec.Paced(wait, groupName, rangeID, c.pacing.low)
	err := r.wait(ctx, wait)
	r.throttle.Waited(&c.slot)
	if err != nil {
		r.throttle.Cancel(&c.slot)
		closeBody(c.next)
		return fmt.Errorf("transport: waiting %s for the range's request units before attempt %d: %w", wait, c.n+1, err)
	}
	if d, ok := ctx.Deadline(); ok && c.pacing.group != nil && time.Until(d) < serveMargin {
		// The turn came, but too late to be served (a timer that fired late).
		r.throttle.Cancel(&c.slot)
		closeBody(c.next)
		return &ThroughputError{Group: groupName, Container: container, Range: rangeID, Wait: wait, Reason: "its turn came too close to its deadline"}
	}
	return nil
}

// settlePace tells the throttle the answer of the attempt c.slot reserved
// (resp, or err when it got none).
func (r *Retry) settlePace(c *call, resp *http.Response, err error) {
	if r.throttle == nil {
		return
	}
	if !c.slot.Reserved() {
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			r.throttled(c, resp) // a call that reserved nothing can still teach a hold
		}
		c.slot = throttle.Slot{}
		return
	}
	r.throttle.Settle(&c.slot, answerFor(resp))
	c.slot = throttle.Slot{}
}

// throttled teaches the throttle a 429 of a call that reserved nothing.
// Only a 429/3200 holds its range; the range is the one the answer
// names, else the one the call knows (which may start loading the
// container's ranges).
func (r *Retry) throttled(c *call, resp *http.Response) {
	if !r.throttle.Holds() {
		return
	}
	a := answerFor(resp)
	if a.SubStatus != 3200 {
		return
	}
	container, rangeID, host := c.route.Placed()
	if rangeID == "" {
		// Also starts loading the container's ranges, so that the calls
		// after this one know their range, and wait, before they are sent.
		container, rangeID, _, host = c.route.Pacing(false)
	}
	if container == "" {
		return
	}
	r.throttle.Throttled(throttle.Key{Container: container, Range: rangeID, Host: host}, c.lowPriority(), kindOf(&c.desc), a)
}

// answerFor is what resp tells the throttle; an error's answer is empty.
func answerFor(resp *http.Response) throttle.Answer {
	var a throttle.Answer
	if resp == nil {
		return a
	}
	a.Status = resp.StatusCode
	a.SubStatus, _ = wire.LookupSubStatus(resp.Header)
	if v := resp.Header[wire.HeaderRequestCharge]; len(v) > 0 {
		if f, err := strconv.ParseFloat(strings.TrimSpace(v[0]), 64); err == nil && f >= 0 && f < 1e6 {
			a.Charge, a.Charged = f, true
		}
	}
	if v := resp.Header[wire.HeaderPartitionKeyRangeID]; len(v) > 0 {
		a.Range = v[0]
	}
	if a.Status == http.StatusTooManyRequests {
		a.Hint, _ = decide.RetryAfter(resp.Header, time.Now())
	}
	return a
}

// cancelPace gives back what call c's attempt reserved when it was not
// sent after all.
func (r *Retry) cancelPace(c *call) {
	if r.throttle != nil && c.slot.Reserved() {
		r.throttle.Cancel(&c.slot)
	}
	c.slot = throttle.Slot{}
}

// newThrottle returns the throughput control o describes for an account
// whose requests cred signs.
func newThrottle(o policy.ThroughputOptions, cred region.Credential) (*throttle.Throttle, error) {
	t, err := throttle.New(throttle.Options{ThroughputOptions: o})
	if err != nil {
		return nil, fmt.Errorf("transport: Options.Throughput.%w", err)
	}
	if _, key := cred.(*region.MasterKey); !key {
		for _, g := range t.Groups() {
			if g.NeedsThroughput() {
				return nil, fmt.Errorf("transport: Options.Throughput: group %q has a TargetShare of the provisioned throughput, which only the account's master key may read: set its ProvisionedRU, or a TargetRU", g.Name())
			}
		}
	}
	return t, nil
}

// unpaced ends call c, whose next attempt pace refused with err. A write
// in doubt (an earlier attempt may have run) is not failed on the refusal
// alone: a tracked write reads its item back and ends with its success if
// it ran; otherwise the outcome is unknown.
func (r *Retry) unpaced(ctx context.Context, c *call, err error) (*http.Response, error) {
	if !c.route.InDoubt() {
		return nil, err
	}
	var rb *readBack
	if c.track != nil && ctx.Err() == nil && !r.isClosed() {
		rb = r.readBack(ctx, c)
		if c.route.Settle(rb.found, false) == decide.Acknowledge {
			return c.success(rb), nil
		}
	}
	return nil, c.unknown(ctx, lastAnswer{}, err, rb)
}
