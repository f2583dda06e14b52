package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTracingPrintsTheCallsSpanTree(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	s := out.String()
	t.Log("\n" + s)
	assert.Contains(t, s, "create_item orders [client]")
	assert.Contains(t, s, "  cosmosrt.account.refresh")
	assert.Contains(t, s, "http.request.resend_count = 2")
	assert.Contains(t, s, `azure.cosmosdb.operation.contacted_regions = ["West US 2","East US"]`)
	assert.NotContains(t, s, "type=master")
}
