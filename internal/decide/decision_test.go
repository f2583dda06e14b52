package decide

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRouteString(t *testing.T) {
	assert.Equal(t, "same_endpoint", sameEndpoint.String())
	assert.Equal(t, "next_region", NextRegion.String())
	assert.Equal(t, "write_region", WriteRegion.String())
	assert.Equal(t, "refresh", Refresh.String())
	assert.Equal(t, "unknown", Route(9).String())
}
