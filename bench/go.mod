module github.com/cosmosrt/cosmosrt/bench

go 1.26

replace github.com/cosmosrt/cosmosrt => ../

require (
	github.com/failsafe-go/failsafe-go v0.9.8 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
)
