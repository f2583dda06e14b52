package bench

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// BenchmarkThrottled is a read whose first attempt is answered 429 with
// x-ms-retry-after-ms and whose retry gets 200. attempts/op should be 2;
// wait-ms/retry is the mean time the server saw between a 429 and its
// retry. With hint=1ms every library's first backoff (1 ms) looks like
// obeying the hint; hint=20ms tells the libraries that read
// x-ms-retry-after-ms (wait ≥ 20 ms) from those that do not (≈ 1 ms).
func BenchmarkThrottled(b *testing.B) {
	for _, hint := range []time.Duration{time.Millisecond, 20 * time.Millisecond} {
		b.Run("hint="+hint.String(), func(b *testing.B) {
			for _, c := range retriers {
				b.Run(name(c), func(b *testing.B) {
					th := &throttleOnce{hintName: "x-ms-retry-after-ms", hintValue: strconv.FormatInt(hint.Milliseconds(), 10)}
					srv, cnt := newServer(b, th)
					client := c.client(b, newBase(b))
					url := srv.URL + docPath
					b.ReportAllocs()
					b.ResetTimer()
					for i := range b.N {
						req, err := http.NewRequest(http.MethodGet, url, nil)
						if err != nil {
							b.Fatal(err)
						}
						req.Header.Set(callHeader, strconv.Itoa(i))
						call(b, client, req, http.StatusOK)
					}
					b.StopTimer()
					wait, _ := th.meanWait()
					perOp(b, cnt.requests.Load(), "attempts/op")
					perOp(b, cnt.conns.Load(), "conns/op")
					b.ReportMetric(float64(wait)/float64(time.Millisecond), "wait-ms/retry")
				})
			}
		})
	}
}
