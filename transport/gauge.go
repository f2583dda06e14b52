package transport

import "github.com/sony/gobreaker/v2"

type gobreakerState = gobreaker.State

// breakerGauge maps a circuit's state to the cosmosrt.breaker.state gauge:
// 0 closed, 1 half-open, 2 open.
func breakerGauge(s gobreaker.State) int64 {
	switch s {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	}
	return 0
}
