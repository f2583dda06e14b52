package instrument

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDescribeNamesAttemptsAndRegions(t *testing.T) {
	var d Diagnostics
	ctx := WithDiagnostics(context.Background(), &d)
	_, c := startCall(quiet(newClock()), ctx, mustRequest(t, http.MethodGet, "https://a.example/dbs/d/colls/c/docs/1"))
	cause := &net.OpError{Op: "read", Net: "tcp", Err: io.EOF}
	err := fmt.Errorf("transport: waiting 1s to retry after unavailable: %w", context.DeadlineExceeded)

	assert.Same(t, cause, c.describe(cause), "no attempt yet: nothing to say")
	for _, region := range []string{"East US", "East US", "North Europe"} {
		c.Attempt(ctx, 0, region, false)
	}
	got := c.describe(err)
	assert.EqualError(t, got, "transport: waiting 1s to retry after unavailable: context deadline exceeded (after 3 attempts: East US, North Europe)")
	assert.ErrorIs(t, got, context.DeadlineExceeded)
	assert.Equal(t, errorTypeOf(err), errorTypeOf(got), "error.type is the error's")
	assert.Same(t, got, c.describe(got), "described once")

	wrapped := c.describe(fmt.Errorf("transport: %w", cause))
	var op *net.OpError
	require.ErrorAs(t, wrapped, &op)
	assert.Same(t, cause, op)
	assert.Equal(t, "eof", errorTypeOf(wrapped).Value.AsString())

	assert.NoError(t, c.describe(nil))
}

func TestDescribeOneAttempt(t *testing.T) {
	r := newRig(t, Options{})
	_, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://a.example/dbs/d"))
	c.Attempt(context.Background(), 0, "a.example", false)
	assert.EqualError(t, c.describe(errors.New("boom")), "boom (after 1 attempt: a.example)")
}

func TestDescribeOnANilCallKeepsTheError(t *testing.T) {
	var c *Call
	err := errors.New("boom")
	assert.Same(t, err, c.describe(err))
}
