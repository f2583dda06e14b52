package instrument

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// The attribute by which an Azure SDK client marks every span it starts
// with the resource provider it calls: azcore sets it on each span of a
// client's tracer (azcore.NewClient with PipelineOptions.Tracing.Namespace,
// which azcosmos sets), and azotel passes it on as an OpenTelemetry
// attribute.
const (
	attrAzureNamespace = attribute.Key("az.namespace")
	cosmosDBNamespace  = "Microsoft.DocumentDB"
)

// azureSDKSpan reports whether span is a recording CLIENT span that an
// Azure Cosmos DB SDK client (azcosmos) started through azotel: azcore's
// "HTTP {method}" span around one request of the client's pipeline, or an
// operation span such as "create_item orders". Such a span already stands
// for the call the chain is about to make, so the call records on it
// instead of starting a span of its own (see StartCall).
//
// The test reads the span's kind and its az.namespace attribute, which
// must be "Microsoft.DocumentDB", never its name, through the methods the
// OpenTelemetry SDK's spans have (SpanKind and Attributes, as in
// sdktrace.ReadOnlySpan). A span of an implementation that does not
// expose them is not joined: the call then starts its own span, as it
// does without azotel.
func azureSDKSpan(span trace.Span) bool {
	if span == nil || !span.IsRecording() {
		return false
	}
	s, ok := span.(interface {
		SpanKind() trace.SpanKind
		Attributes() []attribute.KeyValue
	})
	if !ok || s.SpanKind() != trace.SpanKindClient {
		return false
	}
	for _, kv := range s.Attributes() {
		if kv.Key == attrAzureNamespace {
			return kv.Value.AsString() == cosmosDBNamespace
		}
	}
	return false
}

// joins reports whether a call whose context carries span records on it
// rather than starting its own span.
func (t *Telemetry) joins(span trace.Span) bool {
	if t.opts.joinSpan != nil {
		return span.IsRecording() && t.opts.joinSpan(span)
	}
	return azureSDKSpan(span)
}
