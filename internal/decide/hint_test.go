package decide

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRetryAfterHint(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	const forever = time.Duration(math.MaxInt64)
	in := func(d time.Duration) time.Time { return now.Add(d) }
	tests := []struct {
		name       string
		ms, header string // x-ms-retry-after-ms and Retry-After; "" is absent
		want       time.Duration
		ok         bool
	}{
		{"none", "", "", 0, false},
		{"ms integer", "250", "", 250 * time.Millisecond, true},
		{"ms decimal", "12.5", "", 12500 * time.Microsecond, true},
		{"ms zero", "0", "", 0, true},
		{"ms with spaces", " 40 ", "", 40 * time.Millisecond, true},
		{"ms negative", "-100", "", 0, true},
		{"ms negative decimal", "-1.5", "", 0, true},
		{"ms huge", "99999999999999999999999999", "", forever, true},
		{"ms longer than MaxRetryAfter is not clamped here", "45000", "", 45 * time.Second, true},
		{"ms malformed", "abc", "", 0, false},
		{"ms exponent", "1e3", "", 0, false},
		{"ms trailing dot", "1.", "", 0, false},
		{"ms leading dot", ".5", "", 0, false},
		{"ms two dots", "1.2.3", "", 0, false},
		{"ms plus sign", "+5", "", 0, false},
		{"ms hex float", "0x1p4", "", 0, false},
		{"ms inf", "Inf", "", 0, false},
		{"seconds", "", "3", 3 * time.Second, true},
		{"seconds zero", "", "0", 0, true},
		{"seconds negative", "", "-3", 0, true},
		{"seconds decimal is malformed", "", "1.5", 0, false},
		{"seconds an hour", "", "3600", time.Hour, true},
		{"seconds huge", "", "99999999999999999999", forever, true},
		{"seconds just past the largest duration", "", "9223372037", forever, true},
		{"seconds malformed", "", "soon", 0, false},
		{"IMF-fixdate", "", in(10 * time.Second).Format(http.TimeFormat), 10 * time.Second, true},
		{"RFC 850 date", "", in(20 * time.Second).Format(time.RFC850), 20 * time.Second, true},
		{"asctime date", "", in(25 * time.Second).Format(time.ANSIC), 25 * time.Second, true},
		{"date in the past", "", in(-time.Hour).Format(http.TimeFormat), 0, true},
		{"date far ahead", "", "Fri, 31 Dec 9999 23:59:59 GMT", forever, true},
		{"ms wins over Retry-After", "100", "7", 100 * time.Millisecond, true},
		{"negative ms still wins", "-1", "7", 0, true},
		{"malformed ms falls back to seconds", "x", "7", 7 * time.Second, true},
		{"malformed ms falls back to a date", "x", in(4 * time.Second).Format(http.TimeFormat), 4 * time.Second, true},
		{"both malformed", "x", "y", 0, false},
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
			got, ok := retryAfterHint(h, now)
			assert.Equal(t, tt.ok, ok, "ok")
			assert.Equal(t, tt.want, got)
		})
	}
	got, ok := retryAfterHint(nil, now)
	assert.False(t, ok, "no header map, no hint")
	assert.Zero(t, got)
}
