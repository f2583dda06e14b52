package decide_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/policy"
)

// A read meets regions that answer 503: the first retry goes at once to
// the next region, later ones back off, and the call stops after
// MaxUnavailableRetries.
func Example() {
	p := decide.New(policy.RetryOptions{}, nil, func() float64 { return 0 })
	c := p.Call()
	resp := &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}}
	for attempt := 1; ; attempt++ {
		o := p.Judge(resp, nil)
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

func ExampleClassify() {
	h := http.Header{}
	h.Set("x-ms-substatus", "3")
	fmt.Println(decide.Classify(&http.Response{StatusCode: http.StatusForbidden, Header: h}, nil))
	fmt.Println(decide.Classify(&http.Response{StatusCode: http.StatusForbidden, Header: http.Header{}}, nil))
	fmt.Println(decide.Classify(&http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{}}, nil))
	// Output:
	// write_forbidden
	// final
	// throttled
}

func ExampleRetryAfter() {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	h := http.Header{}
	h.Set("Retry-After", "Sun, 01 Jun 2025 12:00:03 GMT")
	fmt.Println(decide.RetryAfter(h, now, 5*time.Second, 30*time.Second))
	h.Set("x-ms-retry-after-ms", "250")
	fmt.Println(decide.RetryAfter(h, now, 5*time.Second, 30*time.Second))
	// Output:
	// 3s
	// 250ms
}
