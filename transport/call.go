package transport

import (
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/cosmosrt/cosmosrt/internal/instrument"
	"github.com/cosmosrt/cosmosrt/internal/throttle"
	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// call is what one call knows, made once at the top of Retry.RoundTrip and
// passed as one value through the loop: the caller's request and what it
// says (read once), the body each attempt gets, the route of its attempts,
// its record and its tracking. An arm of a hedged read is a call of its own
// over the same request, description and record, with its own body and
// route. A call is not safe for concurrent use.
type call struct {
	req    *http.Request
	desc   wire.Request // req, read once
	body   replayBody
	route  account.Route
	rec    *instrument.Call // nil: nothing is recorded
	track  *tracking        // nil: not a tracked write
	pacing pacing           // its throughput group and priority
	slot   throttle.Slot    // the request units the attempt about to be made reserved

	// The attempt about to be made, or the last one made.
	n        int                // 0 for the first attempt
	next     io.ReadCloser      // the body of the attempt about to be made
	failover bool               // it is a write redirected to a new write region after a 403.3
	abort    context.CancelFunc // ends the last attempt's own context; nil: it has none
}

// region names the endpoint of the call's next attempt for its record, and
// only when the call is recorded: naming scans the account.
func (c *call) region() string {
	if c.rec == nil {
		return ""
	}
	return c.route.Region()
}

// attemptRequest is one attempt's shallow copy of the caller's request and
// the URL it goes to when the route moves it, in one allocation.
type attemptRequest struct {
	req http.Request
	url url.URL
}

// attempt returns a new attempt's request, with context ctx. The copy is
// shallow: the route gives it its own URL and headers when they change.
func (c *call) attempt(ctx context.Context) *attemptRequest {
	a := new(attemptRequest)
	if ctx == c.req.Context() {
		a.req = *c.req
	} else {
		a.req = *c.req.WithContext(ctx)
	}
	return a
}
