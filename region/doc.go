// Package region holds the credentials that sign requests for a Cosmos DB
// account, and the errors the chain reports about the account's regions.
//
// Give the chain the account's global endpoint and a credential; it reads
// the account's DatabaseAccount document on first use, sends writes to the
// write region and reads to the preferred read regions, and follows a
// manual failover (403 with sub-status 3) to the new write region:
//
//	key, err := region.NewMasterKey(os.Getenv("COSMOS_KEY"))
//	// ...
//	rt, err := transport.New(transport.Options{
//		Endpoint:         "https://contoso.documents.azure.com:443/",
//		Credential:       key,
//		PreferredRegions: []string{"West US 2", "East US"},
//	})
//
// A Credential signs with a master key (MasterKey) or a Microsoft Entra ID
// token (TokenFunc). The chain signs the requests that come without an
// Authorization header and the DatabaseAccount look-ups; since the host is
// not part of a signature, a signed request may be resent unchanged to
// another regional endpoint of the same account, and is never sent to a
// host outside it (the account's host, or a sibling host under the same
// parent domain, with the same scheme).
//
// Keys rotate in place: give the chain a *MasterKey and call its Update.
// The azcosmosrt adapter needs nothing more, since the chain signs for
// azcosmos; an SDK used by hand that signs its own requests needs the new
// key too, so one function should update both; see MasterKey. A
// MasterKey prints as "region.MasterKey(redacted)" whatever the fmt verb,
// and marshals to JSON (log/slog's JSON handler included) as that string.
//
// When the account document cannot be used the chain keeps the account it
// had and the errors of the calls that needed it wrap ErrBadAccount or
// ErrNoWriteRegion.
package region
