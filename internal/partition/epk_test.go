package partition

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	hashV1      = Definition{Paths: []string{"/pk"}, Kind: Hash, Version: 1}
	hashV2      = Definition{Paths: []string{"/pk"}, Kind: Hash, Version: 2}
	multiHash2  = Definition{Paths: []string{"/tenant", "/user"}, Kind: MultiHash, Version: 2}
	multiHash3  = Definition{Paths: []string{"/a", "/b", "/c"}, Kind: MultiHash, Version: 2}
	thousandAs  = strings.Repeat("a", 1024)
	hundredV1Hx = strings.Repeat("62", 100) // 100 'a's, each byte plus one, in version 1's encoding
)

// Effective partition keys as the SDKs route with them.
//
// Sources, so that a failure here means we disagree with the service's
// clients, not with ourselves:
//   - Java: Azure/azure-sdk-for-java, sdk/cosmos/azure-cosmos/src/test/java/
//     com/azure/cosmos/models/PartitionKeyHashingTests.java
//     (effectivePartitionKeyHashV1, effectivePartitionKeyHashV2); Java's
//     Byte, Integer and Long bounds and Double.MIN_VALUE / MAX_VALUE are
//     written here as the JSON numbers a header carries.
//   - Rust: Azure/azure-sdk-for-rust, sdk/cosmos/azure_data_cosmos/src/
//     hash.rs tests (its extra version 2 values, and its hierarchical keys,
//     which it says come from the Python SDK).
func TestEffectivePartitionKeyMatchesTheSDKs(t *testing.T) {
	for _, tt := range []struct {
		source string
		def    Definition
		header string
		want   string
	}{
		{"Java v1", hashV1, `[""]`, "05C1CF33970FF80800"},
		{"Java v1", hashV1, `["partitionKey"]`, "05C1E1B3D9CD2608716273756A756A706F4C667A00"},
		{"Java v1", hashV1, `["` + thousandAs + `"]`, "05C1EB5921F70608" + hundredV1Hx + "00"},
		{"Java v1", hashV1, `[null]`, "05C1ED45D7475601"},
		{"Java v1", hashV1, `[{}]`, "05C1D529E345DC00"},
		{"Java v1", hashV1, `[true]`, "05C1D7C5A903D803"},
		{"Java v1", hashV1, `[false]`, "05C1DB857D857C02"},
		{"Java v1", hashV1, `[-128]`, "05C1D73349F54C053FA0"},
		{"Java v1", hashV1, `[127]`, "05C1DD539DDFCC05C05FE0"},
		{"Java v1", hashV1, `[-9223372036854775808]`, "05C1DB35F33D1C053C20"},
		{"Java v1", hashV1, `[9223372036854775807]`, "05C1B799AB2DD005C3E0"},
		{"Java v1", hashV1, `[-2147483648]`, "05C1DFBF252BCC053E20"},
		{"Java v1", hashV1, `[2147483647]`, "05C1E1F503DFB205C1DFFFFFFFFC"},
		{"Java v1", hashV1, `[4.9E-324]`, "05C1E5C91F4D3005800101010101010102"},
		{"Java v1", hashV1, `[1.7976931348623157E308]`, "05C1CBE367C53005FFEFFFFFFFFFFFFFFE"},

		{"Java v2", hashV2, `[""]`, "32E9366E637A71B4E710384B2F4970A0"},
		{"Java v2", hashV2, `["partitionKey"]`, "013AEFCF77FA271571CF665A58C933F1"},
		{"Java v2", hashV2, `["` + thousandAs + `"]`, "332BDF5512AE49615F32C7D98C2DB86C"},
		{"Java v2", hashV2, `[null]`, "378867E4430E67857ACE5C908374FE16"},
		{"Java v2", hashV2, `[{}]`, "11622DAA78F835834610ABE56EFF5CB5"},
		{"Java v2", hashV2, `[true]`, "0E711127C5B5A8E4726AC6DD306A3E59"},
		{"Java v2", hashV2, `[false]`, "2FE1BE91E90A3439635E0E9E37361EF2"},
		{"Java v2", hashV2, `[-128]`, "01DAEDABF913540367FE219B2AD06148"},
		{"Java v2", hashV2, `[127]`, "0C507ACAC853ECA7977BF4CEFB562A25"},
		{"Java v2", hashV2, `[-9223372036854775808]`, "23D5C6395512BDFEAFADAD15328AD2BB"},
		{"Java v2", hashV2, `[9223372036854775807]`, "2EDB959178DFCCA18983F89384D1629B"},
		{"Java v2", hashV2, `[-2147483648]`, "0B1660D5233C3171725B30D4A5F4CC1F"},
		{"Java v2", hashV2, `[2147483647]`, "2D9349D64712AEB5EB1406E2F0BE2725"},
		{"Java v2", hashV2, `[4.9E-324]`, "0E6CBA63A280927DE485DEF865800139"},
		{"Java v2", hashV2, `[1.7976931348623157E308]`, "31424D996457102634591FF245DBCC4D"},

		{"Rust v2", hashV2, `[5]`, "19C08621B135968252FB34B4CF66F811"},
		{"Rust v2", hashV2, `[5.12312419050912359123]`, "0EF2E2D82460884AF0F6440BE4F726A8"},
		{"Rust v2", hashV2, `["redmond"]`, "22E342F38A486A088463DFF7838A5963"},
		{"Rust v2", hashV2, `["customer42"]`, "19819C94CE42A1654CCC8110539D9589"},

		{"Rust/Python MultiHash", multiHash2, `["title_player_account!9E711EFBD3BBB492","Title-B60C1"]`,
			"2306FDF78C35ED4FD1C5835B075FC0B0248E1F58635558D12708326234F93A21"},
		{"Rust/Python MultiHash", multiHash2, `[false, null]`,
			"2FE1BE91E90A3439635E0E9E37361EF2378867E4430E67857ACE5C908374FE16"},
		{"Rust/Python MultiHash", multiHash2, `[1234, {}]`,
			"266B73B33A7065810B7D2A2938F85E8011622DAA78F835834610ABE56EFF5CB5"},
	} {
		t.Run(tt.source+" "+short(tt.header), func(t *testing.T) {
			got, complete, err := EffectivePartitionKey(tt.def, tt.header)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.True(t, complete)
		})
	}
}

func short(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s…(%d bytes)", s[:30], len(s))
	}
	return s
}

// Rust's hash.rs also checks a version 2 Hash key of several components,
// which the service hashes together; no container has such a key (Hash
// takes one path), so the definition is built by hand past check.
func TestVersion2HashesSeveralComponentsTogether(t *testing.T) {
	d := Definition{Paths: []string{"/a", "/b", "/c", "/d"}, Kind: Hash, Version: 2}
	var k key
	buf, err := parseKey(`[5, "redmond", true, null]`, &k, nil)
	require.NoError(t, err)
	epk, complete, err := appendEPK(nil, &d, &k, buf)
	require.NoError(t, err)
	assert.True(t, complete)
	assert.Equal(t, "3032DECBE2AB1768D8E0AEDEA35881DF", encodeEPK(epk))
}

// The raw hashes of the hash baselines that azcosmos v1.5.0's
// internal/epk/epk_test.go reads (PartitionKeyHashBaselineTest.*.xml; the
// module ships its testdata directory empty, so the values are taken from
// the Python SDK's copies, Azure/azure-sdk-for-python sdk/cosmos/
// azure-cosmos/tests/test_data/partition_key_hash_baseline/, in the same
// format). V1 is MurmurHash3 x86 32-bit of the version 1 hashing bytes
// (no truncation here: the baseline hashes whole strings), written as a
// 128-bit number; V2 the x64 128-bit hash before its top bits are cleared.
// Lists hash each component alone and concatenate. NaN has .NET's bits.
func TestRawHashesMatchTheBaselines(t *testing.T) {
	nan := math.Float64frombits(0xFFF8000000000000)
	num := func(f float64) []component { return []component{{marker: markerNumber, num: f}} }
	mark := func(m byte) []component { return []component{{marker: m}} }
	for _, tt := range []struct {
		name   string
		comps  []component
		header string // instead of comps
		v1, v2 string
	}{
		{name: "undefined", comps: mark(markerUndefined), v1: "514E28B7", v2: "51622DAA78F835834610ABE56EFF5CB5"},
		{name: "null", comps: mark(markerNull), v1: "E45AD1AB", v2: "778867E4430E67857ACE5C908374FE16"},
		{name: "true", comps: mark(markerTrue), v1: "5E2A8076", v2: "4E711127C5B5A8E4726AC6DD306A3E59"},
		{name: "false", comps: mark(markerFalse), v1: "6C27D09F", v2: "EFE1BE91E90A3439635E0E9E37361EF2"},
		{name: "0", header: `[0]`, v1: "1EDA80A6", v2: "555B95BEDAC4B1E9EC1CDC9BB0DDDE58"},
		{name: "-0", header: `[-0]`, v1: "B03DA650", v2: "3D018BB1DF3DB27235766E81FD10406E"},
		{name: "1", header: `[1]`, v1: "E1655A93", v2: "A0CD98B339BA78A5D0CF6953B87070B0"},
		{name: "-1", header: `[-1]`, v1: "452BDBE7", v2: "59938E7A936C1C5B9E3AE842BBC16839"},
		{name: "epsilon", header: `[5E-324]`, v1: "AC83D318", v2: "0E6CBA63A280927DE485DEF865800139"},
		{name: "max", header: `[1.7976931348623157E+308]`, v1: "378B3C46", v2: "71424D996457102634591FF245DBCC4D"},
		{name: "min", header: `[-1.7976931348623157E+308]`, v1: "E38DD8A1", v2: "27050CC4910CFD9DACE1283D3801DF25"},
		{name: "NaN", comps: num(nan), v1: "AF04DA37", v2: "5AA4222583D70ECAA0922D8CA8EDFCB1"},
		{name: "-Inf", comps: num(math.Inf(-1)), v1: "0F5A6CC5", v2: "5B63B3FB266DB3B6CD3BC79FE893CDE8"},
		{name: "+Inf", comps: num(math.Inf(1)), v1: "D2F84F93", v2: "3889F7F08A8CE2A5C9829BBB1944B4FF"},
		{name: "long max", header: `[9223372036854775807]`, v1: "1732A96D", v2: "6EDB959178DFCCA18983F89384D1629B"},
		{name: "long max - 1", header: `[9223372036854775806]`, v1: "1732A96D", v2: "6EDB959178DFCCA18983F89384D1629B"},
		{name: "long min", header: `[-9223372036854775808]`, v1: "69AF2787", v2: "63D5C6395512BDFEAFADAD15328AD2BB"},
		{name: "max safe", header: `[9007199254740991]`, v1: "13F69B8A", v2: "12C221C7032CED1F9E6693CE1428E6CF"},
		{name: "max safe - 1", header: `[9007199254740990]`, v1: "E5744366", v2: "8FEA3467D94AA6E4628EF0B248C1FD9B"},
		{name: "max safe + 1", header: `[9007199254740992]`, v1: "A30CCE12", v2: "55335910D01122E3D99DA5DE569B065D"},
		{name: "empty string", header: `[""]`, v1: "3CCCB0FF", v2: "B2E9366E637A71B4E710384B2F4970A0"},
		{name: "asdf", header: `["asdf"]`, v1: "B02BABC2", v2: "608BF1D598F5B63AD5520F04FE58C5E8"},
		{name: "99 bytes", header: `["` + strings.Repeat("a", 99) + `"]`, v1: "CCC122D9", v2: "3C02F609961C32AAC2B912B940D1209A"},
		{name: "100 bytes", header: `["` + strings.Repeat("a", 100) + `"]`, v1: "D5843D83", v2: "8DBD7D229437BB665DE6417747994D57"},
		{name: "101 bytes", header: `["` + strings.Repeat("a", 101) + `"]`, v1: "3B1B5D8D", v2: "88042541D30C8BF90D7092B1519AE0BC"},
		{name: "1 path", header: `["/path1"]`, v1: "A6C6298A", v2: "B499FD5198AE0F1EB6B77F6E428D2FF0"},
		{name: "2 paths", header: `["/path1","/path2"]`,
			v1: "A6C6298A" + "9D008F2C",
			v2: "B499FD5198AE0F1EB6B77F6E428D2FF0" + "E7A1848BD1102A3B65AFF266874D0FF5"},
		{name: "3 paths", header: `["/path1","/path2","/path3"]`,
			v1: "A6C6298A" + "9D008F2C" + "3E47FEA2",
			v2: "B499FD5198AE0F1EB6B77F6E428D2FF0" + "E7A1848BD1102A3B65AFF266874D0FF5" + "ECA5ABC953544CF9BD94776DA5E6EA52"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			comps, buf := tt.comps, []byte(nil)
			if tt.header != "" {
				var k key
				var err error
				buf, err = parseKey(tt.header, &k, nil)
				require.NoError(t, err)
				comps = k.comps[:k.n]
			}
			var v1, v2 strings.Builder
			for i := range comps {
				v1.WriteString(fmt.Sprintf("%08X", murmur32(appendHashing(nil, &comps[i], buf, 0x00))))
				h1, h2 := murmur128(appendHashing(nil, &comps[i], buf, 0xFF))
				v2.WriteString(encodeEPK(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, h2), h1)))
			}
			assert.Equal(t, tt.v1, v1.String(), "V1")
			assert.Equal(t, tt.v2, v2.String(), "V2")
		})
	}
}

// MurmurHash3's reference vectors (Austin Appleby's SMHasher, seed 0) for
// the classic sentence, beside the SDK vectors above.
func TestMurmurMatchesTheReference(t *testing.T) {
	fox := []byte("The quick brown fox jumps over the lazy dog")
	assert.Equal(t, uint32(0x2e4ff723), murmur32(fox))
	assert.Equal(t, uint32(0), murmur32(nil))
	h1, h2 := murmur128(fox)
	assert.Equal(t, [2]uint64{0xe34bbc7bbc071b6c, 0x7a433ca9c49a9347}, [2]uint64{h1, h2})
	h1, h2 = murmur128(nil)
	assert.Equal(t, [2]uint64{0, 0}, [2]uint64{h1, h2})
}

// murmurShortString, which builds its block in registers, hashes as
// murmur128 does over the same bytes.
func TestMurmurShortStringIsMurmur128(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n <= maxShortString; n++ {
		for range 50 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			a1, a2 := murmurShortString(string(b))
			b1, b2 := murmur128(appendString(nil, b, 0xFF))
			require.Equal(t, [2]uint64{b1, b2}, [2]uint64{a1, a2}, "%x", b)
		}
	}
}

// A hierarchical key that names fewer levels than the container has is a
// prefix: its EPK is the concatenation of its levels' hashes, and it covers
// that EPK up to the EPK followed by FF.
func TestAPrefixOfAHierarchicalKeyIsARange(t *testing.T) {
	full, complete, err := EffectivePartitionKey(multiHash3, `["a","b","c"]`)
	require.NoError(t, err)
	assert.True(t, complete)
	assert.Len(t, full, 96)

	for _, prefix := range []string{`["a"]`, `["a","b"]`} {
		epk, complete, err := EffectivePartitionKey(multiHash3, prefix)
		require.NoError(t, err)
		assert.False(t, complete, prefix)
		assert.True(t, strings.HasPrefix(full, epk), "%s: the full key's EPK starts with the prefix's", prefix)
		assert.Equal(t, -1, CompareEPK(epk, full), "%s: the prefix range starts at or below the full key", prefix)
		assert.Equal(t, 1, CompareEPK(PrefixEnd(epk), full), "%s: the prefix range ends above the full key", prefix)
	}
	other, _, err := EffectivePartitionKey(multiHash3, `["b","b","c"]`)
	require.NoError(t, err)
	epk, _, _ := EffectivePartitionKey(multiHash3, `["a"]`)
	assert.False(t, CompareEPK(epk, other) <= 0 && CompareEPK(other, PrefixEnd(epk)) < 0, "another first level falls outside the prefix range")

	epk, complete, err = EffectivePartitionKey(hashV2, `[]`)
	require.NoError(t, err)
	assert.Equal(t, "", epk, "the empty key starts the key space")
	assert.False(t, complete)
	assert.Equal(t, "FF", PrefixEnd(epk))
}

func TestEffectivePartitionKeyRejects(t *testing.T) {
	for _, tt := range []struct {
		def    Definition
		header string
		want   error
	}{
		{hashV2, `["a","b"]`, ErrKey},
		{multiHash2, `["a","b","c"]`, ErrKey},
		{hashV2, `"a"`, ErrKey},
		{hashV2, `[[1]]`, ErrKey},
		{hashV2, `[{"a":1}]`, ErrKey},
		{hashV2, `[1e400]`, ErrKey},
		{hashV2, ``, ErrKey},
		{Definition{}, `["a"]`, ErrDefinition},
		{Definition{Paths: []string{"/a"}, Kind: Hash, Version: 3}, `["a"]`, ErrDefinition},
		{Definition{Paths: []string{"/a", "/b"}, Kind: Hash, Version: 2}, `["a"]`, ErrDefinition},
		{Definition{Paths: make([]string, MaxComponents+1), Kind: MultiHash, Version: 2}, `["a"]`, ErrDefinition},
	} {
		_, _, err := EffectivePartitionKey(tt.def, tt.header)
		assert.ErrorIs(t, err, tt.want, "%+v %s", tt.def, tt.header)
	}
}

// Version 1 cuts strings to 100 UTF-16 code units before hashing and
// writes at most 101 of their bytes (without the end marker when it
// cuts). Where the cut splits a surrogate pair, .NET's Substring keeps the
// high surrogate, which its UTF-8 encoder writes as U+FFFD. These rules are
// from the .NET SDK's StringPartitionKeyComponent (Truncate,
// WriteForBinaryEncoding); no public vector covers non-ASCII strings, so
// the test checks the rules' consequences.
func TestVersion1CutsLongStrings(t *testing.T) {
	epk := func(s string) string {
		t.Helper()
		e, _, err := EffectivePartitionKey(hashV1, `["`+s+`"]`)
		require.NoError(t, err)
		return e
	}
	a99 := strings.Repeat("a", 99)
	assert.Equal(t, epk(a99+"\uFFFD"), epk(a99+"😀tail"), "a pair cut in half leaves U+FFFD")
	assert.NotEqual(t, epk(a99+"b"), epk(a99+"c"), "the 100th unit counts")
	assert.Equal(t, epk(a99+"b"), epk(a99+"bc"), "the 101st does not")

	e100 := strings.Repeat("é", 100) // 100 units, 200 bytes
	got := epk(e100)
	assert.Equal(t, got, epk(e100+"more"))
	hash := epk("")[:len(epk(""))-4] // the number encoding of the hash, before 08 00
	assert.Len(t, got, len(hash)+2+2*101, "marker and 101 bytes, no end marker")
	assert.Equal(t, "08C4AA", got[len(hash):len(hash)+6], "each byte plus one: é is C3 A9")
}

func TestCompareEPK(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"06AB34CFE4E48223", "06AB34CFE4E48223", 0},
		{"06AB34CFE4E48223", "06AB34CFE4E48224", -1},
		{"06AB34CFE4E48224", "06AB34CFE4E48223", 1},
		{"06AB34CFE4E482236BCACBBF50E234AB", "06AB34CFE4E482236BCACBBF50E234AB" + strings.Repeat("0", 32), 0},
		{"06AB34CFE4E482236BCACBBF50E234AB", "06AB34CFE4E482236BCACBBF50E234AB" + strings.Repeat("0", 31) + "1", -1},
		{"06AB34CFE4E482236BCACBBF50E234AB" + strings.Repeat("0", 31) + "1", "06AB34CFE4E482236BCACBBF50E234AB", 1},
		{"", "", 0},
		{"", "00000", 0},
		{"", "00001", -1},
		{"FF", "3FFFFFFFFFFFFFFF", 1},
		{"3FFFFFFFFFFFFFFF", "FF", -1},
		{"ff", "FF", 0},
		{"05C1DFFFFFFFF8", "05C1E1F503DFB205C1DFFFFFFFFC", -1},
		{"ABC", "ABC0", 0},
		{"ABC", "ABD", -1},
	} {
		assert.Equal(t, tt.want, CompareEPK(tt.a, tt.b), "%s vs %s", tt.a, tt.b)
		assert.Equal(t, -tt.want, CompareEPK(tt.b, tt.a), "%s vs %s", tt.b, tt.a)
	}
}

func TestEffectivePartitionKeyErrorsSayWhy(t *testing.T) {
	_, _, err := EffectivePartitionKey(hashV2, `["a"`)
	assert.EqualError(t, err, "partition: invalid partition key: the header is not a JSON array of strings, numbers, true, false, null and {}")
	_, _, err = EffectivePartitionKey(hashV2, `["a","b"]`)
	assert.EqualError(t, err, "partition: invalid partition key: more components than the definition has paths")
	_, _, err = EffectivePartitionKey(Definition{Paths: []string{"/a"}, Kind: Hash, Version: 3}, `["a"]`)
	assert.EqualError(t, err, "partition: unusable partition key definition: version 3")
}
