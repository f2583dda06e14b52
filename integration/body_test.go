package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A large write throttled twice over a slow uplink: the 429s arrive while
// the body is still being sent. azcore's GetBody rewinds and returns the
// same reader every time, so the chain must not take the next attempt's
// body until the transport has closed the previous one (net/http closes a
// request body only when it is done with it, possibly after RoundTrip has
// returned). Otherwise the two attempts read one reader at once: a data
// race, and a retry that fails with "ContentLength=N with Body length M".
func TestThrottledLargeWriteOverSlowUplinkIsReplayedIntact(t *testing.T) {

	big := strings.Repeat("x", 1800<<10) // under the 2 MB document limit
	item, err := json.Marshal(map[string]string{"id": "1", "pk": "eu", "pad": big})
	require.NoError(t, err)
	for run := range 5 {
		r := newRig(t, rigOptions{})
		r.base.readDelay = time.Millisecond
		throttle(r.acct, 2)

		_, err := r.orders.CreateItem(t.Context(), pk, item, nil)
		require.NoError(t, err, "run %d", run)
		assert.Zero(t, r.base.overlapping(), "run %d: an attempt began while the previous one's body was open", run)
		doc, ok := r.acct.Document(dbName, collName, "1")
		require.True(t, ok, "run %d", run)
		var got map[string]any
		require.NoError(t, json.Unmarshal(doc, &got))
		assert.Equal(t, big, got["pad"], "run %d", run)
	}
}
