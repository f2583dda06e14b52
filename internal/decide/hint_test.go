package decide_test

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/internal/decide"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	const (
		def   = 5 * time.Second
		limit = 30 * time.Second
	)
	in := func(d time.Duration) time.Time { return now.Add(d) }
	tests := []struct {
		name       string
		ms, header string // x-ms-retry-after-ms and Retry-After; "" is absent
		want       time.Duration
	}{
		{"none", "", "", def},
		{"ms integer", "250", "", 250 * time.Millisecond},
		{"ms decimal", "12.5", "", 12500 * time.Microsecond},
		{"ms zero", "0", "", 0},
		{"ms with spaces", " 40 ", "", 40 * time.Millisecond},
		{"ms negative", "-100", "", 0},
		{"ms negative decimal", "-1.5", "", 0},
		{"ms huge", "99999999999999999999999999", "", limit},
		{"ms longer than limit", "45000", "", limit},
		{"ms malformed", "abc", "", def},
		{"ms exponent", "1e3", "", def},
		{"ms trailing dot", "1.", "", def},
		{"ms leading dot", ".5", "", def},
		{"ms two dots", "1.2.3", "", def},
		{"ms plus sign", "+5", "", def},
		{"ms hex float", "0x1p4", "", def},
		{"ms inf", "Inf", "", def},
		{"seconds", "", "3", 3 * time.Second},
		{"seconds zero", "", "0", 0},
		{"seconds negative", "", "-3", 0},
		{"seconds decimal is malformed", "", "1.5", def},
		{"seconds huge", "", "99999999999999999999", limit},
		{"seconds just past the largest duration", "", "9223372037", limit},
		{"seconds malformed", "", "soon", def},
		{"IMF-fixdate", "", in(10 * time.Second).Format(http.TimeFormat), 10 * time.Second},
		{"RFC 850 date", "", in(20 * time.Second).Format(time.RFC850), 20 * time.Second},
		{"asctime date", "", in(25 * time.Second).Format(time.ANSIC), 25 * time.Second},
		{"date in the past", "", in(-time.Hour).Format(http.TimeFormat), 0},
		{"date far ahead", "", "Fri, 31 Dec 9999 23:59:59 GMT", limit},
		{"ms wins over Retry-After", "100", "7", 100 * time.Millisecond},
		{"negative ms still wins", "-1", "7", 0},
		{"malformed ms falls back to seconds", "x", "7", 7 * time.Second},
		{"malformed ms falls back to a date", "x", in(4 * time.Second).Format(http.TimeFormat), 4 * time.Second},
		{"both malformed", "x", "y", def},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.ms != "" {
				h.Set("x-ms-retry-after-ms", tt.ms)
			}
			if tt.header != "" {
				h.Set("Retry-After", tt.header)
			}
			assert.Equal(t, tt.want, decide.RetryAfter(h, now, def, limit))
		})
	}
}

func TestRetryAfterLimitAndDefault(t *testing.T) {
	now := time.Now()
	huge := http.Header{"X-Ms-Retry-After-Ms": {"99999999999999999999999999"}}
	assert.Equal(t, time.Duration(math.MaxInt64), decide.RetryAfter(huge, now, 0, 0), "no limit: saturates, never overflows")
	assert.Equal(t, time.Duration(math.MaxInt64), decide.RetryAfter(http.Header{"Retry-After": {"99999999999999999999"}}, now, 0, -1))
	assert.Equal(t, time.Hour, decide.RetryAfter(http.Header{"Retry-After": {"3600"}}, now, 0, 0))
	assert.Equal(t, time.Minute, decide.RetryAfter(nil, now, time.Minute, time.Second), "the default is returned as given")
}
