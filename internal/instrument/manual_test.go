package instrument

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/telemetry"
)

// TestManualNamesEveryName checks that package telemetry's documentation,
// the users' only list of what the chain records, names every metric,
// attribute key, span name and breaker state value defined here.
func TestManualNamesEveryName(t *testing.T) {
	doc, err := os.ReadFile("../../telemetry/doc.go")
	require.NoError(t, err)
	names := []string{
		metricOperationDuration, metricRequestCharge, metricRetries, metricBackoffWait,
		metricFailovers, metricRefreshes, metricBreakerTransition, metricBreakerState,
		string(attrRetryReason), string(attrBackoffWait), string(attrRefreshForced),
		string(attrRefreshOutcome), string(attrBreakerFrom), string(attrBreakerTo),
		spanAccountRefresh, string(attrAzureNamespace), cosmosDBNamespace,
		fmt.Sprintf("%d closed, %d half-open, %d open", BreakerClosed, BreakerHalfOpen, BreakerOpen),
	}
	for _, name := range names {
		assert.Contains(t, string(doc), name)
	}
}

// TestScopeName checks the scope that users' dashboards filter on.
func TestScopeName(t *testing.T) {
	assert.Equal(t, "github.com/cosmosrt/cosmosrt/telemetry", telemetry.ScopeName)
	r := newRig(t, Options{})
	_, c := startCall(r.tel, context.Background(), mustRequest(t, http.MethodGet, "https://a.example/dbs/d"))
	c.End(respWith(200), nil)
	require.Len(t, r.spans.Ended(), 1)
	assert.Equal(t, telemetry.ScopeName, r.spans.Ended()[0].InstrumentationScope().Name)
}
