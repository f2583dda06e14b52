package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartRuns(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	s := out.String()
	t.Log("\n" + s)
	assert.Contains(t, s, "create item 2 while throttled twice → 201")
	assert.Contains(t, s, "create item 3 after a manual failover to East US → 201")
	assert.Contains(t, s, "read item 3 while North Europe answers 503 → 200")
	for _, id := range []string{"1", "2", "3", "4"} {
		assert.Contains(t, s, "item "+id+" committed 1 time(s)")
	}
}
