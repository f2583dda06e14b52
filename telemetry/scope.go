package telemetry

// ScopeName is the instrumentation scope of the call spans, the account
// refresh spans and the metrics the chain records itself (all but
// otelhttp's http.client.*): filter on it to select them. Attempt spans
// and the http.client.* metrics carry otelhttp's scope,
// "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp".
const ScopeName = "github.com/cosmosrt/cosmosrt/telemetry"
