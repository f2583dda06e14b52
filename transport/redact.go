package transport

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/cosmosrt/cosmosrt/policy"
)

// Format implements fmt.Formatter so that printing Options, with any verb,
// never shows a secret. Format, MarshalJSON and LogValue all show the same
// copy of the Options: Key is "(redacted)" when set; Credential is its type
// followed by "(redacted)" (a user's Credential may keep its token in a
// field); Base and the three providers are their type only (a Base may hold
// a client certificate); the other fields are as they are. fmt cannot call
// these methods for Options in an unexported field of another struct, and
// prints Key there: prefer a *region.MasterKey as Credential, which prints
// as an address in that case. Nor can it for a verb that does not apply to
// a struct, such as %p (which go vet reports), whose error output shows
// the raw fields.
func (o Options) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), o.redacted())
}

// MarshalJSON implements json.Marshaler: the fields by their names, as
// encoding/json writes a struct, redacted as Format prints them.
func (o Options) MarshalJSON() ([]byte, error) { return json.Marshal(o.redacted()) }

// LogValue implements slog.LogValuer, so that log/slog handlers record
// Options redacted as Format prints them.
func (o Options) LogValue() slog.Value { return slog.AnyValue(o.redacted()) }

// options is what Options print as: the same fields, in the same order,
// with nothing secret in them (a test keeps the two in step).
type options struct {
	Endpoint         string
	Key              string // "(redacted)" when set
	Credential       string // its type and "(redacted)", when set
	PreferredRegions []string
	RefreshInterval  time.Duration
	Base             string // its type, when set
	Retry            policy.RetryOptions
	Breaker          policy.BreakerOptions
	Partitions       policy.PartitionOptions
	Throughput       policy.ThroughputOptions
	Hedge            policy.HedgeOptions
	TracerProvider   string
	MeterProvider    string
	Propagators      string
	NoAttemptSpans   bool
	Logger           string // its type, when set
	Log              policy.LogOptions
}

const redacted = "(redacted)"

func (o Options) redacted() options {
	p := options{
		Endpoint:         o.Endpoint,
		Credential:       typeOf(o.Credential),
		PreferredRegions: o.PreferredRegions,
		RefreshInterval:  o.RefreshInterval,
		Base:             typeOf(o.Base),
		Retry:            o.Retry,
		Breaker:          o.Breaker,
		Partitions:       o.Partitions,
		Throughput:       o.Throughput,
		Hedge:            o.Hedge,
		TracerProvider:   typeOf(o.TracerProvider),
		MeterProvider:    typeOf(o.MeterProvider),
		Propagators:      typeOf(o.Propagators),
		NoAttemptSpans:   o.NoAttemptSpans,
		Logger:           typeOf(o.Logger),
		Log:              o.Log,
	}
	if o.Key != "" {
		p.Key = redacted
	}
	if p.Credential != "" {
		p.Credential += redacted
	}
	return p
}

// typeOf returns the dynamic type of v, "" for nil.
func typeOf(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf("%T", v)
}
