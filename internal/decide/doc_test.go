package decide_test

import (
	"fmt"
	"io"
	"net/http"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/policy"
)

// A read meets regions that answer 503: the first retry goes at once to
// the next region, later ones back off, and the call stops after
// MaxUnavailableRetries.
func Example() {
	// One Policy per transport (here without jitter), one Call per call.
	p := decide.New(policy.RetryOptions{}, nil, func() float64 { return 0 })
	c := p.Call()
	send := func() (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}}, nil
	}
	for attempt := 1; ; attempt++ {
		resp, err := send()
		o := p.Judge(resp, err)
		d := c.Decide(o, resp, decide.Situation{Replayable: true, OtherRegion: true})
		if !d.Retry {
			fmt.Printf("attempt %d: %s, return it\n", attempt, o)
			break
		}
		fmt.Printf("attempt %d: %s, retry %s after %v\n", attempt, o, d.Route, d.Wait)
	}
	// Output:
	// attempt 1: unavailable, retry next_region after 0s
	// attempt 2: unavailable, retry next_region after 100ms
	// attempt 3: unavailable, retry next_region after 200ms
	// attempt 4: unavailable, return it
}

// A write loses its connection after the request was written: it may have
// committed. Untracked, it ends with the unknown outcome, never sent twice.
// Tracked, an upsert is read back before it is resent (the read-back says
// whether and how: see Call.Settle). A create is resent as it is: if it
// committed, the service refuses the resend with 409, and that answer is
// read back; unless the item holds the call's tracking id, the outcome is
// unknown.
func ExampleCall_Decide_trackedWrite() {
	p := decide.New(policy.RetryOptions{}, nil, nil)
	dropped := io.ErrUnexpectedEOF // the connection closed before the answer came
	conflict := &http.Response{StatusCode: http.StatusConflict, Header: http.Header{}}
	show := func(what string, o decide.Outcome, d decide.Decision) {
		fmt.Printf("%s: %s, retry %v, read back %v, unknown %v\n", what, o, d.Retry, d.ReadBack, d.Unknown)
	}

	upsert := decide.Situation{Write: true, Replayable: true, Account: true}
	c := p.Call()
	o := p.Judge(nil, dropped)
	show("untracked upsert", o, c.Decide(o, nil, upsert))

	upsert.Tracking = decide.Tracking{Tracked: true, Upserts: true}
	c = p.Call()
	show("tracked upsert", o, c.Decide(o, nil, upsert))

	create := decide.Situation{Write: true, Replayable: true, Account: true, Tracking: decide.Tracking{Tracked: true, Creates: true}}
	c = p.Call()
	show("tracked create", o, c.Decide(o, nil, create))
	o = p.Judge(conflict, nil)
	show("its resend", o, c.Decide(o, conflict, create))
	// Output:
	// untracked upsert: ambiguous, retry false, read back false, unknown true
	// tracked upsert: ambiguous, retry true, read back true, unknown false
	// tracked create: ambiguous, retry true, read back false, unknown false
	// its resend: final, retry false, read back true, unknown true
}

// Judge names what an answer means to the rules; a 403 means something
// only with its sub-status.
func ExamplePolicy_Judge() {
	p := decide.New(policy.RetryOptions{}, nil, nil)
	h := http.Header{}
	h.Set("x-ms-substatus", "3")
	fmt.Println(p.Judge(&http.Response{StatusCode: http.StatusForbidden, Header: h}, nil))
	fmt.Println(p.Judge(&http.Response{StatusCode: http.StatusForbidden, Header: http.Header{}}, nil))
	fmt.Println(p.Judge(&http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{}}, nil))
	// Output:
	// write_forbidden
	// final
	// throttled
}
