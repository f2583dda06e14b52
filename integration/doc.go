// Package integration proves, with tests at the wire, that the Azure Cosmos
// DB SDK for Go (azcosmos) runs on the cosmosrt chain: the chain is the SDK's
// transport, a cosmostest account is the service, and the account's request
// log shows every attempt, in which region and with what answer.
//
// ClientOptions is the configuration it recommends:
//
//	rt, err := transport.New(transport.Options{
//		Endpoint:         endpoint,
//		Key:              key,
//		PreferredRegions: []string{"West US 2", "East US"}, // on the chain, not on azcosmos
//	})
//	if err != nil { … }
//	defer rt.Close()
//	cred, err := azcosmos.NewKeyCredential(key)
//	if err != nil { … }
//	client, err := azcosmos.NewClientWithKey(endpoint, cred, integration.ClientOptions(rt))
//	if err != nil { … }
//	defer client.Close()
//
// The module is separate from the library's so that the library's go.mod
// does not carry the SDK.
package integration
