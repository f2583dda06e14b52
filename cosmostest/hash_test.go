package cosmostest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The service's published hash baselines (version 2), with the two top
// bits cleared as clients do to route by range.
func TestEffectivePartitionKeyMatchesTheServiceBaselines(t *testing.T) {
	for _, tt := range []struct {
		value any
		want  string
	}{
		{"", "32E9366E637A71B4E710384B2F4970A0"},
		{"asdf", "208BF1D598F5B63AD5520F04FE58C5E8"},
		{"/path1", "3499FD5198AE0F1EB6B77F6E428D2FF0"},
		{0.0, "155B95BEDAC4B1E9EC1CDC9BB0DDDE58"},
		{1.0, "20CD98B339BA78A5D0CF6953B87070B0"},
		{true, "0E711127C5B5A8E4726AC6DD306A3E59"},
		{false, "2FE1BE91E90A3439635E0E9E37361EF2"},
		{nil, "378867E4430E67857ACE5C908374FE16"},
		{undefinedPK{}, "11622DAA78F835834610ABE56EFF5CB5"},
	} {
		assert.Equal(t, tt.want, effectivePartitionKey(tt.value), "%#v", tt.value)
	}
}
