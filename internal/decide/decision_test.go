package decide_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/internal/decide"
)

func TestRouteString(t *testing.T) {
	assert.Equal(t, "same_endpoint", decide.SameEndpoint.String())
	assert.Equal(t, "next_region", decide.NextRegion.String())
	assert.Equal(t, "write_region", decide.WriteRegion.String())
	assert.Equal(t, "refresh", decide.Refresh.String())
	assert.Equal(t, "unknown", decide.Route(9).String())
}
