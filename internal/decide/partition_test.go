package decide

import (
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/policy"
)

// What counts toward a partition's circuit.
func TestPartitionVerdict(t *testing.T) {
	for _, tt := range []struct {
		name             string
		resp             *http.Response
		err              error
		failure, counted bool
	}{
		{"200", response(200, 0), nil, false, true},
		{"404", response(404, 0), nil, false, true},
		{"409", response(409, 0), nil, false, true},
		{"500", response(500, 0), nil, true, true},
		{"503", response(503, 0), nil, true, true},
		{"408", response(408, 0), nil, true, true},
		{"410", response(410, 0), nil, true, true},
		{"410.1002 split", response(410, 1002), nil, false, false},
		{"410.1000", response(410, 1000), nil, false, false},
		{"410.1007", response(410, 1007), nil, false, false},
		{"410.1008", response(410, 1008), nil, false, false},
		{"429.3200 the caller's own", response(429, 3200), nil, false, false},
		{"429.3092 system resource", response(429, 3092), nil, true, true},
		{"ambiguous", nil, io.ErrUnexpectedEOF, true, true},
		{"never sent", nil, phased{errors.New("dial"), PhaseConnecting}, false, false},
		{"circuit open", nil, openErr{}, false, false},
	} {
		failure, counted := PartitionVerdict(tt.resp, tt.err)
		assert.Equal(t, tt.failure, failure, tt.name)
		assert.Equal(t, tt.counted, counted, tt.name)
	}
}

// A 500 that names its range is the range's, not the endpoint's.
func TestA500OfARangeIsNotTheEndpoints(t *testing.T) {
	ranged := response(500, 0)
	ranged.Header.Set("X-Ms-Documentdb-Partitionkeyrangeid", "1")
	assert.ErrorIs(t, BreakerResult(ranged, nil), errExcluded)
	assert.ErrorIs(t, BreakerResult(response(500, 0), nil), errBreakerFailure)
}

type openErr struct{}

func (openErr) Error() string { return "open" }
func (openErr) CircuitOpen()  {}

// A 503 that names its range marks no region: it is the range's.
func TestARanged503MarksNoRegion(t *testing.T) {
	p := New(policy.RetryOptions{}, nil, nil)
	for _, s := range []Situation{{Replayable: true, OtherRegion: true}, {Write: true, MultiWrite: true, Replayable: true, OtherRegion: true}} {
		c := p.Call()
		assert.True(t, c.Decide(unavailable, response(503, 0), s).Mark, "%+v", s)
		s.Ranged = true
		c = p.Call()
		d := c.Decide(unavailable, response(503, 0), s)
		assert.False(t, d.Mark, "%+v", s)
		assert.True(t, d.Retry, "the call itself still moves on")
	}
}
